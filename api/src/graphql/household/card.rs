//! The filing card through time: snapshots of its records keyed by their
//! GraphQL fields (for the audit trail and conflict errors, shaped by the field
//! policy), and card revisions, from which `Household.cardAsOf` rebuilds what
//! the card said on a given day.

use async_graphql::Object;
use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{HouseholdStatus, MonitoringCategory, Relation};
use entity::{card_revision, household, household_income, member};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{HouseholdIncome, Member};
use crate::domain::calendar;
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
struct Card {
    household: household::Model,
    members: Vec<member::Model>,
    incomes: Vec<household_income::Model>,
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

/// A household's filing card as it stood on a given day (某日档案).
pub struct CardAsOf {
    date: NaiveDate,
    since: DateTime<Utc>,
    card: Card,
}

/// What a household's filing card said on a given day, rebuilt from its revisions (历史档案).
#[Object]
impl CardAsOf {
    /// The day asked about (查询日期).
    async fn date(&self) -> NaiveDate {
        self.date
    }
    /// When the card last changed before the end of that day (本版本生效时间).
    async fn since(&self) -> DateTime<Utc> {
        self.since
    }
    /// Poverty status then (贫困状态).
    async fn status(&self) -> HouseholdStatus {
        self.card.household.status
    }
    /// Year lifted out, if it was by then (脱贫年度).
    async fn lifted_out_year(&self) -> Option<i32> {
        self.card.household.lifted_out_year
    }
    /// Monitoring category then (监测类别).
    async fn monitoring(&self) -> Option<MonitoringCategory> {
        self.card.household.monitoring
    }
    /// Year enrolled, if it was by then (识别年度).
    async fn enrolled_year(&self) -> Option<i32> {
        self.card.household.enrolled_year
    }
    /// Members then, the head first (家庭成员).
    async fn members(&self) -> Vec<Member> {
        let mut members = self.card.members.clone();
        members.sort_by_key(|m| (m.relation != Relation::Head, m.id));
        members.into_iter().map(Member).collect()
    }
    /// Incomes recorded by then, oldest first (年度收入).
    async fn incomes(&self) -> Vec<HouseholdIncome> {
        self.card
            .incomes
            .iter()
            .cloned()
            .map(HouseholdIncome)
            .collect()
    }
}
