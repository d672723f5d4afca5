//! `village_tally_change`: a change to a village's figures, appended by the
//! triggers on households, members and incomes in the writing transaction.
//! Appending never waits for another writer; compaction moves the changes
//! into `village_tally`.

use sea_orm::entity::prelude::*;

use crate::enums::TallyFigure;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "village_tally_change")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub village_id: i64,
    pub year: i32,
    pub figure: TallyFigure,
    pub item: String,
    pub amount: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
