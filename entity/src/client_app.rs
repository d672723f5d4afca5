//! `client_app`: a third-party app registered by the county office (接入应用),
//! named in the tokens its users sign in for; it may be held to its
//! registered documents.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "client_app")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    /// The public identifier the app passes to `login`.
    #[sea_orm(unique)]
    pub client_id: String,
    /// Its tokens run only the documents registered for it.
    pub trusted_documents_only: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub created_by: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
