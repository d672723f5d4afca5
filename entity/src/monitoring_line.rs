//! `monitoring_line`: the income line for monitoring return to poverty
//! (防返贫监测收入标准), set per year by each province, in fen per person per year.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "monitoring_line")]
pub struct Model {
    /// First two digits of the division code.
    #[sea_orm(primary_key, auto_increment = false)]
    pub province_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub year: i32,
    pub annual_fen: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
