//! What `fupin serve` tells its operator, read as an operator reads it: one
//! access line per request in its JSON log (and nothing a caller sent in it),
//! and a trace per request sent over OTLP to a collector, with the request's
//! ID, its GraphQL root fields and its SQL statements.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
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

/// `fupin serve` logging JSON, with its stderr read line by line.
struct Served {
    child: Child,
    address: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Served {
    fn start(database_url: &str, collector: &str) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fupin"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", database_url)
            .env("FUPIN_LOG_FORMAT", "json")
            .env_remove("RUST_LOG")
            .env(
                "FUPIN_JWT_SECRET",
                std::str::from_utf8(TEST_JWT_SECRET).expect("text"),
            )
            .env("FUPIN_OTLP_ENDPOINT", collector)
            .env("OTEL_BSP_SCHEDULE_DELAY", "100")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start fupin");
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let mut address = None;
        for line in stderr.by_ref() {
            let line = line.expect("log line");
            let event: Value = serde_json::from_str(&line).unwrap_or_default();
            if event["fields"]["message"] == "serving GraphQL at /graphql" {
                address = event["fields"]["address"].as_str().map(str::to_owned);
                break;
            }
        }
        let lines = Arc::new(Mutex::new(Vec::new()));
        let kept = lines.clone();
        std::thread::spawn(move || {
            for line in stderr.map_while(Result::ok) {
                kept.lock().expect("lines").push(line);
            }
        });
        Served {
            child,
            address: address.expect("the server logs its address"),
            lines,
        }
    }

    async fn post(&self, token: Option<&str>, body: Value) -> reqwest::Response {
        let mut request = reqwest::Client::new()
            .post(format!("http://{}/graphql", self.address))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    /// The access lines logged so far, as JSON.
    fn access_lines(&self) -> Vec<Value> {
        self.lines
            .lock()
            .expect("lines")
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|event| event["target"] == "fupin::access")
            .collect()
    }

    fn log(&self) -> String {
        self.lines.lock().expect("lines").join("\n")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
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
    let served = Served::start(&database.url, &collector.start().await);

    let refused = served
        .post(
            None,
            json!({
                "query": "mutation SignIn($password: String!) { login(username: \"chief\", password: $password) { accessToken } }",
                "variables": { "password": SECRET_PASSWORD },
            }),
        )
        .await;
    assert_eq!(refused.status(), 200);
    let lookup = served
        .post(
            Some(&token_of(&admin)),
            json!({
                "query": "query Lookup($search: String) { households(first: 5, filter: { search: $search }) { totalCount nodes { number } } }",
                "variables": { "search": SECRET_ID_NUMBER },
            }),
        )
        .await;
    assert_eq!(lookup.status(), 200);
    let request_id = lookup.headers()["x-request-id"]
        .to_str()
        .expect("text")
        .to_owned();
    let answer: Value = lookup.json().await.expect("JSON");
    assert!(answer["errors"].is_null(), "{answer}");

    // One access line for each request, with who, what and how long.
    let lines = eventually("two access lines", || {
        let lines = served.access_lines();
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

    // Nothing the caller sent reached the log or the trace.
    let log = served.log();
    let traced = format!("{:?}", collector.spans());
    for secret in [SECRET_ID_NUMBER, SECRET_PASSWORD] {
        assert!(!log.contains(secret), "the log carries {secret}");
        assert!(!traced.contains(secret), "the trace carries {secret}");
    }
}
