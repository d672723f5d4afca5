//! Public notices and announcements (公示公告), for anyone without signing in:
//! what the village board shows, and nothing more. The public reaches no
//! households, so the rows are read here directly and carry only the village,
//! the head's masked name and the public reason.

use std::collections::HashMap;

use async_graphql::{Context, ID, Object};
use chrono::{Duration, NaiveDate, Utc};
use entity::enums::{ProposalKind, ProposalStage, Relation};
use entity::{household, member, proposal, region};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect};

use super::super::relay::{Conn, NodeKind, PageArgs, global_id, page_cost, paginate};
use super::{NEWEST_PROPOSAL_FIRST, households_in_region};
use crate::domain::calendar;
use crate::domain::lifecycle::OPEN_STAGES;
use crate::domain::proposal::notice_open;
use crate::error::ApiResult;
use crate::graphql::context::{db, page};
use crate::permissions::Mask;

/// How long an approval stays announced.
const ANNOUNCED_DAYS: i64 = 30;

/// A proposal as the public notice shows it (公示公告).
pub struct PublicNotice {
    proposal: proposal::Model,
    village: Option<String>,
    head: Option<String>,
}

/// A notice's village and head are read for the whole page by `publicNotices` itself.
impl crate::graphql::prefetch::Prefetch for PublicNotice {
    type Row = proposal::Model;
}

/// A public notice of a proposal, or the announcement of its approval (公示公告).
#[Object]
impl PublicNotice {
    /// The ID of the proposal noticed.
    async fn id(&self) -> ID {
        global_id(NodeKind::Proposal, self.proposal.id)
    }
    /// What is proposed (申请事项).
    async fn kind(&self) -> ProposalKind {
        self.proposal.kind
    }
    /// Where it stands; APPROVED is an announcement (办理阶段).
    async fn stage(&self) -> ProposalStage {
        self.proposal.stage
    }
    /// The village of the household (所属村).
    async fn village_name(&self) -> Option<&str> {
        self.village.as_deref()
    }
    /// The head of household's name, masked: the surname only (户主姓名).
    async fn head_name(&self) -> Option<String> {
        self.head.as_deref().map(|name| Mask::Name.apply(name))
    }
    /// Why (申请理由).
    async fn reason(&self) -> &str {
        &self.proposal.reason
    }
    /// First day of the notice (公示开始日期).
    async fn notice_starts_on(&self) -> NaiveDate {
        self.proposal.notice_starts_on
    }
    /// Last day of the notice (公示截止日期).
    async fn notice_ends_on(&self) -> NaiveDate {
        self.proposal.notice_ends_on
    }
    /// Whether objections may still be made (公示期内).
    async fn notice_open(&self) -> bool {
        notice_open(&self.proposal, calendar::today())
    }
    /// The day an approval was announced (公告日期).
    async fn announced_on(&self) -> Option<NaiveDate> {
        (self.proposal.stage == ProposalStage::Approved)
            .then_some(self.proposal.decided_at)
            .flatten()
            .map(calendar::day_of)
    }
}

#[derive(Default)]
pub struct PublicNoticeQuery;

#[Object]
impl PublicNoticeQuery {
    /// Proposals under public notice, and approvals announced in the last 30
    /// days, newest first; for anyone (公示公告).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn public_notices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only households under this county, township or village (所属区域).")]
        region_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<Conn<PublicNotice>> {
        let announced_since = Utc::now() - Duration::days(ANNOUNCED_DAYS);
        let shown = Condition::any()
            .add(proposal::Column::Stage.is_in(OPEN_STAGES))
            .add(
                Condition::all()
                    .add(proposal::Column::Stage.eq(ProposalStage::Approved))
                    .add(proposal::Column::DecidedAt.gte(announced_since)),
            );
        let mut select = proposal::Entity::find().filter(shown);
        if let Some(region_id) = region_id {
            let households = households_in_region(ctx, &region_id).await?;
            select = select.filter(proposal::Column::HouseholdId.in_subquery(households));
        }
        let db = db(ctx)?;
        let page = page(ctx, PageArgs::new(first, after, last, before))?;
        let mut connection = paginate(ctx, select, &NEWEST_PROPOSAL_FIRST, page, |proposal| {
            PublicNotice {
                proposal,
                village: None,
                head: None,
            }
        })
        .await?;
        // One statement each for the page's villages and heads.
        let household_ids: Vec<i64> = connection
            .edges
            .iter()
            .map(|e| e.node.proposal.household_id)
            .collect();
        let villages_of: HashMap<i64, i64> = household::Entity::find()
            .select_only()
            .column(household::Column::Id)
            .column(household::Column::VillageId)
            .filter(household::Column::Id.is_in(household_ids.clone()))
            .into_tuple::<(i64, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let village_names: HashMap<i64, String> = region::Entity::find()
            .select_only()
            .column(region::Column::Id)
            .column(region::Column::Name)
            .filter(region::Column::Id.is_in(villages_of.values().copied()))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let heads: HashMap<i64, String> = member::Entity::find()
            .select_only()
            .column(member::Column::HouseholdId)
            .column(member::Column::Name)
            .filter(member::Column::HouseholdId.is_in(household_ids))
            .filter(member::Column::Relation.eq(Relation::Head))
            .filter(member::Column::IsActive.eq(true))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        for edge in &mut connection.edges {
            let household_id = edge.node.proposal.household_id;
            edge.node.village = villages_of
                .get(&household_id)
                .and_then(|v| village_names.get(v))
                .cloned();
            edge.node.head = heads.get(&household_id).cloned();
        }
        Ok(connection)
    }
}
