//! The filing card through time: snapshots of its records keyed by their
//! GraphQL fields (for the audit trail and conflict errors, shaped by the field
//! policy), and card revisions, kept before and after every change of a card,
//! from which what the card said on a given day is rebuilt.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{card_revision, household, household_income, member};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::calendar;
use crate::error::{ApiError, ApiResult};

/// A household as the audit trail records it.
pub fn household_snapshot(h: &household::Model) -> Value {
    json!({
        "number": h.number,
        "village": h.village_id,
        "address": h.address,
        "phone": h.phone,
        "attribute": h.attribute,
        "identificationStandard": h.standard,
        "status": h.status,
        "enrolledYear": h.enrolled_year,
        "liftedOutYear": h.lifted_out_year,
        "monitoring": h.monitoring,
        "mainCause": h.main_cause,
        "conditions": {
            "cultivatedLandMu": h.cultivated_land_mu,
            "housingAreaM2": h.housing_area_m2,
            "dilapidatedGrade": h.dilapidated_grade,
            "safeDrinkingWater": h.safe_drinking_water,
            "productionElectricity": h.production_electricity,
            "householdElectricity": h.household_electricity,
            "roadDistanceKm": h.road_distance_km,
            "joinedCooperative": h.joined_cooperative,
        },
        "guarantees": {
            "food": h.food_secure,
            "clothing": h.clothing_secure,
            "compulsoryEducation": h.compulsory_education_secure,
            "basicMedical": h.basic_medical_secure,
            "safeHousing": h.housing_secure,
        },
        "version": h.version,
    })
}

/// A member as the audit trail records it.
pub fn member_snapshot(m: &member::Model) -> Value {
    json!({
        "household": m.household_id,
        "name": m.name,
        "gender": m.gender,
        "idNumber": m.id_number,
        "relation": m.relation,
        "ethnicity": m.ethnicity,
        "education": m.education,
        "studentStatus": m.student_status,
        "health": m.health,
        "disabilityGrade": m.disability_grade,
        "labourAbility": m.labour_ability,
        "migrantWork": m.migrant_work,
        "migrantMonths": m.migrant_months,
        "basicMedicalInsurance": m.basic_medical_insurance,
        "seriousIllnessInsurance": m.serious_illness_insurance,
        "basicPension": m.basic_pension,
        "active": m.is_active,
        "version": m.version,
    })
}

/// A year's income as the audit trail records it, in fen.
pub fn income_snapshot(i: &household_income::Model) -> Value {
    json!({
        "year": i.year,
        "wage": i.wage_fen,
        "production": i.production_fen,
        "property": i.property_fen,
        "transfer": i.transfer_fen,
        "productionCost": i.production_cost_fen,
        "householdSize": i.household_size,
        "perCapitaNet": i.per_capita_net_fen,
    })
}

/// What a card revision stores.
#[derive(Serialize, Deserialize)]
pub struct Card {
    pub household: household::Model,
    pub members: Vec<member::Model>,
    pub incomes: Vec<household_income::Model>,
}

async fn current_card(db: &impl ConnectionTrait, household_id: i64) -> ApiResult<Card> {
    let household = household::Entity::find_by_id(household_id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("Household"))?;
    let members = member::Entity::find()
        .filter(member::Column::HouseholdId.eq(household_id))
        .filter(member::Column::IsActive.eq(true))
        .order_by_asc(member::Column::Id)
        .all(db)
        .await?;
    let incomes = household_income::Entity::find()
        .filter(household_income::Column::HouseholdId.eq(household_id))
        .order_by_asc(household_income::Column::Year)
        .all(db)
        .await?;
    Ok(Card {
        household,
        members,
        incomes,
    })
}

async fn insert_revision(
    db: &impl ConnectionTrait,
    household_id: i64,
    at: DateTime<Utc>,
    card: &Card,
) -> ApiResult<()> {
    let card = serde_json::to_string(card)
        .map_err(|e| ApiError::Internal(format!("serialising a card: {e}")))?;
    card_revision::ActiveModel {
        household_id: Set(household_id),
        at: Set(at),
        card: Set(card),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Call inside a change's transaction before the card changes: a card with no
/// revision yet (seeded or imported) first gets one for how it stood since it was filed.
pub async fn keep_before_change(db: &impl ConnectionTrait, household_id: i64) -> ApiResult<()> {
    let revisions = card_revision::Entity::find()
        .filter(card_revision::Column::HouseholdId.eq(household_id))
        .count(db)
        .await?;
    if revisions == 0 {
        let card = current_card(db, household_id).await?;
        insert_revision(db, household_id, card.household.created_at, &card).await?;
    }
    Ok(())
}

/// Call inside a change's transaction after the card changed: records what it says now.
pub async fn record_change(db: &impl ConnectionTrait, household_id: i64) -> ApiResult<()> {
    let card = current_card(db, household_id).await?;
    insert_revision(db, household_id, Utc::now(), &card).await
}

/// What a household's card said at the end of the county's day `date`.
pub struct CardAsOf {
    /// The day asked about.
    pub date: NaiveDate,
    /// When the card last changed before the end of that day.
    pub since: DateTime<Utc>,
    pub card: Card,
}

/// What the card said at the end of the county's day `date`, if the household
/// was on file then.
pub async fn card_as_of(
    db: &impl ConnectionTrait,
    household: &household::Model,
    date: NaiveDate,
) -> ApiResult<Option<CardAsOf>> {
    if date.succ_opt().is_none() {
        return Err(ApiError::bad_input("date", "date out of range"));
    }
    let end_of_day = calendar::end_of(date);
    let revision = card_revision::Entity::find()
        .filter(card_revision::Column::HouseholdId.eq(household.id))
        .filter(card_revision::Column::At.lt(end_of_day))
        .order_by_desc(card_revision::Column::At)
        .order_by_desc(card_revision::Column::Id)
        .one(db)
        .await?;
    let card = match revision {
        Some(revision) => {
            let card: Card = serde_json::from_str(&revision.card)
                .map_err(|e| ApiError::Internal(format!("reading card revision: {e}")))?;
            Some((card, revision.at))
        }
        None if household.created_at < end_of_day => {
            let revisions = card_revision::Entity::find()
                .filter(card_revision::Column::HouseholdId.eq(household.id))
                .count(db)
                .await?;
            // Unchanged since filed: the card as it is now.
            if revisions == 0 {
                let card = current_card(db, household.id).await?;
                let at = card.household.created_at;
                Some((card, at))
            } else {
                None
            }
        }
        None => None,
    };
    Ok(card.map(|(card, since)| CardAsOf { date, since, card }))
}
