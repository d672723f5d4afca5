//! Pairing assistance (结对帮扶) and who helps a village (因村派人): helper
//! cadres paired with households, helper units paired with villages (单位包村),
//! first secretaries and resident working teams posted there (驻村力量), and the
//! visits helpers make (入户走访), which are records of fact: appended, never
//! edited.

use std::collections::HashSet;

use chrono::{Datelike, Days, NaiveDate, Utc};
use entity::enums::{HelpKind, HelperUnitKind, Role, VillageStaffRole};
use entity::{
    app_user, helper_pairing, helper_unit, region, unit_pairing, village_staff, visit, visit_help,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set,
};
use serde_json::{Value, json};

use super::calendar;
use super::household::reachable_household;
use super::node::global_id;
use super::region::reachable_village;
use super::text::{free_text, optional_text, required_text};
use super::write::{self, Created};
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::error::{ApiError, ApiResult};
use crate::permissions;

/// Longest unit name, in characters (as the column holds).
const MAX_UNIT_NAME_CHARS: usize = 100;
/// Longest staff name, in characters.
const MAX_STAFF_NAME_CHARS: usize = 50;
/// Longest phone number, in characters.
const MAX_PHONE_CHARS: usize = 20;
/// Longest username, in characters.
const MAX_USERNAME_CHARS: usize = 64;
/// First secretaries were first sent to poor villages in 2013 and after.
const FIRST_POSTING_YEAR: i32 = 2013;

/// Longest notes of a visit, in characters.
const MAX_NOTES_CHARS: usize = 2000;
/// Most photos one visit refers to.
const MAX_PHOTOS: usize = 20;
/// Longest photo reference, in characters.
const MAX_PHOTO_CHARS: usize = 500;
/// How far back a visit may be recorded: field apps sync late, but not years late.
const MAX_DAYS_AGO: u64 = 366;

/// A pairing as the audit trail records it; `helper` is the helper's username.
fn pairing_snapshot(pairing: &helper_pairing::Model, helper: &str) -> Value {
    json!({
        "id": pairing.id,
        "helper": helper,
        "household": pairing.household_id,
        "unit": pairing.unit,
        "startedOn": pairing.started_on,
        "endedOn": pairing.ended_on,
    })
}

/// A helper unit as the audit trail records it.
fn unit_snapshot(unit: &helper_unit::Model) -> Value {
    json!({
        "id": global_id("HelperUnit", unit.id),
        "name": unit.name,
        "kind": unit.kind,
    })
}

/// A unit's pairing with a village as the audit trail records it.
fn unit_pairing_snapshot(pairing: &unit_pairing::Model) -> Value {
    json!({
        "id": global_id("UnitPairing", pairing.id),
        "unit": global_id("HelperUnit", pairing.unit_id),
        "village": global_id("Village", pairing.village_id),
        "startedOn": pairing.started_on,
        "endedOn": pairing.ended_on,
    })
}

/// A posting as the audit trail records it; `account` is its username.
fn staff_snapshot(staff: &village_staff::Model, account: Option<&str>) -> Value {
    json!({
        "id": global_id("VillageStaff", staff.id),
        "village": global_id("Village", staff.village_id),
        "role": staff.role,
        "name": staff.name,
        "account": account,
        "unit": staff.unit_id.map(|id| global_id("HelperUnit", id)),
        "phone": staff.phone,
        "startedOn": staff.started_on,
        "endedOn": staff.ended_on,
        "version": staff.version,
    })
}

/// An active helper cadre, by username.
async fn helper_cadre(db: &DatabaseConnection, username: &str) -> ApiResult<app_user::Model> {
    app_user::Entity::find()
        .filter(app_user::Column::Username.eq(username))
        .one(db)
        .await?
        .filter(|u| u.role == Role::HelperCadre && u.is_active)
        .ok_or_else(|| {
            ApiError::bad_input(
                "helperUsername",
                format!("`{username}` is not an active helper cadre"),
            )
        })
}

/// A pairing to make: a helper cadre, by username, with a household.
pub struct NewPairing {
    pub helper_username: String,
    pub household_id: i64,
    /// The helper's unit, as free text.
    pub unit: Option<String>,
}

/// Pairs a helper cadre with a household of the caller's scope, from today.
pub async fn pair_helper(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    key: Option<&str>,
    input: NewPairing,
) -> ApiResult<helper_pairing::Model> {
    let home = reachable_household(db, viewer, input.household_id).await?;
    let helper = helper_cadre(db, &input.helper_username).await?;
    let unit = input
        .unit
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty());
    let request = json!({
        "helperId": helper.id,
        "householdId": home.id,
        "unit": unit,
    });
    let now = Utc::now();
    write::create::<helper_pairing::Entity, _>(
        db,
        actor,
        key,
        "pairHelper",
        &request,
        async |txn| {
            let pairing = helper_pairing::ActiveModel {
                helper_id: Set(helper.id),
                household_id: Set(home.id),
                unit: Set(unit),
                started_on: Set(calendar::today()),
                ended_on: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            Ok(Created::new(
                pairing.id,
                "pairing.create",
                "Pairing",
                pairing_snapshot(&pairing, &helper.username),
                pairing,
            ))
        },
    )
    .await
}

/// Ends the active pairing of a helper cadre with a household, today (or on
/// its first day, if it began later).
pub async fn end_pairing(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    helper_username: &str,
    household_id: i64,
) -> ApiResult<helper_pairing::Model> {
    let home = reachable_household(db, viewer, household_id).await?;
    let helper = helper_cadre(db, helper_username).await?;
    let txn = write::begin(db).await?;
    let active = helper_pairing::Entity::find()
        .filter(helper_pairing::Column::HelperId.eq(helper.id))
        .filter(helper_pairing::Column::HouseholdId.eq(home.id))
        .filter(helper_pairing::Column::EndedOn.is_null());
    let before = write::one_locked(&txn, active)
        .await?
        .ok_or_else(|| ApiError::not_found("Pairing"))?;
    let now = Utc::now();
    let mut ended: helper_pairing::ActiveModel = before.clone().into();
    ended.ended_on = Set(Some(calendar::today().max(before.started_on)));
    ended.version = Set(before.version + 1);
    ended.updated_at = Set(now);
    let pairing = ended.update(&txn).await?;
    let change = Change {
        action: "pairing.end",
        entity_type: "Pairing",
        entity_id: pairing.id,
        before: Some(pairing_snapshot(&before, &helper.username)),
        after: Some(pairing_snapshot(&pairing, &helper.username)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(pairing)
}

/// Refuses a township officer a village outside their township.
fn check_in_charge(viewer: &Viewer, village: &region::Model) -> ApiResult<()> {
    match &viewer.user()?.region_prefix {
        Some(prefix) if !village.code.starts_with(prefix.as_str()) => Err(ApiError::Forbidden(
            format!("the village {} is outside your township", village.name),
        )),
        _ => Ok(()),
    }
}

/// A village the caller looks after.
async fn village_in_charge(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<region::Model> {
    let village = reachable_village(db, viewer, id).await?;
    check_in_charge(viewer, &village)?;
    Ok(village)
}

/// A helper unit the caller sees.
async fn helper_unit(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<helper_unit::Model> {
    access::select::<helper_unit::Entity>(viewer)
        .filter(helper_unit::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("HelperUnit"))
}

/// A date of a posting: not in the future, not before postings began.
fn check_posting_day(day: NaiveDate, field: &str) -> ApiResult<NaiveDate> {
    if day > calendar::today() {
        return Err(ApiError::bad_input(
            field,
            "a posting day may not be in the future",
        ));
    }
    if day.year() < FIRST_POSTING_YEAR {
        return Err(ApiError::bad_input(
            field,
            format!("postings began in {FIRST_POSTING_YEAR}"),
        ));
    }
    Ok(day)
}

/// A phone number: digits, with an optional leading `+` and `-` or spaces between.
fn check_phone(phone: Option<&str>) -> ApiResult<Option<String>> {
    let Some(phone) = optional_text(phone, "phone", MAX_PHONE_CHARS)? else {
        return Ok(None);
    };
    let body = phone.strip_prefix('+').unwrap_or(&phone);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    if digits < 7
        || !body
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == ' ')
    {
        return Err(ApiError::bad_input(
            "phone",
            "a phone number has at least 7 digits, with `-` or spaces between",
        ));
    }
    Ok(Some(phone))
}

/// The message of a second serving first secretary.
fn first_secretary_taken(village: &region::Model) -> ApiError {
    ApiError::Conflict(format!(
        "the village {} already has a serving first secretary: end that posting first",
        village.name
    ))
}

async fn serving_first_secretary(
    txn: &DatabaseTransaction,
    village_id: i64,
) -> ApiResult<Option<village_staff::Model>> {
    Ok(village_staff::Entity::find()
        .filter(village_staff::Column::VillageId.eq(village_id))
        .filter(village_staff::Column::Role.eq(VillageStaffRole::FirstSecretary))
        .filter(village_staff::Column::EndedOn.is_null())
        .one(txn)
        .await?)
}

/// An active account, by username.
async fn active_account(db: &DatabaseConnection, username: &str) -> ApiResult<app_user::Model> {
    app_user::Entity::find()
        .filter(app_user::Column::Username.eq(username))
        .one(db)
        .await?
        .filter(|u| u.is_active)
        .ok_or_else(|| {
            ApiError::bad_input("username", format!("`{username}` is not an active account"))
        })
}

/// Registers a helper unit; its name is unique.
pub async fn create_helper_unit(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    key: Option<&str>,
    name: &str,
    kind: HelperUnitKind,
) -> ApiResult<helper_unit::Model> {
    viewer.user()?;
    let name = required_text(name, "name", MAX_UNIT_NAME_CHARS)?;
    let request = json!({ "name": name, "kind": kind });
    write::create::<helper_unit::Entity, _>(
        db,
        actor,
        key,
        "createHelperUnit",
        &request,
        async |txn| {
            let taken = || ApiError::Conflict(format!("a helper unit named {name} exists"));
            let existing = helper_unit::Entity::find()
                .filter(helper_unit::Column::Name.eq(&name))
                .one(txn)
                .await?;
            if existing.is_some() {
                return Err(taken());
            }
            let now = Utc::now();
            let unit = helper_unit::ActiveModel {
                name: Set(name.clone()),
                kind: Set(kind),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await
            .map_err(|e| match ApiError::from(e) {
                ApiError::Conflict(_) => taken(),
                other => other,
            })?;
            Ok(Created::new(
                unit.id,
                "helper_unit.create",
                "HelperUnit",
                unit_snapshot(&unit),
                unit,
            ))
        },
    )
    .await
}

/// Pairs a helper unit with a village the caller looks after, from today; a
/// unit helps a village once at a time.
pub async fn pair_unit_with_village(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    key: Option<&str>,
    unit_id: i64,
    village_id: i64,
) -> ApiResult<unit_pairing::Model> {
    viewer.user()?;
    let unit = helper_unit(db, viewer, unit_id).await?;
    let village = village_in_charge(db, viewer, village_id).await?;
    let request = json!({ "unit": unit.id, "village": village.id });
    write::create::<unit_pairing::Entity, _>(
        db,
        actor,
        key,
        "pairUnitWithVillage",
        &request,
        async |txn| {
            let taken = || {
                ApiError::Conflict(format!(
                    "{} already helps the village {}",
                    unit.name, village.name
                ))
            };
            let active = unit_pairing::Entity::find()
                .filter(unit_pairing::Column::UnitId.eq(unit.id))
                .filter(unit_pairing::Column::VillageId.eq(village.id))
                .filter(unit_pairing::Column::EndedOn.is_null())
                .one(txn)
                .await?;
            if active.is_some() {
                return Err(taken());
            }
            let now = Utc::now();
            let pairing = unit_pairing::ActiveModel {
                unit_id: Set(unit.id),
                village_id: Set(village.id),
                started_on: Set(calendar::today()),
                ended_on: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await
            .map_err(|e| match ApiError::from(e) {
                ApiError::Conflict(_) => taken(),
                other => other,
            })?;
            Ok(Created::new(
                pairing.id,
                "unit_pairing.create",
                "UnitPairing",
                unit_pairing_snapshot(&pairing),
                pairing,
            ))
        },
    )
    .await
}

/// Ends the current pairing of a helper unit with a village, today (or on its
/// first day, if it began later).
pub async fn end_unit_pairing(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    unit_id: i64,
    village_id: i64,
) -> ApiResult<unit_pairing::Model> {
    let unit = helper_unit(db, viewer, unit_id).await?;
    let village = village_in_charge(db, viewer, village_id).await?;
    let txn = write::begin(db).await?;
    let active = unit_pairing::Entity::find()
        .filter(unit_pairing::Column::UnitId.eq(unit.id))
        .filter(unit_pairing::Column::VillageId.eq(village.id))
        .filter(unit_pairing::Column::EndedOn.is_null());
    let before = write::one_locked(&txn, active)
        .await?
        .ok_or_else(|| ApiError::not_found("UnitPairing"))?;
    let mut ended: unit_pairing::ActiveModel = before.clone().into();
    ended.ended_on = Set(Some(calendar::today().max(before.started_on)));
    ended.version = Set(before.version + 1);
    ended.updated_at = Set(Utc::now());
    let pairing = ended.update(&txn).await?;
    let change = Change {
        action: "unit_pairing.end",
        entity_type: "UnitPairing",
        entity_id: pairing.id,
        before: Some(unit_pairing_snapshot(&before)),
        after: Some(unit_pairing_snapshot(&pairing)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(pairing)
}

/// A posting to a village, as the caller gave it.
pub struct NewPosting {
    pub village_id: i64,
    pub role: VillageStaffRole,
    pub name: String,
    /// Username of their account, if they have one.
    pub username: Option<String>,
    pub unit_id: Option<i64>,
    pub phone: Option<String>,
    /// First day of the posting; today if left out.
    pub started_on: Option<NaiveDate>,
}

/// Posts a first secretary or resident team member to a village the caller
/// looks after. A village has one serving first secretary at a time.
pub async fn appoint_village_staff(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    key: Option<&str>,
    input: NewPosting,
) -> ApiResult<village_staff::Model> {
    viewer.user()?;
    let name = required_text(&input.name, "name", MAX_STAFF_NAME_CHARS)?;
    let phone = check_phone(input.phone.as_deref())?;
    let started_on = check_posting_day(
        input.started_on.unwrap_or_else(calendar::today),
        "startedOn",
    )?;
    let village = village_in_charge(db, viewer, input.village_id).await?;
    let account = match optional_text(input.username.as_deref(), "username", MAX_USERNAME_CHARS)? {
        Some(username) => Some(active_account(db, &username).await?),
        None => None,
    };
    let unit = match input.unit_id {
        Some(id) => Some(helper_unit(db, viewer, id).await?),
        None => None,
    };
    let request = json!({
        "village": village.id,
        "role": input.role,
        "name": name,
        "account": account.as_ref().map(|a| a.id),
        "unit": unit.as_ref().map(|u| u.id),
        "phone": phone,
        "startedOn": started_on,
    });
    write::create::<village_staff::Entity, _>(
        db,
        actor,
        key,
        "appointVillageStaff",
        &request,
        async |txn| {
            if input.role == VillageStaffRole::FirstSecretary
                && serving_first_secretary(txn, village.id).await?.is_some()
            {
                return Err(first_secretary_taken(&village));
            }
            let now = Utc::now();
            let staff = village_staff::ActiveModel {
                village_id: Set(village.id),
                role: Set(input.role),
                name: Set(name),
                user_id: Set(account.as_ref().map(|a| a.id)),
                unit_id: Set(unit.as_ref().map(|u| u.id)),
                phone: Set(phone),
                started_on: Set(started_on),
                ended_on: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await
            .map_err(|e| match ApiError::from(e) {
                ApiError::Conflict(_) => first_secretary_taken(&village),
                other => other,
            })?;
            let username = account.as_ref().map(|a| a.username.as_str());
            Ok(Created::new(
                staff.id,
                "village_staff.appoint",
                "VillageStaff",
                staff_snapshot(&staff, username),
                staff,
            ))
        },
    )
    .await
}

/// Ends a posting to a village on a day (today if none is given), not before
/// it began.
pub async fn end_village_staff(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    id: i64,
    version: i32,
    ended_on: Option<NaiveDate>,
) -> ApiResult<village_staff::Model> {
    let ended_on = check_posting_day(ended_on.unwrap_or_else(calendar::today), "endedOn")?;
    let txn = write::begin(db).await?;
    let select =
        access::select::<village_staff::Entity>(viewer).filter(village_staff::Column::Id.eq(id));
    let before = write::one_locked(&txn, select)
        .await?
        .ok_or_else(|| ApiError::not_found("VillageStaff"))?;
    let village = region::Entity::find_by_id(before.village_id)
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("staff {} has no village", before.id)))?;
    check_in_charge(viewer, &village)?;
    let account = match before.user_id {
        Some(id) => app_user::Entity::find_by_id(id).one(&txn).await?,
        None => None,
    };
    let username = account.as_ref().map(|a| a.username.as_str());
    write::check_version("posting", version, before.version, || {
        permissions::redact(viewer, "VillageStaff", staff_snapshot(&before, username))
    })?;
    if let Some(day) = before.ended_on {
        return Err(ApiError::bad_input(
            "id",
            format!("the posting already ended on {day}"),
        ));
    }
    if ended_on < before.started_on {
        return Err(ApiError::bad_input(
            "endedOn",
            format!("the posting began on {}", before.started_on),
        ));
    }
    let mut ended: village_staff::ActiveModel = before.clone().into();
    ended.ended_on = Set(Some(ended_on));
    ended.version = Set(before.version + 1);
    ended.updated_at = Set(Utc::now());
    let staff = ended.update(&txn).await?;
    let change = Change {
        action: "village_staff.end",
        entity_type: "VillageStaff",
        entity_id: staff.id,
        before: Some(staff_snapshot(&before, username)),
        after: Some(staff_snapshot(&staff, username)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(staff)
}

/// A visit to record, as the caller gave it.
pub struct NewVisit {
    pub household_id: i64,
    pub visited_on: NaiveDate,
    pub help: Vec<HelpKind>,
    pub notes: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub photos: Vec<String>,
}

/// A visit's input, checked and normalised.
struct CheckedVisit {
    visited_on: NaiveDate,
    help: Vec<HelpKind>,
    notes: String,
    location: Option<(f64, f64)>,
    photos: Vec<String>,
}

fn check_visit(input: &NewVisit, today: NaiveDate) -> ApiResult<CheckedVisit> {
    if input.visited_on > today {
        return Err(ApiError::bad_input(
            "visitedOn",
            "a visit day may not be in the future",
        ));
    }
    let earliest = today
        .checked_sub_days(Days::new(MAX_DAYS_AGO))
        .unwrap_or(NaiveDate::MIN);
    if input.visited_on < earliest {
        return Err(ApiError::bad_input(
            "visitedOn",
            format!("a visit is recorded at most {MAX_DAYS_AGO} days after it took place"),
        ));
    }
    if input.help.is_empty() {
        return Err(ApiError::bad_input(
            "help",
            "name at least one kind of help the visit gave",
        ));
    }
    if input.help.iter().collect::<HashSet<_>>().len() != input.help.len() {
        return Err(ApiError::bad_input("help", "name each kind of help once"));
    }
    let mut help = input.help.clone();
    help.sort();
    let notes = free_text("notes", &input.notes, MAX_NOTES_CHARS)?;
    let location = match (input.latitude, input.longitude) {
        (Some(latitude), Some(longitude)) => {
            if !(-90.0..=90.0).contains(&latitude) {
                return Err(ApiError::bad_input(
                    "latitude",
                    "a latitude lies between -90 and 90 degrees",
                ));
            }
            if !(-180.0..=180.0).contains(&longitude) {
                return Err(ApiError::bad_input(
                    "longitude",
                    "a longitude lies between -180 and 180 degrees",
                ));
            }
            Some((latitude, longitude))
        }
        (Some(_), None) => {
            return Err(ApiError::bad_input(
                "longitude",
                "give the longitude with the latitude",
            ));
        }
        (None, Some(_)) => {
            return Err(ApiError::bad_input(
                "latitude",
                "give the latitude with the longitude",
            ));
        }
        (None, None) => None,
    };
    if input.photos.len() > MAX_PHOTOS {
        return Err(ApiError::bad_input(
            "photos",
            format!("a visit refers to at most {MAX_PHOTOS} photos"),
        ));
    }
    let photos = input
        .photos
        .iter()
        .map(|p| required_text(p, "photos", MAX_PHOTO_CHARS))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(CheckedVisit {
        visited_on: input.visited_on,
        help,
        notes,
        location,
        photos,
    })
}

/// A visit as the audit trail records it; `visitor` is the visitor's username.
fn visit_snapshot(visit: &visit::Model, visitor: &str, checked: &CheckedVisit) -> Value {
    json!({
        "id": global_id("Visit", visit.id),
        "household": global_id("Household", visit.household_id),
        "visitor": visitor,
        "visitedOn": visit.visited_on,
        "help": checked.help,
        "notes": visit.notes,
        "latitude": visit.latitude,
        "longitude": visit.longitude,
        "photos": checked.photos,
    })
}

/// Records a visit to a household the caller reaches, with the caller as its
/// visitor. Field apps sync late and retry, so the key is required: the same
/// key returns the first visit; with another input it is a CONFLICT.
pub async fn record_visit(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    key: &str,
    input: NewVisit,
) -> ApiResult<visit::Model> {
    let user = viewer.user()?;
    let checked = check_visit(&input, calendar::today())?;
    let home = reachable_household(db, viewer, input.household_id).await?;
    let request = json!({
        "household": home.id,
        "visitedOn": checked.visited_on,
        "help": checked.help,
        "notes": checked.notes,
        "location": checked.location,
        "photos": checked.photos,
    });
    write::create::<visit::Entity, _>(db, actor, Some(key), "recordVisit", &request, async |txn| {
        let photos = serde_json::to_string(&checked.photos)
            .map_err(|e| ApiError::Internal(format!("serialising photos: {e}")))?;
        let recorded = visit::ActiveModel {
            household_id: Set(home.id),
            visitor_id: Set(user.id),
            visited_on: Set(checked.visited_on),
            notes: Set(checked.notes.clone()),
            latitude: Set(checked.location.map(|(latitude, _)| latitude)),
            longitude: Set(checked.location.map(|(_, longitude)| longitude)),
            photos: Set(photos),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        visit_help::Entity::insert_many(checked.help.iter().map(|kind| visit_help::ActiveModel {
            visit_id: Set(recorded.id),
            kind: Set(*kind),
        }))
        .exec_without_returning(txn)
        .await?;
        Ok(Created::new(
            recorded.id,
            "visit.create",
            "Visit",
            visit_snapshot(&recorded, &user.username, &checked),
            recorded,
        ))
    })
    .await
}
