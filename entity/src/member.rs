//! `member`: a person on a household's filing card (家庭成员).

use sea_orm::entity::prelude::*;

use crate::enums::{
    Education, Gender, Health, LabourAbility, MigrantWork, Relation as Kinship, StudentStatus,
};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "member")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    pub name: String,
    pub gender: Gender,
    /// Resident ID number (居民身份证号), 18 characters with a GB 11643 check digit.
    pub id_number: String,
    pub relation: Kinship,
    /// GB/T 3304 ethnicity code, see [`crate::ethnicity`].
    pub ethnicity: String,
    pub education: Education,
    pub student_status: StudentStatus,
    pub health: Health,
    /// Disability grade 1 (most severe) to 4, only when `health` is disabled.
    pub disability_grade: Option<i16>,
    pub labour_ability: LabourAbility,
    pub migrant_work: MigrantWork,
    pub migrant_months: i16,
    pub basic_medical_insurance: bool,
    pub serious_illness_insurance: bool,
    pub basic_pension: bool,
    /// False once the person has left the household; a person has at most one active membership.
    pub is_active: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
