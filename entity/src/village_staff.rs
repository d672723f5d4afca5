//! `village_staff`: a village's first secretary and resident working team
//! (第一书记、驻村工作队). Past postings stay, with the day they ended.

use sea_orm::entity::prelude::*;

use crate::enums::VillageStaffRole;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "village_staff")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub village_id: i64,
    pub role: VillageStaffRole,
    pub name: String,
    /// Their account, when they have one.
    pub user_id: Option<i64>,
    /// The unit that sent them (派出单位).
    pub unit_id: Option<i64>,
    pub phone: Option<String>,
    pub started_on: Date,
    pub ended_on: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
