//! One household, one plan (一户一策): the measures planned for each household,
//! their progress, and how far the plans of a region are completed.

use std::collections::HashMap;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{Datelike, NaiveDate, Utc};
use entity::enums::{MeasureCategory, MeasureStatus, RegionLevel};
use entity::{household, measure, region};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, QueryFilter, Set};
use serde_json::json;

use super::household::Household;
use super::household::reachable_household;
use super::money::Money;
use super::node::Node;
use super::region::{find_region, region_node};
use super::relay::{NodeKind, decode_id_of, global_id};
use super::{actor, db, loaders, required_text, viewer};
use crate::access::{self, Scoped, Viewer};
use crate::audit::{self, Change};
use crate::domain::calendar;
use crate::domain::write::{self, Created};
use crate::error::{ApiError, ApiResult};
use crate::permissions;

/// Longest task and standard, in characters (as the columns hold).
pub(crate) const MAX_TASK_CHARS: usize = 500;
/// Longest name of the person responsible, in characters.
pub(crate) const MAX_RESPONSIBLE_CHARS: usize = 100;
/// Targeted poverty alleviation began in 2014: no plan has an earlier time node.
const FIRST_DEADLINE_YEAR: i32 = 2014;
/// How many years ahead a time node may lie.
const DEADLINE_YEARS_AHEAD: i32 = 10;

/// Whether a measure is past its time node without being done or cancelled.
fn is_overdue(measure: &measure::Model, today: NaiveDate) -> bool {
    measure.deadline < today && !is_closed(measure.status)
}

fn is_closed(status: MeasureStatus) -> bool {
    matches!(status, MeasureStatus::Done | MeasureStatus::Cancelled)
}

/// Done measures over those not cancelled; none when nothing is left to do.
fn completion_rate(total: i64, done: i64, cancelled: i64) -> Option<f64> {
    let planned = total - cancelled;
    (planned > 0).then(|| done as f64 / planned as f64)
}

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
    async fn deadline(&self) -> NaiveDate {
        self.0.deadline
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
    async fn completed_on(&self) -> Option<NaiveDate> {
        self.0.completed_on
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

pub(crate) fn snapshot(m: &measure::Model) -> serde_json::Value {
    json!({
        "id": global_id(NodeKind::Measure, m.id),
        "household": global_id(NodeKind::Household, m.household_id),
        "category": m.category,
        "task": m.task,
        "standard": m.standard,
        "responsible": m.responsible,
        "deadline": m.deadline,
        "funds": Money(m.funds_fen).to_string(),
        "status": m.status,
        "completedOn": m.completed_on,
        "version": m.version,
    })
}

pub(crate) fn check_deadline(deadline: NaiveDate, field: &str) -> ApiResult<NaiveDate> {
    let last_year = calendar::today().year() + DEADLINE_YEARS_AHEAD;
    if !(FIRST_DEADLINE_YEAR..=last_year).contains(&deadline.year()) {
        return Err(ApiError::bad_input(
            field,
            format!("a time node falls in {FIRST_DEADLINE_YEAR} to {last_year}"),
        ));
    }
    Ok(deadline)
}

fn check_funds(funds: Money, field: &str) -> ApiResult<i64> {
    if funds.0 < 0 {
        return Err(ApiError::bad_input(field, "funds may not be negative"));
    }
    Ok(funds.0)
}

/// A measure the caller reaches, locked for a change.
async fn measure_to_change(
    txn: &sea_orm::DatabaseTransaction,
    viewer: &Viewer,
    id: &ID,
) -> ApiResult<measure::Model> {
    let (_, raw) = decode_id_of(id, "id", &[NodeKind::Measure])?;
    let select = access::select::<measure::Entity>(viewer).filter(measure::Column::Id.eq(raw));
    write::one_locked(txn, select)
        .await?
        .ok_or_else(|| ApiError::not_found("Measure"))
}

fn check_measure_version(viewer: &Viewer, stated: i32, current: &measure::Model) -> ApiResult<()> {
    write::check_version("measure", stated, current.version, || {
        permissions::redact(viewer, "Measure", snapshot(current))
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
    deadline: NaiveDate,
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
    deadline: Option<NaiveDate>,
    /// New funds, in yuan (资金).
    funds: Option<Money>,
}

#[derive(Default)]
pub struct PlanMutation;

#[Object]
impl PlanMutation {
    /// Adds a measure to the plan of a household the caller helps (新增帮扶措施).
    async fn add_measure(&self, ctx: &Context<'_>, input: AddMeasureInput) -> ApiResult<Measure> {
        let actor = actor(ctx)?;
        viewer(ctx)?.user()?;
        let task = required_text(&input.task, "task", MAX_TASK_CHARS)?;
        let standard = required_text(&input.standard, "standard", MAX_TASK_CHARS)?;
        let responsible = required_text(&input.responsible, "responsible", MAX_RESPONSIBLE_CHARS)?;
        let deadline = check_deadline(input.deadline, "deadline")?;
        let funds_fen = check_funds(input.funds, "funds")?;
        let home = reachable_household(ctx, &input.household_id).await?;
        let request = json!({
            "household": home.id,
            "category": input.category,
            "task": task,
            "standard": standard,
            "responsible": responsible,
            "deadline": deadline,
            "fundsFen": funds_fen,
        });
        let key = input.idempotency_key.as_deref();
        let created = write::create::<measure::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "addMeasure",
            &request,
            async |txn| {
                let now = Utc::now();
                let added = measure::ActiveModel {
                    household_id: Set(home.id),
                    category: Set(input.category),
                    task: Set(task),
                    standard: Set(standard),
                    responsible: Set(responsible),
                    deadline: Set(deadline),
                    funds_fen: Set(funds_fen),
                    status: Set(MeasureStatus::Planned),
                    completed_on: Set(None),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                Ok(Created::new(
                    added.id,
                    "measure.create",
                    "Measure",
                    snapshot(&added),
                    added,
                ))
            },
        )
        .await?;
        Ok(Measure(created))
    }

    /// Changes a measure's content (修改帮扶措施); its status has its own mutation.
    async fn update_measure(
        &self,
        ctx: &Context<'_>,
        input: UpdateMeasureInput,
    ) -> ApiResult<Measure> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let task = input
            .task
            .map(|t| required_text(&t, "task", MAX_TASK_CHARS))
            .transpose()?;
        let standard = input
            .standard
            .map(|t| required_text(&t, "standard", MAX_TASK_CHARS))
            .transpose()?;
        let responsible = input
            .responsible
            .map(|t| required_text(&t, "responsible", MAX_RESPONSIBLE_CHARS))
            .transpose()?;
        let deadline = input
            .deadline
            .map(|d| check_deadline(d, "deadline"))
            .transpose()?;
        let funds_fen = input.funds.map(|f| check_funds(f, "funds")).transpose()?;
        if input.category.is_none()
            && task.is_none()
            && standard.is_none()
            && responsible.is_none()
            && deadline.is_none()
            && funds_fen.is_none()
        {
            return Err(ApiError::bad_input(
                "input",
                "give at least one field to change",
            ));
        }
        let txn = write::begin(db(ctx)?).await?;
        let before = measure_to_change(&txn, viewer, &input.id).await?;
        check_measure_version(viewer, input.version, &before)?;
        let mut changed: measure::ActiveModel = before.clone().into();
        if let Some(category) = input.category {
            changed.category = Set(category);
        }
        if let Some(task) = task {
            changed.task = Set(task);
        }
        if let Some(standard) = standard {
            changed.standard = Set(standard);
        }
        if let Some(responsible) = responsible {
            changed.responsible = Set(responsible);
        }
        if let Some(deadline) = deadline {
            changed.deadline = Set(deadline);
        }
        if let Some(funds_fen) = funds_fen {
            changed.funds_fen = Set(funds_fen);
        }
        changed.version = Set(before.version + 1);
        changed.updated_at = Set(Utc::now());
        let after = changed.update(&txn).await?;
        let change = Change {
            action: "measure.update",
            entity_type: "Measure",
            entity_id: after.id,
            before: Some(snapshot(&before)),
            after: Some(snapshot(&after)),
        };
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
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
        let viewer = viewer(ctx)?;
        let txn = write::begin(db(ctx)?).await?;
        let before = measure_to_change(&txn, viewer, &id).await?;
        check_measure_version(viewer, version, &before)?;
        if before.status == status {
            return Err(ApiError::bad_input(
                "status",
                format!("the measure is already {}", status.to_value()),
            ));
        }
        let mut changed: measure::ActiveModel = before.clone().into();
        changed.status = Set(status);
        changed.completed_on = Set((status == MeasureStatus::Done).then(calendar::today));
        changed.version = Set(before.version + 1);
        changed.updated_at = Set(Utc::now());
        let after = changed.update(&txn).await?;
        let change = Change {
            action: "measure.status",
            entity_type: "Measure",
            entity_id: after.id,
            before: Some(snapshot(&before)),
            after: Some(snapshot(&after)),
        };
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
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
    let closed = [MeasureStatus::Done, MeasureStatus::Cancelled].map(|s| s.to_value());
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
            count_when(status.is_not_in(closed).and(
                Expr::col((measure::Entity, measure::Column::Deadline)).lt(calendar::today()),
            )),
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
