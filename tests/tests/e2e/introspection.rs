//! Introspection and "Did you mean ...?" suggestions: for signed-in callers, and
//! for the public only when the server is started with `--public-introspection`.

use api::config::Limits;
use entity::enums::Role;
use serde_json::{Value, json};
use tests::{Backend, TestApp, error_message, on_both_backends};

on_both_backends!(
    anonymous_callers_cannot_introspect,
    anonymous_callers_may_still_ask_for_typename,
    signed_in_callers_may_introspect,
    public_introspection_opens_introspection_to_anonymous_callers,
    only_signed_in_callers_get_suggestions,
    public_introspection_gives_anonymous_callers_suggestions,
);

const SCHEMA: &str = "{ __schema { queryType { name } } }";
const TYPE: &str = r#"{ __type(name: "Household") { name } }"#;
/// `__schema` asked for through a fragment.
const SCHEMA_IN_A_FRAGMENT: &str =
    "query { ...Root } fragment Root on Query { ... on Query { __schema { queryType { name } } } }";
/// A misspelt field of `County` (`name`).
const MISSPELT: &str = "{ county { nam } }";

async fn public_server(backend: &Backend) -> TestApp {
    let limits = Limits {
        public_introspection: true,
        ..Limits::default()
    };
    TestApp::spawn_with(backend, limits).await
}

async fn anonymous_callers_cannot_introspect(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    for query in [SCHEMA, TYPE, SCHEMA_IN_A_FRAGMENT] {
        let body = app.graphql_as(None, query, json!({})).await;
        assert_eq!(
            TestApp::error_codes(&body),
            ["INTROSPECTION_DISABLED"],
            "{query}: {body}"
        );
        assert_eq!(body["data"], Value::Null, "{query}");
        assert!(error_message(&body).contains("signed-in"), "{body}");
    }
    let by_get = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", SCHEMA)])
        .header("accept", "application/graphql-response+json")
        .send()
        .await
        .expect("request");
    assert_eq!(by_get.status(), 400);
    let body: Value = by_get.json().await.expect("JSON");
    assert_eq!(TestApp::error_codes(&body), ["INTROSPECTION_DISABLED"]);
}

async fn anonymous_callers_may_still_ask_for_typename(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let data = app.query_as(None, "{ __typename }", json!({})).await;
    assert_eq!(data["__typename"], "Query");
}

async fn signed_in_callers_may_introspect(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let token = app.token_for(Role::Auditor).await;
    for query in [SCHEMA, SCHEMA_IN_A_FRAGMENT] {
        let data = app.query_as(Some(&token), query, json!({})).await;
        assert_eq!(data["__schema"]["queryType"]["name"], "Query");
    }
    let data = app.query_as(Some(&token), TYPE, json!({})).await;
    assert_eq!(data["__type"]["name"], "Household");
}

async fn public_introspection_opens_introspection_to_anonymous_callers(backend: Backend) {
    let app = public_server(&backend).await;
    let data = app.query_as(None, SCHEMA, json!({})).await;
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
    let data = app.query_as(None, TYPE, json!({})).await;
    assert_eq!(data["__type"]["name"], "Household");
}

async fn only_signed_in_callers_get_suggestions(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let signed_in = app.graphql(MISSPELT, json!({})).await;
    assert_eq!(
        TestApp::error_codes(&signed_in),
        ["GRAPHQL_VALIDATION_FAILED"]
    );
    assert!(
        error_message(&signed_in).contains(r#"Did you mean "name"?"#),
        "{signed_in}"
    );
    let anonymous = app.graphql_as(None, MISSPELT, json!({})).await;
    assert_eq!(
        TestApp::error_codes(&anonymous),
        ["GRAPHQL_VALIDATION_FAILED"]
    );
    assert!(
        !error_message(&anonymous).contains("Did you mean"),
        "{anonymous}"
    );
}

async fn public_introspection_gives_anonymous_callers_suggestions(backend: Backend) {
    let app = public_server(&backend).await;
    let anonymous = app.graphql_as(None, MISSPELT, json!({})).await;
    assert!(
        error_message(&anonymous).contains("Did you mean"),
        "{anonymous}"
    );
}
