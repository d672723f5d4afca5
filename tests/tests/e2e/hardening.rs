//! Attacks on the service's resources, tried as a stranger would: documents
//! that multiply when expanded, fields priced below their work, directive and
//! token floods, many sign-ins in one document, floods of requests. Each is
//! refused quickly with a code, and ordinary work goes on meanwhile.

use std::time::{Duration, Instant};

use api::config::Limits;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tests::{Backend, TestApp, on_both_backends};

on_both_backends!(
    fragment_fan_outs_are_refused_at_once_without_growing_the_process,
    many_copies_of_an_aggregate_cost_what_they_read,
    directive_and_token_floods_are_refused_with_a_short_answer,
    a_document_may_sign_in_only_once,
    every_answer_reports_its_cost_and_budget,
    a_query_whose_lists_hold_more_than_priced_is_stopped,
    a_client_over_its_request_budget_waits,
    a_client_over_its_cost_budget_waits,
    guessing_tokens_spends_the_sources_budget,
    work_that_never_waits_still_meets_the_time_limit,
    a_query_resolves_its_root_fields_a_few_at_a_time,
    an_officer_is_served_while_strangers_attack,
);

/// `query { ...F0 } fragment F0 on Query { ...F1 ...F1 } ... fragment Fn on Query { leaf }`:
/// about a kilobyte whose expansion doubles with every level.
fn fan_out(levels: usize, leaf: &str) -> String {
    let mut query = String::from("query { ...F0 }\n");
    for level in 0..levels {
        query.push_str(&format!(
            "fragment F{level} on Query {{ ...F{next} ...F{next} }}\n",
            next = level + 1
        ));
    }
    query.push_str(&format!("fragment F{levels} on Query {{ {leaf} }}\n"));
    query
}

/// The resident memory of this process (the test server runs in it), in bytes.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .expect("VmRSS")
        * 1024
}

/// POSTs a document without a token; returns the status, headers and body.
async fn anonymous(app: &TestApp, query: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    send(app, None, query).await
}

async fn send(
    app: &TestApp,
    token: Option<&str>,
    query: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    app.post_graphql(token, &json!({ "query": query })).await
}

async fn fragment_fan_outs_are_refused_at_once_without_growing_the_process(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    app.seed(5, 1).await;
    let before = resident_bytes();
    for leaf in ["__typename", "county { id }"] {
        for levels in [13, 22, 27, 30, 45, 60] {
            let query = fan_out(levels, leaf);
            let started = Instant::now();
            let (status, _, body) = anonymous(&app, &query).await;
            let took = started.elapsed();
            assert_eq!(status, 200, "{body}");
            assert_eq!(
                TestApp::error_codes(&body),
                ["QUERY_TOO_LARGE"],
                "{levels}: {body}"
            );
            assert!(
                took < Duration::from_millis(50),
                "{levels} levels of `{leaf}` took {took:?}"
            );
        }
    }
    let grown = resident_bytes().saturating_sub(before);
    // Expanding even the 22-level document would take a gigabyte.
    assert!(grown < 64 << 20, "the process grew by {grown} bytes");
    // A fan-out within the limit is an ordinary query.
    let (_, _, body) = anonymous(&app, &fan_out(4, "__typename")).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
}

async fn many_copies_of_an_aggregate_cost_what_they_read(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    app.seed(5, 1).await;
    let county = app.query("{ county { id } }", json!({})).await["county"]["id"]
        .as_str()
        .expect("county ID")
        .to_owned();
    let one = format!(r#"statistics(regionId: "{county}", year: 2026) {{ poorHouseholds }}"#);
    // Identical fields each run again, so each is priced; fragments do not hide them.
    let (_, _, body) = anonymous(&app, &format!("{{ {one} {one} }}")).await;
    assert!(body.get("errors").is_none(), "{body}");
    let copies = vec![one.as_str(); 14].join(" ");
    let (status, _, body) = anonymous(
        &app,
        &format!("{{ ...S ...S }} fragment S on Query {{ {copies} }}"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(TestApp::error_codes(&body), ["QUERY_TOO_COMPLEX"], "{body}");
    let message = tests::error_message(&body);
    assert!(
        message.contains("costs 4") && message.contains("at most 20000"),
        "the refusal names the score and the limit: {message}"
    );
    assert_eq!(body["data"], Value::Null);
}

async fn directive_and_token_floods_are_refused_with_a_short_answer(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    // 16,000 unknown directives in 32 KB once answered with a 2 MB list of errors.
    let flood = format!("{{ __typename {} }}", "@a".repeat(16_000));
    let (status, _, body) = anonymous(&app, &flood).await;
    assert_eq!(status, 200);
    assert_eq!(TestApp::error_codes(&body), ["TOO_MANY_TOKENS"]);
    assert!(body.to_string().len() < 1_000, "{body}");
    let fifty_one = format!("{{ __typename {} }}", "@include(if: true)".repeat(51));
    let (_, _, body) = anonymous(&app, &fifty_one).await;
    assert_eq!(
        TestApp::error_codes(&body),
        ["TOO_MANY_DIRECTIVES"],
        "{body}"
    );
    let fifty = format!("{{ __typename {} }}", "@include(if: true)".repeat(50));
    let (_, _, body) = anonymous(&app, &fifty).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    // A thousand unknown fields fit in the token limit: their errors are cut short.
    let unknown = format!("{{ {} }}", "nope ".repeat(1_000));
    let (_, _, body) = anonymous(&app, &unknown).await;
    let codes = TestApp::error_codes(&body);
    assert_eq!(codes.len(), 51, "{body}");
    assert_eq!(codes.last().map(String::as_str), Some("TOO_MANY_ERRORS"));
}

async fn a_document_may_sign_in_only_once(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let (user, _) = app.user_for(entity::enums::Role::Auditor).await;
    let attempt = |password: &str| {
        format!(
            r#"login(username: "{}", password: "{password}") {{ accessToken }}"#,
            user.username
        )
    };
    for query in [
        format!(
            "mutation {{ a: {} b: {} }}",
            attempt("wrong-1"),
            attempt("wrong-2")
        ),
        format!(
            "mutation {{ ...L ...L }} fragment L on Mutation {{ {} }}",
            attempt("wrong")
        ),
        format!(
            "mutation {{ {} ... on Mutation {{ refresh(refreshToken: \"x\") {{ accessToken }} }} }}",
            attempt("wrong")
        ),
    ] {
        let (_, _, body) = anonymous(&app, &query).await;
        assert_eq!(TestApp::error_codes(&body), ["TOO_MANY_SIGN_INS"], "{body}");
    }
    // None of them was tried: the right password still works at once.
    let (_, _, body) = anonymous(
        &app,
        &format!("mutation {{ {} }}", attempt(tests::TEST_PASSWORD)),
    )
    .await;
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");
}

async fn every_answer_reports_its_cost_and_budget(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    app.seed(5, 1).await;
    let (status, headers, body) = send(
        &app,
        Some(&app.admin_token),
        "{ villages(first: 50) { nodes { name } } }",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let cost = &body["extensions"]["cost"];
    // Requested: 50 villages of a field each under `nodes`, and the connection.
    assert_eq!(cost["requested"], 101, "{body}");
    let villages = body["data"]["villages"]["nodes"]
        .as_array()
        .expect("nodes")
        .len();
    assert!(villages < 50, "the seed has fewer villages than the page");
    // Actual: the fields that were resolved.
    assert_eq!(cost["actual"], json!(villages + 2), "{body}");
    assert_eq!(cost["limit"], 20_000);
    let budget = &cost["budget"];
    assert_eq!(budget["limit"], 200_000);
    assert!(budget["remaining"].as_u64().expect("remaining") <= 200_000 - villages as u64);
    assert_eq!(headers["x-ratelimit-limit"], "600");
    assert_eq!(headers["x-ratelimit-remaining"], "599");
    // A priced aggregate costs as much as it was priced at, before and after.
    let county = app.query("{ county { id } }", json!({})).await["county"]["id"].clone();
    let (_, _, body) = send(
        &app,
        Some(&app.admin_token),
        &format!(r#"{{ statistics(regionId: {county}, year: 2026) {{ poorHouseholds }} }}"#),
    )
    .await;
    let cost = &body["extensions"]["cost"];
    assert_eq!(cost["requested"], cost["actual"], "{body}");
    assert!(cost["requested"].as_u64().expect("requested") > 1_000);
}

fn tight(budgets: &str) -> Limits {
    Limits {
        budgets: budgets.to_owned(),
        ..Limits::default()
    }
}

async fn a_client_over_its_request_budget_waits(backend: Backend) {
    let app = TestApp::spawn_with(&backend, tight("public=5/100000")).await;
    for left in (0..5).rev() {
        let (status, headers, _) = anonymous(&app, "{ __typename }").await;
        assert_eq!(status, 200);
        assert_eq!(headers["x-ratelimit-remaining"], left.to_string().as_str());
    }
    let (status, headers, body) = anonymous(&app, "{ __typename }").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(TestApp::error_codes(&body), ["RATE_LIMITED"]);
    let retry: u64 = headers["retry-after"]
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds");
    // Five a minute: one more in twelve seconds.
    assert!((1..=12).contains(&retry), "Retry-After: {retry}");
    // A signed-in user spends their own budget, not the public's.
    let (status, _, _) = send(&app, Some(&app.admin_token), "{ __typename }").await;
    assert_eq!(status, 200);
    // So does the exchange: the same budget guards every endpoint.
    let export = app
        .client
        .get(app.url("/exchange/households"))
        .send()
        .await
        .expect("request");
    assert_eq!(export.status(), 429);
}

async fn a_client_over_its_cost_budget_waits(backend: Backend) {
    let app = TestApp::spawn_with(&backend, tight("public=100/3000")).await;
    app.seed(5, 1).await;
    let county = app.query("{ county { id } }", json!({})).await["county"]["id"].clone();
    let statistics =
        format!(r#"{{ statistics(regionId: {county}, year: 2026) {{ poorHouseholds }} }}"#);
    let (status, _, body) = anonymous(&app, &statistics).await;
    assert_eq!(status, 200, "{body}");
    let left = body["extensions"]["cost"]["budget"]["remaining"]
        .as_u64()
        .expect("remaining");
    assert!(left < 1_500, "{body}");
    // The next one costs more than is left: refused before it runs.
    let (status, headers, body) = anonymous(&app, &statistics).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(TestApp::error_codes(&body), ["RATE_LIMITED"]);
    assert!(tests::error_message(&body).contains("budget"), "{body}");
    assert!(headers.contains_key("retry-after"));
    assert_eq!(body["data"], Value::Null);
    // Cheap queries still fit in what is left.
    let (status, _, _) = anonymous(&app, "{ __typename }").await;
    assert_eq!(status, 200);
}

async fn guessing_tokens_spends_the_sources_budget(backend: Backend) {
    let app = TestApp::spawn_with(&backend, tight("public=3/100000")).await;
    let mut statuses = Vec::new();
    for guess in 0..5 {
        let (status, _, _) = send(&app, Some(&format!("guess-{guess}")), "{ __typename }").await;
        statuses.push(status);
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
}

async fn work_that_never_waits_still_meets_the_time_limit(backend: Backend) {
    // Introspection resolves thousands of fields in memory and never touches
    // the database: without yield points the 1 ms limit would never fire.
    let limits = Limits {
        request_timeout_ms: 1,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(&backend, limits).await;
    let query = "{ __schema { types { name fields { name args { name type { name ofType { name } } } type { name ofType { name ofType { name } } } } } } }";
    let (status, _, body) = send(&app, Some(&app.admin_token), query).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(TestApp::error_codes(&body), ["TIMEOUT"]);
}

async fn a_query_resolves_its_root_fields_a_few_at_a_time(backend: Backend) {
    // Each root field waits out the 200 ms window of a loader of its own (a
    // relation a page does not read ahead); with one root field at a time,
    // three take at least three windows.
    let limits = Limits {
        max_parallel_fields: 1,
        loader_delay_ms: 200,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(&backend, limits).await;
    app.seed(5, 1).await;
    let query = "{ a: households(first: 1) { nodes { proposals { __typename } } } \
                   b: households(first: 1) { nodes { monitoringCases { __typename } } } \
                   c: households(first: 1) { nodes { statusHistory { __typename } } } }";
    let started = Instant::now();
    let (status, _, body) = send(&app, Some(&app.admin_token), query).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "root fields ran side by side: {:?}",
        started.elapsed()
    );
}

async fn an_officer_is_served_while_strangers_attack(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    app.seed(20, 1).await;
    let county = app.query("{ county { id } }", json!({})).await["county"]["id"].clone();
    let costly = format!(
        "{{ {} }}",
        vec![format!(r#"statistics(regionId: {county}, year: 2026) {{ poorHouseholds }}"#); 13]
            .join(" ")
    );
    let attacks = vec![
        fan_out(30, "__typename"),
        fan_out(27, "county { id }"),
        costly,
        format!("{{ __typename {} }}", "@a".repeat(16_000)),
        "mutation { a: login(username: \"admin\", password: \"x\") { accessToken } b: login(username: \"admin\", password: \"y\") { accessToken } }".to_owned(),
    ];
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut attackers = Vec::new();
    for attack in attacks {
        for _ in 0..2 {
            let client = app.client.clone();
            let url = app.url("/graphql");
            let attack = attack.clone();
            attackers.push(tokio::spawn(async move {
                let mut sent = 0u32;
                while Instant::now() < deadline {
                    let _ = client
                        .post(&url)
                        .json(&json!({ "query": attack }))
                        .send()
                        .await;
                    sent += 1;
                }
                sent
            }));
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let officer = app.token_for(entity::enums::Role::TownshipOfficer).await;
    let mut slowest = Duration::ZERO;
    while Instant::now() < deadline {
        let started = Instant::now();
        let (status, _, body) = send(
            &app,
            Some(&officer),
            "{ households(first: 20) { nodes { number head { name } } } }",
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        let health = app
            .client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("healthz");
        assert_eq!(health.status(), 200);
        slowest = slowest.max(started.elapsed());
    }
    for attacker in attackers {
        attacker.await.expect("attacker");
    }
    assert!(
        slowest < Duration::from_secs(1),
        "the officer waited {slowest:?}"
    );
}

async fn a_query_whose_lists_hold_more_than_priced_is_stopped(backend: Backend) {
    // `members` is a plain list, priced once per household before execution:
    // 5 households of 1 + (1 + 3) fields and the page, 26 points.
    let query = "{ households(first: 5) { nodes { members { name gender relation } } } }";
    let limits = Limits {
        max_complexity: 26,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(&backend, limits).await;
    app.seed(5, 1).await;
    let members = entity::member::Entity::find()
        .count(&app.db)
        .await
        .expect("count");
    assert!(
        members >= 7,
        "the five households hold more than 26 points' worth of members"
    );
    let (status, _, body) = send(&app, Some(&app.admin_token), query).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(TestApp::error_codes(&body), ["QUERY_TOO_COMPLEX"], "{body}");
    assert!(tests::error_message(&body).contains("as it ran"), "{body}");
    assert_eq!(body["data"], Value::Null);
}
