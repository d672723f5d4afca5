//! `Household.cardAsOf`: what a filing card said on a given day, rebuilt by
//! `domain::card` from its revisions.

use crate::graphql::date::Day;
use async_graphql::Object;
use chrono::{DateTime, Utc};
use entity::enums::{HouseholdStatus, MonitoringCategory, Relation};

use super::{HouseholdIncome, Member};
use crate::domain::card;

/// A household's filing card as it stood on a given day (某日档案).
pub struct CardAsOf(pub card::CardAsOf);

/// What a household's filing card said on a given day, rebuilt from its revisions (历史档案).
#[Object]
impl CardAsOf {
    /// The day asked about (查询日期).
    async fn date(&self) -> Day {
        Day(self.0.date)
    }
    /// When the card last changed before the end of that day (本版本生效时间).
    async fn since(&self) -> DateTime<Utc> {
        self.0.since
    }
    /// Poverty status then (贫困状态).
    async fn status(&self) -> HouseholdStatus {
        self.0.card.household.status
    }
    /// Year lifted out, if it was by then (脱贫年度).
    async fn lifted_out_year(&self) -> Option<i32> {
        self.0.card.household.lifted_out_year
    }
    /// Monitoring category then (监测类别).
    async fn monitoring(&self) -> Option<MonitoringCategory> {
        self.0.card.household.monitoring
    }
    /// Year enrolled, if it was by then (识别年度).
    async fn enrolled_year(&self) -> Option<i32> {
        self.0.card.household.enrolled_year
    }
    /// Members then, the head first (家庭成员).
    async fn members(&self) -> Vec<Member> {
        let mut members = self.0.card.members.clone();
        members.sort_by_key(|m| (m.relation != Relation::Head, m.id));
        members.into_iter().map(Member).collect()
    }
    /// Incomes recorded by then, oldest first (年度收入).
    async fn incomes(&self) -> Vec<HouseholdIncome> {
        self.0
            .card
            .incomes
            .iter()
            .cloned()
            .map(HouseholdIncome)
            .collect()
    }
}
