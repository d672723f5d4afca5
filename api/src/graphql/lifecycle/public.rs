//! Public notices and announcements (公示公告), for anyone without signing in:
//! what the village's and the township's boards show, and nothing more. A
//! notice names the head of household in full, so that neighbours know whom
//! it is about and can object; the public reaches no households, so the rows
//! are read here directly and carry only the village and township, the
//! head's name, the appraisal and the public reason: no ID number, phone,
//! address, health, disability or bank detail.

use crate::graphql::date::Day;
use std::collections::HashMap;

use async_graphql::Enum;
use async_graphql::{Context, ID, Object};
use chrono::{Duration, Utc};
use entity::enums::{ProposalKind, ProposalStage, Relation};
use entity::{household, member, proposal, region};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use super::super::relay::{Conn, NodeKind, PageArgs, global_id, page_cost, paginate};
use super::{NEWEST_PROPOSAL_FIRST, households_in_region};
use crate::domain::calendar;
use crate::domain::lifecycle::OPEN_STAGES;
use crate::domain::proposal::{current_notice, notice_open};
use crate::error::ApiResult;
use crate::graphql::context::{db, page};

/// How long an approval stays announced.
const ANNOUNCED_DAYS: i64 = 30;

/// A proposal as the public notice shows it (公示公告).
pub struct PublicNotice {
    proposal: proposal::Model,
    village: Option<String>,
    township: Option<String>,
    head: Option<String>,
}

/// The proposals on the boards: under notice, or approved in the last 30 days.
fn shown() -> Condition {
    let announced_since = Utc::now() - Duration::days(ANNOUNCED_DAYS);
    Condition::any()
        .add(proposal::Column::Stage.is_in(OPEN_STAGES))
        .add(
            Condition::all()
                .add(proposal::Column::Stage.eq(ProposalStage::Approved))
                .add(proposal::Column::DecidedAt.gte(announced_since)),
        )
}

impl PublicNotice {
    fn new(proposal: proposal::Model) -> Self {
        PublicNotice {
            proposal,
            village: None,
            township: None,
            head: None,
        }
    }

    /// The notice of this proposal while it is on the boards, for anyone.
    pub async fn find(ctx: &Context<'_>, proposal_id: i64) -> ApiResult<Option<Self>> {
        let db = db(ctx)?;
        let Some(proposal) = proposal::Entity::find()
            .filter(shown())
            .filter(proposal::Column::Id.eq(proposal_id))
            .one(db)
            .await?
        else {
            return Ok(None);
        };
        let mut notice = PublicNotice::new(proposal);
        PublicNotice::fill(db, vec![&mut notice]).await?;
        Ok(Some(notice))
    }

    /// Reads the villages, townships and heads of `notices` in a few statements.
    async fn fill(db: &DatabaseConnection, mut notices: Vec<&mut PublicNotice>) -> ApiResult<()> {
        let household_ids: Vec<i64> = notices.iter().map(|n| n.proposal.household_id).collect();
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
        // The villages and their townships, in one statement.
        let villages: HashMap<i64, (String, Option<i64>)> = region::Entity::find()
            .select_only()
            .column(region::Column::Id)
            .column(region::Column::Name)
            .column(region::Column::ParentId)
            .filter(region::Column::Id.is_in(villages_of.values().copied()))
            .into_tuple::<(i64, String, Option<i64>)>()
            .all(db)
            .await?
            .into_iter()
            .map(|(id, name, parent)| (id, (name, parent)))
            .collect();
        let township_names: HashMap<i64, String> = region::Entity::find()
            .select_only()
            .column(region::Column::Id)
            .column(region::Column::Name)
            .filter(region::Column::Id.is_in(villages.values().filter_map(|(_, p)| *p)))
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
        for notice in &mut notices {
            let household_id = notice.proposal.household_id;
            let village = villages_of.get(&household_id).and_then(|v| villages.get(v));
            notice.village = village.map(|(name, _)| name.clone());
            notice.township = village
                .and_then(|(_, township)| township.as_ref())
                .and_then(|t| township_names.get(t))
                .cloned();
            notice.head = heads.get(&household_id).cloned();
        }
        Ok(())
    }
}

/// Where a notice is posted: the first in the village, the second in the township (公示层级).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum NoticeLevel {
    /// The first notice, in the village, after the democratic appraisal (村级公示).
    Village,
    /// The second notice, in the township, after its check (乡镇公示).
    Township,
}

/// A notice's village and head are read for the whole page by `publicNotices` itself.
impl crate::graphql::prefetch::Prefetch for PublicNotice {
    type Row = proposal::Model;
}

/// A public notice of a proposal, or the announcement of its approval (公示公告).
#[Object]
impl PublicNotice {
    /// Global ID of the notice, fetchable with `node(id:)` while it is on the boards.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::PublicNotice, self.proposal.id)
    }
    /// Global ID of the proposal noticed, for `recordObjection` (申请).
    async fn proposal_id(&self) -> ID {
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
    /// The township of the household (所属乡镇).
    async fn township_name(&self) -> Option<&str> {
        self.township.as_deref()
    }
    /// The head of household's name, in full, as the notice board names the
    /// household so that neighbours can object (户主姓名).
    async fn head_name(&self) -> Option<&str> {
        self.head.as_deref()
    }
    /// Why (申请理由).
    async fn reason(&self) -> &str {
        &self.proposal.reason
    }
    /// The democratic appraisal that passed it, for proposals that recorded one (民主评议).
    async fn appraisal(&self) -> Option<super::Appraisal> {
        super::appraisal_of(&self.proposal)
    }
    /// Which notice is up: the village's, then the township's; null for an
    /// announcement (公示层级).
    async fn notice_level(&self) -> Option<NoticeLevel> {
        current_notice(&self.proposal).map(|_| match self.proposal.stage {
            ProposalStage::Notice => NoticeLevel::Village,
            _ => NoticeLevel::Township,
        })
    }
    /// First day of the notice up, or for an announcement of the village's (公示开始日期).
    async fn notice_starts_on(&self) -> Day {
        Day(current_notice(&self.proposal)
            .map_or(self.proposal.notice_starts_on, |(starts, _)| starts))
    }
    /// Last day of the notice up, or for an announcement of the village's (公示截止日期).
    async fn notice_ends_on(&self) -> Day {
        Day(current_notice(&self.proposal).map_or(self.proposal.notice_ends_on, |(_, ends)| ends))
    }
    /// Whether objections may still be made (公示期内).
    async fn notice_open(&self) -> bool {
        notice_open(&self.proposal, calendar::today())
    }
    /// The day an approval was announced (公告日期).
    async fn announced_on(&self) -> Option<Day> {
        (self.proposal.stage == ProposalStage::Approved)
            .then_some(self.proposal.decided_at)
            .flatten()
            .map(calendar::day_of)
            .map(Day)
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
        #[graphql(
            desc = "Items from the start of the list, or after `after`: 0 to the maximum page size (100 unless the server sets `--max-page-size`); 20 when neither `first` nor `last` is given (每页条数)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Cursor of an edge of this list: the page starts after it (游标).")]
        after: Option<String>,
        #[graphql(
            desc = "Items from the end of the list, or before `before`: 0 to the maximum page size (100 unless the server sets `--max-page-size`); not with `first` (每页条数)."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor of an edge of this list: the page ends before it, paging backwards; with `last`, not with `after` (游标)."
        )]
        before: Option<String>,
    ) -> ApiResult<Conn<PublicNotice>> {
        let mut select = proposal::Entity::find().filter(shown());
        if let Some(region_id) = region_id {
            let households = households_in_region(ctx, &region_id).await?;
            select = select.filter(proposal::Column::HouseholdId.in_subquery(households));
        }
        let page = page(ctx, PageArgs::new(first, after, last, before))?;
        let mut connection =
            paginate(ctx, select, &NEWEST_PROPOSAL_FIRST, page, PublicNotice::new).await?;
        PublicNotice::fill(
            db(ctx)?,
            connection
                .edges
                .iter_mut()
                .map(|edge| &mut edge.node)
                .collect(),
        )
        .await?;
        Ok(connection)
    }
}
