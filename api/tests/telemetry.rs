//! What `fupin serve` tells its operator, read as an operator reads it: one
//! access line per request in its JSON log (and nothing a caller sent in it),
//! and a trace per request sent over OTLP to a collector, with the request's
//! ID, its GraphQL root fields and its SQL statements.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use entity::enums::Role;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::{Value, json};
use tests::process::{Server, fupin};
use tests::{Backend, TEST_JWT_SECRET, TestDatabase, create_user, on_both_backends, token_of};

on_both_backends!(a_request_leaves_an_access_line_and_a_trace);

/// An ID number and a password that must never reach a log or a trace.
const SECRET_ID_NUMBER: &str = "110101199003070011";
const SECRET_PASSWORD: &str = "hunter2-but-longer-than-that";

/// Spans an OTLP/HTTP collector received.
#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<Span>>>);

impl Collector {
    async fn start(&self) -> String {
        async fn receive(State(collector): State<Collector>, body: Bytes) -> &'static str {
            let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
            let mut spans = collector.0.lock().expect("spans");
            for resource in request.resource_spans {
                for scope in resource.scope_spans {
                    spans.extend(scope.spans);
                }
            }
            ""
        }
        let router = axum::Router::new()
            .route("/v1/traces", post(receive))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{address}")
    }

    fn spans(&self) -> Vec<Span> {
        self.0.lock().expect("spans").clone()
    }
}

fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    let value = span
        .attributes
        .iter()
        .find(|kv| kv.key == key)?
        .value
        .as_ref()?;
    match value.value.as_ref()? {
        AnyValue::StringValue(text) => Some(text),
        _ => None,
    }
}

/// The events of one target in the server's log.
fn events_of(server: &Server, target: &str) -> Vec<Value> {
    server
        .events()
        .into_iter()
        .filter(|event| event["target"] == target)
        .collect()
}

/// Polls `check` until it gives something, for up to ten seconds.
async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    for _ in 0..100 {
        if let Some(found) = check() {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} never came");
}

async fn a_request_leaves_an_access_line_and_a_trace(backend: Backend) {
    let database = TestDatabase::migrated(&backend).await;
    let db = api::db::connect(&database.url).await.expect("connect");
    let admin = create_user(&db, "chief", Role::CountyAdmin, None, None).await;
    let collector = Collector::default();
    let mut command = fupin(env!("CARGO_BIN_EXE_fupin"), &database.url);
    command
        .env(
            "FUPIN_JWT_SECRET",
            std::str::from_utf8(TEST_JWT_SECRET).expect("text"),
        )
        .env("FUPIN_OTLP_ENDPOINT", collector.start().await)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env("FUPIN_METRICS_BIND", "127.0.0.1:0");
    let served = Server::start(command, false);

    let (status, _, _) = served
        .post_graphql(
            None,
            &json!({
                "query": "mutation SignIn($password: String!) { login(username: \"chief\", password: $password) { accessToken } }",
                "variables": { "password": SECRET_PASSWORD },
            }),
        )
        .await;
    assert_eq!(status, 200);
    let (status, headers, answer) = served
        .post_graphql(
            Some(&token_of(&admin)),
            &json!({
                "query": "query Lookup($search: String) { households(first: 5, filter: { search: $search }) { totalCount nodes { number } } }",
                "variables": { "search": SECRET_ID_NUMBER },
            }),
        )
        .await;
    assert_eq!(status, 200);
    let request_id = headers["x-request-id"].to_str().expect("text").to_owned();
    assert!(answer["errors"].is_null(), "{answer}");

    // One access line for each request, with who, what and how long.
    let lines = eventually("two access lines", || {
        let lines = events_of(&served, "fupin::access");
        (lines.len() >= 2).then_some(lines)
    })
    .await;
    let sign_in = &lines[0]["fields"];
    assert_eq!(sign_in["operation"], "SignIn");
    assert_eq!(sign_in["codes"], "UNAUTHENTICATED");
    assert!(sign_in["user"].is_null());
    let line = &lines[1];
    let fields = &line["fields"];
    assert_eq!(fields["method"], "POST");
    assert_eq!(fields["route"], "/graphql");
    assert_eq!(fields["status"], 200);
    assert_eq!(fields["operation"], "Lookup");
    assert_eq!(fields["user"], admin.id);
    assert_eq!(fields["codes"], "");
    assert!(fields["cost"].as_u64() > Some(0), "{line}");
    assert!(fields["statements"].as_u64() > Some(0), "{line}");
    assert!(fields["duration_ms"].as_f64() > Some(0.0), "{line}");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["span"]["id"], request_id.as_str(), "{line}");

    // The trace: the request, its root field and its statements, one trace.
    let spans = eventually("the request's trace", || {
        let spans = collector.spans();
        let request = spans
            .iter()
            .find(|span| attribute(span, "id") == Some(request_id.as_str()))?
            .clone();
        let trace: Vec<Span> = spans
            .into_iter()
            .filter(|span| span.trace_id == request.trace_id)
            .collect();
        trace
            .iter()
            .any(|span| span.name.starts_with("sea_orm"))
            .then_some((request, trace))
    })
    .await;
    let (request, trace) = spans;
    assert_eq!(request.name, "request");
    assert!(
        request.parent_span_id.is_empty(),
        "the request is the trace's root"
    );
    let field = trace
        .iter()
        .find(|span| span.name == "Query.households")
        .expect("a span for the root field");
    assert_eq!(field.parent_span_id, request.span_id);
    let statements: Vec<&Span> = trace
        .iter()
        .filter(|span| attribute(span, "db.system").is_some())
        .collect();
    assert!(!statements.is_empty());
    assert!(
        statements.iter().any(
            |span| attribute(span, "db.statement").is_some_and(|sql| sql.contains("household"))
        ),
        "the statements are named by their SQL"
    );

    // The metrics, on their own private address without a token; not on the
    // service's address, which has no token configured.
    let metrics_at = served
        .events()
        .into_iter()
        .find(|event| event["fields"]["message"] == "serving metrics at /metrics")
        .and_then(|event| event["fields"]["address"].as_str().map(str::to_owned))
        .expect("the metrics address is logged");
    let client = reqwest::Client::new();
    let metrics = client
        .get(format!("http://{metrics_at}/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.expect("text");
    assert!(
        text.contains(
            r#"fupin_graphql_operations_total{operation="Lookup",outcome="ok",code=""} 1"#
        ),
        "{text}"
    );
    let closed = client
        .get(served.url("/metrics"))
        .send()
        .await
        .expect("GET");
    assert_eq!(closed.status(), 404);

    // Nothing the caller sent reached the log or the trace.
    let log = format!("{:?}", served.events());
    let traced = format!("{:?}", collector.spans());
    for secret in [SECRET_ID_NUMBER, SECRET_PASSWORD] {
        assert!(!log.contains(secret), "the log carries {secret}");
        assert!(!traced.contains(secret), "the trace carries {secret}");
    }
}
