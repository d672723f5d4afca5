//! Failed logins lock an address out of an account, never the account's owner
//! out of the addresses they sign in from; attacks from many addresses close
//! the account to unknown ones; the county office is alerted once.

use std::time::{Duration, Instant};

use api::config::{Limits, LoginLimits};
use entity::enums::Role;
use entity::{app_user, login_attempt};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tests::{Backend, TEST_PASSWORD, TestApp, create_user, on_both_backends};

on_both_backends!(
    a_strangers_failures_lock_the_strangers_address_not_the_owners,
    many_unknown_addresses_are_refused_while_a_known_one_signs_in,
    the_county_office_is_alerted_once_and_a_village_cadre_may_not_look,
    forwarded_for_from_an_untrusted_peer_is_ignored,
    resetting_the_password_lifts_the_locks,
    every_refused_login_answers_alike_and_as_slowly,
    parallel_wrong_logins_get_no_more_password_checks_than_the_lock_allows,
);

const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";
const WRONG: &str = "not the password at all";
/// Where the county administrator signs in from, day after day.
const OFFICE: &str = "198.51.100.10";
const STRANGER: &str = "203.0.113.66";

/// A server behind a proxy on 127.0.0.1, whose `X-Forwarded-For` it believes.
fn behind_proxy(logins: LoginLimits) -> Limits {
    Limits {
        trusted_proxies: vec!["127.0.0.1/32".parse().expect("a network")],
        logins,
        ..Limits::default()
    }
}

/// The default login limits, with failures answered at once.
fn prompt() -> LoginLimits {
    LoginLimits {
        login_delay_ms: 0,
        ..Limits::default().logins
    }
}

/// Sends a GraphQL request as the public, forwarded for `source`.
async fn from(app: &TestApp, source: &str, query: &str, variables: Value) -> Value {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("x-forwarded-for", source)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    response.json().await.expect("JSON")
}

async fn login_from(app: &TestApp, source: &str, username: &str, password: &str) -> Value {
    from(app, source, LOGIN, json!({ "u": username, "p": password })).await
}

fn signed_in(body: &Value) -> bool {
    body["data"]["login"]["accessToken"].is_string()
}

/// Why the latest login of `username` failed, as the login record says.
async fn last_failure(app: &TestApp, username: &str) -> Option<String> {
    login_attempt::Entity::find()
        .filter(login_attempt::Column::Username.eq(username))
        .order_by_desc(login_attempt::Column::Id)
        .one(&app.db)
        .await
        .expect("attempts")
        .and_then(|a| a.failure)
}

/// A county administrator `chief` who has signed in from the office.
async fn chief(app: &TestApp) {
    create_user(&app.db, "chief", Role::CountyAdmin, None, None).await;
    let body = login_from(app, OFFICE, "chief", TEST_PASSWORD).await;
    assert!(signed_in(&body), "{body}");
}

async fn a_strangers_failures_lock_the_strangers_address_not_the_owners(backend: Backend) {
    let app = TestApp::spawn_with(&backend, behind_proxy(Limits::default().logins)).await;
    chief(&app).await;
    // Five wrong passwords (a document may try only one), then the right one.
    let started = Instant::now();
    for _ in 0..5 {
        let failed = login_from(&app, STRANGER, "chief", WRONG).await;
        assert_eq!(
            TestApp::error_codes(&failed),
            ["UNAUTHENTICATED"],
            "{failed}"
        );
    }
    // Each failure waits longer before it answers: 250 ms, 500 ms ... 1.25 s.
    assert!(
        started.elapsed() >= Duration::from_millis(3_750),
        "{:?}",
        started.elapsed()
    );
    // Locked for this address: the right password gets the answer a wrong one gets.
    let body = login_from(&app, STRANGER, "chief", TEST_PASSWORD).await;
    let wrong = login_from(&app, STRANGER, "chief", WRONG).await;
    assert_eq!(TestApp::error_codes(&body), ["UNAUTHENTICATED"], "{body}");
    assert_eq!(body["errors"], wrong["errors"]);
    assert_eq!(last_failure(&app, "chief").await.as_deref(), Some("locked"));

    assert!(signed_in(
        &login_from(&app, OFFICE, "chief", TEST_PASSWORD).await
    ));
    let elsewhere = login_from(&app, "192.0.2.44", "chief", TEST_PASSWORD).await;
    assert!(
        signed_in(&elsewhere),
        "a new address of the owner's is not locked: {elsewhere}"
    );

    let sources: Vec<Option<String>> = login_attempt::Entity::find()
        .filter(login_attempt::Column::Username.eq("chief"))
        .all(&app.db)
        .await
        .expect("attempts")
        .into_iter()
        .map(|a| a.source)
        .collect();
    assert_eq!(sources.len(), 10);
    assert_eq!(
        sources
            .iter()
            .filter(|s| s.as_deref() == Some(STRANGER))
            .count(),
        7
    );
}

async fn many_unknown_addresses_are_refused_while_a_known_one_signs_in(backend: Backend) {
    let app = TestApp::spawn_with(&backend, behind_proxy(prompt())).await;
    chief(&app).await;
    let attack_after = prompt().login_attack_after;
    for i in 1..=attack_after {
        let body = login_from(&app, &format!("203.0.113.{i}"), "chief", WRONG).await;
        assert_eq!(
            TestApp::error_codes(&body),
            ["UNAUTHENTICATED"],
            "source {i}"
        );
    }
    for i in attack_after + 1..=25 {
        let body = login_from(&app, &format!("203.0.113.{i}"), "chief", TEST_PASSWORD).await;
        assert_eq!(
            TestApp::error_codes(&body),
            ["UNAUTHENTICATED"],
            "source {i}"
        );
        assert_eq!(
            last_failure(&app, "chief").await.as_deref(),
            Some("unknown_source")
        );
    }
    assert!(signed_in(
        &login_from(&app, OFFICE, "chief", TEST_PASSWORD).await
    ));
    // A name nobody has fares the same: a lock tells no one which names exist.
    for i in 1..=attack_after {
        login_from(&app, &format!("203.0.113.{i}"), "nobody", WRONG).await;
    }
    let nobody = login_from(&app, "203.0.113.99", "nobody", WRONG).await;
    assert_eq!(TestApp::error_codes(&nobody), ["UNAUTHENTICATED"]);
    assert_eq!(
        last_failure(&app, "nobody").await.as_deref(),
        Some("unknown_source")
    );
}

const ALERTS: &str = "{ loginAlerts(first: 10) { nodes { id account { username } reason source failures sources since } } }";

async fn the_county_office_is_alerted_once_and_a_village_cadre_may_not_look(backend: Backend) {
    let app = TestApp::spawn_with(&backend, behind_proxy(prompt())).await;
    app.seed(1, 7).await;
    chief(&app).await;
    for _ in 0..8 {
        login_from(&app, STRANGER, "chief", WRONG).await;
    }
    for i in 1..=25 {
        login_from(&app, &format!("192.0.2.{i}"), "chief", WRONG).await;
    }
    let alerts = app.query(ALERTS, json!({})).await["loginAlerts"]["nodes"].clone();
    let alerts = alerts.as_array().expect("alerts");
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    // Newest first: unknown addresses closed, after the stranger's was locked.
    assert_eq!(alerts[0]["reason"], "MANY_SOURCES");
    assert_eq!(alerts[0]["source"], Value::Null);
    assert_eq!(alerts[0]["failures"], 20);
    assert_eq!(alerts[0]["sources"], 16);
    assert_eq!(alerts[1]["reason"], "SOURCE_LOCKED");
    assert_eq!(alerts[1]["source"], STRANGER);
    assert_eq!(alerts[1]["failures"], 5);
    assert_eq!(alerts[1]["sources"], 1);
    assert_eq!(alerts[1]["account"]["username"], "chief");
    assert!(alerts[1]["since"].is_string());

    let chief_id = entity::app_user::Entity::find()
        .filter(entity::app_user::Column::Username.eq("chief"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("chief")
        .id;
    let actions = app.audit_actions("Account", chief_id).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "account.under_attack")
            .count(),
        2,
        "{actions:?}"
    );

    let auditor = app.token_for(Role::Auditor).await;
    let seen = app.query_as(Some(&auditor), ALERTS, json!({})).await;
    assert_eq!(
        seen["loginAlerts"]["nodes"].as_array().map(Vec::len),
        Some(2)
    );
    let cadre = app.token_for(Role::VillageCadre).await;
    let refused = app.graphql_as(Some(&cadre), ALERTS, json!({})).await;
    assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"]);

    // By ID too: an alert is a node for those who list alerts, and for no one else.
    let ids = json!([alerts[0]["id"], alerts[1]["id"]]);
    let by_id = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on LoginAlert { reason } } }";
    let fetched = app
        .query_as(Some(&auditor), by_id, json!({ "ids": ids }))
        .await;
    assert_eq!(
        fetched["nodes"],
        json!([
            { "id": ids[0], "reason": "MANY_SOURCES" },
            { "id": ids[1], "reason": "SOURCE_LOCKED" },
        ])
    );
    let hidden = app
        .query_as(Some(&cadre), by_id, json!({ "ids": ids }))
        .await;
    assert_eq!(hidden["nodes"], json!([null, null]));
}

async fn forwarded_for_from_an_untrusted_peer_is_ignored(backend: Backend) {
    let app = TestApp::spawn_with(
        &backend,
        Limits {
            logins: prompt(),
            ..Limits::default()
        },
    )
    .await;
    create_user(&app.db, "chief", Role::CountyAdmin, None, None).await;
    // A client names a new address each time, to dodge the lock of its own.
    for i in 1..=5 {
        let body = login_from(&app, &format!("203.0.113.{i}"), "chief", WRONG).await;
        assert_eq!(TestApp::error_codes(&body), ["UNAUTHENTICATED"]);
    }
    let body = login_from(&app, "203.0.113.6", "chief", TEST_PASSWORD).await;
    assert_eq!(TestApp::error_codes(&body), ["UNAUTHENTICATED"]);
    assert_eq!(last_failure(&app, "chief").await.as_deref(), Some("locked"));
    let attempts = login_attempt::Entity::find()
        .all(&app.db)
        .await
        .expect("attempts");
    assert!(
        attempts
            .iter()
            .all(|a| a.source.as_deref() == Some("127.0.0.1")),
        "{attempts:?}"
    );
}

async fn resetting_the_password_lifts_the_locks(backend: Backend) {
    let app = TestApp::spawn_with(&backend, behind_proxy(prompt())).await;
    chief(&app).await;
    for _ in 0..5 {
        login_from(&app, STRANGER, "chief", WRONG).await;
    }
    for i in 1..=20 {
        login_from(&app, &format!("192.0.2.{i}"), "chief", WRONG).await;
    }
    let new_address = login_from(&app, "192.0.2.200", "chief", TEST_PASSWORD).await;
    assert!(!signed_in(&new_address), "{new_address}");
    assert!(signed_in(
        &login_from(&app, OFFICE, "chief", TEST_PASSWORD).await
    ));

    let reset = "mutation($u: String!, $p: String!) { resetUserPassword(username: $u, newPassword: $p) { username } }";
    let password = "a new password for the chief";
    app.query(reset, json!({ "u": "chief", "p": password }))
        .await;
    assert!(signed_in(
        &login_from(&app, STRANGER, "chief", password).await
    ));
    assert!(signed_in(
        &login_from(&app, "192.0.2.200", "chief", password).await
    ));
}

/// Every failure waits the same, so that only the work behind an answer
/// could tell one refusal from another.
fn steady() -> LoginLimits {
    LoginLimits {
        login_delay_ms: 250,
        login_max_delay_ms: 250,
        ..Limits::default().logins
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

async fn every_refused_login_answers_alike_and_as_slowly(backend: Backend) {
    let app = TestApp::spawn_with(&backend, behind_proxy(steady())).await;
    for name in ["active", "locked", "retired", "also_retired"] {
        create_user(&app.db, name, Role::Auditor, None, None).await;
    }
    app_user::Entity::update_many()
        .col_expr(app_user::Column::IsActive, Expr::value(false))
        .filter(app_user::Column::Username.is_in(["retired", "also_retired"]))
        .exec(&app.db)
        .await
        .expect("disable");
    for _ in 0..steady().login_lock_after {
        login_from(&app, STRANGER, "locked", WRONG).await;
    }
    let states = [
        ("a wrong password", "active", WRONG),
        ("a missing user", "nobody", TEST_PASSWORD),
        ("a locked user's right password", "locked", TEST_PASSWORD),
        ("a disabled user's right password", "retired", TEST_PASSWORD),
        ("a disabled user's wrong password", "also_retired", WRONG),
    ];
    let mut answers = vec![Vec::new(); states.len()];
    // Round after round, so that a busy machine slows every state alike.
    for _ in 0..steady().login_lock_after {
        for (answers, (_, name, password)) in answers.iter_mut().zip(states) {
            let started = Instant::now();
            let body = login_from(&app, STRANGER, name, password).await;
            answers.push((started.elapsed(), body));
        }
    }
    let expected = &answers[0][0].1;
    assert_eq!(
        TestApp::error_codes(expected),
        ["UNAUTHENTICATED"],
        "{expected}"
    );
    let median_of = |answers: &[(Duration, Value)]| median(answers.iter().map(|a| a.0).collect());
    let wrong = median_of(&answers[0]);
    for (answers, (state, ..)) in answers.iter().zip(states) {
        for (_, body) in answers {
            assert_eq!(
                (&body["data"], &body["errors"]),
                (&expected["data"], &expected["errors"]),
                "{state}"
            );
        }
        let median = median_of(answers);
        assert!(
            median * 2 >= wrong && median <= wrong * 2,
            "{state}: {median:?}, a wrong password: {wrong:?}"
        );
    }
}

async fn parallel_wrong_logins_get_no_more_password_checks_than_the_lock_allows(backend: Backend) {
    let app = TestApp::spawn_with(&backend, behind_proxy(prompt())).await;
    let chief = create_user(&app.db, "chief", Role::CountyAdmin, None, None).await;
    let answers =
        futures::future::join_all((0..40).map(|_| login_from(&app, STRANGER, "chief", WRONG)))
            .await;
    assert!(answers.iter().all(|body| !signed_in(body)));
    let failures: Vec<Option<String>> = login_attempt::Entity::find()
        .filter(login_attempt::Column::Username.eq("chief"))
        .all(&app.db)
        .await
        .expect("attempts")
        .into_iter()
        .map(|a| a.failure)
        .collect();
    let checked = failures
        .iter()
        .filter(|f| f.as_deref() == Some("bad_credentials"))
        .count();
    let lock_after = prompt().login_lock_after;
    assert_eq!(checked as u64, lock_after, "{failures:?}");
    assert!(
        failures
            .iter()
            .filter(|f| f.as_deref() != Some("bad_credentials"))
            .all(|f| f.as_deref() == Some("locked")),
        "{failures:?}"
    );
    assert_eq!(failures.len(), 40);
    let actions = app.audit_actions("Account", chief.id).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "account.under_attack")
            .count(),
        1,
        "{actions:?}"
    );
}
