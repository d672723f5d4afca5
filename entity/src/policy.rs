//! `policy`: a poverty-alleviation policy published to its audience (扶贫政策).

use sea_orm::entity::prelude::*;

use crate::enums::{PolicyCategory, PolicyStatus};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "policy")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub body: String,
    pub category: PolicyCategory,
    /// The body that issued it (发文单位).
    pub issuing_body: String,
    pub effective_on: Date,
    pub status: PolicyStatus,
    pub published_at: Option<DateTimeUtc>,
    pub published_by: Option<i64>,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub withdrawn_by: Option<i64>,
    pub withdrawal_reason: Option<String>,
    pub created_by: Option<i64>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
