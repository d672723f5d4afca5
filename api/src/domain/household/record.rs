//! The exchange record (交换记录): one household's whole filing card with its
//! members, incomes, status history and plan, as the province and the county
//! exchange it (NDJSON carries it on one line; the exchange's CSV form
//! flattens it into rows). Keys are the GraphQL field names; enumerations
//! their stored values; money is in fen, exactly.

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{
    DilapidatedGrade, Education, Gender, Health, HouseholdAttribute, HouseholdStatus,
    IdentificationStandard, LabourAbility, MeasureCategory, MeasureStatus, MigrantWork,
    MonitoringCategory, PovertyCause, Relation, StatusAction, StudentStatus,
};
use entity::{household, household_income, measure, member, status_change};
use sea_orm::Set;
use serde::{Deserialize, Serialize};

use crate::domain::household::NewMember;
use crate::domain::lifecycle::Documented;
use crate::domain::node::global_id;

/// A household and everything on its card. Matched on import by `number`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HouseholdRecord {
    /// Household number (户编号): the village's code and a 5-digit sequence.
    pub number: String,
    /// Division code of the village (村代码).
    pub village: String,
    pub address: String,
    pub phone: Option<String>,
    pub attribute: HouseholdAttribute,
    pub identification_standard: IdentificationStandard,
    pub status: HouseholdStatus,
    pub enrolled_year: Option<i32>,
    pub lifted_out_year: Option<i32>,
    pub monitoring: Option<MonitoringCategory>,
    pub main_cause: PovertyCause,
    #[serde(default)]
    pub other_causes: Vec<PovertyCause>,
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
    #[serde(default)]
    pub members: Vec<MemberRecord>,
    #[serde(default)]
    pub incomes: Vec<IncomeRecord>,
    #[serde(default)]
    pub status_history: Vec<StatusRecord>,
    #[serde(default)]
    pub plan: Vec<MeasureRecord>,
}

/// A person on the card, current or former. Matched by `idNumber`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemberRecord {
    pub name: String,
    pub id_number: String,
    pub gender: Gender,
    pub relation: Relation,
    pub ethnicity: String,
    pub education: Education,
    pub student_status: StudentStatus,
    pub health: Health,
    pub disability_grade: Option<i16>,
    pub labour_ability: LabourAbility,
    pub migrant_work: MigrantWork,
    #[serde(default)]
    pub migrant_months: i16,
    pub basic_medical_insurance: bool,
    pub serious_illness_insurance: bool,
    pub basic_pension: bool,
    /// False for a member who has left the household (减少成员).
    pub active: bool,
}

/// One year's income, in fen. Matched by `year`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IncomeRecord {
    pub year: i32,
    pub wage_fen: i64,
    pub production_fen: i64,
    pub property_fen: i64,
    pub transfer_fen: i64,
    pub production_cost_fen: i64,
    pub household_size: i32,
}

/// One entry of the status history, oldest first; the history is append-only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusRecord {
    pub at: DateTime<Utc>,
    pub action: StatusAction,
    pub from_status: Option<HouseholdStatus>,
    pub to_status: HouseholdStatus,
    pub from_monitoring: Option<MonitoringCategory>,
    pub to_monitoring: Option<MonitoringCategory>,
    pub year: Option<i32>,
    /// The decision behind an enrolment or exit (决定文号), which a file must give.
    #[serde(default)]
    pub decision: Option<String>,
    pub reason: String,
    /// Who made the change, by name.
    pub actor: String,
}

/// One measure of the household's plan (帮扶措施). Matched by category and task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MeasureRecord {
    pub category: MeasureCategory,
    pub task: String,
    pub standard: String,
    pub responsible: String,
    pub deadline: NaiveDate,
    pub funds_fen: i64,
    pub status: MeasureStatus,
    pub completed_on: Option<NaiveDate>,
}

/// What the database holds of one household, read for export or compared on import.
pub struct Card {
    pub household: household::Model,
    pub village_code: String,
    pub other_causes: Vec<PovertyCause>,
    pub members: Vec<member::Model>,
    pub incomes: Vec<household_income::Model>,
    pub history: Vec<status_change::Model>,
    pub plan: Vec<measure::Model>,
}

impl From<&Card> for HouseholdRecord {
    fn from(card: &Card) -> Self {
        let h = &card.household;
        HouseholdRecord {
            number: h.number.clone(),
            village: card.village_code.clone(),
            address: h.address.clone(),
            phone: h.phone.clone(),
            attribute: h.attribute,
            identification_standard: h.standard,
            status: h.status,
            enrolled_year: h.enrolled_year,
            lifted_out_year: h.lifted_out_year,
            monitoring: h.monitoring,
            main_cause: h.main_cause,
            other_causes: card.other_causes.clone(),
            cultivated_land_mu: h.cultivated_land_mu,
            housing_area_m2: h.housing_area_m2,
            dilapidated_grade: h.dilapidated_grade,
            safe_drinking_water: h.safe_drinking_water,
            production_electricity: h.production_electricity,
            household_electricity: h.household_electricity,
            road_distance_km: h.road_distance_km,
            joined_cooperative: h.joined_cooperative,
            food_secure: h.food_secure,
            clothing_secure: h.clothing_secure,
            compulsory_education_secure: h.compulsory_education_secure,
            basic_medical_secure: h.basic_medical_secure,
            housing_secure: h.housing_secure,
            members: card.members.iter().map(MemberRecord::from).collect(),
            incomes: card.incomes.iter().map(IncomeRecord::from).collect(),
            status_history: card.history.iter().map(StatusRecord::from).collect(),
            plan: card.plan.iter().map(MeasureRecord::from).collect(),
        }
    }
}

/// A person as the file lists them, for the register's checks.
impl From<&MemberRecord> for NewMember {
    fn from(m: &MemberRecord) -> Self {
        NewMember {
            name: m.name.clone(),
            id_number: m.id_number.clone(),
            gender: Some(m.gender),
            relation: m.relation,
            ethnicity: m.ethnicity.clone(),
            education: m.education,
            student_status: m.student_status,
            health: m.health,
            disability_grade: m.disability_grade,
            labour_ability: m.labour_ability,
            migrant_work: m.migrant_work,
            migrant_months: m.migrant_months,
            basic_medical_insurance: m.basic_medical_insurance,
            serious_illness_insurance: m.serious_illness_insurance,
            basic_pension: m.basic_pension,
            active: m.active,
        }
    }
}

impl From<&member::Model> for MemberRecord {
    fn from(m: &member::Model) -> Self {
        MemberRecord {
            name: m.name.clone(),
            id_number: m.id_number.clone(),
            gender: m.gender,
            relation: m.relation,
            ethnicity: m.ethnicity.clone(),
            education: m.education,
            student_status: m.student_status,
            health: m.health,
            disability_grade: m.disability_grade,
            labour_ability: m.labour_ability,
            migrant_work: m.migrant_work,
            migrant_months: m.migrant_months,
            basic_medical_insurance: m.basic_medical_insurance,
            serious_illness_insurance: m.serious_illness_insurance,
            basic_pension: m.basic_pension,
            active: m.is_active,
        }
    }
}

impl From<&household_income::Model> for IncomeRecord {
    fn from(i: &household_income::Model) -> Self {
        IncomeRecord {
            year: i.year,
            wage_fen: i.wage_fen,
            production_fen: i.production_fen,
            property_fen: i.property_fen,
            transfer_fen: i.transfer_fen,
            production_cost_fen: i.production_cost_fen,
            household_size: i.household_size,
        }
    }
}

impl From<&status_change::Model> for StatusRecord {
    fn from(s: &status_change::Model) -> Self {
        StatusRecord {
            at: s.at,
            action: s.action,
            from_status: s.from_status,
            to_status: s.to_status,
            from_monitoring: s.from_monitoring,
            to_monitoring: s.to_monitoring,
            year: s.year,
            // A change made here by a proposal is documented by that proposal's decision.
            decision: s.decision.clone().or_else(|| {
                s.proposal_id
                    .map(|id| format!("proposal {}", global_id("Proposal", id)))
            }),
            reason: s.reason.clone(),
            actor: s.actor.clone(),
        }
    }
}

impl From<&measure::Model> for MeasureRecord {
    fn from(m: &measure::Model) -> Self {
        MeasureRecord {
            category: m.category,
            task: m.task.clone(),
            standard: m.standard.clone(),
            responsible: m.responsible.clone(),
            deadline: m.deadline,
            funds_fen: m.funds_fen,
            status: m.status,
            completed_on: m.completed_on,
        }
    }
}

impl IncomeRecord {
    /// The year's income row, its net income per person computed as the register does.
    pub fn row(
        &self,
        household_id: i64,
        version: i32,
        at: DateTime<Utc>,
    ) -> household_income::Model {
        let mut row = household_income::Model {
            household_id,
            year: self.year,
            wage_fen: self.wage_fen,
            production_fen: self.production_fen,
            property_fen: self.property_fen,
            transfer_fen: self.transfer_fen,
            production_cost_fen: self.production_cost_fen,
            household_size: self.household_size,
            per_capita_net_fen: 0,
            version,
            updated_at: at,
        };
        row.per_capita_net_fen =
            household_income::per_capita_net_fen(row.net_fen(), row.household_size);
        row
    }
}

impl StatusRecord {
    /// The entry as the lifecycle replays it.
    pub fn documented(&self) -> Documented<'_> {
        Documented {
            at: self.at,
            action: self.action,
            from_status: self.from_status,
            from_monitoring: self.from_monitoring,
            to_status: self.to_status,
            to_monitoring: self.to_monitoring,
            year: self.year,
            decision: self.decision.as_deref(),
            reason: &self.reason,
            actor: &self.actor,
        }
    }

    /// The history entry to append; an imported entry was made by no user of this register.
    pub fn row(&self, household_id: i64) -> status_change::ActiveModel {
        status_change::ActiveModel {
            household_id: Set(household_id),
            action: Set(self.action),
            from_status: Set(self.from_status),
            to_status: Set(self.to_status),
            from_monitoring: Set(self.from_monitoring),
            to_monitoring: Set(self.to_monitoring),
            year: Set(self.year),
            decision: Set(self.decision.as_deref().map(str::trim).map(str::to_owned)),
            reason: Set(self.reason.clone()),
            proposal_id: Set(None),
            actor_id: Set(None),
            actor: Set(self.actor.trim().to_owned()),
            at: Set(self.at),
            ..Default::default()
        }
    }
}

impl MeasureRecord {
    /// The measure's row, new (no ID) at `version` 1 or on top of one on file.
    pub fn row(&self, household_id: i64, version: i32, at: DateTime<Utc>) -> measure::ActiveModel {
        measure::ActiveModel {
            household_id: Set(household_id),
            category: Set(self.category),
            task: Set(self.task.clone()),
            standard: Set(self.standard.clone()),
            responsible: Set(self.responsible.clone()),
            deadline: Set(self.deadline),
            funds_fen: Set(self.funds_fen),
            status: Set(self.status),
            completed_on: Set(self.completed_on),
            version: Set(version),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        }
    }
}
