//! The `fupin` binary as an operator runs it: serve (with and without the demo
//! county), migrate, export-schema.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use tests::{Backend, TestDatabase, on_both_backends};

on_both_backends!(
    serve_demo_loads_and_serves_the_demo_county_once,
    serve_without_demo_never_seeds,
    migrate_reports_applies_and_rolls_back,
);

fn fupin(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fupin"));
    command
        .env("DATABASE_URL", database_url)
        .env("FUPIN_LOG_FORMAT", "json")
        .env("RUST_LOG", "info");
    command
}

/// A running `fupin serve`, killed when dropped.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(database_url: &str, demo: bool) -> Server {
        let mut command = fupin(database_url);
        command.args(["serve", "--bind", "127.0.0.1:0"]);
        if demo {
            command.arg("--demo");
        }
        let mut child = command
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start fupin");
        let stderr = child.stderr.take().expect("stderr");
        let mut address = None;
        for line in BufReader::new(stderr).lines() {
            let line = line.expect("log line");
            let Ok(event) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if event["fields"]["message"] == "serving GraphQL at /graphql" {
                address = event["fields"]["address"].as_str().map(str::to_owned);
                break;
            }
        }
        Server {
            child,
            address: address.expect("the server logs its address"),
        }
    }

    async fn query(&self, query: &str) -> Value {
        reqwest::Client::new()
            .post(format!("http://{}/graphql", self.address))
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

async fn serve_demo_loads_and_serves_the_demo_county_once(backend: Backend) {
    let database = TestDatabase::create(&backend).await;
    let server = Server::start(&database.url, true);
    let body = server
        .query("{ county { name } households { totalCount } }")
        .await;
    assert_eq!(body["data"]["county"]["name"], "清水江县");
    assert_eq!(
        body["data"]["households"]["totalCount"],
        api::seed::DEMO_HOUSEHOLDS
    );
    drop(server);
    // A second start finds the county there and loads nothing more.
    let server = Server::start(&database.url, true);
    let body = server.query("{ households { totalCount } }").await;
    assert_eq!(
        body["data"]["households"]["totalCount"],
        api::seed::DEMO_HOUSEHOLDS
    );
}

async fn serve_without_demo_never_seeds(backend: Backend) {
    let database = TestDatabase::create(&backend).await;
    let server = Server::start(&database.url, false);
    let body = server
        .query("{ households { totalCount } villages { totalCount } }")
        .await;
    assert_eq!(body["data"]["households"]["totalCount"], 0);
    assert_eq!(body["data"]["villages"]["totalCount"], 0);
}

async fn migrate_reports_applies_and_rolls_back(backend: Backend) {
    let database = TestDatabase::create(&backend).await;
    let run = |args: &[&str]| {
        let output = fupin(&database.url).args(args).output().expect("run fupin");
        assert!(
            output.status.success(),
            "fupin {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(run(&["migrate", "status"]).contains("Pending"));
    run(&["migrate", "up"]);
    let status = run(&["migrate", "status"]);
    assert!(
        status.contains("m20261129_000001_create_filing_card") && status.contains("Applied"),
        "{status}"
    );
    run(&["migrate", "down", "--steps", "1"]);
    assert!(run(&["migrate", "status"]).contains("Pending"));
    run(&["migrate", "up"]);
    run(&["seed", "--households", "30", "--seed", "3"]);
}

#[test]
fn export_schema_prints_the_checked_in_sdl() {
    let output = Command::new(env!("CARGO_BIN_EXE_fupin"))
        .arg("export-schema")
        .output()
        .expect("run fupin");
    assert!(output.status.success());
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql"))
            .expect("schema.graphql");
    assert_eq!(String::from_utf8_lossy(&output.stdout), checked_in);
}
