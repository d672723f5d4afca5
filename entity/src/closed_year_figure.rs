//! `closed_year_figure`: the household figures of each village as the
//! register stood at the end of a closed year, the figures `village_tally`
//! keeps for the year as it goes. Append-only: written once, when the year closes.

use sea_orm::entity::prelude::*;

use crate::enums::TallyFigure;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "closed_year_figure")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub year: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub village_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub figure: TallyFigure,
    /// The status, cause or attribute counted; empty for figures without one.
    #[sea_orm(primary_key, auto_increment = false)]
    pub item: String,
    pub amount: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
