//! The GraphQL schema: root objects merged per domain area and the limits
//! they run under; `context` holds what resolvers reach through a request.

pub mod account;
pub mod alert;
pub mod assessment;
pub mod asset;
pub mod client_app;
pub mod context;
pub mod cost;
pub mod date;
pub mod document;
pub mod enterprise;
pub mod funds;
mod guard;
pub mod household;
mod introspection;
pub mod json;
pub mod lifecycle;
pub mod loader;
pub mod microcredit;
pub mod money;
pub mod node;
pub mod notice;
pub mod oversight;
pub mod pairing;
pub mod plan;
pub mod prefetch;
pub mod project;
pub mod publicity;
pub mod quality;
pub mod region;
pub mod relay;
pub mod shape;
pub mod statistics;
pub mod supervision;
pub mod sync;
pub mod village_exit;

use async_graphql::{MergedObject, SDLExportOptions, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use crate::auth::AuthConfig;
use crate::config::Limits;

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
    LedgerQuery,
    statistics::StatisticsQuery,
    assessment::AssessmentQuery,
    publicity::PolicyQuery,
    sync::SyncQuery,
    supervision::SupervisionQuery,
    crate::exchange::ExchangeQuery,
    crate::exchange::WebhookQuery,
);

/// The county office's ledgers (funds, microcredit, project assets, village
/// exits), merged into the root query as
/// one part: async-graphql's merge nests one type per part, and a flat list of
/// every area overflows the compiler's query depth.
#[derive(MergedObject, Default)]
pub struct LedgerQuery(
    funds::FundQuery,
    funds::FundUtilisationQuery,
    microcredit::MicrocreditQuery,
    asset::AssetQuery,
    village_exit::VillageExitQuery,
);

/// The root mutation: one part per domain area.
#[derive(MergedObject, Default)]
pub struct Mutation(
    account::AccountMutation,
    client_app::ClientAppMutation,
    oversight::OversightMutation,
    region::RegionMutation,
    household::HouseholdMutation,
    pairing::PairingMutation,
    lifecycle::ProposalMutation,
    lifecycle::MonitoringMutation,
    plan::PlanMutation,
    pairing::unit::UnitMutation,
    pairing::visit::VisitMutation,
    LedgerMutation,
    assessment::AssessmentMutation,
    project::ProjectEditMutation,
    project::ProjectLifecycleMutation,
    enterprise::EnterpriseMutation,
    publicity::PolicyMutation,
    supervision::SupervisionMutation,
    crate::exchange::WebhookMutation,
);

/// The mutations of the county office's ledgers, as [`LedgerQuery`].
#[derive(MergedObject, Default)]
pub struct LedgerMutation(
    funds::FundMutation,
    microcredit::MicrocreditMutation,
    asset::AssetMutation,
    village_exit::VillageExitMutation,
);

pub type FupinSchema = Schema<Query, Mutation, alert::Subscription>;

/// Builds the schema. Without a database it still describes itself, which is
/// all `export-schema` and the SDL test need.
pub fn schema(
    db: Option<DatabaseConnection>,
    limits: &Limits,
    auth: Option<AuthConfig>,
) -> FupinSchema {
    let builder = Schema::build(Query::default(), Mutation::default(), alert::Subscription);
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
    let builder = Schema::build(Query::default(), Mutation::default(), alert::Subscription)
        .extension(introspection::RefuseIntrospection)
        .disable_introspection()
        .disable_suggestions();
    configure(builder, db, limits, auth)
}

/// Relay's connection types carry no description of their own: each list's gets one.
macro_rules! describe_connections {
    ($builder:expr, $($node:ident => $path:ty),+ $(,)?) => {
        $builder$(.override_output_type_description::<relay::Conn<$path>>(concat!(
            "A page of `", stringify!($node), "` objects, in Relay's connection form: ",
            "`edges` with their cursors, or `nodes` alone, and `pageInfo`; ",
            "`totalCount` counts the whole list when asked for (分页列表)."
        )))+
    };
}

/// The descriptions async-graphql gives chrono's scalars name no format; these do.
const DATE_TIME: &str = "An instant, as an RFC 3339 date-time string: `2026-03-01T08:30:00+08:00` \
    or with `Z`. Answers are in UTC (`+00:00`), with fractions of a second when there are any. \
    See docs/scalars.md.";
fn configure(
    builder: SchemaBuilder<Query, Mutation, alert::Subscription>,
    db: Option<DatabaseConnection>,
    limits: &Limits,
    auth: Option<AuthConfig>,
) -> FupinSchema {
    let builder = describe_connections!(
        builder,
        Account => account::Account,
        AuditEntry => oversight::AuditEntry,
        BenefitLink => enterprise::link::BenefitLink,
        Complaint => supervision::Complaint,
        Enterprise => enterprise::Enterprise,
        FundEntry => funds::FundEntry,
        FundSource => funds::FundSource,
        HelperUnit => pairing::unit::HelperUnit,
        Household => household::Household,
        LoginAlert => oversight::LoginAlert,
        Policy => publicity::Policy,
        Project => project::Project,
        Proposal => lifecycle::Proposal,
        PublicNotice => lifecycle::PublicNotice,
        Reveal => oversight::Reveal,
        Township => region::Township,
        Village => region::Village,
    );
    let mut builder = builder
        .override_output_type_description::<chrono::DateTime<chrono::Utc>>(DATE_TIME)
        .limit_depth(limits.max_depth)
        .extension(cost::Cost {
            max_cost: limits.max_complexity,
        })
        .extension(guard::PolicyGuard)
        .data(limits.clone())
        .data(statistics::figures::Folded::default())
        .data(statistics::Solved::default());
    if let Some(db) = db {
        builder = builder.data(db);
    }
    if let Some(auth) = auth {
        builder = builder.data(auth);
    }
    builder.finish()
}

/// The SDL of the schema, as checked in at `schema.graphql`, with the
/// `@specifiedBy` of each scalar that has a specification.
pub fn sdl() -> String {
    schema(None, &Limits::default(), None)
        .sdl_with_options(SDLExportOptions::new().include_specified_by())
}
