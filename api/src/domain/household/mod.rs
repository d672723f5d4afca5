//! A household's filing card (建档立卡) as the register accepts it: a card's
//! fields and its members as they come in, the checks of a member, of causes
//! and incomes, and of who may be on file where. The mutations, the provincial
//! import and the seed all build their rows here, so a card reads the same
//! whichever way it came in; `change` holds the edits of a card on file.

pub mod change;
pub mod duplicate;
pub mod import;
pub mod record;

use chrono::{DateTime, Datelike, Utc};
use entity::enums::{
    DilapidatedGrade, Education, Gender, Health, HouseholdAttribute, HouseholdStatus,
    IdentificationStandard, LabourAbility, MigrantWork, PovertyCause, Relation, StudentStatus,
};
use entity::{ethnicity, household, household_cause, member};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::calendar;
use super::text::{free_text, phone, required_text};
use crate::access::{self, Viewer};
use crate::codes::check_id_number;
use crate::error::{ApiError, ApiResult};

/// The most characters of a home address.
const MAX_ADDRESS_CHARS: usize = 200;

/// A person as a card lists them, before the checks.
pub struct NewMember {
    pub name: String,
    pub id_number: String,
    /// Taken from the ID number when not given.
    pub gender: Option<Gender>,
    pub relation: Relation,
    /// GB/T 3304 code.
    pub ethnicity: String,
    pub education: Education,
    pub student_status: StudentStatus,
    pub health: Health,
    pub disability_grade: Option<i16>,
    pub labour_ability: LabourAbility,
    pub migrant_work: MigrantWork,
    pub migrant_months: i16,
    pub basic_medical_insurance: bool,
    pub serious_illness_insurance: bool,
    pub basic_pension: bool,
    /// False for a person who has left the household (kept on the card).
    pub active: bool,
}

impl NewMember {
    /// The member's row in `household_id`, checked whole; `field` names the
    /// person in errors.
    pub fn parse(
        self,
        field: &str,
        household_id: i64,
        now: DateTime<Utc>,
    ) -> ApiResult<member::Model> {
        let gender = self.gender.or_else(|| {
            check_id_number(self.id_number.trim(), calendar::today())
                .ok()
                .map(|facts| facts.gender)
        });
        let mut row = member::Model {
            id: 0,
            household_id,
            name: self.name,
            // A wrong guess is refused by the check against the ID number.
            gender: gender.unwrap_or(Gender::Male),
            id_number: self.id_number,
            relation: self.relation,
            ethnicity: self.ethnicity.trim().to_owned(),
            education: self.education,
            student_status: self.student_status,
            health: self.health,
            disability_grade: self.disability_grade,
            labour_ability: self.labour_ability,
            migrant_work: self.migrant_work,
            migrant_months: self.migrant_months,
            basic_medical_insurance: self.basic_medical_insurance,
            serious_illness_insurance: self.serious_illness_insurance,
            basic_pension: self.basic_pension,
            is_active: self.active,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        check_member(field, &mut row)?;
        Ok(row)
    }
}

/// Production and living conditions (生产生活条件).
pub struct Conditions {
    pub cultivated_land_mu: f64,
    pub housing_area_m2: f64,
    pub dilapidated_grade: Option<DilapidatedGrade>,
    pub safe_drinking_water: bool,
    pub production_electricity: bool,
    pub household_electricity: bool,
    pub road_distance_km: f64,
    pub joined_cooperative: bool,
}

impl Conditions {
    /// Writes the conditions onto a card, checked; `at` prefixes the fields'
    /// names in errors.
    pub fn write_onto(&self, at: &str, card: &mut household::Model) -> ApiResult<()> {
        let mut errors = Vec::new();
        let mut checked =
            |name: &str, value: f64, into: &mut f64| match amount(&format!("{at}{name}"), value) {
                Ok(value) => *into = value,
                Err(error) => errors.push(error),
            };
        checked(
            "cultivatedLandMu",
            self.cultivated_land_mu,
            &mut card.cultivated_land_mu,
        );
        checked(
            "housingAreaM2",
            self.housing_area_m2,
            &mut card.housing_area_m2,
        );
        checked(
            "roadDistanceKm",
            self.road_distance_km,
            &mut card.road_distance_km,
        );
        card.dilapidated_grade = self.dilapidated_grade;
        card.safe_drinking_water = self.safe_drinking_water;
        card.production_electricity = self.production_electricity;
        card.household_electricity = self.household_electricity;
        card.joined_cooperative = self.joined_cooperative;
        ApiError::gather(errors)
    }
}

/// The "two no-worries, three guarantees" (两不愁三保障); water is in the conditions.
pub struct Guarantees {
    pub food: bool,
    pub clothing: bool,
    pub compulsory_education: bool,
    pub basic_medical: bool,
    pub safe_housing: bool,
}

impl Guarantees {
    pub fn write_onto(&self, card: &mut household::Model) {
        card.food_secure = self.food;
        card.clothing_secure = self.clothing;
        card.compulsory_education_secure = self.compulsory_education;
        card.basic_medical_secure = self.basic_medical;
        card.housing_secure = self.safe_housing;
    }
}

/// What a card says of a household besides its members, causes and status.
pub struct CardFields {
    pub address: String,
    pub phone: Option<String>,
    pub attribute: HouseholdAttribute,
    pub standard: IdentificationStandard,
    pub main_cause: PovertyCause,
    pub conditions: Conditions,
    pub guarantees: Guarantees,
}

impl CardFields {
    /// Writes the fields onto a card, checked; `conditions_at` prefixes the
    /// conditions' names in errors.
    pub fn write_onto(&self, conditions_at: &str, card: &mut household::Model) -> ApiResult<()> {
        let mut errors = Vec::new();
        match address(&self.address) {
            Ok(address) => card.address = address,
            Err(error) => errors.push(error),
        }
        match phone("phone", self.phone.as_deref()) {
            Ok(phone) => card.phone = phone,
            Err(error) => errors.push(error),
        }
        card.attribute = self.attribute;
        card.standard = self.standard;
        card.main_cause = self.main_cause;
        errors.extend(self.conditions.write_onto(conditions_at, card).err());
        self.guarantees.write_onto(card);
        ApiError::gather(errors)
    }

    /// A new card numbered `number` in a village, filed as not poor: it is
    /// enrolled only through identification with public notice.
    pub fn new_card(
        &self,
        conditions_at: &str,
        number: String,
        village_id: i64,
        now: DateTime<Utc>,
    ) -> ApiResult<household::Model> {
        let mut card = household::Model {
            id: 0,
            number,
            village_id,
            address: String::new(),
            phone: None,
            attribute: self.attribute,
            standard: self.standard,
            status: HouseholdStatus::NotPoor,
            enrolled_year: None,
            lifted_out_year: None,
            monitoring: None,
            main_cause: self.main_cause,
            cultivated_land_mu: 0.0,
            housing_area_m2: 0.0,
            dilapidated_grade: None,
            safe_drinking_water: false,
            production_electricity: false,
            household_electricity: false,
            road_distance_km: 0.0,
            joined_cooperative: false,
            food_secure: false,
            clothing_secure: false,
            compulsory_education_secure: false,
            basic_medical_secure: false,
            housing_secure: false,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.write_onto(conditions_at, &mut card)?;
        Ok(card)
    }
}

/// A household the caller reaches.
pub async fn reachable_household(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<household::Model> {
    access::select::<household::Entity>(viewer)
        .filter(household::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("Household"))
}

/// A home address: required, at most 200 characters.
pub fn address(text: &str) -> ApiResult<String> {
    free_text("address", text, MAX_ADDRESS_CHARS)
}

/// An area or distance on the card: a number not below zero.
pub fn amount(field: &str, value: f64) -> ApiResult<f64> {
    if !value.is_finite() || value < 0.0 {
        return Err(ApiError::bad_input(
            field,
            format!("`{field}` must be a number not below zero"),
        ));
    }
    Ok(value)
}

/// A member row checked whole: the ID number and what it encodes, the grade
/// that goes with a disability, months that go with migrant work.
pub fn check_member(field: &str, m: &mut member::Model) -> ApiResult<()> {
    let at = |name: &str| format!("{field}.{name}");
    let mut errors = Vec::new();
    match required_text(&m.name, &at("name"), 64) {
        Ok(name) => m.name = name,
        Err(error) => errors.push(error),
    }
    m.id_number = m.id_number.trim().to_uppercase();
    match check_id_number(&m.id_number, calendar::today()) {
        Ok(facts) if facts.gender != m.gender => errors.push(ApiError::bad_input(
            at("gender"),
            format!(
                "the ID number encodes {:?}, the gender given is {:?}",
                facts.gender, m.gender
            ),
        )),
        Ok(_) => {}
        Err(message) => errors.push(ApiError::bad_input(at("idNumber"), message)),
    }
    if ethnicity::name_of(&m.ethnicity).is_none() {
        errors.push(ApiError::bad_input(
            at("ethnicity"),
            format!("`{}` is not a GB/T 3304 ethnicity code", m.ethnicity),
        ));
    }
    match (m.health, m.disability_grade) {
        (Health::Disabled, Some(1..=4)) | (Health::Healthy, None) => {}
        (Health::ChronicIllness | Health::SeriousIllness, None) => {}
        (Health::Disabled, _) => errors.push(ApiError::bad_input(
            at("disabilityGrade"),
            "a disabled member needs a disability grade from 1 to 4",
        )),
        (_, Some(_)) => errors.push(ApiError::bad_input(
            at("disabilityGrade"),
            "a disability grade goes only with health DISABLED",
        )),
    }
    let months_ok = match m.migrant_work {
        MigrantWork::None => m.migrant_months == 0,
        _ => (1..=12).contains(&m.migrant_months),
    };
    if !months_ok {
        errors.push(ApiError::bad_input(
            at("migrantMonths"),
            "migrant months are 1 to 12 for a migrant worker, 0 otherwise",
        ));
    }
    ApiError::gather(errors)
}

/// The main cause is not also among the others.
pub fn check_causes(main: PovertyCause, others: &[PovertyCause]) -> ApiResult<()> {
    if others.contains(&main) {
        return Err(ApiError::bad_input(
            "otherCauses",
            "the main cause is not also another cause",
        ));
    }
    Ok(())
}

/// Replaces a household's other causes, checked against its main one.
pub async fn replace_causes(
    db: &impl ConnectionTrait,
    household_id: i64,
    main: PovertyCause,
    others: &[PovertyCause],
) -> ApiResult<()> {
    check_causes(main, others)?;
    household_cause::Entity::delete_many()
        .filter(household_cause::Column::HouseholdId.eq(household_id))
        .exec(db)
        .await?;
    let mut others = others.to_vec();
    others.sort();
    others.dedup();
    for cause in others {
        household_cause::ActiveModel {
            household_id: Set(household_id),
            cause: Set(cause),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// The rules of a year's income, for `setIncome` and imports alike: a year
/// from 2013 (the first of the filing cards) to this one; no amount negative.
pub fn check_income(year: (&str, i32), amounts: [(&str, i64); 5]) -> ApiResult<()> {
    let this_year = calendar::today().year();
    if !(2013..=this_year).contains(&year.1) {
        return Err(ApiError::bad_input(
            year.0,
            format!("a year from 2013 to {this_year}"),
        ));
    }
    for (field, value) in amounts {
        if value < 0 {
            return Err(ApiError::bad_input(
                field,
                "incomes and costs are not negative",
            ));
        }
    }
    Ok(())
}

/// A household has exactly one current head, and lists no person twice;
/// `named(i)` is how errors name the i-th member.
pub fn check_members(members: &[member::Model], named: impl Fn(usize) -> String) -> ApiResult<()> {
    for (i, m) in members.iter().enumerate() {
        if members[..i]
            .iter()
            .any(|before| before.id_number == m.id_number)
        {
            return Err(ApiError::bad_input(
                format!("{}.idNumber", named(i)),
                "the same person is listed twice",
            ));
        }
    }
    let heads = members
        .iter()
        .filter(|m| m.is_active && m.relation == Relation::Head)
        .count();
    if heads != 1 {
        return Err(ApiError::bad_input(
            "members",
            format!("a household has exactly one current head, this one has {heads}"),
        ));
    }
    Ok(())
}
