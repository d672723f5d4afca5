//! Records outside GraphQL responses in the form the API shows them. The
//! snapshots the audit trail keeps (and the conflict errors, the change feed
//! and webhook events send) are keyed by GraphQL fields but hold stored
//! values: enum values as stored (`lifted_out`), rows as numbers, money in
//! fen. [`graphql_form`] rewrites a snapshot's values by its type's fields in
//! the schema itself, so a client reads `LIFTED_OUT`, a global ID and
//! `"3535.00"`, as it would from a query, and a new field needs no new rule.

use std::collections::HashMap;
use std::sync::LazyLock;

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use serde_json::Value;

use super::money::Money;
use super::relay::{NodeKind, global_id};

/// The schema's types, as far as the values of snapshots need them.
struct Shapes {
    /// Object type -> field -> the field's type.
    fields: HashMap<String, HashMap<String, Type>>,
    /// Enum type -> its values, keyed by [`enum_key`].
    enums: HashMap<String, HashMap<String, String>>,
}

static SHAPES: LazyLock<Shapes> = LazyLock::new(|| {
    let mut shapes = Shapes {
        fields: HashMap::new(),
        enums: HashMap::new(),
    };
    // The schema's own SDL: the same document `export-schema` writes.
    let Ok(document) = parse_schema(super::sdl()) else {
        tracing::error!("the schema's SDL does not parse: snapshots keep their stored form");
        return shapes;
    };
    for definition in document.definitions {
        let TypeSystemDefinition::Type(definition) = definition else {
            continue;
        };
        let definition = definition.node;
        let name = definition.name.node.to_string();
        match definition.kind {
            TypeKind::Object(object) => {
                let fields = object
                    .fields
                    .into_iter()
                    .map(|f| (f.node.name.node.to_string(), f.node.ty.node))
                    .collect();
                shapes.fields.insert(name, fields);
            }
            TypeKind::Enum(values) => {
                let values = values
                    .values
                    .into_iter()
                    .map(|v| v.node.value.node.to_string())
                    .map(|v| (enum_key(&v), v))
                    .collect();
                shapes.enums.insert(name, values);
            }
            _ => {}
        }
    }
    shapes
});

/// What an enum value is matched by: its letters and digits, in lower case,
/// so that a stored `lifted_out` finds `LIFTED_OUT`.
fn enum_key(value: &str) -> String {
    value
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// `snapshot`, a record of the GraphQL type `type_name` keyed by its fields,
/// with each value as the field shows it: enum values by their GraphQL names,
/// rows as global IDs (its own `id` too), money as yuan. Values already in
/// that form, and keys that are not fields of the type, are left as they are.
pub fn graphql_form(type_name: &str, snapshot: Value) -> Value {
    object_form(&SHAPES, type_name, snapshot)
}

/// The object type a field of `type_name` holds (one or a list of), if any:
/// what a snapshot nested under that field is a record of.
pub fn object_type_of(type_name: &str, field: &str) -> Option<&'static str> {
    let mut ty = &SHAPES.fields.get(type_name)?.get(field)?.base;
    loop {
        match ty {
            BaseType::List(item) => ty = &item.base,
            BaseType::Named(name) => {
                let (name, _) = SHAPES.fields.get_key_value(name.as_str())?;
                return Some(name.as_str());
            }
        }
    }
}

fn object_form(shapes: &Shapes, type_name: &str, value: Value) -> Value {
    let Some(types) = shapes.fields.get(type_name) else {
        return value;
    };
    let Value::Object(fields) = value else {
        return value;
    };
    let own = NodeKind::named(type_name);
    Value::Object(
        fields
            .into_iter()
            .map(|(key, value)| {
                let value = match (key.as_str(), own, types.get(&key)) {
                    ("id", Some(kind), _) => row_form(kind, value),
                    (_, _, Some(ty)) => value_form(shapes, ty, value),
                    _ => value,
                };
                (key, value)
            })
            .collect(),
    )
}

fn value_form(shapes: &Shapes, ty: &Type, value: Value) -> Value {
    match (&ty.base, value) {
        (BaseType::List(item), Value::Array(values)) => Value::Array(
            values
                .into_iter()
                .map(|v| value_form(shapes, item, v))
                .collect(),
        ),
        (BaseType::Named(name), value) => named_form(shapes, name, value),
        (_, value) => value,
    }
}

fn named_form(shapes: &Shapes, type_name: &str, value: Value) -> Value {
    if let Some(values) = shapes.enums.get(type_name) {
        return match &value {
            Value::String(stored) => values
                .get(&enum_key(stored))
                .map_or(value, |name| Value::String(name.clone())),
            _ => value,
        };
    }
    if type_name == "Money" {
        return match value.as_i64() {
            Some(fen) => Value::String(Money(fen).to_string()),
            None => value,
        };
    }
    if let Some(kind) = NodeKind::named(type_name) {
        return row_form(kind, value);
    }
    object_form(shapes, type_name, value)
}

/// A row's number as its global ID.
fn row_form(kind: NodeKind, value: Value) -> Value {
    match value.as_i64() {
        Some(id) => Value::String(global_id(kind, id).0),
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_household_snapshot_takes_the_form_of_the_api() {
        let shown = graphql_form(
            "Household",
            json!({
                "number": "5201020010010001",
                "village": 7,
                "status": "lifted_out",
                "attribute": "minimum_living_guarantee",
                "conditions": { "dilapidatedGrade": "c", "roadDistanceKm": 1.5 },
                "version": 3,
                "reason": "lifted_out",
            }),
        );
        assert_eq!(shown["status"], "LIFTED_OUT");
        assert_eq!(shown["attribute"], "MINIMUM_LIVING_GUARANTEE");
        assert_eq!(shown["village"], global_id(NodeKind::Village, 7).0);
        assert_eq!(shown["number"], "5201020010010001");
        assert_eq!(shown["version"], 3);
        assert_eq!(shown["reason"], "lifted_out", "not a field: left alone");
        assert_eq!(shown["conditions"]["roadDistanceKm"], 1.5);
        assert_eq!(shown["conditions"]["dilapidatedGrade"], "C");
    }

    #[test]
    fn ids_money_and_lists_take_the_form_of_the_api() {
        let income = graphql_form("HouseholdIncome", json!({ "year": 2024, "wage": 353500 }));
        assert_eq!(income, json!({ "year": 2024, "wage": "3535.00" }));
        let member = graphql_form(
            "Member",
            json!({ "id": 4, "household": 12, "relation": "son", "name": "王小明" }),
        );
        assert_eq!(member["id"], global_id(NodeKind::Member, 4).0);
        assert_eq!(member["household"], global_id(NodeKind::Household, 12).0);
        assert_eq!(member["relation"], "SON");
        assert_eq!(member["name"], "王小明");
        // Already in the API's form: unchanged.
        let again = graphql_form("Member", member.clone());
        assert_eq!(again, member);
        let pairing = graphql_form("Pairing", json!({ "id": 5, "helper": "helper-1" }));
        assert_eq!(pairing["id"], global_id(NodeKind::Pairing, 5).0);
        assert_eq!(pairing["helper"], "helper-1");
    }
}
