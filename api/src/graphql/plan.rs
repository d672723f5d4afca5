//! One household, one plan (一户一策): the measures planned for each household,
//! their progress, and how far the plans of a region are completed.

use crate::graphql::date::Day;
use std::collections::HashMap;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::NaiveDate;
use entity::enums::{MeasureCategory, MeasureStatus, RegionLevel};
use entity::{household, measure, region};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{ActiveEnum, ColumnTrait, ConnectionTrait, QueryFilter};

use super::context::{actor, db, loaders, viewer};
use super::household::Household;
use super::money::Money;
use super::node::Node;
use super::region::{find_region, region_node};
use super::relay::{NodeKind, decode_id_of, global_id};
use crate::access::{self, Scoped, Viewer};
use crate::domain::calendar;
use crate::domain::plan::{self, completion_rate, is_overdue};
use crate::error::ApiResult;

pub struct Measure(pub measure::Model);

/// One measure of a household's plan (帮扶措施).
#[Object]
impl Measure {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Measure, self.0.id)
    }
    /// The household it helps (帮扶对象).
    async fn household(&self, ctx: &Context<'_>) -> ApiResult<Option<Household>> {
        Ok(loaders(ctx)?
            .households
            .load_one(self.0.household_id)
            .await?
            .map(Household))
    }
    /// Category, after the "five batches" (措施类别).
    async fn category(&self) -> MeasureCategory {
        self.0.category
    }
    /// What is to be done (帮扶任务).
    async fn task(&self) -> &str {
        &self.0.task
    }
    /// The standard to reach (达到标准).
    async fn standard(&self) -> &str {
        &self.0.standard
    }
    /// The person responsible (责任人).
    async fn responsible(&self) -> &str {
        &self.0.responsible
    }
    /// The time node by which it is due (时间节点).
    async fn deadline(&self) -> Day {
        Day(self.0.deadline)
    }
    /// Funds planned, in yuan (资金).
    async fn funds(&self) -> Money {
        Money(self.0.funds_fen)
    }
    /// Status (实施状态).
    async fn status(&self) -> MeasureStatus {
        self.0.status
    }
    /// The day it was done (完成日期), while done.
    async fn completed_on(&self) -> Option<Day> {
        self.0.completed_on.map(Day)
    }
    /// Past its time node and neither done nor cancelled, in the county's today (是否逾期).
    async fn overdue(&self) -> bool {
        is_overdue(&self.0, calendar::today())
    }
    /// Version of the record, for detecting concurrent edits (版本号).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A household's plan, as loaded for one request.
pub struct Plan {
    /// In time-node order.
    measures: Vec<measure::Model>,
    today: NaiveDate,
}

impl Plan {
    fn count(&self, pick: impl Fn(&measure::Model) -> bool) -> i64 {
        self.measures.iter().filter(|m| pick(m)).count() as i64
    }
}

/// A household's plan (一户一策帮扶计划): its measures and their progress.
#[Object]
impl Plan {
    /// The measures, earliest time node first (帮扶措施).
    async fn measures(&self) -> Vec<Measure> {
        self.measures.iter().cloned().map(Measure).collect()
    }
    /// Number of measures, cancelled ones included (措施总数).
    async fn total(&self) -> i64 {
        self.measures.len() as i64
    }
    /// Measures done (已完成).
    async fn done(&self) -> i64 {
        self.count(|m| m.status == MeasureStatus::Done)
    }
    /// Measures past their time node, neither done nor cancelled (逾期).
    async fn overdue(&self) -> i64 {
        self.count(|m| is_overdue(m, self.today))
    }
    /// Measures cancelled (已取消).
    async fn cancelled(&self) -> i64 {
        self.count(|m| m.status == MeasureStatus::Cancelled)
    }
    /// Done over not cancelled, 0 to 1; null when nothing is to be done (完成率).
    async fn completion_rate(&self) -> Option<f64> {
        completion_rate(
            self.measures.len() as i64,
            self.count(|m| m.status == MeasureStatus::Done),
            self.count(|m| m.status == MeasureStatus::Cancelled),
        )
    }
}

/// The plan of a household, through the request's measures loader.
pub async fn plan_of(ctx: &Context<'_>, household_id: i64) -> ApiResult<Plan> {
    let mut measures = loaders(ctx)?
        .household_measures
        .load_one(household_id)
        .await?
        .unwrap_or_default();
    measures.sort_by_key(|m| (m.deadline, m.id));
    Ok(Plan {
        measures,
        today: calendar::today(),
    })
}

/// A new measure of a household's plan (新增帮扶措施).
#[derive(InputObject)]
pub struct AddMeasureInput {
    /// The household (帮扶对象).
    household_id: ID,
    /// Category (措施类别).
    category: MeasureCategory,
    /// What is to be done, at most 500 characters (帮扶任务).
    task: String,
    /// The standard to reach, at most 500 characters (达到标准).
    standard: String,
    /// The person responsible, at most 100 characters (责任人).
    responsible: String,
    /// The time node (时间节点).
    deadline: Day,
    /// Funds planned, in yuan, not negative (资金).
    funds: Money,
    /// Client-chosen key: a retried request returns the first measure (幂等键).
    idempotency_key: Option<String>,
}

/// Changes to a measure; fields left out stay as they are (修改帮扶措施).
#[derive(InputObject)]
pub struct UpdateMeasureInput {
    /// The measure (措施).
    id: ID,
    /// The version the change was made from (版本号).
    version: i32,
    /// New category (措施类别).
    category: Option<MeasureCategory>,
    /// New task (帮扶任务).
    task: Option<String>,
    /// New standard (达到标准).
    standard: Option<String>,
    /// New person responsible (责任人).
    responsible: Option<String>,
    /// New time node (时间节点).
    deadline: Option<Day>,
    /// New funds, in yuan (资金).
    funds: Option<Money>,
}

#[derive(Default)]
pub struct PlanMutation;

#[Object]
impl PlanMutation {
    /// Adds a measure to the plan of a household the caller helps (新增帮扶措施).
    async fn add_measure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The measure (帮扶措施).")] input: AddMeasureInput,
    ) -> ApiResult<Measure> {
        let actor = actor(ctx)?;
        let (_, household_id) =
            decode_id_of(&input.household_id, "householdId", &[NodeKind::Household])?;
        let new = plan::NewMeasure {
            household_id,
            category: input.category,
            task: input.task,
            standard: input.standard,
            responsible: input.responsible,
            deadline: input.deadline.0,
            funds: input.funds,
        };
        let key = input.idempotency_key.as_deref();
        let added = plan::add_measure(db(ctx)?, viewer(ctx)?, &actor, key, new).await?;
        Ok(Measure(added))
    }

    /// Changes a measure's content (修改帮扶措施); its status has its own mutation.
    async fn update_measure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The measure and what changes (帮扶措施变更).")] input: UpdateMeasureInput,
    ) -> ApiResult<Measure> {
        let actor = actor(ctx)?;
        let (_, id) = decode_id_of(&input.id, "id", &[NodeKind::Measure])?;
        let changes = plan::MeasureChanges {
            category: input.category,
            task: input.task,
            standard: input.standard,
            responsible: input.responsible,
            deadline: input.deadline.map(Into::into),
            funds: input.funds,
        };
        let after =
            plan::update_measure(db(ctx)?, viewer(ctx)?, &actor, id, input.version, changes)
                .await?;
        Ok(Measure(after))
    }

    /// Moves a measure to a status (变更措施状态): done records today as the day
    /// it was done; leaving done clears that day.
    async fn set_measure_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The measure (措施).")] id: ID,
        #[graphql(desc = "The version the change was made from (版本号).")] version: i32,
        #[graphql(desc = "The new status (新状态).")] status: MeasureStatus,
    ) -> ApiResult<Measure> {
        let actor = actor(ctx)?;
        let (_, id) = decode_id_of(&id, "id", &[NodeKind::Measure])?;
        let after =
            plan::set_measure_status(db(ctx)?, viewer(ctx)?, &actor, id, version, status).await?;
        Ok(Measure(after))
    }
}

/// The counts of one region's measures.
pub struct PlanProgress {
    region: region::Model,
    measures: i64,
    done: i64,
    overdue: i64,
    cancelled: i64,
}

/// Measures of the plans of one region (地区计划完成情况).
#[Object]
impl PlanProgress {
    /// The county, township or village (地区).
    async fn region(&self) -> Node {
        region_node(self.region.clone())
    }
    /// Measures of the households there, cancelled ones included (措施总数).
    async fn measures(&self) -> i64 {
        self.measures
    }
    /// Measures done (已完成).
    async fn done(&self) -> i64 {
        self.done
    }
    /// Measures past their time node, neither done nor cancelled (逾期).
    async fn overdue(&self) -> i64 {
        self.overdue
    }
    /// Measures cancelled (已取消).
    async fn cancelled(&self) -> i64 {
        self.cancelled
    }
    /// Done over not cancelled, 0 to 1; null when nothing is to be done (完成率).
    async fn completion_rate(&self) -> Option<f64> {
        completion_rate(self.measures, self.done, self.cancelled)
    }
}

/// Plan completion of a region and of each region under it (计划完成情况).
#[derive(SimpleObject)]
pub struct PlanCompletion {
    /// The region as a whole (合计).
    overall: PlanProgress,
    /// Each township of a county or village of a township, in code order (下级地区).
    children: Vec<PlanProgress>,
}

/// Counts of measures by status, for one group of regions.
#[derive(Default, Clone, Copy)]
struct Counts {
    measures: i64,
    done: i64,
    overdue: i64,
    cancelled: i64,
}

/// Counts of the measures the viewer reaches under `region`, grouped by the
/// first `part_len` digits of the village code: one statement, grouped in SQL.
async fn counts_under(
    db: &sea_orm::DatabaseConnection,
    viewer: &Viewer,
    region: &region::Model,
    part_len: usize,
) -> ApiResult<HashMap<String, Counts>> {
    let status = Expr::col((measure::Entity, measure::Column::Status));
    let count_when =
        |condition: sea_orm::sea_query::Expr| Func::sum(Expr::case(condition, 1).finally(0));
    // The length is our own constant: written into the SQL, so that SELECT and
    // GROUP BY carry the same expression on PostgreSQL.
    let part = Expr::cust(format!("SUBSTR(\"region\".\"code\", 1, {part_len})"));
    let query = Query::select()
        .expr_as(part.clone(), Alias::new("part"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("measures"))
        .expr_as(
            count_when(status.clone().eq(MeasureStatus::Done.to_value())),
            Alias::new("done"),
        )
        .expr_as(
            count_when(status.clone().eq(MeasureStatus::Cancelled.to_value())),
            Alias::new("cancelled"),
        )
        .expr_as(
            count_when(plan::overdue_in_sql(calendar::today())),
            Alias::new("overdue"),
        )
        .from(measure::Entity)
        .inner_join(
            household::Entity,
            Expr::col((household::Entity, household::Column::Id))
                .equals((measure::Entity, measure::Column::HouseholdId)),
        )
        .inner_join(
            region::Entity,
            Expr::col((region::Entity, region::Column::Id))
                .equals((household::Entity, household::Column::VillageId)),
        )
        .cond_where(access::code_under(access::code_prefix(region)))
        .cond_where(household::Entity::scope(viewer))
        .add_group_by([part])
        .to_owned();
    let mut counts = HashMap::new();
    for row in db.query_all(&query).await? {
        let part: String = row.try_get("", "part")?;
        counts.insert(
            part,
            Counts {
                measures: row.try_get("", "measures")?,
                done: row.try_get("", "done")?,
                overdue: row.try_get("", "overdue")?,
                cancelled: row.try_get("", "cancelled")?,
            },
        );
    }
    Ok(counts)
}

fn progress(region: region::Model, counts: Counts) -> PlanProgress {
    PlanProgress {
        region,
        measures: counts.measures,
        done: counts.done,
        overdue: counts.overdue,
        cancelled: counts.cancelled,
    }
}

#[derive(Default)]
pub struct PlanQuery;

#[Object]
impl PlanQuery {
    /// Plan completion of a county, township or village and of each region
    /// under it, over the households the caller reaches (计划完成情况).
    #[graphql(
        complexity = "crate::graphql::cost::priced(crate::graphql::cost::REGION_FIGURES, child_complexity)"
    )]
    async fn plan_completion(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The county, township or village (地区).")] region_id: ID,
    ) -> ApiResult<PlanCompletion> {
        let viewer = viewer(ctx)?;
        let region = find_region(
            ctx,
            &region_id,
            "regionId",
            &[NodeKind::County, NodeKind::Township, NodeKind::Village],
        )
        .await?;
        let part_len = match region.level {
            RegionLevel::County => 9,
            RegionLevel::Township | RegionLevel::Village => 12,
        };
        let counts = counts_under(db(ctx)?, viewer, &region, part_len).await?;
        let overall = counts.values().fold(Counts::default(), |sum, c| Counts {
            measures: sum.measures + c.measures,
            done: sum.done + c.done,
            overdue: sum.overdue + c.overdue,
            cancelled: sum.cancelled + c.cancelled,
        });
        let children = if region.level == RegionLevel::Village {
            Vec::new()
        } else {
            use sea_orm::QueryOrder;
            access::select::<region::Entity>(viewer)
                .filter(region::Column::ParentId.eq(region.id))
                .order_by_asc(region::Column::Code)
                .all(db(ctx)?)
                .await?
                .into_iter()
                .map(|child| {
                    let counts = counts
                        .get(access::code_prefix(&child))
                        .copied()
                        .unwrap_or_default();
                    progress(child, counts)
                })
                .collect()
        };
        Ok(PlanCompletion {
            overall: progress(region, overall),
            children,
        })
    }
}
