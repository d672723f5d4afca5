//! Benefit links (利益联结): how an enterprise's business brings income to a
//! poor household: employment, land rent, dividends, orders. Organisers record
//! them for the households they reach; an enterprise sees its own links, and
//! through an open link the household, with names masked.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{Datelike, Months, NaiveDate, Utc};
use entity::enums::BenefitMode;
use entity::{benefit_link, enterprise, household};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, EntityTrait,
    QueryFilter, Set,
};
use serde_json::json;

use super::super::household::Household;
use super::super::household::reachable_household;
use super::super::money::Money;
use super::super::relay::{
    Conn, KeyType, NodeKind, PageArgs, ParentColumn, SortKey, decode_id_of, global_id,
};
use super::super::{actor, db, loaders, optional_text, paginate_nested, viewer};
use super::Enterprise;
use crate::access::{self, Viewer};
use crate::audit::{self, Change};
use crate::domain::calendar;
use crate::domain::write::{self, Created};
use crate::error::{ApiError, ApiResult};
use crate::permissions;

/// Targeted poverty alleviation began in 2014: no link starts earlier.
const FIRST_YEAR: i32 = 2014;
/// How far ahead a link may start: it is recorded once agreed.
const MONTHS_AHEAD: u32 = 12;
/// How many years ahead an agreed end may lie.
const END_YEARS_AHEAD: i32 = 10;
/// Longest note, in characters.
const MAX_NOTE_CHARS: usize = 500;

const BY_ID: SortKey<benefit_link::Entity> = SortKey {
    name: "id",
    column: benefit_link::Column::Id,
    key_type: KeyType::Int,
    descending: false,
    value_of: |m| m.id.to_string(),
};

/// Open on `day`: started, and not ended before it.
fn open_on(link: &benefit_link::Model, day: NaiveDate) -> bool {
    link.started_on <= day && link.ended_on.is_none_or(|end| end >= day)
}

pub struct BenefitLink(pub benefit_link::Model);

/// How an enterprise's business brings income to one poor household (利益联结).
#[Object]
impl BenefitLink {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::BenefitLink, self.0.id)
    }
    /// The enterprise (经营主体).
    async fn enterprise(&self, ctx: &Context<'_>) -> ApiResult<Option<Enterprise>> {
        Ok(loaders(ctx)?
            .enterprises
            .load_one(self.0.enterprise_id)
            .await?
            .map(Enterprise))
    }
    /// The household, when the reader reaches it (联结农户).
    async fn household(&self, ctx: &Context<'_>) -> ApiResult<Option<Household>> {
        Ok(loaders(ctx)?
            .households
            .load_one(self.0.household_id)
            .await?
            .map(Household))
    }
    /// How the household benefits (联结方式).
    async fn mode(&self) -> BenefitMode {
        self.0.mode
    }
    /// First day of the link (开始日期).
    async fn started_on(&self) -> NaiveDate {
        self.0.started_on
    }
    /// Last day of the link, once ended or agreed (结束日期).
    async fn ended_on(&self) -> Option<NaiveDate> {
        self.0.ended_on
    }
    /// Income the link brings the household per year, in yuan (户年增收).
    async fn annual_income(&self) -> Money {
        Money(self.0.annual_income_fen)
    }
    /// Remarks (备注).
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// Open today in the county: started and not ended (是否有效).
    async fn active(&self) -> bool {
        open_on(&self.0, calendar::today())
    }
    /// Version of the record, for detecting concurrent edits (版本号).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A household's links, through the request's loader.
pub async fn links_of_household(ctx: &Context<'_>, household: i64) -> ApiResult<Vec<BenefitLink>> {
    let links = loaders(ctx)?
        .household_benefit_links
        .load_one(household)
        .await?;
    Ok(links
        .unwrap_or_default()
        .into_iter()
        .map(BenefitLink)
        .collect())
}

/// An enterprise's links the reader sees, as a connection in recording order.
pub async fn links_of_enterprise(
    ctx: &Context<'_>,
    enterprise: i64,
    active: Option<bool>,
    args: PageArgs,
) -> ApiResult<Conn<BenefitLink>> {
    use benefit_link::Column as L;
    let today = calendar::today();
    let open = Condition::all().add(L::StartedOn.lte(today)).add(
        Condition::any()
            .add(L::EndedOn.is_null())
            .add(L::EndedOn.gte(today)),
    );
    let mut select = access::select::<benefit_link::Entity>(viewer(ctx)?);
    match active {
        Some(true) => select = select.filter(open),
        Some(false) => select = select.filter(open.not()),
        None => {}
    }
    let parent = ParentColumn {
        table: "benefit_link",
        column: "enterprise_id",
    };
    paginate_nested(ctx, select, parent, enterprise, BY_ID, args, BenefitLink).await
}

fn snapshot(link: &benefit_link::Model) -> serde_json::Value {
    json!({
        "id": global_id(NodeKind::BenefitLink, link.id),
        "enterprise": global_id(NodeKind::Enterprise, link.enterprise_id),
        "household": global_id(NodeKind::Household, link.household_id),
        "mode": link.mode,
        "startedOn": link.started_on,
        "endedOn": link.ended_on,
        "annualIncome": Money(link.annual_income_fen).to_string(),
        "note": link.note,
        "version": link.version,
    })
}

fn check_started(started: NaiveDate) -> ApiResult<NaiveDate> {
    let latest = calendar::today()
        .checked_add_months(Months::new(MONTHS_AHEAD))
        .ok_or_else(|| ApiError::Internal("today plus a year is out of range".into()))?;
    if started.year() < FIRST_YEAR || started > latest {
        return Err(ApiError::bad_input(
            "startedOn",
            format!("a link starts in {FIRST_YEAR} or later, and at the latest on {latest}"),
        ));
    }
    Ok(started)
}

fn check_ended(started: NaiveDate, ended: NaiveDate, field: &str) -> ApiResult<NaiveDate> {
    if ended < started {
        return Err(ApiError::bad_input(
            field,
            format!("a link ends on or after the day it started ({started})"),
        ));
    }
    let last_year = calendar::today().year() + END_YEARS_AHEAD;
    if ended.year() > last_year {
        return Err(ApiError::bad_input(
            field,
            format!("a link ends in {last_year} at the latest"),
        ));
    }
    Ok(ended)
}

fn check_income(income: Money, field: &str) -> ApiResult<i64> {
    if income.0 < 0 {
        return Err(ApiError::bad_input(
            field,
            "an annual income may not be negative",
        ));
    }
    Ok(income.0)
}

/// Refuses a link whose period overlaps another link of the same enterprise,
/// household and mode (two open ones overlap always). Run with the household locked.
async fn check_no_overlap(txn: &DatabaseTransaction, link: &benefit_link::Model) -> ApiResult<()> {
    use benefit_link::Column as L;
    let mut others = benefit_link::Entity::find()
        .filter(L::EnterpriseId.eq(link.enterprise_id))
        .filter(L::HouseholdId.eq(link.household_id))
        .filter(L::Mode.eq(link.mode))
        .filter(L::Id.ne(link.id))
        .filter(
            Condition::any()
                .add(L::EndedOn.is_null())
                .add(L::EndedOn.gte(link.started_on)),
        );
    if let Some(end) = link.ended_on {
        others = others.filter(L::StartedOn.lte(end));
    }
    if let Some(other) = others.one(txn).await? {
        let until = other
            .ended_on
            .map_or_else(|| "open".to_owned(), |d| format!("to {d}"));
        return Err(ApiError::Conflict(format!(
            "the household already has a {} link with this enterprise in that period \
             (from {}, {until}): end or change that one",
            link.mode.to_value(),
            other.started_on
        )));
    }
    Ok(())
}

/// Locks a household, so that its links are checked and changed one change at a time.
async fn lock_household(txn: &DatabaseTransaction, id: i64) -> ApiResult<()> {
    write::one_locked(txn, household::Entity::find_by_id(id))
        .await?
        .ok_or_else(|| ApiError::not_found("Household"))?;
    Ok(())
}

/// A link the caller reaches, locked for a change, with its household locked too.
async fn link_to_change(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: &ID,
) -> ApiResult<benefit_link::Model> {
    let (_, raw) = decode_id_of(id, "id", &[NodeKind::BenefitLink])?;
    let reached = access::select::<benefit_link::Entity>(viewer)
        .filter(benefit_link::Column::Id.eq(raw))
        .one(txn)
        .await?
        .ok_or_else(|| ApiError::not_found("BenefitLink"))?;
    lock_household(txn, reached.household_id).await?;
    write::one_locked(txn, benefit_link::Entity::find_by_id(reached.id))
        .await?
        .ok_or_else(|| ApiError::not_found("BenefitLink"))
}

fn check_link_version(
    viewer: &Viewer,
    stated: i32,
    current: &benefit_link::Model,
) -> ApiResult<()> {
    write::check_version("benefit link", stated, current.version, || {
        permissions::redact(viewer, "BenefitLink", snapshot(current))
    })
}

/// Saves a changed link with its audit entry, and commits.
async fn save(
    ctx: &Context<'_>,
    txn: DatabaseTransaction,
    action: &str,
    before: benefit_link::Model,
    mut after: benefit_link::Model,
) -> ApiResult<BenefitLink> {
    let actor = actor(ctx)?;
    after.version = before.version + 1;
    after.updated_at = Utc::now();
    check_no_overlap(&txn, &after).await?;
    let mut changed: benefit_link::ActiveModel = before.clone().into();
    changed.mode = Set(after.mode);
    changed.ended_on = Set(after.ended_on);
    changed.annual_income_fen = Set(after.annual_income_fen);
    changed.note = Set(after.note);
    changed.version = Set(after.version);
    changed.updated_at = Set(after.updated_at);
    let saved = changed.update(&txn).await?;
    let change = Change {
        action,
        entity_type: "BenefitLink",
        entity_id: saved.id,
        before: Some(snapshot(&before)),
        after: Some(snapshot(&saved)),
    };
    audit::record(&txn, &actor, change).await?;
    txn.commit().await?;
    Ok(BenefitLink(saved))
}

/// A new benefit link between an enterprise and a household (新增利益联结).
#[derive(InputObject)]
pub struct RecordBenefitLinkInput {
    /// The enterprise (经营主体).
    enterprise_id: ID,
    /// The household, one the caller reaches (联结农户).
    household_id: ID,
    /// How the household benefits (联结方式).
    mode: BenefitMode,
    /// First day: in 2014 or later, at most a year ahead (开始日期).
    started_on: NaiveDate,
    /// Last day, if agreed: not before the first (结束日期).
    ended_on: Option<NaiveDate>,
    /// Income brought to the household per year, in yuan, not negative (户年增收).
    annual_income: Money,
    /// Remarks, at most 500 characters (备注).
    note: Option<String>,
    /// Client-chosen key: a retried request returns the first link (幂等键).
    idempotency_key: Option<String>,
}

/// Changes to a benefit link; fields left out stay as they are (修改利益联结).
#[derive(InputObject)]
pub struct UpdateBenefitLinkInput {
    /// The link (利益联结).
    id: ID,
    /// The version the change was made from (版本号).
    version: i32,
    /// New mode (联结方式).
    mode: Option<BenefitMode>,
    /// New last day: not before the first (结束日期).
    ended_on: Option<NaiveDate>,
    /// New income per year, in yuan (户年增收).
    annual_income: Option<Money>,
    /// New remarks; an empty string clears them (备注).
    note: Option<String>,
}

#[derive(Default)]
pub struct LinkMutation;

#[Object]
impl LinkMutation {
    /// Records a benefit link of an enterprise with a household the caller
    /// reaches (新增利益联结). Links of the same enterprise, household and mode
    /// may not overlap in time.
    async fn record_benefit_link(
        &self,
        ctx: &Context<'_>,
        input: RecordBenefitLinkInput,
    ) -> ApiResult<BenefitLink> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        viewer.user()?;
        let started_on = check_started(input.started_on)?;
        let ended_on = input
            .ended_on
            .map(|end| check_ended(started_on, end, "endedOn"))
            .transpose()?;
        let annual_income_fen = check_income(input.annual_income, "annualIncome")?;
        let note = optional_text(input.note.as_deref(), "note", MAX_NOTE_CHARS)?;
        let (_, enterprise_id) = decode_id_of(
            &input.enterprise_id,
            "enterpriseId",
            &[NodeKind::Enterprise],
        )?;
        let firm = access::select::<enterprise::Entity>(viewer)
            .filter(enterprise::Column::Id.eq(enterprise_id))
            .one(db(ctx)?)
            .await?
            .ok_or_else(|| ApiError::not_found("Enterprise"))?;
        let home = reachable_household(ctx, &input.household_id).await?;
        let request = json!({
            "enterprise": firm.id,
            "household": home.id,
            "mode": input.mode,
            "startedOn": started_on,
            "endedOn": ended_on,
            "annualIncomeFen": annual_income_fen,
            "note": note,
        });
        let key = input.idempotency_key.as_deref();
        let created = write::create::<benefit_link::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "recordBenefitLink",
            &request,
            async |txn| {
                lock_household(txn, home.id).await?;
                let now = Utc::now();
                let link = benefit_link::Model {
                    id: 0,
                    enterprise_id: firm.id,
                    household_id: home.id,
                    mode: input.mode,
                    started_on,
                    ended_on,
                    annual_income_fen,
                    note,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                };
                check_no_overlap(txn, &link).await?;
                let recorded = benefit_link::ActiveModel {
                    enterprise_id: Set(link.enterprise_id),
                    household_id: Set(link.household_id),
                    mode: Set(link.mode),
                    started_on: Set(link.started_on),
                    ended_on: Set(link.ended_on),
                    annual_income_fen: Set(link.annual_income_fen),
                    note: Set(link.note),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                Ok(Created::new(
                    recorded.id,
                    "benefit_link.create",
                    "BenefitLink",
                    snapshot(&recorded),
                    recorded,
                ))
            },
        )
        .await?;
        Ok(BenefitLink(created))
    }

    /// Changes a benefit link's mode, end, income or remarks (修改利益联结).
    async fn update_benefit_link(
        &self,
        ctx: &Context<'_>,
        input: UpdateBenefitLinkInput,
    ) -> ApiResult<BenefitLink> {
        let viewer = viewer(ctx)?;
        let annual_income_fen = input
            .annual_income
            .map(|income| check_income(income, "annualIncome"))
            .transpose()?;
        let note = input
            .note
            .as_deref()
            .map(|note| optional_text(Some(note), "note", MAX_NOTE_CHARS))
            .transpose()?;
        if input.mode.is_none()
            && input.ended_on.is_none()
            && annual_income_fen.is_none()
            && note.is_none()
        {
            return Err(ApiError::bad_input(
                "input",
                "give at least one field to change",
            ));
        }
        let txn = write::begin(db(ctx)?).await?;
        let before = link_to_change(&txn, viewer, &input.id).await?;
        check_link_version(viewer, input.version, &before)?;
        let mut after = before.clone();
        if let Some(mode) = input.mode {
            after.mode = mode;
        }
        if let Some(end) = input.ended_on {
            after.ended_on = Some(check_ended(before.started_on, end, "endedOn")?);
        }
        if let Some(income) = annual_income_fen {
            after.annual_income_fen = income;
        }
        if let Some(note) = note {
            after.note = note;
        }
        save(ctx, txn, "benefit_link.update", before, after).await
    }

    /// Ends a benefit link on a day (终止利益联结): from the day after, the
    /// enterprise no longer reaches the household through it.
    async fn end_benefit_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The link (利益联结).")] id: ID,
        #[graphql(desc = "The version the change was made from (版本号).")] version: i32,
        #[graphql(desc = "The last day of the link: not before its first (结束日期).")]
        ended_on: NaiveDate,
    ) -> ApiResult<BenefitLink> {
        let viewer = viewer(ctx)?;
        let txn = write::begin(db(ctx)?).await?;
        let before = link_to_change(&txn, viewer, &id).await?;
        check_link_version(viewer, version, &before)?;
        if let Some(ended) = before.ended_on.filter(|d| *d < calendar::today()) {
            return Err(ApiError::bad_input(
                "id",
                format!("the link already ended on {ended}"),
            ));
        }
        let mut after = before.clone();
        after.ended_on = Some(check_ended(before.started_on, ended_on, "endedOn")?);
        save(ctx, txn, "benefit_link.end", before, after).await
    }
}
