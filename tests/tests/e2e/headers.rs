//! Headers on every response: the security headers, no caching of anything
//! that may carry personal data, and a request ID that is always the server's.

use api::config::Limits;
use reqwest::Response;
use serde_json::{Value, json};
use tests::{Backend, TestApp, on_both_backends};

on_both_backends!(
    a_graphql_answer_carries_the_security_headers,
    refusals_carry_the_security_headers,
    exchange_answers_are_never_cached,
    the_graphiql_page_carries_its_own_policy,
    a_client_request_id_never_comes_back_as_the_request_id,
    a_safe_client_request_id_comes_back_as_the_correlation_id,
    an_unsafe_or_long_client_request_id_is_dropped,
    a_listed_origin_may_call_the_api_from_a_browser,
    an_unlisted_origin_gets_no_cors_header,
    without_listed_origins_no_page_elsewhere_may_call,
);

/// The restrictive policy of everything that is not the GraphiQL page.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
}

/// The headers every response carries, whatever its status.
fn assert_security_headers(response: &Response) {
    assert_eq!(header(response, "x-content-type-options"), "nosniff");
    assert_eq!(header(response, "referrer-policy"), "no-referrer");
    assert_eq!(header(response, "x-frame-options"), "DENY");
    assert_eq!(header(response, "cache-control"), "no-store");
}

async fn a_graphql_answer_carries_the_security_headers(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&app.admin_token)
        .json(&json!({ "query": "{ me { username } }" }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert_security_headers(&response);
    assert_eq!(header(&response, "content-security-policy"), API_CSP);
}

async fn refusals_carry_the_security_headers(backend: Backend) {
    let limits = Limits {
        max_body_bytes: 100,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(&backend, limits).await;
    let not_json = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("request");
    let too_large = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(format!(r#"{{"query": "{}"}}"#, " ".repeat(200)))
        .send()
        .await
        .expect("request");
    let bad_token = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth("not-a-token")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("request");
    let no_route = app
        .client
        .get(app.url("/nowhere"))
        .send()
        .await
        .expect("request");
    for (response, status) in [
        (not_json, 415),
        (too_large, 413),
        (bad_token, 401),
        (no_route, 404),
    ] {
        assert_eq!(response.status(), status);
        assert_security_headers(&response);
        assert_eq!(header(&response, "content-security-policy"), API_CSP);
    }
}

async fn exchange_answers_are_never_cached(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 5).await;
    let export = app
        .client
        .get(app.url("/exchange/households?format=ndjson"))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .expect("request");
    assert_eq!(export.status(), 200);
    assert_security_headers(&export);
    let anonymous = app
        .client
        .get(app.url("/exchange/households"))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);
    assert_security_headers(&anonymous);
}

async fn the_graphiql_page_carries_its_own_policy(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let page = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("request");
    assert_eq!(page.status(), 200);
    assert_security_headers(&page);
    assert_eq!(
        header(&page, "content-security-policy"),
        api::pages::PAGE_CSP
    );
    for directive in [
        "default-src 'none'",
        "script-src 'self';",
        "connect-src 'self';",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ] {
        assert!(
            api::pages::PAGE_CSP.contains(directive),
            "{directive} is missing from the page's policy"
        );
    }
}

/// Sends `{ __typename }` with an `x-request-id` of the client's own.
async fn send_with_request_id(app: &TestApp, id: &str) -> Response {
    app.client
        .post(app.url("/graphql"))
        .header("x-request-id", id)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("request")
}

async fn a_client_request_id_never_comes_back_as_the_request_id(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let long = "a".repeat(65);
    for sent in ["trace-me-123", "forged\tlog line", long.as_str()] {
        let response = send_with_request_id(&app, sent).await;
        let ours = header(&response, "x-request-id");
        assert_ne!(ours, sent);
        assert!(uuid::Uuid::parse_str(ours).is_ok(), "a UUID: {ours}");
    }
    let change = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&app.admin_token)
        .header("x-request-id", "trace-me-123")
        .json(&json!({ "query": r#"mutation { createUser(input: { username: "qian", password: "a long enough password", role: AUDITOR }) { username } }"# }))
        .send()
        .await
        .expect("request");
    let ours = header(&change, "x-request-id").to_owned();
    let trail = app
        .query(
            r#"{ auditEntries(first: 1, filter: { entityType: "Account" }) { nodes { requestId } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        trail["auditEntries"]["nodes"][0]["requestId"],
        ours.as_str()
    );
}

async fn a_safe_client_request_id_comes_back_as_the_correlation_id(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let longest = "A".repeat(64);
    for sent in ["trace-me-123", "app:v2.1_7", longest.as_str()] {
        let response = send_with_request_id(&app, sent).await;
        assert_eq!(header(&response, "x-correlation-id"), sent);
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["data"]["__typename"], "Query");
    }
}

async fn an_unsafe_or_long_client_request_id_is_dropped(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let long = "a".repeat(65);
    for sent in [
        long.as_str(),
        "forged\tlog line",
        "with space",
        "x\"y",
        "semi;colon",
        "",
    ] {
        let response = send_with_request_id(&app, sent).await;
        assert_eq!(response.status(), 200, "{sent:?}");
        assert!(
            response.headers().get("x-correlation-id").is_none(),
            "{sent:?} came back"
        );
    }
}

const PORTAL: &str = "https://portal.example.gov.cn";

async fn with_portal_listed(backend: &Backend) -> TestApp {
    let limits = Limits {
        cors_origins: vec![PORTAL.to_owned(), "http://10.0.0.5:8080".to_owned()],
        ..Limits::default()
    };
    TestApp::spawn_with(backend, limits).await
}

/// A browser's preflight of a POST with a token, from `origin`.
async fn preflight(app: &TestApp, origin: &str) -> Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .expect("preflight")
}

/// A POST from a page of `origin`, with a signed-in user's token.
async fn signed_in_post(app: &TestApp, origin: &str) -> Response {
    let token = app.token_for(entity::enums::Role::CountyAdmin).await;
    app.client
        .post(app.url("/graphql"))
        .header("origin", origin)
        .bearer_auth(token)
        .json(&json!({ "query": "{ me { username } }" }))
        .send()
        .await
        .expect("request")
}

async fn a_listed_origin_may_call_the_api_from_a_browser(backend: Backend) {
    let app = with_portal_listed(&backend).await;
    let response = preflight(&app, PORTAL).await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(header(&response, "access-control-allow-origin"), PORTAL);
    let methods = header(&response, "access-control-allow-methods").to_ascii_lowercase();
    assert!(
        methods.contains("post") && methods.contains("get"),
        "{methods}"
    );
    let allowed = header(&response, "access-control-allow-headers").to_ascii_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("content-type"),
        "{allowed}"
    );
    assert!(
        response
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );

    let response = signed_in_post(&app, PORTAL).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "access-control-allow-origin"), PORTAL);
    assert!(
        header(&response, "vary")
            .to_ascii_lowercase()
            .contains("origin")
    );
    let exposed = header(&response, "access-control-expose-headers").to_ascii_lowercase();
    assert!(
        exposed.contains("x-request-id") && exposed.contains("retry-after"),
        "{exposed}"
    );
    assert!(
        response
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    let body: Value = response.json().await.expect("JSON");
    assert!(body["data"]["me"]["username"].is_string(), "{body}");
}

async fn an_unlisted_origin_gets_no_cors_header(backend: Backend) {
    let app = with_portal_listed(&backend).await;
    // Another site, a listed origin's other scheme or port, and a look-alike
    // whose name only begins with a listed one: none is let in.
    for origin in [
        "https://evil.example.com",
        "http://portal.example.gov.cn",
        "https://portal.example.gov.cn:8443",
        "https://portal.example.gov.cn.evil.example.com",
        "null",
    ] {
        let response = preflight(&app, origin).await;
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{origin}"
        );
        let response = signed_in_post(&app, origin).await;
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{origin}"
        );
        assert!(
            response
                .headers()
                .get("access-control-allow-credentials")
                .is_none()
        );
    }
}

async fn without_listed_origins_no_page_elsewhere_may_call(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let response = preflight(&app, PORTAL).await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let response = signed_in_post(&app, PORTAL).await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}
