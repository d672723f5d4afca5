//! The GraphQL schema: root objects merged per domain area, limits, and the
//! helpers resolvers use to reach the request's database, viewer and loaders.

pub mod account;
pub mod assessment;
pub mod client_app;
pub mod cost;
pub mod document;
pub mod enterprise;
pub mod funds;
mod guard;
pub mod household;
mod introspection;
pub mod lifecycle;
pub mod loader;
pub mod money;
pub mod node;
pub mod notice;
pub mod oversight;
pub mod pairing;
pub mod plan;
pub mod project;
pub mod publicity;
pub mod quality;
pub mod region;
pub mod relay;
pub mod shape;
pub mod statistics;
pub mod supervision;

use std::net::IpAddr;
use std::sync::Arc;

use async_graphql::OutputType;
use async_graphql::{
    Context, EmptySubscription, ErrorExtensionValues, MergedObject, Schema, SchemaBuilder,
    ServerError,
};
use sea_orm::{DatabaseConnection, FromQueryResult, Select};

use crate::access::Viewer;
use crate::auth::AuthConfig;
use crate::config::Limits;
pub(crate) use crate::domain::text::search_prefix;
use crate::error::{ApiError, ApiResult};
use loader::{Loaders, Nested};
use relay::{Conn, NestedPage, Page, PageArgs, ParentColumn, SortKey, TotalCount};

/// The root query: one part per domain area.
#[derive(MergedObject, Default)]
pub struct Query(
    node::NodeQuery,
    account::AccountQuery,
    client_app::ClientAppQuery,
    oversight::OversightQuery,
    region::RegionQuery,
    household::HouseholdQuery,
    enterprise::EnterpriseQuery,
    project::ProjectQuery,
    lifecycle::LifecycleQuery,
    lifecycle::MonitoringQuery,
    lifecycle::PublicNoticeQuery,
    quality::QualityQuery,
    plan::PlanQuery,
    pairing::unit::UnitQuery,
    funds::FundQuery,
    funds::FundUtilisationQuery,
    statistics::StatisticsQuery,
    assessment::AssessmentQuery,
    publicity::PolicyQuery,
    supervision::SupervisionQuery,
    crate::exchange::ExchangeQuery,
    crate::exchange::WebhookQuery,
);

/// The root mutation: one part per domain area.
#[derive(MergedObject, Default)]
pub struct Mutation(
    account::AccountMutation,
    client_app::ClientAppMutation,
    oversight::OversightMutation,
    household::HouseholdMutation,
    pairing::PairingMutation,
    lifecycle::ProposalMutation,
    lifecycle::MonitoringMutation,
    plan::PlanMutation,
    pairing::unit::UnitMutation,
    pairing::visit::VisitMutation,
    funds::FundMutation,
    assessment::AssessmentMutation,
    project::ProjectEditMutation,
    project::ProjectLifecycleMutation,
    enterprise::EnterpriseMutation,
    publicity::PolicyMutation,
    supervision::SupervisionMutation,
    crate::exchange::WebhookMutation,
);

pub type FupinSchema = Schema<Query, Mutation, EmptySubscription>;

/// What one request carries into resolvers.
pub struct RequestData {
    pub viewer: Viewer,
    pub loaders: Arc<Loaders>,
    /// The `x-request-id` of the HTTP request, for the audit trail.
    pub request_id: String,
    /// What the request may cost and what it has cost so far.
    pub cost: Arc<cost::Meter>,
    /// Where the request comes from, as `http::client_source` tells it.
    pub source: IpAddr,
}

impl RequestData {
    pub fn new(
        db: &DatabaseConnection,
        viewer: Viewer,
        limits: &Limits,
        request_id: &str,
        cost: Arc<cost::Meter>,
        source: IpAddr,
    ) -> Self {
        let loaders = Arc::new(Loaders::new(db, &viewer, limits.loader_delay()));
        Self {
            viewer,
            loaders,
            request_id: request_id.to_owned(),
            cost,
            source,
        }
    }
}

/// Builds the schema. Without a database it still describes itself, which is
/// all `export-schema` and the SDL test need.
pub fn schema(
    db: Option<DatabaseConnection>,
    limits: &Limits,
    auth: Option<AuthConfig>,
) -> FupinSchema {
    let builder = Schema::build(Query::default(), Mutation::default(), EmptySubscription);
    configure(builder, db, limits, auth)
}

/// The schema for callers without a token, unless `--public-introspection`:
/// it refuses introspection, and its validation errors suggest no field names
/// ("Did you mean ...?"), which would spell the schema out by trial and error.
pub fn closed_schema(
    db: Option<DatabaseConnection>,
    limits: &Limits,
    auth: Option<AuthConfig>,
) -> FupinSchema {
    // The refusal comes first so that it wraps the other extensions and keeps its own code.
    let builder = Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .extension(introspection::RefuseIntrospection)
        .disable_introspection()
        .disable_suggestions();
    configure(builder, db, limits, auth)
}

fn configure(
    builder: SchemaBuilder<Query, Mutation, EmptySubscription>,
    db: Option<DatabaseConnection>,
    limits: &Limits,
    auth: Option<AuthConfig>,
) -> FupinSchema {
    let mut builder = builder
        .limit_depth(limits.max_depth)
        .extension(cost::Cost {
            max_cost: limits.max_complexity,
        })
        .extension(guard::PolicyGuard)
        .data(limits.clone());
    if let Some(db) = db {
        builder = builder.data(db);
    }
    if let Some(auth) = auth {
        builder = builder.data(auth);
    }
    builder.finish()
}

/// The SDL of the schema, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    schema(None, &Limits::default(), None).sdl()
}

pub(crate) fn data<'a, T: Send + Sync + 'static>(ctx: &Context<'a>) -> ApiResult<&'a T> {
    ctx.data::<T>().map_err(|e| ApiError::Internal(e.message))
}

pub(crate) fn db<'a>(ctx: &Context<'a>) -> ApiResult<&'a DatabaseConnection> {
    data::<DatabaseConnection>(ctx)
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
