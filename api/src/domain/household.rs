//! A household's filing card (建档立卡) as the register accepts it: the checks
//! of a member, of causes and incomes, and of who may be on file where. The
//! mutations and the provincial import both call these, so a card reads the
//! same whichever way it came in.

use chrono::Datelike;
use entity::enums::{Health, MigrantWork, PovertyCause, Relation};
use entity::{ethnicity, household, household_cause, member};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::calendar;
use super::text::required_text;
use crate::codes::check_id_number;
use crate::error::{ApiError, ApiResult};

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
    m.name = required_text(&m.name, &at("name"), 64)?;
    m.id_number = m.id_number.trim().to_uppercase();
    let facts = check_id_number(&m.id_number, calendar::today())
        .map_err(|message| ApiError::bad_input(at("idNumber"), message))?;
    if facts.gender != m.gender {
        return Err(ApiError::bad_input(
            at("gender"),
            format!(
                "the ID number encodes {:?}, the gender given is {:?}",
                facts.gender, m.gender
            ),
        ));
    }
    if ethnicity::name_of(&m.ethnicity).is_none() {
        return Err(ApiError::bad_input(
            at("ethnicity"),
            format!("`{}` is not a GB/T 3304 ethnicity code", m.ethnicity),
        ));
    }
    match (m.health, m.disability_grade) {
        (Health::Disabled, Some(1..=4)) | (Health::Healthy, None) => {}
        (Health::ChronicIllness | Health::SeriousIllness, None) => {}
        (Health::Disabled, _) => {
            return Err(ApiError::bad_input(
                at("disabilityGrade"),
                "a disabled member needs a disability grade from 1 to 4",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::bad_input(
                at("disabilityGrade"),
                "a disability grade goes only with health DISABLED",
            ));
        }
    }
    let months_ok = match m.migrant_work {
        MigrantWork::None => m.migrant_months == 0,
        _ => (1..=12).contains(&m.migrant_months),
    };
    if !months_ok {
        return Err(ApiError::bad_input(
            at("migrantMonths"),
            "migrant months are 1 to 12 for a migrant worker, 0 otherwise",
        ));
    }
    Ok(())
}

/// Refuses a person already active in a household (other than as `except`).
pub async fn ensure_not_on_file(
    db: &impl ConnectionTrait,
    field: &str,
    id_number: &str,
    except: Option<i64>,
) -> ApiResult<()> {
    let mut existing = member::Entity::find()
        .filter(member::Column::IdNumber.eq(id_number))
        .filter(member::Column::IsActive.eq(true));
    if let Some(id) = except {
        existing = existing.filter(member::Column::Id.ne(id));
    }
    if let Some(other) = existing.one(db).await? {
        let number = household::Entity::find_by_id(other.household_id)
            .one(db)
            .await?
            .map(|h| h.number)
            .unwrap_or_default();
        return Err(ApiError::bad_input(
            field,
            format!("this person is already a member of household {number}; move them instead"),
        ));
    }
    Ok(())
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
