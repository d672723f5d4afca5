//! The household's booklet (扶贫手册, 明白卡): what the household keeps to know
//! what it is owed, and what inspectors check help against. Each part is read
//! as the household's own fields are, under the same rules for each row.

use crate::graphql::date::Day;
use async_graphql::{Context, Object};
use chrono::NaiveDate;
use entity::household;

use super::HouseholdIncome;
use crate::domain::{calendar, publicity};
use crate::error::ApiResult;
use crate::graphql::context::{db, loaders, viewer};
use crate::graphql::enterprise::link::{self, BenefitLink};
use crate::graphql::pairing::Pairing;
use crate::graphql::pairing::unit::{self, VillageStaff};
use crate::graphql::pairing::visit::{self, Visit};
use crate::graphql::plan::{self, Plan};
use crate::graphql::publicity::Policy;

pub struct Booklet {
    pub household: household::Model,
    pub issued_on: NaiveDate,
}

impl Booklet {
    pub fn of(household: household::Model) -> Booklet {
        Booklet {
            household,
            issued_on: calendar::today(),
        }
    }
}

/// A household's booklet as of the day it is drawn up (扶贫手册).
#[Object]
impl Booklet {
    /// The day it is drawn up, in the county (填发日期).
    async fn issued_on(&self) -> Day {
        Day(self.issued_on)
    }
    /// Policies the household enjoys, oldest in force first: published, in
    /// force, addressed to the whole county or to its township or village, in
    /// the field of a measure of its plan (享受政策).
    async fn policies(&self, ctx: &Context<'_>) -> ApiResult<Vec<Policy>> {
        let policies =
            publicity::policies_enjoyed(db(ctx)?, viewer(ctx)?, &self.household, self.issued_on)
                .await?;
        Ok(policies.into_iter().map(Policy).collect())
    }
    /// The measures of its plan and their progress (帮扶措施).
    async fn plan(&self, ctx: &Context<'_>) -> ApiResult<Plan> {
        plan::plan_of(ctx, self.household.id).await
    }
    /// Its helper cadres now (帮扶责任人).
    async fn helpers(&self, ctx: &Context<'_>) -> ApiResult<Vec<Pairing>> {
        let pairings = loaders(ctx)?
            .household_pairings
            .load_one(self.household.id)
            .await?;
        Ok(pairings
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.ended_on.is_none())
            .map(Pairing)
            .collect())
    }
    /// Who serves its village now and how to reach them (驻村工作队).
    async fn contacts(&self, ctx: &Context<'_>) -> ApiResult<Vec<VillageStaff>> {
        unit::serving_staff_of(ctx, self.household.village_id).await
    }
    /// Visits, latest first, each a line for the household to sign (走访记录).
    async fn visits(&self, ctx: &Context<'_>) -> ApiResult<Vec<Visit>> {
        visit::visits_of(ctx, self.household.id).await
    }
    /// Incomes year by year, oldest first, each against its year's line (收入情况).
    async fn incomes(&self, ctx: &Context<'_>) -> ApiResult<Vec<HouseholdIncome>> {
        super::incomes_of(ctx, self.household.id).await
    }
    /// Benefit links open on the day, earliest first (利益联结).
    async fn benefit_links(&self, ctx: &Context<'_>) -> ApiResult<Vec<BenefitLink>> {
        let links = link::links_of_household(ctx, self.household.id).await?;
        Ok(links
            .into_iter()
            .filter(|l| l.open_on(self.issued_on))
            .collect())
    }
}
