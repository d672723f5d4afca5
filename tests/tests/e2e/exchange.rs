//! The change feed over HTTP: every change in commit order from a cursor,
//! none missed or repeated while writes commit concurrently, states under the
//! caller's field policy, and who may read it.

use std::collections::{HashMap, HashSet};

use entity::enums::{HouseholdStatus, Role};
use entity::household;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tests::{Backend, TestApp, error_field, global_id, on_both_backends, person};

on_both_backends!(
    polling_misses_and_repeats_nothing_under_concurrent_writes,
    states_follow_the_field_policy_and_only_exchange_roles_read,
    pairings_are_in_the_feed_under_the_field_policy,
    feed_states_take_the_form_of_the_api,
);

const CHANGES: &str = "query($after: String, $first: Int, $types: [String!]) {
    changes(after: $after, first: $first, entityTypes: $types) {
        changes { cursor action entityType id removed state } endCursor hasMore } }";

const SET_INCOME: &str = "mutation($i: IncomeInput!) { setIncome(input: $i) { year } }";

/// Reads the feed from `after` to its end, `first` at a time.
async fn drain(
    app: &TestApp,
    token: &str,
    after: Option<String>,
    first: i32,
) -> (Vec<Value>, Option<String>) {
    let mut cursor = after;
    let mut read = Vec::new();
    loop {
        let page = app
            .query_as(
                Some(token),
                CHANGES,
                json!({ "after": cursor, "first": first }),
            )
            .await["changes"]
            .clone();
        read.extend(page["changes"].as_array().expect("changes").iter().cloned());
        cursor = page["endCursor"].as_str().map(str::to_owned);
        if page["hasMore"] == false {
            return (read, cursor);
        }
    }
}

async fn households(app: &TestApp, n: u64) -> Vec<household::Model> {
    use sea_orm::QuerySelect;
    household::Entity::find()
        .filter(household::Column::Status.ne(HouseholdStatus::Removed))
        .order_by_asc(household::Column::Id)
        .limit(n)
        .all(&app.db)
        .await
        .expect("households")
}

async fn polling_misses_and_repeats_nothing_under_concurrent_writes(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let province = app.token_for(Role::ProvincialSystem).await;
    let (before, start) = drain(&app, &province, None, 50).await;
    assert!(
        before.is_empty(),
        "a seeded register has no changes yet: {before:?}"
    );

    // Thirty incomes written at once by the county, while the province polls
    // a few changes at a time.
    let homes = households(&app, 30).await;
    assert_eq!(homes.len(), 30);
    let app = std::sync::Arc::new(app);
    let writers: Vec<_> = homes
        .iter()
        .map(|home| {
            let app = app.clone();
            let id = global_id("Household", home.id);
            tokio::spawn(async move {
                app.query(
                    SET_INCOME,
                    json!({ "i": { "householdId": id, "year": 2024, "wage": "5000",
                        "production": "1000", "property": "0", "transfer": "300",
                        "productionCost": "200" } }),
                )
                .await;
            })
        })
        .collect();
    let mut seen: Vec<Value> = Vec::new();
    let mut cursor = start.clone();
    while writers.iter().any(|w| !w.is_finished()) {
        let page = app
            .query_as(
                Some(&province),
                CHANGES,
                json!({ "after": cursor, "first": 3 }),
            )
            .await["changes"]
            .clone();
        seen.extend(page["changes"].as_array().expect("changes").iter().cloned());
        cursor = page["endCursor"].as_str().map(str::to_owned).or(cursor);
    }
    for writer in writers {
        writer.await.expect("a writer");
    }
    let (rest, _) = drain(&app, &province, cursor, 3).await;
    seen.extend(rest);

    let cursors: Vec<&str> = seen
        .iter()
        .map(|c| c["cursor"].as_str().expect("a cursor"))
        .collect();
    let distinct: HashSet<&str> = cursors.iter().copied().collect();
    assert_eq!(distinct.len(), cursors.len(), "no change is read twice");
    let written: HashSet<String> = homes.iter().map(|h| global_id("Household", h.id)).collect();
    let read: HashSet<String> = seen
        .iter()
        .map(|c| {
            assert_eq!(c["entityType"], "HouseholdIncome");
            assert_eq!(c["action"], "income.create");
            c["id"].as_str().expect("an id").to_owned()
        })
        .collect();
    assert_eq!(read, written, "every income written is read once");
    assert_eq!(seen.len(), 30);

    // Read again from the start in one go: the same changes in the same order.
    let (again, _) = drain(&app, &province, start, 1000).await;
    let again: Vec<&str> = again
        .iter()
        .map(|c| c["cursor"].as_str().expect("a cursor"))
        .collect();
    assert_eq!(
        again, cursors,
        "the order is the commit order, the same for every reader"
    );
}

async fn states_follow_the_field_policy_and_only_exchange_roles_read(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 20).await;
    let home = &households(&app, 1).await[0];
    let person = person("王小明", &api::codes::id_number("52010220100808045"), "SON");
    let added = app
        .query(
            "mutation($h: ID!, $m: MemberInput!) { addMember(householdId: $h, member: $m) { id } }",
            json!({ "h": global_id("Household", home.id), "m": person }),
        )
        .await["addMember"]["id"]
        .clone();
    app.query(
        SET_INCOME,
        json!({ "i": { "householdId": global_id("Household", home.id), "year": 2024,
            "wage": "5000", "production": "0", "property": "0", "transfer": "0",
            "productionCost": "0" } }),
    )
    .await;

    // The province reads the member's whole new state, ID number included.
    let province = app.token_for(Role::ProvincialSystem).await;
    let members = app
        .query_as(Some(&province), CHANGES, json!({ "types": ["Member"] }))
        .await["changes"]["changes"]
        .clone();
    let members = members.as_array().expect("changes");
    assert_eq!(members.len(), 1, "only the types asked for: {members:?}");
    let change = &members[0];
    assert_eq!(change["id"], added);
    assert_eq!(change["action"], "member.create");
    assert_eq!(change["removed"], false);
    assert_eq!(change["state"]["name"], "王小明");
    assert_eq!(
        change["state"]["idNumber"],
        api::codes::id_number("52010220100808045")
    );

    // Auditors read the feed too; the same changes, by type.
    let auditor = app.token_for(Role::Auditor).await;
    let (all, _) = drain(&app, &auditor, None, 100).await;
    let by_type: HashMap<&str, usize> = all.iter().fold(HashMap::new(), |mut counts, c| {
        *counts
            .entry(c["entityType"].as_str().expect("a type"))
            .or_default() += 1;
        counts
    });
    assert_eq!(by_type.get("Member"), Some(&1));
    assert_eq!(by_type.get("HouseholdIncome"), Some(&1));

    // Not for those who see part of the county, nor for the public.
    for token in [
        Some(app.token_for(Role::TownshipOfficer).await),
        Some(app.token_for(Role::HelperCadre).await),
        None,
    ] {
        let body = app.graphql_as(token.as_deref(), CHANGES, json!({})).await;
        assert!(
            matches!(
                TestApp::error_codes(&body).as_slice(),
                [code] if code == "FORBIDDEN" || code == "UNAUTHENTICATED"
            ),
            "{body}"
        );
    }

    // Bad requests say which argument is wrong.
    for (variables, field) in [
        (json!({ "after": "not-a-cursor" }), "after"),
        (json!({ "first": 0 }), "first"),
        (json!({ "types": ["Account"] }), "entityTypes"),
    ] {
        let body = app.graphql_as(Some(&province), CHANGES, variables).await;
        assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"], "{body}");
        assert_eq!(error_field(&body), field);
    }
}

/// The changes of the given types, read whole by `token`.
async fn changes_of(app: &TestApp, token: &str, types: &[&str]) -> Vec<Value> {
    app.query_as(
        Some(token),
        CHANGES,
        json!({ "types": types, "first": 1000 }),
    )
    .await["changes"]["changes"]
        .as_array()
        .expect("changes")
        .clone()
}

async fn pairings_are_in_the_feed_under_the_field_policy(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 20).await;
    let home = &households(&app, 1).await[0];
    let (helper, _) = app.user_for(Role::HelperCadre).await;
    let vars = json!({ "u": helper.username, "h": global_id("Household", home.id) });
    let paired = app
        .query(
            "mutation($u: String!, $h: ID!) { pairHelper(helperUsername: $u, householdId: $h, unit: \"县农业农村局\") { id startedOn } }",
            vars.clone(),
        )
        .await["pairHelper"]
        .clone();
    app.query(
        "mutation($u: String!, $h: ID!) { endPairing(helperUsername: $u, householdId: $h) { endedOn } }",
        vars,
    )
    .await;
    let unit = app
        .query(
            "mutation { createHelperUnit(name: \"交换测试帮扶单位\", kind: COUNTY_DEPARTMENT) { id } }",
            json!({}),
        )
        .await["createHelperUnit"]["id"]
        .clone();
    let village = app
        .query(
            "query($h: ID!) { household(id: $h) { village { id } } }",
            json!({ "h": global_id("Household", home.id) }),
        )
        .await["household"]["village"]["id"]
        .clone();
    let unit_pairing = app
        .query(
            "mutation($u: ID!, $v: ID!) { pairUnitWithVillage(unitId: $u, villageId: $v) { id } }",
            json!({ "u": unit, "v": village }),
        )
        .await["pairUnitWithVillage"]["id"]
        .clone();

    // The county office reads both pairings' changes, by their global IDs.
    let admin = app.token_for(Role::CountyAdmin).await;
    let seen: Vec<Value> = changes_of(&app, &admin, &["Pairing", "UnitPairing"])
        .await
        .into_iter()
        .filter(|c| c["id"] == paired["id"] || c["id"] == unit_pairing)
        .collect();
    let actions: Vec<&str> = seen.iter().filter_map(|c| c["action"].as_str()).collect();
    assert_eq!(
        actions,
        ["pairing.create", "pairing.end", "unit_pairing.create"],
        "{seen:?}"
    );
    let created = &seen[0];
    assert_eq!(created["entityType"], "Pairing");
    assert_eq!(created["id"], paired["id"]);
    assert_eq!(created["state"]["id"], paired["id"]);
    assert_eq!(created["state"]["helper"], helper.username.as_str());
    assert_eq!(
        created["state"]["household"],
        global_id("Household", home.id).as_str()
    );
    assert_eq!(created["state"]["startedOn"], paired["startedOn"]);
    assert!(created["state"]["endedOn"].is_null());
    assert!(seen[1]["state"]["endedOn"].is_string(), "{seen:?}");
    let node = app
        .query(
            "query($id: ID!) { node(id: $id) { ... on Pairing { household { id } } } }",
            json!({ "id": paired["id"] }),
        )
        .await;
    assert_eq!(
        node["node"]["household"]["id"],
        global_id("Household", home.id).as_str()
    );
    let unit_change = &seen[2];
    assert_eq!(unit_change["entityType"], "UnitPairing");
    assert_eq!(unit_change["id"], unit_pairing);
    assert_eq!(unit_change["state"]["unit"], unit);
    assert_eq!(unit_change["state"]["village"], village);

    // The province reads them too, without the helper's account, which it
    // cannot read through the API either.
    let province = app.token_for(Role::ProvincialSystem).await;
    let seen: Vec<Value> = changes_of(&app, &province, &["Pairing"])
        .await
        .into_iter()
        .filter(|c| c["id"] == paired["id"])
        .collect();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[0]["state"].get("helper").is_none(), "{seen:?}");
    assert_eq!(
        seen[0]["state"]["household"],
        global_id("Household", home.id).as_str()
    );
    // Read without asking for types, the feed carries them as well.
    let (all, _) = drain(&app, &province, None, 1000).await;
    assert!(all.iter().any(|c| c["entityType"] == "Pairing"));
    assert!(all.iter().any(|c| c["entityType"] == "UnitPairing"));
}

async fn feed_states_take_the_form_of_the_api(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 20).await;
    let home = &households(&app, 1).await[0];
    let h = global_id("Household", home.id);
    let read = app
        .query(
            "query($h: ID!) { household(id: $h) { status attribute version village { id } } }",
            json!({ "h": h }),
        )
        .await["household"]
        .clone();
    app.query(
        "mutation($i: HouseholdPatch!) { updateHousehold(input: $i) { version } }",
        json!({ "i": { "id": h, "version": read["version"], "address": "新址村3组" } }),
    )
    .await;
    let person = person("王小明", &api::codes::id_number("52010220100808045"), "SON");
    app.query(
        "mutation($h: ID!, $m: MemberInput!) { addMember(householdId: $h, member: $m) { id } }",
        json!({ "h": h, "m": person }),
    )
    .await;
    app.query(
        SET_INCOME,
        json!({ "i": { "householdId": h, "year": 2024,
            "wage": "5000", "production": "0", "property": "0", "transfer": "0",
            "productionCost": "0" } }),
    )
    .await;

    let province = app.token_for(Role::ProvincialSystem).await;
    let seen = changes_of(&app, &province, &["Household", "Member", "HouseholdIncome"]).await;
    // The last change of each type (the seed may have written earlier ones).
    let of = |entity_type: &str| {
        seen.iter()
            .rev()
            .find(|c| c["entityType"] == entity_type)
            .unwrap_or_else(|| panic!("a {entity_type} change: {seen:?}"))["state"]
            .clone()
    };
    // As a query reads them: enum names and global IDs, not stored values.
    let household = of("Household");
    assert_eq!(household["status"], read["status"]);
    assert_eq!(household["attribute"], read["attribute"]);
    assert_eq!(household["village"], read["village"]["id"]);
    assert_eq!(household["address"], "新址村3组");
    let member = of("Member");
    assert_eq!(member["household"], h.as_str());
    assert_eq!(member["relation"], "SON");
    assert_eq!(of("HouseholdIncome")["wage"], "5000.00");
}
