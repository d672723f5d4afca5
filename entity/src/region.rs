//! `region`: the county, its townships and their villages in one table, keyed by
//! statistical division code (统计用区划代码); a subtree is a code prefix.

use sea_orm::entity::prelude::*;

use crate::enums::RegionLevel;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "region")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// 12-digit division code; county codes end in six zeros, townships in three.
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    pub parent_id: Option<i64>,
    /// Village only: designated poverty village (贫困村).
    pub is_poverty_village: bool,
    /// Village only: year the poverty village exited (出列).
    pub exit_year: Option<i32>,
    /// Village only: rural registered population (农村户籍人口).
    pub rural_population: Option<i32>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Village only: collective economy income (村集体经济收入) in fen, for `collective_income_year`.
    pub collective_income_fen: Option<i64>,
    pub collective_income_year: Option<i32>,
    /// Village only: the day it was retired (撤销), merged into another or emptied;
    /// it keeps its history and takes no more households.
    pub retired_on: Option<Date>,
    /// Village only: the village it was merged into (并入村), if it was.
    pub merged_into_id: Option<i64>,
    /// Village only, as last surveyed (村情), each unknown until recorded:
    /// a hardened road to the village (通硬化路),
    pub hardened_road: Option<bool>,
    /// safe drinking water for all (饮水安全),
    pub safe_drinking_water: Option<bool>,
    /// grid power for living and production (通动力电),
    pub grid_power: Option<bool>,
    /// a standard clinic with a qualified doctor (标准化卫生室),
    pub standard_clinic: Option<bool>,
    /// a school within reach for compulsory education (义务教育就学有保障),
    pub school_within_reach: Option<bool>,
    /// broadband (通宽带),
    pub broadband: Option<bool>,
    /// and the day of that survey.
    pub surveyed_on: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
