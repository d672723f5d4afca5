//! The duplicate-person check (重复建档校验): a person is a current member of
//! one household at most, anywhere in the county. The check looks beyond the
//! caller's scope, so its answer tells whether an ID number is on file: a
//! caller who does not read ID numbers in full is told only that the person is
//! registered elsewhere; each such answer is recorded as a reveal of the
//! number; an account that spends its hourly budget of such answers is locked
//! and the county office alerted.

use chrono::{TimeDelta, Utc};
use entity::{household, member, reveal};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};

use crate::access::{self, Viewer};
use crate::account;
use crate::audit::Actor;
use crate::domain::write;
use crate::error::{ApiError, ApiResult};
use crate::lockout::{self, AlertReason};
use crate::permissions::{self, Access};

/// The purpose a probe answer is recorded under in the reveal log.
pub const PROBE_PURPOSE: &str = "duplicate-person check (重复建档校验)";

/// Refuses a person already a current member of a household (other than as
/// the member `except`). Only a caller who reads ID numbers in full and
/// reaches that household is told which one; anyone else gets
/// [`ApiError::PersonOnFile`], which [`settle`] records and counts.
pub async fn ensure_not_on_file(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    field: &str,
    id_number: &str,
    except: Option<i64>,
) -> ApiResult<()> {
    let mut existing = member::Entity::find()
        .filter(member::Column::IdNumber.eq(id_number))
        .filter(member::Column::IsActive.eq(true));
    if let Some(id) = except {
        existing = existing.filter(member::Column::Id.ne(id));
    }
    let Some(other) = existing.one(db).await? else {
        return Ok(());
    };
    let reads_in_full = permissions::rule_of("Member", "idNumber")
        .is_some_and(|rule| permissions::access_of(viewer, rule) == Access::Full);
    let home = if reads_in_full {
        access::select::<household::Entity>(viewer)
            .filter(household::Column::Id.eq(other.household_id))
            .one(db)
            .await?
    } else {
        None
    };
    match home {
        Some(home) => Err(ApiError::bad_input(
            field,
            format!(
                "this person is already a member of household {}; move them instead",
                home.number
            ),
        )),
        None => Err(ApiError::PersonOnFile {
            field: field.to_owned(),
            member_id: other.id,
        }),
    }
}

/// Settles the outcome of a change that ran the check, after its transaction
/// ended: an answer that a person is on file elsewhere is recorded as a reveal
/// of their ID number by the caller, and counted; the answer that spends the
/// caller's `budget` per hour locks the account and alerts the county office.
pub async fn settle<T>(
    db: &DatabaseConnection,
    viewer: &Viewer,
    budget: u32,
    outcome: ApiResult<T>,
) -> ApiResult<T> {
    let Err(ApiError::PersonOnFile { field, member_id }) = outcome else {
        return outcome;
    };
    let user = viewer.user()?;
    let now = Utc::now();
    let since = now - TimeDelta::hours(1);
    let txn = write::begin(db).await?;
    reveal::ActiveModel {
        user_id: Set(user.id),
        target_type: Set("Member".into()),
        target_id: Set(member_id),
        field: Set("idNumber".into()),
        purpose: Set(format!("{PROBE_PURPOSE}: `{field}`")),
        at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let answers = reveal::Entity::find()
        .filter(reveal::Column::UserId.eq(user.id))
        .filter(reveal::Column::Purpose.starts_with(PROBE_PURPOSE))
        .filter(reveal::Column::At.gt(since))
        .count(&txn)
        .await?;
    if answers == u64::from(budget) {
        let actor = Actor::system("duplicate-person check");
        account::lock_user(&txn, &actor, user.id).await?;
        tracing::warn!(
            user.id = user.id,
            answers,
            "an account spent its budget of duplicate-person answers"
        );
        let details = serde_json::json!({
            "username": user.username,
            "answers": answers,
            "since": since,
        });
        lockout::record_alert(&txn, &actor, user.id, AlertReason::RegisterProbed, details).await?;
    }
    txn.commit().await?;
    Err(ApiError::PersonOnFile { field, member_id })
}
