//! `fupin`: serve the API, seed a demo county, migrate, export the schema.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use api::account::{self, NewUser};
use api::audit::Actor;
use api::auth::{AuthConfig, ExternalIssuer};
use api::config::{Background, DEFAULT_BIND, DEFAULT_DATABASE_URL, ImportPace, Limits, Operations};
use api::error::ApiError;
use api::exchange::command::Source;
use api::exchange::{self, Format, import::Mode};
use api::seed::{self, SeedOptions};
use api::telemetry::metrics::Metrics;
use api::{app, db, graphql, telemetry};
use clap::{CommandFactory, Parser, Subcommand};
use entity::enums::Role;
use migration::sea_orm::{ActiveEnum, DatabaseConnection, DbErr, Iterable};
use migration::{Migrator, MigratorTrait};

/// mimalloc hands memory freed after a load back to the system within
/// moments; glibc's malloc, with an arena per thread, kept the peak of a
/// load of concurrent pages for good.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "fupin",
    version,
    about = "Fupin: the county precision poverty alleviation API"
)]
struct Cli {
    /// Database URL: `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true,
          hide_env_values = true)]
    database_url: String,
    /// Base URL of an OpenTelemetry collector (`http://collector:4318`) to
    /// send traces to over OTLP/HTTP; none are sent without it.
    #[arg(long, env = "FUPIN_OTLP_ENDPOINT", global = true)]
    otlp_endpoint: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run pending migrations, then serve GraphQL over HTTP.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "FUPIN_BIND", default_value = DEFAULT_BIND)]
        bind: String,
        /// Load the demo county first, if the database is empty, and give the
        /// demo users a new password (printed).
        #[arg(long)]
        demo: bool,
        /// Secret that signs access tokens (HS256), at least 32 bytes. Required,
        /// except with --demo.
        #[arg(long, env = "FUPIN_JWT_SECRET", hide_env_values = true)]
        jwt_secret: Option<String>,
        /// Issuer (`iss`) of the access tokens this service signs.
        #[arg(long, env = "FUPIN_JWT_ISSUER", default_value = "fupin")]
        jwt_issuer: String,
        /// Audience (`aud`) of the access tokens this service signs and accepts.
        #[arg(long, env = "FUPIN_JWT_AUDIENCE", default_value = "fupin-api")]
        jwt_audience: String,
        /// JSON file of identity providers whose tokens are accepted too (RS256 or ES256).
        #[arg(long, env = "FUPIN_EXTERNAL_ISSUERS")]
        external_issuers: Option<std::path::PathBuf>,
        // Boxed: the largest arguments by far, kept off the other commands' size.
        #[command(flatten)]
        limits: Box<Limits>,
        #[command(flatten)]
        background: Background,
        #[command(flatten)]
        operations: Box<Operations>,
    },
    /// Manage users: bootstrap the first county administrator.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Generate a deterministic demo county into an empty database.
    Seed {
        /// Number of poor households to generate.
        #[arg(long, default_value_t = seed::DEMO_HOUSEHOLDS)]
        households: u32,
        /// Seed of the random generator: the same seed gives the same county.
        #[arg(long, default_value_t = seed::DEMO_SEED)]
        seed: u64,
        /// Write the county (regions, enterprises, projects) of that many
        /// households without the households: an empty register to import into.
        #[arg(long)]
        without_households: bool,
    },
    /// Set up the county's divisions (区划) from a file, or write them to one.
    Regions {
        #[command(subcommand)]
        action: RegionsAction,
    },
    /// Apply, roll back or list schema migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Print the GraphQL schema (SDL).
    ExportSchema,
    /// Write the register (of a region) as NDJSON or CSV, with a progress bar.
    Export {
        /// Division code of the county, a township or a village; all by default.
        #[arg(long)]
        region: Option<String>,
        /// ndjson or csv.
        #[arg(long, default_value = "ndjson", value_parser = parse_format)]
        format: Format,
        /// The file to write; standard output by default.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Also write every division of the county to this file, as
        /// `regions export` does: with it, `import --divisions` sets up an
        /// empty database.
        #[arg(long)]
        divisions: Option<PathBuf>,
    },
    /// Read households from an NDJSON or CSV file into the register; prints
    /// the report (created, updated, unchanged, rejected with line, field and reason).
    Import {
        file: PathBuf,
        /// ndjson or csv; by default from the file's extension.
        #[arg(long, value_parser = parse_format)]
        format: Option<Format>,
        /// Check and count everything, change nothing.
        #[arg(long, conflicts_with = "atomic")]
        dry_run: bool,
        /// Take every household or none.
        #[arg(long)]
        atomic: bool,
        /// First set up the divisions this file lists, as `regions import`
        /// does; no household is read if a division is rejected. (To check
        /// a divisions file alone: `regions import --dry-run`.)
        #[arg(long, conflicts_with = "dry_run")]
        divisions: Option<PathBuf>,
        #[command(flatten)]
        pace: ImportPace,
    },
}

fn parse_format(text: &str) -> Result<Format, String> {
    Format::named(text).ok_or_else(|| format!("`{text}` is not ndjson or csv"))
}

#[derive(Subcommand)]
enum UserAction {
    /// Create a user; the password is read from standard input.
    Create {
        #[arg(long)]
        username: String,
        /// county_admin, township_officer, village_cadre, helper_cadre, enterprise,
        /// auditor or provincial_system.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Division code of the township (township_officer) or village (village_cadre).
        #[arg(long)]
        region: Option<String>,
        /// Unified social credit code of the enterprise (enterprise).
        #[arg(long)]
        enterprise: Option<String>,
    },
    /// Disable a user and revoke their tokens.
    Disable {
        #[arg(long)]
        username: String,
    },
    /// Set a new password (read from standard input), lift the login locks, revoke tokens.
    ResetPassword {
        #[arg(long)]
        username: String,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::iter()
        .find(|role| role.to_value() == text)
        .ok_or_else(|| format!("unknown role `{text}`"))
}

/// The first line of standard input, without its line ending.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

#[derive(Subcommand)]
enum RegionsAction {
    /// Add the divisions a CSV file lists (`code,name,povertyVillage,exitYear`:
    /// 12-digit codes, the county's own among them on an empty register) and
    /// update those whose name or poverty-village status changed; prints the
    /// report. Nothing is written if any row is rejected.
    Import {
        file: PathBuf,
        /// Check and count everything, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write every division as a CSV file that `regions import` reads.
    Export {
        /// The file to write; standard output by default.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum MigrateAction {
    /// Apply pending migrations.
    Up,
    /// Roll back migrations.
    Down {
        /// How many to roll back.
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
}

/// Exit codes: 0 done; 1 failed, rejected rows included (one sentence on
/// standard error says why); 2 the command line is wrong (clap's usage errors,
/// and a file whose format its name does not tell).
#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => match err.downcast::<clap::Error>() {
            Ok(usage) => usage.exit(),
            Err(err) => {
                eprintln!("error: {}", explain(&err));
                ExitCode::FAILURE
            }
        },
    }
}

/// The one place a failure becomes what the operator reads: a sentence
/// naming what failed, then each cause after a colon; database and file
/// errors in words, never a Rust debug value.
fn explain(err: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    for cause in err.chain() {
        if let Some(err) = cause.downcast_ref::<DbErr>() {
            parts.push(db::describe(err));
            break;
        }
        if let Some(err) = cause.downcast_ref::<std::io::Error>() {
            parts.push(db::io_reason(err));
            break;
        }
        parts.push(cause.to_string());
    }
    parts.join(": ")
}

/// A mistake on the command line, told as clap tells its own (exit code 2).
fn usage(message: String) -> anyhow::Error {
    Cli::command()
        .error(clap::error::ErrorKind::ValueValidation, message)
        .into()
}

/// The database of `url`, its migrations applied.
async fn migrated(url: &str) -> anyhow::Result<DatabaseConnection> {
    let db = db::connect(url).await?;
    db::migrate(&db)
        .await
        .context("cannot apply the migrations")?;
    Ok(db)
}

/// An error of a command on the user `username`, naming them.
fn about_user(username: &str, verb: &str, err: ApiError) -> anyhow::Error {
    match err {
        ApiError::NotFound(_) => anyhow::anyhow!("there is no user `{username}`"),
        ApiError::Conflict(_) => {
            anyhow::anyhow!("cannot {verb} user `{username}`: the username is taken")
        }
        // The field is the API's argument name; the message says what is wrong.
        ApiError::BadUserInput { message, .. } => {
            anyhow::anyhow!("cannot {verb} user `{username}`: {message}")
        }
        other => anyhow::anyhow!("cannot {verb} user `{username}`: {}", other.sentence()),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let url = cli.database_url;
    if let Command::ExportSchema = cli.command {
        print!("{}", graphql::sdl());
        return Ok(());
    }
    let _tracing = telemetry::init(cli.otlp_endpoint.as_deref()).map_err(|e| anyhow::anyhow!(e))?;
    match cli.command {
        Command::Serve {
            bind,
            demo,
            jwt_secret,
            jwt_issuer,
            jwt_audience,
            external_issuers,
            limits,
            background,
            operations,
        } => {
            let auth = match jwt_secret {
                Some(secret) => AuthConfig::new(secret.as_bytes(), &jwt_issuer, &jwt_audience)
                    .map_err(|e| anyhow::anyhow!("FUPIN_JWT_SECRET: {e}"))?,
                None if demo => {
                    tracing::warn!(
                        "no FUPIN_JWT_SECRET: signing with a random secret, tokens end with this process"
                    );
                    AuthConfig::ephemeral(&jwt_issuer, &jwt_audience)
                }
                None => anyhow::bail!(
                    "set FUPIN_JWT_SECRET (at least 32 bytes) to sign access tokens, or run with --demo"
                ),
            };
            let auth = match external_issuers {
                Some(path) => auth.with_external(
                    ExternalIssuer::load_all(&path)
                        .map_err(|e| anyhow::anyhow!("FUPIN_EXTERNAL_ISSUERS: {e}"))?,
                ),
                None => auth,
            };
            let db = migrated(&url).await?;
            if demo {
                let fresh = seed::is_empty(&db).await?;
                if fresh {
                    tracing::info!(
                        households = seed::DEMO_HOUSEHOLDS,
                        "loading the demo county"
                    );
                    let options = SeedOptions {
                        households: seed::DEMO_HOUSEHOLDS,
                        seed: seed::DEMO_SEED,
                        progress: false,
                        without_households: false,
                    };
                    seed::run(&db, &options)
                        .await
                        .context("cannot load the demo county")?;
                }
                let password = seed::demo_users(&db).await.map_err(|e| {
                    anyhow::anyhow!("cannot give the demo users a password: {}", e.sentence())
                })?;
                if fresh {
                    seed::demo_assistance(&db)
                        .await
                        .context("cannot lay the demo's assistance")?;
                }
                // The operator needs this to try the demo; it is demo data only.
                println!(
                    "demo users {} have the password: {password}",
                    seed::DEMO_USERNAMES.join(", ")
                );
            }
            let listener = tokio::net::TcpListener::bind(&bind)
                .await
                .with_context(|| format!("cannot listen on {bind}"))?;
            let metrics_listener = match &operations.metrics_bind {
                Some(address) => {
                    let listener = tokio::net::TcpListener::bind(address)
                        .await
                        .with_context(|| format!("cannot listen on {address} for /metrics"))?;
                    tracing::info!(address = %listener.local_addr()?, "serving metrics at /metrics");
                    Some(listener)
                }
                None => None,
            };
            tracing::info!(address = %listener.local_addr()?, "serving GraphQL at /graphql");
            let listeners = app::Listeners {
                api: listener,
                metrics: metrics_listener,
            };
            let settings = app::Settings {
                limits: *limits,
                auth,
                background,
                operations: *operations,
            };
            app::serve(
                listeners,
                db,
                settings,
                Metrics::new(),
                app::shutdown_signal(),
            )
            .await
            .context("cannot serve")?;
        }
        Command::Seed {
            households,
            seed: seed_value,
            without_households,
        } => {
            let db = migrated(&url).await?;
            let started = std::time::Instant::now();
            let options = SeedOptions {
                households,
                seed: seed_value,
                progress: true,
                without_households,
            };
            let report = seed::run(&db, &options)
                .await
                .context("cannot seed the database")?;
            tracing::info!(?report, seconds = started.elapsed().as_secs_f64(), "seeded");
        }
        Command::User { action } => {
            let db = migrated(&url).await?;
            let cli = Actor::system("cli");
            let user = match action {
                UserAction::Create {
                    username,
                    role,
                    region,
                    enterprise,
                } => {
                    let password = read_password()?;
                    let new = NewUser {
                        username: username.clone(),
                        password,
                        role,
                        region_code: region,
                        enterprise_credit_code: enterprise,
                    };
                    account::create_user(&db, &cli, new)
                        .await
                        .map_err(|e| about_user(&username, "create", e))?
                }
                UserAction::Disable { username } => account::disable_user(&db, &cli, &username)
                    .await
                    .map_err(|e| about_user(&username, "disable", e))?,
                UserAction::ResetPassword { username } => {
                    let password = read_password()?;
                    account::reset_password(&db, &cli, &username, &password)
                        .await
                        .map_err(|e| about_user(&username, "reset the password of", e))?
                }
            };
            println!(
                "{}\t{}\t{}",
                user.username,
                user.role.to_value(),
                if user.is_active { "active" } else { "disabled" }
            );
        }
        Command::Migrate { action } => {
            let db = db::connect(&url).await?;
            match action {
                MigrateAction::Up => Migrator::up(&db, None)
                    .await
                    .context("cannot apply the migrations")?,
                MigrateAction::Down { steps } => Migrator::down(&db, Some(steps))
                    .await
                    .context("cannot roll the migrations back")?,
                MigrateAction::Status => {
                    for migration in Migrator::get_migration_with_status(&db)
                        .await
                        .context("cannot list the migrations")?
                    {
                        println!("{}\t{}", migration.name(), migration.status());
                    }
                }
            }
        }
        Command::Export {
            region,
            format,
            output,
            divisions,
        } => {
            let db = migrated(&url).await?;
            if let Some(path) = divisions {
                let count = exchange::command::export_divisions_to(&db, Some(&path)).await?;
                tracing::info!(count, "divisions exported");
            }
            let households =
                exchange::command::export_to(&db, region.as_deref(), format, output.as_deref())
                    .await?;
            tracing::info!(households, "exported");
        }
        Command::Regions {
            action: RegionsAction::Import { file, dry_run },
        } => {
            let source = Source::open(&file)?;
            let db = migrated(&url).await?;
            let report = exchange::command::import_divisions_from(&db, source, !dry_run).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            exchange::command::refuse_rejected_divisions(&file, &report)?;
        }
        Command::Regions {
            action: RegionsAction::Export { output },
        } => {
            let db = migrated(&url).await?;
            let count = exchange::command::export_divisions_to(&db, output.as_deref()).await?;
            tracing::info!(count, "divisions exported");
        }
        Command::Import {
            file,
            format,
            dry_run,
            atomic,
            divisions,
            pace,
        } => {
            let by_extension = file
                .extension()
                .and_then(|e| e.to_str())
                .and_then(Format::named);
            let Some(format) = format.or(by_extension) else {
                return Err(usage(format!(
                    "cannot tell the format of {} from its name: give --format ndjson or csv",
                    file.display()
                )));
            };
            let source = Source::open(&file)?;
            let divisions = match divisions {
                Some(path) => Some((Source::open(&path)?, path)),
                None => None,
            };
            let db = migrated(&url).await?;
            if let Some((divisions, path)) = divisions {
                // Standard output keeps the households' report alone.
                let report = exchange::command::import_divisions_from(&db, divisions, true).await?;
                eprintln!("{}", serde_json::to_string_pretty(&report)?);
                exchange::command::refuse_rejected_divisions(&path, &report)?;
            }
            let mode = match (dry_run, atomic) {
                (true, _) => Mode::DryRun,
                (_, true) => Mode::Atomic,
                _ => Mode::Apply,
            };
            let report = exchange::command::import_from(&db, source, format, mode, &pace).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            exchange::command::refuse_rejected_households(&file, &report)?;
        }
        Command::ExportSchema => unreachable!("handled before connecting"),
    }
    Ok(())
}
