//! Letting a caller in: who it is, and whether its budget has a request left;
//! and the budget's headers and the cost on the way out.

use std::net::IpAddr;

use async_graphql::Value;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};

use super::{Media, request_error, viewer_of_request};
use crate::access::Viewer;
use crate::app::AppState;
use crate::budget::{self, Client, Standing};
use crate::error::code;
use crate::graphql::cost::Meter;

/// A caller let in: who it is, from where, whose budget it spends, and what
/// is left of it.
pub(crate) struct Admitted {
    pub viewer: Viewer,
    pub source: IpAddr,
    pub client: Client,
    pub standing: Standing,
}

/// Resolves the caller and takes one request from its budget; the refusal is
/// the response to send (401 for a bad token, 429 over the budget).
pub(crate) async fn admit(
    state: &AppState,
    headers: &HeaderMap,
    source: IpAddr,
    media: Media,
) -> Result<Admitted, axum::response::Response> {
    let viewer = match viewer_of_request(state, headers, media).await {
        Ok(viewer) => viewer,
        Err(refusal) => {
            // A bad token spends its source's requests, so guessing tokens is throttled too.
            return Err(match state.budgets.admit(Client::source(source), None) {
                Ok(_) => refusal,
                Err(over) => too_many_requests(media, &over),
            });
        }
    };
    let client = Client::of(&viewer, source);
    match state.budgets.admit(client, viewer.role()) {
        Ok(standing) => Ok(Admitted {
            viewer,
            source,
            client,
            standing,
        }),
        Err(over) => Err(too_many_requests(media, &over)),
    }
}

/// `extensions.cost`: what the query was priced at and cost, the limit of one
/// query, and the caller's cost budget in this replica.
pub(super) fn cost_extension(
    meter: &Meter,
    max_cost: usize,
    standing: &Standing,
    left: usize,
) -> Value {
    let per_minute = standing.cost_capacity;
    let budget = Value::from_json(serde_json::json!({
        "limit": per_minute,
        "remaining": left,
        "restoredPerSecond": per_minute / 60,
    }))
    .unwrap_or(Value::Null);
    let mut cost = async_graphql::indexmap::IndexMap::new();
    cost.insert(
        async_graphql::Name::new("requested"),
        Value::from(meter.requested()),
    );
    cost.insert(
        async_graphql::Name::new("actual"),
        Value::from(meter.actual()),
    );
    cost.insert(async_graphql::Name::new("limit"), Value::from(max_cost));
    cost.insert(async_graphql::Name::new("budget"), budget);
    Value::Object(cost)
}

/// The request budget's headers, as GitHub and others send them.
pub(super) fn with_standing(
    mut response: axum::response::Response,
    standing: &Standing,
) -> axum::response::Response {
    let headers = response.headers_mut();
    headers.insert(RATE_LIMIT, HeaderValue::from(standing.request_capacity));
    headers.insert(RATE_REMAINING, HeaderValue::from(standing.requests_left));
    headers.insert(RATE_RESET, HeaderValue::from(standing.reset_secs));
    response
}

pub(crate) const RATE_LIMIT: &str = "x-ratelimit-limit";
pub(crate) const RATE_REMAINING: &str = "x-ratelimit-remaining";
pub(crate) const RATE_RESET: &str = "x-ratelimit-reset";

pub(super) fn set_retry_after(response: &mut axum::response::Response, wait: std::time::Duration) {
    // Whole seconds, rounded up, and never 0: a client retrying at once would be refused again.
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
}

/// 429 for a client over its budget, saying when to come back.
pub(crate) fn too_many_requests(
    media: Media,
    refusal: &budget::Refusal,
) -> axum::response::Response {
    let mut response = request_error(
        media,
        StatusCode::TOO_MANY_REQUESTS,
        code::RATE_LIMITED,
        refusal.message.clone(),
    );
    set_retry_after(&mut response, refusal.retry_after);
    let headers = response.headers_mut();
    headers.insert(RATE_LIMIT, HeaderValue::from(refusal.request_capacity));
    headers.insert(RATE_REMAINING, HeaderValue::from(0));
    response
}
