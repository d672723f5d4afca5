//! The change feed (变更订阅): every change to the register, in commit order,
//! read from a cursor. It is the audit trail seen from the other side: each
//! change appends its audit entry in its own transaction, and entries are
//! numbered one transaction at a time (`audit::record` holds the chain lock
//! until commit), so an entry never becomes visible behind one already read.
//! Polling from the last cursor therefore never misses or repeats a change,
//! however many writes commit meanwhile. Each page and each webhook event
//! carries a head of the audit chain, so that a consumer that keeps the last
//! one it saw can ask later whether the trail still holds it.

use async_graphql::{Context, ID, Object, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entity::audit_entry;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::access::Viewer;
use crate::audit::{self, ChainHead};
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{db, viewer};
use crate::graphql::json::Json;
use crate::graphql::oversight::AuditChainHead;
use crate::graphql::relay::{NodeKind, global_id};
use crate::permissions;

/// Changes read at most at a time.
const MAX_PAGE: i32 = 1000;
const DEFAULT_PAGE: i32 = 100;

/// The records of the register the feed carries: the audit trail's entity
/// type, and the object it is a change of (an income is its household's).
pub(crate) const FEED_TYPES: [(&str, NodeKind); 18] = [
    ("Household", NodeKind::Household),
    ("HouseholdIncome", NodeKind::Household),
    ("Member", NodeKind::Member),
    ("Enterprise", NodeKind::Enterprise),
    ("Project", NodeKind::Project),
    ("Proposal", NodeKind::Proposal),
    ("Objection", NodeKind::Objection),
    ("MonitoringCase", NodeKind::MonitoringCase),
    ("Measure", NodeKind::Measure),
    ("Visit", NodeKind::Visit),
    ("HelperUnit", NodeKind::HelperUnit),
    ("UnitPairing", NodeKind::UnitPairing),
    ("Pairing", NodeKind::Pairing),
    ("VillageStaff", NodeKind::VillageStaff),
    ("FundSource", NodeKind::FundSource),
    ("FundEntry", NodeKind::FundEntry),
    ("BenefitLink", NodeKind::BenefitLink),
    ("Complaint", NodeKind::Complaint),
];

/// Refuses a name that is not one of the feed's types; `field` names the argument.
pub(crate) fn check_types(field: &str, names: &[String]) -> ApiResult<()> {
    match names.iter().find(|name| kind_of(name).is_none()) {
        Some(name) => {
            let known: Vec<&str> = FEED_TYPES.iter().map(|(n, _)| *n).collect();
            Err(ApiError::bad_input(
                field,
                format!("`{name}` is not one of {}", known.join(", ")),
            ))
        }
        None => Ok(()),
    }
}

pub(crate) fn kind_of(entity_type: &str) -> Option<NodeKind> {
    FEED_TYPES
        .iter()
        .find(|(name, _)| *name == entity_type)
        .map(|(_, kind)| *kind)
}

const CURSOR_PREFIX: &str = "change:";

pub(crate) fn encode_cursor(sequence: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{sequence}"))
}

fn decode_cursor(cursor: &str) -> ApiResult<i64> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(CURSOR_PREFIX)?.parse().ok())
        .ok_or_else(|| ApiError::bad_input("after", format!("`{cursor}` is not a change cursor")))
}

/// An audit entry of the feed, and the kind of object it is a change of.
pub struct Change(audit_entry::Model, NodeKind);

/// One change to a record of the register (变更).
#[Object]
impl Change {
    /// Where the change stands in the feed: read on with `after` set to it.
    async fn cursor(&self) -> String {
        encode_cursor(self.0.id)
    }

    /// When it was committed.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// What was done, e.g. `household.update` or `member.create`.
    async fn action(&self) -> &str {
        &self.0.action
    }

    /// The type of record changed, e.g. `Household` or `HouseholdIncome`.
    async fn entity_type(&self) -> &str {
        &self.0.entity_type
    }

    /// The global ID of the object changed (for an income, its household's).
    async fn id(&self) -> ID {
        global_id(self.1, self.0.entity_id)
    }

    /// The record's new state, keyed by its GraphQL fields and in their form
    /// (enum names, global IDs), with the fields the caller may not read left
    /// out or masked; null for a removal.
    async fn state(&self, ctx: &Context<'_>) -> ApiResult<Option<Json>> {
        Ok(state_of(&self.0, viewer(ctx)?).map(Json))
    }

    /// Whether the record was removed (a tombstone: no state follows).
    async fn removed(&self) -> bool {
        self.0.after.is_none()
    }
}

/// The state an audit entry records, as `viewer` may read it: shaped by the
/// field policy and in the API's form (see [`permissions::redact`]).
fn state_of(entry: &audit_entry::Model, viewer: &Viewer) -> Option<serde_json::Value> {
    entry
        .after
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .map(|value| permissions::redact(viewer, &entry.entity_type, value))
}

/// The ID of the event of a change: a global ID, the same in the event's
/// body, its `x-fupin-event-id` header and the webhook's delivery log.
pub(crate) fn event_id(sequence: i64) -> String {
    global_id(NodeKind::Change, sequence).0
}

/// A change as a webhook event carries it: the fields of [`Change`], with the
/// state shaped by `viewer`'s field policy, and the chain head its entry made.
pub(crate) fn event(
    entry: &audit_entry::Model,
    kind: NodeKind,
    viewer: &Viewer,
) -> serde_json::Value {
    let head = ChainHead::from(entry);
    serde_json::json!({
        "eventId": event_id(entry.id),
        "cursor": encode_cursor(entry.id),
        "at": entry.at,
        "action": entry.action,
        "entityType": entry.entity_type,
        "id": global_id(kind, entry.entity_id).to_string(),
        "state": state_of(entry, viewer),
        "removed": entry.after.is_none(),
        "chainHead": { "sequence": head.sequence, "hash": head.hash, "at": head.at },
    })
}

/// A page of the feed (变更页).
#[derive(SimpleObject)]
pub struct ChangePage {
    /// The changes after the cursor given, oldest first.
    changes: Vec<Change>,
    /// The cursor to read on from: the last change's, or the one given when
    /// there was nothing new.
    end_cursor: Option<String>,
    /// Whether more changes follow at once.
    has_more: bool,
    /// The newest entry of the audit trail, read after the page's changes
    /// (审计链头); null while the trail is empty. Keep the last one: a later
    /// head with a lower `sequence` (or the same and another hash), or
    /// `verifyAuditChain(head:)` answering `holdsHead: false`, means entries
    /// were cut off or rewritten.
    chain_head: Option<AuditChainHead>,
}

#[derive(Default)]
pub struct ExchangeQuery;

#[Object]
impl ExchangeQuery {
    /// Changes to the register after a cursor, in commit order (变更订阅): for
    /// the provincial system, the county office and auditors. Start without a
    /// cursor; keep the last `endCursor`.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The `endCursor` read last; none to start from the beginning.")]
        after: Option<String>,
        #[graphql(desc = "How many changes at most (1 to 1000; 100 if not given).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Only changes of these types, e.g. `Household`, `Member`.")]
        entity_types: Option<Vec<String>>,
    ) -> ApiResult<ChangePage> {
        let first = first.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(ApiError::bad_input(
                "first",
                format!("from 1 to {MAX_PAGE} changes at a time"),
            ));
        }
        let after_sequence = after.as_deref().map(decode_cursor).transpose()?;
        let types: Vec<&str> = match &entity_types {
            Some(asked) => {
                check_types("entityTypes", asked)?;
                asked.iter().map(String::as_str).collect()
            }
            None => FEED_TYPES.iter().map(|(name, _)| *name).collect(),
        };
        let limit = u64::try_from(first).unwrap_or(1);
        let db = db(ctx)?;
        let mut rows = audit_entry::Entity::find()
            .filter(audit_entry::Column::Id.gt(after_sequence.unwrap_or(0)))
            .filter(audit_entry::Column::EntityType.is_in(types))
            .order_by_asc(audit_entry::Column::Id)
            .limit(limit + 1)
            .all(db)
            .await?;
        // Read after the rows, so that the head is never behind the page.
        let chain_head = audit::head(db).await?.map(AuditChainHead);
        let has_more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let end_cursor = rows.last().map(|r| encode_cursor(r.id)).or(after);
        Ok(ChangePage {
            changes: rows
                .into_iter()
                .filter_map(|row| kind_of(&row.entity_type).map(|kind| Change(row, kind)))
                .collect(),
            end_cursor,
            has_more,
            chain_head,
        })
    }
}
