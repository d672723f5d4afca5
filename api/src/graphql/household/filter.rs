//! Turns a client's household filter into SQL conditions; every condition is
//! served by an index of the filing-card migration.

use async_graphql::{Context, Enum, ID, InputObject};
use entity::enums::{HouseholdAttribute, HouseholdStatus, MonitoringCategory, PovertyCause};
use entity::{household, household_cause, household_income, member};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition};

use super::super::money::Money;
use super::super::region::{find_region, village_in};
use super::super::relay::{KeyType, NodeKind, SortKey};
use crate::access::Viewer;
use crate::domain::text::search_prefix;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::viewer;
use crate::permissions::may_filter;

/// Which households to list (贫困户筛选条件). All given criteria must hold.
#[derive(InputObject, Default)]
pub struct HouseholdFilter {
    /// Only households in this county, township or village (所属区域).
    pub region_id: Option<ID>,
    /// Only households in one of these statuses (贫困状态).
    pub status: Option<Vec<HouseholdStatus>>,
    /// Only households with one of these attributes (贫困户属性).
    pub attribute: Option<Vec<HouseholdAttribute>>,
    /// Only households with this cause of poverty, main or other (致贫原因).
    pub cause: Option<PovertyCause>,
    /// Only households with this main cause of poverty (主要致贫原因).
    pub main_cause: Option<PovertyCause>,
    /// Only households under one of these monitoring categories (监测对象类别).
    pub monitoring: Option<Vec<MonitoringCategory>>,
    /// Only households whose per-capita net income in a year lies in a range (人均纯收入).
    pub income: Option<IncomeRange>,
    /// A household number prefix (digits), or the prefix of an active member's name (户编号或姓名).
    pub search: Option<String>,
}

/// A range of per-capita net income in one year; both bounds are inclusive.
#[derive(InputObject)]
pub struct IncomeRange {
    /// The income year (年度).
    pub year: i32,
    /// Lowest per-capita net income, in yuan.
    pub min_per_capita: Option<Money>,
    /// Highest per-capita net income, in yuan.
    pub max_per_capita: Option<Money>,
}

/// Fields households can be ordered by; each is unique, so pages never overlap.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum HouseholdOrderField {
    /// Order of enrolment in the register (建档顺序).
    #[default]
    Id,
    /// Household number (户编号), which groups households by village.
    Number,
}

/// Sort direction.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortDirection {
    /// Ascending (升序).
    #[default]
    Asc,
    /// Descending (降序).
    Desc,
}

/// How to order households.
#[derive(InputObject, Default)]
pub struct HouseholdOrder {
    /// The field to order by.
    #[graphql(default)]
    pub field: HouseholdOrderField,
    /// The direction.
    #[graphql(default)]
    pub direction: SortDirection,
}

impl HouseholdOrder {
    /// Refuses an order by a field `viewer` does not read in full: a page's
    /// edges would tell where a hidden value falls.
    pub fn check(&self, viewer: &Viewer) -> ApiResult<()> {
        let form = match self.field {
            HouseholdOrderField::Id => "ID",
            HouseholdOrderField::Number => "NUMBER",
        };
        may_filter(viewer, "HouseholdOrder", "field", form, "orderBy.field")
    }

    pub fn sort_key(&self) -> SortKey<household::Entity> {
        let descending = self.direction == SortDirection::Desc;
        match self.field {
            HouseholdOrderField::Id => SortKey {
                name: if descending { "id-desc" } else { "id" },
                column: household::Column::Id,
                key_type: KeyType::Int,
                descending,
                value_of: |m| m.id.to_string(),
            },
            HouseholdOrderField::Number => SortKey {
                name: if descending { "number-desc" } else { "number" },
                column: household::Column::Number,
                key_type: KeyType::Text,
                descending,
                value_of: |m| m.number.clone(),
            },
        }
    }
}

/// The condition selecting the households `filter` describes.
/// Each criterion is refused to a caller who does not read in full what it
/// compares (`permissions::FILTERS`).
pub async fn condition(ctx: &Context<'_>, filter: HouseholdFilter) -> ApiResult<Condition> {
    use household::Column as H;
    let viewer = viewer(ctx)?;
    let allowed = |field: &str, form: &str| {
        may_filter(
            viewer,
            "HouseholdFilter",
            field,
            form,
            &format!("filter.{field}"),
        )
    };
    let given = [
        ("regionId", filter.region_id.is_some()),
        ("status", filter.status.is_some()),
        ("attribute", filter.attribute.is_some()),
        ("cause", filter.cause.is_some()),
        ("mainCause", filter.main_cause.is_some()),
        ("monitoring", filter.monitoring.is_some()),
        ("income", filter.income.is_some()),
    ];
    for (field, _) in given.iter().filter(|(_, given)| *given) {
        allowed(field, "")?;
    }
    let mut condition = Condition::all();
    if let Some(id) = &filter.region_id {
        let kinds = [NodeKind::County, NodeKind::Township, NodeKind::Village];
        let region = find_region(ctx, id, "filter.regionId", &kinds).await?;
        condition = condition.add(village_in(H::VillageId, &region));
    }
    if let Some(status) = filter.status {
        condition = condition.add(H::Status.is_in(status));
    }
    if let Some(attribute) = filter.attribute {
        condition = condition.add(H::Attribute.is_in(attribute));
    }
    if let Some(monitoring) = filter.monitoring {
        condition = condition.add(H::Monitoring.is_in(monitoring));
    }
    if let Some(cause) = filter.main_cause {
        condition = condition.add(H::MainCause.eq(cause));
    }
    if let Some(cause) = filter.cause {
        let with_other_cause = Query::select()
            .column(household_cause::Column::HouseholdId)
            .from(household_cause::Entity)
            .and_where(household_cause::Column::Cause.eq(cause))
            .to_owned();
        condition = condition.add(
            Condition::any()
                .add(H::MainCause.eq(cause))
                .add(H::Id.in_subquery(with_other_cause)),
        );
    }
    if let Some(range) = filter.income {
        condition = condition.add(H::Id.in_subquery(income_in(range)?));
    }
    if let Some(search) = &filter.search {
        let prefix = search_prefix(search, "filter.search")?;
        let upper = format!("{prefix}\u{10FFFF}");
        let by_number = prefix.bytes().all(|b| b.is_ascii_digit());
        allowed("search", if by_number { "number" } else { "name" })?;
        condition = if by_number {
            condition
                .add(H::Number.gte(prefix))
                .add(H::Number.lt(upper))
        } else {
            let named = Query::select()
                .column(member::Column::HouseholdId)
                .from(member::Entity)
                .and_where(member::Column::IsActive.eq(true))
                .and_where(member::Column::Name.gte(prefix))
                .and_where(member::Column::Name.lt(upper))
                .to_owned();
            condition.add(H::Id.in_subquery(named))
        };
    }
    Ok(condition)
}

fn income_in(range: IncomeRange) -> ApiResult<sea_orm::sea_query::SelectStatement> {
    use household_income::Column as I;
    if !(1949..=9999).contains(&range.year) {
        return Err(ApiError::bad_input(
            "filter.income.year",
            "not a plausible year",
        ));
    }
    if let (Some(min), Some(max)) = (range.min_per_capita, range.max_per_capita)
        && min.0 > max.0
    {
        return Err(ApiError::bad_input(
            "filter.income.minPerCapita",
            "the minimum is above the maximum",
        ));
    }
    let mut query = Query::select()
        .column(I::HouseholdId)
        .from(household_income::Entity)
        .and_where(I::Year.eq(range.year))
        .to_owned();
    if let Some(min) = range.min_per_capita {
        query.and_where(I::PerCapitaNetFen.gte(min.0));
    }
    if let Some(max) = range.max_per_capita {
        query.and_where(I::PerCapitaNetFen.lte(max.0));
    }
    Ok(query)
}
