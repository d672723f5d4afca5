//! The figures of a region, gathered with one grouped statement per figure:
//! rows are grouped by village, villages fold into the child region they lie
//! in, so that one pass gives the figures of every child, and the region's own
//! are their sum (projects, which may span children, are counted once instead).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use entity::enums::{
    HouseholdAttribute, HouseholdStatus, MeasureStatus, PovertyCause, ProjectStatus, RegionLevel,
};
use entity::{helper_pairing, household, measure, project, region, visit};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};

use crate::access;
use crate::domain::calendar;
use crate::domain::funds::Totals;
use crate::error::{ApiError, ApiResult};
use crate::graphql::funds::Coverage;

use crate::domain::closed_year;
use crate::domain::tally::{self, Figure as Tallied};
pub use crate::domain::tally::{POOR, REGISTERED};

/// Days after which a household without a visit counts as not visited.
pub const VISIT_DAYS: u64 = 90;

/// Income sums of the households with an income record for the year, in fen.
#[derive(Debug, Clone, Copy, Default)]
pub struct IncomeSums {
    pub households: i64,
    pub people: i64,
    pub net: i64,
    pub wage: i64,
    pub production: i64,
    pub property: i64,
    pub transfer: i64,
}

/// Measures whose time node falls in the year.
#[derive(Debug, Clone, Copy, Default)]
pub struct MeasureCounts {
    pub total: i64,
    pub done: i64,
    pub cancelled: i64,
    pub overdue: i64,
}

/// The figures of one region (or one child region) for one year.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub households: HashMap<HouseholdStatus, i64>,
    pub people: HashMap<HouseholdStatus, i64>,
    pub rural_population: i64,
    pub exits: i64,
    pub returns: i64,
    pub by_cause: HashMap<PovertyCause, i64>,
    pub by_attribute: HashMap<HouseholdAttribute, i64>,
    pub income: IncomeSums,
    pub measures: MeasureCounts,
    pub paired: i64,
    pub not_visited: i64,
    pub projects: HashMap<ProjectStatus, i64>,
    pub funds: Totals,
}

impl Figures {
    /// Households of the given statuses.
    pub fn households_in(&self, statuses: &[HouseholdStatus]) -> i64 {
        statuses.iter().filter_map(|s| self.households.get(s)).sum()
    }

    /// People of households of the given statuses.
    pub fn people_in(&self, statuses: &[HouseholdStatus]) -> i64 {
        statuses.iter().filter_map(|s| self.people.get(s)).sum()
    }

    /// Adds a child's household figures (not its projects: they may be shared).
    fn add(&mut self, other: &Figures) {
        fn merge<K: Copy + Eq + std::hash::Hash>(
            into: &mut HashMap<K, i64>,
            from: &HashMap<K, i64>,
        ) {
            for (key, n) in from {
                *into.entry(*key).or_default() += n;
            }
        }
        merge(&mut self.households, &other.households);
        merge(&mut self.people, &other.people);
        merge(&mut self.by_cause, &other.by_cause);
        merge(&mut self.by_attribute, &other.by_attribute);
        self.rural_population += other.rural_population;
        self.exits += other.exits;
        self.returns += other.returns;
        let (a, b) = (&mut self.income, other.income);
        a.households += b.households;
        a.people += b.people;
        a.net += b.net;
        a.wage += b.wage;
        a.production += b.production;
        a.property += b.property;
        a.transfer += b.transfer;
        let (a, b) = (&mut self.measures, other.measures);
        a.total += b.total;
        a.done += b.done;
        a.cancelled += b.cancelled;
        a.overdue += b.overdue;
        self.paired += other.paired;
        self.not_visited += other.not_visited;
    }
}

/// The figures the tally keeps of each village, as this replica last folded them.
pub type Folded = tally::Folded<HashMap<i64, Figures>>;

/// Adds a figure the tally keeps to a village's.
fn add_tallied(figures: &mut Figures, t: &tally::Tallied) {
    let income = &mut figures.income;
    let amount = t.amount;
    match t.figure {
        Tallied::Households(s) => *figures.households.entry(s).or_default() += amount,
        Tallied::People(s) => *figures.people.entry(s).or_default() += amount,
        Tallied::Cause(c) => *figures.by_cause.entry(c).or_default() += amount,
        Tallied::Attribute(a) => *figures.by_attribute.entry(a).or_default() += amount,
        Tallied::Exits => figures.exits += amount,
        Tallied::Returns => figures.returns += amount,
        Tallied::IncomeHouseholds => income.households += amount,
        Tallied::IncomePeople => income.people += amount,
        Tallied::IncomeNet => income.net += amount,
        Tallied::IncomeWage => income.wage += amount,
        Tallied::IncomeProduction => income.production += amount,
        Tallied::IncomeProperty => income.property += amount,
        Tallied::IncomeTransfer => income.transfer += amount,
    }
}

/// What is being counted: the region under `prefix`, told apart by the
/// first `part_len` digits of village codes, for `year`.
struct Scope<'a> {
    folded: &'a Folded,
    prefix: &'a str,
    part_len: usize,
    year: i32,
}

/// The part of a region a village lies in: the first `part_len` digits of its code.
fn part(part_len: usize) -> SimpleExpr {
    // The length is our own constant, safe to write into the SQL.
    Expr::cust(format!("SUBSTR(\"region\".\"code\", 1, {part_len})"))
}

fn col<C: sea_orm::IdenStatic + Copy + 'static, E: EntityTrait>(entity: E, column: C) -> Expr {
    Expr::col((entity, column))
}

/// `SELECT village ... FROM household` for the households under the scope,
/// grouped by village: cheaper than joining each row to its region, and the
/// villages fold into parts afterwards.
fn households(scope: &Scope) -> SelectStatement {
    let village = col(household::Entity, household::Column::VillageId);
    Query::select()
        .expr_as(village.clone(), Alias::new("village"))
        .from(household::Entity)
        .and_where(
            village
                .clone()
                .in_subquery(access::villages_under(scope.prefix)),
        )
        .add_group_by([village])
        .to_owned()
}

fn registered() -> SimpleExpr {
    col(household::Entity, household::Column::Status).is_in(REGISTERED.map(|s| s.to_value()))
}

fn count() -> SimpleExpr {
    Expr::cust("COUNT(*)")
}

/// Runs a query of one count per village (`village`, `n`) and stores each with `set`.
async fn count_per_village(
    db: &impl ConnectionTrait,
    query: &SelectStatement,
    villages: &mut HashMap<i64, Figures>,
    set: impl Fn(&mut Figures, i64),
) -> ApiResult<()> {
    for row in db.query_all(query).await? {
        set(
            villages.entry(row.try_get("", "village")?).or_default(),
            row.try_get("", "n")?,
        );
    }
    Ok(())
}

/// Gathers the figures of each village of a region and folds them into its
/// child parts; the caller sums those.
async fn by_part(
    db: &(impl ConnectionTrait + TransactionTrait),
    scope: &Scope<'_>,
) -> ApiResult<HashMap<String, Figures>> {
    let mut villages: HashMap<i64, Figures> = HashMap::new();
    let mut part_of: HashMap<i64, String> = HashMap::new();
    let year_start = NaiveDate::from_ymd_opt(scope.year, 1, 1)
        .ok_or_else(|| ApiError::bad_input("year", format!("{} is not a year", scope.year)))?;
    let next_year = NaiveDate::from_ymd_opt(scope.year + 1, 1, 1)
        .ok_or_else(|| ApiError::bad_input("year", format!("{} is not a year", scope.year)))?;

    // Rural registered population, from the villages, and the part each lies in.
    let query = Query::select()
        .expr_as(
            col(region::Entity, region::Column::Id),
            Alias::new("village"),
        )
        .expr_as(part(scope.part_len), Alias::new("part"))
        .expr_as(
            Expr::cust("CAST(COALESCE(\"region\".\"rural_population\", 0) AS BIGINT)"),
            Alias::new("n"),
        )
        .from(region::Entity)
        .and_where(col(region::Entity, region::Column::Level).eq(RegionLevel::Village.to_value()))
        .cond_where(access::code_under(scope.prefix))
        .to_owned();
    for row in db.query_all(&query).await? {
        let village: i64 = row.try_get("", "village")?;
        part_of.insert(village, row.try_get("", "part")?);
        villages.entry(village).or_default().rural_population = row.try_get("", "n")?;
    }

    // Households and people by status, exits, returns, causes, attributes
    // and income: kept per village by the database (see `tally`), or for a
    // year that is over, as they stood at its end (see `closed_year`); added
    // to the parts below.
    let (tallied, pending) = if closed_year::is_over(scope.year) {
        let closed = closed_year::figures(db, scope.prefix, scope.year).await?;
        (Arc::default(), closed)
    } else {
        tally::read(db, scope.folded, scope.prefix, scope.year, |rows| {
            let mut villages: HashMap<i64, Figures> = HashMap::new();
            for t in &rows {
                add_tallied(villages.entry(t.village).or_default(), t);
            }
            villages
        })
        .await?
    };
    for t in pending.iter().filter(|t| part_of.contains_key(&t.village)) {
        add_tallied(villages.entry(t.village).or_default(), t);
    }

    // Measures due in the year: done, cancelled, and overdue today.
    let measure_status = col(measure::Entity, measure::Column::Status);
    let deadline = col(measure::Entity, measure::Column::Deadline);
    // SUM of an integer is a bigint on PostgreSQL: no cast needed.
    let count_when = |condition: SimpleExpr| Func::sum(Expr::case(condition, 1).finally(0));
    let closed = [MeasureStatus::Done, MeasureStatus::Cancelled].map(|s| s.to_value());
    let query = households(scope)
        .inner_join(
            measure::Entity,
            col(measure::Entity, measure::Column::HouseholdId)
                .equals((household::Entity, household::Column::Id)),
        )
        .and_where(deadline.clone().gte(year_start))
        .and_where(deadline.clone().lt(next_year))
        .expr_as(count(), Alias::new("total"))
        .expr_as(
            count_when(measure_status.clone().eq(MeasureStatus::Done.to_value())),
            Alias::new("done"),
        )
        .expr_as(
            count_when(
                measure_status
                    .clone()
                    .eq(MeasureStatus::Cancelled.to_value()),
            ),
            Alias::new("cancelled"),
        )
        .expr_as(
            count_when(
                measure_status
                    .is_not_in(closed)
                    .and(deadline.lt(calendar::today())),
            ),
            Alias::new("overdue"),
        )
        .to_owned();
    for row in db.query_all(&query).await? {
        villages
            .entry(row.try_get("", "village")?)
            .or_default()
            .measures = MeasureCounts {
            total: row.try_get("", "total")?,
            done: row.try_get("", "done")?,
            cancelled: row.try_get("", "cancelled")?,
            overdue: row.try_get("", "overdue")?,
        };
    }

    // Registered households with a helper now, and without a visit in 90 days.
    let paired = Query::select()
        .column(helper_pairing::Column::HouseholdId)
        .from(helper_pairing::Entity)
        .and_where(helper_pairing::Column::EndedOn.is_null())
        .to_owned();
    let query = households(scope)
        .cond_where(registered())
        .and_where(col(household::Entity, household::Column::Id).in_subquery(paired))
        .expr_as(count(), Alias::new("n"))
        .to_owned();
    count_per_village(db, &query, &mut villages, |f, n| f.paired = n).await?;
    // Those not visited are the registered households less those visited:
    // counting the visits of 90 days costs what the visits number, not what
    // the register does.
    let since = calendar::today() - Days::new(VISIT_DAYS);
    let visited = Query::select()
        .column(visit::Column::HouseholdId)
        .from(visit::Entity)
        .and_where(visit::Column::VisitedOn.gte(since))
        .to_owned();
    let query = households(scope)
        .cond_where(registered())
        .and_where(col(household::Entity, household::Column::Id).in_subquery(visited))
        .expr_as(count(), Alias::new("n"))
        .to_owned();
    count_per_village(db, &query, &mut villages, |f, n| f.not_visited = -n).await?;
    let mut parts: HashMap<String, Figures> = HashMap::new();
    for (village, part) in &part_of {
        let figures = parts.entry(part.clone()).or_default();
        for of_village in [villages.get(village), tallied.get(village)]
            .into_iter()
            .flatten()
        {
            figures.add(of_village);
        }
    }
    for figures in parts.values_mut() {
        figures.not_visited += figures.households_in(&REGISTERED);
    }
    Ok(parts)
}

/// The figures of a region and of each of its children (by code prefix).
pub struct Gathered {
    pub total: Figures,
    pub children: HashMap<String, Figures>,
    coverage: Coverage,
    statuses: HashMap<i64, ProjectStatus>,
}

impl Gathered {
    /// Project counts by stage and money of some projects.
    fn projects(&self, ids: &HashSet<i64>) -> (HashMap<ProjectStatus, i64>, Totals) {
        let mut counts: HashMap<ProjectStatus, i64> = HashMap::new();
        for status in ids.iter().filter_map(|id| self.statuses.get(id)) {
            *counts.entry(*status).or_default() += 1;
        }
        (counts, self.coverage.sum(ids))
    }

    /// The figures of several children together (a helper unit's villages,
    /// say): their households add up, a project they share counts once.
    pub fn combine<'a>(&self, parts: impl IntoIterator<Item = &'a str>) -> Figures {
        let mut combined = Figures::default();
        let mut ids = HashSet::new();
        for part in parts {
            if let Some(figures) = self.children.get(part) {
                combined.add(figures);
            }
            ids.extend(self.coverage.of_part(part));
        }
        (combined.projects, combined.funds) = self.projects(&ids);
        combined
    }
}

/// Gathers the figures of the region under `prefix` for `year`, its children
/// told apart by `part_len` digits.
pub async fn gather(
    db: &(impl ConnectionTrait + TransactionTrait),
    folded: &Folded,
    prefix: &str,
    part_len: usize,
    year: i32,
) -> ApiResult<Gathered> {
    let scope = Scope {
        folded,
        prefix,
        part_len,
        year,
    };
    let mut children = by_part(db, &scope).await?;
    let coverage = Coverage::of(db, prefix, part_len, Some(year)).await?;
    let statuses: HashMap<i64, ProjectStatus> = project::Entity::find()
        .select_only()
        .column(project::Column::Id)
        .column(project::Column::Status)
        .filter(project::Column::Id.is_in(coverage.projects.iter().copied()))
        .into_tuple::<(i64, ProjectStatus)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    for part in coverage.by_part.keys() {
        children.entry(part.clone()).or_default();
    }
    let mut gathered = Gathered {
        total: Figures::default(),
        children: HashMap::new(),
        coverage,
        statuses,
    };
    let mut total = Figures::default();
    for (part, figures) in &mut children {
        (figures.projects, figures.funds) = gathered.projects(&gathered.coverage.of_part(part));
        total.add(figures);
    }
    (total.projects, total.funds) = gathered.projects(&gathered.coverage.projects);
    gathered.total = total;
    gathered.children = children;
    Ok(gathered)
}
