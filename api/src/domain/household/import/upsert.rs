//! One household matched by its number and written where it differs from
//! the register, as the mutations would write it.

use chrono::Utc;
use entity::enums::{PovertyCause, Relation, StatusAction};
use entity::{
    household, household_cause, household_income, measure, member, region, status_change,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use std::collections::HashMap;

use super::Outcome;
use super::check::{check, check_status};
use super::create::with_id;
use super::entry::Entry;
use crate::access::Viewer;
use crate::audit::{self, Actor};
use crate::domain::card::{self, household_snapshot, income_snapshot, member_snapshot};
use crate::domain::household::duplicate::ensure_not_on_file;
use crate::domain::household::record::{
    HouseholdRecord, IncomeRecord, MeasureRecord, StatusRecord,
};
use crate::domain::household::replace_causes;
use crate::domain::lifecycle::{self, Standing, State};
use crate::domain::plan;
use crate::domain::write;
use crate::error::{ApiError, ApiResult};

/// Checks a household record and writes what differs from the register; a
/// new household takes the ID `reserved` for it, if any.
pub async fn upsert(
    txn: &DatabaseTransaction,
    actor: &Actor,
    viewer: &Viewer,
    villages: &HashMap<String, region::Model>,
    record: HouseholdRecord,
    reserved: Option<i64>,
) -> ApiResult<Outcome> {
    let existing = write::one_locked(
        txn,
        household::Entity::find().filter(household::Column::Number.eq(record.number.trim())),
    )
    .await?;
    let on_file = match &existing {
        Some(household) => documented_history(txn, household, &record).await?,
        None => 0,
    };
    let now = Utc::now();
    let checked = check(villages, record, existing.as_ref(), now)?;
    let mut row = checked.household;
    let mut change = CardChange {
        txn,
        viewer,
        household_id: 0,
        touched: false,
        entry: Entry::default(),
    };
    let outcome = match &existing {
        None => {
            let mut active = row.clone().into_active_model();
            active.id = reserved.map_or(sea_orm::ActiveValue::NotSet, Set);
            row = active.insert(txn).await?;
            change.household_id = row.id;
            change.touched = true;
            change.entry.card(None, household_snapshot(&row));
            Outcome::Created
        }
        Some(before) => {
            change.household_id = before.id;
            if row != *before {
                change.touch().await?;
                row.version = before.version + 1;
                row.updated_at = now;
                row = row.into_active_model().reset_all().update(txn).await?;
                change
                    .entry
                    .card(Some(household_snapshot(before)), household_snapshot(&row));
            }
            Outcome::Unchanged
        }
    };
    change.causes(row.main_cause, &checked.other_causes).await?;
    change
        .members(checked.members.into_iter().enumerate().collect())
        .await?;
    change.incomes(&checked.incomes).await?;
    change.history(&checked.history[on_file..]).await?;
    change.plan(checked.plan).await?;
    if !change.touched {
        return Ok(outcome);
    }
    let created = matches!(outcome, Outcome::Created);
    let entry = change.entry.into_change(change.household_id, created);
    audit::record_all(txn, actor, vec![entry]).await?;
    Ok(match outcome {
        Outcome::Unchanged => {
            card::record_change(txn, change.household_id).await?;
            Outcome::Updated
        }
        // A new card's first revision is kept when it first changes, as a seeded card's is.
        created => created,
    })
}

/// Checks a file's status history against a household on file: it begins
/// with the entries on record (the history is append-only), and the rest must
/// be documented moves of the lifecycle from where the household stands, none
/// of them a decision the household's open proposal is still waiting for.
/// Returns how many entries are on record.
async fn documented_history(
    txn: &DatabaseTransaction,
    household: &household::Model,
    record: &HouseholdRecord,
) -> ApiResult<usize> {
    let on_file: Vec<StatusRecord> = status_change::Entity::find()
        .filter(status_change::Column::HouseholdId.eq(household.id))
        .order_by_asc(status_change::Column::At)
        .order_by_asc(status_change::Column::Id)
        .all(txn)
        .await?
        .iter()
        .map(StatusRecord::from)
        .collect();
    let records = &record.status_history;
    if on_file.len() > records.len() || records[..on_file.len()] != on_file[..] {
        return Err(ApiError::bad_input(
            "statusHistory",
            format!(
                "the status history is append-only: the file's must begin with the {} entries on record",
                on_file.len()
            ),
        ));
    }
    let from = Standing {
        state: State {
            status: household.status,
            monitoring: household.monitoring,
        },
        enrolled_year: household.enrolled_year,
        lifted_out_year: household.lifted_out_year,
    };
    check_status(record, from, on_file.len())?;
    let decides = records[on_file.len()..].iter().position(|r| {
        matches!(
            r.action,
            StatusAction::Enrolled | StatusAction::LiftedOut | StatusAction::Removed
        )
    });
    if let Some(at) = decides
        && let Some(open) = lifecycle::open_proposal(txn, household.id).await?
    {
        return Err(ApiError::bad_input(
            format!("statusHistory[{}]", on_file.len() + at),
            format!(
                "the household's proposal is in progress (stage {}, notice {} to {}): \
                 its status is decided through that proposal, not by a file",
                lifecycle::stage_name(open.stage),
                open.notice_starts_on,
                open.notice_ends_on
            ),
        ));
    }
    Ok(on_file.len())
}

/// The writes to one household's card, keeping its revisions and the audit trail.
struct CardChange<'a> {
    txn: &'a DatabaseTransaction,
    /// Who imports: what a duplicate-person check may tell them.
    viewer: &'a Viewer,
    household_id: i64,
    /// Whether anything was written yet.
    touched: bool,
    /// What the household's one audit entry is to record.
    entry: Entry,
}

impl CardChange<'_> {
    /// Call before each write: the first keeps the card as it stood.
    async fn touch(&mut self) -> ApiResult<()> {
        if !self.touched {
            card::keep_before_change(self.txn, self.household_id).await?;
            self.touched = true;
        }
        Ok(())
    }

    /// `others` sorted, each once.
    async fn causes(&mut self, main: PovertyCause, others: &[PovertyCause]) -> ApiResult<()> {
        let mut on_file: Vec<_> = household_cause::Entity::find()
            .filter(household_cause::Column::HouseholdId.eq(self.household_id))
            .all(self.txn)
            .await?
            .into_iter()
            .map(|c| c.cause)
            .collect();
        on_file.sort();
        if on_file == others {
            return Ok(());
        }
        self.touch().await?;
        self.entry
            .replaced("otherCauses", Some(json!(on_file)), json!(others));
        replace_causes(self.txn, self.household_id, main, others).await
    }

    /// Members matched by ID number, in the file's order (new ones get their
    /// IDs in it), except that a head stepping down goes first: the register
    /// holds one current head at a time.
    async fn members(&mut self, mut rows: Vec<(usize, member::Model)>) -> ApiResult<()> {
        let on_file = member::Entity::find()
            .filter(member::Column::HouseholdId.eq(self.household_id))
            .all(self.txn)
            .await?;
        let is_head = |m: &member::Model| m.is_active && m.relation == Relation::Head;
        let steps_down = |m: &member::Model| {
            !is_head(m)
                && on_file
                    .iter()
                    .any(|f| f.id_number == m.id_number && is_head(f))
        };
        rows.sort_by_key(|(_, m)| !steps_down(m));
        let mut fresh = Vec::new();
        for (i, mut row) in rows {
            row.household_id = self.household_id;
            match on_file.iter().find(|m| m.id_number == row.id_number) {
                Some(before) => {
                    row.id = before.id;
                    row.version = before.version;
                    row.created_at = before.created_at;
                    row.updated_at = before.updated_at;
                    if row == *before {
                        continue;
                    }
                    if row.is_active && !before.is_active {
                        let field = format!("members[{i}].idNumber");
                        ensure_not_on_file(
                            self.txn,
                            self.viewer,
                            &field,
                            &row.id_number,
                            Some(before.id),
                        )
                        .await?;
                    }
                    self.touch().await?;
                    row.version += 1;
                    row.updated_at = Utc::now();
                    let saved = row.into_active_model().reset_all().update(self.txn).await?;
                    self.entry.record(
                        "members",
                        Some(with_id(member_snapshot(before), before.id)),
                        with_id(member_snapshot(&saved), saved.id),
                    );
                }
                None => fresh.push((i, row)),
            }
        }
        self.new_members(fresh).await
    }

    /// Members new to the household, checked not to be current elsewhere and
    /// inserted with one statement, in the file's order.
    async fn new_members(&mut self, fresh: Vec<(usize, member::Model)>) -> ApiResult<()> {
        if fresh.is_empty() {
            return Ok(());
        }
        let current: Vec<&str> = fresh
            .iter()
            .filter(|(_, m)| m.is_active)
            .map(|(_, m)| m.id_number.as_str())
            .collect();
        let elsewhere = member::Entity::find()
            .filter(member::Column::IdNumber.is_in(current))
            .filter(member::Column::IsActive.eq(true))
            .one(self.txn)
            .await?;
        if let Some(other) = elsewhere
            && let Some((i, _)) = fresh.iter().find(|(_, m)| m.id_number == other.id_number)
        {
            let field = format!("members[{i}].idNumber");
            ensure_not_on_file(self.txn, self.viewer, &field, &other.id_number, None).await?;
        }
        self.touch().await?;
        let rows = fresh.into_iter().map(|(_, row)| {
            let mut active = row.into_active_model();
            active.id = sea_orm::ActiveValue::NotSet;
            active
        });
        let mut saved = member::Entity::insert_many(rows)
            .exec_with_returning(self.txn)
            .await?;
        saved.sort_by_key(|m| m.id);
        for member in saved {
            self.entry.record(
                "members",
                None,
                with_id(member_snapshot(&member), member.id),
            );
        }
        Ok(())
    }

    /// Incomes matched by year; new years go in with one statement.
    async fn incomes(&mut self, records: &[IncomeRecord]) -> ApiResult<()> {
        let on_file = household_income::Entity::find()
            .filter(household_income::Column::HouseholdId.eq(self.household_id))
            .all(self.txn)
            .await?;
        let mut fresh = Vec::new();
        for r in records {
            let before = on_file.iter().find(|i| i.year == r.year);
            if before.is_some_and(|b| IncomeRecord::from(b) == *r) {
                continue;
            }
            self.touch().await?;
            let row = r.row(
                self.household_id,
                before.map_or(1, |b| b.version + 1),
                Utc::now(),
            );
            self.entry.record(
                "incomes",
                before.map(income_snapshot),
                income_snapshot(&row),
            );
            match before {
                Some(_) => {
                    row.into_active_model().reset_all().update(self.txn).await?;
                }
                None => fresh.push(row.into_active_model()),
            }
        }
        if !fresh.is_empty() {
            household_income::Entity::insert_many(fresh)
                .exec_without_returning(self.txn)
                .await?;
        }
        Ok(())
    }

    /// Appends the entries new to the register, already checked.
    async fn history(&mut self, records: &[StatusRecord]) -> ApiResult<()> {
        for r in records {
            self.touch().await?;
            self.entry.record("statusHistory", None, json!(r));
            r.row(self.household_id).insert(self.txn).await?;
        }
        Ok(())
    }

    async fn plan(&mut self, records: Vec<MeasureRecord>) -> ApiResult<()> {
        let on_file = measure::Entity::find()
            .filter(measure::Column::HouseholdId.eq(self.household_id))
            .all(self.txn)
            .await?;
        for r in records {
            let before = on_file
                .iter()
                .find(|m| m.category == r.category && m.task == r.task);
            if before.is_some_and(|b| MeasureRecord::from(b) == r) {
                continue;
            }
            self.touch().await?;
            let now = Utc::now();
            let mut row = r.row(self.household_id, before.map_or(1, |b| b.version + 1), now);
            let saved = match before {
                Some(b) => {
                    row.id = Set(b.id);
                    row.created_at = Set(b.created_at);
                    row.update(self.txn).await?
                }
                None => row.insert(self.txn).await?,
            };
            self.entry.measure(
                before.map(plan::measure_snapshot),
                plan::measure_snapshot(&saved),
            );
        }
        Ok(())
    }
}
