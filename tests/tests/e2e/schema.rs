//! The checked-in SDL is the schema the server serves, and the schema documents
//! itself for client developers.

use async_graphql::Request;
use serde_json::Value;

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
        // Relay's generated wrappers carry async-graphql's own descriptions on fields only.
        let generated =
            name.ends_with("Connection") || name.ends_with("Edge") || name == "PageInfo";
        if !generated && !described(t) {
            missing.push(name.to_owned());
        }
        for field in t["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(t["inputFields"].as_array().into_iter().flatten())
        {
            if !described(field) {
                missing.push(format!(
                    "{name}.{}",
                    field["name"].as_str().unwrap_or_default()
                ));
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
