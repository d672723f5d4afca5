//! `monitoring_case`: a household under monitoring for return to poverty
//! (防返贫监测对象), from the day it was found to the day its risk was eliminated.

use sea_orm::entity::prelude::*;

use crate::enums::{FoundBy, MonitoringCategory};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "monitoring_case")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    pub category: MonitoringCategory,
    pub found_by: FoundBy,
    pub started_on: Date,
    /// The day its risk was marked eliminated (风险消除).
    pub eliminated_on: Option<Date>,
    pub elimination_note: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
