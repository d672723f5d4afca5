//! The checks of a household record, the rules of the mutations it stands
//! for, made before anything is written.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use entity::enums::{MeasureStatus, PovertyCause};
use entity::{household, member, region};

use crate::domain::household::record::{
    HouseholdRecord, IncomeRecord, MeasureRecord, MemberRecord, StatusRecord,
};
use crate::domain::household::{
    CardFields, Conditions, Guarantees, NewMember, check_causes, check_income, check_members,
};
use crate::domain::lifecycle::{self, Standing};
use crate::domain::plan::{MAX_RESPONSIBLE_CHARS, MAX_TASK_CHARS, check_deadline};
use crate::domain::region as region_rules;
use crate::domain::text::free_text;
use crate::error::{ApiError, ApiResult};

/// A household record that passed the checks, as the rows it writes.
pub struct Checked {
    /// The card on top of the one on file (with its ID, version and times), if any.
    pub household: household::Model,
    /// The ID a new card is written under: one the import reserved, or else
    /// the sequence's next.
    pub id: Option<i64>,
    /// In the file's order, not yet given their household.
    pub members: Vec<member::Model>,
    /// The causes besides the main one, each once, in order.
    pub other_causes: Vec<PovertyCause>,
    pub incomes: Vec<IncomeRecord>,
    pub history: Vec<StatusRecord>,
    pub plan: Vec<MeasureRecord>,
}

/// Checks a record against the household on file under its number, if any.
pub fn check(
    villages: &HashMap<String, region::Model>,
    record: HouseholdRecord,
    existing: Option<&household::Model>,
    now: DateTime<Utc>,
) -> ApiResult<Checked> {
    let village = villages.get(record.village.trim()).ok_or_else(|| {
        ApiError::bad_input(
            "village",
            format!("no village {} in your reach", record.village),
        )
    })?;
    // A household already there stays on file; none is filed or moved in.
    if existing.is_none_or(|h| h.village_id != village.id) {
        region_rules::takes_households(village, "village")?;
    }
    let number = record.number.trim();
    // A household keeps its number when it moves; a new one is numbered in its village.
    if existing.is_none()
        && (number.len() != 17
            || !number.starts_with(&village.code)
            || !number.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ApiError::bad_input(
            "number",
            "a new household's number is its village's 12-digit code and 5 digits",
        ));
    }
    let household = card_row(&record, village, existing, now)?;
    let members = checked_members(&record.members, now)?;
    check_incomes(&record.incomes)?;
    check_history(&record)?;
    if existing.is_none() {
        check_status(&record, Standing::FILED, 0)?;
    }
    let plan = checked_plan(&record.plan)?;
    check_causes(household.main_cause, &record.other_causes)?;
    let mut other_causes = record.other_causes;
    other_causes.sort();
    other_causes.dedup();
    Ok(Checked {
        household,
        id: None,
        members,
        other_causes,
        incomes: record.incomes,
        history: record.status_history,
        plan,
    })
}

/// The household row a record describes, on top of the one on file, if any.
fn card_row(
    r: &HouseholdRecord,
    village: &region::Model,
    existing: Option<&household::Model>,
    now: DateTime<Utc>,
) -> ApiResult<household::Model> {
    let fields = CardFields {
        address: r.address.clone(),
        phone: r.phone.clone(),
        attribute: r.attribute,
        standard: r.identification_standard,
        main_cause: r.main_cause,
        conditions: Conditions {
            cultivated_land_mu: r.cultivated_land_mu,
            housing_area_m2: r.housing_area_m2,
            dilapidated_grade: r.dilapidated_grade,
            safe_drinking_water: r.safe_drinking_water,
            production_electricity: r.production_electricity,
            household_electricity: r.household_electricity,
            road_distance_km: r.road_distance_km,
            joined_cooperative: r.joined_cooperative,
        },
        guarantees: Guarantees {
            food: r.food_secure,
            clothing: r.clothing_secure,
            compulsory_education: r.compulsory_education_secure,
            basic_medical: r.basic_medical_secure,
            safe_housing: r.housing_secure,
        },
    };
    let number = r.number.trim().to_owned();
    let mut card = match existing {
        Some(on_file) => {
            let mut card = on_file.clone();
            fields.write_onto("", &mut card)?;
            card.number = number;
            card.village_id = village.id;
            card
        }
        None => fields.new_card("", number, village.id, now)?,
    };
    // Where the documented history leads, as `check_status` makes sure.
    card.status = r.status;
    card.enrolled_year = r.enrolled_year;
    card.lifted_out_year = r.lifted_out_year;
    card.monitoring = r.monitoring;
    Ok(card)
}

/// The members as rows, checked as `addMember` checks them: one current
/// head, no person twice.
fn checked_members(records: &[MemberRecord], now: DateTime<Utc>) -> ApiResult<Vec<member::Model>> {
    let rows = records
        .iter()
        .enumerate()
        .map(|(i, m)| NewMember::from(m).parse(&format!("members[{i}]"), 0, now))
        .collect::<ApiResult<Vec<_>>>()?;
    check_members(&rows, |i| format!("members[{i}]"))?;
    Ok(rows)
}

fn check_incomes(incomes: &[IncomeRecord]) -> ApiResult<()> {
    let mut years = BTreeSet::new();
    for (i, income) in incomes.iter().enumerate() {
        let at = |name: &str| format!("incomes[{i}].{name}");
        let (year, wage, production, property, transfer, cost) = (
            at("year"),
            at("wageFen"),
            at("productionFen"),
            at("propertyFen"),
            at("transferFen"),
            at("productionCostFen"),
        );
        check_income(
            (&year, income.year),
            [
                (&wage, income.wage_fen),
                (&production, income.production_fen),
                (&property, income.property_fen),
                (&transfer, income.transfer_fen),
                (&cost, income.production_cost_fen),
            ],
        )?;
        if income.household_size < 1 {
            return Err(ApiError::bad_input(
                at("householdSize"),
                "the household size is at least 1",
            ));
        }
        if !years.insert(income.year) {
            return Err(ApiError::bad_input(year, "the same year is listed twice"));
        }
    }
    Ok(())
}

/// A history is in time order.
fn check_history(record: &HouseholdRecord) -> ApiResult<()> {
    for (i, pair) in record.status_history.windows(2).enumerate() {
        if pair[1].at < pair[0].at {
            return Err(ApiError::bad_input(
                format!("statusHistory[{}].at", i + 1),
                "the history is oldest first",
            ));
        }
    }
    Ok(())
}

/// The status a record states must be where its history leads: the entries
/// after the first `on_file` are replayed through the lifecycle from where the
/// household stands (`from`), so a file moves a status only as the procedure
/// would, each move documented.
pub(super) fn check_status(
    record: &HouseholdRecord,
    from: Standing,
    on_file: usize,
) -> ApiResult<()> {
    let entries: Vec<_> = record.status_history[on_file..]
        .iter()
        .map(StatusRecord::documented)
        .collect();
    let to = lifecycle::replay(from, &entries).map_err(|refused| {
        ApiError::bad_input(
            format!(
                "statusHistory[{}].{}",
                on_file + refused.entry,
                refused.field
            ),
            refused.reason,
        )
    })?;
    let leads_to = |what: &str| {
        format!(
            "{what} changes only by the documented changes of `statusHistory`, which lead to {}{}, enrolled {}, lifted out {}",
            lifecycle::status_name(to.state.status),
            to.state
                .monitoring
                .map(|c| format!(" monitored as {}", lifecycle::category_name(c)))
                .unwrap_or_default(),
            to.enrolled_year
                .map_or("never".to_owned(), |y| y.to_string()),
            to.lifted_out_year
                .map_or("never".to_owned(), |y| y.to_string()),
        )
    };
    if record.status != to.state.status {
        return Err(ApiError::bad_input("status", leads_to("the status")));
    }
    if record.monitoring != to.state.monitoring {
        return Err(ApiError::bad_input("monitoring", leads_to("monitoring")));
    }
    if record.enrolled_year != to.enrolled_year {
        return Err(ApiError::bad_input(
            "enrolledYear",
            leads_to("the enrolment year"),
        ));
    }
    if record.lifted_out_year != to.lifted_out_year {
        return Err(ApiError::bad_input(
            "liftedOutYear",
            leads_to("the exit year"),
        ));
    }
    Ok(())
}

/// The plan checked as `addMeasure` checks a measure; done exactly when it has a day done.
fn checked_plan(records: &[MeasureRecord]) -> ApiResult<Vec<MeasureRecord>> {
    let mut plan: Vec<MeasureRecord> = Vec::with_capacity(records.len());
    for (i, m) in records.iter().enumerate() {
        let at = |name: &str| format!("plan[{i}].{name}");
        let checked = MeasureRecord {
            category: m.category,
            task: free_text(&at("task"), &m.task, MAX_TASK_CHARS)?,
            standard: free_text(&at("standard"), &m.standard, MAX_TASK_CHARS)?,
            responsible: free_text(&at("responsible"), &m.responsible, MAX_RESPONSIBLE_CHARS)?,
            deadline: check_deadline(m.deadline, &at("deadline"))?,
            funds_fen: m.funds_fen,
            status: m.status,
            completed_on: m.completed_on,
        };
        if checked.funds_fen < 0 {
            return Err(ApiError::bad_input(
                at("fundsFen"),
                "funds may not be negative",
            ));
        }
        if (checked.status == MeasureStatus::Done) != checked.completed_on.is_some() {
            return Err(ApiError::bad_input(
                at("completedOn"),
                "a measure has a day done exactly when it is done",
            ));
        }
        if plan
            .iter()
            .any(|p| p.category == checked.category && p.task == checked.task)
        {
            return Err(ApiError::bad_input(
                at("task"),
                "the same measure is listed twice",
            ));
        }
        plan.push(checked);
    }
    Ok(plan)
}
