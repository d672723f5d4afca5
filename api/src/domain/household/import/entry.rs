//! The one audit entry an import writes per household it changes: the card's
//! fields that changed, and under the `Household` fields they are read by
//! (`otherCauses`, `members`, `incomes`, `statusHistory`, `plan.measures`)
//! the records added or changed, each before and after, so that the field
//! policy redacts them as it redacts those fields.

use serde_json::{Map, Value};

use crate::audit::Change;

/// The action of an import's entry.
pub const ACTION: &str = "household.import";

/// What one import changed of one household.
#[derive(Default)]
pub struct Entry {
    before: Map<String, Value>,
    after: Map<String, Value>,
}

impl Entry {
    /// The card's fields (snapshots of `card::household_snapshot`) that differ.
    pub fn card(&mut self, before: Option<Value>, after: Value) {
        let Value::Object(after) = after else {
            return;
        };
        let before = match before {
            Some(Value::Object(before)) => before,
            _ => Map::new(),
        };
        for (key, value) in after {
            match before.get(&key) {
                Some(old) if *old == value => {}
                Some(old) => {
                    self.before.insert(key.clone(), old.clone());
                    self.after.insert(key, value);
                }
                None => {
                    self.after.insert(key, value);
                }
            }
        }
    }

    /// A field of the card that is replaced whole (`otherCauses`).
    pub fn replaced(&mut self, field: &str, before: Option<Value>, after: Value) {
        if let Some(before) = before {
            self.before.insert(field.to_owned(), before);
        }
        self.after.insert(field.to_owned(), after);
    }

    /// A record of a list of the card (`members`...): absent before when new.
    pub fn record(&mut self, list: &str, before: Option<Value>, after: Value) {
        if let Some(before) = before {
            push(&mut self.before, list, before);
        }
        push(&mut self.after, list, after);
    }

    /// A measure of the household's plan, before (when not new) and after.
    pub fn measure(&mut self, before: Option<Value>, after: Value) {
        let plan = |side: &mut Map<String, Value>| -> Map<String, Value> {
            match side.remove("plan") {
                Some(Value::Object(plan)) => plan,
                _ => Map::new(),
            }
        };
        if let Some(before) = before {
            let mut p = plan(&mut self.before);
            push(&mut p, "measures", before);
            self.before.insert("plan".into(), Value::Object(p));
        }
        let mut p = plan(&mut self.after);
        push(&mut p, "measures", after);
        self.after.insert("plan".into(), Value::Object(p));
    }

    /// The entry of household `household_id`; `created` leaves out the before.
    pub fn into_change(self, household_id: i64, created: bool) -> Change<'static> {
        Change {
            action: ACTION,
            entity_type: "Household",
            entity_id: household_id,
            before: (!created).then_some(Value::Object(self.before)),
            after: Some(Value::Object(self.after)),
        }
    }
}

fn push(side: &mut Map<String, Value>, list: &str, value: Value) {
    match side
        .entry(list.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()))
    {
        Value::Array(values) => values.push(value),
        other => *other = Value::Array(vec![value]),
    }
}
