//! The field policy is complete, and the README states it as it is.

use std::collections::HashSet;

use api::permissions::{
    CONNECTION_FIELDS, OPEN_FIELDS, POLICY, SENSITIVE_TYPES, is_connection, markdown_table, rule_of,
};
use async_graphql::Request;

const START: &str = "<!-- policy table: generated from api/src/permissions.rs, checked by tests/tests/e2e/policy.rs -->\n";
const END: &str = "<!-- end of policy table -->";

#[test]
fn the_readme_carries_the_policy_as_it_is() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let table = markdown_table();
    let parts = readme
        .split_once(START)
        .and_then(|(before, rest)| Some((before, rest.split_once(END)?)));
    let section = parts.map(|(_, (section, _))| section);
    // `FUPIN_BLESS=1` writes the table instead, after a deliberate policy change.
    if std::env::var_os("FUPIN_BLESS").is_some()
        && let Some((before, (_, after))) = parts
    {
        std::fs::write(path, format!("{before}{START}{table}{END}{after}")).expect("README.md");
        return;
    }
    assert!(
        section == Some(table.as_str()),
        "the README's policy table differs from api/src/permissions.rs; it should read (or run with FUPIN_BLESS=1):\n{START}{table}{END}"
    );
}

#[tokio::test]
async fn every_field_of_every_type_has_a_rule_and_every_rule_a_field() {
    let schema = api::graphql::schema(None, &api::config::Limits::default(), None);
    let response = schema
        .execute(Request::new(
            "{ __schema { types { name kind fields { name } } } }",
        ))
        .await
        .data
        .into_json()
        .expect("JSON");
    let mut fields = HashSet::new();
    for t in response["__schema"]["types"].as_array().expect("types") {
        let type_name = t["name"].as_str().unwrap_or_default();
        for f in t["fields"].as_array().into_iter().flatten() {
            let field = f["name"].as_str().unwrap_or_default();
            fields.insert((type_name.to_owned(), field.to_owned()));
            let structural = type_name.starts_with("__")
                || (is_connection(type_name) && CONNECTION_FIELDS.contains(&field));
            if (t["kind"] == "OBJECT" || t["kind"] == "INTERFACE") && !structural {
                assert!(
                    rule_of(type_name, field).is_some(),
                    "`{type_name}.{field}` has no policy rule: add one to POLICY or OPEN_FIELDS"
                );
            }
            if SENSITIVE_TYPES.contains(&type_name) {
                assert!(
                    POLICY
                        .iter()
                        .any(|r| r.type_name == type_name && r.field == field),
                    "`{type_name}.{field}` of a type that describes people needs its own row"
                );
            }
        }
    }
    for (type_name, open) in OPEN_FIELDS {
        for field in *open {
            assert!(
                fields.contains(&((*type_name).to_owned(), (*field).to_owned())),
                "the open field `{type_name}.{field}` is no field of the schema"
            );
            assert!(
                !POLICY
                    .iter()
                    .any(|r| r.type_name == *type_name && r.field == *field),
                "`{type_name}.{field}` is both open and in POLICY"
            );
        }
    }
    for rule in POLICY {
        assert!(
            fields.contains(&(rule.type_name.to_owned(), rule.field.to_owned())),
            "the rule for `{}.{}` names no field of the schema",
            rule.type_name,
            rule.field
        );
    }
}

#[test]
fn every_field_someone_sees_masked_has_a_mask() {
    for rule in POLICY {
        if rule.access.contains(&api::permissions::Access::Masked) {
            assert!(
                rule.mask.is_some(),
                "`{}.{}` is masked for someone but has no mask",
                rule.type_name,
                rule.field
            );
        }
    }
}

/// An export carries every field of the card: whoever may call it must see
/// each of them in full, or the export would leak what the fields hide.
#[test]
fn whoever_exports_the_register_sees_every_field_of_it_in_full() {
    use api::permissions::{Access, EXPORT, access_of};
    use entity::enums::Role;
    use sea_orm::Iterable;
    let exporters: Vec<Role> = Role::iter()
        .filter(|role| access_of(&tests::viewer_of_role(*role), &EXPORT) == Access::Full)
        .collect();
    assert_eq!(
        exporters,
        [Role::CountyAdmin, Role::Auditor, Role::ProvincialSystem]
    );
    for role in exporters {
        let viewer = tests::viewer_of_role(role);
        for rule in POLICY
            .iter()
            .filter(|r| ["Household", "Member", "HouseholdIncome"].contains(&r.type_name))
        {
            assert_eq!(
                access_of(&viewer, rule),
                Access::Full,
                "{role:?} may export but does not see `{}.{}` in full",
                rule.type_name,
                rule.field
            );
        }
    }
}

#[tokio::test]
async fn every_filter_search_and_sort_argument_states_what_it_reads() {
    use api::permissions::{FILTERS, filter_rule};

    let schema = api::graphql::schema(None, &api::config::Limits::default(), None);
    let response = schema
        .execute(Request::new(
            "{ __schema { types { name kind fields { name } inputFields { name type { name ofType { name } } } enumValues { name } } } }",
        ))
        .await
        .data
        .into_json()
        .expect("JSON");
    let types = response["__schema"]["types"].as_array().expect("types");
    let fields: HashSet<(String, String)> = types
        .iter()
        .flat_map(|t| {
            let type_name = t["name"].as_str().unwrap_or_default().to_owned();
            t["fields"].as_array().into_iter().flatten().map(move |f| {
                (
                    type_name.clone(),
                    f["name"].as_str().unwrap_or_default().to_owned(),
                )
            })
        })
        .collect();
    let enum_values = |name: &str| -> Vec<String> {
        types
            .iter()
            .find(|t| t["name"] == name)
            .and_then(|t| t["enumValues"].as_array())
            .into_iter()
            .flatten()
            .filter_map(|v| v["name"].as_str().map(str::to_owned))
            .collect()
    };
    let mut arguments = 0;
    for t in types {
        let input = t["name"].as_str().unwrap_or_default();
        if t["kind"] != "INPUT_OBJECT" || !(input.ends_with("Filter") || input.ends_with("Order")) {
            continue;
        }
        for f in t["inputFields"].as_array().into_iter().flatten() {
            let field = f["name"].as_str().unwrap_or_default();
            arguments += 1;
            let forms: Vec<&api::permissions::FilterRule> = FILTERS
                .iter()
                .filter(|r| r.input == input && r.field == field)
                .collect();
            assert!(
                !forms.is_empty(),
                "`{input}.{field}` has no filter rule in api/src/permissions.rs"
            );
            // An order field names what it compares by its value: a rule for each.
            let type_name = f["type"]["name"]
                .as_str()
                .or(f["type"]["ofType"]["name"].as_str());
            if let Some(order_fields) = type_name.filter(|name| name.ends_with("OrderField")) {
                for value in enum_values(order_fields) {
                    assert!(
                        filter_rule(input, field, &value).is_some(),
                        "ordering by `{value}` has no filter rule"
                    );
                }
            }
        }
    }
    assert!(arguments > 30, "the filters were found: {arguments}");
    for rule in FILTERS {
        for (type_name, field) in rule.reads {
            assert!(
                fields.contains(&((*type_name).to_owned(), (*field).to_owned())),
                "the filter rule of `{}.{}` reads `{type_name}.{field}`, no field of the schema",
                rule.input,
                rule.field
            );
        }
    }
}
