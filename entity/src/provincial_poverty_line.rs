//! `provincial_poverty_line`: a province's own poverty line per year (省定贫困标准),
//! where it is above the national one, in fen per person per year. Households
//! identified under the provincial standard exit against it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "provincial_poverty_line")]
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
