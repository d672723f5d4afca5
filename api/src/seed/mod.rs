//! The demo county: a realistic, deterministic register generated from a seed,
//! written in batches so that a million households load in minutes.

mod assistance;
mod names;

use std::collections::HashMap;

use chrono::{Days, NaiveDate, Utc};
use entity::enums::*;
use entity::{
    enterprise, fund_entry, fund_source, household, household_cause, household_income, member,
    monitoring_line, poverty_line, project, project_village, region, status_change,
};
use indicatif::{ProgressBar, ProgressStyle};
use rand::distr::{Distribution, weighted::WeightedIndex};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    IntoActiveModel, PaginatorTrait, Set, TransactionTrait,
};

use crate::codes;
pub use crate::codes::{is_valid_credit_code, is_valid_id_number};
use crate::domain::funds;
use crate::domain::household::{CardFields, Conditions, Guarantees, NewMember, check_members};
use crate::domain::lifecycle::{self, Documented, Standing, State};
use crate::domain::tally;
use crate::error::ApiError;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub households: u32,
    pub seed: u64,
    /// Draw a progress bar on the terminal, and print a line at each tenth of
    /// the households (`seeded <n> households in <seconds> s`).
    pub progress: bool,
    /// Write the county (regions, lines, enterprises, projects) of that many
    /// households but not the households: the target of an import.
    pub without_households: bool,
}

/// Households in the demo county `serve --demo` loads.
pub const DEMO_HOUSEHOLDS: u32 = 2_000;
/// The seed of the demo county.
pub const DEMO_SEED: u64 = 2015;

const COUNTY_CODE: &str = "522699";
const COUNTY_NAME: &str = "清水江县";
/// Income years on the generated cards; the register's reference year is the last.
const FIRST_INCOME_YEAR: i32 = 2016;
const REFERENCE_YEAR: i32 = 2020;
/// The national poverty line in current yuan (domain brief).
const POVERTY_LINES: [(i32, i64); 6] = [
    (2015, 2_800),
    (2016, 2_952),
    (2017, 3_335),
    (2018, 3_535),
    (2019, 3_747),
    (2020, 4_000),
];
/// The province's monitoring line for return to poverty, in current yuan.
const MONITORING_LINES: [(i32, i64); 6] = [
    (2021, 6_000),
    (2022, 6_300),
    (2023, 6_600),
    (2024, 6_900),
    (2025, 7_200),
    (2026, 7_500),
];
/// Rows per INSERT statement: under SQLite's 32,766 bound parameters for the widest table.
const ROWS_PER_STATEMENT: usize = 1_000;
/// Batches PostgreSQL writes at once, while generation continues; SQLite has one writer.
const POSTGRES_WRITERS: usize = 3;
/// Households per transaction.
const HOUSEHOLDS_PER_BATCH: usize = 2_000;
/// Tables the households fill, whose planner statistics the seed keeps fresh.
const FILLED: &str = "household, household_cause, member, household_income, status_change, \
                      village_tally_change";

/// The demo users, one per role; `serve --demo` gives them a fresh password.
pub const DEMO_USERNAMES: [&str; 7] = [
    "admin",
    "township",
    "village",
    "helper",
    "enterprise",
    "auditor",
    "province",
];

/// Creates the demo users (or resets their password) and returns the password.
pub async fn demo_users(db: &DatabaseConnection) -> Result<String, ApiError> {
    use crate::account::{self, NewUser};
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};

    let password = crate::auth::random_password();
    let demo = crate::audit::Actor::system("demo");
    let first_region = |level| {
        region::Entity::find()
            .filter(region::Column::Level.eq(level))
            .order_by_asc(region::Column::Code)
            .one(db)
    };
    let township = first_region(RegionLevel::Township).await?.map(|r| r.code);
    let village = first_region(RegionLevel::Village).await?.map(|r| r.code);
    let firm = enterprise::Entity::find()
        .order_by_asc(enterprise::Column::Id)
        .one(db)
        .await?
        .map(|e| e.credit_code);
    let roles = [
        (Role::CountyAdmin, None, None),
        (Role::TownshipOfficer, township, None),
        (Role::VillageCadre, village, None),
        (Role::HelperCadre, None, None),
        (Role::Enterprise, None, firm),
        (Role::Auditor, None, None),
        (Role::ProvincialSystem, None, None),
    ];
    for (username, (role, region_code, enterprise_credit_code)) in
        DEMO_USERNAMES.into_iter().zip(roles)
    {
        let exists = entity::app_user::Entity::find()
            .filter(entity::app_user::Column::Username.eq(username))
            .one(db)
            .await?
            .is_some();
        if exists {
            account::reset_password(db, &demo, username, &password).await?;
        } else {
            let new = NewUser {
                username: username.into(),
                password: password.clone(),
                role,
                region_code,
                enterprise_credit_code,
            };
            account::create_user(db, &demo, new).await?;
        }
    }
    Ok(password)
}

/// Counts of what was written.
#[derive(Debug, Default, Clone, Copy)]
pub struct SeedReport {
    pub townships: usize,
    pub villages: usize,
    pub households: usize,
    pub members: usize,
    pub enterprises: usize,
    pub projects: usize,
    /// Seconds until half the households were written, and from then to the
    /// end: the seed is linear when the second is no longer than the first.
    pub first_half_seconds: f64,
    pub second_half_seconds: f64,
}

/// Lays the demo's assistance (helper units, first secretaries, plans,
/// pairings, visits, benefit links, loans, project assets) over a demo county
/// just loaded, once its demo users exist.
pub async fn demo_assistance(db: &DatabaseConnection) -> Result<(), DbErr> {
    assistance::run(db, DEMO_SEED).await
}

/// Whether the register has any region yet.
pub async fn is_empty(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(region::Entity::find().count(db).await? == 0)
}

/// Generates the county into an empty database. Refuses a database that has data.
pub async fn run(db: &DatabaseConnection, options: &SeedOptions) -> Result<SeedReport, DbErr> {
    if !is_empty(db).await? {
        return Err(DbErr::Custom(
            "the database already holds a register; seed only into an empty database".into(),
        ));
    }
    let started = std::time::Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let now = Utc::now();
    let mut report = SeedReport::default();

    let txn = db.begin().await?;
    insert_all(
        &txn,
        POVERTY_LINES
            .iter()
            .map(|&(year, yuan)| poverty_line::Model {
                year,
                annual_fen: yuan * 100,
            }),
    )
    .await?;
    insert_all(
        &txn,
        MONITORING_LINES
            .iter()
            .map(|&(year, yuan)| monitoring_line::Model {
                province_code: COUNTY_CODE[..2].to_owned(),
                year,
                annual_fen: yuan * 100,
            }),
    )
    .await?;
    let plan = RegionPlan::new(options.households, &mut rng, now);
    report.townships = plan.townships.len();
    report.villages = plan.villages.len();
    insert_all(&txn, std::iter::once(plan.county.clone())).await?;
    insert_all(&txn, plan.townships.iter().cloned()).await?;
    insert_all(&txn, plan.villages.iter().map(|v| v.model.clone())).await?;
    let enterprises = enterprises(&plan, &mut rng, now);
    report.enterprises = enterprises.len();
    let (projects, links) = projects(&plan, &enterprises, &mut rng, now);
    report.projects = projects.len();
    let (sources, entries) = funds(&projects, now)?;
    insert_all(&txn, enterprises.into_iter()).await?;
    insert_all(&txn, projects.into_iter()).await?;
    insert_all(&txn, links.into_iter()).await?;
    insert_all(&txn, sources.into_iter()).await?;
    insert_all(&txn, entries.into_iter()).await?;
    txn.commit().await?;

    let bar = if options.progress {
        let bar = ProgressBar::new(u64::from(options.households));
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {human_pos}/{human_len} households ({per_sec}, eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut people = People::new();
    let mut batch = Batch::default();
    let mut writers = tokio::task::JoinSet::new();
    let concurrent_writers = match db.get_database_backend() {
        DbBackend::Postgres => POSTGRES_WRITERS,
        _ => 1,
    };
    let mut progress = Progress {
        db,
        bar: &bar,
        options,
        started,
        written: 0,
        batches: 0,
        tenths_told: 0,
        first_half_seconds: None,
    };
    let mut next_household_id = 1;
    let villages = if options.without_households {
        &[][..]
    } else {
        &plan.villages[..]
    };
    for village in villages {
        for sequence in 1..=village.households {
            let mut card = people.household(&mut rng, village, sequence, next_household_id, now)?;
            card.history = history(&card.household)?;
            // The register's own rule of a card's members holds for every generated one.
            check_members(&card.members, |i| format!("members[{i}]")).map_err(|refused| {
                refusal(&format!("household {}", card.household.number), refused)
            })?;
            next_household_id += 1;
            report.members += card.members.len();
            batch.push(card);
            if batch.households.len() >= HOUSEHOLDS_PER_BATCH {
                if writers.len() >= concurrent_writers
                    && let Some(written) = writers.join_next().await
                {
                    progress
                        .written(written.map_err(|e| DbErr::Custom(e.to_string()))??)
                        .await?;
                }
                writers.spawn(std::mem::take(&mut batch).write(db.clone()));
            }
        }
    }
    writers.spawn(batch.write(db.clone()));
    while let Some(written) = writers.join_next().await {
        progress
            .written(written.map_err(|e| DbErr::Custom(e.to_string()))??)
            .await?;
    }
    bar.finish_and_clear();
    report.households = (next_household_id - 1) as usize;
    // The triggers kept each village's figures; fold them in once, now.
    tally::compact(db)
        .await
        .map_err(|e| DbErr::Custom(format!("village tally: {}", e.sentence())))?;
    finish_postgres(db).await?;
    let seconds = started.elapsed().as_secs_f64();
    report.first_half_seconds = progress.first_half_seconds.unwrap_or(seconds);
    report.second_half_seconds = seconds - report.first_half_seconds;
    if options.progress && report.households > 0 {
        eprintln!("seeded {} households in {seconds:.1} s", report.households);
    }
    Ok(report)
}

/// The households written so far: a line at each tenth of them (the last
/// once the tally and statistics are done too), and fresh planner statistics
/// after batches 1, 2, 4, 8...
struct Progress<'a> {
    db: &'a DatabaseConnection,
    bar: &'a ProgressBar,
    options: &'a SeedOptions,
    started: std::time::Instant,
    written: u64,
    batches: u64,
    tenths_told: u64,
    first_half_seconds: Option<f64>,
}

impl Progress<'_> {
    async fn written(&mut self, households: u64) -> Result<(), DbErr> {
        self.bar.inc(households);
        self.written += households;
        self.batches += 1;
        let total = u64::from(self.options.households);
        let seconds = self.started.elapsed().as_secs_f64();
        if self.first_half_seconds.is_none() && self.written * 2 >= total {
            self.first_half_seconds = Some(seconds);
        }
        while self.tenths_told < 9 && self.written * 10 >= total * (self.tenths_told + 1) {
            self.tenths_told += 1;
            if self.options.progress {
                let line = format!("seeded {} households in {seconds:.1} s", self.written);
                self.bar.suspend(|| eprintln!("{line}"));
            }
        }
        if self.batches.is_power_of_two() {
            analyze(self.db).await?;
        }
        Ok(())
    }
}

/// The planner's statistics of the tables being filled: plans made for
/// near-empty tables (the tally triggers' among them) would slow every later
/// batch down, and autovacuum may be off or late. Analysed at doubling sizes,
/// the cost stays a small share of the load.
async fn analyze(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!("ANALYZE {FILLED}")).await?;
    }
    Ok(())
}

/// Inserts rows in multi-row statements.
async fn insert_all<M, A>(
    db: &impl ConnectionTrait,
    rows: impl Iterator<Item = M>,
) -> Result<(), DbErr>
where
    M: IntoActiveModel<A>,
    A: ActiveModelTrait + Send,
{
    let rows: Vec<A> = rows.map(IntoActiveModel::into_active_model).collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        <A::Entity as EntityTrait>::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// IDs were given explicitly: move PostgreSQL's sequences past them, and give
/// the planner statistics of the freshly loaded tables.
async fn finish_postgres(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    db.execute_unprepared("ANALYZE").await?;
    for table in [
        "region",
        "household",
        "member",
        "enterprise",
        "project",
        "fund_source",
        "fund_entry",
    ] {
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        ))
        .await?;
    }
    Ok(())
}

/// Picks by weight; the weights are constants, so construction cannot fail.
fn weighted<'a, T>(rng: &mut impl Rng, choices: &'a [(T, u32)]) -> &'a T {
    let weights = choices.iter().map(|(_, w)| *w);
    let index = WeightedIndex::new(weights).map_or(0, |dist| dist.sample(rng));
    &choices[index].0
}

fn pick<'a>(rng: &mut impl Rng, list: &[&'a str]) -> &'a str {
    list.choose(rng).copied().unwrap_or_default()
}

fn place_name(rng: &mut impl Rng) -> String {
    format!("{}{}", pick(rng, names::PLACE), pick(rng, names::PLACE))
}

fn yuan(amount: f64) -> i64 {
    (amount * 100.0).round() as i64
}

struct VillagePlan {
    model: region::Model,
    township_name: String,
    households: u32,
}

struct RegionPlan {
    county: region::Model,
    townships: Vec<region::Model>,
    villages: Vec<VillagePlan>,
}

impl RegionPlan {
    fn new(households: u32, rng: &mut ChaCha8Rng, now: chrono::DateTime<Utc>) -> Self {
        let village_count = households.div_ceil(150).clamp(6, 4_000);
        let township_count = (village_count / 12).clamp(3, 40);
        let blank = |id: i64, code: String, name: String, level, parent_id| region::Model {
            id,
            code,
            name,
            level,
            parent_id,
            is_poverty_village: false,
            exit_year: None,
            rural_population: None,
            latitude: None,
            longitude: None,
            collective_income_fen: None,
            collective_income_year: None,
            retired_on: None,
            merged_into_id: None,
            hardened_road: None,
            safe_drinking_water: None,
            grid_power: None,
            standard_clinic: None,
            school_within_reach: None,
            broadband: None,
            surveyed_on: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let county = blank(
            1,
            format!("{COUNTY_CODE}000000"),
            COUNTY_NAME.into(),
            RegionLevel::County,
            None,
        );
        let mut next_id = 2;
        let mut townships = Vec::new();
        for t in 0..township_count {
            // Towns (镇) take codes 1xx, townships (乡) 2xx.
            let is_town = t < township_count.div_ceil(2);
            let number = if is_town {
                100 + t
            } else {
                200 + t - township_count.div_ceil(2)
            };
            let suffix = if is_town { "镇" } else { "乡" };
            let name = format!("{}{suffix}", place_name(rng));
            townships.push(blank(
                next_id,
                format!("{COUNTY_CODE}{number:03}000"),
                name,
                RegionLevel::Township,
                Some(1),
            ));
            next_id += 1;
        }
        let mut villages = Vec::new();
        for v in 0..village_count {
            let township = &townships[(v % township_count) as usize];
            let sequence = 201 + v / township_count;
            let code = format!("{}{sequence:03}", &township.code[..9]);
            let mut model = blank(
                next_id,
                code,
                format!("{}村", place_name(rng)),
                RegionLevel::Village,
                Some(township.id),
            );
            next_id += 1;
            model.is_poverty_village = rng.random_bool(0.35);
            if model.is_poverty_village && rng.random_bool(0.8) {
                model.exit_year = Some(rng.random_range(2016..=REFERENCE_YEAR));
            }
            model.latitude = Some(26.2 + rng.random_range(-0.4..0.4));
            model.longitude = Some(107.5 + rng.random_range(-0.4..0.4));
            model.collective_income_year = Some(REFERENCE_YEAR);
            model.collective_income_fen = Some(yuan(rng.random_range(20_000.0..500_000.0)));
            // Most villages have most facilities; which lack one follows from
            // its place in the county, not the random stream the rest is drawn from.
            model.hardened_road = Some(v % 11 != 3);
            model.safe_drinking_water = Some(v % 13 != 5);
            model.grid_power = Some(true);
            model.standard_clinic = Some(v % 7 != 2);
            model.school_within_reach = Some(v % 17 != 8);
            model.broadband = Some(v % 5 != 4);
            model.surveyed_on = Some(now.date_naive());
            let count = households / village_count + u32::from(v < households % village_count);
            // Poverty incidence of roughly 5% to 30% of the rural population.
            let people = f64::from(count) * 3.6;
            model.rural_population = Some((people / rng.random_range(0.05..0.30)).round() as i32);
            villages.push(VillagePlan {
                model,
                township_name: township.name.clone(),
                households: count,
            });
        }
        RegionPlan {
            county,
            townships,
            villages,
        }
    }
}

fn enterprises(
    plan: &RegionPlan,
    rng: &mut ChaCha8Rng,
    now: chrono::DateTime<Utc>,
) -> Vec<enterprise::Model> {
    let count = (plan.villages.len() / 2).max(4);
    let mut used = std::collections::HashSet::new();
    (0..count)
        .map(|i| {
            let village = &plan.villages[rng.random_range(0..plan.villages.len())].model;
            let product = pick(rng, names::PRODUCTS);
            let (kind, prefix, name) = match *weighted(rng, &[(0, 45), (1, 30), (2, 15), (3, 10)]) {
                0 => (
                    EnterpriseKind::Cooperative,
                    "93",
                    format!(
                        "{}{}{product}专业合作社",
                        COUNTY_NAME.trim_end_matches('县'),
                        village.name
                    ),
                ),
                1 => (
                    EnterpriseKind::Enterprise,
                    "91",
                    format!("{}{}{product}开发有限公司", COUNTY_NAME, place_name(rng)),
                ),
                2 => (
                    EnterpriseKind::FamilyFarm,
                    "92",
                    format!(
                        "{}{}{product}家庭农场",
                        village.name,
                        pick(rng, names::SURNAMES)
                    ),
                ),
                _ => (
                    EnterpriseKind::LargeHousehold,
                    "92",
                    format!(
                        "{}{}{product}种养大户",
                        village.name,
                        pick(rng, names::SURNAMES)
                    ),
                ),
            };
            let industry = match product {
                "生猪" | "肉牛" | "香猪" | "土鸡" | "蜂蜜" => Industry::Livestock,
                "稻鱼" => Industry::Fishery,
                "油茶" | "竹" => Industry::Forestry,
                _ if kind == EnterpriseKind::Enterprise => Industry::AgroProcessing,
                _ => Industry::Planting,
            };
            let credit_code = loop {
                let body: String = (0..9)
                    .map(|_| {
                        codes::CREDIT_CHARSET[rng.random_range(0..codes::CREDIT_CHARSET.len())]
                            as char
                    })
                    .collect();
                let code =
                    codes::credit_code(&format!("{prefix}{COUNTY_CODE}{body}")).unwrap_or_default();
                if used.insert(code.clone()) {
                    break code;
                }
            };
            enterprise::Model {
                id: i as i64 + 1,
                name,
                credit_code,
                kind,
                industry,
                village_id: Some(village.id),
                contact_person: Some(format!(
                    "{}{}",
                    pick(rng, names::SURNAMES),
                    pick(rng, names::MALE_GIVEN)
                )),
                contact_phone: Some(format!("139{:08}", rng.random_range(0..100_000_000u32))),
                version: 1,
                created_at: now,
                updated_at: now,
            }
        })
        .collect()
}

fn projects(
    plan: &RegionPlan,
    enterprises: &[enterprise::Model],
    rng: &mut ChaCha8Rng,
    now: chrono::DateTime<Utc>,
) -> (Vec<project::Model>, Vec<project_village::Model>) {
    let kinds: [(ProjectKind, u32, &str, f64, f64); 10] = [
        (
            ProjectKind::Industry,
            30,
            "产业发展",
            100_000.0,
            2_000_000.0,
        ),
        (
            ProjectKind::Road,
            15,
            "通组公路硬化",
            300_000.0,
            5_000_000.0,
        ),
        (
            ProjectKind::DrinkingWater,
            10,
            "人饮安全巩固提升",
            80_000.0,
            800_000.0,
        ),
        (ProjectKind::Power, 5, "农网改造", 200_000.0, 1_500_000.0),
        (
            ProjectKind::WaterConservancy,
            8,
            "小型水利设施",
            100_000.0,
            1_200_000.0,
        ),
        (
            ProjectKind::HousingRenovation,
            10,
            "农村危房改造",
            200_000.0,
            2_000_000.0,
        ),
        (ProjectKind::Education, 6, "教育资助", 50_000.0, 600_000.0),
        (
            ProjectKind::Training,
            7,
            "实用技术培训",
            20_000.0,
            200_000.0,
        ),
        (
            ProjectKind::Finance,
            5,
            "扶贫小额信贷贴息",
            50_000.0,
            500_000.0,
        ),
        (
            ProjectKind::Relocation,
            4,
            "易地扶贫搬迁配套",
            1_000_000.0,
            8_000_000.0,
        ),
    ];
    let weights: Vec<(usize, u32)> = kinds.iter().enumerate().map(|(i, k)| (i, k.1)).collect();
    let count = plan.villages.len() * 3 / 2;
    let mut projects = Vec::with_capacity(count);
    let mut links = Vec::new();
    for i in 0..count {
        let (kind, _, label, low, high) = kinds[*weighted(rng, &weights)];
        let first = rng.random_range(0..plan.villages.len());
        let covered = rng.random_range(1..=3usize).min(plan.villages.len());
        let year = rng.random_range(2016..=REFERENCE_YEAR + 1);
        let status = match REFERENCE_YEAR + 1 - year {
            0 => *weighted(
                rng,
                &[
                    (ProjectStatus::Library, 3),
                    (ProjectStatus::Approved, 2),
                    (ProjectStatus::InProgress, 2),
                ],
            ),
            1 => *weighted(
                rng,
                &[
                    (ProjectStatus::InProgress, 2),
                    (ProjectStatus::Completed, 2),
                    (ProjectStatus::Accepted, 3),
                ],
            ),
            _ => *weighted(
                rng,
                &[(ProjectStatus::Completed, 1), (ProjectStatus::Accepted, 9)],
            ),
        };
        let by_enterprise = kind == ProjectKind::Industry && rng.random_bool(0.5);
        let enterprise =
            by_enterprise.then(|| &enterprises[rng.random_range(0..enterprises.len())]);
        let implementer = match enterprise {
            Some(e) => e.name.clone(),
            None => pick(rng, names::DEPARTMENTS).to_owned(),
        };
        let start =
            NaiveDate::from_ymd_opt(year, rng.random_range(3..=6), rng.random_range(1..=28));
        let started = status != ProjectStatus::Library && status != ProjectStatus::Approved;
        let end = start.and_then(|s| s.checked_add_days(Days::new(rng.random_range(60..300))));
        let done = matches!(status, ProjectStatus::Completed | ProjectStatus::Accepted);
        let days_before = |date: Option<NaiveDate>, days: u64| {
            date.and_then(|d| d.checked_sub_days(Days::new(days)))
        };
        let days_after = |date: Option<NaiveDate>, days: u64| {
            date.and_then(|d| d.checked_add_days(Days::new(days)))
        };
        let approved_on = days_before(start, 20).filter(|_| status != ProjectStatus::Library);
        let accepted_on = days_after(end, 30).filter(|_| status == ProjectStatus::Accepted);
        let village = &plan.villages[first].model;
        projects.push(project::Model {
            id: i as i64 + 1,
            name: format!("{year}年{}{label}项目", village.name),
            kind,
            status,
            year,
            implementer,
            implementer_enterprise_id: enterprise.map(|e| e.id),
            budget_fen: yuan(rng.random_range(low..high)).div_euclid(100_000) * 100_000,
            start_date: start,
            end_date: end,
            performance_targets: Some(format!(
                "覆盖{covered}个村，带动建档立卡贫困户{}户以上增收",
                rng.random_range(10..80)
            )),
            benefit_mechanism: Some(format!(
                "{label}：受益贫困户优先务工、入股分红，收益按户公示"
            )),
            progress_percent: match status {
                ProjectStatus::InProgress => rng.random_range(10..95),
                _ if done => 100,
                _ => 0,
            },
            actual_start_date: start.filter(|_| started),
            actual_end_date: end.filter(|_| done),
            notice_starts_on: days_before(approved_on.or(start), 15),
            notice_ends_on: days_before(approved_on.or(start), 5),
            // Notices before this register existed were posted on paper: the seed says where.
            notice_posted_by: Some(format!("{}村民委员会", village.name)),
            notice_posted_at: Some(format!("{}村务公开栏", village.name)),
            notice_evidence: Some(format!("{year}年{}{label}项目公示照片", village.name)),
            approved_on,
            accepted_on,
            announced_on: days_after(accepted_on, 10),
            version: 1,
            created_at: now,
            updated_at: now,
        });
        for offset in 0..covered {
            let village = &plan.villages[(first + offset) % plan.villages.len()].model;
            links.push(project_village::Model {
                project_id: i as i64 + 1,
                village_id: village.id,
            });
        }
    }
    (projects, links)
}

/// The money of the approved projects: each year's projects draw alternately on
/// that year's central fund and its integrated agriculture-related fund, each
/// allocated its budget at approval and paid out as far as it has progressed.
fn funds(
    projects: &[project::Model],
    now: chrono::DateTime<Utc>,
) -> Result<(Vec<fund_source::Model>, Vec<fund_entry::Model>), DbErr> {
    let kinds = [
        (FundSourceKind::Central, "中央财政专项扶贫资金"),
        (FundSourceKind::IntegratedAgricultural, "统筹整合涉农资金"),
    ];
    let mut sources: Vec<fund_source::Model> = Vec::new();
    let mut entries = Vec::new();
    for (i, project) in projects.iter().enumerate() {
        let Some(approved_on) = project.approved_on else {
            continue;
        };
        let (kind, label) = kinds[i % kinds.len()];
        let source_id = match sources
            .iter_mut()
            .find(|s| s.year == project.year && s.kind == kind)
        {
            Some(source) => {
                source.amount_fen += project.budget_fen;
                source.id
            }
            None => {
                let id = sources.len() as i64 + 1;
                sources.push(fund_source::Model {
                    id,
                    year: project.year,
                    kind,
                    name: format!("{}年{label}", project.year),
                    document_number: Some(format!("{COUNTY_NAME}财农〔{}〕{id}号", project.year)),
                    amount_fen: project.budget_fen,
                    donor_enterprise_id: None,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                });
                id
            }
        };
        let entry = |kind, amount_fen, entry_date, payee: Option<&str>| fund_entry::Model {
            id: 0,
            kind,
            source_id,
            project_id: project.id,
            amount_fen,
            entry_date,
            voucher_number: payee.map(|_| format!("记-{}-{:05}", project.year, project.id)),
            payee: payee.map(str::to_owned),
            payee_kind: payee.map(|_| PayeeKind::Organisation),
            reverses_id: None,
            note: String::new(),
            recorded_by: None,
            created_at: now,
        };
        entries.push(entry(
            FundEntryKind::Allocation,
            project.budget_fen,
            approved_on,
            None,
        ));
        let paid = project.budget_fen * i64::from(project.progress_percent) / 100;
        if let Some(paid_on) = project.actual_end_date.or(project.actual_start_date)
            && paid > 0
        {
            entries.push(entry(
                FundEntryKind::Disbursement,
                paid,
                paid_on,
                Some(&project.implementer),
            ));
        }
    }
    // Headroom: each fund is a tenth larger than what it allocated.
    for source in &mut sources {
        source.amount_fen += source.amount_fen / 10;
    }
    for (i, entry) in entries.iter_mut().enumerate() {
        entry.id = i as i64 + 1;
    }
    // The ledger's own rule holds for every generated entry: none predates what it draws on.
    for entry in &entries {
        let project = projects.iter().find(|p| p.id == entry.project_id);
        let source = sources.iter().find(|s| s.id == entry.source_id);
        let first_allocation = (entry.kind == FundEntryKind::Disbursement)
            .then(|| project.and_then(|p| p.approved_on))
            .flatten();
        if let (Some(project), Some(source)) = (project, source) {
            funds::not_before(entry.entry_date, project, source, first_allocation)
                .map_err(|refused| refusal(&format!("project {}", project.id), refused))?;
        }
    }
    Ok((sources, entries))
}

/// A household's card and its dependent rows.
struct Card {
    household: household::Model,
    causes: Vec<household_cause::Model>,
    members: Vec<member::Model>,
    incomes: Vec<household_income::Model>,
    history: Vec<status_change::ActiveModel>,
}

#[derive(Default)]
struct Batch {
    households: Vec<household::Model>,
    causes: Vec<household_cause::Model>,
    members: Vec<member::Model>,
    incomes: Vec<household_income::Model>,
    history: Vec<status_change::ActiveModel>,
}

impl Batch {
    fn push(&mut self, card: Card) {
        self.households.push(card.household);
        self.causes.extend(card.causes);
        self.members.extend(card.members);
        self.incomes.extend(card.incomes);
        self.history.extend(card.history);
    }

    /// Writes the batch in one transaction; returns how many households it held.
    async fn write(self, db: DatabaseConnection) -> Result<u64, DbErr> {
        if db.get_database_backend() == DbBackend::Postgres {
            return self.copy(&db).await;
        }
        let households = self.households.len() as u64;
        let txn = db.begin().await?;
        insert_all(&txn, self.households.into_iter()).await?;
        insert_all(&txn, self.causes.into_iter()).await?;
        insert_all(&txn, self.members.into_iter()).await?;
        insert_all(&txn, self.incomes.into_iter()).await?;
        insert_all(&txn, self.history.into_iter()).await?;
        txn.commit().await?;
        Ok(households)
    }

    /// On PostgreSQL, with one COPY per table (the triggers run as for an
    /// INSERT): a fraction of the cost of multi-row INSERTs, whose thousands
    /// of bound values PostgreSQL parses and plans statement by statement.
    async fn copy(self, db: &DatabaseConnection) -> Result<u64, DbErr> {
        let households = self.households.len() as u64;
        let tables = [
            copy_text(models(self.households))?,
            copy_text(models(self.causes))?,
            copy_text(models(self.members))?,
            copy_text(models(self.incomes))?,
            copy_text(self.history)?,
        ];
        let failed = |e: sqlx::Error| DbErr::Custom(format!("seeding with COPY: {e}"));
        let mut txn = db
            .get_postgres_connection_pool()
            .begin()
            .await
            .map_err(failed)?;
        for (statement, rows) in tables.into_iter().flatten() {
            let mut copy = txn.copy_in_raw(&statement).await.map_err(failed)?;
            copy.send(rows).await.map_err(failed)?;
            copy.finish().await.map_err(failed)?;
        }
        txn.commit().await.map_err(failed)?;
        Ok(households)
    }
}

fn models<M: IntoActiveModel<A>, A: ActiveModelTrait>(rows: Vec<M>) -> Vec<A> {
    rows.into_iter()
        .map(IntoActiveModel::into_active_model)
        .collect()
}

/// The `COPY ... FROM STDIN` statement of `rows` (the columns the first one
/// sets) and the rows in its text format; nothing for no rows.
fn copy_text<A: ActiveModelTrait>(rows: Vec<A>) -> Result<Option<(String, Vec<u8>)>, DbErr> {
    use sea_orm::sea_query::Value;
    use sea_orm::{EntityName, IdenStatic, Iterable};
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let columns: Vec<_> = <A::Entity as EntityTrait>::Column::iter()
        .filter(|c| first.get(*c).into_value().is_some())
        .collect();
    let names: Vec<String> = columns
        .iter()
        .map(|c| format!("\"{}\"", c.as_str()))
        .collect();
    let statement = format!(
        "COPY \"{}\" ({}) FROM STDIN",
        <A::Entity as Default>::default().table_name(),
        names.join(", ")
    );
    let mut text = String::new();
    for row in &rows {
        for (i, column) in columns.iter().enumerate() {
            if i > 0 {
                text.push('\t');
            }
            let value = row.get(*column).into_value();
            let field = match value {
                None => None,
                Some(Value::Bool(v)) => v.map(|b| if b { "t".into() } else { "f".into() }),
                Some(Value::SmallInt(v)) => v.map(|n| n.to_string()),
                Some(Value::Int(v)) => v.map(|n| n.to_string()),
                Some(Value::BigInt(v)) => v.map(|n| n.to_string()),
                Some(Value::Double(v)) => v.map(|n| n.to_string()),
                Some(Value::String(v)) => v,
                Some(Value::ChronoDate(v)) => v.map(|d| d.to_string()),
                Some(Value::ChronoDateTimeUtc(v)) => v.map(|t| t.to_rfc3339()),
                Some(Value::Json(v)) => v.map(|j| j.to_string()),
                Some(other) => {
                    return Err(DbErr::Custom(format!(
                        "no COPY text for {other:?} of {}",
                        column.as_str()
                    )));
                }
            };
            match field {
                None => text.push_str("\\N"),
                Some(field) => {
                    for c in field.chars() {
                        match c {
                            '\\' => text.push_str("\\\\"),
                            '\t' => text.push_str("\\t"),
                            '\n' => text.push_str("\\n"),
                            '\r' => text.push_str("\\r"),
                            c => text.push(c),
                        }
                    }
                }
            }
        }
        text.push('\n');
    }
    Ok(Some((statement, text.into_bytes())))
}

/// One step of a generated household's way through the procedure.
struct Step {
    at: chrono::DateTime<Utc>,
    action: StatusAction,
    to: State,
    year: Option<i32>,
    decision: Option<String>,
    reason: &'static str,
}

/// The status history that brought a generated card where it stands, each
/// change documented as the county's decisions would be, and replayed through
/// the lifecycle's table: a card no procedure could reach is an error.
fn history(card: &household::Model) -> Result<Vec<status_change::ActiveModel>, DbErr> {
    use HouseholdStatus::{Enrolled, LiftedOut, Removed, Returned};
    let on = |year: i32, month: u32, day: u32| {
        NaiveDate::from_ymd_opt(year, month, day)
            .and_then(|d| d.and_hms_opt(2, 0, 0))
            .map(|t| t.and_utc())
            .ok_or_else(|| DbErr::Custom(format!("no day {year}-{month}-{day}")))
    };
    let state = |status, monitoring| State { status, monitoring };
    let office = format!("{COUNTY_NAME}扶贫开发领导小组");
    let enrolled = card
        .enrolled_year
        .ok_or_else(|| DbErr::Custom(format!("household {} has no enrolment year", card.number)))?;
    let mut steps = vec![Step {
        at: on(enrolled, 10, 20)?,
        action: StatusAction::Enrolled,
        to: state(Enrolled, None),
        year: Some(enrolled),
        decision: Some(format!("{office}〔{enrolled}〕识别认定")),
        reason: "经农户申请、民主评议、两公示一公告，识别为贫困户",
    }];
    match (card.status, card.lifted_out_year) {
        (Removed, _) => steps.push(Step {
            at: on(enrolled + 1, 3, 1)?,
            action: StatusAction::Removed,
            to: state(Removed, None),
            year: None,
            decision: None,
            reason: "经核查不符合识别标准，予以清退",
        }),
        (LiftedOut | Returned, Some(year)) => {
            steps.push(Step {
                at: on(year, 9, 30)?,
                action: StatusAction::LiftedOut,
                to: state(LiftedOut, None),
                year: Some(year),
                decision: Some(format!("{office}〔{year}〕退出认定")),
                reason: "收入稳定超过当年扶贫标准，两不愁三保障达标",
            });
            if card.monitoring.is_some() {
                steps.push(Step {
                    at: on(year, 10, 20)?,
                    action: StatusAction::MonitoringStarted,
                    to: state(LiftedOut, card.monitoring),
                    year: None,
                    decision: None,
                    reason: "收入不稳定，纳入防返贫监测",
                });
            }
            if card.status == Returned {
                steps.push(Step {
                    at: on(year, 11, 9)?,
                    action: StatusAction::Returned,
                    to: state(Returned, card.monitoring),
                    year: None,
                    decision: None,
                    reason: "因病因灾收入下降，返贫",
                });
            }
        }
        _ => {}
    }
    let mut from = Standing::FILED.state;
    let documented: Vec<Documented<'_>> = steps
        .iter()
        .map(|step| {
            let entry = Documented {
                at: step.at,
                action: step.action,
                from_status: Some(from.status),
                from_monitoring: from.monitoring,
                to_status: step.to.status,
                to_monitoring: step.to.monitoring,
                year: step.year,
                decision: step.decision.as_deref(),
                reason: step.reason,
                actor: &office,
            };
            from = step.to;
            entry
        })
        .collect();
    let reached = lifecycle::replay(Standing::FILED, &documented).map_err(|refused| {
        DbErr::Custom(format!("household {}: {}", card.number, refused.reason))
    })?;
    let stands = Standing {
        state: state(card.status, card.monitoring),
        enrolled_year: card.enrolled_year,
        lifted_out_year: card.lifted_out_year,
    };
    if reached != stands {
        return Err(DbErr::Custom(format!(
            "household {}: its history leads to {reached:?}, not to where its card stands",
            card.number
        )));
    }
    Ok(documented
        .iter()
        .map(|d| status_change::ActiveModel {
            household_id: Set(card.id),
            action: Set(d.action),
            from_status: Set(d.from_status),
            to_status: Set(d.to_status),
            from_monitoring: Set(d.from_monitoring),
            to_monitoring: Set(d.to_monitoring),
            year: Set(d.year),
            decision: Set(d.decision.map(str::to_owned)),
            reason: Set(d.reason.to_owned()),
            proposal_id: Set(None),
            actor_id: Set(None),
            actor: Set(d.actor.to_owned()),
            at: Set(d.at),
            ..Default::default()
        })
        .collect())
}

/// Hands out members with unique ID numbers.
struct People {
    next_member_id: i64,
    /// Sequence numbers used per birth date and gender (GB 11643: odd for men).
    used_sequences: HashMap<(NaiveDate, bool), u16>,
    ethnicities: Vec<(&'static str, u32)>,
}

struct Person {
    relation: Relation,
    gender: Gender,
    age: i32,
}

impl People {
    fn new() -> Self {
        Self {
            next_member_id: 1,
            used_sequences: HashMap::new(),
            ethnicities: vec![("01", 55), ("06", 20), ("12", 15), ("09", 5), ("25", 5)],
        }
    }

    fn id_number(&mut self, rng: &mut ChaCha8Rng, age: i32, male: bool) -> String {
        let mut birth = NaiveDate::from_ymd_opt(REFERENCE_YEAR - age, 1, 1)
            .and_then(|d| d.checked_add_days(Days::new(rng.random_range(0..365))))
            .unwrap_or_default();
        loop {
            let used = self.used_sequences.entry((birth, male)).or_insert(0);
            if *used < 499 {
                *used += 1;
                let sequence = u32::from(*used) * 2 - u32::from(male);
                return codes::id_number(&format!(
                    "{COUNTY_CODE}{}{sequence:03}",
                    birth.format("%Y%m%d")
                ));
            }
            birth = birth.succ_opt().unwrap_or(birth);
        }
    }

    fn household(
        &mut self,
        rng: &mut ChaCha8Rng,
        village: &VillagePlan,
        sequence: u32,
        id: i64,
        now: chrono::DateTime<Utc>,
    ) -> Result<Card, DbErr> {
        let status = *weighted(
            rng,
            &[
                (HouseholdStatus::Enrolled, 30),
                (HouseholdStatus::LiftedOut, 64),
                (HouseholdStatus::Returned, 3),
                (HouseholdStatus::Removed, 3),
            ],
        );
        let main_cause = *weighted(
            rng,
            &[
                (PovertyCause::Illness, 30),
                (PovertyCause::Disability, 12),
                (PovertyCause::LackOfSkills, 12),
                (PovertyCause::LackOfLabour, 10),
                (PovertyCause::Education, 9),
                (PovertyCause::LackOfFunds, 9),
                (PovertyCause::Disaster, 4),
                (PovertyCause::LackOfLand, 4),
                (PovertyCause::LackOfWater, 3),
                (PovertyCause::PoorTransport, 3),
                (PovertyCause::LackOfMotivation, 3),
                (PovertyCause::Other, 1),
            ],
        );
        let attribute = *weighted(
            rng,
            &[
                (HouseholdAttribute::General, 70),
                (HouseholdAttribute::MinimumLivingGuarantee, 22),
                (HouseholdAttribute::ExtremePovertySupport, 8),
            ],
        );
        let enrolled_year = *weighted(
            rng,
            &[
                (2014, 70),
                (2015, 10),
                (2016, 8),
                (2017, 6),
                (2018, 4),
                (2019, 2),
            ],
        );
        let lifted_out_year = matches!(
            status,
            HouseholdStatus::LiftedOut | HouseholdStatus::Returned
        )
        .then(|| rng.random_range(enrolled_year + 1..=REFERENCE_YEAR));
        let monitoring = match status {
            HouseholdStatus::LiftedOut if rng.random_bool(0.08) => {
                Some(MonitoringCategory::Unstable)
            }
            // MARGINAL is for households never poor: a lifted-out one is watched for a sudden difficulty.
            HouseholdStatus::LiftedOut if rng.random_bool(0.04) => {
                Some(MonitoringCategory::SuddenDifficulty)
            }
            HouseholdStatus::Returned if rng.random_bool(0.4) => {
                Some(MonitoringCategory::SuddenDifficulty)
            }
            _ => None,
        };
        let poor_now = matches!(
            status,
            HouseholdStatus::Enrolled | HouseholdStatus::Returned
        );
        let dilapidated_grade = (poor_now && rng.random_bool(0.15)).then(|| {
            if rng.random_bool(0.6) {
                DilapidatedGrade::C
            } else {
                DilapidatedGrade::D
            }
        });
        let secure = |rng: &mut ChaCha8Rng| !poor_now || rng.random_bool(0.9);
        let mut causes: Vec<PovertyCause> = Vec::new();
        for _ in 0..rng.random_range(0..=2) {
            let cause = *weighted(
                rng,
                &[
                    (PovertyCause::LackOfSkills, 4),
                    (PovertyCause::LackOfFunds, 4),
                    (PovertyCause::Illness, 3),
                    (PovertyCause::LackOfLabour, 2),
                    (PovertyCause::PoorTransport, 2),
                    (PovertyCause::LackOfMotivation, 1),
                ],
            );
            if cause != main_cause && !causes.contains(&cause) {
                causes.push(cause);
            }
        }
        let number = format!("{}{sequence:05}", village.model.code);
        let surname = pick(rng, names::SURNAMES);
        let ethnicity = *weighted(rng, &self.ethnicities);
        let people = family(rng, main_cause == PovertyCause::LackOfLabour);
        let mut members = Vec::with_capacity(people.len());
        for (index, person) in people.iter().enumerate() {
            let male = person.gender == Gender::Male;
            let own_surname = if matches!(
                person.relation,
                Relation::Spouse | Relation::DaughterInLaw | Relation::SonInLaw | Relation::Mother
            ) {
                pick(rng, names::SURNAMES)
            } else {
                surname
            };
            let given = if male {
                names::MALE_GIVEN
            } else {
                names::FEMALE_GIVEN
            };
            let name = if rng.random_bool(0.6) {
                format!("{own_surname}{}{}", pick(rng, given), pick(rng, given))
            } else {
                format!("{own_surname}{}", pick(rng, given))
            };
            let age = person.age;
            let student_status = match age {
                3..=5 => StudentStatus::Preschool,
                6..=11 => StudentStatus::Primary,
                12..=14 => StudentStatus::JuniorMiddle,
                15..=17 if rng.random_bool(0.7) => StudentStatus::SeniorHigh,
                15..=17 if rng.random_bool(0.6) => StudentStatus::Vocational,
                18..=21 if rng.random_bool(0.15) => StudentStatus::College,
                _ => StudentStatus::NotStudent,
            };
            let education = match age {
                0..=6 => Education::Illiterate,
                7..=12 => Education::Primary,
                13..=15 => Education::JuniorMiddle,
                _ if student_status == StudentStatus::College => Education::SeniorHigh,
                _ if age > 60 => *weighted(
                    rng,
                    &[
                        (Education::Illiterate, 45),
                        (Education::Primary, 45),
                        (Education::JuniorMiddle, 10),
                    ],
                ),
                _ => *weighted(
                    rng,
                    &[
                        (Education::Illiterate, 8),
                        (Education::Primary, 30),
                        (Education::JuniorMiddle, 42),
                        (Education::SeniorHigh, 12),
                        (Education::Vocational, 5),
                        (Education::College, 3),
                    ],
                ),
            };
            // The cause of poverty shows in someone's health.
            let sick_by_cause = index == 0 || rng.random_bool(0.2);
            let health = match main_cause {
                PovertyCause::Illness if sick_by_cause => {
                    if rng.random_bool(0.6) {
                        Health::ChronicIllness
                    } else {
                        Health::SeriousIllness
                    }
                }
                PovertyCause::Disability if sick_by_cause => Health::Disabled,
                _ => {
                    let elderly = u32::from(age > 60) * 15;
                    *weighted(
                        rng,
                        &[
                            (Health::Healthy, 80 - elderly),
                            (Health::ChronicIllness, 10 + elderly),
                            (Health::SeriousIllness, 3),
                            (Health::Disabled, 4),
                        ],
                    )
                }
            };
            let disability_grade = (health == Health::Disabled).then(|| rng.random_range(1..=4));
            let labour_ability = if age < 16 || student_status != StudentStatus::NotStudent {
                LabourAbility::None
            } else if disability_grade.is_some_and(|g| g <= 2) || health == Health::SeriousIllness {
                if rng.random_bool(0.7) {
                    LabourAbility::Lost
                } else {
                    LabourAbility::Weak
                }
            } else if age > 65 {
                if rng.random_bool(0.5) {
                    LabourAbility::Weak
                } else {
                    LabourAbility::Lost
                }
            } else {
                *weighted(
                    rng,
                    &[
                        (LabourAbility::Skilled, 15),
                        (LabourAbility::Ordinary, 70),
                        (LabourAbility::Weak, 15),
                    ],
                )
            };
            let can_migrate = matches!(
                labour_ability,
                LabourAbility::Skilled | LabourAbility::Ordinary
            ) && (18..=50).contains(&age);
            let migrant_work = if can_migrate && rng.random_bool(0.45) {
                *weighted(
                    rng,
                    &[
                        (MigrantWork::WithinCounty, 30),
                        (MigrantWork::WithinProvince, 35),
                        (MigrantWork::OutsideProvince, 35),
                    ],
                )
            } else {
                MigrantWork::None
            };
            let migrant_months = if migrant_work == MigrantWork::None {
                0
            } else {
                rng.random_range(3..=12)
            };
            let adult = age >= 16 && student_status == StudentStatus::NotStudent;
            let id_number = self.id_number(rng, age, male);
            let person = NewMember {
                name,
                id_number,
                gender: Some(person.gender),
                relation: person.relation,
                ethnicity: ethnicity.to_owned(),
                education,
                student_status,
                health,
                disability_grade,
                labour_ability,
                migrant_work,
                migrant_months,
                basic_medical_insurance: rng.random_bool(0.99),
                serious_illness_insurance: rng.random_bool(0.97),
                basic_pension: adult && rng.random_bool(0.9),
                active: true,
            };
            let mut row = person
                .parse(&format!("members[{index}]"), id, now)
                .map_err(|refused| refusal(&format!("household {number}"), refused))?;
            row.id = self.next_member_id;
            members.push(row);
            self.next_member_id += 1;
        }
        let size = members.len() as i32;
        let migrants = members
            .iter()
            .filter(|m| m.migrant_work != MigrantWork::None)
            .count();
        let incomes = (FIRST_INCOME_YEAR.max(enrolled_year)..=REFERENCE_YEAR)
            .map(|year| {
                let line = POVERTY_LINES
                    .iter()
                    .find(|(y, _)| *y == year)
                    .map_or(4_000, |(_, l)| *l) as f64;
                let above = match (status, lifted_out_year) {
                    (HouseholdStatus::Removed, _) => true,
                    (HouseholdStatus::Returned, Some(lifted)) => {
                        year >= lifted && year < REFERENCE_YEAR
                    }
                    (_, Some(lifted)) => year >= lifted,
                    (_, None) => rng.random_bool(0.15),
                };
                let ratio = if above {
                    rng.random_range(1.05..2.2)
                } else {
                    rng.random_range(0.5..0.99)
                };
                income(
                    rng,
                    id,
                    year,
                    yuan(line * ratio) * i64::from(size),
                    size,
                    migrants,
                    attribute,
                    now,
                )
            })
            .collect();
        let group = rng.random_range(1..=12);
        let house = rng.random_range(1..=80);
        let fields = CardFields {
            address: format!(
                "{}{}{}{group}组{house}号",
                COUNTY_NAME, village.township_name, village.model.name
            ),
            phone: rng.random_bool(0.7).then(|| {
                format!(
                    "1{}{:09}",
                    pick(rng, &["3", "5", "8", "9"]),
                    rng.random_range(0..1_000_000_000u32)
                )
            }),
            attribute,
            standard: *weighted(
                rng,
                &[
                    (IdentificationStandard::National, 85),
                    (IdentificationStandard::Provincial, 12),
                    (IdentificationStandard::Municipal, 3),
                ],
            ),
            main_cause,
            conditions: Conditions {
                cultivated_land_mu: (rng.random_range(0.3..6.0f64) * 10.0).round() / 10.0,
                housing_area_m2: f64::from(rng.random_range(30..150)),
                dilapidated_grade,
                safe_drinking_water: secure(rng),
                production_electricity: !poor_now || rng.random_bool(0.97),
                household_electricity: !poor_now || rng.random_bool(0.99),
                road_distance_km: (rng.random_range(0.0..5.0f64) * 10.0).round() / 10.0,
                joined_cooperative: rng.random_bool(0.35),
            },
            guarantees: Guarantees {
                food: secure(rng),
                clothing: secure(rng),
                compulsory_education: secure(rng),
                basic_medical: secure(rng),
                safe_housing: dilapidated_grade.is_none() && secure(rng),
            },
        };
        let mut household = fields
            .new_card("", number.clone(), village.model.id, now)
            .map_err(|refused| refusal(&format!("household {number}"), refused))?;
        household.id = id;
        // The status the card's generated history leads to (`history` replays it).
        household.status = status;
        household.enrolled_year = Some(enrolled_year);
        household.lifted_out_year = lifted_out_year;
        household.monitoring = monitoring;
        Ok(Card {
            household,
            causes: causes
                .into_iter()
                .map(|cause| household_cause::Model {
                    household_id: id,
                    cause,
                })
                .collect(),
            members,
            incomes,
            history: Vec::new(),
        })
    }
}

/// A generated record the register's own checks refuse: a defect of the generator.
fn refusal(name: &str, refused: ApiError) -> DbErr {
    DbErr::Custom(format!("{name}: {}", refused.sentence()))
}

/// The people of one household: a head, usually a spouse, children, sometimes
/// grandchildren or parents. Households short of labour are old or small.
fn family(rng: &mut ChaCha8Rng, short_of_labour: bool) -> Vec<Person> {
    let size = *weighted(
        rng,
        &[
            (1usize, 12),
            (2, 18),
            (3, 22),
            (4, 24),
            (5, 15),
            (6, 7),
            (7, 2),
        ],
    );
    let size = if short_of_labour { size.min(3) } else { size };
    let head_age = if short_of_labour {
        rng.random_range(60..88)
    } else {
        rng.random_range(28..80)
    };
    let head_male = rng.random_bool(0.85);
    let gender_of = |male: bool| if male { Gender::Male } else { Gender::Female };
    let mut people = vec![Person {
        relation: Relation::Head,
        gender: gender_of(head_male),
        age: head_age,
    }];
    if size >= 2 && rng.random_bool(0.85) {
        let age = (head_age + rng.random_range(-5..=5)).max(20);
        people.push(Person {
            relation: Relation::Spouse,
            gender: gender_of(!head_male),
            age,
        });
    }
    if head_age < 45 && people.len() < size && rng.random_bool(0.3) {
        let age = head_age + rng.random_range(22..=30);
        people.push(Person {
            relation: Relation::Mother,
            gender: Gender::Female,
            age,
        });
    }
    let mut married_son = false;
    while people.len() < size {
        let child_age = (head_age - rng.random_range(20..=38)).max(0);
        let male = rng.random_bool(0.52);
        if married_son && child_age < 18 {
            let relation = if male {
                Relation::Grandson
            } else {
                Relation::Granddaughter
            };
            people.push(Person {
                relation,
                gender: gender_of(male),
                age: rng.random_range(0..=12),
            });
        } else {
            let relation = if male {
                Relation::Son
            } else {
                Relation::Daughter
            };
            people.push(Person {
                relation,
                gender: gender_of(male),
                age: child_age,
            });
            if male && child_age >= 22 && people.len() < size {
                married_son = true;
                let age = (child_age + rng.random_range(-3..=3)).max(20);
                people.push(Person {
                    relation: Relation::DaughterInLaw,
                    gender: Gender::Female,
                    age,
                });
            }
        }
    }
    people
}

/// A year's income whose components add up to `net_fen`.
#[allow(clippy::too_many_arguments)]
fn income(
    rng: &mut ChaCha8Rng,
    household_id: i64,
    year: i32,
    net_fen: i64,
    size: i32,
    migrants: usize,
    attribute: HouseholdAttribute,
    now: chrono::DateTime<Utc>,
) -> household_income::Model {
    let cost = net_fen * rng.random_range(5..15) / 100;
    let gross = net_fen + cost;
    let wage_share = (migrants as f64 * 0.25).min(0.7) + rng.random_range(0.0..0.1);
    let transfer_share = match attribute {
        HouseholdAttribute::General => rng.random_range(0.05..0.2),
        _ => rng.random_range(0.3..0.6),
    };
    let property_share = rng.random_range(0.0..0.08);
    let total = wage_share + transfer_share + property_share;
    let scale = if total > 0.95 { 0.95 / total } else { 1.0 };
    let part = |share: f64| (gross as f64 * share * scale) as i64;
    let wage_fen = part(wage_share);
    let transfer_fen = part(transfer_share);
    let property_fen = part(property_share);
    let production_fen = gross - wage_fen - transfer_fen - property_fen;
    household_income::Model {
        household_id,
        year,
        wage_fen,
        production_fen,
        property_fen,
        transfer_fen,
        production_cost_fen: cost,
        household_size: size,
        per_capita_net_fen: household_income::per_capita_net_fen(net_fen, size),
        version: 1,
        updated_at: now,
    }
}
