//! Visits (入户走访): what a helper cadre or an organiser did at a household on
//! a day. Field apps record visits offline and sync them later, so a visit is
//! created under the client's idempotency key: a retry returns the first visit.
//! Visits are records of fact: appended, never edited.

use std::collections::HashSet;

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Days, NaiveDate, Utc};
use entity::enums::HelpKind;
use entity::{visit, visit_help};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::json;

use super::super::account::Account;
use super::super::household::Household;
use super::super::household::reachable_household;
use super::super::relay::{NodeKind, global_id};
use super::super::{actor, db, loaders, required_text, viewer};
use crate::domain::calendar;
use crate::domain::write::{self, Created};
use crate::error::{ApiError, ApiResult};

/// Longest notes of a visit, in characters.
const MAX_NOTES_CHARS: usize = 2000;
/// Most photos one visit refers to.
const MAX_PHOTOS: usize = 20;
/// Longest photo reference, in characters.
const MAX_PHOTO_CHARS: usize = 500;
/// How far back a visit may be recorded: field apps sync late, but not years late.
const MAX_DAYS_AGO: u64 = 366;

pub struct Visit(pub visit::Model);

/// A visit to a household (入户走访).
#[Object]
impl Visit {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Visit, self.0.id)
    }
    /// The household visited (走访对象).
    async fn household(&self, ctx: &Context<'_>) -> ApiResult<Option<Household>> {
        Ok(loaders(ctx)?
            .households
            .load_one(self.0.household_id)
            .await?
            .map(Household))
    }
    /// Who visited (走访人), when the reader may see their account.
    async fn visitor(&self, ctx: &Context<'_>) -> ApiResult<Option<Account>> {
        Ok(loaders(ctx)?
            .users
            .load_one(self.0.visitor_id)
            .await?
            .map(Account))
    }
    /// The day of the visit (走访日期).
    async fn visited_on(&self) -> NaiveDate {
        self.0.visited_on
    }
    /// What the visit did (帮扶内容).
    async fn help(&self, ctx: &Context<'_>) -> ApiResult<Vec<HelpKind>> {
        let rows = loaders(ctx)?.visit_helps.load_one(self.0.id).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(|h| h.kind)
            .collect())
    }
    /// What the visitor noted (走访记录).
    async fn notes(&self) -> Option<&str> {
        Some(&self.0.notes)
    }
    /// Latitude where it was recorded, in degrees (纬度).
    async fn latitude(&self) -> Option<f64> {
        self.0.latitude
    }
    /// Longitude where it was recorded, in degrees (经度).
    async fn longitude(&self) -> Option<f64> {
        self.0.longitude
    }
    /// References to photos taken (照片).
    async fn photos(&self) -> ApiResult<Option<Vec<String>>> {
        photos_of(&self.0).map(Some)
    }
    /// When the record reached the register (录入时间).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

fn photos_of(visit: &visit::Model) -> ApiResult<Vec<String>> {
    serde_json::from_str(&visit.photos)
        .map_err(|e| ApiError::Internal(format!("photos of visit {}: {e}", visit.id)))
}

/// Visits to a household the reader reaches, latest visit day first.
pub async fn visits_of(ctx: &Context<'_>, household_id: i64) -> ApiResult<Vec<Visit>> {
    let mut visits = loaders(ctx)?
        .household_visits
        .load_one(household_id)
        .await?
        .unwrap_or_default();
    visits.sort_by_key(|v| std::cmp::Reverse((v.visited_on, v.id)));
    Ok(visits.into_iter().map(Visit).collect())
}

/// The day of the latest visit to a household.
pub async fn last_visited_on(ctx: &Context<'_>, household_id: i64) -> ApiResult<Option<NaiveDate>> {
    let visits = loaders(ctx)?
        .household_visits
        .load_one(household_id)
        .await?;
    Ok(visits
        .unwrap_or_default()
        .iter()
        .map(|v| v.visited_on)
        .max())
}

/// A visit to record (走访记录).
#[derive(InputObject)]
pub struct RecordVisitInput {
    /// The household visited (走访对象).
    household_id: ID,
    /// The day of the visit: not in the future, at most 366 days ago (走访日期).
    visited_on: NaiveDate,
    /// What the visit did: at least one kind, each once (帮扶内容).
    help: Vec<HelpKind>,
    /// What the visitor noted, at most 2000 characters (走访记录).
    notes: String,
    /// Latitude in degrees, with the longitude (纬度).
    latitude: Option<f64>,
    /// Longitude in degrees, with the latitude (经度).
    longitude: Option<f64>,
    /// References to photos stored elsewhere: at most 20, each at most 500 characters (照片).
    #[graphql(default)]
    photos: Vec<String>,
    /// Client-chosen key, required: a retried or duplicated request returns the first visit (幂等键).
    idempotency_key: String,
}

/// A visit's input, checked and normalised.
struct CheckedVisit {
    visited_on: NaiveDate,
    help: Vec<HelpKind>,
    notes: String,
    location: Option<(f64, f64)>,
    photos: Vec<String>,
}

fn check(input: &RecordVisitInput, today: NaiveDate) -> ApiResult<CheckedVisit> {
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
    let notes = required_text(&input.notes, "notes", MAX_NOTES_CHARS)?;
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

fn snapshot(visit: &visit::Model, visitor: &str, checked: &CheckedVisit) -> serde_json::Value {
    json!({
        "id": global_id(NodeKind::Visit, visit.id),
        "household": global_id(NodeKind::Household, visit.household_id),
        "visitor": visitor,
        "visitedOn": visit.visited_on,
        "help": checked.help,
        "notes": visit.notes,
        "latitude": visit.latitude,
        "longitude": visit.longitude,
        "photos": checked.photos,
    })
}

#[derive(Default)]
pub struct VisitMutation;

#[Object]
impl VisitMutation {
    /// Records a visit to a household the caller helps, as its visitor (记录走访).
    /// The same idempotency key returns the first visit; with another input it is a CONFLICT.
    async fn record_visit(&self, ctx: &Context<'_>, input: RecordVisitInput) -> ApiResult<Visit> {
        let actor = actor(ctx)?;
        let user = viewer(ctx)?.user()?;
        let checked = check(&input, calendar::today())?;
        let home = reachable_household(ctx, &input.household_id).await?;
        let request = json!({
            "household": home.id,
            "visitedOn": checked.visited_on,
            "help": checked.help,
            "notes": checked.notes,
            "location": checked.location,
            "photos": checked.photos,
        });
        let key = Some(input.idempotency_key.as_str());
        let created = write::create::<visit::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "recordVisit",
            &request,
            async |txn| {
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
                visit_help::Entity::insert_many(checked.help.iter().map(|kind| {
                    visit_help::ActiveModel {
                        visit_id: Set(recorded.id),
                        kind: Set(*kind),
                    }
                }))
                .exec_without_returning(txn)
                .await?;
                Ok(Created::new(
                    recorded.id,
                    "visit.create",
                    "Visit",
                    snapshot(&recorded, &user.username, &checked),
                    recorded,
                ))
            },
        )
        .await?;
        Ok(Visit(created))
    }
}
