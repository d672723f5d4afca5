//! What enterprises bring poor households in a year (利益联结成效): households
//! linked, income brought and donations, and the ranking that gives the policy
//! preference list (政策倾斜名单). These are public aggregates without personal
//! data: computed in SQL over all rows, not within the reader's row scope.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{Datelike, NaiveDate};
use entity::enums::FundSourceKind;
use entity::{benefit_link, enterprise, fund_source, household};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Order, Query, SelectStatement};
use sea_orm::{
    ActiveEnum, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QueryTrait,
};

use super::super::money::Money;
use super::super::region::{find_region, village_in};
use super::super::relay::NodeKind;
use super::super::statistics::figures::REGISTERED;
use super::Enterprise;
use crate::access::Viewer;
use crate::domain::calendar;
use crate::domain::disclosure::public_count;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{db, loaders, viewer};

/// Targeted poverty alleviation began in 2014: no figures before it.
const FIRST_YEAR: i32 = 2014;
/// Entries of a ranking when `first` is not given.
const DEFAULT_RANKING: i32 = 20;
/// Most entries a ranking may have.
const MAX_RANKING: i32 = 100;

/// An enterprise's figures for one year.
#[derive(Debug, Clone, Copy, Default)]
pub struct Figures {
    households_linked: i64,
    income_brought_fen: i64,
    investment_fen: i64,
}

impl Figures {
    /// The households linked and the income brought, as `viewer` may read
    /// them: the public gets neither for 1 to 4 households.
    fn shown(&self, viewer: &Viewer) -> Option<(i64, Money)> {
        let households = match viewer.role() {
            None => public_count(self.households_linked)?,
            Some(_) => self.households_linked,
        };
        Some((households, Money(self.income_brought_fen)))
    }
}

/// A year figures may be asked for: 2014 to next year.
fn check_year(year: i32) -> ApiResult<i32> {
    let last = calendar::today().year() + 1;
    if !(FIRST_YEAR..=last).contains(&year) {
        return Err(ApiError::bad_input(
            "year",
            format!("figures are kept for {FIRST_YEAR} to {last}"),
        ));
    }
    Ok(year)
}

/// The SQL of one figure, over the joined sums (`links`, `donations`).
fn figure_sql(by: EnterpriseRankBy) -> &'static str {
    match by {
        EnterpriseRankBy::HouseholdsLinked => "COALESCE(\"links\".\"households\", 0)",
        EnterpriseRankBy::IncomeBrought => "COALESCE(\"links\".\"income\", 0)",
        EnterpriseRankBy::Investment => "COALESCE(\"donations\".\"investment\", 0)",
    }
}

/// The enterprises `condition` names, each with its figures for `year`: the
/// links and donations are summed per enterprise in two grouped subqueries.
fn with_figures(year: i32, condition: Condition) -> ApiResult<SelectStatement> {
    use benefit_link::Column as L;
    use fund_source::Column as F;
    let first_day = NaiveDate::from_ymd_opt(year, 1, 1);
    let last_day = NaiveDate::from_ymd_opt(year, 12, 31);
    let (Some(first_day), Some(last_day)) = (first_day, last_day) else {
        return Err(ApiError::bad_input("year", format!("{year} is not a year")));
    };
    // A link counts in every year it is open on at least one day, and only
    // with a household on the register as poor or lifted out: what a link to
    // anyone else brings is no help to the poor, whatever it is worth.
    let links = Query::select()
        .column((benefit_link::Entity, L::EnterpriseId))
        .expr_as(
            Expr::cust("COUNT(DISTINCT \"household_id\")"),
            Alias::new("households"),
        )
        .expr_as(
            Expr::cust("CAST(SUM(\"annual_income_fen\") AS BIGINT)"),
            Alias::new("income"),
        )
        .from(benefit_link::Entity)
        .inner_join(
            household::Entity,
            Expr::col((household::Entity, household::Column::Id))
                .equals((benefit_link::Entity, L::HouseholdId)),
        )
        .and_where(household::Column::Status.is_in(REGISTERED.map(|s| s.to_value())))
        .and_where(L::StartedOn.lte(last_day))
        .cond_where(
            Condition::any()
                .add(L::EndedOn.is_null())
                .add(L::EndedOn.gte(first_day)),
        )
        .group_by_col((benefit_link::Entity, L::EnterpriseId))
        .to_owned();
    let donations = Query::select()
        .column(F::DonorEnterpriseId)
        .expr_as(
            Expr::cust("CAST(SUM(\"amount_fen\") AS BIGINT)"),
            Alias::new("investment"),
        )
        .from(fund_source::Entity)
        .and_where(F::Kind.eq(FundSourceKind::EnterpriseDonation))
        .and_where(F::Year.eq(year))
        .and_where(F::DonorEnterpriseId.is_not_null())
        .group_by_col(F::DonorEnterpriseId)
        .to_owned();
    let enterprise_id = (enterprise::Entity, enterprise::Column::Id);
    let mut query = enterprise::Entity::find().filter(condition).into_query();
    query
        .join_subquery(
            JoinType::LeftJoin,
            links,
            Alias::new("links"),
            Expr::col((Alias::new("links"), L::EnterpriseId)).equals(enterprise_id),
        )
        .join_subquery(
            JoinType::LeftJoin,
            donations,
            Alias::new("donations"),
            Expr::col((Alias::new("donations"), F::DonorEnterpriseId)).equals(enterprise_id),
        );
    for (by, alias) in [
        (EnterpriseRankBy::HouseholdsLinked, "households_linked"),
        (EnterpriseRankBy::IncomeBrought, "income_brought_fen"),
        (EnterpriseRankBy::Investment, "investment_fen"),
    ] {
        query.expr_as(Expr::cust(figure_sql(by)), Alias::new(alias));
    }
    Ok(query)
}

/// Runs a [`with_figures`] query.
async fn rows_with_figures(
    db: &impl ConnectionTrait,
    query: &SelectStatement,
) -> ApiResult<Vec<(enterprise::Model, Figures)>> {
    let mut rows = Vec::new();
    for row in db.query_all(query).await? {
        let figures = Figures {
            households_linked: row.try_get("", "households_linked")?,
            income_brought_fen: row.try_get("", "income_brought_fen")?,
            investment_fen: row.try_get("", "investment_fen")?,
        };
        rows.push((enterprise::Model::from_query_result(&row, "")?, figures));
    }
    Ok(rows)
}

/// The figures of enterprises by (enterprise, year): one statement per year asked.
pub struct BenefitByYear {
    db: DatabaseConnection,
}

impl BenefitByYear {
    pub fn new(db: &DatabaseConnection) -> Self {
        Self { db: db.clone() }
    }
}

impl Loader<(i64, i32)> for BenefitByYear {
    type Value = Figures;
    type Error = ApiError;

    async fn load(&self, keys: &[(i64, i32)]) -> Result<HashMap<(i64, i32), Figures>, ApiError> {
        let mut years: HashMap<i32, Vec<i64>> = HashMap::new();
        for (enterprise, year) in keys {
            years.entry(*year).or_default().push(*enterprise);
        }
        let mut figures = HashMap::new();
        for (year, enterprises) in years {
            let condition = Condition::all().add(enterprise::Column::Id.is_in(enterprises));
            let query = with_figures(year, condition)?;
            for (model, found) in rows_with_figures(&self.db, &query).await? {
                figures.insert((model.id, year), found);
            }
        }
        Ok(figures)
    }
}

/// What an enterprise brought poor households in a year (年度带贫成效).
pub struct EnterpriseBenefit {
    year: i32,
    figures: Figures,
}

/// What an enterprise brought poor households in a year (年度带贫成效). A
/// benefit link counts, with its whole annual income, in every year it is open
/// on at least one day.
#[Object]
impl EnterpriseBenefit {
    /// The year (年度).
    async fn year(&self) -> i32 {
        self.year
    }
    /// Distinct households with a link open on some day of the year (联结户数);
    /// null for the public when 1 to 4.
    async fn households_linked(&self, ctx: &Context<'_>) -> ApiResult<Option<i64>> {
        Ok(self
            .figures
            .shown(viewer(ctx)?)
            .map(|(households, _)| households))
    }
    /// Sum of the annual incomes of those links, in yuan (带动增收); null for
    /// the public when the households are 1 to 4: it would tell what their links pay them.
    async fn income_brought(&self, ctx: &Context<'_>) -> ApiResult<Option<Money>> {
        Ok(self.figures.shown(viewer(ctx)?).map(|(_, income)| income))
    }
    /// Sum of the enterprise's donations recorded as funds of the year, in yuan (投入资金).
    async fn investment(&self) -> Money {
        Money(self.figures.investment_fen)
    }
}

/// An enterprise's figures for a year, through the request's loader.
pub async fn benefit_of(
    ctx: &Context<'_>,
    enterprise: i64,
    year: i32,
) -> ApiResult<EnterpriseBenefit> {
    let year = check_year(year)?;
    let figures = loaders(ctx)?
        .enterprise_benefits
        .load_one((enterprise, year))
        .await?
        .unwrap_or_default();
    Ok(EnterpriseBenefit { year, figures })
}

/// The figure enterprises are ranked by (排名依据).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnterpriseRankBy {
    /// Households linked in the year (联结户数).
    HouseholdsLinked,
    /// Income brought to households in the year (带动增收).
    IncomeBrought,
    /// Donations in the year (投入资金).
    Investment,
}

/// An enterprise's place in a ranking (经营主体排名).
#[derive(SimpleObject)]
pub struct EnterpriseRank {
    /// Position, from 1; equal figures are ordered by registration (名次).
    rank: i32,
    /// The enterprise (经营主体).
    enterprise: Enterprise,
    /// Distinct households with a link open on some day of the year (联结户数);
    /// null for the public when 1 to 4.
    households_linked: Option<i64>,
    /// Sum of the annual incomes of those links, in yuan (带动增收); null for
    /// the public when the households are 1 to 4.
    income_brought: Option<Money>,
    /// Donations recorded as funds of the year, in yuan (投入资金).
    investment: Money,
}

#[derive(Default)]
pub struct RankingQuery;

#[Object]
impl RankingQuery {
    /// Enterprises ranked by what they brought poor households in a year, for
    /// the policy preference list (政策倾斜名单): only those whose figure is
    /// above zero, highest first. Public.
    #[graphql(
        complexity = "crate::graphql::cost::priced(crate::graphql::cost::REGION_FIGURES, child_complexity)"
    )]
    async fn enterprise_ranking(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year (年度).")] year: i32,
        #[graphql(
            desc = "The figure to rank by (排名依据).",
            default_with = "Some(EnterpriseRankBy::HouseholdsLinked)"
        )]
        by: Option<EnterpriseRankBy>,
        #[graphql(
            desc = "Only enterprises registered in this county, township or village (所属区域)."
        )]
        region_id: Option<ID>,
        #[graphql(
            desc = "How many, 1 to 100 (条数).",
            default_with = "Some(DEFAULT_RANKING)"
        )]
        first: Option<i32>,
    ) -> ApiResult<Vec<EnterpriseRank>> {
        let year = check_year(year)?;
        let by = by.unwrap_or(EnterpriseRankBy::HouseholdsLinked);
        let first = first.unwrap_or(DEFAULT_RANKING);
        if !(1..=MAX_RANKING).contains(&first) {
            return Err(ApiError::bad_input(
                "first",
                format!("a ranking has 1 to {MAX_RANKING} entries"),
            ));
        }
        let mut condition = Condition::all().add(Expr::cust(format!("{} > 0", figure_sql(by))));
        if let Some(id) = &region_id {
            let kinds = [NodeKind::County, NodeKind::Township, NodeKind::Village];
            let region = find_region(ctx, id, "regionId", &kinds).await?;
            condition = condition.add(village_in(enterprise::Column::VillageId, &region));
        }
        let mut query = with_figures(year, condition)?;
        query
            .order_by_expr(Expr::cust(figure_sql(by)), Order::Desc)
            .order_by((enterprise::Entity, enterprise::Column::Id), Order::Asc)
            .limit(first.unsigned_abs().into());
        let rows = rows_with_figures(db(ctx)?, &query).await?;
        let viewer = viewer(ctx)?;
        Ok(rows
            .into_iter()
            .zip(1..)
            .map(|((model, figures), rank)| {
                let shown = figures.shown(viewer);
                EnterpriseRank {
                    rank,
                    enterprise: Enterprise(model),
                    households_linked: shown.map(|(households, _)| households),
                    income_brought: shown.map(|(_, income)| income),
                    investment: Money(figures.investment_fen),
                }
            })
            .collect())
    }
}
