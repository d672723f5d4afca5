//! Tokens of the province's identity provider: accepted when their issuer is
//! configured with its public key, their claims mapped onto a role and scope.

use std::path::Path;

use api::auth::ExternalIssuer;
use api::config::Limits;
use chrono::Utc;
use entity::enums::RegionLevel;
use entity::household;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{Backend, TestApp, first_region, on_both_backends, test_auth};

on_both_backends!(
    provincial_tokens_map_onto_roles_and_scopes,
    forged_provincial_tokens_are_refused
);

const RSA_ISSUER: &str = "https://idp.province.example";
const EC_ISSUER: &str = "https://ec.province.example";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name),
    )
    .expect("fixture")
}

async fn spawn(backend: &Backend) -> TestApp {
    let issuers = ExternalIssuer::load_all(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/issuers.json"),
    )
    .expect("issuers");
    let app = TestApp::spawn_with_auth(
        backend,
        Limits::default(),
        test_auth().with_external(issuers),
    )
    .await;
    app.seed(200, 5).await;
    app
}

fn claims(issuer: &str, role_claim: &str, role: &str, extra: Value) -> Value {
    let now = Utc::now().timestamp();
    let mut claims = json!({ "iss": issuer, "aud": "fupin-api", "sub": "zhang.san", "iat": now, "exp": now + 600 });
    claims[role_claim] = json!(role);
    if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
        claims.extend(extra.clone());
    }
    claims
}

fn rsa(claims: &Value) -> String {
    let key = EncodingKey::from_rsa_pem(&fixture("province-rsa.key")).expect("RSA key");
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &key).expect("sign")
}

fn ec(claims: &Value) -> String {
    let key = EncodingKey::from_ec_pem(&fixture("province-ec.key")).expect("EC key");
    jsonwebtoken::encode(&Header::new(Algorithm::ES256), claims, &key).expect("sign")
}

async fn status_and_body(app: &TestApp, token: &str, query: &str) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("request");
    (
        response.status().as_u16(),
        response.json().await.expect("JSON"),
    )
}

const WHO: &str = "{ me { username role } households { totalCount } }";

async fn provincial_tokens_map_onto_roles_and_scopes(backend: Backend) {
    let app = spawn(&backend).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let in_village = household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .count(&app.db)
        .await
        .expect("count");

    let cadre = rsa(&claims(
        RSA_ISSUER,
        "fupin_role",
        "cun_ganbu",
        json!({ "division_code": village.code }),
    ));
    let data = app.query_as(Some(&cadre), WHO, json!({})).await;
    assert_eq!(data["me"]["role"], "VILLAGE_CADRE");
    assert!(
        data["me"]["username"]
            .as_str()
            .expect("username")
            .starts_with("ext:")
    );
    assert_eq!(data["households"]["totalCount"], in_village);

    let admin = rsa(&claims(RSA_ISSUER, "fupin_role", "fpb_admin", json!({})));
    let data = app.query_as(Some(&admin), WHO, json!({})).await;
    assert_eq!(
        data["me"]["role"], "COUNTY_ADMIN",
        "the same person, promoted by the provider"
    );
    assert_eq!(data["households"]["totalCount"], 200);

    let auditor = ec(&claims(
        EC_ISSUER,
        "role",
        "auditor",
        json!({ "sub": "audit-office" }),
    ));
    let data = app.query_as(Some(&auditor), WHO, json!({})).await;
    assert_eq!(data["me"]["role"], "AUDITOR");

    // The county office can disable such an account like any other.
    let username = data["me"]["username"]
        .as_str()
        .expect("username")
        .to_owned();
    app.query(
        "mutation($u: String!) { disableUser(username: $u) { isActive } }",
        json!({ "u": username }),
    )
    .await;
    assert_eq!(status_and_body(&app, &auditor, WHO).await.0, 401);
}

async fn forged_provincial_tokens_are_refused(backend: Backend) {
    let app = spawn(&backend).await;
    let good = claims(RSA_ISSUER, "fupin_role", "fpb_admin", json!({}));
    // HS256 signed with the provider's public key: the classic algorithm confusion.
    let confused = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &good,
        &EncodingKey::from_secret(&fixture("province-rsa.pub")),
    )
    .expect("sign");
    let mut wrong_issuer = good.clone();
    wrong_issuer["iss"] = json!("https://elsewhere.example");
    let mut expired = good.clone();
    expired["exp"] = json!(Utc::now().timestamp() - 3600);
    let mut wrong_audience = good.clone();
    wrong_audience["aud"] = json!("another-api");
    let cases = [
        ("algorithm confusion", confused),
        ("RSA claims signed by the EC key", ec(&good)),
        ("a wrong issuer", rsa(&wrong_issuer)),
        ("expired", rsa(&expired)),
        ("a wrong audience", rsa(&wrong_audience)),
        (
            "an unknown role",
            rsa(&claims(RSA_ISSUER, "fupin_role", "emperor", json!({}))),
        ),
        (
            "a village cadre without a village",
            rsa(&claims(RSA_ISSUER, "fupin_role", "cun_ganbu", json!({}))),
        ),
    ];
    for (what, token) in cases {
        let (status, body) = status_and_body(&app, &token, WHO).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(TestApp::error_codes(&body), ["UNAUTHENTICATED"], "{what}");
    }
}
