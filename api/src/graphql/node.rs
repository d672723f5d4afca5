//! The Relay `Node` interface and `node(id:)`: any object with a global ID.

use async_graphql::{Context, ID, Interface, Object};
use futures::future::try_join_all;

use super::account::Account;
use super::asset::ProjectAsset;
use super::enterprise::Enterprise;
use super::enterprise::link::BenefitLink;
use super::funds::{FundEntry, FundSource};
use super::household::{self, Household, Member};
use super::lifecycle::{MonitoringCase, Objection, Proposal, PublicNotice};
use super::microcredit::Loan;
use super::oversight::{AuditEntry, LoginAlert, Reveal};
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
use crate::access::Viewer;
use crate::config::Limits;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{data, loaders, viewer};
use crate::permissions::{Access, access_of, rule_of};

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
    Account(Account),
    AuditEntry(AuditEntry),
    LoginAlert(LoginAlert),
    Reveal(Reveal),
    PublicNotice(PublicNotice),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global ID (按全局ID查询): `NOT_FOUND` when nothing of
    /// that ID exists for the caller, as its list would not show it either.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of any object, as its `id` gives it (全局ID).")] id: ID,
    ) -> ApiResult<Node> {
        let (kind, raw) = decode_id(&id, "id")?;
        find(ctx, kind, raw)
            .await?
            .ok_or_else(|| ApiError::not_found(kind.type_name()))
    }

    /// Many objects by their global IDs at once (批量按全局ID查询), in the order
    /// given: each null where `node` would answer `NOT_FOUND`. Costs as a page
    /// of that many objects.
    #[graphql(complexity = "crate::graphql::cost::page(ids.len(), child_complexity)")]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Global IDs of any objects, at most the maximum page size (100 unless the server sets `--max-page-size`) (全局ID列表)."
        )]
        ids: Vec<ID>,
    ) -> ApiResult<Vec<Option<Node>>> {
        let max = data::<Limits>(ctx)?.max_page_size;
        if ids.len() > max {
            return Err(ApiError::bad_input(
                "ids",
                format!("`ids` may hold at most {max} IDs, got {}", ids.len()),
            ));
        }
        let keys = ids
            .iter()
            .enumerate()
            .map(|(i, id)| decode_id(id, &format!("ids[{i}]")))
            .collect::<ApiResult<Vec<_>>>()?;
        try_join_all(keys.into_iter().map(|(kind, raw)| find(ctx, kind, raw))).await
    }
}

/// The object of a global ID, if the caller reaches it: every kind is read
/// through the same scope as the lists that show it.
async fn find(ctx: &Context<'_>, kind: NodeKind, raw: i64) -> ApiResult<Option<Node>> {
    let loaders = loaders(ctx)?;
    Ok(match kind {
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
        NodeKind::Account if may_fetch_account(viewer(ctx)?, raw) => loaders
            .users
            .load_one(raw)
            .await?
            .map(|m| Account(m).into()),
        NodeKind::Account => None,
        NodeKind::AuditEntry => AuditEntry::find(ctx, raw).await?.map(Into::into),
        NodeKind::LoginAlert => LoginAlert::find(ctx, raw).await?.map(Into::into),
        NodeKind::Reveal => Reveal::find(ctx, raw).await?.map(Into::into),
        NodeKind::PublicNotice => PublicNotice::find(ctx, raw).await?.map(Into::into),
        // A change is read from the feed (`changes`), not as a node.
        NodeKind::Change => None,
    })
}

/// Accounts are listed by `users` alone, so by ID too only those who may list
/// them fetch them, beyond the caller's own account, which `me` gives anyway:
/// the row scope alone would also let township and village staff fetch the
/// helper cadres' accounts.
fn may_fetch_account(viewer: &Viewer, id: i64) -> bool {
    let own = viewer.user().is_ok_and(|user| user.id == id);
    let lists =
        rule_of("Query", "users").is_some_and(|rule| access_of(viewer, rule) == Access::Full);
    own || lists
}
