//! What an operator sees: `/metrics` behind its token, counting what really
//! happened (operations by name, outcome and code, cost, statements, loader
//! batches, refused sign-ins and budgets, the tally's backlog), with a bounded
//! number of series whatever names clients send; and a stop that says "not
//! ready" first, then cancels what outlives the grace period, rolling it back
//! and telling its client to send it again.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use api::config::{Limits, Operations};
use api::telemetry::metrics::{MAX_OPERATION_NAMES, OTHER_OPERATIONS};
use entity::enums::{RegionLevel, Role};
use entity::{member, village_tally_change};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter,
    TransactionTrait,
};
use serde_json::{Value, json};
use tests::ws::WsClient;
use tests::{
    Backend, TestApp, first_region, global_id, household_input, on_both_backends, person, sample,
};

on_both_backends!(
    metrics_are_for_the_token_holder_and_count_what_happened,
    client_chosen_operation_names_cannot_grow_the_metrics,
    a_stop_says_not_ready_first_then_cancels_and_rolls_back,
);

const TOKEN: &str = "metrics-token-for-the-tests-0123";

fn with_token() -> Operations {
    Operations {
        metrics_token: Some(TOKEN.to_owned()),
        ..Operations::default()
    }
}

async fn scrape_as(app: &TestApp, authorization: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url("/metrics"));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.send().await.expect("GET /metrics")
}

/// The samples of a scrape with the token.
async fn scrape(app: &TestApp) -> Vec<(String, f64)> {
    app.metrics_samples(TOKEN).await
}

/// The JSON body of a GraphQL POST, whatever its status.
async fn post(app: &TestApp, token: Option<&str>, body: Value) -> Value {
    app.post_graphql(token, &body).await.2
}

async fn metrics_are_for_the_token_holder_and_count_what_happened(backend: Backend) {
    // Without a token configured, the service's address has no /metrics at all.
    let closed = TestApp::spawn(&backend).await;
    assert_eq!(scrape_as(&closed, None).await.status(), 404);
    assert_eq!(
        scrape_as(&closed, Some("Bearer anything-at-all-0123456789"))
            .await
            .status(),
        404
    );

    let limits = Limits {
        budgets: "public=5/10000".to_owned(),
        ..Limits::default()
    };
    let app = TestApp::spawn_with_operations(&backend, limits, with_token()).await;
    app.seed(30, 7).await;
    let basic = format!("Basic {TOKEN}");
    for refused in [
        None,
        Some("Bearer metrics-token-for-the-tests-0124"),
        Some(basic.as_str()),
        Some(TOKEN),
    ] {
        let response = scrape_as(&app, refused).await;
        assert_eq!(response.status(), 401, "{refused:?}");
        assert!(response.text().await.expect("body").is_empty());
    }

    let before = scrape(&app).await;
    let admin = Some(app.admin_token.as_str());
    let households = json!({ "query": "query HouseholdList { households(first: 20) { nodes { number village { name } } } }" });
    let mut spent = 0.0;
    for _ in 0..2 {
        let answer = post(&app, admin, households.clone()).await;
        assert!(answer["errors"].is_null(), "{answer}");
        spent += answer["extensions"]["cost"]["actual"]
            .as_f64()
            .expect("cost");
    }
    let broken = post(
        &app,
        admin,
        json!({ "query": "query BrokenLookup { household(id: \"nonsense\") { id } }" }),
    )
    .await;
    assert_eq!(TestApp::error_codes(&broken), ["BAD_USER_INPUT"]);
    post(&app, admin, json!({ "query": "{ __typename }" })).await;
    let wrong = post(
        &app,
        None,
        json!({ "query": "mutation SignIn { login(username: \"admin\", password: \"wrong-password\") { accessToken } }" }),
    )
    .await;
    assert_eq!(TestApp::error_codes(&wrong), ["UNAUTHENTICATED"]);
    // The public may make five requests a minute here: the login was one.
    let mut refused = 0;
    for _ in 0..6 {
        let (status, _, _) = app
            .post_graphql(None, &json!({ "query": "{ __typename }" }))
            .await;
        refused += usize::from(status == 429);
    }
    assert_eq!(refused, 2);

    let after = scrape(&app).await;
    let grew = |series: &str| sample(&after, series) - sample(&before, series);
    assert_eq!(
        grew(r#"fupin_graphql_operations_total{operation="HouseholdList",outcome="ok",code=""}"#),
        2.0
    );
    assert_eq!(
        grew(
            r#"fupin_graphql_operations_total{operation="BrokenLookup",outcome="error",code="BAD_USER_INPUT"}"#
        ),
        1.0
    );
    assert_eq!(
        grew(
            r#"fupin_graphql_operations_total{operation="SignIn",outcome="error",code="UNAUTHENTICATED"}"#
        ),
        1.0
    );
    assert!(
        grew(r#"fupin_graphql_operations_total{operation="anonymous",outcome="ok",code=""}"#)
            >= 4.0
    );
    // The cost counted is what the answers said they cost.
    assert!(spent > 0.0);
    assert_eq!(
        grew(r#"fupin_graphql_operation_cost_sum{operation="HouseholdList"}"#),
        spent
    );
    assert_eq!(
        grew(r#"fupin_graphql_operation_seconds_count{operation="HouseholdList"}"#),
        2.0
    );
    assert_eq!(
        grew(r#"fupin_login_failures_total{reason="bad_credentials"}"#),
        1.0
    );
    assert_eq!(grew("fupin_rate_limit_refusals_total"), 2.0);
    assert_eq!(
        grew(r#"fupin_http_requests_total{route="/graphql",method="POST",status="429"}"#),
        2.0
    );
    // The villages of a page came from one loader batch per listing.
    assert!(grew(r#"fupin_dataloader_batch_size_count{loader="ById<region>"}"#) >= 2.0);
    // The requests' statements were counted, by request and in all.
    assert!(grew("fupin_db_statements_per_request_sum") >= 4.0);
    assert!(grew("fupin_db_statements_total") >= grew("fupin_db_statements_per_request_sum"));
    assert!(sample(&after, "fupin_db_pool_max_connections") >= 1.0);
    assert!(
        after
            .iter()
            .any(|(series, _)| series.starts_with("fupin_db_pool_connections{state=\"in_use\"}"))
    );
    // Figures kept in the database are read when scraped.
    let pending = village_tally_change::Entity::find()
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(
        sample(&after, "fupin_tally_pending_changes"),
        pending as f64
    );
    assert_eq!(sample(&after, "fupin_webhook_backlog_entries"), 0.0);
}

async fn client_chosen_operation_names_cannot_grow_the_metrics(backend: Backend) {
    let app = TestApp::spawn_with_operations(&backend, Limits::default(), with_token()).await;
    let admin = Some(app.admin_token.as_str());
    let sent = MAX_OPERATION_NAMES + 50;
    for n in 0..sent {
        let answer = post(
            &app,
            admin,
            json!({ "query": format!("query Probe{n} {{ __typename }}") }),
        )
        .await;
        assert!(answer["errors"].is_null(), "{answer}");
    }
    // A name the document does not have is no label either, whatever it holds.
    let forged = "Probe0\"} 1\nfupin_forged_total 9";
    let answer = post(
        &app,
        admin,
        json!({ "query": "query Real { __typename }", "operationName": forged }),
    )
    .await;
    assert!(!answer["errors"].is_null());
    let samples = scrape(&app).await;
    let names: HashSet<&str> = samples
        .iter()
        .filter_map(|(series, _)| {
            series.strip_prefix("fupin_graphql_operations_total{operation=\"")
        })
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(
        names.len() <= MAX_OPERATION_NAMES + 2,
        "{} names",
        names.len()
    );
    assert!(!samples.iter().any(|(series, _)| series.contains("forged")));
    let others = sample(
        &samples,
        &format!(
            r#"fupin_graphql_operations_total{{operation="{OTHER_OPERATIONS}",outcome="ok",code=""}}"#
        ),
    );
    assert!(others >= 50.0, "{others}");
}

async fn a_stop_says_not_ready_first_then_cancels_and_rolls_back(backend: Backend) {
    let operations = Operations {
        shutdown_notice_ms: 400,
        shutdown_grace_ms: 600,
        ..Operations::default()
    };
    let mut app = TestApp::spawn_with_operations(&backend, Limits::default(), operations).await;
    app.seed(5, 7).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let (_, cadre) = app.user_for(Role::VillageCadre).await;
    let head_id = api::codes::id_number("52010219800101123");
    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);

    // Hold the register's writes, so that a filing stays in flight: on
    // PostgreSQL it writes its household and then waits for the audit trail;
    // on SQLite it waits for the write lock (up to the busy timeout, 5 s).
    let hold = app.db.begin().await.expect("begin");
    let held = match app.db.get_database_backend() {
        DbBackend::Postgres => "LOCK TABLE audit_entry IN EXCLUSIVE MODE",
        _ => "UPDATE region SET name = name WHERE id = -1",
    };
    hold.execute_unprepared(held)
        .await
        .expect("hold the writes");
    let input = household_input(
        &global_id("Village", village.id),
        person("赵停机", &head_id, "HEAD"),
        vec![],
    );
    let in_flight = {
        let request = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&cadre)
            .json(&json!({
                "query": "mutation($input: CreateHouseholdInput!) { createHousehold(input: $input) { id } }",
                "variables": { "input": input },
            }));
        tokio::spawn(async move { request.send().await })
    };
    let mut listener = WsClient::connect(app.addr, &cadre).await;
    listener
        .subscribe("alerts", "subscription { alerts { kind } }")
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let signalled = Instant::now();
    app.signal_stop();
    tokio::time::sleep(Duration::from_millis(50)).await;

    // Not ready at once, while requests are still answered.
    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.text().await.expect("body"), "stopping");
    let still = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(still.status(), 200);

    // Its websockets are closed when it drains, after the notice: their apps
    // reconnect elsewhere rather than hold it up.
    let closed = listener.next(Duration::from_secs(10)).await;
    assert!(
        closed.is_none() || closed.as_ref().is_some_and(|m| m["type"] == "close"),
        "{closed:?}"
    );
    let took = signalled.elapsed();
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(3),
        "closed after {took:?}"
    );

    tokio::time::timeout(Duration::from_secs(10), app.stopped())
        .await
        .expect("the server ends after its grace period");
    // The filing outlived the grace period: cancelled, and its client told
    // to send it again.
    let answer = in_flight
        .await
        .expect("the request task")
        .expect("an answer");
    assert_eq!(answer.status(), 503);
    let body: Value = answer.json().await.expect("JSON");
    assert_eq!(TestApp::error_codes(&body), ["SHUTTING_DOWN"]);
    hold.rollback().await.expect("release the writes");
    let filed = member::Entity::find()
        .filter(member::Column::IdNumber.eq(head_id.as_str()))
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(filed, 0, "nothing of the cancelled filing is kept");
}
