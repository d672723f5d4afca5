//! Relations read ahead: once a page (or one row) is read, the relations its
//! selection asks for are read for all its rows at once, straight through the
//! loaders, and put into the request's DataLoader caches, where each row's
//! resolver finds them. A page then costs one statement per level of the
//! query however busy the server is, where a DataLoader's gathering window,
//! closing before a busy runtime has let every row ask, would split it.
//! Relations not read ahead still go through the DataLoaders.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, Lookahead, SelectionField};

use super::loader::Cached;
use crate::error::{ApiError, ApiResult};

/// A GraphQL type whose relations can be read ahead for many rows at once.
pub trait Prefetch {
    /// The row the type wraps.
    type Row: Sync;

    /// Reads, for all `rows` at once, the relations `selection` (the fields
    /// asked of each row) names, into the request's loaders. Types without
    /// relations worth reading ahead keep the default: nothing.
    fn prefetch(
        _ctx: &Context<'_>,
        _selection: &Lookahead<'_>,
        _rows: &[Self::Row],
    ) -> impl Future<Output = ApiResult<()>> + Send {
        async { Ok(()) }
    }
}

/// The fields asked of each row of the connection `ctx` resolves, through
/// `nodes` or `edges { node }`; none if neither is selected.
pub fn rows_of_page<'a>(ctx: &'a Context<'a>) -> Option<Lookahead<'a>> {
    let page = ctx.look_ahead();
    let fields: Vec<SelectionField<'a>> = page
        .field("nodes")
        .selection_fields()
        .into_iter()
        .chain(page.field("edges").field("node").selection_fields())
        .collect();
    Lookahead::try_from(fields.as_slice()).ok()
}

/// Reads the values of `keys` through the loader of `cached` now, in one
/// statement, caches them for the rest of the request and returns them.
pub async fn fetch<K, L>(
    cached: &Cached<L>,
    keys: impl IntoIterator<Item = K>,
) -> ApiResult<HashMap<K, L::Value>>
where
    K: Send + Sync + Hash + Eq + Ord + Clone + 'static,
    L: Loader<K, Error = ApiError>,
{
    let values = load_now(cached, keys).await?;
    cached
        .feed_many(values.iter().map(|(k, v)| (k.clone(), v.clone())))
        .await;
    Ok(values)
}

/// Like [`fetch`], for values nothing further is read ahead for: only cached.
pub async fn fill<K, L>(cached: &Cached<L>, keys: impl IntoIterator<Item = K>) -> ApiResult<()>
where
    K: Send + Sync + Hash + Eq + Ord + Clone + 'static,
    L: Loader<K, Error = ApiError>,
{
    let values = load_now(cached, keys).await?;
    cached.feed_many(values).await;
    Ok(())
}

async fn load_now<K, L>(
    cached: &Cached<L>,
    keys: impl IntoIterator<Item = K>,
) -> ApiResult<HashMap<K, L::Value>>
where
    K: Send + Sync + Hash + Eq + Ord + Clone + 'static,
    L: Loader<K, Error = ApiError>,
{
    let mut keys: Vec<K> = keys.into_iter().collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    cached.loader().load(&keys).await
}
