//! Enterprises, cooperatives, family farms and large households (经营主体), and
//! their benefit links with poor households (利益联结): who registers and edits
//! which enterprise, credit codes checked against GB 32100 and unique, and the
//! periods, incomes and overlaps of links.

use chrono::{Datelike, Months, NaiveDate, Utc};
use entity::enums::{BenefitMode, EnterpriseKind, Industry};
use entity::{benefit_link, enterprise, household, region};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter, Set,
};
use serde_json::{Value, json};

use super::calendar;
use super::household::reachable_household;
use super::money::Money;
use super::node::global_id;
use super::region::reachable_village;
use super::text::{optional_free_text, optional_text, phone, required_text};
use super::write::{self, Created};
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::codes;
use crate::error::{ApiError, ApiResult};
use crate::permissions;

/// Longest name, in characters (as the column holds).
const MAX_NAME_CHARS: usize = 100;
/// Longest contact person, in characters.
const MAX_CONTACT_CHARS: usize = 100;

/// Targeted poverty alleviation began in 2014: no link starts earlier.
const FIRST_YEAR: i32 = 2014;
/// How far ahead a link may start: it is recorded once agreed.
const MONTHS_AHEAD: u32 = 12;
/// How many years ahead an agreed end may lie.
const END_YEARS_AHEAD: i32 = 10;
/// Longest note of a link, in characters.
const MAX_NOTE_CHARS: usize = 500;

/// An enterprise as the audit trail records it.
fn enterprise_snapshot(firm: &enterprise::Model) -> Value {
    json!({
        "id": global_id("Enterprise", firm.id),
        "name": firm.name,
        "creditCode": firm.credit_code,
        "kind": firm.kind,
        "industry": firm.industry,
        "village": firm.village_id.map(|v| global_id("Village", v)),
        "contactPerson": firm.contact_person,
        "contactPhone": firm.contact_phone,
        "version": firm.version,
    })
}

/// A benefit link as the audit trail records it.
fn link_snapshot(link: &benefit_link::Model) -> Value {
    json!({
        "id": global_id("BenefitLink", link.id),
        "enterprise": global_id("Enterprise", link.enterprise_id),
        "household": global_id("Household", link.household_id),
        "mode": link.mode,
        "startedOn": link.started_on,
        "endedOn": link.ended_on,
        "annualIncome": Money(link.annual_income_fen).to_string(),
        "note": link.note,
        "version": link.version,
    })
}

/// A credit code as stored: trimmed, upper-cased, checked against GB 32100.
fn credit_code(code: &str) -> ApiResult<String> {
    let code = code.trim().to_uppercase();
    codes::check_credit_code(&code).map_err(|e| ApiError::bad_input("creditCode", e.message()))?;
    Ok(code)
}

/// Refuses a credit code another enterprise is registered with.
async fn check_code_free(txn: &DatabaseTransaction, code: &str, except: i64) -> ApiResult<()> {
    let taken = enterprise::Entity::find()
        .filter(enterprise::Column::CreditCode.eq(code))
        .filter(enterprise::Column::Id.ne(except))
        .one(txn)
        .await?;
    match taken {
        Some(other) => Err(ApiError::Conflict(format!(
            "the credit code {code} is already registered, to {}",
            other.name
        ))),
        None => Ok(()),
    }
}

/// The village of a registration, if one is named: one of the county.
async fn registration_village(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: Option<i64>,
) -> ApiResult<Option<region::Model>> {
    match id {
        Some(id) => Ok(Some(reachable_village(db, viewer, id).await?)),
        None => Ok(None),
    }
}

/// The village an enterprise is registered in, read in the change's transaction.
async fn village_of(
    db: &impl ConnectionTrait,
    firm: &enterprise::Model,
) -> ApiResult<Option<region::Model>> {
    match firm.village_id {
        Some(id) => Ok(region::Entity::find_by_id(id).one(db).await?),
        None => Ok(None),
    }
}

fn refuse(firm: &enterprise::Model) -> ApiError {
    ApiError::Forbidden(format!(
        "you may not change {}: the county office changes any enterprise, a township \
         officer those registered in its township, an enterprise user its own record",
        firm.name
    ))
}

/// An enterprise to register, as the caller gave it.
pub struct NewEnterprise {
    pub name: String,
    pub credit_code: String,
    pub kind: EnterpriseKind,
    pub industry: Industry,
    pub village_id: Option<i64>,
    pub contact_person: Option<String>,
    pub contact_phone: Option<String>,
}

/// Registers an enterprise: the county office anywhere, a township officer in
/// a village of its township. A credit code already registered is a CONFLICT.
pub async fn register(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    key: Option<&str>,
    input: NewEnterprise,
) -> ApiResult<enterprise::Model> {
    viewer.user()?;
    let name = required_text(&input.name, "name", MAX_NAME_CHARS)?;
    let code = credit_code(&input.credit_code)?;
    let contact_person = optional_text(
        input.contact_person.as_deref(),
        "contactPerson",
        MAX_CONTACT_CHARS,
    )?;
    let contact_phone = phone("contactPhone", input.contact_phone.as_deref())?;
    let village = registration_village(db, viewer, input.village_id).await?;
    if !access::registers_enterprises_in(viewer, village.as_ref()) {
        return Err(match village {
            None => ApiError::bad_input(
                "villageId",
                "a township officer registers an enterprise in a village of its township",
            ),
            Some(village) => ApiError::Forbidden(format!(
                "{} is not in your township: you may not register enterprises there",
                village.name
            )),
        });
    }
    let request = json!({
        "name": name,
        "creditCode": code,
        "kind": input.kind,
        "industry": input.industry,
        "village": village.as_ref().map(|v| v.id),
        "contactPerson": contact_person,
        "contactPhone": contact_phone,
    });
    write::create::<enterprise::Entity, _>(
        db,
        actor,
        key,
        "createEnterprise",
        &request,
        async |txn| {
            check_code_free(txn, &code, 0).await?;
            let now = Utc::now();
            let created = enterprise::ActiveModel {
                name: Set(name),
                credit_code: Set(code),
                kind: Set(input.kind),
                industry: Set(input.industry),
                village_id: Set(village.map(|v| v.id)),
                contact_person: Set(contact_person),
                contact_phone: Set(contact_phone),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            Ok(Created::new(
                created.id,
                "enterprise.create",
                "Enterprise",
                enterprise_snapshot(&created),
                created,
            ))
        },
    )
    .await
}

/// Changes to an enterprise's record; `None` leaves a field as it is, and an
/// empty contact clears it.
pub struct EnterpriseChanges {
    pub id: i64,
    /// The version the change was made from.
    pub version: i32,
    pub name: Option<String>,
    pub credit_code: Option<String>,
    pub kind: Option<EnterpriseKind>,
    pub industry: Option<Industry>,
    pub village_id: Option<i64>,
    pub contact_person: Option<String>,
    pub contact_phone: Option<String>,
}

/// Changes an enterprise's record: the county office any, a township officer
/// those registered in its township, an enterprise user its own. Others are
/// refused with FORBIDDEN (enterprises are public, so there is nothing to hide
/// by answering NOT_FOUND).
pub async fn update(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    input: EnterpriseChanges,
) -> ApiResult<enterprise::Model> {
    let name = input
        .name
        .map(|n| required_text(&n, "name", MAX_NAME_CHARS))
        .transpose()?;
    let code = input.credit_code.as_deref().map(credit_code).transpose()?;
    let contact_person = input
        .contact_person
        .as_deref()
        .map(|p| optional_text(Some(p), "contactPerson", MAX_CONTACT_CHARS))
        .transpose()?;
    let contact_phone = input
        .contact_phone
        .as_deref()
        .map(|p| phone("contactPhone", Some(p)))
        .transpose()?;
    let new_village = registration_village(db, viewer, input.village_id).await?;
    if name.is_none()
        && code.is_none()
        && input.kind.is_none()
        && input.industry.is_none()
        && new_village.is_none()
        && contact_person.is_none()
        && contact_phone.is_none()
    {
        return Err(ApiError::bad_input(
            "input",
            "give at least one field to change",
        ));
    }
    let txn = write::begin(db).await?;
    let select =
        access::select::<enterprise::Entity>(viewer).filter(enterprise::Column::Id.eq(input.id));
    let before = write::one_locked(&txn, select)
        .await?
        .ok_or_else(|| ApiError::not_found("Enterprise"))?;
    let registered = village_of(&txn, &before).await?;
    if !access::manages_enterprise(viewer, &before, registered.as_ref()) {
        return Err(refuse(&before));
    }
    if let Some(village) = &new_village
        && !access::manages_enterprise(viewer, &before, Some(village))
    {
        return Err(ApiError::Forbidden(format!(
            "{} is not in your township: you may not move an enterprise there",
            village.name
        )));
    }
    write::check_version("enterprise", input.version, before.version, || {
        permissions::redact(viewer, "Enterprise", enterprise_snapshot(&before))
    })?;
    let mut changed: enterprise::ActiveModel = before.clone().into();
    if let Some(name) = name {
        changed.name = Set(name);
    }
    if let Some(code) = code {
        check_code_free(&txn, &code, before.id).await?;
        changed.credit_code = Set(code);
    }
    if let Some(kind) = input.kind {
        changed.kind = Set(kind);
    }
    if let Some(industry) = input.industry {
        changed.industry = Set(industry);
    }
    if let Some(village) = new_village {
        changed.village_id = Set(Some(village.id));
    }
    if let Some(person) = contact_person {
        changed.contact_person = Set(person);
    }
    if let Some(phone) = contact_phone {
        changed.contact_phone = Set(phone);
    }
    changed.version = Set(before.version + 1);
    changed.updated_at = Set(Utc::now());
    let after = changed.update(&txn).await?;
    let change = Change {
        action: "enterprise.update",
        entity_type: "Enterprise",
        entity_id: after.id,
        before: Some(enterprise_snapshot(&before)),
        after: Some(enterprise_snapshot(&after)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// Whether a link is open on `day`: started, and not ended before it.
pub fn link_open_on(link: &benefit_link::Model, day: NaiveDate) -> bool {
    link.started_on <= day && link.ended_on.is_none_or(|end| end >= day)
}

fn check_started(started: NaiveDate) -> ApiResult<NaiveDate> {
    let latest = calendar::today()
        .checked_add_months(Months::new(MONTHS_AHEAD))
        .ok_or_else(|| ApiError::Internal("today plus a year is out of range".into()))?;
    if started.year() < FIRST_YEAR || started > latest {
        return Err(ApiError::bad_input(
            "startedOn",
            format!("a link starts in {FIRST_YEAR} or later, and at the latest on {latest}"),
        ));
    }
    Ok(started)
}

fn check_ended(started: NaiveDate, ended: NaiveDate, field: &str) -> ApiResult<NaiveDate> {
    if ended < started {
        return Err(ApiError::bad_input(
            field,
            format!("a link ends on or after the day it started ({started})"),
        ));
    }
    let last_year = calendar::today().year() + END_YEARS_AHEAD;
    if ended.year() > last_year {
        return Err(ApiError::bad_input(
            field,
            format!("a link ends in {last_year} at the latest"),
        ));
    }
    Ok(ended)
}

fn check_income(income: Money, field: &str) -> ApiResult<i64> {
    if income.0 < 0 {
        return Err(ApiError::bad_input(
            field,
            "an annual income may not be negative",
        ));
    }
    Ok(income.0)
}

/// Refuses a link whose period overlaps another link of the same enterprise,
/// household and mode (two open ones overlap always). Run with the household locked.
async fn check_no_overlap(txn: &DatabaseTransaction, link: &benefit_link::Model) -> ApiResult<()> {
    use benefit_link::Column as L;
    let mut others = benefit_link::Entity::find()
        .filter(L::EnterpriseId.eq(link.enterprise_id))
        .filter(L::HouseholdId.eq(link.household_id))
        .filter(L::Mode.eq(link.mode))
        .filter(L::Id.ne(link.id))
        .filter(
            Condition::any()
                .add(L::EndedOn.is_null())
                .add(L::EndedOn.gte(link.started_on)),
        );
    if let Some(end) = link.ended_on {
        others = others.filter(L::StartedOn.lte(end));
    }
    if let Some(other) = others.one(txn).await? {
        let until = other
            .ended_on
            .map_or_else(|| "open".to_owned(), |d| format!("to {d}"));
        return Err(ApiError::Conflict(format!(
            "the household already has a {} link with this enterprise in that period \
             (from {}, {until}): end or change that one",
            link.mode.to_value(),
            other.started_on
        )));
    }
    Ok(())
}

/// Locks a household, so that its links are checked and changed one change at a time.
async fn lock_household(txn: &DatabaseTransaction, id: i64) -> ApiResult<()> {
    write::one_locked(txn, household::Entity::find_by_id(id))
        .await?
        .ok_or_else(|| ApiError::not_found("Household"))?;
    Ok(())
}

/// A link the caller reaches, locked for a change, with its household locked too.
async fn link_to_change(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<benefit_link::Model> {
    let reached = access::select::<benefit_link::Entity>(viewer)
        .filter(benefit_link::Column::Id.eq(id))
        .one(txn)
        .await?
        .ok_or_else(|| ApiError::not_found("BenefitLink"))?;
    lock_household(txn, reached.household_id).await?;
    write::one_locked(txn, benefit_link::Entity::find_by_id(reached.id))
        .await?
        .ok_or_else(|| ApiError::not_found("BenefitLink"))
}

fn check_link_version(
    viewer: &Viewer,
    stated: i32,
    current: &benefit_link::Model,
) -> ApiResult<()> {
    write::check_version("benefit link", stated, current.version, || {
        permissions::redact(viewer, "BenefitLink", link_snapshot(current))
    })
}

/// Saves a changed link with its audit entry, and commits.
async fn save_link(
    txn: DatabaseTransaction,
    actor: &Actor,
    action: &str,
    before: benefit_link::Model,
    mut after: benefit_link::Model,
) -> ApiResult<benefit_link::Model> {
    after.version = before.version + 1;
    after.updated_at = Utc::now();
    check_no_overlap(&txn, &after).await?;
    let mut changed: benefit_link::ActiveModel = before.clone().into();
    changed.mode = Set(after.mode);
    changed.ended_on = Set(after.ended_on);
    changed.annual_income_fen = Set(after.annual_income_fen);
    changed.note = Set(after.note);
    changed.version = Set(after.version);
    changed.updated_at = Set(after.updated_at);
    let saved = changed.update(&txn).await?;
    let change = Change {
        action,
        entity_type: "BenefitLink",
        entity_id: saved.id,
        before: Some(link_snapshot(&before)),
        after: Some(link_snapshot(&saved)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(saved)
}

/// A benefit link to record, as the caller gave it.
pub struct NewBenefitLink {
    pub enterprise_id: i64,
    pub household_id: i64,
    pub mode: BenefitMode,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub annual_income: Money,
    pub note: Option<String>,
}

/// Records a benefit link of an enterprise with a household the caller
/// reaches. Links of the same enterprise, household and mode may not overlap
/// in time.
pub async fn record_link(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    key: Option<&str>,
    input: NewBenefitLink,
) -> ApiResult<benefit_link::Model> {
    viewer.user()?;
    let started_on = check_started(input.started_on)?;
    let ended_on = input
        .ended_on
        .map(|end| check_ended(started_on, end, "endedOn"))
        .transpose()?;
    let annual_income_fen = check_income(input.annual_income, "annualIncome")?;
    let note = optional_free_text("note", input.note.as_deref(), MAX_NOTE_CHARS)?;
    let firm = access::select::<enterprise::Entity>(viewer)
        .filter(enterprise::Column::Id.eq(input.enterprise_id))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("Enterprise"))?;
    let home = reachable_household(db, viewer, input.household_id).await?;
    let request = json!({
        "enterprise": firm.id,
        "household": home.id,
        "mode": input.mode,
        "startedOn": started_on,
        "endedOn": ended_on,
        "annualIncomeFen": annual_income_fen,
        "note": note,
    });
    write::create::<benefit_link::Entity, _>(
        db,
        actor,
        key,
        "recordBenefitLink",
        &request,
        async |txn| {
            lock_household(txn, home.id).await?;
            let now = Utc::now();
            let link = benefit_link::Model {
                id: 0,
                enterprise_id: firm.id,
                household_id: home.id,
                mode: input.mode,
                started_on,
                ended_on,
                annual_income_fen,
                note,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            check_no_overlap(txn, &link).await?;
            let recorded = benefit_link::ActiveModel {
                enterprise_id: Set(link.enterprise_id),
                household_id: Set(link.household_id),
                mode: Set(link.mode),
                started_on: Set(link.started_on),
                ended_on: Set(link.ended_on),
                annual_income_fen: Set(link.annual_income_fen),
                note: Set(link.note),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            Ok(Created::new(
                recorded.id,
                "benefit_link.create",
                "BenefitLink",
                link_snapshot(&recorded),
                recorded,
            ))
        },
    )
    .await
}

/// Changes to a benefit link; `None` leaves a field as it is, and an empty
/// note clears it.
pub struct BenefitLinkChanges {
    pub id: i64,
    /// The version the change was made from.
    pub version: i32,
    pub mode: Option<BenefitMode>,
    pub ended_on: Option<NaiveDate>,
    pub annual_income: Option<Money>,
    pub note: Option<String>,
}

/// Changes a benefit link's mode, end, income or remarks.
pub async fn update_link(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    input: BenefitLinkChanges,
) -> ApiResult<benefit_link::Model> {
    let annual_income_fen = input
        .annual_income
        .map(|income| check_income(income, "annualIncome"))
        .transpose()?;
    let note = input
        .note
        .as_deref()
        .map(|note| optional_free_text("note", Some(note), MAX_NOTE_CHARS))
        .transpose()?;
    if input.mode.is_none()
        && input.ended_on.is_none()
        && annual_income_fen.is_none()
        && note.is_none()
    {
        return Err(ApiError::bad_input(
            "input",
            "give at least one field to change",
        ));
    }
    let txn = write::begin(db).await?;
    let before = link_to_change(&txn, viewer, input.id).await?;
    check_link_version(viewer, input.version, &before)?;
    let mut after = before.clone();
    if let Some(mode) = input.mode {
        after.mode = mode;
    }
    if let Some(end) = input.ended_on {
        after.ended_on = Some(check_ended(before.started_on, end, "endedOn")?);
    }
    if let Some(income) = annual_income_fen {
        after.annual_income_fen = income;
    }
    if let Some(note) = note {
        after.note = note;
    }
    save_link(txn, actor, "benefit_link.update", before, after).await
}

/// Ends a benefit link on a day: from the day after, the enterprise no longer
/// reaches the household through it.
pub async fn end_link(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    id: i64,
    version: i32,
    ended_on: NaiveDate,
) -> ApiResult<benefit_link::Model> {
    let txn = write::begin(db).await?;
    let before = link_to_change(&txn, viewer, id).await?;
    check_link_version(viewer, version, &before)?;
    if let Some(ended) = before.ended_on.filter(|d| *d < calendar::today()) {
        return Err(ApiError::bad_input(
            "id",
            format!("the link already ended on {ended}"),
        ));
    }
    let mut after = before.clone();
    after.ended_on = Some(check_ended(before.started_on, ended_on, "endedOn")?);
    save_link(txn, actor, "benefit_link.end", before, after).await
}
