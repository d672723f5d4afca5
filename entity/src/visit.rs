//! `visit`: a helper cadre's visit to a household (入户走访). Visits are records of
//! fact: appended, never edited.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "visit")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    /// The cadre who visited (a user).
    pub visitor_id: i64,
    pub visited_on: Date,
    pub notes: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// References to photos stored elsewhere, as a JSON array of strings.
    pub photos: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
