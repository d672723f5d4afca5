//! Every protective limit refuses with a clear, coded error, and GraphiQL's
//! introspection still works under the defaults.

use api::config::Limits;
use serde_json::{Value, json};
use tests::{Backend, TestApp, on_both_backends};

on_both_backends!(
    graphiql_introspection_works_under_the_default_limits,
    a_query_nested_too_deep_is_refused,
    a_query_too_complex_is_refused,
    too_many_aliases_are_refused,
    a_page_over_the_maximum_size_is_refused,
    an_oversized_document_is_refused,
    a_request_over_the_time_limit_is_abandoned,
);

/// The query GraphiQL sends on load (graphql-js `getIntrospectionQuery` with
/// descriptions, repeatable directives, specifiedByURL and deprecated inputs).
const GRAPHIQL_INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) {
    name description
    args(includeDeprecated: true) { ...InputValue }
    type { ...TypeRef }
    isDeprecated deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name description type { ...TypeRef } defaultValue isDeprecated deprecationReason
}
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}
"#;

async fn graphiql_introspection_works_under_the_default_limits(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let data = app.query(GRAPHIQL_INTROSPECTION, json!({})).await;
    let types = data["__schema"]["types"].as_array().expect("types");
    assert!(types.iter().any(|t| t["name"] == "Household"));
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
}

/// `{ county { townships { nodes { county { townships { ... } } } } } }`, `levels` deep.
fn nested(levels: usize) -> String {
    let mut query = "name".to_owned();
    for _ in 0..levels {
        query = format!("townships(first: 1) {{ nodes {{ county {{ {query} }} }} }}");
    }
    format!("{{ county {{ {query} }} }}")
}

async fn a_query_nested_too_deep_is_refused(backend: Backend) {
    let limits = Limits {
        max_depth: 10,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(&backend, limits).await;
    app.seed(10, 1).await;
    let shallow = app.graphql(&nested(2), json!({})).await;
    assert!(shallow.get("errors").is_none(), "{shallow}");
    let deep = app.graphql(&nested(4), json!({})).await;
    assert_eq!(TestApp::error_codes(&deep), ["QUERY_TOO_DEEP"]);
    assert_eq!(deep["data"], Value::Null);
}

async fn a_query_too_complex_is_refused(backend: Backend) {
    let limits = Limits {
        max_complexity: 500,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(&backend, limits).await;
    let cheap = app
        .graphql("{ households(first: 10) { nodes { number } } }", json!({}))
        .await;
    assert!(cheap.get("errors").is_none(), "{cheap}");
    // Each page item costs its selection: 100 households with members is far over 500.
    let costly = app
        .graphql(
            "{ households(first: 100) { nodes { number members { name gender relation } } } }",
            json!({}),
        )
        .await;
    assert_eq!(TestApp::error_codes(&costly), ["QUERY_TOO_COMPLEX"]);
    // Sizes given in variables count too.
    let by_variable = app
        .graphql(
            "query($n: Int) { households(first: $n) { nodes { number members { name gender relation } } } }",
            json!({ "n": 100 }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&by_variable), ["QUERY_TOO_COMPLEX"]);
}

async fn too_many_aliases_are_refused(backend: Backend) {
    let limits = Limits {
        max_aliases: 3,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(&backend, limits).await;
    let three = app
        .graphql("{ a: __typename b: __typename c: __typename }", json!({}))
        .await;
    assert!(three.get("errors").is_none(), "{three}");
    let four = app
        .graphql("{ a: __typename b: __typename ...F } fragment F on Query { c: __typename d: __typename }", json!({}))
        .await;
    assert_eq!(TestApp::error_codes(&four), ["TOO_MANY_ALIASES"]);
}

async fn a_page_over_the_maximum_size_is_refused(backend: Backend) {
    let limits = Limits {
        max_page_size: 50,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(&backend, limits).await;
    for query in [
        "{ households(first: 51) { totalCount } }",
        "{ households(last: 51) { totalCount } }",
        "{ villages(first: -1) { totalCount } }",
        "{ households(first: 2, last: 2) { totalCount } }",
    ] {
        let body = app.graphql(query, json!({})).await;
        assert_eq!(
            TestApp::error_codes(&body),
            ["BAD_USER_INPUT"],
            "{query}: {body}"
        );
        assert_eq!(body["data"], Value::Null, "{query}");
    }
    let body = app
        .graphql("{ households(first: 51) { totalCount } }", json!({}))
        .await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("at most 50"), "{message}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "first");
    let ok = app
        .graphql("{ households(first: 50) { totalCount } }", json!({}))
        .await;
    assert!(ok.get("errors").is_none(), "{ok}");
}

async fn an_oversized_document_is_refused(backend: Backend) {
    let limits = Limits {
        max_document_bytes: 200,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(&backend, limits).await;
    let padded = format!("{{ __typename {} }}", " ".repeat(300));
    let body = app.graphql(&padded, json!({})).await;
    assert_eq!(TestApp::error_codes(&body), ["DOCUMENT_TOO_LARGE"]);
}

async fn a_request_over_the_time_limit_is_abandoned(backend: Backend) {
    // Relations a page does not read ahead wait out the loaders' 200 ms
    // window, far beyond the 20 ms limit.
    let limits = Limits {
        request_timeout_ms: 20,
        loader_delay_ms: 200,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(&backend, limits).await;
    app.seed(50, 1).await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&app.admin_token)
        .json(&json!({ "query": "{ households(first: 50) { nodes { statusHistory { __typename } } } }" }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(TestApp::error_codes(&body), ["TIMEOUT"]);
}
