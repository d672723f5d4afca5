//! `fupin`: serve the API, seed a demo county, migrate, export the schema.

use anyhow::Context;
use api::config::{DEFAULT_BIND, DEFAULT_DATABASE_URL, Limits};
use api::seed::{self, SeedOptions};
use api::{app, db, graphql, telemetry};
use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};

#[derive(Parser)]
#[command(
    name = "fupin",
    version,
    about = "Fupin: the county precision poverty alleviation API"
)]
struct Cli {
    /// Database URL: `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    database_url: String,
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
        /// Load the demo county first, if the database is empty.
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        limits: Limits,
    },
    /// Generate a deterministic demo county into an empty database.
    Seed {
        /// Number of poor households to generate.
        #[arg(long, default_value_t = seed::DEMO_HOUSEHOLDS)]
        households: u32,
        /// Seed of the random generator: the same seed gives the same county.
        #[arg(long, default_value_t = seed::DEMO_SEED)]
        seed: u64,
    },
    /// Apply, roll back or list schema migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Print the GraphQL schema (SDL).
    ExportSchema,
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::ExportSchema = cli.command {
        print!("{}", graphql::sdl());
        return Ok(());
    }
    telemetry::init();
    let db = db::connect(&cli.database_url)
        .await
        .with_context(|| "cannot connect to the database named by DATABASE_URL")?;
    match cli.command {
        Command::Serve { bind, demo, limits } => {
            db::migrate(&db).await.context("migrations failed")?;
            if demo && seed::is_empty(&db).await? {
                tracing::info!(
                    households = seed::DEMO_HOUSEHOLDS,
                    "loading the demo county"
                );
                let options = SeedOptions {
                    households: seed::DEMO_HOUSEHOLDS,
                    seed: seed::DEMO_SEED,
                    progress: false,
                };
                seed::run(&db, &options)
                    .await
                    .context("loading the demo county failed")?;
            }
            let listener = tokio::net::TcpListener::bind(&bind)
                .await
                .with_context(|| format!("cannot listen on {bind}"))?;
            tracing::info!(address = %listener.local_addr()?, "serving GraphQL at /graphql");
            app::serve(listener, db, limits, app::shutdown_signal()).await?;
        }
        Command::Seed {
            households,
            seed: seed_value,
        } => {
            db::migrate(&db).await.context("migrations failed")?;
            let started = std::time::Instant::now();
            let options = SeedOptions {
                households,
                seed: seed_value,
                progress: true,
            };
            let report = seed::run(&db, &options).await.context("seeding failed")?;
            tracing::info!(?report, seconds = started.elapsed().as_secs_f64(), "seeded");
        }
        Command::Migrate { action } => match action {
            MigrateAction::Up => Migrator::up(&db, None).await?,
            MigrateAction::Down { steps } => Migrator::down(&db, Some(steps)).await?,
            MigrateAction::Status => {
                for migration in Migrator::get_migration_with_status(&db).await? {
                    println!("{}\t{}", migration.name(), migration.status());
                }
            }
        },
        Command::ExportSchema => unreachable!("handled before connecting"),
    }
    Ok(())
}
