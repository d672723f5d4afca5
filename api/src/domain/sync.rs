//! Offline sync for field apps (离线同步): a cadre's or helper's phone keeps
//! the households it reaches (with their members, plans, measures and visits,
//! as the API shows them) and catches up when the network returns. A first
//! sync pages through the households in scope, remembering the audit trail's
//! head when it began; from then on the app asks what changed after its
//! cursor, and gets the current state of every household in scope that a
//! change touched, and a tombstone for each one that left its scope (moved
//! away, unpaired) after it had reached it. Replaying pages in order converges
//! on the server's view: each page gives whole households as they stand now.

use std::collections::BTreeSet;

use entity::{audit_entry, household};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::access::{self, Viewer};
use crate::audit;
use crate::error::ApiResult;

/// The records whose changes touch a household a field app keeps.
pub const SYNC_TYPES: [&str; 9] = [
    "Household",
    "HouseholdIncome",
    "Member",
    "Measure",
    "Visit",
    "Pairing",
    "BenefitLink",
    "MonitoringCase",
    "Proposal",
];

/// Where a sync stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncCursor {
    /// Paging through the households in scope, after household `after_id`;
    /// the trail's head was `since` when the first sync began.
    First { since: i64, after_id: i64 },
    /// Caught up with the trail up to entry `since`.
    Since(i64),
}

/// One page of a sync.
pub struct SyncPage {
    /// Households in scope as they stand now, by ID.
    pub households: Vec<household::Model>,
    /// Households that left the reader's scope.
    pub removed: Vec<i64>,
    pub next: SyncCursor,
    /// Whether to ask again at once with `next`.
    pub has_more: bool,
}

/// The next page of `viewer`'s sync from `from` (none: a first sync), of at
/// most `first` households or changes.
pub async fn page(
    db: &DatabaseConnection,
    viewer: &Viewer,
    from: Option<SyncCursor>,
    first: u64,
) -> ApiResult<SyncPage> {
    let (since, after_id) = match from {
        Some(SyncCursor::Since(since)) => return changes(db, viewer, since, first).await,
        Some(SyncCursor::First { since, after_id }) => (since, after_id),
        // Read before the first household, so that a change committed while
        // the first sync pages is caught up afterwards.
        None => (audit::head(db).await?.map_or(0, |head| head.sequence), 0),
    };
    let mut households = access::select::<household::Entity>(viewer)
        .filter(household::Column::Id.gt(after_id))
        .order_by_asc(household::Column::Id)
        .limit(first + 1)
        .all(db)
        .await?;
    let more_households = households.len() as u64 > first;
    households.truncate(usize::try_from(first).unwrap_or(usize::MAX));
    let next = match households.last() {
        Some(last) if more_households => SyncCursor::First {
            since,
            after_id: last.id,
        },
        _ => SyncCursor::Since(since),
    };
    Ok(SyncPage {
        households,
        removed: Vec::new(),
        next,
        // After the last household, the changes made meanwhile follow.
        has_more: true,
    })
}

/// The households touched by the changes after entry `since`.
async fn changes(
    db: &DatabaseConnection,
    viewer: &Viewer,
    since: i64,
    first: u64,
) -> ApiResult<SyncPage> {
    let mut entries = audit_entry::Entity::find()
        .filter(audit_entry::Column::Id.gt(since))
        .filter(audit_entry::Column::EntityType.is_in(SYNC_TYPES))
        .order_by_asc(audit_entry::Column::Id)
        .limit(first + 1)
        .all(db)
        .await?;
    let has_more = entries.len() as u64 > first;
    entries.truncate(usize::try_from(first).unwrap_or(usize::MAX));
    let next = SyncCursor::Since(entries.last().map_or(since, |entry| entry.id));
    let touched: BTreeSet<i64> = entries.iter().filter_map(household_of).collect();
    let households = if touched.is_empty() {
        Vec::new()
    } else {
        access::select::<household::Entity>(viewer)
            .filter(household::Column::Id.is_in(touched.iter().copied()))
            .order_by_asc(household::Column::Id)
            .all(db)
            .await?
    };
    let mut removed = Vec::new();
    for id in touched {
        if households.iter().any(|home| home.id == id) {
            continue;
        }
        if access::reached_before(db, viewer, id, &entries).await? {
            removed.push(id);
        }
    }
    Ok(SyncPage {
        households,
        removed,
        next,
        has_more,
    })
}

/// The household an audit entry is a change of: the entry's own record for a
/// household or its income, else the `household` its snapshot names (a
/// number, or a global ID in the snapshots that keep the API's form).
pub fn household_of(entry: &audit_entry::Model) -> Option<i64> {
    if matches!(entry.entity_type.as_str(), "Household" | "HouseholdIncome") {
        return Some(entry.entity_id);
    }
    [&entry.after, &entry.before]
        .into_iter()
        .flatten()
        .filter_map(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .find_map(|snapshot| match snapshot.get("household")? {
            serde_json::Value::Number(id) => id.as_i64(),
            serde_json::Value::String(global) => super::node::number_of(global, "Household"),
            _ => None,
        })
}
