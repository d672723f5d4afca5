//! Persisted documents: Apollo's automatic persisted queries over POST and GET,
//! shared by replicas; third-party apps, and tokens held to their registered
//! documents.

use api::config::Limits;
use entity::enums::Role;
use entity::persisted_document;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tests::{Backend, TEST_PASSWORD, TestApp, create_user, error_field, on_both_backends};

on_both_backends!(
    an_unknown_hash_is_not_found_then_its_text_is_stored_and_every_replica_runs_it,
    persisted_queries_work_over_get,
    a_known_hash_is_answered_from_the_cache_without_a_query,
    a_hash_that_is_not_its_query_s_is_refused_and_nothing_is_stored,
    an_unsupported_version_or_a_malformed_hash_is_refused,
    a_mutation_sent_by_get_as_a_hash_is_refused_with_405,
    an_unparseable_or_oversized_document_is_not_stored,
    only_the_county_office_manages_apps,
    an_app_s_documents_must_parse_and_an_unknown_client_id_is_refused,
    a_restricted_app_runs_its_registered_documents_only,
    an_unrestricted_app_runs_anything_and_a_switch_holds_for_issued_tokens,
    a_refreshed_token_keeps_the_app,
    app_changes_are_versioned_and_audited,
);

const POVERTY_LINES: &str = "query Lines { povertyLines { year } }";
const ME: &str = "query Me { me { username } }";
const ROLE: &str = "query Role { me { role } }";

fn sha256(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

/// POSTs a body, with a token or as the public; returns status and body.
async fn post(app: &TestApp, token: Option<&str>, body: Value) -> (u16, Value) {
    let (status, _, body) = app.post_graphql(token, &body).await;
    (status, body)
}

/// Sends a GET with these parameters; returns status and body.
async fn get(app: &TestApp, token: Option<&str>, params: &[(&str, String)]) -> (u16, Value) {
    let mut request = app.client.get(app.url("/graphql")).query(params);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

/// A request carrying only a hash.
fn by_hash(document: &str) -> Value {
    json!({ "extensions": persisted(&sha256(document)) })
}

/// A request carrying a document and its hash.
fn with_hash(document: &str) -> Value {
    json!({ "query": document, "extensions": persisted(&sha256(document)) })
}

async fn stored(app: &TestApp) -> u64 {
    persisted_document::Entity::find()
        .count(&app.db)
        .await
        .expect("count")
}

fn assert_not_found(status: u16, body: &Value) {
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    assert_eq!(TestApp::error_codes(body), ["PERSISTED_QUERY_NOT_FOUND"]);
}

fn assert_not_allowed(status: u16, body: &Value) {
    assert_eq!(status, 403, "{body}");
    assert_eq!(TestApp::error_codes(body), ["PERSISTED_QUERY_NOT_ALLOWED"]);
}

async fn an_unknown_hash_is_not_found_then_its_text_is_stored_and_every_replica_runs_it(
    backend: Backend,
) {
    let mut app = TestApp::spawn(&backend).await;
    let (status, body) = post(&app, None, by_hash(POVERTY_LINES)).await;
    assert_not_found(status, &body);
    let (status, body) = post(&app, None, with_hash(POVERTY_LINES)).await;
    assert_eq!(
        (status, &body["data"]),
        (200, &json!({ "povertyLines": [] }))
    );
    let (status, body) = post(&app, None, by_hash(POVERTY_LINES)).await;
    assert_eq!(
        (status, &body["data"]),
        (200, &json!({ "povertyLines": [] }))
    );
    // Another replica on the same database, with a cache of its own.
    app.restart().await;
    let (status, body) = post(&app, None, by_hash(POVERTY_LINES)).await;
    assert_eq!(
        (status, &body["data"]),
        (200, &json!({ "povertyLines": [] }))
    );
    // Sending it again stores nothing new.
    post(&app, None, with_hash(POVERTY_LINES)).await;
    assert_eq!(stored(&app).await, 1);
}

async fn persisted_queries_work_over_get(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let extensions = persisted(&sha256(POVERTY_LINES)).to_string();
    let hash_only = [("extensions", extensions.clone())];
    let (status, body) = get(&app, None, &hash_only).await;
    assert_not_found(status, &body);
    let with_text = [
        ("query", POVERTY_LINES.to_owned()),
        ("extensions", extensions),
    ];
    let (status, body) = get(&app, None, &with_text).await;
    assert_eq!(
        (status, &body["data"]),
        (200, &json!({ "povertyLines": [] }))
    );
    let (status, body) = get(&app, None, &hash_only).await;
    assert_eq!(
        (status, &body["data"]),
        (200, &json!({ "povertyLines": [] }))
    );
}

async fn a_known_hash_is_answered_from_the_cache_without_a_query(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let document = "{ __typename }";
    post(&app, None, with_hash(document)).await;
    let before = app.statements();
    let (_, body) = post(&app, None, by_hash(document)).await;
    assert_eq!(body["data"]["__typename"], "Query");
    assert_eq!(app.statements(), before, "a cached hash ran a statement");
}

async fn a_hash_that_is_not_its_query_s_is_refused_and_nothing_is_stored(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let claimed = sha256(POVERTY_LINES);
    let body = json!({ "query": "{ __typename }", "extensions": persisted(&claimed) });
    let (status, body) = post(&app, None, body).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        TestApp::error_codes(&body),
        ["PERSISTED_QUERY_HASH_MISMATCH"]
    );
    assert!(body.get("data").is_none_or(Value::is_null));
    let (status, body) = post(&app, None, by_hash(POVERTY_LINES)).await;
    assert_not_found(status, &body);
    let (status, body) = post(&app, None, by_hash("{ __typename }")).await;
    assert_not_found(status, &body);
    assert_eq!(stored(&app).await, 0);
}

async fn an_unsupported_version_or_a_malformed_hash_is_refused(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let hash = sha256(POVERTY_LINES);
    for extensions in [
        json!({ "persistedQuery": { "version": 2, "sha256Hash": hash } }),
        json!({ "persistedQuery": { "version": 1, "sha256Hash": hash.to_uppercase() } }),
        json!({ "persistedQuery": { "version": 1 } }),
    ] {
        let (status, body) = post(&app, None, json!({ "extensions": extensions })).await;
        assert_eq!(status, 400, "{extensions}: {body}");
        assert_eq!(TestApp::error_codes(&body), ["BAD_REQUEST"], "{extensions}");
    }
}

async fn a_mutation_sent_by_get_as_a_hash_is_refused_with_405(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let mutation = "mutation Ping { __typename }";
    let (_, body) = post(&app, None, with_hash(mutation)).await;
    assert_eq!(body["data"]["__typename"], "Mutation");
    let (status, body) = get(
        &app,
        None,
        &[("extensions", persisted(&sha256(mutation)).to_string())],
    )
    .await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(TestApp::error_codes(&body), ["METHOD_NOT_ALLOWED"]);
}

async fn an_unparseable_or_oversized_document_is_not_stored(backend: Backend) {
    let limits = Limits {
        max_document_bytes: 200,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(&backend, limits).await;
    let broken = "{ county {";
    let (_, body) = post(&app, None, with_hash(broken)).await;
    assert_eq!(TestApp::error_codes(&body), ["GRAPHQL_PARSE_FAILED"]);
    let (status, body) = post(&app, None, by_hash(broken)).await;
    assert_not_found(status, &body);
    let large = format!("{{ __typename {} }}", " ".repeat(300));
    let (_, body) = post(&app, None, with_hash(&large)).await;
    assert_eq!(TestApp::error_codes(&body), ["DOCUMENT_TOO_LARGE"]);
    let (status, body) = post(&app, None, by_hash(&large)).await;
    assert_not_found(status, &body);
    assert_eq!(stored(&app).await, 0);
}

const REGISTER_APP: &str = "mutation($n: String!) { registerClientApp(name: $n) { id clientId version trustedDocumentsOnly documents } }";
const REGISTER_DOCUMENTS: &str =
    "mutation($a: ID!, $d: [String!]!) { registerAppDocuments(appId: $a, documents: $d) }";
const SET_ONLY: &str = "mutation($id: ID!, $v: Int!, $o: Boolean!) { setAppTrustedDocumentsOnly(id: $id, version: $v, only: $o) { version trustedDocumentsOnly documents } }";
const LOGIN: &str = "mutation($u: String!, $p: String!, $c: String) { login(username: $u, password: $p, clientId: $c) { accessToken refreshToken } }";
const REFRESH: &str =
    "mutation($t: String!) { refresh(refreshToken: $t) { accessToken refreshToken } }";

/// An app registered by the county office: its ID and client ID.
async fn register_app(app: &TestApp, name: &str) -> (String, String) {
    let data = app.query(REGISTER_APP, json!({ "n": name })).await;
    let registered = &data["registerClientApp"];
    assert_eq!(registered["version"], 1);
    assert_eq!(registered["trustedDocumentsOnly"], false);
    (
        registered["id"].as_str().expect("id").to_owned(),
        registered["clientId"]
            .as_str()
            .expect("client ID")
            .to_owned(),
    )
}

async fn set_only(app: &TestApp, id: &str, version: i32, only: bool) -> Value {
    app.graphql(SET_ONLY, json!({ "id": id, "v": version, "o": only }))
        .await
}

/// Signs the auditor `li` in, through an app or none, making the account
/// first if need be; returns access and refresh tokens.
async fn sign_in(app: &TestApp, client_id: Option<&str>) -> (String, String) {
    if entity::app_user::Entity::find()
        .filter(entity::app_user::Column::Username.eq("li"))
        .one(&app.db)
        .await
        .expect("query")
        .is_none()
    {
        create_user(&app.db, "li", Role::Auditor, None, None).await;
    }
    let data = app
        .query_as(
            None,
            LOGIN,
            json!({ "u": "li", "p": TEST_PASSWORD, "c": client_id }),
        )
        .await;
    (
        data["login"]["accessToken"]
            .as_str()
            .expect("access")
            .to_owned(),
        data["login"]["refreshToken"]
            .as_str()
            .expect("refresh")
            .to_owned(),
    )
}

async fn only_the_county_office_manages_apps(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let (id, _) = register_app(&app, "村级走访").await;
    let requests = [
        ("{ clientApps { id } }", json!({})),
        (REGISTER_APP, json!({ "n": "another" })),
        (REGISTER_DOCUMENTS, json!({ "a": id, "d": [ME] })),
        (SET_ONLY, json!({ "id": id, "v": 1, "o": true })),
    ];
    for role in [Role::Auditor, Role::HelperCadre, Role::ProvincialSystem] {
        let token = app.token_for(role).await;
        for (query, variables) in &requests {
            let body = app.graphql_as(Some(&token), query, variables.clone()).await;
            assert_eq!(
                TestApp::error_codes(&body),
                ["FORBIDDEN"],
                "{role:?}: {query}"
            );
        }
    }
    for (query, variables) in &requests {
        let body = app.graphql_as(None, query, variables.clone()).await;
        assert_eq!(TestApp::error_codes(&body), ["UNAUTHENTICATED"], "{query}");
    }
    let data = app
        .query(
            "{ clientApps { id trustedDocumentsOnly documents } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["clientApps"],
        json!([{ "id": id, "trustedDocumentsOnly": false, "documents": [] }])
    );
}

async fn an_app_s_documents_must_parse_and_an_unknown_client_id_is_refused(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let (id, _) = register_app(&app, "扶贫通").await;
    let body = app
        .graphql(REGISTER_DOCUMENTS, json!({ "a": id, "d": [ME, "{ me {"] }))
        .await;
    assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"]);
    assert_eq!(error_field(&body), "documents");
    let too_many: Vec<String> = (0..101)
        .map(|i| format!("query Q{i} {{ me {{ username }} }}"))
        .collect();
    let body = app
        .graphql(REGISTER_DOCUMENTS, json!({ "a": id, "d": too_many }))
        .await;
    assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"]);
    assert_eq!(
        stored(&app).await,
        0,
        "a refused registration stored documents"
    );
    let body = app.graphql(REGISTER_APP, json!({ "n": "扶贫通" })).await;
    assert_eq!(
        TestApp::error_codes(&body),
        ["CONFLICT"],
        "names are unique"
    );

    sign_in(&app, None).await;
    let body = app
        .graphql_as(
            None,
            LOGIN,
            json!({ "u": "li", "p": TEST_PASSWORD, "c": "app_unknown" }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"]);
    assert_eq!(error_field(&body), "clientId");
}

async fn a_restricted_app_runs_its_registered_documents_only(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let (id, client_id) = register_app(&app, "村级走访").await;
    let hashes = app
        .query(REGISTER_DOCUMENTS, json!({ "a": id, "d": [ME, ME] }))
        .await;
    assert_eq!(
        hashes["registerAppDocuments"],
        json!([sha256(ME), sha256(ME)])
    );
    let data = set_only(&app, &id, 1, true).await;
    assert_eq!(
        data["data"]["setAppTrustedDocumentsOnly"],
        json!({ "version": 2, "trustedDocumentsOnly": true, "documents": [sha256(ME)] })
    );
    let (restricted, _) = sign_in(&app, Some(&client_id)).await;
    let token = Some(restricted.as_str());

    // Registered: by hash and as text, over POST and GET.
    let (status, body) = post(&app, token, by_hash(ME)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["me"]["username"].is_string(), "{body}");
    let (status, body) = post(&app, token, json!({ "query": ME })).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["me"]["username"].is_string(), "{body}");
    let (status, body) = get(
        &app,
        token,
        &[("extensions", persisted(&sha256(ME)).to_string())],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["me"]["username"].is_string(), "{body}");

    // Not registered: as text, with its hash, or as an unknown hash alone.
    let (status, body) = post(&app, token, json!({ "query": ROLE })).await;
    assert_not_allowed(status, &body);
    let (status, body) = post(&app, token, with_hash(ROLE)).await;
    assert_not_allowed(status, &body);
    let (status, body) = post(&app, token, by_hash(ROLE)).await;
    assert_not_allowed(status, &body);
    assert_eq!(stored(&app).await, 1, "a refused document was stored");
    // Known to the service, though not registered for the app.
    post(&app, None, with_hash(POVERTY_LINES)).await;
    let (status, body) = post(&app, token, by_hash(POVERTY_LINES)).await;
    assert_not_allowed(status, &body);
    // The same user signed in without the app runs anything.
    let (free, _) = sign_in(&app, None).await;
    let (status, body) = post(&app, Some(&free), json!({ "query": ROLE })).await;
    assert_eq!(
        (status, &body["data"]["me"]["role"]),
        (200, &json!("AUDITOR"))
    );
    // The exchange takes no document: the restricted token may not use it.
    let export = |token: String| {
        app.client
            .get(app.url("/exchange/households"))
            .bearer_auth(token)
            .send()
    };
    let refused = export(restricted.clone()).await.expect("export");
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.expect("JSON");
    assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"], "{body}");
    let allowed = export(free).await.expect("export");
    assert_eq!(allowed.status(), 200);
}

async fn an_unrestricted_app_runs_anything_and_a_switch_holds_for_issued_tokens(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let (id, client_id) = register_app(&app, "村级走访").await;
    app.query(REGISTER_DOCUMENTS, json!({ "a": id, "d": [ME] }))
        .await;
    let (token, _) = sign_in(&app, Some(&client_id)).await;
    let token = Some(token.as_str());
    let (status, body) = post(&app, token, json!({ "query": ROLE })).await;
    assert_eq!(
        (status, &body["data"]["me"]["role"]),
        (200, &json!("AUDITOR"))
    );

    set_only(&app, &id, 1, true).await;
    let (status, body) = post(&app, token, json!({ "query": ROLE })).await;
    assert_not_allowed(status, &body);
    let (status, _) = post(&app, token, json!({ "query": ME })).await;
    assert_eq!(status, 200);

    set_only(&app, &id, 2, false).await;
    let (status, body) = post(&app, token, json!({ "query": ROLE })).await;
    assert_eq!(
        (status, &body["data"]["me"]["role"]),
        (200, &json!("AUDITOR"))
    );
}

async fn a_refreshed_token_keeps_the_app(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let (id, client_id) = register_app(&app, "村级走访").await;
    app.query(REGISTER_DOCUMENTS, json!({ "a": id, "d": [ME] }))
        .await;
    set_only(&app, &id, 1, true).await;
    let (_, refresh) = sign_in(&app, Some(&client_id)).await;
    let data = app.query_as(None, REFRESH, json!({ "t": refresh })).await;
    let token = data["refresh"]["accessToken"].as_str().expect("access");
    let (status, body) = post(&app, Some(token), json!({ "query": ROLE })).await;
    assert_not_allowed(status, &body);
    let (status, body) = post(&app, Some(token), by_hash(ME)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["me"]["username"].is_string(), "{body}");
}

async fn app_changes_are_versioned_and_audited(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let (id, _) = register_app(&app, "村级走访").await;
    app.query(REGISTER_DOCUMENTS, json!({ "a": id, "d": [ME] }))
        .await;
    assert!(set_only(&app, &id, 1, true).await.get("errors").is_none());
    let stale = set_only(&app, &id, 1, false).await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"]);
    assert_eq!(
        stale["errors"][0]["extensions"]["current"]["trustedDocumentsOnly"],
        true
    );
    let raw: i64 = id.parse().expect("a number");
    assert_eq!(
        app.audit_actions("ClientApp", raw).await,
        [
            "client_app.trusted_documents_only",
            "client_app.register_documents",
            "client_app.register",
        ]
    );
}
