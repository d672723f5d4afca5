//! GraphQL over HTTP: media types, methods, batching, health, and errors that
//! always carry a code and never a 500.

use api::config::Limits;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tests::{Backend, TestApp, on_both_backends};

on_both_backends!(
    graphiql_is_served_to_a_browser,
    a_query_can_be_sent_by_get,
    a_mutation_sent_by_get_is_refused_with_405,
    a_body_that_is_not_json_is_refused_with_415,
    malformed_json_is_refused_with_400,
    an_oversized_body_is_refused_with_413,
    batches_are_refused_unless_configured,
    configured_batches_run_up_to_their_cap,
    graphql_response_media_type_gets_400_for_request_errors,
    a_refused_login_is_an_error_of_the_operation_not_of_the_request,
    health_and_readiness_answer,
    every_response_carries_a_request_id,
    an_internal_error_shows_only_a_code_and_the_request_id,
);

async fn graphiql_is_served_to_a_browser(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/html")
    );
    let page = response.text().await.expect("body");
    assert!(page.contains("graphiql"), "not a GraphiQL page");
}

async fn a_query_can_be_sent_by_get(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 30).await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ county { name } }")])
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["data"]["county"]["name"], "清水江县");
}

async fn a_mutation_sent_by_get_is_refused_with_405(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    for (query, name) in [
        ("mutation { __typename }", None),
        (
            "query A { __typename } mutation B { __typename }",
            Some("B"),
        ),
    ] {
        let mut params = vec![("query", query)];
        if let Some(name) = name {
            params.push(("operationName", name));
        }
        let response = app
            .client
            .get(app.url("/graphql"))
            .query(&params)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 405, "{query}");
        assert_eq!(response.headers()["allow"], "POST");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(TestApp::error_codes(&body), ["METHOD_NOT_ALLOWED"]);
    }
}

async fn a_body_that_is_not_json_is_refused_with_415(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", content_type)
            .body(r#"{"query":"{ __typename }"}"#)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 415, "{content_type}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(TestApp::error_codes(&body), ["UNSUPPORTED_MEDIA_TYPE"]);
    }
    let missing = app
        .client
        .post(app.url("/graphql"))
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), 415);
}

async fn malformed_json_is_refused_with_400(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    for body in [
        r#"{"query": "{ __typename }""#,
        "not json",
        r#"{"variables": {}}"#,
        "42",
    ] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 400, "{body}");
        let json: Value = response.json().await.expect("JSON");
        assert_eq!(TestApp::error_codes(&json), ["BAD_REQUEST"], "{body}");
    }
}

async fn an_oversized_body_is_refused_with_413(backend: Backend) {
    let limits = Limits {
        max_body_bytes: 1_000,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(&backend, limits).await;
    let padding = " ".repeat(2_000);
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(format!(r#"{{"query": "{{ __typename {padding} }}"}}"#))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(TestApp::error_codes(&body), ["PAYLOAD_TOO_LARGE"]);
}

async fn batches_are_refused_unless_configured(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(TestApp::error_codes(&body), ["BAD_REQUEST"]);
}

async fn configured_batches_run_up_to_their_cap(backend: Backend) {
    let limits = Limits {
        max_batch: 2,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(&backend, limits).await;
    let two = json!([{ "query": "{ __typename }" }, { "query": "{ povertyLines { year } }" }]);
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&two)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body[0]["data"]["__typename"], "Query");
    assert_eq!(body[1]["data"]["povertyLines"], json!([]));
    let three = json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }, { "query": "{ __typename }" }]);
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&three)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 400);
}

async fn graphql_response_media_type_gets_400_for_request_errors(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let send = |accept: &'static str, query: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .header("accept", accept)
            .json(&json!({ "query": query }))
            .send()
    };
    let response = send("application/graphql-response+json", "{ noSuchField }")
        .await
        .expect("request");
    assert_eq!(response.status(), 400);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("application/graphql-response+json")
    );
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(TestApp::error_codes(&body), ["GRAPHQL_VALIDATION_FAILED"]);
    // An operation that never ran has no `data` entry at all, not `"data": null`.
    assert!(body.get("data").is_none(), "{body}");

    let response = send("application/graphql-response+json", "{ county {")
        .await
        .expect("request");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(TestApp::error_codes(&body), ["GRAPHQL_PARSE_FAILED"]);
    assert!(body.get("data").is_none(), "{body}");

    let response = send("application/json", "{ noSuchField }")
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("application/json")
    );
    let body: Value = response.json().await.expect("JSON");
    assert!(body.get("data").is_none(), "{body}");
}

/// A wrong password is the `login` operation's answer, not a refused request:
/// HTTP 200 with `UNAUTHENTICATED` and `"data": null` under either media type.
/// HTTP 401 is kept for a bad token in the `Authorization` header.
async fn a_refused_login_is_an_error_of_the_operation_not_of_the_request(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let (user, _) = app.user_for(entity::enums::Role::CountyAdmin).await;
    for accept in ["application/json", "application/graphql-response+json"] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("accept", accept)
            .json(&json!({
                "query": "mutation($u: String!) { login(username: $u, password: \"not the password\") { accessToken } }",
                "variables": { "u": user.username },
            }))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "{accept}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(TestApp::error_codes(&body), ["UNAUTHENTICATED"], "{accept}");
        assert_eq!(body.get("data"), Some(&Value::Null), "{accept}: {body}");
    }
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("authorization", "Bearer not-a-token")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
}

async fn health_and_readiness_answer(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let health = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("request");
    assert_eq!(health.status(), 200);
    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("request");
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.expect("body"), "ready");
}

async fn every_response_carries_a_request_id(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("request");
    let id = response
        .headers()
        .get("x-request-id")
        .expect("x-request-id header");
    assert_eq!(id.to_str().unwrap_or_default().len(), 36, "a UUID");
}

async fn an_internal_error_shows_only_a_code_and_the_request_id(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    // A database in a state the server cannot work with.
    app.db
        .execute_unprepared("DROP TABLE poverty_line")
        .await
        .expect("drop");
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ povertyLines { year } }" }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(TestApp::error_codes(&body), ["INTERNAL"]);
    assert_eq!(body["errors"][0]["message"], "internal error");
    assert_eq!(
        body["errors"][0]["extensions"]["requestId"],
        request_id.as_str()
    );
    assert!(
        !body.to_string().contains("poverty_line"),
        "no internals leak: {body}"
    );
}
