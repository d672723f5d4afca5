//! "Two public notices and one announcement" (两公示一公告): the mutations of a
//! proposal, its objections, and the status changes taken without one. The
//! procedure itself is `domain::proposal` and `domain::lifecycle`.

use crate::graphql::date::Day;
use async_graphql::{Context, ID, InputObject, Object};
use entity::enums::{ProposalKind, ProposalOrigin};

use super::super::household::{Household, PovertyLine, ProvincialPovertyLine};
use super::super::money::Money;
use super::super::relay::{NodeKind, decode_id_of};
use super::{Objection, Proposal};
use crate::domain::{direct_change, income_line, proposal};
use crate::error::ApiResult;
use crate::graphql::context::{actor, db, viewer};
use crate::graphql::notice::{NoticeInput, PaperNoticeInput};

/// A proposal to identify a household or certify its exit (申请识别或退出).
#[derive(InputObject)]
pub struct ProposeInput {
    /// The household (申请户).
    household_id: ID,
    /// What is proposed (申请事项).
    kind: ProposalKind,
    /// How it came: the household applied, or the village found it (申请来源).
    origin: ProposalOrigin,
    /// The village's democratic appraisal that passed it, before its notice (民主评议).
    appraisal: AppraisalInput,
    /// Why; shown on the public notice, so no ID, phone or bank numbers (申请理由).
    reason: String,
    /// References to the evidence: documents, photos (佐证材料).
    evidence: Vec<String>,
    /// For an exit, the year certified lifted out; not for an identification (脱贫年度).
    exit_year: Option<i32>,
    /// First day of the notice; today if not given, at most 30 days back (公示开始日期).
    notice_starts_on: Option<Day>,
    /// Last day of the notice: a notice is up at least 5 days, its first and
    /// last included (公示截止日期).
    notice_ends_on: Day,
    /// For a notice that started before today: the paper notice it was first
    /// posted as, with its evidence (纸质公示佐证).
    paper_notice: Option<PaperNoticeInput>,
    /// Makes a retried request return the first proposal instead of a second (幂等键).
    idempotency_key: Option<String>,
}

/// A village's democratic appraisal of a household (民主评议): the villagers'
/// representatives meet, vote and keep minutes; a majority of those present
/// passes it.
#[derive(InputObject)]
pub struct AppraisalInput {
    /// The day it was held: not after the notice's first day, at most 60 days before (评议日期).
    held_on: Day,
    /// How many attended (参会人数).
    attendance: i32,
    /// Votes for the proposal (赞成票).
    votes_for: i32,
    /// Votes against (反对票).
    votes_against: i32,
    /// Where its minutes are kept, at most 500 characters (会议记录编号).
    minutes_reference: String,
}

/// An objection received during a public notice (公示异议).
#[derive(InputObject)]
pub struct RecordObjectionInput {
    /// The proposal objected to (异议所指申请).
    proposal_id: ID,
    /// Who objected, if they gave a name; never shown publicly (异议人).
    objector: Option<String>,
    /// What the objection says (异议内容).
    content: String,
    /// The day it was received; today if not given (受理日期).
    received_on: Option<Day>,
    /// Makes a retried request return the first objection instead of a second (幂等键).
    idempotency_key: Option<String>,
}

/// The row behind a proposal's global ID.
fn proposal_row(id: &ID) -> ApiResult<i64> {
    Ok(decode_id_of(id, "proposalId", &[NodeKind::Proposal])?.1)
}

/// The row behind a household's global ID.
fn household_row(id: &ID) -> ApiResult<i64> {
    Ok(decode_id_of(id, "householdId", &[NodeKind::Household])?.1)
}

#[derive(Default)]
pub struct ProposalMutation;

#[Object]
impl ProposalMutation {
    /// Sets the poverty line of a year, replacing any earlier one: exits of that
    /// year are certified against it (设定贫困标准).
    async fn set_poverty_line(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year (年度).")] year: i32,
        #[graphql(desc = "Annual per-capita net income, in yuan (元/人·年).")] annual: Money,
    ) -> ApiResult<PovertyLine> {
        let actor = actor(ctx)?;
        let line = income_line::set_poverty_line(db(ctx)?, &actor, year, annual).await?;
        Ok(PovertyLine(line))
    }

    /// Sets a province's own poverty line of a year (设定省定贫困标准), at least
    /// the national one, replacing any earlier one: households identified
    /// under the provincial standard exit against it.
    async fn set_provincial_poverty_line(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Two-digit province code (省级区划代码).")] province_code: String,
        #[graphql(desc = "The year (年度).")] year: i32,
        #[graphql(desc = "Annual per-capita net income, in yuan (元/人·年).")] annual: Money,
    ) -> ApiResult<ProvincialPovertyLine> {
        let actor = actor(ctx)?;
        let line = income_line::set_provincial_poverty_line(
            db(ctx)?,
            &actor,
            &province_code,
            year,
            annual,
        )
        .await?;
        Ok(ProvincialPovertyLine(line))
    }

    /// Proposes to identify or exit a household and starts its public notice (提出识别/退出申请并公示).
    async fn propose(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The household and what is proposed (申请).")] input: ProposeInput,
    ) -> ApiResult<Proposal> {
        let actor = actor(ctx)?;
        let new = proposal::NewProposal {
            household_id: household_row(&input.household_id)?,
            kind: input.kind,
            origin: input.origin,
            appraisal: proposal::Appraisal {
                held_on: input.appraisal.held_on.0,
                attendance: input.appraisal.attendance,
                votes_for: input.appraisal.votes_for,
                votes_against: input.appraisal.votes_against,
                minutes: input.appraisal.minutes_reference,
            },
            reason: input.reason,
            evidence: input.evidence,
            exit_year: input.exit_year,
            notice_starts_on: input.notice_starts_on.map(Into::into),
            notice_ends_on: input.notice_ends_on.0,
            paper_notice: PaperNoticeInput::parse(input.paper_notice.as_ref(), "paperNotice")?,
        };
        let key = input.idempotency_key.as_deref();
        let created = proposal::propose(db(ctx)?, viewer(ctx)?, &actor, key, new).await?;
        Ok(Proposal(created))
    }

    /// Records an objection received during a proposal's public notice (登记公示异议).
    async fn record_objection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The objection raised during the notice (异议).")]
        input: RecordObjectionInput,
    ) -> ApiResult<Objection> {
        let actor = actor(ctx)?;
        let new = proposal::NewObjection {
            proposal_id: proposal_row(&input.proposal_id)?,
            objector: input.objector,
            content: input.content,
            received_on: input.received_on.map(Into::into),
        };
        let key = input.idempotency_key.as_deref();
        let created = proposal::record_objection(db(ctx)?, viewer(ctx)?, &actor, key, new).await?;
        Ok(Objection(created))
    }

    /// Resolves an objection: upheld (found right) or not, with how (处理公示异议).
    async fn resolve_objection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The objection (异议).")] objection_id: ID,
        #[graphql(desc = "The version read (版本号).")] version: i32,
        #[graphql(desc = "Whether the objection was found right (异议是否成立).")] upheld: bool,
        #[graphql(desc = "How it was resolved (处理结果).")] resolution: String,
    ) -> ApiResult<Objection> {
        let actor = actor(ctx)?;
        let (_, id) = decode_id_of(&objection_id, "objectionId", &[NodeKind::Objection])?;
        let after = proposal::resolve_objection(
            db(ctx)?,
            viewer(ctx)?,
            &actor,
            id,
            version,
            upheld,
            &resolution,
        )
        .await?;
        Ok(Objection(after))
    }

    /// The township's check of a proposal noticed in the village: rejected, or
    /// passed and noticed in the township after the village's notice (乡镇审核并公示).
    async fn check_proposal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The proposal (申请).")] proposal_id: ID,
        #[graphql(desc = "The version read (版本号).")] version: i32,
        #[graphql(desc = "Whether it passes the check (是否通过).")] passed: bool,
        #[graphql(desc = "The township's opinion (审核意见).")] opinion: String,
        #[graphql(
            desc = "For a pass: the township's notice, starting after the village's ended (乡镇公示)."
        )]
        township_notice: Option<NoticeInput>,
    ) -> ApiResult<Proposal> {
        let actor = actor(ctx)?;
        let id = proposal_row(&proposal_id)?;
        let township_notice = township_notice
            .map(|n| n.parse("townshipNotice"))
            .transpose()?;
        let verdict = proposal::TownshipCheck {
            passed,
            opinion,
            township_notice,
        };
        let after = proposal::check(db(ctx)?, viewer(ctx)?, &actor, (id, version), verdict).await?;
        Ok(Proposal(after))
    }

    /// The county's decision on a checked proposal after its notice has run;
    /// an approval changes the household's status and is announced (县级审定并公告).
    async fn decide_proposal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The proposal (申请).")] proposal_id: ID,
        #[graphql(desc = "The version read (版本号).")] version: i32,
        #[graphql(desc = "Whether it is approved (是否批准).")] approved: bool,
        #[graphql(desc = "The county's note (审定意见).")] note: String,
    ) -> ApiResult<Proposal> {
        let actor = actor(ctx)?;
        let id = proposal_row(&proposal_id)?;
        let after =
            proposal::decide(db(ctx)?, viewer(ctx)?, &actor, id, version, approved, &note).await?;
        Ok(Proposal(after))
    }

    /// Withdraws a proposal still in progress (撤回申请).
    async fn withdraw_proposal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The proposal (申请).")] proposal_id: ID,
        #[graphql(desc = "The version read (版本号).")] version: i32,
        #[graphql(desc = "Why it is withdrawn (撤回原因).")] reason: String,
    ) -> ApiResult<Proposal> {
        let actor = actor(ctx)?;
        let id = proposal_row(&proposal_id)?;
        let after =
            proposal::withdraw(db(ctx)?, viewer(ctx)?, &actor, id, version, &reason).await?;
        Ok(Proposal(after))
    }

    /// Returns a household lifted out of poverty to poverty (返贫).
    async fn return_to_poverty(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The household (农户).")] household_id: ID,
        #[graphql(desc = "The version read (版本号).")] version: i32,
        #[graphql(desc = "Why it returned to poverty (返贫原因).")] reason: String,
    ) -> ApiResult<Household> {
        let actor = actor(ctx)?;
        let id = household_row(&household_id)?;
        let after =
            direct_change::return_to_poverty(db(ctx)?, viewer(ctx)?, &actor, id, version, &reason)
                .await?;
        Ok(Household(after))
    }

    /// Removes a wrongly included household from the register (清退).
    async fn remove_household(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The household (农户).")] household_id: ID,
        #[graphql(desc = "Why it is removed, e.g. wrongly included (清退原因).")] reason: String,
        #[graphql(desc = "The version read (版本号).")] version: i32,
    ) -> ApiResult<Household> {
        let actor = actor(ctx)?;
        let id = household_row(&household_id)?;
        let after =
            direct_change::remove(db(ctx)?, viewer(ctx)?, &actor, id, version, &reason).await?;
        Ok(Household(after))
    }
}
