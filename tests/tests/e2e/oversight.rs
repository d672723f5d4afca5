//! Revealing a masked value is possible with a purpose and always recorded;
//! the county office manages users.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::enums::{RegionLevel, Role};
use entity::{household, member};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use tests::{Backend, TestApp, first_region, global_id, on_both_backends, regions};

on_both_backends!(
    a_masked_value_is_revealed_for_a_purpose_and_the_reveal_is_recorded,
    only_the_county_office_manages_users,
);

const REVEAL: &str =
    "mutation($id: ID!, $f: String!, $p: String!) { reveal(id: $id, field: $f, purpose: $p) }";

async fn a_masked_value_is_revealed_for_a_purpose_and_the_reveal_is_recorded(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 200).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let home = household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .order_by_asc(household::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household");
    let person = member::Entity::find()
        .filter(member::Column::HouseholdId.eq(home.id))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a member");
    let elsewhere = regions(&app.db, RegionLevel::Village)
        .await
        .pop()
        .expect("another village");
    let stranger_home = household::Entity::find()
        .filter(household::Column::VillageId.eq(elsewhere.id))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household elsewhere");
    let stranger = member::Entity::find()
        .filter(member::Column::HouseholdId.eq(stranger_home.id))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a member elsewhere");

    let cadre = app.token_for(Role::VillageCadre).await;
    let id = global_id("Member", person.id);
    let shown = app
        .query_as(
            Some(&cadre),
            REVEAL,
            json!({ "id": id, "f": "idNumber", "p": "medical insurance claim" }),
        )
        .await;
    assert_eq!(shown["reveal"], person.id_number.as_str());

    let refusals = [
        (
            json!({ "id": id, "f": "idNumber", "p": "  " }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "id": id, "f": "health", "p": "curiosity only" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "id": global_id("Member", stranger.id), "f": "idNumber", "p": "checking a neighbour" }),
            "NOT_FOUND",
        ),
    ];
    for (variables, code) in refusals {
        let body = app
            .graphql_as(Some(&cadre), REVEAL, variables.clone())
            .await;
        assert_eq!(TestApp::error_codes(&body), [code], "{variables}");
    }
    let enterprise = app.token_for(Role::Enterprise).await;
    let body = app
        .graphql_as(
            Some(&enterprise),
            REVEAL,
            json!({ "id": id, "f": "idNumber", "p": "hiring" }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"]);
    let body = app
        .graphql_as(
            None,
            REVEAL,
            json!({ "id": id, "f": "idNumber", "p": "hiring" }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&body), ["UNAUTHENTICATED"]);

    // Exactly one reveal happened, and the county office and auditors can see it.
    let list =
        "{ reveals { totalCount nodes { reader { username role } targetId field purpose at } } }";
    for token in [app.admin_token.clone(), app.token_for(Role::Auditor).await] {
        let data = app.query_as(Some(&token), list, json!({})).await;
        assert_eq!(data["reveals"]["totalCount"], 1);
        let record = &data["reveals"]["nodes"][0];
        assert_eq!(record["reader"]["role"], "VILLAGE_CADRE");
        assert_eq!(record["targetId"], id.as_str());
        assert_eq!(record["field"], "idNumber");
        assert_eq!(record["purpose"], "medical insurance claim");
    }
    let body = app.graphql_as(Some(&cadre), list, json!({})).await;
    assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"]);
}

async fn only_the_county_office_manages_users(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 50).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let create =
        "mutation($i: CreateUserInput!) { createUser(input: $i) { username role region { id } } }";
    let input = json!({ "username": "cadre-liu", "password": "a long enough password", "role": "VILLAGE_CADRE", "regionCode": village.code });
    let cadre = app.token_for(Role::VillageCadre).await;
    let refused = app
        .graphql_as(Some(&cadre), create, json!({ "i": input }))
        .await;
    assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"]);

    let created = app.query(create, json!({ "i": input })).await;
    assert_eq!(created["createUser"]["role"], "VILLAGE_CADRE");
    assert_eq!(
        created["createUser"]["region"]["id"],
        global_id("Village", village.id).as_str()
    );
    let again = app.graphql(create, json!({ "i": input })).await;
    assert_eq!(TestApp::error_codes(&again), ["CONFLICT"]);
    let unscoped = json!({ "username": "x", "password": "a long enough password", "role": "TOWNSHIP_OFFICER" });
    assert_eq!(
        TestApp::error_codes(&app.graphql(create, json!({ "i": unscoped })).await),
        ["BAD_USER_INPUT"]
    );

    let login =
        "mutation($p: String!) { login(username: \"cadre-liu\", password: $p) { accessToken } }";
    let token = app
        .query_as(None, login, json!({ "p": "a long enough password" }))
        .await["login"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let me = app
        .query_as(Some(&token), "{ me { username } }", json!({}))
        .await;
    assert_eq!(me["me"]["username"], "cadre-liu");
    // The token states the role and scope, for clients to read.
    let payload = token.split('.').nth(1).expect("a JWT");
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("JSON");
    assert_eq!(claims["role"], "village_cadre");
    assert_eq!(claims["scope"], village.code.as_str());
    assert_eq!(claims["iss"], "fupin");
    assert_eq!(claims["aud"], "fupin-api");
    let lifetime = claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat");
    assert_eq!(lifetime, 900);

    let reset = "mutation { resetUserPassword(username: \"cadre-liu\", newPassword: \"another long password\") { username } }";
    app.query(reset, json!({})).await;
    let old = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ me { username } }" }))
        .send()
        .await
        .expect("request");
    assert_eq!(old.status(), 401, "a reset ends the user's sessions");
    app.query_as(None, login, json!({ "p": "another long password" }))
        .await;

    let disable = "mutation { disableUser(username: \"cadre-liu\") { isActive } }";
    assert_eq!(
        app.query(disable, json!({})).await["disableUser"]["isActive"],
        false
    );
    let body = app
        .graphql_as(None, login, json!({ "p": "another long password" }))
        .await;
    assert_eq!(TestApp::error_codes(&body), ["UNAUTHENTICATED"]);

    let users = app
        .query(
            "{ users(first: 50) { totalCount nodes { username } } }",
            json!({}),
        )
        .await;
    assert!(
        users["users"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .any(|u| u["username"] == "cadre-liu")
    );
    let body = app
        .graphql_as(Some(&cadre), "{ users { totalCount } }", json!({}))
        .await;
    assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"]);
}
