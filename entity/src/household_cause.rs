//! `household_cause`: a household's other causes of poverty (其他致贫原因).

use sea_orm::entity::prelude::*;

use crate::enums::PovertyCause;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "household_cause")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub household_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub cause: PovertyCause,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
