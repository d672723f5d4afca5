//! `household`: the filing card (建档立卡) of a poor household, less its members,
//! other causes and yearly incomes, which have tables of their own.

use sea_orm::entity::prelude::*;

use crate::enums::{
    DilapidatedGrade, HouseholdAttribute, HouseholdStatus, IdentificationStandard,
    MonitoringCategory, PovertyCause,
};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "household")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Household number (户编号): the village code followed by a 5-digit sequence.
    #[sea_orm(unique)]
    pub number: String,
    pub village_id: i64,
    pub address: String,
    pub phone: Option<String>,
    pub attribute: HouseholdAttribute,
    pub standard: IdentificationStandard,
    pub status: HouseholdStatus,
    /// Year the household was identified and enrolled (识别年度); none for a
    /// household on file that was never enrolled.
    pub enrolled_year: Option<i32>,
    /// Year it was lifted out (脱贫年度), if it was.
    pub lifted_out_year: Option<i32>,
    pub monitoring: Option<MonitoringCategory>,
    pub main_cause: PovertyCause,
    pub cultivated_land_mu: f64,
    pub housing_area_m2: f64,
    pub dilapidated_grade: Option<DilapidatedGrade>,
    pub safe_drinking_water: bool,
    pub production_electricity: bool,
    pub household_electricity: bool,
    pub road_distance_km: f64,
    pub joined_cooperative: bool,
    pub food_secure: bool,
    pub clothing_secure: bool,
    pub compulsory_education_secure: bool,
    pub basic_medical_secure: bool,
    pub housing_secure: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
