//! The access log and the request metrics: one line at `info` per request,
//! with what an operator needs to follow it (method, route, status, time,
//! operation names, cost, statements, user ID) and nothing a caller sent:
//! never variables, documents or personal data.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::metrics::{Metrics, counting_statements};

/// What the GraphQL handler tells the access log of a request it answered.
#[derive(Clone, Default)]
pub struct Outcome {
    /// The operations that ran (one, or a batch's).
    pub operations: Vec<Operation>,
    /// The code of a request refused before any operation ran.
    pub refused: Option<String>,
    /// The signed-in caller.
    pub user: Option<i64>,
}

/// One GraphQL operation of a request.
#[derive(Clone)]
pub struct Operation {
    /// Its name in the document; `None` for an anonymous one, or a document
    /// that never parsed.
    pub name: Option<String>,
    /// The code of its first error.
    pub code: Option<String>,
    /// The cost it spent.
    pub cost: usize,
}

/// Logs and counts every request once answered.
pub async fn observe(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // A route, never the path itself: a path is the caller's to choose.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let (response, statements) = counting_statements(next.run(request)).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    metrics.http_request(&route, method.as_str(), status, took, statements);
    let outcome = response.extensions().get::<Outcome>();
    let mut names = Vec::new();
    let mut cost = 0;
    let mut codes = Vec::new();
    if let Some(outcome) = outcome {
        for operation in &outcome.operations {
            metrics.operation(
                operation.name.as_deref(),
                operation.code.as_deref(),
                operation.cost,
                took,
            );
            names.push(operation.name.as_deref().unwrap_or("-"));
            cost += operation.cost;
            codes.extend(operation.code.as_deref());
        }
        codes.extend(outcome.refused.as_deref());
    }
    tracing::info!(
        target: "fupin::access",
        method = %method,
        route,
        status,
        duration_ms = took.as_secs_f64() * 1000.0,
        operation = names.join(","),
        cost,
        statements,
        codes = codes.join(","),
        user = outcome.and_then(|o| o.user),
        "request"
    );
    response
}
