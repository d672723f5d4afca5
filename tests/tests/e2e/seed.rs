//! The demo county generator: deterministic, plausible, and valid by the
//! national code standards.

use std::collections::{HashMap, HashSet};

use api::seed::{SeedOptions, is_valid_credit_code, is_valid_id_number};
use entity::enums::{Gender, HouseholdStatus, PovertyCause, Relation};
use entity::{enterprise, household, household_income, member, poverty_line};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};
use serde_json::json;
use tests::{Backend, TestApp, on_both_backends};

on_both_backends!(
    the_same_seed_gives_the_same_county,
    the_county_is_plausible_and_valid,
    the_seeded_ledger_keeps_its_invariants,
    seeding_refuses_a_database_that_has_data,
    the_seed_refreshes_the_planner_statistics_as_it_fills,
);

const REGISTER: &str = r#"{
  households(first: 100, orderBy: { field: NUMBER }) {
    totalCount
    nodes { id number status mainCause otherCauses attribute address phone
            village { code name isPovertyVillage }
            members { name idNumber relation health labourAbility }
            incomes { year net perCapitaNet } }
  }
  enterprises(first: 100) { nodes { name creditCode kind } }
  projects(first: 100) { nodes { name budget villages { code } } }
}"#;

async fn the_same_seed_gives_the_same_county(backend: Backend) {
    let first = TestApp::spawn(&backend).await;
    let second = TestApp::spawn(&backend).await;
    let other = TestApp::spawn(&backend).await;
    first.seed(150, 42).await;
    second.seed(150, 42).await;
    other.seed(150, 43).await;
    let a = first.query(REGISTER, json!({})).await;
    let b = second.query(REGISTER, json!({})).await;
    let c = other.query(REGISTER, json!({})).await;
    assert_eq!(a["households"]["totalCount"], 150);
    assert_eq!(a, b, "the same seed must give the same register");
    assert_ne!(
        a["households"]["nodes"], c["households"]["nodes"],
        "another seed gives another register"
    );
}

async fn the_county_is_plausible_and_valid(backend: Backend) {
    let (app, report) = TestApp::seeded(&backend, 2_000).await;
    let db = &app.db;
    let households = household::Entity::find().all(db).await.expect("households");
    let members = member::Entity::find().all(db).await.expect("members");
    assert_eq!(households.len(), 2_000);
    assert_eq!(members.len(), report.members);
    assert!(report.villages >= 6 && report.townships >= 3);

    // Illness is the most common main cause.
    let mut causes: HashMap<PovertyCause, usize> = HashMap::new();
    for h in &households {
        *causes.entry(h.main_cause).or_default() += 1;
    }
    let (&top, _) = causes.iter().max_by_key(|(_, n)| **n).expect("causes");
    assert_eq!(top, PovertyCause::Illness);

    // Most lifted out, some still enrolled, a few returned or removed.
    let share = |status: HouseholdStatus| {
        households.iter().filter(|h| h.status == status).count() as f64 / 2_000.0
    };
    assert!(share(HouseholdStatus::LiftedOut) > 0.5);
    assert!(share(HouseholdStatus::Enrolled) > 0.15);
    let returned = share(HouseholdStatus::Returned);
    assert!(
        returned > 0.0 && returned < 0.1,
        "a few returned: {returned}"
    );
    assert!(share(HouseholdStatus::Removed) > 0.0);

    // Every household has one head; ID numbers are valid, unique and agree with gender.
    let mut heads: HashMap<i64, usize> = HashMap::new();
    let mut ids = HashSet::new();
    for m in &members {
        if m.relation == Relation::Head {
            *heads.entry(m.household_id).or_default() += 1;
        }
        assert!(
            is_valid_id_number(&m.id_number),
            "invalid ID number {}",
            m.id_number
        );
        assert!(ids.insert(m.id_number.clone()), "duplicate ID number");
        let odd = (m.id_number.as_bytes()[16] - b'0') % 2 == 1;
        assert_eq!(
            odd,
            m.gender == Gender::Male,
            "the 17th digit gives the gender"
        );
    }
    assert_eq!(heads.len(), 2_000);
    assert!(heads.values().all(|n| *n == 1));

    // Credit codes are valid.
    for e in enterprise::Entity::find()
        .all(db)
        .await
        .expect("enterprises")
    {
        assert!(
            is_valid_credit_code(&e.credit_code),
            "invalid credit code {}",
            e.credit_code
        );
    }

    // Incomes sit around the line: the poor below it, the lifted out above it.
    let line_2020 = poverty_line::Entity::find_by_id(2020)
        .one(db)
        .await
        .expect("query")
        .expect("2020 line")
        .annual_fen;
    let status: HashMap<i64, HouseholdStatus> =
        households.iter().map(|h| (h.id, h.status)).collect();
    let size: HashMap<i64, i32> = members.iter().fold(HashMap::new(), |mut sizes, m| {
        *sizes.entry(m.household_id).or_default() += 1;
        sizes
    });
    let (mut enrolled_below, mut enrolled, mut lifted_above, mut lifted) = (0, 0, 0, 0);
    for income in household_income::Entity::find()
        .all(db)
        .await
        .expect("incomes")
    {
        assert_eq!(income.household_size, size[&income.household_id]);
        assert!(
            income.per_capita_net_fen > line_2020 / 3,
            "incomes stay around the line"
        );
        assert!(
            income.per_capita_net_fen < line_2020 * 3,
            "incomes stay around the line"
        );
        if income.year != 2020 {
            continue;
        }
        match status[&income.household_id] {
            HouseholdStatus::Enrolled => {
                enrolled += 1;
                enrolled_below += usize::from(income.per_capita_net_fen < line_2020);
            }
            HouseholdStatus::LiftedOut => {
                lifted += 1;
                lifted_above += usize::from(income.per_capita_net_fen > line_2020);
            }
            _ => {}
        }
    }
    assert!(
        enrolled_below * 10 > enrolled * 7,
        "most enrolled households are below the line"
    );
    assert_eq!(
        lifted_above, lifted,
        "lifted-out households are above the line"
    );
}

async fn the_seeded_ledger_keeps_its_invariants(backend: Backend) {
    let (app, report) = TestApp::seeded(&backend, 200).await;
    let data = app
        .query(
            "{ projects(first: 100) { nodes { status budget funds { allocated disbursed } } }
               fundSources(first: 100) { nodes { amount allocated unallocated } } }",
            json!({}),
        )
        .await;
    let projects = data["projects"]["nodes"].as_array().expect("projects");
    assert_eq!(projects.len(), report.projects.min(100));
    let yuan = |v: &serde_json::Value| v.as_str().expect("money").parse::<f64>().expect("yuan");
    let mut paid = 0;
    for project in projects {
        let (allocated, disbursed) = (
            yuan(&project["funds"]["allocated"]),
            yuan(&project["funds"]["disbursed"]),
        );
        assert!(disbursed <= allocated, "{project}");
        if project["status"] == "LIBRARY" {
            assert_eq!(allocated, 0.0, "no money for a project in the library");
        } else {
            assert_eq!(allocated, yuan(&project["budget"]), "{project}");
        }
        paid += usize::from(disbursed > 0.0);
    }
    assert!(paid > 0, "some projects have paid out");
    let sources = data["fundSources"]["nodes"].as_array().expect("sources");
    assert!(!sources.is_empty());
    for source in sources {
        assert!(yuan(&source["unallocated"]) >= 0.0, "{source}");
        assert!(yuan(&source["allocated"]) <= yuan(&source["amount"]));
    }
}

async fn seeding_refuses_a_database_that_has_data(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 20).await;
    let again = api::seed::run(
        &app.db,
        &SeedOptions {
            households: 20,
            seed: 1,
            progress: false,
            without_households: false,
        },
    )
    .await;
    assert!(again.is_err());
    let data = app.query("{ households { totalCount } }", json!({})).await;
    assert_eq!(data["households"]["totalCount"], 20);
}

async fn the_seed_refreshes_the_planner_statistics_as_it_fills(backend: Backend) {
    let (app, report) = TestApp::seeded(&backend, 150).await;
    assert!(report.first_half_seconds > 0.0 && report.second_half_seconds >= 0.0);
    if app.db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    // Once after the first batch, whatever autovacuum does, and once at the end.
    let analysed = app
        .db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT relname, analyze_count, n_live_tup FROM pg_stat_user_tables \
             WHERE relname IN ('household', 'member', 'household_income')",
        ))
        .await
        .expect("statistics");
    assert_eq!(analysed.len(), 3);
    for table in analysed {
        let name: String = table.try_get("", "relname").expect("name");
        let count: i64 = table.try_get("", "analyze_count").expect("count");
        let rows: i64 = table.try_get("", "n_live_tup").expect("rows");
        assert!(count >= 2, "{name} analysed {count} times");
        assert!(
            rows >= 150,
            "{name} holds {rows} rows as far as the planner knows"
        );
    }
}
