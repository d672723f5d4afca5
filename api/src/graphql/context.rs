//! What resolvers reach through the request: the database, the caller, the
//! audit actor, the DataLoaders, page sizes, and errors with a code.

use std::net::IpAddr;
use std::sync::Arc;

use async_graphql::{Context, ErrorExtensionValues, OutputType, ServerError};
use sea_orm::{DatabaseConnection, FromQueryResult, Select};

use super::cost;
use super::loader::{Loaders, Nested};
use super::relay::{self, Conn, NestedPage, Page, PageArgs, ParentColumn, SortKey, TotalCount};
use crate::access::Viewer;
use crate::config::Limits;
use crate::error::{ApiError, ApiResult};
use crate::telemetry::metrics::Metrics;

/// What one request carries into resolvers.
pub struct RequestData {
    /// Where the request reads and writes: the primary, or for a query a
    /// read replica (see `replicas`).
    pub db: DatabaseConnection,
    pub viewer: Viewer,
    pub loaders: Arc<Loaders>,
    /// The `x-request-id` of the HTTP request, for the audit trail.
    pub request_id: String,
    /// What the request may cost and what it has cost so far.
    pub cost: Arc<cost::Meter>,
    /// Where the request comes from, as `http::client_source` tells it.
    pub source: IpAddr,
    pub metrics: Metrics,
}

impl RequestData {
    pub fn new(
        db: DatabaseConnection,
        viewer: Viewer,
        limits: &Limits,
        request_id: &str,
        cost: Arc<cost::Meter>,
        source: IpAddr,
        metrics: Metrics,
    ) -> Self {
        let loaders = Arc::new(Loaders::new(&db, &viewer, limits.loader_delay(), &metrics));
        Self {
            db,
            viewer,
            loaders,
            request_id: request_id.to_owned(),
            cost,
            source,
            metrics,
        }
    }
}

pub(crate) fn data<'a, T: Send + Sync + 'static>(ctx: &Context<'a>) -> ApiResult<&'a T> {
    ctx.data::<T>().map_err(|e| ApiError::Internal(e.message))
}

/// Where the request reads and writes: for a query, perhaps a read replica.
pub(crate) fn db<'a>(ctx: &Context<'a>) -> ApiResult<&'a DatabaseConnection> {
    match ctx.data_opt::<RequestData>() {
        Some(request) => Ok(&request.db),
        None => primary(ctx),
    }
}

/// The primary database, for what a query must write (closing a year) or
/// read as just written.
pub(crate) fn primary<'a>(ctx: &Context<'a>) -> ApiResult<&'a DatabaseConnection> {
    data::<DatabaseConnection>(ctx)
}

/// The folded village figures this replica keeps (see `domain::tally`).
pub(crate) fn folded<'a>(ctx: &Context<'a>) -> ApiResult<&'a super::statistics::figures::Folded> {
    data::<super::statistics::figures::Folded>(ctx)
}

pub(crate) fn viewer<'a>(ctx: &Context<'a>) -> ApiResult<&'a Viewer> {
    Ok(&data::<RequestData>(ctx)?.viewer)
}

/// The actor of a change made in this request, for the audit trail.
pub(crate) fn actor(ctx: &Context<'_>) -> ApiResult<crate::audit::Actor> {
    let data = data::<RequestData>(ctx)?;
    crate::audit::Actor::of(&data.viewer, &data.request_id)
}

pub(crate) fn loaders<'a>(ctx: &Context<'a>) -> ApiResult<&'a Arc<Loaders>> {
    Ok(&data::<RequestData>(ctx)?.loaders)
}

/// Validates page arguments against the configured maximum page size.
pub(crate) fn page(ctx: &Context<'_>, args: PageArgs) -> ApiResult<Page> {
    Page::from_args(args, data::<Limits>(ctx)?.max_page_size)
}

/// A connection listed under one parent row (a village's households, say). The
/// pages of all parents of a list are fetched together through DataLoaders.
pub(crate) async fn paginate_nested<E, N>(
    ctx: &Context<'_>,
    select: Select<E>,
    parent: ParentColumn,
    parent_id: i64,
    key: SortKey<E>,
    args: PageArgs,
    wrap: impl Fn(E::Model) -> N,
) -> ApiResult<Conn<N>>
where
    E: Nested,
    E::Model: FromQueryResult + Clone + Send + Sync,
    N: OutputType,
{
    let page = page(ctx, args)?;
    let shape = Arc::new(NestedPage::new(db(ctx)?, select, parent, key, page));
    let loaders = loaders(ctx)?.clone();
    let rows = E::pages(&loaders)
        .load_one((parent_id, shape.clone()))
        .await?
        .unwrap_or_default();
    let counted = shape.clone();
    let total = TotalCount::new(move || {
        let loaders = loaders.clone();
        let shape = counted.clone();
        Box::pin(async move {
            Ok(E::counts(&loaders)
                .load_one((parent_id, shape))
                .await?
                .unwrap_or(0))
        })
    });
    Ok(relay::nested_connection(rows, &shape, total, wrap))
}

pub(crate) fn coded_error(message: impl Into<String>, error_code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", error_code);
    error.extensions = Some(extensions);
    error
}
