//! The `fupin` binary as an operator runs it: serve (with and without the demo
//! county), migrate, export-schema, export and import, regions.

use std::process::{Command, Stdio};

use chrono::Datelike;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::process::{self, Server};
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
    process::fupin(env!("CARGO_BIN_EXE_fupin"), database_url)
}

/// `fupin serve` on `database_url`: with the demo county and its random
/// secret when `demo`, else with a secret of the tests.
fn serve(database_url: &str, demo: bool) -> Server {
    let mut command = fupin(database_url);
    if !demo {
        command.env("FUPIN_JWT_SECRET", "a-secret-for-the-cli-tests-0123456789");
    }
    Server::start(command, demo)
}

async fn serve_demo_loads_and_serves_the_demo_county_once(backend: Backend) {
    let database = TestDatabase::create(&backend).await;
    let server = serve(&database.url, true);
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
    let server = serve(&database.url, true);
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
    let server = serve(&database.url, false);
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

    let server = serve(&database.url, false);
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

/// What a failed `fupin` run tells a person: its exit code and its one
/// `error: ` line, after checking that no Rust debug value shows anywhere on
/// standard error.
fn failure(output: &std::process::Output) -> (Option<i32>, String) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    for debug in [
        "{ field:",
        "Some(",
        "NotFound(",
        "BadUserInput",
        "Custom(",
        "Conn(",
    ] {
        assert!(!stderr.contains(debug), "Rust debug output: {stderr}");
    }
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "one sentence: {stderr}");
    (output.status.code(), errors[0].to_owned())
}

/// A directory of its own for a test's files, removed at the end.
struct Files(std::path::PathBuf);

impl Files {
    fn new() -> Files {
        let dir = std::env::temp_dir().join(format!("fupin-cli-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a directory");
        Files(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write");
        path
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

#[test]
fn a_file_that_cannot_be_read_is_named_before_any_database_is_made() {
    let files = Files::new();
    // The default kind of database: an SQLite file whose folder `connect` creates.
    let database = files.path("data/fupin.db");
    let url = format!("sqlite://{database}?mode=rwc");
    let register = files.write("register.ndjson", "");
    let divisions = files.write("divisions.csv", "code,name,povertyVillage,exitYear\n");
    let (missing_ndjson, missing_csv) = (files.path("nope.ndjson"), files.path("nope.csv"));
    let folder = files.path("folder.ndjson");
    std::fs::create_dir(&folder).expect("a directory");
    let cases: [(&[&str], String); 5] = [
        (
            &["import", &missing_ndjson],
            format!("error: cannot read {missing_ndjson}: no such file or directory"),
        ),
        (
            &["regions", "import", &missing_csv],
            format!("error: cannot read {missing_csv}: no such file or directory"),
        ),
        (
            &["import", &register, "--divisions", &missing_csv],
            format!("error: cannot read {missing_csv}: no such file or directory"),
        ),
        (
            &["import", &missing_ndjson, "--divisions", &divisions],
            format!("error: cannot read {missing_ndjson}: no such file or directory"),
        ),
        (
            &["import", &folder],
            format!("error: cannot read {folder}: it is a directory"),
        ),
    ];
    for (args, sentence) in cases {
        let output = fupin(&url).args(args).output().expect("run fupin");
        assert_eq!(failure(&output), (Some(1), sentence), "{args:?}");
    }
    // A name that tells no format is a mistake on the command line.
    let unnamed = files.write("register.txt", "");
    let output = fupin(&url)
        .args(["import", &unnamed])
        .output()
        .expect("run fupin");
    let (code, sentence) = failure(&output);
    assert_eq!(code, Some(2), "{sentence}");
    assert!(
        sentence.contains(&unnamed) && sentence.contains("--format ndjson or csv"),
        "{sentence}"
    );
    assert!(
        !std::path::Path::new(&files.path("data")).exists(),
        "no database was created"
    );
}

#[test]
fn a_mistyped_command_line_exits_with_2() {
    let output = fupin("sqlite::memory:")
        .args(["import", "--no-such-flag", "x.ndjson"])
        .output()
        .expect("run fupin");
    let (code, sentence) = failure(&output);
    assert_eq!(code, Some(2));
    assert!(sentence.contains("--no-such-flag"), "{sentence}");
}

/// Lines are counted from 1; in CSV the header is line 1, so the first data
/// row is line 2. Each error names the file, the line and the column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_errors_name_the_file_the_line_and_the_column() {
    let database = TestDatabase::create(&Backend::Sqlite).await;
    let files = Files::new();
    let (ok, header) = run(&database.url, &["export", "--format", "csv"]);
    assert!(ok);
    let header = header.trim_end();
    let run_failing = |args: &[&str]| {
        let output = fupin(&database.url).args(args).output().expect("run fupin");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        (failure(&output), stdout)
    };

    let unknown = files.write("unknown.csv", &format!("{header},foo\n"));
    let ((code, sentence), _) = run_failing(&["import", &unknown]);
    assert_eq!(code, Some(1));
    assert_eq!(
        sentence,
        format!("error: {unknown}: line 1, the header: unknown column `foo`")
    );

    // An unfinished record on the first line is on line 1, not 2.
    let unfinished = files.write("unfinished.ndjson", "{\"number\": \"1\"\n");
    let ((code, sentence), report) = run_failing(&["import", &unfinished]);
    assert_eq!(code, Some(1));
    let report: Value = serde_json::from_str(&report).expect("a report");
    assert_eq!(report["rejections"][0]["line"], 1, "{report}");
    let reason = report["rejections"][0]["reason"].as_str().expect("reason");
    assert!(!reason.contains("line"), "{reason}");
    assert_eq!(
        sentence,
        format!(
            "error: 1 household rejected in {unfinished}, nothing was written; \
             the first on line 1: {reason}"
        )
    );

    // The first data row of a CSV file is line 2.
    let columns: Vec<&str> = header.split(',').collect();
    let row: Vec<&str> = columns
        .iter()
        .map(|column| match *column {
            "record" => "household",
            "enrolledYear" => "soon",
            _ => "",
        })
        .collect();
    let bad_year = files.write("year.csv", &format!("{header}\n{}\n", row.join(",")));
    let ((code, sentence), _) = run_failing(&["import", "--atomic", &bad_year]);
    assert_eq!(code, Some(1));
    assert!(
        sentence.starts_with(&format!(
            "error: 1 household rejected in {bad_year}, nothing was written; \
             the first on line 2, `enrolledYear`: "
        )),
        "{sentence}"
    );

    // A blank line counts.
    let after_blank = files.write("blank.csv", &format!("{header}\n\n{}\n", row.join(",")));
    let ((_, sentence), _) = run_failing(&["import", &after_blank]);
    assert!(
        sentence.contains("the first on line 3, `enrolledYear`: "),
        "{sentence}"
    );

    // Divisions: the header is line 1, a blank line counts.
    let county = "522699000000";
    let divisions = files.write(
        "divisions.csv",
        &format!(
            "code,name,povertyVillage,exitYear\n{county},县,false,soon\n\n{county},县,maybe,\n"
        ),
    );
    for args in [
        &["regions", "import", &divisions][..],
        &["import", &unfinished, "--divisions", &divisions][..],
    ] {
        let ((code, sentence), _) = run_failing(args);
        assert_eq!(code, Some(1));
        assert!(
            sentence.starts_with(&format!(
                "error: 2 divisions rejected in {divisions}, nothing was written; \
                 the first on line 2, `exitYear`: "
            )),
            "{sentence}"
        );
    }
    let (_, report) = run_failing(&["regions", "import", &divisions]);
    let report: Value = serde_json::from_str(&report).expect("a report");
    assert_eq!(report["rejections"][1]["line"], 4, "{report}");
    assert!(
        report["rejections"][1]["reason"]
            .as_str()
            .is_some_and(|r| r.ends_with("`maybe` is not true or false")),
        "{report}"
    );
    let headless = files.write("headless.csv", &format!("{county},县,false,\n"));
    let ((_, sentence), _) = run_failing(&["regions", "import", &headless]);
    assert!(
        sentence.starts_with(&format!(
            "error: {headless}: line 1, the header: no `code` column"
        )),
        "{sentence}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_errors_name_the_user() {
    let database = TestDatabase::create(&Backend::Sqlite).await;
    let output = fupin(&database.url)
        .args(["user", "disable", "--username", "nobody"])
        .output()
        .expect("run fupin");
    assert_eq!(
        failure(&output),
        (Some(1), "error: there is no user `nobody`".to_owned())
    );
    let mut child = fupin(&database.url)
        .args(["user", "create", "--username", "weak", "--role", "auditor"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run fupin");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), b"short\n").expect("write");
    let (code, sentence) = failure(&child.wait_with_output().expect("output"));
    assert_eq!(code, Some(1));
    assert_eq!(
        sentence,
        "error: cannot create user `weak`: a password needs at least 10 characters"
    );
}

/// A database that cannot be reached is told within 5 s: where, and why;
/// never with the URL's password.
#[test]
fn a_refused_postgres_connection_is_told_within_five_seconds() {
    let url = "postgres://fupin:a-secret-password@127.0.0.1:1/fupin";
    for args in [
        &["migrate", "status"][..],
        &["serve", "--bind", "127.0.0.1:0"],
    ] {
        let started = std::time::Instant::now();
        let output = fupin(url)
            .env("FUPIN_JWT_SECRET", "a-secret-for-the-cli-tests-0123456789")
            .args(args)
            .output()
            .expect("run fupin");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{args:?} took {:?}",
            started.elapsed()
        );
        assert_eq!(
            failure(&output),
            (
                Some(1),
                "error: could not connect to PostgreSQL at 127.0.0.1:1: connection refused"
                    .to_owned()
            ),
            "{args:?}"
        );
        assert!(!String::from_utf8_lossy(&output.stderr).contains("a-secret-password"));
    }
    let help = fupin(url).arg("--help").output().expect("run fupin");
    assert!(help.status.success());
    assert!(!String::from_utf8_lossy(&help.stdout).contains("a-secret-password"));
}

#[test]
fn an_sqlite_file_that_cannot_be_opened_is_named() {
    let files = Files::new();
    let missing = files.path("missing.db");
    let output = fupin(&format!("sqlite://{missing}"))
        .args(["migrate", "status"])
        .output()
        .expect("run fupin");
    assert_eq!(
        failure(&output),
        (
            Some(1),
            format!(
                "error: could not open SQLite file {missing}: it does not exist \
                 (end the URL with `?mode=rwc` to create it)"
            )
        )
    );
}

#[test]
fn a_postgres_database_that_does_not_exist_is_named() {
    let Some(Backend::Postgres(server)) = Backend::postgres() else {
        eprintln!("TEST_POSTGRES_URL is not set: skipped");
        return;
    };
    let name = format!("fupin_missing_{}", uuid::Uuid::new_v4().simple());
    let base = server
        .rsplit_once('/')
        .map_or(server.as_str(), |(base, _)| base);
    let output = fupin(&format!("{base}/{name}"))
        .args(["migrate", "status"])
        .output()
        .expect("run fupin");
    let (code, sentence) = failure(&output);
    assert_eq!(code, Some(1));
    assert!(
        sentence.starts_with("error: could not connect to PostgreSQL at "),
        "{sentence}"
    );
    assert!(
        sentence.ends_with(&format!(": the database `{name}` does not exist")),
        "{sentence}"
    );
}
