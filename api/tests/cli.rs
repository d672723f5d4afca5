//! The `fupin` binary as an operator runs it: serve (with and without the demo
//! county), migrate, export-schema, export and import, regions.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use chrono::Datelike;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{Backend, TestDatabase, on_both_backends};

on_both_backends!(
    serve_demo_loads_and_serves_the_demo_county_once,
    serve_without_demo_never_seeds,
    migrate_reports_applies_and_rolls_back,
    the_first_administrator_is_made_on_the_command_line,
    a_register_exported_on_the_command_line_imports_into_an_empty_one,
    a_divisions_file_sets_up_an_empty_register,
    a_whole_register_moves_into_an_empty_database_with_its_divisions,
);

fn fupin(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fupin"));
    command
        .env("DATABASE_URL", database_url)
        .env("FUPIN_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env_remove("FUPIN_JWT_SECRET");
    command
}

/// A running `fupin serve`, killed when dropped.
struct Server {
    child: Child,
    address: String,
    /// The demo users' password, when started with `--demo`.
    demo_password: Option<String>,
}

impl Server {
    fn start(database_url: &str, demo: bool) -> Server {
        let mut command = fupin(database_url);
        command.args(["serve", "--bind", "127.0.0.1:0"]);
        if demo {
            command.arg("--demo");
        } else {
            command.env("FUPIN_JWT_SECRET", "a-secret-for-the-cli-tests-0123456789");
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
            demo_password,
        }
    }

    async fn query(&self, query: &str, token: Option<&str>) -> Value {
        let mut request = reqwest::Client::new()
            .post(format!("http://{}/graphql", self.address))
            .json(&json!({ "query": query }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON")
    }

    /// Logs in as a demo user.
    async fn login(&self, username: &str) -> String {
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

async fn serve_demo_loads_and_serves_the_demo_county_once(backend: Backend) {
    let database = TestDatabase::create(&backend).await;
    let server = Server::start(&database.url, true);
    let admin = server.login("admin").await;
    let body = server
        .query(
            "{ county { name } households { totalCount } }",
            Some(&admin),
        )
        .await;
    assert_eq!(body["data"]["county"]["name"], "清水江县");
    assert_eq!(
        body["data"]["households"]["totalCount"],
        api::seed::DEMO_HOUSEHOLDS
    );
    // Every demo person can sign in; the public sees no household.
    for username in api::seed::DEMO_USERNAMES
        .iter()
        .filter(|u| **u != "province")
    {
        server.login(username).await;
    }
    let public = server.query("{ households { totalCount } }", None).await;
    assert_eq!(public["data"]["households"]["totalCount"], 0);
    demo_dashboards_show_assistance(&server, &admin).await;
    let first_password = server.demo_password.clone();
    drop(server);
    // A second start finds the county there, loads nothing more, and gives the
    // demo users a new password.
    let server = Server::start(&database.url, true);
    assert_ne!(server.demo_password, first_password);
    let admin = server.login("admin").await;
    let body = server
        .query("{ households { totalCount } }", Some(&admin))
        .await;
    assert_eq!(
        body["data"]["households"]["totalCount"],
        api::seed::DEMO_HOUSEHOLDS
    );
}

/// Every part of assistance shows on the demo's dashboards, as the county
/// office and the demo helper cadre open them.
async fn demo_dashboards_show_assistance(server: &Server, admin: &str) {
    let county = "Q291bnR5OjE";
    let body = server
        .query(
            &format!(
                "{{ planCompletion(regionId: \"{county}\") {{ overall {{ measures done overdue }} }}
                   statistics(regionId: \"{county}\", year: {year}) {{ pairing {{ paired notVisitedIn90Days households }} }}
                   microcredit(regionId: \"{county}\") {{ loans repaid overdueLoans }}
                   enterpriseRanking(year: {year}) {{ householdsLinked }}
                   helperUnits {{ totalCount }}
                   projectAssets(regionId: \"{county}\", year: {last_year}) {{ assets income distributed }}
                   villages(filter: {{ isPovertyVillage: true }}) {{ nodes {{ firstSecretary {{ name }} helperUnits {{ name }} }} }} }}",
                year = api::domain::calendar::today().year(),
                last_year = api::domain::calendar::today().year() - 1,
            ),
            Some(admin),
        )
        .await;
    let data = &body["data"];
    let overall = &data["planCompletion"]["overall"];
    assert!(overall["measures"].as_i64() > Some(0), "{body}");
    assert!(overall["done"].as_i64() > Some(0), "{body}");
    assert!(overall["overdue"].as_i64() > Some(0), "{body}");
    let pairing = &data["statistics"]["pairing"];
    assert!(pairing["paired"].as_i64() > Some(0), "{body}");
    assert!(
        pairing["paired"].as_i64() < pairing["households"].as_i64(),
        "{body}"
    );
    let loans = &data["microcredit"];
    assert!(loans["loans"].as_i64() > Some(0), "{body}");
    assert_ne!(loans["repaid"], "0.00", "{body}");
    assert!(
        data["enterpriseRanking"][0]["householdsLinked"].as_i64() > Some(0),
        "{body}"
    );
    assert_eq!(data["helperUnits"]["totalCount"], 4);
    let assets = &data["projectAssets"];
    assert!(assets["assets"].as_i64() > Some(0), "{body}");
    assert_ne!(assets["distributed"], "0.00", "{body}");
    for village in data["villages"]["nodes"].as_array().expect("villages") {
        assert!(village["firstSecretary"]["name"].is_string(), "{village}");
        assert_eq!(village["helperUnits"].as_array().map(Vec::len), Some(1));
    }
    // The demo helper cadre finds its households and their visits.
    let helper = server.login("helper").await;
    let mine = server
        .query(
            "{ households(first: 20) { totalCount nodes { lastVisitedOn } } }",
            Some(&helper),
        )
        .await;
    assert_eq!(mine["data"]["households"]["totalCount"], 10, "{mine}");
    assert!(mine["data"]["households"]["nodes"][0]["lastVisitedOn"].is_string());
}

async fn serve_without_demo_never_seeds(backend: Backend) {
    let database = TestDatabase::create(&backend).await;
    let server = Server::start(&database.url, false);
    let body = server.query("{ villages { totalCount } }", None).await;
    assert_eq!(body["data"]["villages"]["totalCount"], 0);
    drop(server);
    let disable = fupin(&database.url)
        .args(["user", "disable", "--username", "admin"])
        .output()
        .expect("run fupin");
    assert!(
        !disable.status.success(),
        "no demo user exists without --demo"
    );
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
    run(&["seed", "--households", "30", "--seed", "3"]);
    // The last two over a register: lz4 for the audit trail, and returns in
    // the tally, whose way down rebuilds SQLite's tally tables with their rows.
    run(&["migrate", "down", "--steps", "2"]);
    assert!(run(&["migrate", "status"]).contains("Pending"));
    run(&["migrate", "up"]);
    assert!(!run(&["migrate", "status"]).contains("Pending"));
}

async fn the_first_administrator_is_made_on_the_command_line(backend: Backend) {
    let database = TestDatabase::create(&backend).await;
    let run = |args: &[&str], stdin: &str| {
        let mut child = fupin(&database.url)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run fupin");
        std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), stdin.as_bytes())
            .expect("write");
        child.wait_with_output().expect("output")
    };
    let created = run(
        &[
            "user",
            "create",
            "--username",
            "chief",
            "--role",
            "county_admin",
        ],
        "a long enough password\n",
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&created.stdout),
        "chief\tcounty_admin\tactive\n"
    );
    let weak = run(
        &["user", "create", "--username", "weak", "--role", "auditor"],
        "short\n",
    );
    assert!(!weak.status.success(), "a short password is refused");
    let scoped = run(
        &[
            "user",
            "create",
            "--username",
            "nowhere",
            "--role",
            "village_cadre",
        ],
        "a long enough password\n",
    );
    assert!(!scoped.status.success(), "a village cadre needs a village");

    let server = Server::start(&database.url, false);
    let login = |password: &str| {
        format!(
            r#"mutation {{ login(username: "chief", password: "{password}") {{ accessToken account {{ role }} }} }}"#
        )
    };
    let body = server.query(&login("a long enough password"), None).await;
    assert_eq!(body["data"]["login"]["account"]["role"], "COUNTY_ADMIN");
    let token = body["data"]["login"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let me = server.query("{ me { username } }", Some(&token)).await;
    assert_eq!(me["data"]["me"]["username"], "chief");

    let reset = run(
        &["user", "reset-password", "--username", "chief"],
        "another long password\n",
    );
    assert!(reset.status.success());
    let old = server.query("{ me { username } }", Some(&token)).await;
    assert_eq!(
        old["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "a reset revokes tokens"
    );
    let body = server.query(&login("another long password"), None).await;
    assert!(body["data"]["login"]["accessToken"].is_string());

    let disabled = run(&["user", "disable", "--username", "chief"], "");
    assert!(disabled.status.success());
    assert_eq!(
        String::from_utf8_lossy(&disabled.stdout),
        "chief\tcounty_admin\tdisabled\n"
    );
    let body = server.query(&login("another long password"), None).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[test]
fn serve_refuses_to_start_without_a_jwt_secret() {
    let output = Command::new(env!("CARGO_BIN_EXE_fupin"))
        .env("DATABASE_URL", "sqlite::memory:")
        .env_remove("FUPIN_JWT_SECRET")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .expect("run fupin");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("FUPIN_JWT_SECRET"));
}

#[test]
fn serve_refuses_an_unreadable_issuers_file() {
    let output = Command::new(env!("CARGO_BIN_EXE_fupin"))
        .env("DATABASE_URL", "sqlite::memory:")
        .env("FUPIN_JWT_SECRET", "a-secret-for-the-cli-tests-0123456789")
        .env("FUPIN_EXTERNAL_ISSUERS", "/nonexistent/issuers.json")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .expect("run fupin");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("FUPIN_EXTERNAL_ISSUERS"));
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

/// Runs `fupin` with `args` to completion: its exit status and standard output.
fn run(database_url: &str, args: &[&str]) -> (bool, String) {
    let output = fupin(database_url).args(args).output().expect("run fupin");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        output.status.success(),
        String::from_utf8(output.stdout).expect("UTF-8"),
    )
}

async fn a_register_exported_on_the_command_line_imports_into_an_empty_one(backend: Backend) {
    let source = TestDatabase::create(&backend).await;
    let target = TestDatabase::create(&backend).await;
    assert!(run(&source.url, &["seed", "--households", "25"]).0);
    assert!(run(&target.url, &["seed", "--households", "0"]).0);
    let files = std::env::temp_dir().join(format!("fupin-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&files).expect("a directory");
    let path = |name: &str| files.join(name).to_string_lossy().into_owned();
    let (csv, ndjson) = (path("register.csv"), path("register.ndjson"));

    assert!(
        run(
            &source.url,
            &["export", "--format", "csv", "--output", &csv]
        )
        .0
    );
    let (ok, stdout) = run(&source.url, &["export"]);
    assert!(ok);
    std::fs::write(&ndjson, &stdout).expect("write");
    assert_eq!(stdout.lines().count(), 25);

    let (ok, dry) = run(&target.url, &["import", "--dry-run", &csv]);
    assert!(ok);
    let dry: Value = serde_json::from_str(&dry).expect("a report");
    assert_eq!(
        (dry["created"].clone(), dry["applied"].clone()),
        (json!(25), json!(false))
    );
    let (ok, report) = run(&target.url, &["import", &csv]);
    assert!(ok, "{report}");
    let report: Value = serde_json::from_str(&report).expect("a report");
    assert_eq!(report["created"], 25, "{report}");
    assert_eq!(run(&target.url, &["export"]).1, stdout, "the same register");

    // The NDJSON file changes nothing now; a bad line fails the command, with its report.
    let (ok, again) = run(&target.url, &["import", &ndjson]);
    assert!(ok);
    assert_eq!(
        serde_json::from_str::<Value>(&again).expect("report")["unchanged"],
        25
    );
    std::fs::write(&ndjson, format!("{stdout}{{\"number\": 1}}\n")).expect("write");
    let (ok, bad) = run(&target.url, &["import", &ndjson]);
    assert!(!ok, "a rejected household fails the command");
    let bad: Value = serde_json::from_str(&bad).expect("report");
    assert_eq!(bad["rejections"][0]["line"], 26, "{bad}");
    std::fs::remove_dir_all(&files).ok();
}

/// A migrated database with nothing in it takes no household until its
/// divisions are read from a file; then it takes the whole register. A file
/// with any wrong row writes nothing, and a later file renames a village and
/// marks it a poverty village that exited, audited.
async fn a_divisions_file_sets_up_an_empty_register(backend: Backend) {
    let source = TestDatabase::create(&backend).await;
    let target = TestDatabase::create(&backend).await;
    assert!(run(&source.url, &["seed", "--households", "25"]).0);
    assert!(run(&target.url, &["migrate", "up"]).0);
    let files = std::env::temp_dir().join(format!("fupin-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&files).expect("a directory");
    let path = |name: &str| files.join(name).to_string_lossy().into_owned();
    let (divisions, register) = (path("divisions.csv"), path("register.ndjson"));
    assert!(run(&source.url, &["regions", "export", "--output", &divisions]).0);
    let (ok, exported) = run(&source.url, &["export"]);
    assert!(ok);
    std::fs::write(&register, &exported).expect("write");
    let listed = std::fs::read_to_string(&divisions).expect("divisions");
    let rows: Vec<&str> = listed.lines().collect();
    assert_eq!(rows[0], "code,name,povertyVillage,exitYear");
    let count = rows.len() - 1;

    let (ok, refused) = run(&target.url, &["import", &register]);
    assert!(!ok, "no household has its village yet");
    let refused: Value = serde_json::from_str(&refused).expect("a report");
    assert_eq!(refused["rejected"], 25, "{refused}");

    let report = |out: &str| serde_json::from_str::<Value>(out).expect("a report");
    let (ok, dry) = run(&target.url, &["regions", "import", "--dry-run", &divisions]);
    assert!(ok, "{dry}");
    assert_eq!(
        (
            report(&dry)["created"].clone(),
            report(&dry)["applied"].clone()
        ),
        (json!(count), json!(false))
    );
    assert_eq!(
        run(&target.url, &["regions", "export"]).1.lines().count(),
        1
    );
    let (ok, set_up) = run(&target.url, &["regions", "import", &divisions]);
    assert!(ok, "{set_up}");
    assert_eq!(report(&set_up)["created"], count, "{set_up}");
    let (ok, again) = run(&target.url, &["regions", "import", &divisions]);
    assert!(ok);
    assert_eq!(report(&again)["unchanged"], count, "{again}");
    assert_eq!(run(&target.url, &["regions", "export"]).1, listed);

    let (ok, imported) = run(&target.url, &["import", &register]);
    assert!(ok, "{imported}");
    assert_eq!(report(&imported)["created"], 25);
    assert_eq!(
        run(&target.url, &["export"]).1,
        exported,
        "the same register"
    );

    // One good change among wrong rows: nothing is written, every wrong row named.
    let village = rows[3];
    let code = &village[..12];
    let county = &code[..6];
    let renamed = format!("{code},新名村,true,2019");
    let bad = [
        "code,name,povertyVillage,exitYear".to_owned(),
        renamed.clone(),
        format!("{county}999201,无乡村,false,"),
        format!("{code},重复村,false,"),
        "110101001001,外县村,false,".to_owned(),
        format!("{county}100299,,false,"),
        format!("{county}100298,未出列村,false,2019"),
        format!("{county}100000,镇,true,"),
        format!("{county}10029,短码村,false,"),
        format!("{county}100297,坏标记村,maybe,"),
        format!("{county}000201,县直村,false,"),
    ]
    .join("\n");
    std::fs::write(&divisions, &bad).expect("write");
    let (ok, rejected) = run(&target.url, &["regions", "import", &divisions]);
    assert!(!ok, "{rejected}");
    let rejected = report(&rejected);
    assert_eq!(rejected["applied"], false);
    let lines: Vec<u64> = rejected["rejections"]
        .as_array()
        .expect("rejections")
        .iter()
        .map(|r| r["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, [3, 4, 5, 6, 7, 8, 9, 10, 11], "{rejected}");
    assert!(
        rejected["rejections"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("neither listed nor on the register")),
        "{rejected}"
    );
    assert_eq!(
        run(&target.url, &["regions", "export"]).1,
        listed,
        "nothing written"
    );

    std::fs::write(
        &divisions,
        format!("code,name,povertyVillage,exitYear\n{renamed}\n"),
    )
    .expect("write");
    let (ok, changed) = run(&target.url, &["regions", "import", &divisions]);
    assert!(ok, "{changed}");
    assert_eq!(
        (
            report(&changed)["updated"].clone(),
            report(&changed)["created"].clone()
        ),
        (json!(1), json!(0))
    );
    let now = run(&target.url, &["regions", "export"]).1;
    assert!(now.lines().any(|l| l == renamed), "{now}");
    let db = sea_orm::Database::connect(&target.url)
        .await
        .expect("connect");
    let entry = entity::audit_entry::Entity::find()
        .filter(entity::audit_entry::Column::Action.eq("region.update"))
        .all(&db)
        .await
        .expect("audit");
    assert_eq!(entry.len(), 1);
    assert_eq!(entry[0].entity_type, "Village");
    assert_eq!(entry[0].actor, "cli");
    std::fs::remove_dir_all(&files).ok();
}

async fn a_whole_register_moves_into_an_empty_database_with_its_divisions(backend: Backend) {
    let source = TestDatabase::create(&backend).await;
    let target = TestDatabase::create(&backend).await;
    assert!(run(&source.url, &["seed", "--households", "25"]).0);
    let files = std::env::temp_dir().join(format!("fupin-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&files).expect("a directory");
    let path = |name: &str| files.join(name).to_string_lossy().into_owned();
    let (divisions, register) = (path("divisions.csv"), path("register.csv"));
    let (ok, _) = run(
        &source.url,
        &[
            "export",
            "--format",
            "csv",
            "--output",
            &register,
            "--divisions",
            &divisions,
        ],
    );
    assert!(ok);

    // A divisions file with a bad row: no division and no household is written.
    let listed = std::fs::read_to_string(&divisions).expect("divisions");
    let broken = path("broken.csv");
    std::fs::write(&broken, format!("{listed}110101001001,外县村,false,\n")).expect("write");
    let (ok, refused) = run(&target.url, &["import", &register, "--divisions", &broken]);
    assert!(!ok, "{refused}");
    assert_eq!(
        run(&target.url, &["regions", "export"]).1.lines().count(),
        1
    );
    assert!(run(&target.url, &["export"]).1.is_empty());

    // The same two files into a database never set up: the same register.
    let (ok, imported) = run(
        &target.url,
        &["import", &register, "--divisions", &divisions],
    );
    assert!(ok, "{imported}");
    let report: Value = serde_json::from_str(&imported).expect("the households' report alone");
    assert_eq!(report["created"], 25, "{report}");
    assert_eq!(run(&target.url, &["regions", "export"]).1, listed);
    assert_eq!(
        run(&target.url, &["export", "--format", "csv"]).1,
        std::fs::read_to_string(&register).expect("register"),
        "the same register"
    );
    std::fs::remove_dir_all(&files).ok();
}
