//! Visits (入户走访): what a helper cadre or an organiser did at a household on
//! a day. Field apps record visits offline and sync them later, so a visit is
//! created under the client's idempotency key: a retry returns the first visit.
//! Visits are records of fact: appended, never edited.

use crate::graphql::date::Day;
use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::HelpKind;
use entity::visit;

use super::super::account::Account;
use super::super::household::Household;
use super::super::relay::{NodeKind, decode_id_of, global_id};
use crate::domain::pairing::{self as pairings, NewVisit};
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{actor, db, loaders, viewer};

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
    async fn visited_on(&self) -> Day {
        Day(self.0.visited_on)
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
    visited_on: Day,
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

#[derive(Default)]
pub struct VisitMutation;

#[Object]
impl VisitMutation {
    /// Records a visit to a household the caller helps, as its visitor (记录走访).
    /// The same idempotency key returns the first visit; with another input it is a CONFLICT.
    async fn record_visit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The visit (走访记录).")] input: RecordVisitInput,
    ) -> ApiResult<Visit> {
        let actor = actor(ctx)?;
        let (_, household_id) =
            decode_id_of(&input.household_id, "householdId", &[NodeKind::Household])?;
        let new = NewVisit {
            household_id,
            visited_on: input.visited_on.0,
            help: input.help,
            notes: input.notes,
            latitude: input.latitude,
            longitude: input.longitude,
            photos: input.photos,
        };
        let key = &input.idempotency_key;
        let visit = pairings::record_visit(db(ctx)?, viewer(ctx)?, &actor, key, new).await?;
        Ok(Visit(visit))
    }
}
