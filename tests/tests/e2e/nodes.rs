//! Every object a list shows is a `Node`: `node(id:)` and `nodes(ids:)` fetch
//! it by its global ID for exactly those who may list it.

use entity::enums::{RegionLevel, Role};
use entity::{household, member, region};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tests::{Backend, TestApp, error_field, first_region, global_id, on_both_backends, raw_id};

on_both_backends!(
    accounts_audit_entries_and_reveals_are_fetched_by_those_who_list_them,
    nodes_answers_each_id_as_node_would_and_null_where_it_finds_nothing,
    nodes_is_bounded_and_costs_a_page,
);

const REVEAL: &str = "mutation($id: ID!) { reveal(id: $id, field: \"idNumber\", purpose: \"medical insurance claim\") }";
const LISTS: &str = "{ reveals(first: 1) { nodes { id purpose } }
    auditEntries(first: 1) { nodes { id sequence action } }
    users(first: 100) { nodes { id username role } } }";
const BY_ID: &str = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
    ... on Reveal { purpose } ... on AuditEntry { sequence } ... on Account { username } } }";
const ONE: &str = "query($id: ID!) { node(id: $id) { __typename id } }";

/// A member of the first village's first household.
async fn member_of_first_village(app: &TestApp) -> member::Model {
    let village = first_region(&app.db, RegionLevel::Village).await;
    let home = household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .order_by_asc(household::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household");
    member::Entity::find()
        .filter(member::Column::HouseholdId.eq(home.id))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a member")
}

async fn accounts_audit_entries_and_reveals_are_fetched_by_those_who_list_them(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let person = member_of_first_village(&app).await;
    let (cadre_user, cadre) = app.user_for(Role::VillageCadre).await;
    app.query_as(
        Some(&cadre),
        REVEAL,
        json!({ "id": global_id("Member", person.id) }),
    )
    .await;

    let lists = app.query(LISTS, json!({})).await;
    let reveal = &lists["reveals"]["nodes"][0];
    let entry = &lists["auditEntries"]["nodes"][0];
    let accounts = lists["users"]["nodes"].as_array().expect("accounts");
    let cadre_account = accounts
        .iter()
        .find(|a| a["username"] == cadre_user.username.as_str())
        .expect("the cadre's account is listed");
    let other_account = accounts
        .iter()
        .find(|a| a["role"] == "COUNTY_ADMIN")
        .expect("the county administrator's account");
    assert_eq!(raw_id(&cadre_account["id"]), cadre_user.id);
    let ids = json!([
        reveal["id"],
        entry["id"],
        other_account["id"],
        cadre_account["id"]
    ]);

    // Those who list them fetch each by its ID, one at a time or all at once.
    for role in [Role::CountyAdmin, Role::Auditor] {
        let token = app.token_for(role).await;
        let fetched = app
            .query_as(Some(&token), BY_ID, json!({ "ids": ids }))
            .await;
        assert_eq!(
            fetched["nodes"],
            json!([
                { "__typename": "Reveal", "id": reveal["id"], "purpose": reveal["purpose"] },
                { "__typename": "AuditEntry", "id": entry["id"], "sequence": entry["sequence"] },
                { "__typename": "Account", "id": other_account["id"], "username": other_account["username"] },
                { "__typename": "Account", "id": cadre_account["id"], "username": cadre_account["username"] },
            ]),
            "{role:?}"
        );
        for id in ids.as_array().expect("ids") {
            let one = app.query_as(Some(&token), ONE, json!({ "id": id })).await;
            assert_eq!(&one["node"]["id"], id, "{role:?}");
        }
    }

    // A village cadre lists none of them: by ID it gets only its own account,
    // which `me` gives it anyway.
    let refused = app.graphql_as(Some(&cadre), LISTS, json!({})).await;
    assert_eq!(
        TestApp::error_codes(&refused),
        ["FORBIDDEN", "FORBIDDEN", "FORBIDDEN"],
        "{refused}"
    );
    let fetched = app
        .query_as(
            Some(&cadre),
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ids }),
        )
        .await;
    assert_eq!(
        fetched["nodes"],
        json!([null, null, null, { "id": cadre_account["id"] }])
    );
    for id in &ids.as_array().expect("ids")[..3] {
        let body = app.graphql_as(Some(&cadre), ONE, json!({ "id": id })).await;
        assert_eq!(TestApp::error_codes(&body), ["NOT_FOUND"], "{id}");
    }
    let anonymous = app
        .graphql_as(
            None,
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ids }),
        )
        .await;
    assert_eq!(anonymous["data"]["nodes"], json!([null, null, null, null]));

    // A township officer's rows reach the helper cadres' accounts (for
    // pairing), but it lists no accounts: none by ID either.
    let (helper, _) = app.user_for(Role::HelperCadre).await;
    let helper = global_id("Account", helper.id);
    let officer = app.token_for(Role::TownshipOfficer).await;
    let body = app
        .graphql_as(Some(&officer), ONE, json!({ "id": helper }))
        .await;
    assert_eq!(TestApp::error_codes(&body), ["NOT_FOUND"]);
    let shown = app.query(ONE, json!({ "id": helper })).await;
    assert_eq!(shown["node"]["id"], helper.as_str());

    // An audit entry that is no login alert is not one by ID either.
    let not_an_alert = global_id("LoginAlert", raw_id(&entry["id"]));
    let body = app.graphql(ONE, json!({ "id": not_an_alert })).await;
    assert_eq!(TestApp::error_codes(&body), ["NOT_FOUND"]);
}

async fn nodes_answers_each_id_as_node_would_and_null_where_it_finds_nothing(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let township = first_region(&app.db, RegionLevel::Township).await;
    let prefix = &township.code[..9];
    let villages = tests::regions(&app.db, RegionLevel::Village).await;
    let (mine, theirs): (Vec<&region::Model>, Vec<&region::Model>) =
        villages.iter().partition(|v| v.code.starts_with(prefix));
    let household_in = |villages: Vec<i64>| {
        let db = app.db.clone();
        async move {
            household::Entity::find()
                .filter(household::Column::VillageId.is_in(villages))
                .order_by_asc(household::Column::Id)
                .one(&db)
                .await
                .expect("query")
                .expect("a household")
        }
    };
    let own = household_in(mine.iter().map(|v| v.id).collect()).await;
    let elsewhere = household_in(theirs.iter().map(|v| v.id).collect()).await;
    let county = first_region(&app.db, RegionLevel::County).await;
    let officer = app.token_for(Role::TownshipOfficer).await;

    let ids = json!([
        global_id("Household", elsewhere.id),
        global_id("Household", own.id),
        global_id("County", county.id),
        global_id("Household", i64::from(i32::MAX)),
        global_id("Household", own.id),
    ]);
    let data = app
        .query_as(
            Some(&officer),
            "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Household { number } ... on County { name } } }",
            json!({ "ids": ids }),
        )
        .await;
    assert_eq!(
        data["nodes"],
        json!([
            null,
            { "id": ids[1], "number": own.number },
            { "id": ids[2], "name": county.name },
            null,
            { "id": ids[1], "number": own.number },
        ])
    );
    // `node` refuses the same household of another township.
    let body = app
        .graphql_as(Some(&officer), ONE, json!({ "id": ids[0] }))
        .await;
    assert_eq!(TestApp::error_codes(&body), ["NOT_FOUND"]);
    // The county office reaches it.
    let data = app
        .query(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": [ids[0]] }),
        )
        .await;
    assert_eq!(data["nodes"], json!([{ "id": ids[0] }]));

    // A malformed ID is the caller's mistake, not a missing object.
    let body = app
        .graphql_as(
            Some(&officer),
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": [ids[1], "not-an-id"] }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"]);
    assert_eq!(error_field(&body), "ids[1]");
}

/// The `requested` cost of a query, as its answer reports it.
fn requested(body: &Value) -> u64 {
    body["extensions"]["cost"]["requested"]
        .as_u64()
        .unwrap_or_else(|| panic!("a cost: {body}"))
}

async fn nodes_is_bounded_and_costs_a_page(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 20).await;
    let max = api::config::Limits::default().max_page_size;
    let homes: Vec<Value> = household::Entity::find()
        .order_by_asc(household::Column::Id)
        .all(&app.db)
        .await
        .expect("households")
        .iter()
        .map(|h| json!(global_id("Household", h.id)))
        .collect();
    let many: Vec<&Value> = homes.iter().cycle().take(max + 1).collect();
    let query =
        "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Household { number status } } }";
    let body = app.graphql(query, json!({ "ids": many })).await;
    assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"], "{body}");
    assert_eq!(error_field(&body), "ids");
    assert_eq!(body["data"], Value::Null);
    let body = app.graphql(query, json!({ "ids": many[..max] })).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["nodes"].as_array().map(Vec::len), Some(max));

    // Each ID costs what its selection costs, as an item of a page does.
    let one = app
        .graphql(
            "query($id: ID!) { node(id: $id) { id ... on Household { number status } } }",
            json!({ "id": homes[0] }),
        )
        .await;
    let ten = app.graphql(query, json!({ "ids": homes[..10] })).await;
    assert_eq!(requested(&ten), 10 * (requested(&one) - 1) + 1);
}
