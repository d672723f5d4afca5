//! The county, its townships and villages (行政区划): types, queries, the
//! county office's edits of villages, and the region filters other areas use
//! (a subtree is a division-code prefix).

use crate::graphql::date::Day;
use async_graphql::{Context, ID, InputObject, Lookahead, Object, SimpleObject};
use entity::enums::RegionLevel;
use entity::region;
use sea_orm::{ColumnTrait, Condition, QueryFilter};

use super::context::{actor, db, loaders, page, paginate_nested, viewer};
use super::enterprise::{Enterprise, EnterpriseFilter};
use super::household::{Household, HouseholdFilter, HouseholdOrder};
use super::money::Money;
use super::pairing::unit::{self, HelperUnit, VillageStaff};
use super::prefetch::{Prefetch, fetch, fill};
use super::project::{Project, ProjectFilter, ProjectsOf};
use super::relay::{
    Conn, KeyType, NodeKind, PageArgs, ParentColumn, SortKey, decode_id_of, global_id, page_cost,
    paginate,
};
use super::village_exit::{self, VillageExit, VillageExitCheck, VillageSurvey};
use crate::access;
use crate::domain::region::{self as divisions, VillageFields};
use crate::error::{ApiError, ApiResult};

/// Townships under their county, villages under their township.
const UNDER_PARENT: ParentColumn = ParentColumn {
    table: "region",
    column: "parent_id",
};

/// Regions are paged in division-code order.
const BY_CODE: SortKey<region::Entity> = SortKey {
    name: "code",
    column: region::Column::Code,
    key_type: KeyType::Text,
    descending: false,
    value_of: |m| m.code.clone(),
};

/// The global-ID type of a region of this level.
pub fn node_kind(level: RegionLevel) -> NodeKind {
    match level {
        RegionLevel::County => NodeKind::County,
        RegionLevel::Township => NodeKind::Township,
        RegionLevel::Village => NodeKind::Village,
    }
}

/// Loads the region a global ID names; wrong levels and unseen rows are NOT_FOUND.
pub async fn find_region(
    ctx: &Context<'_>,
    id: &ID,
    field: &str,
    kinds: &[NodeKind],
) -> ApiResult<region::Model> {
    let (kind, raw) = decode_id_of(id, field, kinds)?;
    loaders(ctx)?
        .regions
        .load_one(raw)
        .await?
        .filter(|r| node_kind(r.level) == kind)
        .ok_or_else(|| ApiError::not_found(kind.type_name()))
}

/// Condition on a `village_id` column: the village is in the subtree of `region`.
pub fn village_in(column: impl ColumnTrait, region: &region::Model) -> Condition {
    Condition::all().add(column.in_subquery(access::villages_under(access::code_prefix(region))))
}

/// Wraps a region row in its GraphQL type by level.
pub fn region_node(model: region::Model) -> super::node::Node {
    match model.level {
        RegionLevel::County => County(model).into(),
        RegionLevel::Township => Township(model).into(),
        RegionLevel::Village => Village(model).into(),
    }
}

pub struct County(pub region::Model);

/// The county (县): the root of the region hierarchy.
#[Object]
impl County {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::County, self.0.id)
    }
    /// 12-digit statistical division code (统计用区划代码).
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Name (县名称).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Townships of the county, in code order (乡镇).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn townships(
        &self,
        ctx: &Context<'_>,
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
    ) -> ApiResult<Conn<Township>> {
        let select = access::select::<region::Entity>(viewer(ctx)?);
        let args = PageArgs::new(first, after, last, before);
        paginate_nested(
            ctx,
            select,
            UNDER_PARENT,
            self.0.id,
            BY_CODE,
            args,
            Township,
        )
        .await
    }
}

pub struct Township(pub region::Model);

impl Prefetch for Township {
    type Row = region::Model;

    async fn prefetch(
        ctx: &Context<'_>,
        selection: &Lookahead<'_>,
        rows: &[region::Model],
    ) -> ApiResult<()> {
        if selection.field("county").exists() {
            fill(
                &loaders(ctx)?.regions,
                rows.iter().filter_map(|t| t.parent_id),
            )
            .await?;
        }
        Ok(())
    }
}

/// A township or town (乡镇).
#[Object]
impl Township {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Township, self.0.id)
    }
    /// 12-digit statistical division code (统计用区划代码).
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Name (乡镇名称).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The county it belongs to (所属县).
    async fn county(&self, ctx: &Context<'_>) -> ApiResult<Option<County>> {
        let Some(parent) = self.0.parent_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?.regions.load_one(parent).await?.map(County))
    }
    /// Villages of the township, in code order (行政村).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn villages(
        &self,
        ctx: &Context<'_>,
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
    ) -> ApiResult<Conn<Village>> {
        let select = access::select::<region::Entity>(viewer(ctx)?);
        let args = PageArgs::new(first, after, last, before);
        paginate_nested(ctx, select, UNDER_PARENT, self.0.id, BY_CODE, args, Village).await
    }
}

/// Latitude and longitude (WGS 84) of a village's committee (村委会坐标).
#[derive(SimpleObject)]
pub struct Location {
    /// Latitude in degrees (纬度).
    latitude: f64,
    /// Longitude in degrees (经度).
    longitude: f64,
}

/// A village's collective economy income for one year (村集体经济收入).
#[derive(SimpleObject)]
pub struct CollectiveIncome {
    /// The year the income was earned (年度).
    year: i32,
    /// Amount in yuan (金额).
    amount: Money,
}

pub struct Village(pub region::Model);

impl Prefetch for Village {
    type Row = region::Model;

    async fn prefetch(
        ctx: &Context<'_>,
        selection: &Lookahead<'_>,
        rows: &[region::Model],
    ) -> ApiResult<()> {
        let township = selection.field("township");
        if township.exists() {
            let townships = fetch(
                &loaders(ctx)?.regions,
                rows.iter().filter_map(|v| v.parent_id),
            );
            let townships: Vec<region::Model> = townships.await?.into_values().collect();
            Township::prefetch(ctx, &township, &townships).await?;
        }
        Ok(())
    }
}

/// An administrative village (行政村).
#[Object]
impl Village {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Village, self.0.id)
    }
    /// 12-digit statistical division code (统计用区划代码).
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Name (村名称).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The township it belongs to (所属乡镇).
    async fn township(&self, ctx: &Context<'_>) -> ApiResult<Option<Township>> {
        let Some(parent) = self.0.parent_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?.regions.load_one(parent).await?.map(Township))
    }
    /// Whether it is a designated poverty village (是否贫困村).
    async fn is_poverty_village(&self) -> bool {
        self.0.is_poverty_village
    }
    /// Year the poverty village exited (出列年度), if it has.
    async fn exit_year(&self) -> Option<i32> {
        self.0.exit_year
    }
    /// Version of the record, for detecting concurrent edits (版本号).
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The day it was retired (撤销日期), merged into another or emptied: it
    /// keeps its history and takes no more households.
    async fn retired_on(&self) -> Option<Day> {
        self.0.retired_on.map(Day)
    }
    /// The village it was merged into (并入村), if it was.
    async fn merged_into(&self, ctx: &Context<'_>) -> ApiResult<Option<Village>> {
        let Some(id) = self.0.merged_into_id else {
            return Ok(None);
        };
        Ok(fetch(&loaders(ctx)?.regions, [id])
            .await?
            .remove(&id)
            .map(Village))
    }
    /// Rural registered population (农村户籍人口).
    async fn rural_population(&self) -> Option<i32> {
        self.0.rural_population
    }
    /// Coordinates of the village committee (坐标).
    async fn location(&self) -> Option<Location> {
        Some(Location {
            latitude: self.0.latitude?,
            longitude: self.0.longitude?,
        })
    }
    /// Its facilities as last surveyed (村情).
    async fn survey(&self) -> VillageSurvey {
        VillageSurvey::of(&self.0)
    }
    /// Where it stands on the exit criteria today (出列标准核查).
    #[graphql(
        complexity = "crate::graphql::cost::priced(crate::graphql::cost::EXIT_CHECK, child_complexity)"
    )]
    async fn exit_check(&self, ctx: &Context<'_>) -> ApiResult<VillageExitCheck> {
        village_exit::exit_check_of(ctx, &self.0).await
    }
    /// Its exits, proposed and decided, newest first (出列记录).
    async fn exits(&self, ctx: &Context<'_>) -> ApiResult<Vec<VillageExit>> {
        village_exit::exits_of(ctx, &self.0).await
    }
    /// Latest recorded collective economy income (村集体经济收入).
    async fn collective_income(&self) -> Option<CollectiveIncome> {
        Some(CollectiveIncome {
            year: self.0.collective_income_year?,
            amount: Money(self.0.collective_income_fen?),
        })
    }
    /// Helper units helping the village now, by name (帮扶单位).
    async fn helper_units(&self, ctx: &Context<'_>) -> ApiResult<Vec<HelperUnit>> {
        unit::helper_units_of(ctx, self.0.id).await
    }
    /// The serving first secretary (第一书记), if any.
    async fn first_secretary(&self, ctx: &Context<'_>) -> ApiResult<Option<VillageStaff>> {
        let staff = unit::serving_staff_of(ctx, self.0.id).await?;
        Ok(staff
            .into_iter()
            .find(|s| s.0.role == entity::enums::VillageStaffRole::FirstSecretary))
    }
    /// The staff serving now, the first secretary first (驻村工作队).
    async fn resident_team(&self, ctx: &Context<'_>) -> ApiResult<Vec<VillageStaff>> {
        unit::serving_staff_of(ctx, self.0.id).await
    }
    /// Poor households of the village (贫困户), filtered and ordered like `Query.households`.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn households(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which households; all that the caller reaches if not given (筛选条件).")]
        filter: Option<HouseholdFilter>,
        #[graphql(desc = "The order; by ID, ascending, if not given (排序).")] order_by: Option<
            HouseholdOrder,
        >,
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
    ) -> ApiResult<Conn<Household>> {
        super::household::list(
            ctx,
            Some(self.0.id),
            filter,
            order_by,
            PageArgs::new(first, after, last, before),
        )
        .await
    }
    /// Enterprises and cooperatives registered in the village (经营主体).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn enterprises(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which enterprises; all if not given (筛选条件).")] filter: Option<
            EnterpriseFilter,
        >,
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
    ) -> ApiResult<Conn<Enterprise>> {
        super::enterprise::list(
            ctx,
            Some(self.0.id),
            filter,
            PageArgs::new(first, after, last, before),
        )
        .await
    }
    /// Assistance projects covering the village (覆盖本村的项目).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which projects; all if not given (筛选条件).")] filter: Option<
            ProjectFilter,
        >,
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
    ) -> ApiResult<Conn<Project>> {
        super::project::list(
            ctx,
            Some(ProjectsOf::Village(self.0.id)),
            filter,
            PageArgs::new(first, after, last, before),
        )
        .await
    }
}

/// Which villages to list (村筛选条件).
#[derive(InputObject, Default)]
pub struct VillageFilter {
    /// Only villages in this county or township (所属区域).
    region_id: Option<ID>,
    /// Only designated poverty villages, or only the others (是否贫困村).
    is_poverty_village: Option<bool>,
    /// Only poverty villages that have exited, or only those that have not (是否出列).
    exited: Option<bool>,
    /// Name prefix (村名).
    name: Option<String>,
}

#[derive(Default)]
pub struct RegionQuery;

#[Object]
impl RegionQuery {
    /// The county (县).
    async fn county(&self, ctx: &Context<'_>) -> ApiResult<County> {
        access::select::<region::Entity>(viewer(ctx)?)
            .filter(region::Column::Level.eq(RegionLevel::County))
            .one(db(ctx)?)
            .await?
            .map(County)
            .ok_or_else(|| ApiError::not_found("County"))
    }

    /// Townships of the county, in code order (乡镇).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn townships(
        &self,
        ctx: &Context<'_>,
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
    ) -> ApiResult<Conn<Township>> {
        let select = access::select::<region::Entity>(viewer(ctx)?)
            .filter(region::Column::Level.eq(RegionLevel::Township));
        let page = page(ctx, PageArgs::new(first, after, last, before))?;
        paginate(ctx, select, &BY_CODE, page, Township).await
    }

    /// One township by ID.
    async fn township(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the township (乡镇).")] id: ID,
    ) -> ApiResult<Township> {
        find_region(ctx, &id, "id", &[NodeKind::Township])
            .await
            .map(Township)
    }

    /// Villages, in code order (行政村).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn villages(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which villages; all if not given (筛选条件).")] filter: Option<
            VillageFilter,
        >,
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
    ) -> ApiResult<Conn<Village>> {
        let filter = filter.unwrap_or_default();
        let mut condition = Condition::all().add(region::Column::Level.eq(RegionLevel::Village));
        if let Some(id) = &filter.region_id {
            let region = find_region(
                ctx,
                id,
                "filter.regionId",
                &[NodeKind::County, NodeKind::Township],
            )
            .await?;
            condition = condition.add(access::code_under(access::code_prefix(&region)));
        }
        if let Some(poor) = filter.is_poverty_village {
            condition = condition.add(region::Column::IsPovertyVillage.eq(poor));
        }
        if let Some(exited) = filter.exited {
            condition = condition
                .add(region::Column::IsPovertyVillage.eq(true))
                .add(if exited {
                    region::Column::ExitYear.is_not_null()
                } else {
                    region::Column::ExitYear.is_null()
                });
        }
        if let Some(name) = &filter.name {
            let name = crate::domain::text::search_prefix(name, "filter.name")?;
            condition = condition
                .add(region::Column::Name.gte(name))
                .add(region::Column::Name.lt(format!("{name}\u{10FFFF}")));
        }
        let select = access::select::<region::Entity>(viewer(ctx)?).filter(condition);
        let page = page(ctx, PageArgs::new(first, after, last, before))?;
        paginate(ctx, select, &BY_CODE, page, Village).await
    }

    /// One village by ID.
    async fn village(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the village (行政村).")] id: ID,
    ) -> ApiResult<Village> {
        find_region(ctx, &id, "id", &[NodeKind::Village])
            .await
            .map(Village)
    }
}

/// A village as the county office sets it (行政村信息).
#[derive(InputObject)]
pub struct VillageInput {
    /// Name (村名称).
    name: String,
    /// Whether it is a designated poverty village (是否贫困村).
    #[graphql(default)]
    is_poverty_village: bool,
    /// Year the poverty village exited (出列年度), as the county decided it.
    exit_year: Option<i32>,
}

impl From<VillageInput> for VillageFields {
    fn from(input: VillageInput) -> Self {
        VillageFields {
            name: input.name,
            poverty_village: input.is_poverty_village,
            exit_year: input.exit_year,
        }
    }
}

#[derive(Default)]
pub struct RegionMutation;

#[Object]
impl RegionMutation {
    /// Adds a village to a township (新增行政村); its code extends the township's.
    async fn add_village(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The township (所属乡镇).")] township_id: ID,
        #[graphql(desc = "12-digit statistical division code (统计用区划代码).")] code: String,
        #[graphql(desc = "The new village (新增行政村).")] input: VillageInput,
    ) -> ApiResult<Village> {
        let (_, township) = decode_id_of(&township_id, "townshipId", &[NodeKind::Township])?;
        let village =
            divisions::add_village(db(ctx)?, &actor(ctx)?, township, &code, input.into()).await?;
        Ok(Village(village))
    }

    /// Renames a village, or marks it a poverty village and its exit (出列), from
    /// the version read (修改行政村).
    async fn update_village(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The village (行政村).")] village_id: ID,
        #[graphql(desc = "The version of the village read (版本号).")] version: i32,
        #[graphql(desc = "The village's new name and poverty-village status (行政村信息).")]
        input: VillageInput,
    ) -> ApiResult<Village> {
        let (_, id) = decode_id_of(&village_id, "villageId", &[NodeKind::Village])?;
        let village = divisions::update_village(
            db(ctx)?,
            viewer(ctx)?,
            &actor(ctx)?,
            id,
            version,
            input.into(),
        )
        .await?;
        Ok(Village(village))
    }

    /// Merges a village into another (撤并): its households move there with
    /// the reason, keeping their numbers; the other takes on its rural
    /// population; it is retired. Returns the retired village.
    async fn merge_villages(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The village merged (被撤并村).")] village_id: ID,
        #[graphql(desc = "The version of that village read (版本号).")] version: i32,
        #[graphql(desc = "The village it is merged into (并入村).")] into_village_id: ID,
        #[graphql(desc = "Why, e.g. the decision behind it (撤并原因).")] reason: String,
    ) -> ApiResult<VillageMerge> {
        let (_, from) = decode_id_of(&village_id, "villageId", &[NodeKind::Village])?;
        let (_, into) = decode_id_of(&into_village_id, "intoVillageId", &[NodeKind::Village])?;
        let (retired, moved) = divisions::merge_villages(
            db(ctx)?,
            viewer(ctx)?,
            &actor(ctx)?,
            (from, version),
            into,
            &reason,
        )
        .await?;
        Ok(VillageMerge {
            village: Village(retired),
            households_moved: moved,
        })
    }

    /// Retires a village without households (撤销行政村); one with households is merged.
    async fn retire_village(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The village (行政村).")] village_id: ID,
        #[graphql(desc = "The version of the village read (版本号).")] version: i32,
        #[graphql(desc = "Why (撤销原因).")] reason: String,
    ) -> ApiResult<Village> {
        let (_, id) = decode_id_of(&village_id, "villageId", &[NodeKind::Village])?;
        let village =
            divisions::retire_village(db(ctx)?, viewer(ctx)?, &actor(ctx)?, (id, version), &reason)
                .await?;
        Ok(Village(village))
    }
}

/// A merge of villages done (撤并结果).
#[derive(SimpleObject)]
pub struct VillageMerge {
    /// The village merged, now retired (被撤并村).
    village: Village,
    /// Households that moved (迁移户数).
    households_moved: u64,
}
