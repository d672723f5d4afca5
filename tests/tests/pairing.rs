//! Pairing assistance: a helper cadre sees exactly the households paired with
//! them, for as long as the pairing lasts; every pairing change is audited.

use entity::enums::{RegionLevel, Role};
use entity::household;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use tests::{Backend, TestApp, first_region, global_id, on_both_backends};

on_both_backends!(a_helper_cadre_sees_exactly_the_paired_households);

const PAIR: &str = "mutation($u: String!, $h: ID!) { pairHelper(helperUsername: $u, householdId: $h, unit: \"县农业农村局\") { unit startedOn endedOn helper { username } household { number } } }";
const END: &str = "mutation($u: String!, $h: ID!) { endPairing(helperUsername: $u, householdId: $h) { endedOn } }";
const MINE: &str =
    "{ households(first: 50) { totalCount nodes { number members { idNumber health } } } }";

async fn a_helper_cadre_sees_exactly_the_paired_households(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 200).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let homes = household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .order_by_asc(household::Column::Id)
        .all(&app.db)
        .await
        .expect("households");
    let elsewhere = household::Entity::find()
        .filter(household::Column::VillageId.ne(village.id))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household elsewhere");
    let (helper, helper_token) = app.user_for(Role::HelperCadre).await;
    let (cadre, cadre_token) = app.user_for(Role::VillageCadre).await;

    let before = app.query_as(Some(&helper_token), MINE, json!({})).await;
    assert_eq!(before["households"]["totalCount"], 0);

    let vars = json!({ "u": helper.username, "h": global_id("Household", homes[0].id) });
    let paired = app.query_as(Some(&cadre_token), PAIR, vars.clone()).await;
    assert_eq!(
        paired["pairHelper"]["helper"]["username"],
        helper.username.as_str()
    );
    assert_eq!(
        paired["pairHelper"]["household"]["number"],
        homes[0].number.as_str()
    );
    assert!(paired["pairHelper"]["endedOn"].is_null());
    let again = app.graphql_as(Some(&cadre_token), PAIR, vars.clone()).await;
    assert_eq!(TestApp::error_codes(&again), ["CONFLICT"]);
    let outside = app
        .graphql_as(
            Some(&cadre_token),
            PAIR,
            json!({ "u": helper.username, "h": global_id("Household", elsewhere.id) }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&outside), ["NOT_FOUND"]);
    let not_a_helper = app
        .graphql_as(
            Some(&cadre_token),
            PAIR,
            json!({ "u": cadre.username, "h": global_id("Household", homes[1].id) }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&not_a_helper), ["BAD_USER_INPUT"]);
    let refused = app
        .graphql_as(Some(&helper_token), PAIR, vars.clone())
        .await;
    assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"]);

    // Now the helper sees that household, and only it, under their field rules.
    let body = app.graphql_as(Some(&helper_token), MINE, json!({})).await;
    assert_eq!(body["data"]["households"]["totalCount"], 1);
    assert_eq!(
        body["data"]["households"]["nodes"][0]["number"],
        homes[0].number.as_str()
    );
    let members = body["data"]["households"]["nodes"][0]["members"]
        .as_array()
        .expect("members");
    assert!(
        members
            .iter()
            .all(|m| m["idNumber"].as_str().is_some_and(|id| id.contains("****")))
    );
    assert!(
        members.iter().all(|m| m["health"].is_null()),
        "helper cadres do not see health"
    );
    let other = app
        .graphql_as(
            Some(&helper_token),
            "query($h: ID!) { household(id: $h) { number } }",
            json!({ "h": global_id("Household", homes[1].id) }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&other), ["NOT_FOUND"]);
    let listed = app
        .query_as(
            Some(&cadre_token),
            "query($h: ID!) { household(id: $h) { pairings { helper { username } unit } } }",
            json!({ "h": global_id("Household", homes[0].id) }),
        )
        .await;
    assert_eq!(
        listed["household"]["pairings"][0]["helper"]["username"],
        helper.username.as_str()
    );

    // Ending the pairing ends the access; both changes are in the trail.
    let ended = app.query_as(Some(&cadre_token), END, vars.clone()).await;
    assert!(ended["endPairing"]["endedOn"].is_string());
    let after = app.query_as(Some(&helper_token), MINE, json!({})).await;
    assert_eq!(after["households"]["totalCount"], 0);
    let trail = app
        .query("query($a: String) { auditEntries(filter: { entityType: \"Pairing\", actor: $a }) { nodes { action } } }", json!({ "a": cadre.username }))
        .await;
    let actions: Vec<&str> = trail["auditEntries"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["pairing.end", "pairing.create"]);
}
