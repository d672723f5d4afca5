//! Offline sync for field apps: a helper's app syncs its households page by
//! page (and resumes a first sync cut short), goes offline while others
//! write, and catches up to exactly what the API shows it; households that
//! left its pairings arrive as tombstones, and only to the app that held them.

use std::collections::BTreeMap;

use entity::enums::{RegionLevel, Role};
use entity::{household, region};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tests::{
    Backend, TestApp, create_user, first_region, global_id, on_both_backends, person, token_of,
};

on_both_backends!(
    a_helper_s_app_syncs_goes_offline_and_converges_on_the_server_s_view,
    a_village_merged_away_arrives_as_tombstones_for_its_cadre_only,
    a_sync_cursor_is_checked,
);

/// What the app keeps of a household.
const KEPT: &str =
    "id version address members { id name relation } plan { measures { id task status deadline } }";

fn sync_query() -> String {
    format!(
        "query($a: String, $n: Int) {{ sync(after: $a, first: $n) {{ households {{ {KEPT} }} removed endCursor hasMore }} }}"
    )
}

/// A field app's store: households by ID, and where its sync stands.
#[derive(Default)]
struct App {
    households: BTreeMap<String, Value>,
    cursor: Option<String>,
    removed: Vec<String>,
}

impl App {
    /// One page of sync, applied; whether more follow.
    async fn sync_page(&mut self, server: &TestApp, token: &str, first: i32) -> bool {
        let page = server
            .query_as(
                Some(token),
                &sync_query(),
                json!({ "a": self.cursor, "n": first }),
            )
            .await["sync"]
            .clone();
        for home in page["households"].as_array().expect("households") {
            let id = home["id"].as_str().expect("id").to_owned();
            self.households.insert(id, home.clone());
        }
        for gone in page["removed"].as_array().expect("removed") {
            let id = gone.as_str().expect("id").to_owned();
            self.households.remove(&id);
            self.removed.push(id);
        }
        self.cursor = Some(page["endCursor"].as_str().expect("cursor").to_owned());
        page["hasMore"].as_bool().expect("hasMore")
    }

    /// Syncs until caught up.
    async fn sync(&mut self, server: &TestApp, token: &str) {
        while self.sync_page(server, token, 2).await {}
    }
}

/// What the API shows `token`'s reader now: every household it reaches, as
/// the app keeps them.
async fn server_view(server: &TestApp, token: &str) -> BTreeMap<String, Value> {
    let listed = server
        .query_as(
            Some(token),
            &format!("{{ households(first: 100) {{ totalCount nodes {{ {KEPT} }} }} }}"),
            json!({}),
        )
        .await;
    let nodes = listed["households"]["nodes"].as_array().expect("nodes");
    assert_eq!(listed["households"]["totalCount"], nodes.len());
    nodes
        .iter()
        .map(|home| (home["id"].as_str().expect("id").to_owned(), home.clone()))
        .collect()
}

async fn pair(server: &TestApp, helper: &str, household: i64) {
    let paired = server
        .query(
            "mutation($u: String!, $h: ID!) { pairHelper(helperUsername: $u, householdId: $h, unit: \"县农业农村局\") { startedOn } }",
            json!({ "u": helper, "h": global_id("Household", household) }),
        )
        .await;
    assert!(paired["pairHelper"]["startedOn"].is_string());
}

async fn a_helper_s_app_syncs_goes_offline_and_converges_on_the_server_s_view(backend: Backend) {
    let (server, _) = TestApp::seeded(&backend, 60).await;
    let village = first_region(&server.db, RegionLevel::Village).await;
    let homes: Vec<i64> = household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .order_by_asc(household::Column::Id)
        .all(&server.db)
        .await
        .expect("households")
        .into_iter()
        .map(|home| home.id)
        .collect();
    assert!(
        homes.len() >= 6,
        "the first village has {} households",
        homes.len()
    );
    let helper = create_user(&server.db, "helper-sync", Role::HelperCadre, None, None).await;
    let other = create_user(&server.db, "helper-other", Role::HelperCadre, None, None).await;
    for home in &homes[..5] {
        pair(&server, &helper.username, *home).await;
    }
    pair(&server, &other.username, homes[5]).await;
    let (token, other_token) = (token_of(&helper), token_of(&other));

    // A first sync cut short after its first page resumes from its cursor.
    let mut app = App::default();
    assert!(app.sync_page(&server, &token, 2).await);
    assert_eq!(app.households.len(), 2);
    let mut resumed = App {
        cursor: app.cursor.clone(),
        ..App::default()
    };
    resumed.sync(&server, &token).await;
    app.households.extend(resumed.households);
    app.cursor = resumed.cursor;
    assert_eq!(app.households, server_view(&server, &token).await);
    assert_eq!(app.households.len(), 5);
    let mut neighbour = App::default();
    neighbour.sync(&server, &other_token).await;
    assert_eq!(neighbour.households.len(), 1);

    // Offline, while others write: a member born, a measure planned, a
    // pairing ended, another begun.
    let born = server
        .query(
            "mutation($h: ID!, $m: MemberInput!) { addMember(householdId: $h, member: $m) { id } }",
            json!({ "h": global_id("Household", homes[0]), "m": person("王小明", &api::codes::id_number("52010220240808045"), "SON") }),
        )
        .await;
    assert!(born["addMember"]["id"].is_string());
    let planned = server
        .query(
            "mutation($i: AddMeasureInput!) { addMeasure(input: $i) { id } }",
            json!({ "i": {
                "householdId": global_id("Household", homes[1]), "category": "DEVELOP_PRODUCTION",
                "task": "购买基础母牛2头", "standard": "年内出栏1头", "responsible": "王建国",
                "deadline": api::domain::calendar::today(), "funds": "1000.00",
            }}),
        )
        .await;
    assert!(planned["addMeasure"]["id"].is_string());
    let ended = server
        .query(
            "mutation($u: String!, $h: ID!) { endPairing(helperUsername: $u, householdId: $h) { endedOn } }",
            json!({ "u": helper.username, "h": global_id("Household", homes[2]) }),
        )
        .await;
    assert!(ended["endPairing"]["endedOn"].is_string());
    pair(&server, &helper.username, homes[6.min(homes.len() - 1)]).await;

    // Back online: one catch-up converges on the server's view.
    app.sync(&server, &token).await;
    let view = server_view(&server, &token).await;
    assert_eq!(app.households, view);
    assert!(app.removed.contains(&global_id("Household", homes[2])));
    let first = &app.households[&global_id("Household", homes[0])];
    assert!(
        first["members"]
            .as_array()
            .expect("members")
            .iter()
            .any(|m| m["name"] == "王小明"),
        "{first}"
    );
    // The neighbour never held the household that left: it hears of nothing.
    neighbour.sync(&server, &other_token).await;
    assert!(neighbour.removed.is_empty(), "{:?}", neighbour.removed);
    assert_eq!(
        neighbour.households,
        server_view(&server, &other_token).await
    );
    // Caught up, a sync says so.
    let again = server
        .query_as(
            Some(&token),
            &sync_query(),
            json!({ "a": app.cursor, "n": 2 }),
        )
        .await;
    assert_eq!(again["sync"]["hasMore"], false);
    assert_eq!(again["sync"]["households"], json!([]));
}

async fn a_sync_cursor_is_checked(backend: Backend) {
    let server = TestApp::spawn(&backend).await;
    for (cursor, first) in [
        (json!("bm90LWEtY3Vyc29y"), json!(10)),
        (json!(null), json!(0)),
        (json!(null), json!(101)),
    ] {
        let refused = server
            .graphql(&sync_query(), json!({ "a": cursor, "n": first }))
            .await;
        assert_eq!(
            TestApp::error_codes(&refused),
            ["BAD_USER_INPUT"],
            "{refused}"
        );
    }
    let public = server.graphql_as(None, &sync_query(), json!({})).await;
    assert!(
        !TestApp::error_codes(&public).is_empty() && public["data"]["sync"].is_null(),
        "{public}"
    );
}

async fn a_village_merged_away_arrives_as_tombstones_for_its_cadre_only(backend: Backend) {
    let (server, _) = TestApp::seeded(&backend, 60).await;
    let merged = first_region(&server.db, RegionLevel::Village).await;
    let into = region::Entity::find()
        .filter(region::Column::ParentId.eq(merged.parent_id))
        .filter(region::Column::Id.ne(merged.id))
        .order_by_asc(region::Column::Id)
        .one(&server.db)
        .await
        .expect("query")
        .expect("a second village in the township");
    let leaving = token_of(
        &create_user(
            &server.db,
            "cadre-leaving",
            Role::VillageCadre,
            Some(merged.code.clone()),
            None,
        )
        .await,
    );
    let staying = token_of(
        &create_user(
            &server.db,
            "cadre-staying",
            Role::VillageCadre,
            Some(into.code.clone()),
            None,
        )
        .await,
    );
    let mut left_app = App::default();
    left_app.sync(&server, &leaving).await;
    let held: Vec<String> = left_app.households.keys().cloned().collect();
    assert!(!held.is_empty());
    let mut kept_app = App::default();
    kept_app.sync(&server, &staying).await;

    let done = server
        .query(
            "mutation($v: ID!, $n: Int!, $into: ID!) { mergeVillages(villageId: $v, version: $n, intoVillageId: $into, reason: \"乡村振兴撤并\") { householdsMoved } }",
            json!({ "v": global_id("Village", merged.id), "n": merged.version, "into": global_id("Village", into.id) }),
        )
        .await;
    assert_eq!(done["mergeVillages"]["householdsMoved"], held.len());

    // The merged village's cadre drops every household it held; the other
    // village's cadre takes them in, whole; neither is told of anything else.
    left_app.sync(&server, &leaving).await;
    assert!(left_app.households.is_empty());
    let mut removed = left_app.removed.clone();
    removed.sort();
    assert_eq!(removed, held);
    assert_eq!(left_app.households, server_view(&server, &leaving).await);
    kept_app.sync(&server, &staying).await;
    assert!(kept_app.removed.is_empty());
    assert_eq!(kept_app.households, server_view(&server, &staying).await);
    assert!(held.iter().all(|id| kept_app.households.contains_key(id)));
}
