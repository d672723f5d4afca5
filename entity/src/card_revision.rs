//! `card_revision`: what a household's filing card said after each change
//! (household, members, incomes as JSON), so that the card can be read as of a date.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "card_revision")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    /// From when the card said this.
    pub at: DateTimeUtc,
    /// JSON: `{"household": .., "members": [..], "incomes": [..]}`.
    pub card: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
