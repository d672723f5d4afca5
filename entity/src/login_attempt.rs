//! `login_attempt`: every login, failed or not (登录记录). A row is written
//! before the password is checked (`checking`) and finalised once, with the
//! outcome; rows are never deleted.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "login_attempt")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The name given, whether or not such a user exists.
    pub username: String,
    pub user_id: Option<i64>,
    pub succeeded: bool,
    /// Why it failed: `bad_credentials`, `disabled` (the right password of a
    /// disabled account), `locked` (too many failures from this source),
    /// `unknown_source` (refused while the account is under attack), or
    /// `checking` while the password is being checked.
    pub failure: Option<String>,
    pub at: DateTimeUtc,
    /// The client's IP address; none for attempts recorded before sources were.
    pub source: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
