//! The `fupin` binary as an operator runs it: a command on a test's database,
//! and `fupin serve` on a free port, stopped when dropped. The binary's path
//! is the caller's (`env!("CARGO_BIN_EXE_fupin")` in the api crate's tests).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// `fupin` on `database_url`, logging JSON at `info` to standard error, with
/// no signing secret from the test's own environment.
pub fn fupin(binary: impl AsRef<Path>, database_url: &str) -> Command {
    let mut command = Command::new(binary.as_ref());
    command
        .env("DATABASE_URL", database_url)
        .env("FUPIN_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env_remove("FUPIN_JWT_SECRET");
    command
}

/// A running `fupin serve`, killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    /// The demo users' password, when started with `--demo`.
    pub demo_password: Option<String>,
    client: reqwest::Client,
    /// The log events it has written, read as they come so that the process
    /// never blocks on a full pipe.
    log: Arc<Mutex<Vec<Value>>>,
}

impl Server {
    /// Runs `command` (see [`fupin`]) as `serve --bind 127.0.0.1:0`, with
    /// `--demo` when `demo`, and waits until it logs the address it serves.
    pub fn start(mut command: Command, demo: bool) -> Server {
        command.args(["serve", "--bind", "127.0.0.1:0"]);
        if demo {
            command.arg("--demo");
        }
        let mut child = command
            .stderr(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start fupin");
        let demo_password = demo.then(|| {
            let stdout = child.stdout.take().expect("stdout");
            let line = BufReader::new(stdout)
                .lines()
                .next()
                .expect("a line")
                .expect("text");
            line.rsplit_once(": ")
                .expect("the password is printed")
                .1
                .to_owned()
        });
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let mut addr = None;
        let mut before = Vec::new();
        for line in lines.by_ref() {
            let line = line.expect("log line");
            let Ok(event) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let serving = event["fields"]["message"] == "serving GraphQL at /graphql";
            if serving {
                addr = event["fields"]["address"]
                    .as_str()
                    .and_then(|a| a.parse().ok());
            }
            before.push(event);
            if serving {
                break;
            }
        }
        let log = Arc::new(Mutex::new(before));
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str::<Value>(&line) {
                    kept.lock().unwrap_or_else(|e| e.into_inner()).push(event);
                }
            }
        });
        Server {
            child,
            addr: addr.expect("the server logs its address"),
            demo_password,
            client: reqwest::Client::new(),
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The events it has logged at `level` (`WARN`...).
    pub fn logged(&self, level: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|event| event["level"] == level)
            .collect()
    }

    /// Every event it has logged so far.
    pub fn events(&self) -> Vec<Value> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// POSTs a GraphQL request body with a token or as the public; returns
    /// the status, headers and JSON body, whatever the status.
    pub async fn post_graphql(
        &self,
        token: Option<&str>,
        body: &Value,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        crate::post_graphql_to(&self.client, self.url("/graphql"), token, body).await
    }

    /// The whole JSON answer to a query without variables, whatever its status.
    pub async fn query(&self, query: &str, token: Option<&str>) -> Value {
        self.post_graphql(token, &json!({ "query": query })).await.2
    }

    /// The whole JSON answer to a query with variables; asserts HTTP 200.
    pub async fn graphql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let request = json!({ "query": query, "variables": variables });
        let (status, _, body) = self.post_graphql(token, &request).await;
        assert_eq!(status, 200, "unexpected status, body: {body}");
        body
    }

    /// Like [`graphql_as`](Self::graphql_as), and asserts there were no errors; returns `data`.
    pub async fn query_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.graphql_as(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Logs in as a demo user.
    pub async fn login(&self, username: &str) -> String {
        let password = self.demo_password.as_deref().expect("a demo server");
        let mutation = format!(
            r#"mutation {{ login(username: "{username}", password: "{password}") {{ accessToken }} }}"#
        );
        let body = self.query(&mutation, None).await;
        body["data"]["login"]["accessToken"]
            .as_str()
            .expect("a token")
            .to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}
