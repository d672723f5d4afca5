//! Sessions and tokens: login, refresh rotation and reuse, logout, password
//! change, lockout, and every forged or stale token refused.

use api::config::Limits;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use entity::enums::Role;
use entity::{app_user, login_attempt};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::{Value, json};
use tests::{Backend, TEST_JWT_SECRET, TEST_PASSWORD, TestApp, create_user, on_both_backends};

on_both_backends!(
    login_refresh_and_logout_work_and_a_reused_refresh_token_ends_the_session,
    forged_and_stale_tokens_are_refused,
    repeated_failures_lock_the_address_until_they_are_old,
    changing_the_password_ends_other_sessions,
    service_accounts_use_client_credentials_only,
);

const LOGIN: &str = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken refreshToken tokenType expiresIn account { username role } } }";
const REFRESH: &str =
    "mutation($t: String!) { refresh(refreshToken: $t) { accessToken refreshToken } }";
const ME: &str = "{ me { username role } }";

async fn login(app: &TestApp, username: &str, password: &str) -> Value {
    app.graphql_as(None, LOGIN, json!({ "u": username, "p": password }))
        .await
}

/// Sends a request with an Authorization header and returns status and body.
async fn with_token(app: &TestApp, token: &str) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": ME }))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

async fn login_refresh_and_logout_work_and_a_reused_refresh_token_ends_the_session(
    backend: Backend,
) {
    let app = TestApp::spawn(&backend).await;
    create_user(&app.db, "li", Role::Auditor, None, None).await;
    let body = login(&app, "li", TEST_PASSWORD).await;
    let session = &body["data"]["login"];
    assert_eq!(session["tokenType"], "Bearer");
    assert_eq!(session["account"]["role"], "AUDITOR");
    assert_eq!(session["expiresIn"], 900);
    let access = session["accessToken"].as_str().expect("access token");
    let me = app.query_as(Some(access), ME, json!({})).await;
    assert_eq!(me["me"]["username"], "li");

    let first = session["refreshToken"]
        .as_str()
        .expect("refresh token")
        .to_owned();
    let rotated = app.query_as(None, REFRESH, json!({ "t": first })).await;
    let second = rotated["refresh"]["refreshToken"]
        .as_str()
        .expect("rotated")
        .to_owned();
    assert_ne!(first, second);
    // Presenting the first token again: refused, and the whole family ends.
    let rotated_access = rotated["refresh"]["accessToken"]
        .as_str()
        .expect("rotated access token")
        .to_owned();
    assert_eq!(with_token(&app, &rotated_access).await.0, 200);
    let reused = app.graphql_as(None, REFRESH, json!({ "t": first })).await;
    assert_eq!(TestApp::error_codes(&reused), ["UNAUTHENTICATED"]);
    // Access tokens of the family end with it, before they expire.
    assert_eq!(with_token(&app, access).await.0, 401, "the login's token");
    assert_eq!(
        with_token(&app, &rotated_access).await.0,
        401,
        "the rotated token"
    );
    let after = app.graphql_as(None, REFRESH, json!({ "t": second })).await;
    assert_eq!(
        TestApp::error_codes(&after),
        ["UNAUTHENTICATED"],
        "the rotated token died with its family"
    );

    // Logout ends a session.
    let body = login(&app, "li", TEST_PASSWORD).await;
    let token = body["data"]["login"]["refreshToken"]
        .as_str()
        .expect("refresh token")
        .to_owned();
    let access = body["data"]["login"]["accessToken"]
        .as_str()
        .expect("access token")
        .to_owned();
    assert_eq!(with_token(&app, &access).await.0, 200);
    let out = app
        .query_as(
            None,
            "mutation($t: String!) { logout(refreshToken: $t) }",
            json!({ "t": token }),
        )
        .await;
    assert_eq!(out["logout"], true);
    let refused = app.graphql_as(None, REFRESH, json!({ "t": token })).await;
    assert_eq!(TestApp::error_codes(&refused), ["UNAUTHENTICATED"]);
    assert_eq!(
        with_token(&app, &access).await.0,
        401,
        "logout ends the access token too"
    );

    // Every attempt is recorded.
    let attempts = entity::login_attempt::Entity::find()
        .all(&app.db)
        .await
        .expect("attempts");
    assert_eq!(attempts.iter().filter(|a| a.succeeded).count(), 2);
    let wrong = login(&app, "li", "not the password").await;
    assert_eq!(TestApp::error_codes(&wrong), ["UNAUTHENTICATED"]);
    let nobody = login(&app, "nobody", "whatever it is").await;
    assert_eq!(TestApp::error_codes(&nobody), ["UNAUTHENTICATED"]);
    let attempts = entity::login_attempt::Entity::find()
        .all(&app.db)
        .await
        .expect("attempts");
    assert_eq!(attempts.len(), 4);
    assert!(
        attempts
            .iter()
            .any(|a| a.username == "nobody" && !a.succeeded && a.user_id.is_none())
    );
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    sub: String,
    role: &'a str,
    tv: i32,
    iss: &'a str,
    aud: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
}

fn sign(claims: &Claims<'_>, algorithm: Algorithm, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("sign")
}

async fn forged_and_stale_tokens_are_refused(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let user = create_user(&app.db, "wang", Role::CountyAdmin, None, None).await;
    let now = Utc::now().timestamp();
    let good = || Claims {
        sub: user.id.to_string(),
        role: "county_admin",
        tv: 1,
        iss: "fupin",
        aud: "fupin-api",
        iat: now,
        nbf: now,
        exp: now + 600,
    };
    let valid = sign(&good(), Algorithm::HS256, TEST_JWT_SECRET);
    let (status, body) = with_token(&app, &valid).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["username"], "wang");

    let header_none = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&good()).expect("JSON"));
    let (head, _) = valid.split_once('.').expect("a JWT");
    let mut tampered_claims = serde_json::to_value(good()).expect("JSON");
    tampered_claims["sub"] = json!(1);
    let tampered_payload =
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&tampered_claims).expect("JSON"));
    let signature = valid.rsplit_once('.').expect("a JWT").1;
    let forged = [
        ("alg none", format!("{header_none}.{payload}.")),
        (
            "another HMAC algorithm",
            sign(&good(), Algorithm::HS512, TEST_JWT_SECRET),
        ),
        (
            "a wrong secret",
            sign(
                &good(),
                Algorithm::HS256,
                b"another-secret-that-is-long-enough-too!",
            ),
        ),
        (
            "a tampered payload",
            format!("{head}.{tampered_payload}.{signature}"),
        ),
        (
            "expired",
            sign(
                &Claims {
                    exp: now - 3600,
                    iat: now - 4000,
                    nbf: now - 4000,
                    ..good()
                },
                Algorithm::HS256,
                TEST_JWT_SECRET,
            ),
        ),
        (
            "not yet valid",
            sign(
                &Claims {
                    nbf: now + 3600,
                    ..good()
                },
                Algorithm::HS256,
                TEST_JWT_SECRET,
            ),
        ),
        (
            "a wrong issuer",
            sign(
                &Claims {
                    iss: "someone-else",
                    ..good()
                },
                Algorithm::HS256,
                TEST_JWT_SECRET,
            ),
        ),
        (
            "a wrong audience",
            sign(
                &Claims {
                    aud: "another-api",
                    ..good()
                },
                Algorithm::HS256,
                TEST_JWT_SECRET,
            ),
        ),
        (
            "a stale token version",
            sign(
                &Claims { tv: 0, ..good() },
                Algorithm::HS256,
                TEST_JWT_SECRET,
            ),
        ),
        (
            "a claimed role the user lacks",
            sign(
                &Claims {
                    role: "auditor",
                    ..good()
                },
                Algorithm::HS256,
                TEST_JWT_SECRET,
            ),
        ),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (what, token) in forged {
        let (status, body) = with_token(&app, &token).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(TestApp::error_codes(&body), ["UNAUTHENTICATED"], "{what}");
    }
    // An Authorization header that is not a bearer token is refused, not ignored.
    let basic = app
        .client
        .post(app.url("/graphql"))
        .header("authorization", "Basic d2FuZzpwYXNz")
        .json(&json!({ "query": ME }))
        .send()
        .await
        .expect("request");
    assert_eq!(basic.status(), 401);

    // A revoked user (token version raised) and a disabled user.
    let mut row = user.clone().into_active_model();
    row.token_version = Set(2);
    row.update(&app.db).await.expect("revoke");
    assert_eq!(
        with_token(&app, &valid).await.0,
        401,
        "revoked by token version"
    );
    let fresh = sign(
        &Claims { tv: 2, ..good() },
        Algorithm::HS256,
        TEST_JWT_SECRET,
    );
    assert_eq!(with_token(&app, &fresh).await.0, 200);
    let mut row = app_user::Entity::find_by_id(user.id)
        .one(&app.db)
        .await
        .expect("q")
        .expect("user")
        .into_active_model();
    row.is_active = Set(false);
    row.update(&app.db).await.expect("disable");
    assert_eq!(with_token(&app, &fresh).await.0, 401, "disabled");
}

async fn repeated_failures_lock_the_address_until_they_are_old(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    create_user(&app.db, "zhao", Role::Auditor, None, None).await;
    let limits = Limits::default().logins;
    for _ in 0..limits.login_lock_after {
        let body = login(&app, "zhao", "a wrong password").await;
        assert_eq!(TestApp::error_codes(&body), ["UNAUTHENTICATED"]);
    }
    // Locked for this address: even the right password is refused.
    let locked = login(&app, "zhao", TEST_PASSWORD).await;
    assert_eq!(TestApp::error_codes(&locked), ["UNAUTHENTICATED"]);
    // Once the failures are older than the window, the right password works again.
    let window = chrono::Duration::seconds(limits.login_window_secs as i64 + 1);
    login_attempt::Entity::update_many()
        .col_expr(login_attempt::Column::At, Expr::value(Utc::now() - window))
        .filter(login_attempt::Column::Username.eq("zhao"))
        .exec(&app.db)
        .await
        .expect("age the failures");
    let body = login(&app, "zhao", TEST_PASSWORD).await;
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");
}

async fn changing_the_password_ends_other_sessions(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    create_user(&app.db, "sun", Role::CountyAdmin, None, None).await;
    let first = login(&app, "sun", TEST_PASSWORD).await;
    let old_access = first["data"]["login"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let old_refresh = first["data"]["login"]["refreshToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }";
    let wrong = app
        .graphql_as(
            Some(&old_access),
            change,
            json!({ "c": "not it at all", "n": "a brand new password" }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&wrong), ["BAD_USER_INPUT"]);
    let short = app
        .graphql_as(
            Some(&old_access),
            change,
            json!({ "c": TEST_PASSWORD, "n": "short" }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&short), ["BAD_USER_INPUT"]);
    let changed = app
        .query_as(
            Some(&old_access),
            change,
            json!({ "c": TEST_PASSWORD, "n": "a brand new password" }),
        )
        .await;
    let new_access = changed["changePassword"]["accessToken"]
        .as_str()
        .expect("token");
    assert_eq!(with_token(&app, &old_access).await.0, 401);
    assert_eq!(with_token(&app, new_access).await.0, 200);
    let refused = app
        .graphql_as(None, REFRESH, json!({ "t": old_refresh }))
        .await;
    assert_eq!(TestApp::error_codes(&refused), ["UNAUTHENTICATED"]);
    assert_eq!(
        TestApp::error_codes(&login(&app, "sun", TEST_PASSWORD).await),
        ["UNAUTHENTICATED"]
    );
    let anonymous = app
        .graphql_as(None, change, json!({ "c": "a", "n": "b" }))
        .await;
    assert_eq!(TestApp::error_codes(&anonymous), ["UNAUTHENTICATED"]);
}

async fn service_accounts_use_client_credentials_only(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    create_user(
        &app.db,
        "province-registry",
        Role::ProvincialSystem,
        None,
        None,
    )
    .await;
    create_user(&app.db, "zhou", Role::Auditor, None, None).await;
    let credentials = "mutation($i: String!, $s: String!) { clientCredentials(clientId: $i, clientSecret: $s) { accessToken account { role } } }";
    let body = app
        .query_as(
            None,
            credentials,
            json!({ "i": "province-registry", "s": TEST_PASSWORD }),
        )
        .await;
    assert_eq!(
        body["clientCredentials"]["account"]["role"],
        "PROVINCIAL_SYSTEM"
    );
    // A service account cannot log in as a person, nor a person as a service.
    assert_eq!(
        TestApp::error_codes(&login(&app, "province-registry", TEST_PASSWORD).await),
        ["UNAUTHENTICATED"]
    );
    let person = app
        .graphql_as(
            None,
            credentials,
            json!({ "i": "zhou", "s": TEST_PASSWORD }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&person), ["UNAUTHENTICATED"]);
}
