//! Relations go through DataLoaders: the statements a page costs do not grow
//! with the page.

use api::config::Limits;
use serde_json::json;
use tests::{Backend, TestApp, on_both_backends};

on_both_backends!(
    a_page_of_households_with_members_and_village_costs_a_constant_number_of_statements
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
    // A window wide enough that a slow debug build still gathers a whole page.
    let limits = Limits {
        loader_delay_ms: 50,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(&backend, limits).await;
    app.seed(300, 7).await;
    let ten = statements_for(&app, 10).await;
    let hundred = statements_for(&app, 100).await;
    // households, causes, villages, townships, members, incomes, poverty lines; the
    // members' households are already in the cache.
    assert!(hundred <= 8, "a page of 100 cost {hundred} statements");
    assert_eq!(ten, hundred, "the cost does not grow with the page");
}
