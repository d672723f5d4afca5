//! `visit_help`: what a visit did (帮扶内容), one row per kind of help.

use sea_orm::entity::prelude::*;

use crate::enums::HelpKind;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "visit_help")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub visit_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: HelpKind,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
