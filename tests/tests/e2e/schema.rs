//! The checked-in SDL is the schema the server serves, the schema documents
//! itself for client developers, and it passes graphql-eslint's schema and
//! Relay rules.

use std::path::Path;
use std::process::Command;

use async_graphql::Request;
use serde_json::{Value, json};

#[test]
fn checked_in_schema_matches_the_server() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let checked_in = std::fs::read_to_string(&path).expect("schema.graphql at the workspace root");
    let current = api::graphql::sdl();
    assert!(
        checked_in == current,
        "schema.graphql is out of date: run `cargo run -p api --bin fupin -- export-schema > schema.graphql`"
    );
}

#[tokio::test]
async fn every_type_field_argument_and_enum_value_has_a_description() {
    let schema = api::graphql::schema(None, &api::config::Limits::default(), None);
    let query = r#"{ __schema { types {
        name kind description
        fields { name description args { name description } }
        inputFields { name description }
        enumValues { name description }
    } } }"#;
    let response = schema.execute(Request::new(query)).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response.data.into_json().expect("JSON");
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let mut missing = Vec::new();
    let described = |v: &Value| {
        v["description"]
            .as_str()
            .is_some_and(|d| !d.trim().is_empty())
    };
    for t in data["__schema"]["types"].as_array().expect("types") {
        let name = t["name"].as_str().unwrap_or_default();
        if name.starts_with("__") || builtin.contains(&name) {
            continue;
        }
        if !described(t) {
            missing.push(name.to_owned());
        }
        for field in t["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(t["inputFields"].as_array().into_iter().flatten())
        {
            let field_name = field["name"].as_str().unwrap_or_default();
            if !described(field) {
                missing.push(format!("{name}.{field_name}"));
            }
            for arg in field["args"].as_array().into_iter().flatten() {
                if !described(arg) {
                    missing.push(format!(
                        "{name}.{field_name}({})",
                        arg["name"].as_str().unwrap_or_default()
                    ));
                }
            }
        }
        for value in t["enumValues"].as_array().into_iter().flatten() {
            if !described(value) {
                missing.push(format!(
                    "{name}.{}",
                    value["name"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:?}");
}

/// Typed clients map each custom scalar to a type of theirs: each points at its
/// specification, or, where no public one exists, states its format and sends
/// the reader to docs/scalars.md.
#[tokio::test]
async fn every_custom_scalar_names_its_format() {
    let schema = api::graphql::schema(None, &api::config::Limits::default(), None);
    let response = schema
        .execute(Request::new(
            "{ __schema { types { name kind description specifiedByURL } } }",
        ))
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response.data.into_json().expect("JSON");
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let mut scalars = serde_json::Map::new();
    for t in data["__schema"]["types"].as_array().expect("types") {
        let name = t["name"].as_str().unwrap_or_default();
        if t["kind"] == "SCALAR" && !builtin.contains(&name) {
            scalars.insert(name.to_owned(), t["specifiedByURL"].clone());
            let description = t["description"].as_str().unwrap_or_default();
            if t["specifiedByURL"].is_null() {
                assert!(
                    description.contains("docs/scalars.md"),
                    "{name} has no @specifiedBy and its description sends no one to docs/scalars.md: {description}"
                );
            }
        }
    }
    assert_eq!(
        Value::Object(scalars),
        json!({
            "DateTime": "https://datatracker.ietf.org/doc/html/rfc3339",
            "JSON": "https://www.rfc-editor.org/rfc/rfc8259",
            "Money": null,
            "NaiveDate": "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6",
        })
    );
    let sdl = api::graphql::sdl();
    assert!(sdl.contains(
        "scalar DateTime @specifiedBy(url: \"https://datatracker.ietf.org/doc/html/rfc3339\")"
    ));
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scalars.md"))
            .expect("docs/scalars.md");
    for section in [
        "## Money",
        "## NaiveDate",
        "## DateTime",
        "## JSON",
        "## ID",
    ] {
        assert!(doc.contains(section), "docs/scalars.md has no `{section}`");
    }
}

/// graphql-eslint's recommended schema rules and its Relay rules, as
/// lint/eslint.config.mjs sets them, find nothing in schema.graphql.
#[test]
fn the_schema_passes_graphql_eslint() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let eslint = root.join("lint/node_modules/.bin/eslint");
    assert!(
        eslint.exists(),
        "the schema linter is not installed: run `npm ci --prefix lint` (Node 20 or later) at the workspace root"
    );
    let output = Command::new(&eslint)
        .current_dir(&root)
        .args([
            "--config",
            "lint/eslint.config.mjs",
            "--max-warnings",
            "0",
            "schema.graphql",
        ])
        .output()
        .expect("run eslint");
    assert!(
        output.status.success(),
        "graphql-eslint finds schema.graphql at fault (run `lint/node_modules/.bin/eslint --config lint/eslint.config.mjs schema.graphql`):\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn enum_descriptions_carry_the_chinese_term() {
    let sdl = api::graphql::sdl();
    for term in [
        "贫困户属性",
        "一般贫困户",
        "因病",
        "已脱贫",
        "返贫",
        "清退",
        "户主",
        "丧失劳动力",
        "项目库",
    ] {
        assert!(sdl.contains(term), "the schema does not mention {term}");
    }
}
