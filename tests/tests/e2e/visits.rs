//! Visits: recorded offline and synced late, so a visit is created once per
//! idempotency key however often or concurrently it is sent; its input is
//! checked, and only those who reach the household see it.

use chrono::Days;
use entity::enums::{RegionLevel, Role};
use entity::{household, visit, visit_help};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tests::{Backend, TestApp, days_ago, first_region, global_id, on_both_backends};

on_both_backends!(
    a_retried_visit_is_recorded_once,
    concurrent_duplicates_record_one_visit,
    visit_input_is_checked_field_by_field,
    a_helper_cadre_sees_visits_only_of_paired_households,
);

const RECORD: &str = "mutation($input: RecordVisitInput!) { recordVisit(input: $input) {
    id visitedOn help notes latitude longitude photos visitor { username } household { number } } }";
const VISITS: &str = "query($h: ID!) { household(id: $h) { lastVisitedOn visits { id visitedOn help notes visitor { username } } } }";
const PAIR: &str = "mutation($u: String!, $h: ID!) { pairHelper(helperUsername: $u, householdId: $h) { startedOn } }";

fn visit_input(household: i64, key: &str) -> Value {
    json!({ "input": {
        "householdId": global_id("Household", household),
        "visitedOn": days_ago(3),
        "help": ["POLICY_EXPLAINED", "MATERIAL_HELP"],
        "notes": "宣讲医保政策，送米面油各一份",
        "latitude": 26.58,
        "longitude": 106.71,
        "photos": ["photos/2025/visit-1.jpg"],
        "idempotencyKey": key,
    } })
}

async fn homes_of_first_village(app: &TestApp) -> Vec<household::Model> {
    let village = first_region(&app.db, RegionLevel::Village).await;
    household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .order_by_asc(household::Column::Id)
        .all(&app.db)
        .await
        .expect("households")
}

async fn visits_of(app: &TestApp, household: i64) -> u64 {
    visit::Entity::find()
        .filter(visit::Column::HouseholdId.eq(household))
        .count(&app.db)
        .await
        .expect("count")
}

async fn a_retried_visit_is_recorded_once(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let homes = homes_of_first_village(&app).await;
    let (helper, token) = app.user_for(Role::HelperCadre).await;
    app.query(
        PAIR,
        json!({ "u": helper.username, "h": global_id("Household", homes[0].id) }),
    )
    .await;

    let vars = visit_input(homes[0].id, "visit-0001");
    let first = app.query_as(Some(&token), RECORD, vars.clone()).await["recordVisit"].clone();
    assert_eq!(first["visitor"]["username"], helper.username.as_str());
    assert_eq!(first["household"]["number"], homes[0].number.as_str());
    assert_eq!(first["help"], json!(["MATERIAL_HELP", "POLICY_EXPLAINED"]));
    assert_eq!(first["photos"], json!(["photos/2025/visit-1.jpg"]));
    assert_eq!(first["latitude"], 26.58);
    let retried = app.query_as(Some(&token), RECORD, vars.clone()).await;
    assert_eq!(retried["recordVisit"]["id"], first["id"]);
    assert_eq!(visits_of(&app, homes[0].id).await, 1);
    let helps = visit_help::Entity::find()
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(helps, 2, "one row per kind of help, not per request");

    // The same key for another visit is a mistake the client must see.
    let mut other = vars.clone();
    other["input"]["notes"] = json!("另一次走访");
    let body = app.graphql_as(Some(&token), RECORD, other).await;
    assert_eq!(TestApp::error_codes(&body), ["CONFLICT"]);
    assert_eq!(visits_of(&app, homes[0].id).await, 1);

    // A new key is a new visit; the household lists them latest day first.
    let mut earlier = visit_input(homes[0].id, "visit-0002");
    earlier["input"]["visitedOn"] = json!(days_ago(40));
    earlier["input"]["help"] = json!(["TRAINING"]);
    app.query_as(Some(&token), RECORD, earlier).await;
    let data = app
        .query_as(
            Some(&token),
            VISITS,
            json!({ "h": global_id("Household", homes[0].id) }),
        )
        .await;
    let shown = &data["household"];
    assert_eq!(shown["lastVisitedOn"], json!(days_ago(3)));
    let days: Vec<&Value> = shown["visits"]
        .as_array()
        .expect("visits")
        .iter()
        .map(|v| &v["visitedOn"])
        .collect();
    assert_eq!(days, [&json!(days_ago(3)), &json!(days_ago(40))]);
    assert_eq!(shown["visits"][1]["help"], json!(["TRAINING"]));

    let trail = app
        .query(
            "query($a: String) { auditEntries(filter: { entityType: \"Visit\", actor: $a }) { nodes { action } } }",
            json!({ "a": helper.username }),
        )
        .await;
    assert_eq!(
        trail["auditEntries"]["nodes"],
        json!([{ "action": "visit.create" }, { "action": "visit.create" }])
    );
}

async fn concurrent_duplicates_record_one_visit(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let homes = homes_of_first_village(&app).await;
    let token = app.token_for(Role::VillageCadre).await;
    let body = json!({ "query": RECORD, "variables": visit_input(homes[0].id, "offline-42") });
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let request = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&token)
            .json(&body);
        requests.spawn(async move {
            let response = request.send().await.expect("request");
            response.json::<Value>().await.expect("JSON")
        });
    }
    let mut ids = Vec::new();
    while let Some(answer) = requests.join_next().await {
        let answer = answer.expect("task");
        assert!(answer.get("errors").is_none(), "{answer}");
        ids.push(answer["data"]["recordVisit"]["id"].clone());
    }
    assert_eq!(ids.len(), 10);
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(visits_of(&app, homes[0].id).await, 1);
}

async fn visit_input_is_checked_field_by_field(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let homes = homes_of_first_village(&app).await;
    let token = app.token_for(Role::VillageCadre).await;
    let photos: Vec<String> = (0..21).map(|n| format!("photo-{n}.jpg")).collect();
    let cases = [
        (
            "visitedOn",
            json!(api::domain::calendar::today() + Days::new(1)),
        ),
        ("visitedOn", json!(days_ago(400))),
        ("help", json!([])),
        ("help", json!(["TRAINING", "TRAINING"])),
        ("notes", json!(" ")),
        ("latitude", json!(91.0)),
        ("photos", json!(photos)),
        ("photos", json!(["x".repeat(501)])),
    ];
    for (n, (field, value)) in cases.into_iter().enumerate() {
        let mut vars = visit_input(homes[0].id, &format!("bad-{n}"));
        vars["input"][field] = value;
        let body = app.graphql_as(Some(&token), RECORD, vars).await;
        assert_eq!(
            TestApp::error_codes(&body),
            ["BAD_USER_INPUT"],
            "{field}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let mut lone = visit_input(homes[0].id, "bad-lone");
    lone["input"]["longitude"] = Value::Null;
    let body = app.graphql_as(Some(&token), RECORD, lone).await;
    assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"]);
    assert_eq!(body["errors"][0]["extensions"]["field"], "longitude");
    assert_eq!(visits_of(&app, homes[0].id).await, 0);
    // A refused request leaves its key free for the corrected one.
    let fixed = app
        .query_as(Some(&token), RECORD, visit_input(homes[0].id, "bad-lone"))
        .await;
    assert!(fixed["recordVisit"]["id"].is_string());
}

async fn a_helper_cadre_sees_visits_only_of_paired_households(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let homes = homes_of_first_village(&app).await;
    let (helper, helper_token) = app.user_for(Role::HelperCadre).await;
    app.query(
        PAIR,
        json!({ "u": helper.username, "h": global_id("Household", homes[0].id) }),
    )
    .await;
    let cadre = app.token_for(Role::VillageCadre).await;
    let at_paired = app
        .query_as(Some(&cadre), RECORD, visit_input(homes[0].id, "c-1"))
        .await["recordVisit"]["id"]
        .clone();
    let elsewhere = app
        .query_as(Some(&cadre), RECORD, visit_input(homes[1].id, "c-2"))
        .await["recordVisit"]["id"]
        .clone();

    let data = app
        .query_as(
            Some(&helper_token),
            VISITS,
            json!({ "h": global_id("Household", homes[0].id) }),
        )
        .await;
    assert_eq!(data["household"]["visits"][0]["id"], at_paired);
    assert_eq!(
        data["household"]["visits"][0]["notes"],
        "宣讲医保政策，送米面油各一份"
    );
    for query in [
        "query($id: ID!) { node(id: $id) { ... on Visit { notes } } }",
        "query($id: ID!) { node(id: $id) { id } }",
    ] {
        let body = app
            .graphql_as(Some(&helper_token), query, json!({ "id": elsewhere }))
            .await;
        assert_eq!(TestApp::error_codes(&body), ["NOT_FOUND"], "{query}");
    }
    let body = app
        .graphql_as(
            Some(&helper_token),
            VISITS,
            json!({ "h": global_id("Household", homes[1].id) }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&body), ["NOT_FOUND"]);
    let body = app
        .graphql_as(Some(&helper_token), RECORD, visit_input(homes[1].id, "h-1"))
        .await;
    assert_eq!(TestApp::error_codes(&body), ["NOT_FOUND"]);
    let own = app
        .query_as(Some(&helper_token), RECORD, visit_input(homes[0].id, "h-2"))
        .await;
    assert_eq!(
        own["recordVisit"]["visitor"]["username"],
        helper.username.as_str()
    );
    let enterprise = app.token_for(Role::Enterprise).await;
    let body = app
        .graphql_as(Some(&enterprise), RECORD, visit_input(homes[0].id, "e-1"))
        .await;
    assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"]);
    // The village cadre who reaches both households sees both visits.
    let data = app
        .query_as(
            Some(&cadre),
            "query($a: ID!, $b: ID!) { a: node(id: $a) { ... on Visit { notes } } b: node(id: $b) { ... on Visit { notes } } }",
            json!({ "a": at_paired, "b": elsewhere }),
        )
        .await;
    assert!(data["a"]["notes"].is_string() && data["b"]["notes"].is_string());
}
