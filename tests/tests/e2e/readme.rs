//! The README's example queries run without errors against a demo county.

use serde_json::json;
use tests::{Backend, TestApp, on_both_backends};

on_both_backends!(readme_examples_run);

fn examples() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    readme
        .split("```graphql\n")
        .skip(1)
        .filter_map(|block| block.split_once("```").map(|(query, _)| query.to_owned()))
        .collect()
}

async fn readme_examples_run(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 300).await;
    let examples = examples();
    assert!(examples.len() >= 4, "the README has example queries");
    for query in examples {
        let data = app.query(&query, json!({})).await;
        assert!(data.is_object(), "{query}");
    }
}
