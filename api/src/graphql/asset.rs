//! Project assets (扶贫项目资产): what accepted projects leave, who owns and
//! runs each, its status and the income it brings, and a region's figures.
//! The rules are `domain::asset`.

use crate::graphql::date::Day;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Datelike, Utc};
use entity::enums::{AssetKind, AssetStatus};
use entity::{asset_income, project_asset};
use sea_orm::{ColumnTrait, QueryFilter};

use super::context::{actor, db, loaders, viewer};
use super::household::Household;
use super::money::Money;
use super::project::Project;
use super::region::{Village, find_region};
use super::relay::{NodeKind, decode_id_of, global_id};
use crate::access;
use crate::domain::{asset as rules, calendar};
use crate::error::ApiResult;

pub struct ProjectAsset(pub project_asset::Model);

impl ProjectAsset {
    /// The asset with this row ID, as the caller may see it.
    pub async fn find(ctx: &Context<'_>, id: i64) -> ApiResult<Option<Self>> {
        let found = access::select::<project_asset::Entity>(viewer(ctx)?)
            .filter(project_asset::Column::Id.eq(id))
            .one(db(ctx)?)
            .await?;
        Ok(found.map(Self))
    }
}

/// An asset a project left once accepted (扶贫项目资产): a productive or
/// public asset owned by a village collective, seen by everyone, or a
/// household's own, seen by those who reach the household.
#[Object]
impl ProjectAsset {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::ProjectAsset, self.0.id)
    }
    /// The project it came from (来源项目).
    async fn project(&self, ctx: &Context<'_>) -> ApiResult<Option<Project>> {
        let project = loaders(ctx)?.projects.load_one(self.0.project_id).await?;
        Ok(project.map(Project))
    }
    /// The village collective that owns it, for a productive or public asset (所有权村集体).
    async fn owner_village(&self, ctx: &Context<'_>) -> ApiResult<Option<Village>> {
        let Some(id) = self.0.owner_village_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?.regions.load_one(id).await?.map(Village))
    }
    /// The household that owns it, for a household asset, when the reader
    /// reaches it (所有权农户).
    async fn owner_household(&self, ctx: &Context<'_>) -> ApiResult<Option<Household>> {
        let Some(id) = self.0.owner_household_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?.households.load_one(id).await?.map(Household))
    }
    /// Its name (资产名称).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Its kind: productive, public or a household's (资产类型).
    async fn kind(&self) -> AssetKind {
        self.0.kind
    }
    /// What it is worth, in yuan (资产价值).
    async fn value(&self) -> Money {
        Money(self.0.value_fen)
    }
    /// Who runs it, e.g. a cooperative or an enterprise (运营主体).
    async fn operator(&self) -> &str {
        &self.0.operator
    }
    /// The day it was handed over to its owner (移交日期).
    async fn handed_over_on(&self) -> Day {
        Day(self.0.handed_over_on)
    }
    /// Where it stands: in use, idle or disposed of (资产状态).
    async fn status(&self) -> AssetStatus {
        self.0.status
    }
    /// The income it brought, by year, oldest first (资产收益).
    async fn incomes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the income of this year (年度).")] year: Option<i32>,
    ) -> ApiResult<Vec<AssetIncome>> {
        let mut incomes = loaders(ctx)?
            .asset_incomes
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        incomes.retain(|i| year.is_none_or(|year| i.year == year));
        incomes.sort_by_key(|i| (i.year, i.id));
        Ok(incomes.into_iter().map(AssetIncome).collect())
    }
    /// Version of the record, for detecting concurrent edits (版本号).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

pub struct AssetIncome(pub asset_income::Model);

/// A year's income of a project asset (资产收益), appended, never edited.
#[Object]
impl AssetIncome {
    /// The year it was earned (收益年度).
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// The income, in yuan (收益金额).
    async fn amount(&self) -> Money {
        Money(self.0.amount_fen)
    }
    /// What of it was paid to poor households as dividends or wages, in yuan (分红).
    async fn distributed(&self) -> Money {
        Money(self.0.distributed_fen)
    }
    /// Households that benefited (受益户数).
    async fn households_benefited(&self) -> i32 {
        self.0.households_benefited
    }
    /// When it reached the register (录入时间).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The assets of a project, as far as the reader sees them, in registration order.
pub async fn assets_of(ctx: &Context<'_>, project_id: i64) -> ApiResult<Vec<ProjectAsset>> {
    let assets = loaders(ctx)?
        .project_assets
        .load_one(project_id)
        .await?
        .unwrap_or_default();
    Ok(assets.into_iter().map(ProjectAsset).collect())
}

/// The assets of one kind not disposed of (按类型资产). Amounts in yuan.
#[derive(SimpleObject)]
pub struct AssetKindFigure {
    /// The kind (资产类型).
    kind: AssetKind,
    /// Assets of the kind (资产数).
    assets: i64,
    /// What they are worth (资产价值).
    value: Money,
}

/// The project assets of a region and their income in a year (扶贫项目资产情况),
/// assets counted where their owner is: the village collective, or the
/// household's village. Amounts in yuan.
#[derive(SimpleObject)]
pub struct AssetFigures {
    /// The year of the income figures (收益年度).
    year: i32,
    /// Assets not disposed of (在册资产数).
    assets: i64,
    /// What they are worth (资产总值).
    value: Money,
    /// The same by kind, every kind listed (按类型).
    by_kind: Vec<AssetKindFigure>,
    /// Assets standing idle (闲置资产数).
    idle: i64,
    /// Assets disposed of (已处置资产数).
    disposed: i64,
    /// The income of the year, of every asset (年度收益).
    income: Money,
    /// What of it was paid to poor households as dividends or wages (分红).
    distributed: Money,
    /// Households benefited, as each income of the year recorded them, added
    /// up: a household benefiting twice counts twice (受益户次).
    households_benefited: i64,
}

#[derive(Default)]
pub struct AssetQuery;

#[Object]
impl AssetQuery {
    /// The project assets of the county, a township or a village, and their
    /// income in a year (扶贫项目资产情况).
    #[graphql(
        complexity = "crate::graphql::cost::priced(crate::graphql::cost::REGION_FIGURES, child_complexity)"
    )]
    async fn project_assets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The county, a township or a village (区域).")] region_id: ID,
        #[graphql(desc = "The year of the income figures; this year if not given (年度).")]
        year: Option<i32>,
    ) -> ApiResult<AssetFigures> {
        let today = calendar::today();
        let year = year.unwrap_or(today.year());
        rules::check_year("year", year, today)?;
        let kinds = [NodeKind::County, NodeKind::Township, NodeKind::Village];
        let region = find_region(ctx, &region_id, "regionId", &kinds).await?;
        let f = rules::figures(db(ctx)?, access::code_prefix(&region), year).await?;
        let held = f.held();
        Ok(AssetFigures {
            year,
            assets: held.assets,
            value: Money(held.value),
            by_kind: f
                .by_kind
                .iter()
                .map(|(kind, h)| AssetKindFigure {
                    kind: *kind,
                    assets: h.assets,
                    value: Money(h.value),
                })
                .collect(),
            idle: f.idle,
            disposed: f.disposed,
            income: Money(f.income),
            distributed: Money(f.distributed),
            households_benefited: f.households_benefited,
        })
    }
}

/// An asset to register (登记项目资产).
#[derive(InputObject)]
pub struct RegisterAssetInput {
    /// The accepted project it came from (来源项目).
    project_id: ID,
    /// Its name, at most 200 characters (资产名称).
    name: String,
    /// Its kind: a household asset belongs to a household, any other to a
    /// village collective (资产类型).
    kind: AssetKind,
    /// What it is worth, in yuan: with the project's other assets, at most
    /// the project's budget (资产价值).
    value: Money,
    /// The village collective that owns a productive or public asset: one the
    /// project covers (所有权村集体).
    owner_village_id: Option<ID>,
    /// The household that owns a household asset: a registered one living in
    /// a village the project covers (所有权农户).
    owner_household_id: Option<ID>,
    /// Who runs it, e.g. a cooperative or an enterprise, at most 200
    /// characters (运营主体).
    operator: String,
    /// The day it was handed over: not before the project was accepted, not
    /// in the future (移交日期).
    handed_over_on: Day,
    /// Makes a retried request return the first asset instead of a second (幂等键).
    idempotency_key: Option<String>,
}

fn asset_row(id: &ID) -> ApiResult<i64> {
    Ok(decode_id_of(id, "assetId", &[NodeKind::ProjectAsset])?.1)
}

/// The row ID of an optional global ID of one of `kinds`.
fn optional_row(id: Option<&ID>, field: &str, kinds: &[NodeKind]) -> ApiResult<Option<i64>> {
    id.map(|id| decode_id_of(id, field, kinds).map(|(_, raw)| raw))
        .transpose()
}

#[derive(Default)]
pub struct AssetMutation;

#[Object]
impl AssetMutation {
    /// Registers an asset an accepted project left, with its owner (登记项目资产).
    async fn register_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The asset (项目资产).")] input: RegisterAssetInput,
    ) -> ApiResult<ProjectAsset> {
        let new = rules::NewAsset {
            project_id: decode_id_of(&input.project_id, "projectId", &[NodeKind::Project])?.1,
            name: input.name,
            kind: input.kind,
            value: input.value,
            owner_village_id: optional_row(
                input.owner_village_id.as_ref(),
                "ownerVillageId",
                &[NodeKind::Village],
            )?,
            owner_household_id: optional_row(
                input.owner_household_id.as_ref(),
                "ownerHouseholdId",
                &[NodeKind::Household],
            )?,
            operator: input.operator,
            handed_over_on: input.handed_over_on.0,
        };
        let key = input.idempotency_key.as_deref();
        let created = rules::register(db(ctx)?, viewer(ctx)?, &actor(ctx)?, key, new).await?;
        Ok(ProjectAsset(created))
    }

    /// Changes who runs an asset or its status, from the version read
    /// (变更项目资产): a disposal is final and gives its reason.
    async fn update_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The asset (项目资产).")] asset_id: ID,
        #[graphql(desc = "The version read (版本号).")] version: i32,
        #[graphql(desc = "Who runs it now, if it changes (运营主体).")] operator: Option<String>,
        #[graphql(
            desc = "Where it stands now; unchanged if not given. DISPOSED is final (资产状态)."
        )]
        status: Option<AssetStatus>,
        #[graphql(
            desc = "Why, kept in the audit trail, at most 500 characters; required for a disposal (变更原因)."
        )]
        reason: Option<String>,
    ) -> ApiResult<ProjectAsset> {
        let id = asset_row(&asset_id)?;
        let changes = rules::AssetChanges {
            operator,
            status,
            reason,
        };
        let after =
            rules::update(db(ctx)?, viewer(ctx)?, &actor(ctx)?, (id, version), changes).await?;
        Ok(ProjectAsset(after))
    }

    /// Records a year's income of an asset not disposed of, and what of it
    /// reached poor households (登记资产收益).
    async fn record_asset_income(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The asset (项目资产).")] asset_id: ID,
        #[graphql(desc = "The year it was earned: from the handover to this year (收益年度).")]
        year: i32,
        #[graphql(desc = "The income, in yuan (收益金额).")] amount: Money,
        #[graphql(
            desc = "What of it was paid to poor households, in yuan: at most the income (分红)."
        )]
        distributed: Money,
        #[graphql(desc = "Households that benefited (受益户数).")] households_benefited: i32,
    ) -> ApiResult<ProjectAsset> {
        let id = asset_row(&asset_id)?;
        let income = rules::NewIncome {
            year,
            amount,
            distributed,
            households_benefited,
        };
        let after = rules::record_income(db(ctx)?, viewer(ctx)?, &actor(ctx)?, id, income).await?;
        Ok(ProjectAsset(after))
    }
}
