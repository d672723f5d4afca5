//! Benefit links (利益联结): how an enterprise's business brings income to a
//! poor household: employment, land rent, dividends, orders. Organisers record
//! them for the households they reach; an enterprise sees its own links, and
//! through an open link the household, with names masked.

use crate::graphql::date::Day;
use async_graphql::{Context, ID, InputObject, Object};
use chrono::NaiveDate;
use entity::benefit_link;
use entity::enums::BenefitMode;
use sea_orm::{ColumnTrait, Condition, QueryFilter};

use super::super::household::Household;
use super::super::money::Money;
use super::super::relay::{
    Conn, KeyType, NodeKind, PageArgs, ParentColumn, SortKey, decode_id_of, global_id,
};
use super::Enterprise;
use crate::access;
use crate::domain::calendar;
use crate::domain::enterprise::{self as firms, BenefitLinkChanges, NewBenefitLink};
use crate::error::ApiResult;
use crate::graphql::context::{actor, db, loaders, paginate_nested, viewer};

const BY_ID: SortKey<benefit_link::Entity> = SortKey {
    name: "id",
    column: benefit_link::Column::Id,
    key_type: KeyType::Int,
    descending: false,
    value_of: |m| m.id.to_string(),
};

pub struct BenefitLink(pub benefit_link::Model);

impl BenefitLink {
    /// Whether the link is open on `day`: started and not ended.
    pub fn open_on(&self, day: NaiveDate) -> bool {
        firms::link_open_on(&self.0, day)
    }
}

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
    async fn started_on(&self) -> Day {
        Day(self.0.started_on)
    }
    /// Last day of the link, once ended or agreed (结束日期).
    async fn ended_on(&self) -> Option<Day> {
        self.0.ended_on.map(Day)
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
        self.open_on(calendar::today())
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
    started_on: Day,
    /// Last day, if agreed: not before the first (结束日期).
    ended_on: Option<Day>,
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
    ended_on: Option<Day>,
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
        #[graphql(desc = "The link between the enterprise and the household (利益联结).")]
        input: RecordBenefitLinkInput,
    ) -> ApiResult<BenefitLink> {
        let actor = actor(ctx)?;
        let (_, enterprise_id) = decode_id_of(
            &input.enterprise_id,
            "enterpriseId",
            &[NodeKind::Enterprise],
        )?;
        let (_, household_id) =
            decode_id_of(&input.household_id, "householdId", &[NodeKind::Household])?;
        let new = NewBenefitLink {
            enterprise_id,
            household_id,
            mode: input.mode,
            started_on: input.started_on.0,
            ended_on: input.ended_on.map(Into::into),
            annual_income: input.annual_income,
            note: input.note,
        };
        let key = input.idempotency_key.as_deref();
        let recorded = firms::record_link(db(ctx)?, viewer(ctx)?, &actor, key, new).await?;
        Ok(BenefitLink(recorded))
    }

    /// Changes a benefit link's mode, end, income or remarks (修改利益联结).
    async fn update_benefit_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The link and what changes (利益联结变更).")]
        input: UpdateBenefitLinkInput,
    ) -> ApiResult<BenefitLink> {
        let actor = actor(ctx)?;
        let (_, id) = decode_id_of(&input.id, "id", &[NodeKind::BenefitLink])?;
        let changes = BenefitLinkChanges {
            id,
            version: input.version,
            mode: input.mode,
            ended_on: input.ended_on.map(Into::into),
            annual_income: input.annual_income,
            note: input.note,
        };
        let updated = firms::update_link(db(ctx)?, viewer(ctx)?, &actor, changes).await?;
        Ok(BenefitLink(updated))
    }

    /// Ends a benefit link on a day (终止利益联结): from the day after, the
    /// enterprise no longer reaches the household through it.
    async fn end_benefit_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The link (利益联结).")] id: ID,
        #[graphql(desc = "The version the change was made from (版本号).")] version: i32,
        #[graphql(desc = "The last day of the link: not before its first (结束日期).")]
        ended_on: Day,
    ) -> ApiResult<BenefitLink> {
        let actor = actor(ctx)?;
        let (_, id) = decode_id_of(&id, "id", &[NodeKind::BenefitLink])?;
        let ended =
            firms::end_link(db(ctx)?, viewer(ctx)?, &actor, id, version, ended_on.0).await?;
        Ok(BenefitLink(ended))
    }
}
