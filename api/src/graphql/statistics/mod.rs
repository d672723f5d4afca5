//! Statistics of a region for a year (统计监测): the county, a township or a
//! village, with the same figures for each of its children. They are
//! aggregates over the whole register, the same whoever asks; for the public,
//! counts of one to four households, the cells that would give them away and
//! what is derived from them are withheld (see `public` and
//! `domain::disclosure`), so that no one can be singled out.

pub mod figures;
mod public;

use std::collections::HashMap;

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::Datelike;
use entity::enums::{
    HouseholdAttribute, HouseholdStatus, PovertyCause, ProjectStatus, RegionLevel,
};
use entity::region;
use sea_orm::{ColumnTrait, Iterable, QueryFilter, QueryOrder};

use self::figures::{Figures, Gathered, POOR, REGISTERED};
pub use self::public::Solved;
use self::public::{Figure, Region, Withheld};
use super::context::{data, db, folded, primary, viewer};
use super::money::Money;
use super::node::Node;
use super::region::{find_region, region_node};
use super::relay::NodeKind;
use crate::access;
use crate::domain::region::{child_level, child_part_len};
use crate::domain::{calendar, closed_year, village_exit};
use crate::error::{ApiError, ApiResult};

/// Targeted poverty alleviation began in 2014.
const FIRST_YEAR: i32 = 2014;

/// The statistics of one region.
pub struct Statistics {
    region: region::Model,
    year: i32,
    /// The figures withheld from the caller: `None` for a signed-in caller,
    /// who reads them all.
    withheld: Option<Withheld>,
    figures: Figures,
    children: Vec<Statistics>,
}

impl Statistics {
    /// Whether the caller may read a figure, and all derived from it.
    fn shows(&self, figure: Figure) -> bool {
        self.withheld.as_ref().is_none_or(|w| !w.contains(&figure))
    }

    /// A value as the caller may see it: null when any of the figures it is
    /// derived from is withheld.
    fn shown<T>(&self, from: &[Figure], value: Option<T>) -> Option<T> {
        from.iter()
            .all(|f| self.shows(*f))
            .then_some(value)
            .flatten()
    }

    /// A count as the caller may see it.
    fn count(&self, figure: Figure, n: i64) -> Option<i64> {
        self.shown(&[figure], Some(n))
    }

    fn poor_household_count(&self) -> i64 {
        self.figures.households_in(&POOR)
    }

    fn incidence(&self) -> Option<f64> {
        let population = self.figures.rural_population;
        (population > 0).then(|| self.figures.people_in(&POOR) as f64 / population as f64)
    }

    fn threshold(&self) -> f64 {
        village_exit::threshold(&self.region.code)
    }

    fn per_capita(&self, fen: i64) -> Option<Money> {
        let income = self.figures.income;
        self.shown(
            &[Figure::IncomeHouseholds],
            (income.people > 0).then(|| Money(fen / income.people)),
        )
    }
}

/// Households and people of one status (按状态统计).
#[derive(SimpleObject)]
pub struct StatusFigure {
    /// The status (贫困状态).
    status: HouseholdStatus,
    /// Households (户数); null when suppressed.
    households: Option<i64>,
    /// People in them (人数); null when suppressed.
    people: Option<i64>,
}

/// Registered households with one main cause of poverty (按主要致贫原因).
#[derive(SimpleObject)]
pub struct CauseFigure {
    /// The main cause (主要致贫原因).
    cause: PovertyCause,
    /// Households (户数); null when suppressed.
    households: Option<i64>,
}

/// Registered households of one attribute (按贫困户属性).
#[derive(SimpleObject)]
pub struct AttributeFigure {
    /// The attribute (贫困户属性).
    attribute: HouseholdAttribute,
    /// Households (户数); null when suppressed.
    households: Option<i64>,
}

/// Projects of one stage (按项目状态).
#[derive(SimpleObject)]
pub struct ProjectStatusFigure {
    /// The stage (项目状态).
    status: ProjectStatus,
    /// Projects (项目数).
    projects: i64,
}

/// Income of the year of registered households, per person (人均收入).
#[derive(SimpleObject)]
pub struct IncomeFigures {
    /// Households with an income record for the year (有收入记录户数); null when suppressed.
    households: Option<i64>,
    /// Per-capita net income (人均纯收入).
    per_capita_net: Option<Money>,
    /// Per-capita wage income (人均工资性收入).
    per_capita_wage: Option<Money>,
    /// Per-capita production and business income (人均生产经营性收入).
    per_capita_production: Option<Money>,
    /// Per-capita property income (人均财产性收入).
    per_capita_property: Option<Money>,
    /// Per-capita transfer income (人均转移性收入).
    per_capita_transfer: Option<Money>,
}

/// Measures of household plans due in the year (帮扶计划完成情况).
#[derive(SimpleObject)]
pub struct PlanFigures {
    /// Measures whose time node falls in the year (措施数).
    measures: Option<i64>,
    /// Done (已完成).
    done: Option<i64>,
    /// Cancelled (已取消).
    cancelled: Option<i64>,
    /// Past their time node, neither done nor cancelled, today (逾期).
    overdue: Option<i64>,
    /// Done over not cancelled, 0 to 1 (完成率).
    completion_rate: Option<f64>,
}

/// Pairing and visits of registered households, as of today (结对帮扶覆盖).
#[derive(SimpleObject)]
pub struct PairingFigures {
    /// Registered households (建档立卡户数).
    households: Option<i64>,
    /// Of them, with a helper cadre now (已结对).
    paired: Option<i64>,
    /// Paired over registered, 0 to 1 (结对覆盖率).
    coverage: Option<f64>,
    /// Of them, not visited in the last 90 days (90天内未走访).
    not_visited_in_90_days: Option<i64>,
}

/// Money of the projects of the year covering the region (资金使用).
#[derive(SimpleObject)]
pub struct FundFigures {
    /// Allocated, net of reversals (已安排).
    allocated: Money,
    /// Disbursed, net of reversals (已拨付).
    disbursed: Money,
    /// Disbursed over allocated, 0 to 1 (资金使用率).
    utilisation: Option<f64>,
}

/// The statistics of a region for a year (区域统计).
#[Object]
impl Statistics {
    /// The county, township or village (区域).
    async fn region(&self) -> Node {
        region_node(self.region.clone())
    }
    /// The year (年度).
    async fn year(&self) -> i32 {
        self.year
    }
    /// Whether small cells are withheld in this answer, as for every caller
    /// without a token: counts of one to four households, the figures from
    /// which they could be worked out, and what is derived from them (小数抑制).
    async fn suppressed_small_cells(&self) -> bool {
        self.withheld.is_some()
    }
    /// Households and people by status: this year as the register stands now,
    /// a year that is over as it stood at its end (按状态户数人数).
    async fn by_status(&self) -> Vec<StatusFigure> {
        HouseholdStatus::iter()
            .map(|status| {
                let households = self.figures.households.get(&status).copied().unwrap_or(0);
                let people = self.figures.people.get(&status).copied().unwrap_or(0);
                StatusFigure {
                    status,
                    households: self.count(Figure::Households(status), households),
                    people: self.count(Figure::People(status), people),
                }
            })
            .collect()
    }
    /// Poor households: enrolled and not lifted out, or returned (贫困户数).
    async fn poor_households(&self) -> Option<i64> {
        self.count(Figure::PoorHouseholds, self.poor_household_count())
    }
    /// People in poor households (贫困人口).
    async fn poor_people(&self) -> Option<i64> {
        self.count(Figure::PoorPeople, self.figures.people_in(&POOR))
    }
    /// Rural registered population of the villages (农业户籍人口).
    async fn rural_population(&self) -> i64 {
        self.figures.rural_population
    }
    /// Poor people over the rural registered population (贫困发生率); null when unknown or suppressed.
    async fn poverty_incidence(&self) -> Option<f64> {
        self.shown(&[Figure::PoorPeople], self.incidence())
    }
    /// The incidence under which the region may exit: 3% in the west, 2% elsewhere (退出标准).
    async fn exit_threshold(&self) -> f64 {
        self.threshold()
    }
    /// Whether the incidence is under the exit threshold (是否达到退出标准); null when unknown or suppressed.
    async fn meets_exit_threshold(&self) -> Option<bool> {
        self.shown(
            &[Figure::PoorPeople],
            self.incidence().map(|rate| rate < self.threshold()),
        )
    }
    /// Households whose exit year is this year (当年脱贫户数).
    async fn exits(&self) -> Option<i64> {
        self.count(Figure::Exits, self.figures.exits)
    }
    /// Households that returned to poverty during the year (当年返贫户数).
    async fn returns(&self) -> Option<i64> {
        self.count(Figure::Returns, self.figures.returns)
    }
    /// Registered households by main cause of poverty (按主要致贫原因).
    async fn by_main_cause(&self) -> Vec<CauseFigure> {
        PovertyCause::iter()
            .map(|cause| CauseFigure {
                cause,
                households: self.count(
                    Figure::Cause(cause),
                    self.figures.by_cause.get(&cause).copied().unwrap_or(0),
                ),
            })
            .collect()
    }
    /// Registered households by attribute (按贫困户属性).
    async fn by_attribute(&self) -> Vec<AttributeFigure> {
        HouseholdAttribute::iter()
            .map(|attribute| AttributeFigure {
                attribute,
                households: self.count(
                    Figure::Attribute(attribute),
                    self.figures
                        .by_attribute
                        .get(&attribute)
                        .copied()
                        .unwrap_or(0),
                ),
            })
            .collect()
    }
    /// Income of the year of registered households (收入情况).
    async fn income(&self) -> IncomeFigures {
        let income = self.figures.income;
        IncomeFigures {
            households: self.count(Figure::IncomeHouseholds, income.households),
            per_capita_net: self.per_capita(income.net),
            per_capita_wage: self.per_capita(income.wage),
            per_capita_production: self.per_capita(income.production),
            per_capita_property: self.per_capita(income.property),
            per_capita_transfer: self.per_capita(income.transfer),
        }
    }
    /// Measures of household plans due in the year (帮扶计划完成情况).
    async fn plans(&self) -> PlanFigures {
        let m = self.figures.measures;
        let planned = m.total - m.cancelled;
        PlanFigures {
            measures: self.count(Figure::Measures, m.total),
            done: self.count(Figure::MeasuresDone, m.done),
            cancelled: self.count(Figure::MeasuresCancelled, m.cancelled),
            overdue: self.count(Figure::MeasuresOverdue, m.overdue),
            completion_rate: self.shown(
                &[
                    Figure::Measures,
                    Figure::MeasuresDone,
                    Figure::MeasuresCancelled,
                ],
                (planned > 0).then(|| m.done as f64 / planned as f64),
            ),
        }
    }
    /// Pairing and visits of registered households (结对帮扶).
    async fn pairing(&self) -> PairingFigures {
        let registered = self.figures.households_in(&REGISTERED);
        PairingFigures {
            households: self.count(Figure::Registered, registered),
            paired: self.count(Figure::Paired, self.figures.paired),
            coverage: self.shown(
                &[Figure::Registered, Figure::Paired],
                (registered > 0).then(|| self.figures.paired as f64 / registered as f64),
            ),
            not_visited_in_90_days: self.count(Figure::NotVisited, self.figures.not_visited),
        }
    }
    /// Projects of the year covering a village of the region, by stage (项目状态).
    async fn projects_by_status(&self) -> Vec<ProjectStatusFigure> {
        ProjectStatus::iter()
            .map(|status| ProjectStatusFigure {
                status,
                projects: self.figures.projects.get(&status).copied().unwrap_or(0),
            })
            .collect()
    }
    /// Money of those projects (资金使用).
    async fn funds(&self) -> FundFigures {
        let funds = self.figures.funds;
        FundFigures {
            allocated: Money(funds.allocated),
            disbursed: Money(funds.disbursed),
            utilisation: (funds.allocated > 0)
                .then(|| funds.disbursed as f64 / funds.allocated as f64),
        }
    }
    /// The same figures for each township of the county or village of the township (下级区域).
    async fn children(&self) -> &[Statistics] {
        &self.children
    }
}

#[derive(Default)]
pub struct StatisticsQuery;

#[Object]
impl StatisticsQuery {
    /// Statistics of the county, a township or a village for a year, with the
    /// same figures for each region under it (统计监测). The register's figures
    /// of a year that is over are those it had at the year's end, frozen
    /// (年度结转). Anyone may read them; without a token, small cells are null:
    /// counts of one to four households, the figures from which they could be
    /// worked out, and what is derived from them.
    #[graphql(
        complexity = "crate::graphql::cost::priced(crate::graphql::cost::STATISTICS, child_complexity)"
    )]
    async fn statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The county, a township or a village (区域).")] region_id: ID,
        #[graphql(desc = "The year (年度).")] year: i32,
    ) -> ApiResult<Statistics> {
        let last = calendar::today().year();
        if !(FIRST_YEAR..=last).contains(&year) {
            return Err(ApiError::bad_input(
                "year",
                format!("statistics cover {FIRST_YEAR} to {last}"),
            ));
        }
        let kinds = [NodeKind::County, NodeKind::Township, NodeKind::Village];
        let region = find_region(ctx, &region_id, "regionId", &kinds).await?;
        let viewer = viewer(ctx)?;
        let prefix = access::code_prefix(&region).to_owned();
        // A year that is over is closed on the primary when first asked, and
        // read there: a replica may not hold its closing yet.
        let db = if closed_year::is_over(year) {
            let primary = primary(ctx)?;
            closed_year::close_detached(primary, year).await?;
            primary
        } else {
            db(ctx)?
        };
        let mut children = Vec::new();
        if let Some(level) = child_level(region.level) {
            children = access::select::<region::Entity>(viewer)
                .filter(region::Column::Level.eq(level))
                .filter(access::code_under(&prefix))
                .order_by_asc(region::Column::Code)
                .all(db)
                .await?;
        }
        if viewer.role().is_none() {
            let county = figures::gather(
                db,
                folded(ctx)?,
                &region.code[..COUNTY_CODE_LEN],
                VILLAGE_CODE_LEN,
                year,
            )
            .await?;
            let solved = data::<Solved>(ctx)?;
            return Ok(public_statistics(solved, &county, region, children, year));
        }
        let mut gathered = figures::gather(
            db,
            folded(ctx)?,
            &prefix,
            child_part_len(region.level),
            year,
        )
        .await?;
        let children = children
            .into_iter()
            .map(|child| Statistics {
                figures: gathered
                    .children
                    .remove(access::code_prefix(&child))
                    .unwrap_or_default(),
                region: child,
                year,
                withheld: None,
                children: Vec::new(),
            })
            .collect();
        Ok(Statistics {
            region,
            year,
            withheld: None,
            figures: gathered.total,
            children,
        })
    }
}

/// Digits of a county's code, and of a village's.
const COUNTY_CODE_LEN: usize = 6;
const VILLAGE_CODE_LEN: usize = 12;
/// Digits of a township's code: what tells a county's children apart.
const TOWNSHIP_CODE_LEN: usize = 9;

/// The statistics of `region` and its `children` as the public reads them,
/// from the figures of every village of the county (`county`, gathered
/// village by village): what is withheld is decided over the whole county at
/// once, so that a figure is withheld alike whichever region is asked for.
fn public_statistics(
    solved: &Solved,
    county: &Gathered,
    region: region::Model,
    children: Vec<region::Model>,
    year: i32,
) -> Statistics {
    let villages: Vec<&str> = county.children.keys().map(String::as_str).collect();
    let mut townships: Vec<&str> = villages.iter().map(|v| &v[..TOWNSHIP_CODE_LEN]).collect();
    townships.sort_unstable();
    townships.dedup();
    let township_figures: Vec<Figures> = townships
        .iter()
        .map(|t| county.combine(villages.iter().copied().filter(|v| v.starts_with(t))))
        .collect();
    // The county first, its townships, then its villages.
    let county_code = region.code[..COUNTY_CODE_LEN].to_owned();
    let mut codes: Vec<&str> = vec![&county_code];
    let mut regions = vec![Region {
        figures: &county.total,
        parent: None,
    }];
    for (code, figures) in townships.iter().zip(&township_figures) {
        codes.push(code);
        regions.push(Region {
            figures,
            parent: Some(0),
        });
    }
    for village in &villages {
        let township = townships
            .binary_search(&&village[..TOWNSHIP_CODE_LEN])
            .ok()
            .map(|t| t + 1);
        codes.push(village);
        regions.push(Region {
            figures: &county.children[*village],
            parent: township,
        });
    }
    let solution = public::withheld(solved, &regions);
    let withheld: HashMap<&str, &Withheld> = codes.into_iter().zip(solution.iter()).collect();
    let of = |region: region::Model| {
        let prefix = access::code_prefix(&region);
        let figures = match region.level {
            RegionLevel::County => county.total.clone(),
            _ => county.combine(villages.iter().copied().filter(|v| v.starts_with(prefix))),
        };
        Statistics {
            withheld: Some(
                withheld
                    .get(prefix)
                    .map(|w| (*w).clone())
                    .unwrap_or_default(),
            ),
            region,
            year,
            figures,
            children: Vec::new(),
        }
    };
    let children = children.into_iter().map(&of).collect();
    Statistics {
        children,
        ..of(region)
    }
}
