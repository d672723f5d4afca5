//! Monitoring for return to poverty (防返贫监测): the mutations that take a
//! household in, let it go, and set the provinces' monitoring lines; the rules
//! are `domain::monitoring` and `domain::income_line`.

use crate::graphql::date::Day;
use async_graphql::{Context, ID, InputObject, Object};
use entity::enums::{FoundBy, MonitoringCategory, RiskType};
use entity::monitoring_line;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};

use super::super::money::Money;
use super::super::relay::{NodeKind, decode_id_of};
use super::{MonitoringCase, MonitoringLine};
use crate::access;
use crate::domain::{income_line, monitoring};
use crate::error::ApiResult;
use crate::graphql::context::{actor, db, viewer};

/// A household found at risk of (returning to) poverty (纳入监测).
#[derive(InputObject)]
pub struct StartMonitoringInput {
    /// The household (农户).
    household_id: ID,
    /// The version of the household read (版本号).
    version: i32,
    /// Monitoring category (监测类别).
    category: MonitoringCategory,
    /// The risks found: at least one, each once (风险类型).
    risks: Vec<RiskType>,
    /// How the risk was found (发现方式).
    found_by: FoundBy,
    /// The day it was found: today if not given, at most 366 days back (识别监测日期).
    started_on: Option<Day>,
    /// What was found (纳入原因).
    reason: String,
    /// Makes a retried request return the first case instead of a second (幂等键).
    idempotency_key: Option<String>,
}

/// The row behind a household's global ID.
fn household_row(id: &ID) -> ApiResult<i64> {
    Ok(decode_id_of(id, "householdId", &[NodeKind::Household])?.1)
}

#[derive(Default)]
pub struct MonitoringMutation;

#[Object]
impl MonitoringMutation {
    /// Takes a household found at risk into monitoring (纳入防返贫监测).
    async fn start_monitoring(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The household and the risks found (监测对象).")]
        input: StartMonitoringInput,
    ) -> ApiResult<MonitoringCase> {
        let actor = actor(ctx)?;
        let new = monitoring::NewCase {
            household_id: household_row(&input.household_id)?,
            version: input.version,
            category: input.category,
            risks: input.risks,
            found_by: input.found_by,
            started_on: input.started_on.map(Into::into),
            reason: input.reason,
        };
        let key = input.idempotency_key.as_deref();
        let created = monitoring::start(db(ctx)?, viewer(ctx)?, &actor, key, new).await?;
        Ok(MonitoringCase(created))
    }

    /// Marks the risk of a monitored household eliminated and ends its monitoring (风险消除).
    async fn eliminate_risk(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The household (农户).")] household_id: ID,
        #[graphql(desc = "The version of the household read (版本号).")] version: i32,
        #[graphql(desc = "How the risk was eliminated (风险消除说明).")] note: String,
    ) -> ApiResult<MonitoringCase> {
        let actor = actor(ctx)?;
        let id = household_row(&household_id)?;
        let closed =
            monitoring::eliminate_risk(db(ctx)?, viewer(ctx)?, &actor, id, version, &note).await?;
        Ok(MonitoringCase(closed))
    }

    /// Sets a province's monitoring line for a year, replacing any earlier one (设定监测收入标准).
    async fn set_monitoring_line(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First two digits of the province's division code (省级区划代码).")]
        province_code: String,
        #[graphql(desc = "The year (年度).")] year: i32,
        #[graphql(desc = "Annual per-capita net income, in yuan (元/人·年).")] annual: Money,
    ) -> ApiResult<MonitoringLine> {
        let actor = actor(ctx)?;
        let line = income_line::set_monitoring_line(db(ctx)?, &actor, &province_code, year, annual)
            .await?;
        Ok(MonitoringLine(line))
    }
}

#[derive(Default)]
pub struct MonitoringQuery;

#[Object]
impl MonitoringQuery {
    /// Monitoring lines by province and year, oldest first (防返贫监测收入标准).
    async fn monitoring_lines(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this province (省级区划代码).")] province_code: Option<String>,
    ) -> ApiResult<Vec<MonitoringLine>> {
        let mut select = access::select::<monitoring_line::Entity>(viewer(ctx)?);
        if let Some(code) = province_code {
            select = select.filter(monitoring_line::Column::ProvinceCode.eq(code.trim()));
        }
        let lines = select
            .order_by_asc(monitoring_line::Column::ProvinceCode)
            .order_by_asc(monitoring_line::Column::Year)
            .all(db(ctx)?)
            .await?;
        Ok(lines.into_iter().map(MonitoringLine).collect())
    }
}
