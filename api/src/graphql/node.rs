//! The Relay `Node` interface and `node(id:)`: any object with a global ID.

use async_graphql::{Context, ID, Interface, Object};

use super::asset::ProjectAsset;
use super::enterprise::Enterprise;
use super::enterprise::link::BenefitLink;
use super::funds::{FundEntry, FundSource};
use super::household::{self, Household, Member};
use super::lifecycle::{MonitoringCase, Objection, Proposal};
use super::microcredit::Loan;
use super::pairing::Pairing;
use super::pairing::unit::{HelperUnit, UnitPairing, VillageStaff};
use super::pairing::visit::Visit;
use super::plan::Measure;
use super::project::Project;
use super::publicity::Policy;
use super::region::{County, Township, Village, node_kind, region_node};
use super::relay::{NodeKind, decode_id};
use super::supervision::Complaint;
use super::village_exit::VillageExit;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::loaders;

/// An object with a global ID, fetchable with `node(id:)`.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "Global ID: opaque, stable, unique across all types."
))]
pub enum Node {
    County(County),
    Township(Township),
    Village(Village),
    Household(Household),
    Member(Member),
    Enterprise(Enterprise),
    Project(Project),
    Proposal(Proposal),
    Objection(Objection),
    MonitoringCase(MonitoringCase),
    Measure(Measure),
    Visit(Visit),
    HelperUnit(HelperUnit),
    VillageStaff(VillageStaff),
    FundSource(FundSource),
    FundEntry(FundEntry),
    BenefitLink(BenefitLink),
    Policy(Policy),
    Complaint(Complaint),
    Pairing(Pairing),
    UnitPairing(UnitPairing),
    Loan(Loan),
    VillageExit(VillageExit),
    ProjectAsset(ProjectAsset),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global ID (按全局ID查询).
    async fn node(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Node> {
        let (kind, raw) = decode_id(&id, "id")?;
        let loaders = loaders(ctx)?;
        let node = match kind {
            NodeKind::County | NodeKind::Township | NodeKind::Village => loaders
                .regions
                .load_one(raw)
                .await?
                .filter(|region| node_kind(region.level) == kind)
                .map(region_node),
            NodeKind::Household => household::one(ctx, &ctx.look_ahead(), raw)
                .await?
                .map(Node::from),
            NodeKind::Member => loaders
                .members
                .load_one(raw)
                .await?
                .map(|m| Member(m).into()),
            NodeKind::Enterprise => loaders
                .enterprises
                .load_one(raw)
                .await?
                .map(|m| Enterprise(m).into()),
            NodeKind::Project => loaders
                .projects
                .load_one(raw)
                .await?
                .map(|m| Project(m).into()),
            NodeKind::Proposal => loaders
                .proposals
                .load_one(raw)
                .await?
                .map(|m| Proposal(m).into()),
            NodeKind::Objection => loaders
                .objections
                .load_one(raw)
                .await?
                .map(|m| Objection(m).into()),
            NodeKind::MonitoringCase => loaders
                .monitoring_cases
                .load_one(raw)
                .await?
                .map(|m| MonitoringCase(m).into()),
            NodeKind::Measure => loaders
                .measures
                .load_one(raw)
                .await?
                .map(|m| Measure(m).into()),
            NodeKind::Visit => loaders.visits.load_one(raw).await?.map(|m| Visit(m).into()),
            NodeKind::HelperUnit => loaders
                .helper_units
                .load_one(raw)
                .await?
                .map(|m| HelperUnit(m).into()),
            NodeKind::VillageStaff => loaders
                .village_staff
                .load_one(raw)
                .await?
                .map(|m| VillageStaff(m).into()),
            NodeKind::FundSource => loaders
                .fund_sources
                .load_one(raw)
                .await?
                .map(|m| FundSource(m).into()),
            NodeKind::FundEntry => loaders
                .fund_entries
                .load_one(raw)
                .await?
                .map(|m| FundEntry(m).into()),
            NodeKind::BenefitLink => loaders
                .benefit_links
                .load_one(raw)
                .await?
                .map(|m| BenefitLink(m).into()),
            NodeKind::Policy => loaders
                .policies
                .load_one(raw)
                .await?
                .map(|m| Policy(m).into()),
            NodeKind::Complaint => loaders
                .complaints
                .load_one(raw)
                .await?
                .map(|m| Complaint(m).into()),
            NodeKind::Pairing => loaders
                .helper_pairings
                .load_one(raw)
                .await?
                .map(|m| Pairing(m).into()),
            NodeKind::UnitPairing => loaders
                .unit_pairings
                .load_one(raw)
                .await?
                .map(|m| UnitPairing(m).into()),
            NodeKind::Loan => loaders.loans.load_one(raw).await?.map(|m| Loan(m).into()),
            NodeKind::VillageExit => VillageExit::find(ctx, raw).await?.map(Into::into),
            NodeKind::ProjectAsset => ProjectAsset::find(ctx, raw).await?.map(Into::into),
            // A change is read from the feed (`changes`), not as a node.
            NodeKind::Change => None,
        };
        node.ok_or_else(|| ApiError::not_found(kind.type_name()))
    }
}
