//! `helper_pairing`: a helper cadre paired with a household (结对帮扶). Ended
//! pairings stay, with the day they ended.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "helper_pairing")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The helper cadre (帮扶责任人), a user of role `helper_cadre`.
    pub helper_id: i64,
    pub household_id: i64,
    /// The helper's unit (帮扶单位), e.g. a county department.
    pub unit: Option<String>,
    pub started_on: Date,
    pub ended_on: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
