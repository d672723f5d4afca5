//! Delivery of webhook events (事件推送). The outbox is the audit trail: each
//! change writes its entry in its own transaction, so an event exists exactly
//! when its change committed, and nothing is copied. Each webhook keeps its
//! position in the trail; every replica of the service polls, takes a lease on
//! a webhook that is due, posts its events one at a time in the trail's order
//! (so in order per entity), and moves the position on after each success. A
//! failure is logged and retried with doubling waits, holding back the events
//! behind it. The lease is renewed with every attempt, and outlasts one, so
//! that a slow receiver keeps one replica posting to it; a replica that stops
//! mid-delivery loses its lease, and the next one posts again from the
//! position: delivery is at least once, and the receiver drops repeats by
//! event ID.

use std::time::{Duration, Instant};

use chrono::{SubsecRound, Utc};
use entity::{app_user, audit_entry, webhook, webhook_delivery};
use hmac::{Hmac, Mac};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use sha2::Sha256;

use super::feed::{self, FEED_TYPES};
use crate::access::{self, Viewer};
use crate::config::Background;
use crate::error::ApiResult;
use crate::telemetry::metrics::Metrics;

/// Events read at a time.
const EVENTS_PER_PAGE: u64 = 100;
/// Events posted to one webhook per round before the others get their turn.
const EVENTS_PER_ROUND: u64 = 10_000;
/// A timestamp column set to NULL.
const NO_TIME: Option<chrono::DateTime<Utc>> = None;
/// A lease lasts an attempt's timeout and this margin, for the attempt's two
/// writes; each attempt renews it.
const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// The longest error text kept in the log.
const MAX_ERROR_CHARS: usize = 500;

pub const EVENT_ID_HEADER: &str = "x-fupin-event-id";
pub const TIMESTAMP_HEADER: &str = "x-fupin-timestamp";
pub const SIGNATURE_HEADER: &str = "x-fupin-signature";

/// The signature header's value: `sha256=` and the hex HMAC-SHA256, keyed by
/// the webhook's secret, of the timestamp, a dot and the body. The receiver
/// recomputes it and refuses a timestamp too far from its clock (a replay).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The entity types a webhook asks for (all of the feed's when it names none).
pub fn wanted_types(hook: &webhook::Model) -> Vec<String> {
    let named: Vec<String> = serde_json::from_str(&hook.event_types).unwrap_or_default();
    if named.is_empty() {
        FEED_TYPES
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .collect()
    } else {
        named
    }
}

/// Polls for due webhooks until the process ends.
pub async fn keep_delivering(db: DatabaseConnection, config: Background, metrics: Metrics) {
    let client = match reqwest::Client::builder().timeout(config.timeout()).build() {
        Ok(client) => client,
        Err(err) => {
            tracing::error!(error = %err, "no HTTP client: webhooks are not delivered");
            return;
        }
    };
    let mut ticks = tokio::time::interval(config.poll());
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(err) = deliver_due(&db, &client, &config, &metrics).await {
            tracing::warn!(error = ?err, "webhook delivery round failed");
        }
    }
}

/// One round: every active webhook that is due and not leased elsewhere.
async fn deliver_due(
    db: &DatabaseConnection,
    client: &reqwest::Client,
    config: &Background,
    metrics: &Metrics,
) -> ApiResult<()> {
    let now = Utc::now();
    let due = webhook::Entity::find()
        .filter(webhook::Column::Active.eq(true))
        .filter(
            Condition::any()
                .add(webhook::Column::NextAttemptAt.is_null())
                .add(webhook::Column::NextAttemptAt.lte(now)),
        )
        .order_by_asc(webhook::Column::Id)
        .all(db)
        .await?;
    for hook in due {
        let Some(mut lease) = Lease::take(db, config, hook.id).await? else {
            continue;
        };
        let delivered = deliver(db, client, config, &mut lease, metrics).await;
        // Only a lease still ours: another replica may hold it by now.
        webhook::Entity::update_many()
            .col_expr(webhook::Column::LeasedUntil, Expr::value(NO_TIME))
            .filter(lease.held())
            .exec(db)
            .await?;
        delivered?;
    }
    Ok(())
}

/// A replica's hold on a webhook. Its end time is its token: a replica that
/// finds another end time there has lost it, and writes nothing more.
struct Lease {
    webhook: i64,
    until: chrono::DateTime<Utc>,
    length: chrono::Duration,
}

impl Lease {
    /// Takes the webhook for this replica, unless another holds it.
    async fn take(
        db: &DatabaseConnection,
        config: &Background,
        webhook: i64,
    ) -> ApiResult<Option<Lease>> {
        let length = chrono::Duration::from_std(config.timeout() + LEASE_MARGIN)
            .unwrap_or(chrono::Duration::hours(1));
        let now = Utc::now();
        let lease = Lease {
            webhook,
            until: Self::end(now, length),
            length,
        };
        let taken = webhook::Entity::update_many()
            .col_expr(webhook::Column::LeasedUntil, Expr::value(lease.until))
            .filter(webhook::Column::Id.eq(webhook))
            .filter(
                Condition::any()
                    .add(webhook::Column::LeasedUntil.is_null())
                    .add(webhook::Column::LeasedUntil.lt(now)),
            )
            .exec(db)
            .await?;
        Ok((taken.rows_affected == 1).then_some(lease))
    }

    /// Microseconds, as the database keeps them, so that the token reads back equal.
    fn end(from: chrono::DateTime<Utc>, length: chrono::Duration) -> chrono::DateTime<Utc> {
        (from + length).trunc_subsecs(6)
    }

    /// The webhook, while this lease holds it.
    fn held(&self) -> Condition {
        Condition::all()
            .add(webhook::Column::Id.eq(self.webhook))
            .add(webhook::Column::LeasedUntil.eq(self.until))
    }

    /// Writes `update` to the webhook with the lease renewed, if it is still
    /// ours (and the webhook active, when `while_active`); false when not.
    async fn renew_with(
        &mut self,
        db: &DatabaseConnection,
        update: sea_orm::UpdateMany<webhook::Entity>,
        while_active: bool,
    ) -> ApiResult<bool> {
        let until = Self::end(Utc::now(), self.length);
        let mut update = update
            .col_expr(webhook::Column::LeasedUntil, Expr::value(until))
            .filter(self.held());
        if while_active {
            update = update.filter(webhook::Column::Active.eq(true));
        }
        let renewed = update.exec(db).await?.rows_affected == 1;
        if renewed {
            self.until = until;
        }
        Ok(renewed)
    }
}

/// Posts the webhook's next events, stopping at the first failure.
async fn deliver(
    db: &DatabaseConnection,
    client: &reqwest::Client,
    config: &Background,
    lease: &mut Lease,
    metrics: &Metrics,
) -> ApiResult<()> {
    // Read again under the lease: another replica may have moved it on.
    let hook = webhook::Entity::find_by_id(lease.webhook).one(db).await?;
    let Some(hook) = hook.filter(|h| h.active) else {
        return Ok(());
    };
    let owner = app_user::Entity::find_by_id(hook.owner_id).one(db).await?;
    let Some(owner) = owner.filter(|o| o.is_active) else {
        return pause(
            db,
            &hook,
            "the account that registered the webhook is disabled",
        )
        .await;
    };
    let viewer = access::viewer_of(db, &owner).await?;
    let mut position = hook.position;
    let mut failures = hook.failures;
    let mut posted = 0;
    while posted < EVENTS_PER_ROUND {
        // Read only while the webhook is active: an event committed after a
        // pause is never sent before the webhook is resumed.
        let still_active = Query::select()
            .expr(Expr::val(1))
            .from(webhook::Entity)
            .and_where(webhook::Column::Id.eq(hook.id))
            .and_where(webhook::Column::Active.eq(true))
            .to_owned();
        let events = audit_entry::Entity::find()
            .filter(audit_entry::Column::Id.gt(position))
            .filter(audit_entry::Column::EntityType.is_in(wanted_types(&hook)))
            .filter(Expr::exists(still_active))
            .order_by_asc(audit_entry::Column::Id)
            .limit(EVENTS_PER_PAGE)
            .all(db)
            .await?;
        if events.is_empty() {
            break;
        }
        for entry in events {
            let Some(kind) = feed::kind_of(&entry.entity_type) else {
                continue;
            };
            let attempt = post(client, &hook, &entry, kind, &viewer).await;
            posted += 1;
            webhook_delivery::ActiveModel {
                webhook_id: Set(hook.id),
                event_id: Set(entry.id),
                attempt: Set(failures + 1),
                at: Set(Utc::now()),
                status_code: Set(attempt.status),
                error: Set(attempt.error.clone()),
                delivered: Set(attempt.error.is_none()),
                duration_ms: Set(attempt.duration_ms),
                ..Default::default()
            }
            .insert(db)
            .await?;
            let update = webhook::Entity::update_many();
            let Some(error) = attempt.error else {
                failures = 0;
                position = entry.id;
                let moved = update
                    .col_expr(webhook::Column::Position, Expr::value(entry.id))
                    .col_expr(webhook::Column::Failures, Expr::value(0))
                    .col_expr(webhook::Column::NextAttemptAt, Expr::value(NO_TIME))
                    .col_expr(webhook::Column::LastError, Expr::value(None::<String>));
                if !lease.renew_with(db, moved, false).await? {
                    tracing::warn!(
                        webhook = hook.id,
                        event = entry.id,
                        "webhook lease lost mid-delivery"
                    );
                    return Ok(());
                }
                continue;
            };
            failures += 1;
            metrics.webhook_failure();
            let next = Utc::now()
                + chrono::Duration::from_std(config.backoff(failures))
                    .unwrap_or(chrono::Duration::hours(1));
            tracing::info!(webhook = hook.id, event = entry.id, failures, %error, "webhook delivery failed");
            let failed = update
                .col_expr(webhook::Column::Failures, Expr::value(failures))
                .col_expr(webhook::Column::NextAttemptAt, Expr::value(next))
                .col_expr(webhook::Column::LastError, Expr::value(error));
            lease.renew_with(db, failed, false).await?;
            return Ok(());
        }
        // A long backlog: go on, unless the webhook was paused meanwhile.
        let unchanged = webhook::Entity::update_many();
        if !lease.renew_with(db, unchanged, true).await? {
            break;
        }
    }
    Ok(())
}

async fn pause(db: &DatabaseConnection, hook: &webhook::Model, why: &str) -> ApiResult<()> {
    tracing::warn!(webhook = hook.id, why, "webhook paused");
    let mut paused: webhook::ActiveModel = hook.clone().into();
    paused.active = Set(false);
    paused.last_error = Set(Some(why.to_owned()));
    paused.version = Set(hook.version + 1);
    paused.updated_at = Set(Utc::now());
    paused.update(db).await?;
    Ok(())
}

/// What became of one post.
struct Attempt {
    status: Option<i32>,
    /// None when the receiver took the event (a 2xx answer).
    error: Option<String>,
    duration_ms: i64,
}

async fn post(
    client: &reqwest::Client,
    hook: &webhook::Model,
    entry: &audit_entry::Model,
    kind: crate::graphql::relay::NodeKind,
    viewer: &Viewer,
) -> Attempt {
    let event = feed::event(entry, kind, viewer);
    let started = Instant::now();
    let body = match serde_json::to_vec(&event) {
        Ok(body) => body,
        Err(err) => {
            return Attempt {
                status: None,
                error: Some(format!("the event cannot be written: {err}")),
                duration_ms: 0,
            };
        }
    };
    let timestamp = Utc::now().timestamp();
    let sent = client
        .post(&hook.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(
            EVENT_ID_HEADER,
            event["eventId"].as_str().unwrap_or_default(),
        )
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, sign(&hook.secret, timestamp, &body))
        .body(body)
        .send()
        .await;
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let (status, error) = match sent {
        Ok(response) if response.status().is_success() => {
            (Some(i32::from(response.status().as_u16())), None)
        }
        Ok(response) => (
            Some(i32::from(response.status().as_u16())),
            Some(format!("the receiver answered {}", response.status())),
        ),
        Err(err) => (None, Some(error_text(&err))),
    };
    Attempt {
        status,
        error,
        duration_ms,
    }
}

/// The error with its causes, cut to a length the log keeps.
fn error_text(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(MAX_ERROR_CHARS).collect()
}
