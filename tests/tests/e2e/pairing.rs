//! Pairing assistance: a helper cadre sees exactly the households paired with
//! them, for as long as the pairing lasts; helper units and village staff are
//! public by name, not by phone; every pairing change is audited.

use entity::enums::{RegionLevel, Role};
use entity::{helper_pairing, household};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::json;
use tests::{Backend, TestApp, first_region, global_id, on_both_backends};

on_both_backends!(
    a_helper_cadre_sees_exactly_the_paired_households,
    helper_units_are_paired_with_villages,
    a_village_has_one_serving_first_secretary,
);

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

    // Paired again under an idempotency key: the retry returns the same pairing.
    let keyed = "mutation($u: String!, $h: ID!) { pairHelper(helperUsername: $u, householdId: $h, idempotencyKey: \"pair-again\") { startedOn } }";
    app.query_as(Some(&cadre_token), keyed, vars.clone()).await;
    app.query_as(Some(&cadre_token), keyed, vars.clone()).await;
    let pairings = helper_pairing::Entity::find()
        .filter(helper_pairing::Column::HelperId.eq(helper.id))
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(pairings, 2, "the ended pairing and one new one");
}

const CREATE_UNIT: &str = "mutation($n: String!, $k: String) { createHelperUnit(name: $n, kind: COUNTY_DEPARTMENT, idempotencyKey: $k) { id name kind villages { id } } }";
const PAIR_UNIT: &str = "mutation($u: ID!, $v: ID!) { pairUnitWithVillage(unitId: $u, villageId: $v) { startedOn endedOn unit { name } village { name } } }";
const END_UNIT: &str =
    "mutation($u: ID!, $v: ID!) { endUnitPairing(unitId: $u, villageId: $v) { endedOn } }";
const VILLAGE_HELP: &str = "query($v: ID!) { village(id: $v) { helperUnits { name } firstSecretary { name } residentTeam { name role phone } } }";
const APPOINT: &str = "mutation($input: AppointVillageStaffInput!) { appointVillageStaff(input: $input) { id name role phone version unit { name } account { username } } }";
const END_STAFF: &str =
    "mutation($id: ID!, $v: Int!) { endVillageStaff(id: $id, version: $v) { endedOn version } }";

async fn audit_actions(app: &TestApp, entity_type: &str) -> Vec<String> {
    let data = app
        .query(
            "query($t: String) { auditEntries(first: 50, filter: { entityType: $t }) { nodes { action } } }",
            json!({ "t": entity_type }),
        )
        .await;
    data["auditEntries"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|e| e["action"].as_str().expect("action").to_owned())
        .collect()
}

async fn helper_units_are_paired_with_villages(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let township = first_region(&app.db, RegionLevel::Township).await;
    let villages = tests::regions(&app.db, RegionLevel::Village).await;
    let mine = villages
        .iter()
        .find(|v| v.parent_id == Some(township.id))
        .expect("a village of the first township");
    let other = villages
        .iter()
        .find(|v| v.parent_id != Some(township.id))
        .expect("a village of another township");
    let vars = json!({ "n": "县农业农村局", "k": "unit-1" });
    let unit = app.query(CREATE_UNIT, vars.clone()).await["createHelperUnit"].clone();
    assert_eq!(unit["kind"], "COUNTY_DEPARTMENT");
    let retried = app.query(CREATE_UNIT, vars).await;
    assert_eq!(retried["createHelperUnit"]["id"], unit["id"]);
    let duplicate = app
        .graphql(CREATE_UNIT, json!({ "n": "县农业农村局" }))
        .await;
    assert_eq!(TestApp::error_codes(&duplicate), ["CONFLICT"]);
    let officer = app.token_for(Role::TownshipOfficer).await;
    let refused = app
        .graphql_as(Some(&officer), CREATE_UNIT, json!({ "n": "县水务局" }))
        .await;
    assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"]);

    // A township officer pairs units with villages of their township only.
    let here = json!({ "u": unit["id"], "v": global_id("Village", mine.id) });
    let paired = app.query_as(Some(&officer), PAIR_UNIT, here.clone()).await;
    assert_eq!(
        paired["pairUnitWithVillage"]["unit"]["name"],
        "县农业农村局"
    );
    assert!(paired["pairUnitWithVillage"]["endedOn"].is_null());
    let twice = app
        .graphql_as(Some(&officer), PAIR_UNIT, here.clone())
        .await;
    assert_eq!(TestApp::error_codes(&twice), ["CONFLICT"]);
    let there = json!({ "u": unit["id"], "v": global_id("Village", other.id) });
    let outside = app
        .graphql_as(Some(&officer), PAIR_UNIT, there.clone())
        .await;
    assert_eq!(TestApp::error_codes(&outside), ["FORBIDDEN"]);
    let cadre = app.token_for(Role::VillageCadre).await;
    let refused = app.graphql_as(Some(&cadre), PAIR_UNIT, here.clone()).await;
    assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"]);
    app.query(PAIR_UNIT, there).await;

    // The public sees who helps a village.
    let shown = app
        .query_as(
            None,
            VILLAGE_HELP,
            json!({ "v": global_id("Village", mine.id) }),
        )
        .await;
    assert_eq!(
        shown["village"]["helperUnits"],
        json!([{ "name": "县农业农村局" }])
    );
    let listed = app
        .query_as(
            None,
            "{ helperUnits(first: 10) { totalCount nodes { name villages { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["helperUnits"]["totalCount"], 1);
    assert_eq!(
        listed["helperUnits"]["nodes"][0]["villages"]
            .as_array()
            .expect("villages")
            .len(),
        2
    );

    let ended = app.query_as(Some(&officer), END_UNIT, here.clone()).await;
    assert!(ended["endUnitPairing"]["endedOn"].is_string());
    let shown = app
        .query_as(
            None,
            VILLAGE_HELP,
            json!({ "v": global_id("Village", mine.id) }),
        )
        .await;
    assert_eq!(shown["village"]["helperUnits"], json!([]));
    let again = app.graphql_as(Some(&officer), END_UNIT, here).await;
    assert_eq!(TestApp::error_codes(&again), ["NOT_FOUND"]);
    assert_eq!(
        audit_actions(&app, "HelperUnit").await,
        ["helper_unit.create"]
    );
    assert_eq!(
        audit_actions(&app, "UnitPairing").await,
        [
            "unit_pairing.end",
            "unit_pairing.create",
            "unit_pairing.create"
        ]
    );
}

async fn a_village_has_one_serving_first_secretary(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let village_id = global_id("Village", village.id);
    let unit =
        app.query(CREATE_UNIT, json!({ "n": "省交通运输厅" })).await["createHelperUnit"]["id"]
            .clone();
    let (account, _) = app.user_for(Role::VillageCadre).await;
    let officer = app.token_for(Role::TownshipOfficer).await;
    let appoint = |name: &str, role: &str, phone: &str, key: Option<&str>| {
        json!({ "input": {
            "villageId": village_id, "role": role, "name": name, "phone": phone,
            "unitId": unit, "idempotencyKey": key,
        } })
    };
    let first = app
        .query_as(
            Some(&officer),
            APPOINT,
            appoint("李明", "FIRST_SECRETARY", "13812345678", Some("staff-1")),
        )
        .await["appointVillageStaff"]
        .clone();
    assert_eq!(first["unit"]["name"], "省交通运输厅");
    assert_eq!(
        first["phone"], "138****5678",
        "the township sees phones masked"
    );
    let retried = app
        .query_as(
            Some(&officer),
            APPOINT,
            appoint("李明", "FIRST_SECRETARY", "13812345678", Some("staff-1")),
        )
        .await;
    assert_eq!(retried["appointVillageStaff"]["id"], first["id"]);
    let second = app
        .graphql_as(
            Some(&officer),
            APPOINT,
            appoint("赵强", "FIRST_SECRETARY", "13900001111", None),
        )
        .await;
    assert_eq!(TestApp::error_codes(&second), ["CONFLICT"]);
    let message = second["errors"][0]["message"].as_str().expect("message");
    assert!(message.contains("first secretary"), "{message}");
    let mut member = appoint("王芳", "TEAM_MEMBER", "0851-8888-1234", None);
    member["input"]["username"] = json!(account.username);
    let member = app.query(APPOINT, member).await["appointVillageStaff"].clone();
    assert_eq!(member["account"]["username"], account.username.as_str());
    let bad_phone = app
        .graphql(APPOINT, appoint("张三", "TEAM_MEMBER", "call me", None))
        .await;
    assert_eq!(TestApp::error_codes(&bad_phone), ["BAD_USER_INPUT"]);
    assert_eq!(bad_phone["errors"][0]["extensions"]["field"], "phone");

    // The public sees the names on the village board, never the phones.
    let vars = json!({ "v": village_id });
    let body = app
        .graphql_as(
            None,
            "query($v: ID!) { village(id: $v) { firstSecretary { name } residentTeam { name role } } }",
            vars.clone(),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["village"]["firstSecretary"]["name"], "李明");
    assert_eq!(
        body["data"]["village"]["residentTeam"],
        json!([{ "name": "李明", "role": "FIRST_SECRETARY" }, { "name": "王芳", "role": "TEAM_MEMBER" }])
    );
    let body = app.graphql_as(None, VILLAGE_HELP, vars.clone()).await;
    let team = body["data"]["village"]["residentTeam"]
        .as_array()
        .expect("team");
    assert!(
        team.iter()
            .all(|s| s["phone"].is_null() && s["name"].is_string())
    );
    assert!(
        TestApp::error_codes(&body)
            .iter()
            .all(|c| c == "UNAUTHENTICATED")
    );
    let enterprise = app.token_for(Role::Enterprise).await;
    let body = app
        .graphql_as(Some(&enterprise), VILLAGE_HELP, vars.clone())
        .await;
    assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN", "FORBIDDEN"]);
    let data = app.query(VILLAGE_HELP, vars.clone()).await;
    assert_eq!(data["village"]["residentTeam"][0]["phone"], "13812345678");

    // Ending the posting goes by version; then another can be appointed.
    let stale = app
        .graphql_as(
            Some(&officer),
            END_STAFF,
            json!({ "id": first["id"], "v": 0 }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"]);
    let current = &stale["errors"][0]["extensions"]["current"];
    assert_eq!(current["phone"], "138****5678");
    assert_eq!(current["id"], first["id"]);
    assert_eq!(current["village"], village_id.as_str());
    assert_eq!(current["unit"], unit);
    let ended = app
        .query_as(
            Some(&officer),
            END_STAFF,
            json!({ "id": first["id"], "v": 1 }),
        )
        .await;
    assert_eq!(ended["endVillageStaff"]["version"], 2);
    let next = app
        .query_as(
            Some(&officer),
            APPOINT,
            appoint("赵强", "FIRST_SECRETARY", "13900001111", None),
        )
        .await;
    assert_eq!(next["appointVillageStaff"]["name"], "赵强");
    let data = app.query_as(None, VILLAGE_HELP_PUBLIC, vars).await;
    assert_eq!(data["village"]["firstSecretary"]["name"], "赵强");
    assert_eq!(
        audit_actions(&app, "VillageStaff").await,
        [
            "village_staff.appoint",
            "village_staff.end",
            "village_staff.appoint",
            "village_staff.appoint"
        ]
    );
}

const VILLAGE_HELP_PUBLIC: &str =
    "query($v: ID!) { village(id: $v) { firstSecretary { name } residentTeam { name } } }";
