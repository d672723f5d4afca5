//! `app_user`: a person or system that signs in (用户), with its role and scope.

use sea_orm::entity::prelude::*;

use crate::enums::Role;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "app_user")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Login name; for a service account, its client ID.
    #[sea_orm(unique)]
    pub username: String,
    /// argon2id hash (PHC string) of the password or client secret.
    pub password_hash: String,
    pub role: Role,
    /// The township or village a township officer or village cadre works in.
    pub region_id: Option<i64>,
    /// The enterprise an enterprise user belongs to.
    pub enterprise_id: Option<i64>,
    pub is_active: bool,
    /// Raised to revoke every token issued before.
    pub token_version: i32,
    /// When an administrator last lifted the account's login locks: failed
    /// logins before it no longer count.
    pub locks_lifted_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
