//! `sync`: offline sync for field apps (see `domain::sync`). The households
//! come back as the `Household` type itself, so an app selects what it keeps
//! (members, plan, visits...) and the field policy shapes them as anywhere.

use async_graphql::{Context, ID, Object, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::context::{data, db, viewer};
use super::household::Household;
use super::relay::{NodeKind, global_id};
use crate::config::Limits;
use crate::domain::sync::{self as rules, SyncCursor};
use crate::error::{ApiError, ApiResult};

/// Households or changes a page holds when `first` is not given.
const DEFAULT_PAGE: i32 = 50;

fn encode(cursor: SyncCursor) -> String {
    let text = match cursor {
        SyncCursor::First { since, after_id } => format!("sync:first:{since}:{after_id}"),
        SyncCursor::Since(since) => format!("sync:since:{since}"),
    };
    URL_SAFE_NO_PAD.encode(text)
}

fn decode(cursor: &str) -> ApiResult<SyncCursor> {
    let text = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default();
    let parts: Vec<&str> = text.split(':').collect();
    let decoded = match parts.as_slice() {
        ["sync", "first", since, after_id] => since
            .parse()
            .ok()
            .zip(after_id.parse().ok())
            .map(|(since, after_id)| SyncCursor::First { since, after_id }),
        ["sync", "since", since] => since.parse().ok().map(SyncCursor::Since),
        _ => None,
    };
    decoded.ok_or_else(|| {
        ApiError::bad_input("after", format!("`{cursor}` is not a cursor of `sync`"))
    })
}

/// A page of a field app's sync (同步页).
#[derive(SimpleObject)]
pub struct SyncPage {
    /// Households in the reader's scope as they stand now: keep them whole,
    /// replacing what the app held of each.
    households: Vec<Household>,
    /// Households that left the reader's scope (moved away, unpaired) since
    /// the app last synced: drop them (tombstones).
    removed: Vec<ID>,
    /// Where to sync on from: keep it with the data, and send it as `after`.
    end_cursor: String,
    /// Whether to ask again at once with `endCursor`; once false, the app is
    /// caught up until the next change.
    has_more: bool,
}

#[derive(Default)]
pub struct SyncQuery;

#[Object]
impl SyncQuery {
    /// Offline sync for field apps (离线同步): without `after`, a first sync
    /// that pages through every household the reader reaches (a village's,
    /// a township's, a helper's pairings), resumable from any page's
    /// `endCursor`; then, from the last `endCursor`, what changed since: the
    /// households in scope that changes touched, whole and current, and
    /// tombstones for those that left the scope. Ask until `hasMore` is false.
    #[graphql(
        complexity = "crate::graphql::cost::page(first.unwrap_or(DEFAULT_PAGE).max(1) as usize, child_complexity)"
    )]
    async fn sync(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The `endCursor` of the last page; none to begin a first sync.")]
        after: Option<String>,
        #[graphql(
            desc = "Households (first sync) or changes (later) a page takes at most: 1 to the maximum page size; 50 if not given."
        )]
        first: Option<i32>,
    ) -> ApiResult<SyncPage> {
        let viewer = viewer(ctx)?;
        viewer.user()?;
        let max = data::<Limits>(ctx)?.max_page_size;
        let first = first.unwrap_or(DEFAULT_PAGE);
        if first < 1 || first as usize > max {
            return Err(ApiError::bad_input(
                "first",
                format!("from 1 to {max} at a time"),
            ));
        }
        let from = after.as_deref().map(decode).transpose()?;
        let page = rules::page(db(ctx)?, viewer, from, u64::try_from(first).unwrap_or(1)).await?;
        Ok(SyncPage {
            households: page.households.into_iter().map(Household).collect(),
            removed: page
                .removed
                .into_iter()
                .map(|id| global_id(NodeKind::Household, id))
                .collect(),
            end_cursor: encode(page.next),
            has_more: page.has_more,
        })
    }
}
