//! A streaming standby of the test PostgreSQL cluster, for the read-replica
//! tests: a second cluster made with `pg_basebackup` from `TEST_POSTGRES_URL`,
//! served on a free loopback port, which a test can lag, stop and start again.
//!
//! The standby replicates the whole primary cluster, so every database a test
//! makes on the primary (a [`TestDatabase`](crate::TestDatabase)) is there too,
//! under the same name. It streams through a replication slot of its own, so
//! that the primary keeps the WAL it has yet to receive while it is stopped.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, QueryResult, TryGetable,
};

/// Standbys and slots whose creation time is older than this belong to test
/// processes that were killed before they could drop them.
const STALE_AFTER_SECS: u64 = 3600;

/// How long the standby may take to catch up, pause or answer.
const PATIENCE: Duration = Duration::from_secs(60);

/// Where standbys live: in memory where the machine has it (a base backup
/// of the test cluster took 14 s to write to the disk of the CI machine
/// kind, 1 to 2 s to its memory), else in `/tmp`; not in `TMPDIR`, which the `postgres` user
/// may not be able to enter, or whose path may be too long for a socket's.
fn root() -> &'static Path {
    let memory = Path::new("/dev/shm");
    if memory.is_dir() {
        memory
    } else {
        Path::new("/tmp")
    }
}

/// A running (or stopped) standby; dropping it stops it, removes its data
/// directory and drops its slot on the primary.
pub struct Standby {
    /// `postgres://USER@127.0.0.1:PORT`, the primary's user on the standby.
    pub url_base: String,
    /// The standby's port on 127.0.0.1.
    pub port: u16,
    /// The primary's server URL, `TEST_POSTGRES_URL`.
    primary_url: String,
    /// Owned by the server's user: the data directory, the log and the socket.
    dir: PathBuf,
    /// Where `pg_ctl` and its kin are, of the primary's major version.
    bin: PathBuf,
    /// `Some("postgres")` when the tests run as root, which PostgreSQL refuses.
    run_as: Option<String>,
    slot: String,
}

impl Standby {
    /// A standby of the `TEST_POSTGRES_URL` cluster, caught up to the moment
    /// of its base backup and streaming; `None` (said on stderr) when that
    /// variable is unset or this machine lacks PostgreSQL's server programs.
    ///
    /// # Panics
    /// When the primary refuses the base backup (see `.ci/run` for the
    /// `pg_hba.conf` line it needs) or the standby does not start.
    pub async fn start() -> Option<Standby> {
        let Some(primary_url) = std::env::var("TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            eprintln!("TEST_POSTGRES_URL is not set: no standby, PostgreSQL run skipped");
            return None;
        };
        let began = Instant::now();
        let primary = connect(&primary_url)
            .await
            .expect("connect to TEST_POSTGRES_URL");
        let major = scalar::<i64>(
            &primary,
            "SELECT current_setting('server_version_num')::bigint / 10000",
        )
        .await;
        let Some(bin) = server_programs(major).await else {
            eprintln!(
                "no pg_ctl and pg_basebackup of PostgreSQL {major} on this machine: \
                 no standby, test skipped"
            );
            return None;
        };
        let run_as = running_as_root().then(|| "postgres".to_owned());
        let id = uuid::Uuid::new_v4().simple().to_string();
        let created = crate::now_secs();
        let mut standby = Standby {
            url_base: String::new(),
            port: 0,
            dir: root().join(format!("fupin-standby-{created}-{id}")),
            slot: format!("fupin_standby_{created}_{id}"),
            primary_url,
            bin,
            run_as,
        };
        standby.remove_stale(&primary).await;
        let settings = primary_settings(&primary).await;
        let size = scalar::<i64>(
            &primary,
            "SELECT sum(pg_database_size(oid))::bigint FROM pg_database",
        )
        .await;
        // The slot holds the WAL from before the base backup's checkpoint:
        // made by pg_basebackup, it would hold it only from the latest
        // checkpoint, which a concurrent backup's may have moved past it.
        execute(
            &primary,
            &format!(
                "SELECT pg_create_physical_replication_slot('{}', true)",
                standby.slot
            ),
        )
        .await;
        primary.close().await.ok();

        let mut mkdir = standby.command("mkdir");
        mkdir.args(["-m", "700"]).arg(&standby.dir);
        run(mkdir).await.expect("make the standby's directory");
        // Fast: the base backup's checkpoint is not spread over minutes, and
        // its files are not flushed to disk (a crash loses only the test).
        let mut backup = standby.command(standby.bin.join("pg_basebackup"));
        backup
            .arg("--dbname")
            .arg(&standby.primary_url)
            .arg("--pgdata")
            .arg(standby.data())
            .args(["--write-recovery-conf", "--wal-method=stream"])
            .args(["--checkpoint=fast", "--no-sync", "--no-manifest"])
            .args(["--slot", &standby.slot]);
        if let Err(err) = run(backup).await {
            panic!(
                "pg_basebackup of TEST_POSTGRES_URL failed (does pg_hba.conf let \
                 replication in from 127.0.0.1? .ci/run adds the line): {err}"
            );
        }
        let backed_up = began.elapsed();
        standby.write_owned("pg_hba.conf", HBA);
        standby.write_owned("pg_ident.conf", "");
        // A port is free when asked, and may be taken before the server binds
        // it: another is tried then.
        for attempt in 1.. {
            standby.port = free_port();
            standby.write_owned("postgresql.conf", &standby.configuration(&settings));
            match standby.pg_ctl_start().await {
                Ok(()) => break,
                Err(err) if attempt < 3 && standby.log().contains("could not bind") => {
                    eprintln!(
                        "standby start on port {} failed, retrying: {err}",
                        standby.port
                    );
                }
                Err(err) => panic!("the standby did not start: {err}\n{}", standby.log()),
            }
        }
        standby.url_base = standby_url_base(&standby.primary_url, standby.port);
        eprintln!(
            "standby on port {} of a {} MB cluster: base backup in {} ms, ready in {} ms",
            standby.port,
            size / 1_000_000,
            backed_up.as_millis(),
            began.elapsed().as_millis()
        );
        Some(standby)
    }

    /// The URL of database `db_name` on the standby.
    pub fn database_url(&self, db_name: &str) -> String {
        format!("{}/{db_name}", self.url_base)
    }

    /// Shuts the standby down as an operator's fast shutdown does: the
    /// sessions of its clients are ended mid-use and it stops listening.
    pub async fn stop(&self) {
        let mut stop = self.pg_ctl();
        stop.args(["stop", "--mode=fast", "--wait", "--timeout=60"]);
        if let Err(err) = run(stop).await {
            panic!("the standby did not stop: {err}\n{}", self.log());
        }
    }

    /// Starts the standby again after [`stop`](Self::stop), on the same port:
    /// it resumes streaming from its slot and replays (even if paused before
    /// the stop) until it catches up.
    pub async fn start_again(&self) {
        if let Err(err) = self.pg_ctl_start().await {
            panic!("the standby did not start again: {err}\n{}", self.log());
        }
    }

    /// Stops replaying WAL (it is still received), and waits until replay
    /// has stopped: from then on the standby lags behind every new commit.
    pub async fn pause_replay(&self) {
        let standby = self.admin().await;
        execute(&standby, "SELECT pg_wal_replay_pause()").await;
        let deadline = Instant::now() + PATIENCE;
        while scalar::<String>(&standby, "SELECT pg_get_wal_replay_pause_state()").await != "paused"
        {
            assert!(Instant::now() < deadline, "replay did not pause");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        standby.close().await.ok();
    }

    /// Replays again what [`pause_replay`](Self::pause_replay) held back.
    pub async fn resume_replay(&self) {
        let standby = self.admin().await;
        execute(&standby, "SELECT pg_wal_replay_resume()").await;
        standby.close().await.ok();
    }

    /// Waits until the standby has replayed everything the primary (any
    /// database of it, `primary_url`) had committed when called: every
    /// commit made before is then visible on the standby.
    pub async fn wait_caught_up(&self, primary_url: &str) {
        self.wait_until_past("pg_last_wal_replay_lsn()", primary_url)
            .await;
    }

    /// Waits until the standby has received, though maybe not replayed,
    /// everything the primary had committed when called: what it does not
    /// show then, it holds back.
    pub async fn wait_received(&self, primary_url: &str) {
        self.wait_until_past("pg_last_wal_receive_lsn()", primary_url)
            .await;
    }

    /// How many bytes of WAL the primary (`primary_url`) holds, committed or
    /// not, that the standby has yet to replay.
    pub async fn lag_bytes(&self, primary_url: &str) -> i64 {
        let primary = connect(primary_url).await.expect("connect to the primary");
        let inserted = scalar::<String>(&primary, "SELECT pg_current_wal_insert_lsn()::text").await;
        primary.close().await.ok();
        let standby = self.admin().await;
        let lag = scalar::<i64>(
            &standby,
            &format!(
                "SELECT pg_wal_lsn_diff('{inserted}'::pg_lsn, pg_last_wal_replay_lsn())::bigint"
            ),
        )
        .await;
        standby.close().await.ok();
        lag
    }

    /// How long ago, on the standby's clock, the last transaction it replayed
    /// was committed on the primary; `None` before it has replayed any.
    pub async fn replay_age(&self) -> Option<Duration> {
        let standby = self.admin().await;
        let row = query(
            &standby,
            "SELECT (extract(epoch FROM now() - pg_last_xact_replay_timestamp()))::float8 AS age",
        )
        .await;
        standby.close().await.ok();
        let seconds: Option<f64> = row.try_get("", "age").expect("replay age");
        seconds.map(|s| Duration::from_secs_f64(s.max(0.0)))
    }

    /// Waits until the standby's `position` (an LSN function) reaches what
    /// the primary had committed when called.
    async fn wait_until_past(&self, position: &str, primary_url: &str) {
        let target = committed_lsn(primary_url).await;
        let standby = self.admin().await;
        let reached = format!("SELECT coalesce({position} >= '{target}'::pg_lsn, false)");
        let deadline = Instant::now() + PATIENCE;
        while !scalar::<bool>(&standby, &reached).await {
            if Instant::now() > deadline {
                let at = scalar::<String>(
                    &standby,
                    &format!("SELECT coalesce({position}::text, 'nothing')"),
                )
                .await;
                panic!("the standby's {position} is {at}, not up to the primary's {target}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        standby.close().await.ok();
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// The standby's `postgres` database, as the primary's user.
    async fn admin(&self) -> DatabaseConnection {
        connect(&self.database_url("postgres"))
            .await
            .unwrap_or_else(|err| panic!("connect to the standby: {err}"))
    }

    /// `program` as the server's user.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = match &self.run_as {
            Some(user) => {
                let mut runuser = Command::new("runuser");
                runuser.args(["-u", user, "--"]).arg(program);
                runuser
            }
            None => Command::new(program),
        };
        // The test's own directory may be closed to the server's user.
        command.current_dir(root());
        command
    }

    fn pg_ctl(&self) -> Command {
        let mut pg_ctl = self.command(self.bin.join("pg_ctl"));
        pg_ctl.arg("--pgdata").arg(self.data());
        pg_ctl
    }

    async fn pg_ctl_start(&self) -> Result<(), String> {
        let mut start = self.pg_ctl();
        start
            .arg("--log")
            .arg(self.dir.join("log"))
            .args(["start", "--wait", "--timeout=60"]);
        run(start).await.map(drop)
    }

    /// The primary's own settings (those its configuration files set, such as
    /// the time zone and text search configuration a query's answer depends
    /// on), then the standby's place and a lighter footprint.
    fn configuration(&self, settings: &[(String, String)]) -> String {
        let mut lines: Vec<String> = settings
            .iter()
            .map(|(name, value)| format!("{name} = {}", quoted(value)))
            .collect();
        let dir = self.dir.to_string_lossy();
        lines.extend([
            format!("port = {}", self.port),
            "listen_addresses = '127.0.0.1'".to_owned(),
            format!("unix_socket_directories = {}", quoted(&dir)),
            "shared_buffers = '16MB'".to_owned(),
            // Nothing on the standby needs to survive a crash of the machine.
            "fsync = off".to_owned(),
            "hot_standby = on".to_owned(),
        ]);
        lines.join("\n") + "\n"
    }

    /// Writes a file into the data directory, owned as the directory is.
    fn write_owned(&self, name: &str, contents: &str) {
        let path = self.data().join(name);
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {name}: {e}"));
        let owner = std::fs::metadata(self.data()).expect("the data directory");
        std::os::unix::fs::chown(&path, Some(owner.uid()), Some(owner.gid()))
            .unwrap_or_else(|e| panic!("chown {name}: {e}"));
    }

    /// Stops and removes the standbys, and drops the slots, of test processes
    /// killed before they could: a slot left behind holds WAL on the primary
    /// for ever.
    async fn remove_stale(&self, primary: &DatabaseConnection) {
        let stale = |name: &str, prefix: &str, separator: char| {
            name.strip_prefix(prefix)
                .and_then(|rest| rest.split(separator).next())
                .and_then(|secs| secs.parse::<u64>().ok())
                .is_some_and(|created| crate::now_secs().saturating_sub(created) > STALE_AFTER_SECS)
        };
        let dirs: Vec<PathBuf> = std::fs::read_dir(root())
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| {
                        e.file_name()
                            .to_str()
                            .is_some_and(|name| stale(name, "fupin-standby-", '-'))
                    })
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default();
        for dir in dirs {
            let mut stop = self.command(self.bin.join("pg_ctl"));
            stop.arg("--pgdata")
                .arg(dir.join("data"))
                .args(["stop", "--mode=immediate", "--wait"]);
            run(stop).await.ok();
            std::fs::remove_dir_all(&dir).ok();
        }
        let slots = primary
            .query_all_raw(statement(
                "SELECT slot_name::text AS name FROM pg_replication_slots \
                 WHERE slot_name LIKE 'fupin\\_standby\\_%'",
            ))
            .await
            .expect("list replication slots");
        for row in slots {
            let name: String = row.try_get("", "name").expect("slot name");
            if stale(&name, "fupin_standby_", '_') {
                drop_slot(primary, &name).await;
            }
        }
    }
}

impl Drop for Standby {
    fn drop(&mut self) {
        let mut stop = self.pg_ctl();
        stop.args(["stop", "--mode=immediate", "--wait"]);
        // Quiet: the standby may be stopped already.
        stop.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        stop.status().ok();
        std::fs::remove_dir_all(&self.dir).ok();
        let (primary_url, slot) = (self.primary_url.clone(), self.slot.clone());
        crate::block_on_in_drop(async move {
            if let Ok(primary) = connect(&primary_url).await {
                drop_slot(&primary, &slot).await;
                primary.close().await.ok();
            }
        });
    }
}

/// Who may connect to the standby: anyone on this machine, as on the primary.
const HBA: &str = "local all all trust\nhost all all 127.0.0.1/32 trust\n";

/// Settings of the primary's configuration files that are not about where
/// it is, how it listens or what it writes on disk.
async fn primary_settings(primary: &DatabaseConnection) -> Vec<(String, String)> {
    let rows = primary
        .query_all_raw(statement(
            "SELECT name, current_setting(name) AS value FROM pg_settings \
             WHERE source = 'configuration file' AND name NOT IN ( \
                 'data_directory', 'config_file', 'hba_file', 'ident_file', \
                 'external_pid_file', 'port', 'listen_addresses', \
                 'unix_socket_directories', 'cluster_name', 'shared_buffers', \
                 'fsync', 'primary_conninfo', 'primary_slot_name') \
             AND name NOT LIKE 'ssl%'",
        ))
        .await
        .expect("read the primary's settings");
    rows.into_iter()
        .map(|row| {
            (
                row.try_get("", "name").expect("name"),
                row.try_get("", "value").expect("value"),
            )
        })
        .collect()
}

/// The directory of `pg_ctl` and `pg_basebackup` of PostgreSQL `major`:
/// Debian's and Red Hat's places, then `PATH`.
async fn server_programs(major: i64) -> Option<PathBuf> {
    let mut candidates = vec![
        PathBuf::from(format!("/usr/lib/postgresql/{major}/bin")),
        PathBuf::from(format!("/usr/pgsql-{major}/bin")),
    ];
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    for dir in candidates {
        if !dir.join("pg_basebackup").is_file() {
            continue;
        }
        let mut version = Command::new(dir.join("pg_ctl"));
        version.arg("--version");
        // "pg_ctl (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
        let Ok(output) = run(version).await else {
            continue;
        };
        let found = output
            .split_whitespace()
            .nth(2)
            .and_then(|v| v.split('.').next())
            .and_then(|v| v.parse::<i64>().ok());
        if found == Some(major) {
            return Some(dir);
        }
    }
    None
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The primary's URL with the standby's address, and no database.
fn standby_url_base(primary_url: &str, port: u16) -> String {
    let mut url = reqwest::Url::parse(primary_url).expect("TEST_POSTGRES_URL is a URL");
    if url.username().is_empty() {
        url.set_username("postgres").expect("a user");
    }
    url.set_host(Some("127.0.0.1")).expect("a host");
    url.set_port(Some(port)).expect("a port");
    url.set_path("");
    url.set_query(None);
    url.to_string().trim_end_matches('/').to_owned()
}

fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Runs `command` to its end, off the runtime's threads: its stdout, or why
/// it failed.
async fn run(mut command: Command) -> Result<String, String> {
    let shown = format!("{command:?}");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the command's thread")
        .map_err(|e| format!("{shown}: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "{shown}: {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// One connection, without the statement log.
async fn connect(url: &str) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    Database::connect(options).await
}

/// A position in the primary's WAL at or past the end of every commit made
/// before, which the standby is sure to reach: test databases commit
/// without waiting for the WAL to be flushed (and a standby receives only
/// flushed WAL), so a message is committed after it, waiting for the flush
/// of everything up to it.
async fn committed_lsn(primary_url: &str) -> String {
    let primary = connect(primary_url).await.expect("connect to the primary");
    execute(&primary, "SET synchronous_commit = on").await;
    let inserted = scalar::<String>(&primary, "SELECT pg_current_wal_insert_lsn()::text").await;
    execute(
        &primary,
        "SELECT pg_logical_emit_message(true, 'fupin_standby', 'flush')",
    )
    .await;
    primary.close().await.ok();
    inserted
}

/// Drops a replication slot, ending the session that streams from it first.
async fn drop_slot(primary: &DatabaseConnection, slot: &str) {
    let end_stream = format!(
        "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots \
         WHERE slot_name = '{slot}' AND active_pid IS NOT NULL"
    );
    let drop_inactive = format!(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
         WHERE slot_name = '{slot}' AND NOT active"
    );
    let remains =
        format!("SELECT count(*) > 0 FROM pg_replication_slots WHERE slot_name = '{slot}'");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        primary.execute_unprepared(&end_stream).await.ok();
        primary.execute_unprepared(&drop_inactive).await.ok();
        match primary.query_one_raw(statement(&remains)).await {
            Ok(Some(row)) if row.try_get_by_index::<bool>(0).unwrap_or(true) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            _ => return,
        }
    }
}

fn statement(sql: &str) -> sea_orm::Statement {
    sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql)
}

async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn query(db: &DatabaseConnection, sql: &str) -> QueryResult {
    db.query_one_raw(statement(sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_else(|| panic!("{sql}: no row"))
}

/// The first column of a one-row query, whatever its name.
async fn scalar<T: TryGetable>(db: &DatabaseConnection, sql: &str) -> T {
    query(db, sql)
        .await
        .try_get_by_index(0)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}
