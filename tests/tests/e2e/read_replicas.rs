//! Read replicas against a real PostgreSQL streaming standby: queries are
//! read from it while it is fresh, a caller's own change is read back from
//! the primary until the standby has it, a standby past the lag bound is set
//! aside, and one that stops while requests run costs none of them.
//! PostgreSQL only, by nature: SQLite has no standbys.

use std::time::Duration;

use api::config::Operations;
use entity::enums::{RegionLevel, Role};
use serde_json::{Value, json};
use tests::standby::Standby;
use tests::{Backend, TestApp, first_region, global_id, household_input, person, sample};

const TOKEN: &str = "metrics-token-for-the-replica-tests";

/// The bound: a standby paused for longer is not read from.
const MAX_LAG_MS: u64 = 3_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_read_from_a_fresh_standby_and_a_callers_own_change_from_the_primary() {
    let Some(backend) = Backend::postgres() else {
        eprintln!("TEST_POSTGRES_URL is not set: PostgreSQL run skipped");
        return;
    };
    let Some(standby) = Standby::start().await else {
        return;
    };
    let operations = Operations {
        metrics_token: Some(TOKEN.to_owned()),
        read_max_lag_ms: MAX_LAG_MS,
        ..Operations::default()
    };
    let app = TestApp::spawn_reading_from(&backend, &standby, operations).await;
    app.seed(20, 7).await;
    let replica = read_from_label(&app).await;
    standby.wait_caught_up(app.database_url()).await;
    fresh(&app, &replica).await;

    // A query is read from the standby; a change goes to the primary.
    let before = reads(&app, &replica).await;
    let total = count_households(&app, &app.admin_token).await;
    assert_eq!(reads(&app, &replica).await, (before.0, before.1 + 1.0));

    // With replay paused, a cadre's new household is on the primary only:
    // the cadre reads it back (from the primary), while someone else, still
    // within the bound, reads from the standby and does not see it yet.
    standby.pause_replay().await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let (_, cadre) = app.user_for(Role::VillageCadre).await;
    let filed = app
        .query_as(
            Some(&cadre),
            "mutation($input: CreateHouseholdInput!) { createHousehold(input: $input) { id } }",
            json!({ "input": household_input(
                &global_id("Village", village.id),
                person("钱副本", &api::codes::id_number("52010219850505123"), "HEAD"),
                vec![],
            ) }),
        )
        .await["createHousehold"]["id"]
        .as_str()
        .expect("filed")
        .to_owned();
    let before = reads(&app, &replica).await;
    let own = household(&app, &cadre, &filed).await;
    assert_eq!(own["data"]["household"]["id"], filed.as_str(), "{own}");
    let other = household(&app, &app.admin_token, &filed).await;
    assert_eq!(TestApp::error_codes(&other), ["NOT_FOUND"], "{other}");
    assert_eq!(
        reads(&app, &replica).await,
        (before.0 + 1.0, before.1 + 1.0)
    );

    // Past the bound the standby is set aside: everyone reads the primary.
    eventually("the standby set aside", || async {
        lag(&app, &replica).await > MAX_LAG_MS as f64 / 1000.0
    })
    .await;
    let seen = household(&app, &app.admin_token, &filed).await;
    assert_eq!(seen["data"]["household"]["id"], filed.as_str(), "{seen}");
    assert_eq!(count_households(&app, &app.admin_token).await, total + 1);

    // Caught up again, it is read from again, and has the household.
    standby.resume_replay().await;
    standby.wait_caught_up(app.database_url()).await;
    fresh(&app, &replica).await;
    let before = reads(&app, &replica).await;
    let seen = household(&app, &app.admin_token, &filed).await;
    assert_eq!(seen["data"]["household"]["id"], filed.as_str(), "{seen}");
    assert_eq!(reads(&app, &replica).await, (before.0, before.1 + 1.0));

    // The standby stops while requests run: every one is answered, right.
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (client, url, token) = (
                app.client.clone(),
                app.url("/graphql"),
                app.admin_token.clone(),
            );
            tokio::spawn(async move {
                let mut answers = Vec::new();
                for _ in 0..15 {
                    let answer: Value = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({ "query": "{ households { totalCount } }" }))
                        .send()
                        .await
                        .expect("request")
                        .json()
                        .await
                        .expect("JSON");
                    answers.push(answer);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                answers
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    standby.stop().await;
    for reader in readers {
        for answer in reader.await.expect("reader") {
            assert!(answer["errors"].is_null(), "{answer}");
            assert_eq!(
                answer["data"]["households"]["totalCount"].as_i64(),
                Some(total + 1)
            );
        }
    }
    let before = reads(&app, &replica).await;
    assert_eq!(count_households(&app, &app.admin_token).await, total + 1);
    assert_eq!(reads(&app, &replica).await, (before.0 + 1.0, before.1));
}

async fn count_households(app: &TestApp, token: &str) -> i64 {
    let answer = app
        .graphql_as(Some(token), "{ households { totalCount } }", json!({}))
        .await;
    answer["data"]["households"]["totalCount"]
        .as_i64()
        .unwrap_or_else(|| panic!("{answer}"))
}

async fn household(app: &TestApp, token: &str, id: &str) -> Value {
    app.graphql_as(
        Some(token),
        "query($id: ID!) { household(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await
}

/// The name the standby is reported under, once its lag was first checked.
async fn read_from_label(app: &TestApp) -> String {
    for _ in 0..150 {
        let samples = app.metrics_samples(TOKEN).await;
        let name = samples
            .iter()
            .find_map(|(series, _)| series.strip_prefix("fupin_db_replica_lag_seconds{replica=\""))
            .and_then(|rest| rest.split('"').next());
        if let Some(name) = name {
            return name.to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no replica lag in /metrics within 15 s");
}

/// Queries read so far from the primary and from the standby.
async fn reads(app: &TestApp, replica: &str) -> (f64, f64) {
    let samples = app.metrics_samples(TOKEN).await;
    let read = |database: &str| {
        sample(
            &samples,
            &format!("fupin_graphql_queries_read_total{{database=\"{database}\"}}"),
        )
    };
    (read("primary"), read(replica))
}

async fn lag(app: &TestApp, replica: &str) -> f64 {
    sample(
        &app.metrics_samples(TOKEN).await,
        &format!("fupin_db_replica_lag_seconds{{replica=\"{replica}\"}}"),
    )
}

/// Until the service has found the standby caught up, within the bound.
async fn fresh(app: &TestApp, replica: &str) {
    eventually("the standby found fresh", || async {
        lag(app, replica).await < 0.5
    })
    .await;
}

async fn eventually<F: Future<Output = bool>>(what: &str, check: impl Fn() -> F) {
    for _ in 0..150 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not within 15 s");
}
