//! `project_asset`: an asset an accepted project left (扶贫项目资产): a
//! productive or public asset owned by a village collective, or a household's
//! own. What it brings in is its income ledger (`asset_income`), which only grows.

use sea_orm::entity::prelude::*;

use crate::enums::{AssetKind, AssetStatus};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "project_asset")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The project it came from, accepted when the asset was registered.
    pub project_id: i64,
    /// Name (资产名称).
    pub name: String,
    pub kind: AssetKind,
    pub value_fen: i64,
    /// The owning village collective: for productive and public assets.
    pub owner_village_id: Option<i64>,
    /// The owning household: for household assets (exactly one owner is set).
    pub owner_household_id: Option<i64>,
    /// Who runs it (运营主体), e.g. a cooperative or an enterprise.
    pub operator: String,
    /// The day it was handed over to its owner (移交日期).
    pub handed_over_on: Date,
    pub status: AssetStatus,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
