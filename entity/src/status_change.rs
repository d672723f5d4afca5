//! `status_change`: the history of a household's status (状态变更记录),
//! including monitoring, with who, when, why and the proposal behind it.

use sea_orm::entity::prelude::*;

use crate::enums::{HouseholdStatus, MonitoringCategory, StatusAction};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "status_change")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    pub action: StatusAction,
    pub from_status: Option<HouseholdStatus>,
    pub to_status: HouseholdStatus,
    pub from_monitoring: Option<MonitoringCategory>,
    pub to_monitoring: Option<MonitoringCategory>,
    /// The year of an exit (脱贫年度) or an enrolment (识别年度).
    pub year: Option<i32>,
    pub reason: String,
    /// The proposal whose decision made the change, for identification and exit.
    pub proposal_id: Option<i64>,
    /// The reference of the decision behind a change documented elsewhere (决定文号).
    pub decision: Option<String>,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
