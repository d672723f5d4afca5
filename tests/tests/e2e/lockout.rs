//! Failed logins lock an address out of an account, never the account's owner
//! out of the addresses they sign in from; attacks from many addresses close
//! the account to unknown ones; the county office is alerted once.

use std::time::{Duration, Instant};

use api::config::{Limits, LoginLimits};
use entity::enums::Role;
use entity::login_attempt;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{Backend, TEST_PASSWORD, TestApp, create_user, on_both_backends};

on_both_backends!(
    a_strangers_failures_lock_the_strangers_address_not_the_owners,
    many_unknown_addresses_are_refused_while_a_known_one_signs_in,
    the_county_office_is_alerted_once_and_a_village_cadre_may_not_look,
    forwarded_for_from_an_untrusted_peer_is_ignored,
    resetting_the_password_lifts_the_locks,
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
    let body = login_from(&app, STRANGER, "chief", TEST_PASSWORD).await;
    assert_eq!(TestApp::error_codes(&body), ["RATE_LIMITED"], "{body}");
    assert!(
        !body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("password")
    );
    // The refusal is the same with a wrong password, and answers at once.
    let started = Instant::now();
    let wrong = login_from(&app, STRANGER, "chief", WRONG).await;
    assert_eq!(TestApp::error_codes(&wrong), ["RATE_LIMITED"]);
    assert_eq!(wrong["errors"][0]["message"], body["errors"][0]["message"]);
    assert!(started.elapsed() < Duration::from_millis(1_000));

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
        assert_eq!(TestApp::error_codes(&body), ["RATE_LIMITED"], "source {i}");
    }
    assert!(signed_in(
        &login_from(&app, OFFICE, "chief", TEST_PASSWORD).await
    ));
    // A name nobody has fares the same: a lock tells no one which names exist.
    for i in 1..=attack_after {
        login_from(&app, &format!("203.0.113.{i}"), "nobody", WRONG).await;
    }
    let nobody = login_from(&app, "203.0.113.99", "nobody", WRONG).await;
    assert_eq!(TestApp::error_codes(&nobody), ["RATE_LIMITED"]);
}

const ALERTS: &str = "{ loginAlerts(first: 10) { nodes { account { username } reason source failures sources since } } }";

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
    assert_eq!(TestApp::error_codes(&body), ["RATE_LIMITED"]);
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
    assert_eq!(TestApp::error_codes(&new_address), ["RATE_LIMITED"]);
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
