//! Relations go through DataLoaders: the statements a page costs do not grow
//! with the page.

use api::config::Limits;
use entity::enums::{RegionLevel, Role};
use entity::{household, project_village, region};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::json;
use tests::{Backend, TEST_PASSWORD, TestApp, create_user, on_both_backends, regions};

on_both_backends!(
    a_page_of_households_with_members_and_village_costs_a_constant_number_of_statements,
    nested_connections_under_a_list_are_fetched_together,
    concurrent_pages_each_run_one_statement_per_level,
);

const QUERY: &str = r#"query($n: Int) {
  households(first: $n) {
    nodes {
      number otherCauses
      village { name township { name } }
      members { name idNumber household { number } }
      incomes { year perCapitaNet povertyLine }
    }
  }
}"#;

async fn statements_for(app: &TestApp, first: usize) -> usize {
    let before = app.statements();
    let data = app.query(QUERY, json!({ "n": first })).await;
    assert_eq!(
        data["households"]["nodes"].as_array().expect("nodes").len(),
        first
    );
    app.statements() - before
}

async fn a_page_of_households_with_members_and_village_costs_a_constant_number_of_statements(
    backend: Backend,
) {
    // A window wide enough that a slow debug build on a busy machine still
    // gathers a whole page (200 ms once split a page in two under the suite's load).
    let limits = Limits {
        loader_delay_ms: 500,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(&backend, limits).await;
    app.seed(300, 7).await;
    let ten = statements_for(&app, 10).await;
    let hundred = statements_for(&app, 100).await;
    // The caller's account, then households, causes, villages, townships, members,
    // incomes, poverty lines; the members' households are already in the cache.
    assert!(hundred <= 9, "a page of 100 cost {hundred} statements");
    assert_eq!(ten, hundred, "the cost does not grow with the page");
}

const NESTED: &str = r#"query($n: Int) {
  villages(first: $n) {
    nodes {
      id
      households(first: 3, orderBy: { field: NUMBER }) { totalCount nodes { number } }
      enterprises(first: 2) { totalCount nodes { name } }
      projects(first: 2) { totalCount nodes { name villages { id } } }
    }
  }
}"#;

async fn nested_connections_under_a_list_are_fetched_together(backend: Backend) {
    let limits = Limits {
        loader_delay_ms: 200,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(&backend, limits).await;
    app.seed(3_000, 7).await;
    let villages = regions(&app.db, RegionLevel::Village).await;
    assert!(villages.len() >= 20);

    let before = app.statements();
    app.query(NESTED, json!({ "n": 5 })).await;
    let five = app.statements() - before;
    let before = app.statements();
    let data = app.query(NESTED, json!({ "n": 20 })).await;
    let twenty = app.statements() - before;
    assert_eq!(
        five, twenty,
        "the cost does not grow with the number of villages"
    );

    // And every village gets its own page and count.
    for (shown, village) in data["villages"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .zip(&villages)
    {
        let households = household::Entity::find()
            .filter(household::Column::VillageId.eq(village.id))
            .order_by_asc(household::Column::Number)
            .all(&app.db)
            .await
            .expect("households");
        assert_eq!(shown["households"]["totalCount"], households.len());
        let numbers: Vec<&str> = shown["households"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|h| h["number"].as_str().expect("number"))
            .collect();
        let expected: Vec<&str> = households
            .iter()
            .take(3)
            .map(|h| h.number.as_str())
            .collect();
        assert_eq!(numbers, expected);
        let projects = project_village::Entity::find()
            .filter(project_village::Column::VillageId.eq(village.id))
            .count(&app.db)
            .await
            .expect("count");
        assert_eq!(shown["projects"]["totalCount"], projects);
        for project in shown["projects"]["nodes"].as_array().expect("nodes") {
            let covers = project["villages"].as_array().expect("villages");
            assert!(
                covers.iter().any(|v| v["id"] == shown["id"]),
                "a village's projects cover it"
            );
        }
    }
}

const HOUSEHOLD_PAGE: &str = r#"{
  households(first: 50) {
    nodes { id village { name } members { name idNumber gender relation } }
  }
}"#;

const VILLAGE_PAGE: &str = "{ villages(first: 50) { nodes { name township { name } } } }";

/// Statements the server ran for `requests` identical requests sent at once.
async fn statements_at_once(
    app: &TestApp,
    token: Option<&str>,
    query: &str,
    requests: usize,
) -> usize {
    let before = app.statements();
    let pages = (0..requests).map(|_| app.query_as(token, query, json!({})));
    futures::future::join_all(pages).await;
    app.statements() - before
}

async fn concurrent_pages_each_run_one_statement_per_level(backend: Backend) {
    // The default gathering window, which a busy server outruns: the relations
    // of a page must not depend on it.
    let app = TestApp::spawn(&backend).await;
    app.seed(60, 7).await;
    let admin = app.admin_token.clone();

    // The caller's account, then households, their villages, their members.
    let alone = statements_at_once(&app, Some(&admin), HOUSEHOLD_PAGE, 1).await;
    assert_eq!(alone, 4, "a page of households with villages and members");
    let together = statements_at_once(&app, Some(&admin), HOUSEHOLD_PAGE, 32).await;
    assert_eq!(together, 32 * alone, "32 pages at once");

    // A token from `login` names its session, and a village cadre's reach
    // needs the code of its village: still one statement to sign in.
    let home = household::Entity::find()
        .one(&app.db)
        .await
        .expect("read")
        .expect("a household");
    let village = region::Entity::find_by_id(home.village_id)
        .one(&app.db)
        .await
        .expect("read")
        .expect("its village");
    create_user(
        &app.db,
        "cadre",
        Role::VillageCadre,
        Some(village.code),
        None,
    )
    .await;
    let signed_in = app
        .query_as(
            None,
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }",
            json!({ "u": "cadre", "p": TEST_PASSWORD }),
        )
        .await;
    let cadre = signed_in["login"]["accessToken"]
        .as_str()
        .expect("access token")
        .to_owned();
    let alone = statements_at_once(&app, Some(&cadre), HOUSEHOLD_PAGE, 1).await;
    assert_eq!(alone, 4, "a village cadre's page, signed in with a session");

    // The public has no account to read: villages, then their townships.
    let alone = statements_at_once(&app, None, VILLAGE_PAGE, 1).await;
    assert_eq!(alone, 2, "a page of villages with townships");
    let together = statements_at_once(&app, None, VILLAGE_PAGE, 32).await;
    assert_eq!(together, 32 * alone, "32 pages of villages at once");
}
