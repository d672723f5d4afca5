//! Status changes the county makes directly, without a proposal and its
//! notice: a household lifted out returns to poverty (返贫), a wrongly
//! included one is removed (清退). Both still go through the lifecycle's table
//! and its one status write.

use entity::household;
use sea_orm::DatabaseConnection;

use super::household::change::{check_household_version, lock_household};
use super::lifecycle::{
    Action, StatusChangeOf, change_status, next_state, open_proposal, stage_name,
};
use super::proposal::MAX_TEXT;
use super::text::free_text;
use super::{monitoring, write};
use crate::access::Viewer;
use crate::audit::Actor;
use crate::error::{ApiError, ApiResult};

/// Returns a household lifted out of poverty to poverty (返贫).
pub async fn return_to_poverty(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    household_id: i64,
    version: i32,
    reason: &str,
) -> ApiResult<household::Model> {
    direct_change(
        db,
        viewer,
        actor,
        household_id,
        version,
        reason,
        Action::ReturnToPoverty,
    )
    .await
}

/// Removes a wrongly included household from the register (清退).
pub async fn remove(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    household_id: i64,
    version: i32,
    reason: &str,
) -> ApiResult<household::Model> {
    direct_change(
        db,
        viewer,
        actor,
        household_id,
        version,
        reason,
        Action::Remove,
    )
    .await
}

/// A status change taken directly, without a proposal: return or removal. A
/// removal also ends the household's open monitoring case.
async fn direct_change(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    household_id: i64,
    version: i32,
    reason: &str,
    action: Action,
) -> ApiResult<household::Model> {
    let reason = free_text("reason", reason, MAX_TEXT)?;
    let txn = write::begin(db).await?;
    let home = lock_household(&txn, viewer, household_id).await?;
    check_household_version(viewer, version, &home)?;
    let to = next_state(&home, action, "householdId")?;
    if action == Action::Remove {
        if let Some(open) = open_proposal(&txn, home.id).await? {
            return Err(ApiError::bad_input(
                "householdId",
                format!(
                    "the household has a proposal in progress (stage {}); withdraw it first",
                    stage_name(open.stage)
                ),
            ));
        }
        let note = format!("ended by removal: {reason}");
        monitoring::end_open_case(&txn, actor, home.id, &note).await?;
    }
    let change = StatusChangeOf {
        action,
        to,
        year: None,
        reason: &reason,
        proposal_id: None,
    };
    let after = change_status(&txn, actor, &home, change).await?;
    txn.commit().await?;
    Ok(after)
}
