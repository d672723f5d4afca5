//! Webhooks in the schema: a provincial system (or the county office)
//! registers an endpoint for event types, gets its signing secret once, and
//! follows its deliveries and failures; the county office sees every webhook.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::enums::Role;
use entity::{app_user, audit_entry, webhook, webhook_delivery};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use super::delivery;
use super::feed::{check_types, encode_cursor, event_id};
use crate::access::Viewer;
use crate::audit::{self, Change};
use crate::auth;
use crate::domain::write;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{actor, db, viewer};

/// Deliveries listed at most at a time.
const MAX_DELIVERIES: i32 = 100;

/// An endpoint registered for events (事件推送订阅).
pub struct Webhook(webhook::Model);

/// An endpoint registered for events, and how its delivery stands (事件推送订阅).
#[Object]
impl Webhook {
    /// The webhook's number.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Where events are posted.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// The entity types it receives (empty: all of the change feed's).
    async fn event_types(&self) -> Vec<String> {
        serde_json::from_str(&self.0.event_types).unwrap_or_default()
    }
    /// Whether events are being delivered.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Who registered it: their field policy shapes the events' states.
    async fn owner(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        Ok(app_user::Entity::find_by_id(self.0.owner_id)
            .one(db(ctx)?)
            .await?
            .map(|u| u.username))
    }
    /// The event delivered last, as a change-feed cursor.
    async fn delivered_through(&self) -> String {
        encode_cursor(self.0.position)
    }
    /// Events committed and wanted but not yet delivered (待推送).
    async fn backlog(&self, ctx: &Context<'_>) -> ApiResult<u64> {
        use sea_orm::PaginatorTrait;
        Ok(audit_entry::Entity::find()
            .filter(audit_entry::Column::Id.gt(self.0.position))
            .filter(audit_entry::Column::EntityType.is_in(delivery::wanted_types(&self.0)))
            .count(db(ctx)?)
            .await?)
    }
    /// Failed attempts at the next event since the last success.
    async fn failures(&self) -> i32 {
        self.0.failures
    }
    /// Why the last attempt failed, until one succeeds.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When the next attempt is due after a failure.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_attempt_at
    }
    /// The latest delivery attempts, newest first (推送记录).
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (1 to 100).", default = 20)] first: i32,
        #[graphql(desc = "Only failed attempts.", default = false)] failed_only: bool,
    ) -> ApiResult<Vec<WebhookDelivery>> {
        if !(1..=MAX_DELIVERIES).contains(&first) {
            return Err(ApiError::bad_input(
                "first",
                format!("from 1 to {MAX_DELIVERIES} deliveries at a time"),
            ));
        }
        let mut select = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::WebhookId.eq(self.0.id));
        if failed_only {
            select = select.filter(webhook_delivery::Column::Delivered.eq(false));
        }
        Ok(select
            .order_by_desc(webhook_delivery::Column::Id)
            .limit(u64::try_from(first).unwrap_or(1))
            .all(db(ctx)?)
            .await?
            .into_iter()
            .map(WebhookDelivery)
            .collect())
    }
    /// The version, for `setWebhookActive`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// One attempt to deliver an event (推送尝试).
pub struct WebhookDelivery(webhook_delivery::Model);

/// One attempt to deliver an event to a webhook (推送尝试).
#[Object]
impl WebhookDelivery {
    /// The event's ID (a global ID), as its `x-fupin-event-id` header carried it.
    async fn event_id(&self) -> String {
        event_id(self.0.event_id)
    }
    /// 1 for the first attempt at the event.
    async fn attempt(&self) -> i32 {
        self.0.attempt
    }
    /// When it was made.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The receiver's HTTP status, if it answered.
    async fn status_code(&self) -> Option<i32> {
        self.0.status_code
    }
    /// Why it failed.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// Whether the receiver took the event.
    async fn delivered(&self) -> bool {
        self.0.delivered
    }
    /// How long the attempt took, in milliseconds.
    async fn duration_ms(&self) -> i64 {
        self.0.duration_ms
    }
}

/// A new webhook (注册事件推送).
#[derive(InputObject)]
pub struct RegisterWebhookInput {
    /// Where to post events: an http or https URL.
    url: String,
    /// The entity types to receive, as the change feed names them (`Household`,
    /// `Member`...); none for all.
    #[graphql(default)]
    event_types: Vec<String>,
}

/// A registered webhook and its signing secret, shown this once (注册结果).
#[derive(SimpleObject)]
pub struct WebhookRegistration {
    /// The webhook registered.
    webhook: Webhook,
    /// The key of the `x-fupin-signature` HMAC-SHA256; keep it.
    secret: String,
}

/// The webhooks `viewer` may see: all for the county office, their own otherwise.
fn visible(viewer: &Viewer) -> ApiResult<sea_orm::Select<webhook::Entity>> {
    let user = viewer.user()?;
    let select = webhook::Entity::find();
    Ok(if user.role == Role::CountyAdmin {
        select
    } else {
        select.filter(webhook::Column::OwnerId.eq(user.id))
    })
}

fn snapshot(hook: &webhook::Model) -> serde_json::Value {
    json!({
        "url": hook.url,
        "eventTypes": serde_json::from_str::<serde_json::Value>(&hook.event_types).unwrap_or_default(),
        "active": hook.active,
        "owner": hook.owner_id,
        "version": hook.version,
    })
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// Registered webhooks with their deliveries and failures (事件推送订阅):
    /// every one for the county office, a provincial system's own for it.
    async fn webhooks(&self, ctx: &Context<'_>) -> ApiResult<Vec<Webhook>> {
        Ok(visible(viewer(ctx)?)?
            .order_by_asc(webhook::Column::Id)
            .all(db(ctx)?)
            .await?
            .into_iter()
            .map(Webhook)
            .collect())
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers an endpoint for events from now on (注册事件推送); the answer
    /// carries the signing secret, which is not shown again.
    async fn register_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Where and what to deliver (订阅).")] input: RegisterWebhookInput,
    ) -> ApiResult<WebhookRegistration> {
        let viewer = viewer(ctx)?;
        let actor = actor(ctx)?;
        let url = reqwest::Url::parse(input.url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| ApiError::bad_input("url", "an http or https URL"))?;
        check_types("eventTypes", &input.event_types)?;
        let mut types = input.event_types.clone();
        types.sort();
        types.dedup();
        let txn = write::begin(db(ctx)?).await?;
        // Events from now on: the position is the last entry committed.
        let position = audit_entry::Entity::find()
            .order_by_desc(audit_entry::Column::Id)
            .one(&txn)
            .await?
            .map_or(0, |e| e.id);
        let secret = auth::new_refresh_token().0;
        let now = Utc::now();
        let hook = webhook::ActiveModel {
            owner_id: Set(viewer.user()?.id),
            url: Set(url.to_string()),
            secret: Set(secret.clone()),
            event_types: Set(json!(types).to_string()),
            active: Set(true),
            position: Set(position),
            failures: Set(0),
            next_attempt_at: Set(None),
            leased_until: Set(None),
            last_error: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let change = Change {
            action: "webhook.register",
            entity_type: "Webhook",
            entity_id: hook.id,
            before: None,
            after: Some(snapshot(&hook)),
        };
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
        Ok(WebhookRegistration {
            webhook: Webhook(hook),
            secret,
        })
    }

    /// Pauses or resumes a webhook (暂停/恢复推送); resuming retries at once.
    async fn set_webhook_active(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook.")] id: ID,
        #[graphql(desc = "The version read.")] version: i32,
        #[graphql(desc = "Deliver (true) or hold events (false).")] active: bool,
    ) -> ApiResult<Webhook> {
        let viewer = viewer(ctx)?;
        let actor = actor(ctx)?;
        let raw: i64 = id
            .parse()
            .map_err(|_| ApiError::bad_input("id", format!("`{}` is not a webhook ID", id.0)))?;
        let txn = write::begin(db(ctx)?).await?;
        let before = write::one_locked(&txn, visible(viewer)?.filter(webhook::Column::Id.eq(raw)))
            .await?
            .ok_or_else(|| ApiError::not_found("Webhook"))?;
        write::check_version("webhook", version, before.version, || snapshot(&before))?;
        let mut after: webhook::ActiveModel = before.clone().into();
        after.active = Set(active);
        if active {
            after.next_attempt_at = Set(None);
        }
        after.version = Set(before.version + 1);
        after.updated_at = Set(Utc::now());
        let after = after.update(&txn).await?;
        let change = Change {
            action: if active {
                "webhook.resume"
            } else {
                "webhook.pause"
            },
            entity_type: "Webhook",
            entity_id: after.id,
            before: Some(snapshot(&before)),
            after: Some(snapshot(&after)),
        };
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
        Ok(Webhook(after))
    }
}
