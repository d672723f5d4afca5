//! Fund utilisation by region (资金使用率): what the projects covering a region
//! were allocated and have paid out. A project counts once in every region it
//! covers a village of, so a township's figures are not the sum of its
//! villages' when a project spans several of them.

use std::collections::{HashMap, HashSet};

use async_graphql::{Context, ID, Object};
use entity::{fund_entry, project, project_village, region};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, QueryFilter, QueryOrder};

use super::rate;
use crate::access;
use crate::domain::funds::{Totals, totals_by};
use crate::domain::region::{child_level, child_part_len};
use crate::error::ApiResult;
use crate::graphql::context::{db, viewer};
use crate::graphql::money::Money;
use crate::graphql::node::Node;
use crate::graphql::region::{find_region, region_node};
use crate::graphql::relay::NodeKind;

/// The figures of one region.
pub struct FundUtilisation {
    region: region::Model,
    projects: usize,
    totals: Totals,
    children: Vec<FundUtilisation>,
}

/// Fund utilisation of a region (资金使用情况): the projects covering it and their money.
#[Object]
impl FundUtilisation {
    /// The county, township or village (区域).
    async fn region(&self) -> Node {
        region_node(self.region.clone())
    }
    /// Projects covering a village of the region (项目数).
    async fn project_count(&self) -> usize {
        self.projects
    }
    /// Allocated to those projects, net of reversals (已安排).
    async fn allocated(&self) -> Money {
        Money(self.totals.allocated)
    }
    /// Paid out by those projects, net of reversals (已拨付).
    async fn disbursed(&self) -> Money {
        Money(self.totals.disbursed)
    }
    /// Disbursed over allocated, 0 to 1; null while nothing is allocated (资金使用率).
    async fn utilisation(&self) -> Option<f64> {
        rate(self.totals)
    }
    /// The same for each township of the county or village of the township (下级区域).
    async fn children(&self) -> &[FundUtilisation] {
        &self.children
    }
}

/// The covered villages' code prefixes of `part_len` digits, with the project
/// covering them, for the projects of `year` covering a village under `prefix`.
fn coverage(prefix: &str, part_len: usize, year: Option<i32>) -> SelectStatement {
    // The length is our own constant, written into the SQL so that PostgreSQL
    // accepts it in DISTINCT.
    let part = Expr::cust(format!("SUBSTR(\"region\".\"code\", 1, {part_len})"));
    let mut query = Query::select()
        .distinct()
        .expr_as(part, Alias::new("part"))
        .column((project_village::Entity, project_village::Column::ProjectId))
        .from(project_village::Entity)
        .inner_join(
            region::Entity,
            Expr::col((region::Entity, region::Column::Id))
                .equals((project_village::Entity, project_village::Column::VillageId)),
        )
        .cond_where(access::code_under(prefix))
        .to_owned();
    if let Some(year) = year {
        query
            .inner_join(
                project::Entity,
                Expr::col((project::Entity, project::Column::Id))
                    .equals((project_village::Entity, project_village::Column::ProjectId)),
            )
            .and_where(Expr::col((project::Entity, project::Column::Year)).eq(year));
    }
    query
}

/// The projects covering a region, grouped by the code prefix of `part_len`
/// digits of the villages they cover, and the ledger totals of each.
pub struct Coverage {
    pub by_part: HashMap<String, HashSet<i64>>,
    pub projects: HashSet<i64>,
    pub totals: HashMap<i64, Totals>,
}

impl Coverage {
    /// The projects of `year` (all years if none) covering a village under `prefix`.
    pub async fn of(
        db: &impl ConnectionTrait,
        prefix: &str,
        part_len: usize,
        year: Option<i32>,
    ) -> ApiResult<Self> {
        let mut by_part: HashMap<String, HashSet<i64>> = HashMap::new();
        let mut projects = HashSet::new();
        for row in db.query_all(&coverage(prefix, part_len, year)).await? {
            let part: String = row.try_get("", "part")?;
            let project: i64 = row.try_get("", "project_id")?;
            by_part.entry(part).or_default().insert(project);
            projects.insert(project);
        }
        let covering = Query::select()
            .column(project_village::Column::ProjectId)
            .from_subquery(coverage(prefix, part_len, year), Alias::new("coverage"))
            .to_owned();
        let totals = totals_by(
            db,
            fund_entry::Column::ProjectId,
            Condition::all().add(fund_entry::Column::ProjectId.in_subquery(covering)),
        )
        .await?;
        Ok(Self {
            by_part,
            projects,
            totals,
        })
    }

    /// The projects covering the part of the region under `part`.
    pub fn of_part(&self, part: &str) -> HashSet<i64> {
        self.by_part.get(part).cloned().unwrap_or_default()
    }

    /// The summed totals of some of the projects.
    pub fn sum(&self, ids: &HashSet<i64>) -> Totals {
        ids.iter()
            .map(|id| self.totals.get(id).copied().unwrap_or_default())
            .sum()
    }
}

#[derive(Default)]
pub struct FundUtilisationQuery;

#[Object]
impl FundUtilisationQuery {
    /// Fund utilisation of the projects covering a region, with the same figures
    /// for each region under it (资金使用率统计).
    #[graphql(
        complexity = "crate::graphql::cost::priced(crate::graphql::cost::REGION_FIGURES, child_complexity)"
    )]
    async fn fund_utilisation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The county, a township or a village (区域).")] region_id: ID,
        #[graphql(desc = "Only projects of this plan year (计划年度).")] year: Option<i32>,
    ) -> ApiResult<FundUtilisation> {
        let kinds = [NodeKind::County, NodeKind::Township, NodeKind::Village];
        let region = find_region(ctx, &region_id, "regionId", &kinds).await?;
        let db = db(ctx)?;
        let prefix = access::code_prefix(&region).to_owned();
        let coverage = Coverage::of(db, &prefix, child_part_len(region.level), year).await?;
        let mut children = Vec::new();
        if let Some(level) = child_level(region.level) {
            let regions = access::select::<region::Entity>(viewer(ctx)?)
                .filter(region::Column::Level.eq(level))
                .filter(access::code_under(&prefix))
                .order_by_asc(region::Column::Code)
                .all(db)
                .await?;
            for child in regions {
                let ids = coverage.of_part(access::code_prefix(&child));
                children.push(FundUtilisation {
                    region: child,
                    projects: ids.len(),
                    totals: coverage.sum(&ids),
                    children: Vec::new(),
                });
            }
        }
        Ok(FundUtilisation {
            region,
            projects: coverage.projects.len(),
            totals: coverage.sum(&coverage.projects),
            children,
        })
    }
}
