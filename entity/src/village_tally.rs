//! `village_tally`: the household figures of each village, kept by database
//! triggers so that a county's statistics need not count a million rows.
//! The triggers append to `village_tally_change`; compaction folds those
//! changes in here. A figure is the sum of its row here and its changes.

use sea_orm::entity::prelude::*;

use crate::enums::TallyFigure;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "village_tally")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub village_id: i64,
    /// The year the figure is about; 0 for figures of the register as it stands.
    #[sea_orm(primary_key, auto_increment = false)]
    pub year: i32,
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
