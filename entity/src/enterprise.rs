//! `enterprise`: enterprises, cooperatives, family farms and large households (经营主体).

use sea_orm::entity::prelude::*;

use crate::enums::{EnterpriseKind, Industry};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "enterprise")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// Unified social credit code (统一社会信用代码), 18 characters with a GB 32100 check character.
    #[sea_orm(unique)]
    pub credit_code: String,
    pub kind: EnterpriseKind,
    pub industry: Industry,
    pub village_id: Option<i64>,
    /// Contact person (联系人).
    pub contact_person: Option<String>,
    /// Contact telephone (联系电话).
    pub contact_phone: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
