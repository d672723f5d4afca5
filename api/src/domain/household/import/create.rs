//! Households new to the register, written together: one statement per table
//! for a whole run of them, and one audit entry per household holding its
//! whole card.

use std::collections::HashMap;

use chrono::Utc;
use entity::{household, household_cause, member};
use sea_orm::{DatabaseTransaction, IntoActiveModel, NotSet, Set};
use serde_json::{Value, json};

use super::check::Checked;
use super::entry::Entry;
use crate::audit::{self, Actor};
use crate::domain::card::{household_snapshot, income_snapshot, member_snapshot};
use crate::domain::plan;
use crate::domain::write::{append_all, insert_all};
use crate::error::{ApiError, ApiResult};

/// Writes checked cards whose numbers are not on file.
pub async fn all(txn: &DatabaseTransaction, actor: &Actor, cards: Vec<Checked>) -> ApiResult<()> {
    let now = Utc::now();
    let households = insert_all(
        txn,
        cards
            .iter()
            .map(|card| household::ActiveModel {
                id: card.id.map_or(NotSet, Set),
                ..card.household.clone().into_active_model()
            })
            .collect(),
    )
    .await?;
    let saved: HashMap<&str, &household::Model> =
        households.iter().map(|h| (h.number.as_str(), h)).collect();
    let mut filed = Vec::with_capacity(cards.len());
    for card in &cards {
        let household = saved
            .get(card.household.number.as_str())
            .ok_or_else(|| ApiError::Internal("an inserted household was not returned".into()))?;
        filed.push((*household, card));
    }

    let (mut causes, mut members, mut incomes, mut history, mut plan) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (household, card) in &filed {
        let id = household.id;
        causes.extend(
            card.other_causes
                .iter()
                .map(|cause| household_cause::ActiveModel {
                    household_id: Set(id),
                    cause: Set(*cause),
                }),
        );
        members.extend(card.members.iter().map(|m| member::ActiveModel {
            id: NotSet,
            household_id: Set(id),
            ..m.clone().into_active_model()
        }));
        incomes.extend(
            card.incomes
                .iter()
                .map(|r| r.row(id, 1, now).into_active_model()),
        );
        history.extend(card.history.iter().map(|r| r.row(id)));
        plan.extend(card.plan.iter().map(|r| r.row(id, 1, now)));
    }
    append_all(txn, causes).await?;
    let members = by_household(insert_all(txn, members).await?, |m| (m.household_id, m.id));
    append_all(txn, incomes).await?;
    append_all(txn, history).await?;
    let plan = by_household(insert_all(txn, plan).await?, |m| (m.household_id, m.id));

    let mut audited = Vec::with_capacity(filed.len());
    for (household, card) in filed {
        let id = household.id;
        let mut entry = Entry::default();
        entry.card(None, household_snapshot(household));
        if !card.other_causes.is_empty() {
            entry.replaced("otherCauses", None, json!(card.other_causes));
        }
        for m in members.get(&id).into_iter().flatten() {
            entry.record("members", None, with_id(member_snapshot(m), m.id));
        }
        for r in &card.incomes {
            entry.record("incomes", None, income_snapshot(&r.row(id, 1, now)));
        }
        for r in &card.history {
            entry.record("statusHistory", None, json!(r));
        }
        for m in plan.get(&id).into_iter().flatten() {
            entry.measure(None, plan::measure_snapshot(m));
        }
        audited.push(entry.into_change(id, true));
    }
    audit::record_all(txn, actor, audited).await
}

/// A record's snapshot with its row number, which an entry of its household needs.
pub fn with_id(mut snapshot: Value, id: i64) -> Value {
    if let Value::Object(fields) = &mut snapshot {
        fields.insert("id".into(), json!(id));
    }
    snapshot
}

/// Saved rows by household, each household's in the order they were numbered.
fn by_household<M>(rows: Vec<M>, key: impl Fn(&M) -> (i64, i64)) -> HashMap<i64, Vec<M>> {
    let mut rows = rows;
    rows.sort_by_key(&key);
    let mut grouped: HashMap<i64, Vec<M>> = HashMap::new();
    for row in rows {
        grouped.entry(key(&row).0).or_default().push(row);
    }
    grouped
}
