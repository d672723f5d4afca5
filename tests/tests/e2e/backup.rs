//! Backups of a live register (备份与恢复), as `docs/operations.md` tells
//! them: a copy taken while writers keep changing the register over HTTP
//! (`pg_dump -Fc` on PostgreSQL, `VACUUM INTO` on SQLite) is the register of
//! one moment. Served again, its audit chain is intact and is the original's
//! up to that moment, its village tallies agree with a recount of its
//! households, every household and member is what its newest audit entry
//! says, and new writes chain on. The checks are shown to fail: on a copy
//! pieced together from two moments (whose chain is intact), on a rewritten
//! entry and on a tally off by one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use api::domain::card::{household_snapshot, member_snapshot};
use api::domain::tally;
use chrono::{Datelike, Days, NaiveDate};
use entity::enums::{HouseholdStatus, RegionLevel, TallyFigure};
use entity::{audit_entry, household, household_income, member, village_tally_change};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde_json::{Value, json};
use tests::{
    Backend, TestApp, TestDatabase, global_id, household_input, incomes_recorded_again, person,
    raw_id, regions,
};
use tokio::task::JoinHandle;

use crate::statistics::agrees_with_a_recount;

const VERIFY: &str = "{ verifyAuditChain { entries intact firstBrokenSequence } }";
const HOLDS: &str =
    "query($h: AuditChainHeadInput) { verifyAuditChain(head: $h) { intact holdsHead } }";
const CREATE: &str =
    "mutation($input: CreateHouseholdInput!) { createHousehold(input: $input) { id } }";

/// Writers at work on the register at once.
const WRITERS: usize = 3;
/// Writes committed before a backup starts, and after it ends, so that it is
/// taken while they run.
const WRITES_AROUND: usize = 15;

/// PostgreSQL only, by nature: `pg_dump` and `pg_restore` are PostgreSQL's.
/// The naive copy, the register without its trail and then the trail a few
/// writes later, is how a table-by-table copy goes wrong.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pg_dump_taken_while_writes_run_restores_a_whole_register() {
    let Some(backend) = Backend::postgres() else {
        eprintln!("TEST_POSTGRES_URL is not set: PostgreSQL run skipped");
        return;
    };
    let mut register = Register::being_written(&backend).await;
    let url = register.app.database_url().to_owned();
    let dump = Scratch::new("dump");
    pg_dump(&url, &[], &dump).await;
    // The naive copy: the register without its trail, and the trail a few writes later.
    let without_trail = Scratch::new("register.dump");
    pg_dump(&url, &["--exclude-table-data=audit_entry"], &without_trail).await;
    register.wait_for(5).await;
    let trail = Scratch::new("trail.dump");
    pg_dump(&url, &["--data-only", "--table=audit_entry"], &trail).await;
    let written = register.finish().await;

    let copy = TestDatabase::create(&backend).await;
    pg_restore(&copy, &[], &dump).await;
    written.the_copy_is_whole(TestApp::open(copy).await).await;

    let pieced = TestDatabase::create(&backend).await;
    pg_restore(&pieced, &[], &without_trail).await;
    pg_restore(&pieced, &["--data-only"], &trail).await;
    let pieced = TestApp::open(pieced).await;
    assert_eq!(verify(&pieced).await["intact"], true, "each piece is whole");
    let found = disagreements(&pieced.db, &written.before).await;
    assert!(!found.is_empty(), "the pieces are of two moments");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vacuum_into_taken_while_writes_run_is_a_whole_register() {
    let register = Register::being_written(&Backend::Sqlite).await;
    let copy = TestDatabase::create(&Backend::Sqlite).await;
    let file = copy.sqlite_file().expect("an SQLite file");
    let file = file.to_str().expect("a UTF-8 path").replace('\'', "''");
    register
        .app
        .db
        .execute_unprepared(&format!("VACUUM INTO '{file}'"))
        .await
        .expect("VACUUM INTO");
    let written = register.finish().await;
    written.the_copy_is_whole(TestApp::open(copy).await).await;
}

/// What the register held before any writer: the head of the trail, and the
/// last household and member of the seed (written without entries).
struct Before {
    head: i64,
    last_household: i64,
    last_member: i64,
}

/// A seeded register and the writers changing it.
struct Register {
    app: Arc<TestApp>,
    before: Before,
    stop: Arc<AtomicBool>,
    writes: Arc<AtomicUsize>,
    writers: Vec<JoinHandle<()>>,
}

impl Register {
    /// A seeded register whose writers have committed [`WRITES_AROUND`] writes.
    async fn being_written(backend: &Backend) -> Register {
        let (app, _) = TestApp::seeded(backend, 60).await;
        incomes_recorded_again(&app.db, 2020, this_year()).await;
        let before = Before {
            head: last_id::<audit_entry::Entity>(&app.db, audit_entry::Column::Id).await,
            last_household: last_id::<household::Entity>(&app.db, household::Column::Id).await,
            last_member: last_id::<member::Entity>(&app.db, member::Column::Id).await,
        };
        let app = Arc::new(app);
        let (stop, writes) = (Arc::default(), Arc::default());
        let writers = (0..WRITERS)
            .map(|writer| {
                let (app, stop, writes) = (app.clone(), Arc::clone(&stop), Arc::clone(&writes));
                tokio::spawn(keep_writing(app, writer, stop, writes))
            })
            .collect();
        let mut register = Register {
            app,
            before,
            stop,
            writes,
            writers,
        };
        register.wait_for(WRITES_AROUND).await;
        register
    }

    /// Waits for `more` writes than have been committed so far.
    async fn wait_for(&mut self, more: usize) {
        let target = self.writes.load(Ordering::SeqCst) + more;
        while self.writes.load(Ordering::SeqCst) < target {
            if self.writers.iter().any(JoinHandle::is_finished) {
                self.stop_writers().await;
                panic!("a writer stopped");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop_writers(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for writer in self.writers.drain(..) {
            writer.await.expect("a writer");
        }
    }

    /// Lets [`WRITES_AROUND`] more writes commit, then stops the writers.
    async fn finish(mut self) -> Written {
        self.wait_for(WRITES_AROUND).await;
        self.stop_writers().await;
        let head = last_id::<audit_entry::Entity>(&self.app.db, audit_entry::Column::Id).await;
        Written {
            app: self.app,
            before: self.before,
            head,
        }
    }
}

/// A register whose writers have stopped.
struct Written {
    app: Arc<TestApp>,
    before: Before,
    /// The head of the trail when the writers stopped.
    head: i64,
}

impl Written {
    /// Checks a copy of the register taken while the writers ran, over HTTP
    /// where a user could, then shows the checks fail on a copy rewritten.
    async fn the_copy_is_whole(&self, copy: TestApp) {
        let chain = verify(&copy).await;
        assert_eq!(chain["intact"], true, "{chain}");
        let entries = chain["entries"].as_u64().expect("entries");
        let kept = copy
            .query("{ auditChainHead { sequence hash } }", json!({}))
            .await;
        let (copy_head, copy_hash) = (
            kept["auditChainHead"]["sequence"].as_i64().expect("a head"),
            kept["auditChainHead"]["hash"].as_str().expect("a hash"),
        );
        assert!(
            self.before.head < copy_head && copy_head < self.head,
            "the copy was taken while the writers wrote: {} < {copy_head} < {}",
            self.before.head,
            self.head
        );
        // Both chains intact, and the original holds the copy's head: the
        // copy's trail is the original's up to that entry.
        let original = self
            .app
            .query(
                HOLDS,
                json!({ "h": { "sequence": copy_head, "hash": copy_hash } }),
            )
            .await["verifyAuditChain"]
            .clone();
        assert_eq!(
            (&original["intact"], &original["holdsHead"]),
            (&json!(true), &json!(true)),
            "{original}"
        );
        let found = disagreements(&copy.db, &self.before).await;
        assert!(found.is_empty(), "{found:#?}");
        agrees_with_a_recount(&copy, "on the copy").await;
        tally::compact(&copy.db).await.expect("compaction");
        agrees_with_a_recount(&copy, "on the copy, compacted").await;

        // The copy takes writes: its sequences go on from its rows, and the
        // new entries from its head.
        let last_household = last_id::<household::Entity>(&copy.db, household::Column::Id).await;
        let village = regions(&copy.db, RegionLevel::Village).await.remove(0);
        let filed = copy
            .query(CREATE, json!({ "input": new_household(&village) }))
            .await;
        let filed = raw_id(&filed["createHousehold"]["id"]);
        assert!(filed > last_household);
        let first_new = audit_entry::Entity::find()
            .filter(audit_entry::Column::Id.gt(copy_head))
            .order_by_asc(audit_entry::Column::Id)
            .one(&copy.db)
            .await
            .expect("entries")
            .expect("an entry of the new household");
        assert_eq!(
            (first_new.action.as_str(), first_new.entity_id),
            ("household.create", filed)
        );
        assert_eq!(first_new.prev_hash, copy_hash);
        let chain = verify(&copy).await;
        assert_eq!(chain["intact"], true, "{chain}");
        assert!(chain["entries"].as_u64() > Some(entries));

        // The checks fail on a copy that is not what was written.
        copy.drop_append_only("audit_entry").await;
        let target = audit_entry::Entity::find()
            .filter(audit_entry::Column::Id.gt(self.before.head))
            .order_by_asc(audit_entry::Column::Id)
            .one(&copy.db)
            .await
            .expect("entries")
            .expect("a writer's entry");
        let mut forged = target.clone().into_active_model();
        forged.actor = Set("someone else".into());
        forged.update(&copy.db).await.expect("rewrite an entry");
        let chain = verify(&copy).await;
        assert_eq!(chain["intact"], false, "{chain}");
        assert_eq!(chain["firstBrokenSequence"], target.id);
        village_tally_change::ActiveModel {
            village_id: Set(village.id),
            year: Set(0),
            figure: Set(TallyFigure::Households),
            item: Set("enrolled".into()),
            amount: Set(1),
            ..Default::default()
        }
        .insert(&copy.db)
        .await
        .expect("a household too many");
        let recount =
            tokio::spawn(async move { agrees_with_a_recount(&copy, "one too many").await });
        let failed = recount
            .await
            .expect_err("a tally off by one disagrees with the recount")
            .into_panic();
        let message = failed.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.contains("one too many"), "{message}");
    }
}

/// Keeps changing the register over HTTP until `stop`, in turn: files a
/// household, edits a card, adds a member, records an income, returns a
/// lifted-out household to poverty. Each writer has households of its own,
/// so that no write meets a version another writer moved on.
async fn keep_writing(
    app: Arc<TestApp>,
    writer: usize,
    stop: Arc<AtomicBool>,
    writes: Arc<AtomicUsize>,
) {
    let own = |status: HouseholdStatus| {
        let app = app.clone();
        async move {
            household::Entity::find()
                .filter(household::Column::Status.eq(status))
                .order_by_asc(household::Column::Id)
                .all(&app.db)
                .await
                .expect("households")
                .into_iter()
                .filter(|h| h.id.unsigned_abs() as usize % WRITERS == writer)
                .map(|h| h.id)
                .collect::<Vec<i64>>()
        }
    };
    let homes = own(HouseholdStatus::Enrolled).await;
    let mut lifted = own(HouseholdStatus::LiftedOut).await;
    let villages = regions(&app.db, RegionLevel::Village).await;
    let village = &villages[writer % villages.len()];
    let year = this_year();
    for n in 0usize.. {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let home = homes[n / 5 % homes.len()];
        let id = global_id("Household", home);
        match (n % 5, n / 5 % 2 == 0) {
            (0, _) => {
                app.query(CREATE, json!({ "input": new_household(village) }))
                    .await;
            }
            (2, _) => {
                let son = person("王小明", &new_id_number(2000, 3), "SON");
                app.query(
                    "mutation($h: ID!, $m: MemberInput!) { addMember(householdId: $h, member: $m) { id } }",
                    json!({ "h": id, "m": son }),
                )
                .await;
            }
            (3, _) => {
                let recorded = household_income::Entity::find_by_id((home, year))
                    .one(&app.db)
                    .await
                    .expect("income");
                app.query(
                    "mutation($i: IncomeInput!) { setIncome(input: $i) { year } }",
                    json!({ "i": { "householdId": id, "year": year,
                        "version": recorded.map(|i| i.version),
                        "wage": format!("{}.50", 6000 + n), "production": "2000", "property": "0",
                        "transfer": "1200.25", "productionCost": "800" } }),
                )
                .await;
            }
            (4, _) if !lifted.is_empty() => {
                let home = lifted.pop().expect("a lifted-out household");
                app.query(
                    "mutation($h: ID!, $v: Int!) { returnToPoverty(householdId: $h, version: $v, reason: \"因病返贫\") { status } }",
                    json!({ "h": global_id("Household", home), "v": version_of(&app.db, home).await }),
                )
                .await;
            }
            (_, even) => {
                let (attribute, cause) = if even {
                    ("MINIMUM_LIVING_GUARANTEE", "DISABILITY")
                } else {
                    ("GENERAL", "ILLNESS")
                };
                app.query(
                    "mutation($i: HouseholdPatch!) { updateHousehold(input: $i) { version } }",
                    json!({ "i": { "id": id, "version": version_of(&app.db, home).await,
                        "address": format!("{n}号"), "attribute": attribute,
                        "mainCause": cause, "otherCauses": [] } }),
                )
                .await;
            }
        }
        writes.fetch_add(1, Ordering::SeqCst);
    }
}

/// A household to file in `village`, with people no one else has.
fn new_household(village: &entity::region::Model) -> Value {
    household_input(
        &global_id("Village", village.id),
        person("李建国", &new_id_number(1960, 1), "HEAD"),
        vec![person("张秀英", &new_id_number(1962, 2), "SPOUSE")],
    )
}

/// A valid ID number of a person born in or after `year` that no one has yet
/// (the seed's county code is another); the `sequence`'s last digit gives the gender.
fn new_id_number(year: i32, sequence: u32) -> String {
    static PEOPLE: AtomicU32 = AtomicU32::new(0);
    let born = NaiveDate::from_ymd_opt(year, 1, 1).expect("a day")
        + Days::new(PEOPLE.fetch_add(1, Ordering::SeqCst).into());
    api::codes::id_number(&format!("520102{}{sequence:03}", born.format("%Y%m%d")))
}

fn this_year() -> i32 {
    api::domain::calendar::today().year()
}

async fn version_of(db: &DatabaseConnection, home: i64) -> i32 {
    household::Entity::find_by_id(home)
        .one(db)
        .await
        .expect("household")
        .expect("a household")
        .version
}

/// The largest ID of a table, 0 when it is empty.
async fn last_id<E: EntityTrait>(db: &DatabaseConnection, id: E::Column) -> i64 {
    E::find()
        .order_by_desc(id)
        .into_json()
        .one(db)
        .await
        .expect("rows")
        .and_then(|row| row["id"].as_i64())
        .unwrap_or(0)
}

async fn verify(app: &TestApp) -> Value {
    app.query(VERIFY, json!({})).await["verifyAuditChain"].clone()
}

/// What of a register disagrees with its own audit trail: a household or
/// member that is not what its newest entry says it became, a record with
/// entries that is missing, or one a writer made without an entry.
async fn disagreements(db: &DatabaseConnection, before: &Before) -> Vec<String> {
    let entries = audit_entry::Entity::find()
        .filter(audit_entry::Column::EntityType.is_in(["Household", "Member"]))
        .order_by_asc(audit_entry::Column::Id)
        .all(db)
        .await
        .expect("entries");
    let mut newest: HashMap<(String, i64), Value> = HashMap::new();
    for entry in entries {
        let mut after: Value =
            serde_json::from_str(entry.after.as_deref().unwrap_or("null")).expect("JSON");
        // Some actions add their reason to what the record became.
        if let Some(fields) = after.as_object_mut() {
            fields.remove("reason");
        }
        newest.insert((entry.entity_type, entry.entity_id), after);
    }
    let households = household::Entity::find()
        .all(db)
        .await
        .expect("households")
        .into_iter()
        .map(|h| {
            (
                "Household",
                h.id,
                h.id > before.last_household,
                household_snapshot(&h),
            )
        });
    let members = member::Entity::find()
        .all(db)
        .await
        .expect("members")
        .into_iter()
        .map(|m| {
            (
                "Member",
                m.id,
                m.id > before.last_member,
                member_snapshot(&m),
            )
        });
    let mut found = Vec::new();
    for (kind, id, written, row) in households.chain(members) {
        match newest.remove(&(kind.to_owned(), id)) {
            Some(after) if after != row => {
                found.push(format!(
                    "{kind} {id} is {row}, its newest entry says {after}"
                ));
            }
            None if written => found.push(format!("{kind} {id} has no entry")),
            _ => {}
        }
    }
    found.extend(
        newest
            .into_keys()
            .map(|(kind, id)| format!("{kind} {id} has entries but is missing")),
    );
    found
}

/// A file in the temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let id = uuid::Uuid::new_v4().simple();
        Scratch(std::env::temp_dir().join(format!("fupin-backup-{id}-{name}")))
    }

    fn arg(&self) -> &str {
        self.0.to_str().expect("a UTF-8 path")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_file(&self.0).ok();
    }
}

/// `pg_dump -Fc` of the database at `url` into `file`, with more options.
async fn pg_dump(url: &str, options: &[&str], file: &Scratch) {
    let target = ["-Fc", "-f", file.arg(), "-d", url];
    run("/usr/bin/pg_dump", &[options, &target[..]].concat()).await;
}

/// `pg_restore` of `dump` into `database`, with more options.
async fn pg_restore(database: &TestDatabase, options: &[&str], dump: &Scratch) {
    let target = ["--no-owner", "--exit-on-error", "-d", &database.url];
    run(
        "/usr/bin/pg_restore",
        &[options, &target[..], &[dump.arg()]].concat(),
    )
    .await;
}

/// Runs a program to its end and asserts it succeeded.
async fn run(program: &str, args: &[&str]) {
    let mut command = std::process::Command::new(program);
    command.args(args);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("a blocking task")
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
