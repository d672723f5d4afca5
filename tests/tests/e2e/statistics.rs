//! Statistics of a region for a year over HTTP: every figure of a hand-built
//! village whose right answers are known, small cells suppressed for the
//! public, and the county's and townships' figures, kept by the database,
//! against a plain recount of the register as seeded, after every kind of
//! write, and after the kept figures are compacted.

use std::collections::HashMap;

use api::domain::tally;
use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use entity::enums::{
    FundEntryKind, HouseholdAttribute, HouseholdStatus, MeasureCategory, MeasureStatus,
    PovertyCause, ProjectKind, ProjectStatus, RegionLevel, Relation, StatusAction,
};
use entity::{
    fund_entry, fund_source, helper_pairing, household, household_income, measure, member, project,
    project_village, region, status_change, village_tally_change, visit,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, Set,
};
use serde_json::{Value, json};
use tests::{
    Backend, TestApp, days_ago, first_region, global_id, incomes_recorded_again, on_both_backends,
    person, regions,
};

on_both_backends!(
    every_figure_of_a_hand_built_village,
    the_county_agrees_with_a_plain_recount,
    a_member_change_racing_a_status_change_is_counted_once,
    what_is_withheld_and_kept_follows_each_change,
    a_year_over_reads_as_the_register_stood_when_it_ended,
    first_readers_of_a_year_over_close_it_once,
);

const STATISTICS: &str = "query($r: ID!, $y: Int!) { statistics(regionId: $r, year: $y) {
    year suppressedSmallCells
    byStatus { status households people }
    poorHouseholds poorPeople ruralPopulation povertyIncidence exitThreshold meetsExitThreshold
    exits returns
    byMainCause { cause households } byAttribute { attribute households }
    income { households perCapitaNet perCapitaWage perCapitaProduction perCapitaProperty perCapitaTransfer }
    plans { measures done cancelled overdue completionRate }
    pairing { households paired coverage notVisitedIn90Days }
    projectsByStatus { status projects }
    funds { allocated disbursed utilisation }
    children { region { id } byStatus { status households people } poorHouseholds exits returns } } }";

/// The year whose statistics are kept as the register goes (a year that
/// is over reads as it stood at its end).
fn this_year() -> i32 {
    today().year()
}

fn today() -> NaiveDate {
    api::domain::calendar::today()
}

/// One household of the hand-built village.
struct Home {
    status: HouseholdStatus,
    attribute: HouseholdAttribute,
    cause: PovertyCause,
    lifted_out: Option<i32>,
    members: usize,
    /// Wage, production, property, transfer income of this year, in yuan.
    income: Option<[i64; 4]>,
}

async fn build_village(app: &TestApp) -> (region::Model, Vec<household::Model>) {
    let township = first_region(&app.db, RegionLevel::Township).await;
    let sample_village = regions(&app.db, RegionLevel::Village)
        .await
        .into_iter()
        .find(|v| v.parent_id == Some(township.id))
        .expect("a village of the township");
    let mut village = sample_village.clone().into_active_model();
    village.id = sea_orm::ActiveValue::NotSet;
    village.code = Set(format!("{}998", &township.code[..9]));
    village.name = Set("试验村".into());
    village.rural_population = Set(Some(200));
    let village = village.insert(&app.db).await.expect("village");

    let sample_home = household::Entity::find()
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household");
    let sample_member = member::Entity::find()
        .filter(member::Column::Relation.eq(Relation::Head))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a member");
    use HouseholdStatus::*;
    let homes = [
        Home {
            status: Enrolled,
            attribute: HouseholdAttribute::General,
            cause: PovertyCause::Illness,
            lifted_out: None,
            members: 3,
            income: Some([3000, 2000, 0, 1000]),
        },
        Home {
            status: Enrolled,
            attribute: HouseholdAttribute::MinimumLivingGuarantee,
            cause: PovertyCause::Illness,
            lifted_out: None,
            members: 2,
            income: Some([1000, 500, 100, 400]),
        },
        Home {
            status: LiftedOut,
            attribute: HouseholdAttribute::General,
            cause: PovertyCause::Disability,
            lifted_out: Some(this_year()),
            members: 4,
            income: Some([8000, 4000, 0, 0]),
        },
        Home {
            status: Returned,
            attribute: HouseholdAttribute::General,
            cause: PovertyCause::LackOfFunds,
            lifted_out: Some(this_year() - 1),
            members: 1,
            income: None,
        },
        Home {
            status: Removed,
            attribute: HouseholdAttribute::General,
            cause: PovertyCause::Other,
            lifted_out: None,
            members: 2,
            income: None,
        },
        Home {
            status: NotPoor,
            attribute: HouseholdAttribute::General,
            cause: PovertyCause::Other,
            lifted_out: None,
            members: 1,
            income: None,
        },
    ];
    let mut made = Vec::new();
    for (i, home) in homes.iter().enumerate() {
        let mut row = sample_home.clone().into_active_model();
        row.id = sea_orm::ActiveValue::NotSet;
        row.number = Set(format!("{}{:05}", village.code, 90_000 + i));
        row.village_id = Set(village.id);
        row.status = Set(home.status);
        row.attribute = Set(home.attribute);
        row.main_cause = Set(home.cause);
        row.monitoring = Set(None);
        row.enrolled_year = Set((home.status != NotPoor).then_some(2015));
        row.lifted_out_year = Set(home.lifted_out);
        let saved = row.insert(&app.db).await.expect("household");
        for m in 0..=home.members {
            let mut person = sample_member.clone().into_active_model();
            person.id = sea_orm::ActiveValue::NotSet;
            person.household_id = Set(saved.id);
            person.name = Set(format!("试{i}{m}"));
            person.id_number = Set(api::codes::id_number(&format!(
                "5226991901{:02}{:02}{:03}",
                i + 1,
                m + 1,
                100 + m
            )));
            person.relation = Set(if m == 0 {
                Relation::Head
            } else {
                Relation::Son
            });
            // One more member than counted, moved out: inactive members count nowhere.
            person.is_active = Set(m < home.members);
            person.insert(&app.db).await.expect("member");
        }
        if let Some([wage, production, property, transfer]) = home.income {
            household_income::ActiveModel {
                household_id: Set(saved.id),
                year: Set(this_year()),
                wage_fen: Set(wage * 100),
                production_fen: Set(production * 100),
                property_fen: Set(property * 100),
                transfer_fen: Set(transfer * 100),
                production_cost_fen: Set(0),
                household_size: Set(home.members as i32),
                per_capita_net_fen: Set(
                    (wage + production + property + transfer) * 100 / home.members as i64
                ),
                version: Set(1),
                updated_at: Set(Utc::now()),
            }
            .insert(&app.db)
            .await
            .expect("income");
        }
        made.push(saved);
    }
    (village, made)
}

async fn add_activity(app: &TestApp, village: &region::Model, homes: &[household::Model]) {
    let now = Utc::now();
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a date");
    let year = this_year();
    // Measures: two of the first household (done, cancelled), one of the
    // second due on the year's first day (overdue from the next), one of the
    // third due in another year.
    for (home, deadline, status) in [
        (0, day(year, 6, 30), MeasureStatus::Done),
        (0, day(year, 9, 30), MeasureStatus::Cancelled),
        (1, day(year, 1, 1), MeasureStatus::Planned),
        (2, day(year + 1, 3, 1), MeasureStatus::Planned),
    ] {
        measure::ActiveModel {
            household_id: Set(homes[home].id),
            category: Set(MeasureCategory::DevelopProduction),
            task: Set("发展生产".into()),
            standard: Set("增收".into()),
            responsible: Set("王建国".into()),
            deadline: Set(deadline),
            funds_fen: Set(0),
            status: Set(status),
            completed_on: Set((status == MeasureStatus::Done).then_some(deadline)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .expect("measure");
    }
    // Pairings: the first and third now, the second ended.
    let admin = app.user_for(entity::enums::Role::HelperCadre).await.0;
    for (home, ended) in [(0, None), (1, Some(day(year, 1, 1))), (2, None)] {
        helper_pairing::ActiveModel {
            helper_id: Set(admin.id),
            household_id: Set(homes[home].id),
            unit: Set(None),
            started_on: Set(day(year - 1, 1, 1)),
            ended_on: Set(ended),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .expect("pairing");
    }
    // Visits: the first household ten days ago, the third long ago.
    for (home, on) in [(0, days_ago(10)), (2, days_ago(200))] {
        visit::ActiveModel {
            household_id: Set(homes[home].id),
            visitor_id: Set(admin.id),
            visited_on: Set(on),
            notes: Set("走访".into()),
            latitude: Set(None),
            longitude: Set(None),
            photos: Set("[]".into()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .expect("visit");
    }
    // The fourth household returned this year.
    a_return(
        homes[3].id,
        Utc.with_ymd_and_hms(year, 1, 1, 2, 0, 0)
            .single()
            .expect("a time"),
    )
    .insert(&app.db)
    .await
    .expect("status change");
    // A project of the year covering the village: 1000 allocated, 250 paid out.
    let road = project::ActiveModel {
        name: Set(format!("{year}年试验村通组路")),
        kind: Set(ProjectKind::Road),
        status: Set(ProjectStatus::InProgress),
        year: Set(year),
        implementer: Set("县交通运输局".into()),
        budget_fen: Set(100_000),
        progress_percent: Set(25),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("project");
    project_village::ActiveModel {
        project_id: Set(road.id),
        village_id: Set(village.id),
    }
    .insert(&app.db)
    .await
    .expect("coverage");
    let source = fund_source::ActiveModel {
        year: Set(year),
        kind: Set(entity::enums::FundSourceKind::County),
        name: Set("县级资金".into()),
        amount_fen: Set(100_000),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("source");
    for (kind, fen) in [
        (FundEntryKind::Allocation, 100_000),
        (FundEntryKind::Disbursement, 25_000),
    ] {
        let disbursement = kind == FundEntryKind::Disbursement;
        fund_entry::ActiveModel {
            kind: Set(kind),
            source_id: Set(source.id),
            project_id: Set(road.id),
            amount_fen: Set(fen),
            entry_date: Set(day(year, 1, 1)),
            voucher_number: Set(disbursement.then(|| "记-1".to_owned())),
            payee: Set(disbursement.then(|| "县路桥公司".to_owned())),
            payee_kind: Set(disbursement.then_some(entity::enums::PayeeKind::Organisation)),
            note: Set(String::new()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .expect("entry");
    }
}

fn by_key<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .expect("a list")
        .iter()
        .find(|item| item[key] == value)
        .expect("listed")
}

async fn every_figure_of_a_hand_built_village(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 20).await;
    let (village, homes) = build_village(&app).await;
    add_activity(&app, &village, &homes).await;
    let vars = json!({ "r": global_id("Village", village.id), "y": this_year() });
    let token = app.token_for(entity::enums::Role::TownshipOfficer).await;
    let s = app
        .query_as(Some(token.as_str()), STATISTICS, vars.clone())
        .await["statistics"]
        .clone();

    assert_eq!(s["suppressedSmallCells"], false);
    let status = |name: &str| {
        let row = by_key(&s["byStatus"], "status", name);
        (row["households"].clone(), row["people"].clone())
    };
    assert_eq!(status("ENROLLED"), (json!(2), json!(5)));
    assert_eq!(status("LIFTED_OUT"), (json!(1), json!(4)));
    assert_eq!(status("RETURNED"), (json!(1), json!(1)));
    assert_eq!(status("REMOVED"), (json!(1), json!(2)));
    assert_eq!(status("NOT_POOR"), (json!(1), json!(1)));
    assert_eq!(s["poorHouseholds"], 3);
    assert_eq!(s["poorPeople"], 6);
    assert_eq!(s["ruralPopulation"], 200);
    assert_eq!(s["povertyIncidence"], 0.03);
    assert_eq!(
        s["exitThreshold"], 0.03,
        "the county is in Guizhou, in the west"
    );
    assert_eq!(s["meetsExitThreshold"], false, "3% is not under 3%");
    assert_eq!(s["exits"], 1);
    assert_eq!(s["returns"], 1);
    assert_eq!(
        by_key(&s["byMainCause"], "cause", "ILLNESS")["households"],
        2
    );
    assert_eq!(
        by_key(&s["byMainCause"], "cause", "DISABILITY")["households"],
        1
    );
    assert_eq!(
        by_key(&s["byMainCause"], "cause", "LACK_OF_FUNDS")["households"],
        1
    );
    assert_eq!(
        by_key(&s["byMainCause"], "cause", "OTHER")["households"],
        0,
        "removed and not-poor households are not registered"
    );
    assert_eq!(
        by_key(&s["byAttribute"], "attribute", "GENERAL")["households"],
        3
    );
    assert_eq!(
        by_key(&s["byAttribute"], "attribute", "MINIMUM_LIVING_GUARANTEE")["households"],
        1
    );
    // 20,000 yuan of net income over 9 people.
    assert_eq!(
        s["income"],
        json!({ "households": 3, "perCapitaNet": "2222.22", "perCapitaWage": "1333.33",
                "perCapitaProduction": "722.22", "perCapitaProperty": "11.11", "perCapitaTransfer": "155.55" })
    );
    assert_eq!(
        s["plans"],
        json!({ "measures": 3, "done": 1, "cancelled": 1,
                "overdue": i32::from(today().ordinal() > 1), "completionRate": 0.5 })
    );
    assert_eq!(
        s["pairing"],
        json!({ "households": 4, "paired": 2, "coverage": 0.5, "notVisitedIn90Days": 3 })
    );
    assert_eq!(
        by_key(&s["projectsByStatus"], "status", "IN_PROGRESS")["projects"],
        1
    );
    assert_eq!(
        s["funds"],
        json!({ "allocated": "1000.00", "disbursed": "250.00", "utilisation": 0.25 })
    );
    assert_eq!(s["children"], json!([]), "a village has no children");

    // Its township lists it among its villages with the same figures.
    let township = app
        .query_as(
            Some(token.as_str()),
            STATISTICS,
            json!({ "r": global_id("Township", village.parent_id.expect("a township")), "y": this_year() }),
        )
        .await["statistics"]
        .clone();
    let ours = township["children"]
        .as_array()
        .expect("villages")
        .iter()
        .find(|c| c["region"]["id"] == global_id("Village", village.id))
        .expect("the village is listed");
    assert_eq!(ours["byStatus"], s["byStatus"]);
    assert_eq!(ours["exits"], 1);

    // The public sees the same statistics with every cell under five households null.
    let public = app.graphql_as(None, STATISTICS, vars).await;
    assert!(public.get("errors").is_none(), "{public}");
    let p = &public["data"]["statistics"];
    assert_eq!(p["suppressedSmallCells"], true);
    for row in p["byStatus"].as_array().expect("statuses") {
        assert!(
            row["households"].is_null() && row["people"].is_null(),
            "{row}"
        );
    }
    assert!(p["poorHouseholds"].is_null());
    assert!(p["poorPeople"].is_null());
    assert!(p["povertyIncidence"].is_null());
    assert!(p["exits"].is_null() && p["returns"].is_null());
    assert_eq!(
        p["income"],
        json!({ "households": null, "perCapitaNet": null, "perCapitaWage": null,
                "perCapitaProduction": null, "perCapitaProperty": null, "perCapitaTransfer": null })
    );
    assert!(p["pairing"]["paired"].is_null() && p["pairing"]["coverage"].is_null());
    assert_eq!(
        by_key(&p["byMainCause"], "cause", "OTHER")["households"],
        0,
        "an empty cell singles no one out"
    );
    assert_eq!(p["ruralPopulation"], 200);
    assert_eq!(p["funds"], s["funds"], "money is not about persons");
    assert_eq!(p["projectsByStatus"], s["projectsByStatus"]);
}

async fn the_county_agrees_with_a_plain_recount(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 120).await;
    incomes_recorded_again(&app.db, 2020, this_year()).await;
    agrees_with_a_recount(&app, "as seeded").await;
    change_the_register(&app).await;
    let returned = agrees_with_a_recount(&app, "with the changes pending").await;
    assert!(returned > 2, "returns to count: {returned}");
    let folded = tally::compact(&app.db).await.expect("compaction");
    assert!(folded > 0, "the changes were pending until compacted");
    assert_eq!(
        village_tally_change::Entity::find()
            .count(&app.db)
            .await
            .expect("changes"),
        0
    );
    agrees_with_a_recount(&app, "after compaction").await;
    assert_eq!(
        tally::compact(&app.db).await.expect("compaction"),
        0,
        "nothing left to fold"
    );
    // The kept returns never have to be taken back: the history cannot be edited.
    for sql in [
        "UPDATE status_change SET at = at WHERE action = 'returned'",
        "DELETE FROM status_change WHERE action = 'returned'",
    ] {
        let refused = app.db.execute_unprepared(sql).await;
        assert!(
            refused.is_err_and(|e| e.to_string().contains("append-only")),
            "{sql}"
        );
    }
    agrees_with_a_recount(&app, "after edits of the history were refused").await;
}

/// Writes that move every kept figure: over HTTP as a user would, and in bulk
/// SQL as another system writing to the database would.
async fn change_the_register(app: &TestApp) {
    let homes = household::Entity::find()
        .filter(household::Column::Status.eq(HouseholdStatus::Enrolled))
        .all(&app.db)
        .await
        .expect("households");
    let home = global_id("Household", homes[0].id);
    let person = person("王小明", &api::codes::id_number("52010220100808045"), "SON");
    app.query(
        "mutation($h: ID!, $m: MemberInput!) { addMember(householdId: $h, member: $m) { id } }",
        json!({ "h": home, "m": person }),
    )
    .await;
    let year = this_year();
    let without_income = homes.iter().find(|h| h.id % 8 != 0).expect("a household");
    household_income::Entity::delete_many()
        .filter(household_income::Column::HouseholdId.eq(without_income.id))
        .filter(household_income::Column::Year.eq(year))
        .exec(&app.db)
        .await
        .expect("an income removed");
    app.query(
        "mutation($i: IncomeInput!) { setIncome(input: $i) { year } }",
        json!({ "i": { "householdId": global_id("Household", without_income.id), "year": year,
            "wage": "6000.50", "production": "2000", "property": "0", "transfer": "1200.25",
            "productionCost": "800" } }),
    )
    .await;
    // Returns written in one statement, as another system would: some
    // households twice this year, some on the edges of the county's year
    // (UTC+8), one last year; the village move below carries them along.
    let instant = |y, mo, d, h, mi, s, micros| {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
            .single()
            .expect("a time")
            + chrono::Duration::microseconds(micros)
    };
    let times = [
        instant(year, 3, 1, 2, 0, 0, 0),
        instant(year, 12, 31, 15, 59, 59, 999_999),
        instant(year - 1, 12, 31, 16, 0, 0, 0),
        instant(year - 1, 12, 31, 15, 59, 59, 999_999),
    ];
    let all = household::Entity::find()
        .all(&app.db)
        .await
        .expect("households");
    let returns = all
        .iter()
        .filter(|h| h.id % 6 == 0)
        .enumerate()
        .flat_map(|(n, h)| {
            let twice = (n % 3 == 0).then_some(times[(n + 1) % times.len()]);
            [Some(times[n % times.len()]), twice]
                .into_iter()
                .flatten()
                .map(|at| a_return(h.id, at))
        });
    status_change::Entity::insert_many(returns)
        .exec(&app.db)
        .await
        .expect("returns");
    for sql in [
        "UPDATE member SET is_active = FALSE WHERE id % 7 = 0".to_owned(),
        "UPDATE member SET household_id = (SELECT MIN(id) FROM household) \
         WHERE id % 11 = 0 AND relation <> 'head'"
            .to_owned(),
        "DELETE FROM member WHERE id % 13 = 0".to_owned(),
        format!(
            "UPDATE household SET status = 'lifted_out', lifted_out_year = {year} \
             WHERE status = 'enrolled' AND id % 3 = 0"
        ),
        "UPDATE household SET status = 'removed' WHERE id % 10 = 1".to_owned(),
        "UPDATE household SET main_cause = 'illness', attribute = 'dibao' WHERE id % 4 = 0"
            .to_owned(),
        "UPDATE household SET village_id = (SELECT MAX(id) FROM region WHERE level = 'village') \
         WHERE id % 9 = 0"
            .to_owned(),
        "UPDATE household SET status = status, address = address".to_owned(),
        "UPDATE household_income SET wage_fen = wage_fen + 100, household_size = household_size + 1, \
         per_capita_net_fen = (wage_fen + 100 + production_fen + property_fen + transfer_fen \
         - production_cost_fen) / (household_size + 1) WHERE household_id % 5 = 0"
            .to_owned(),
        format!("DELETE FROM household_income WHERE household_id % 8 = 0 AND year = {year}"),
    ] {
        app.db.execute_unprepared(&sql).await.expect(&sql);
    }
}

/// A household's return to poverty at `at`, as another system would record it.
fn a_return(household_id: i64, at: chrono::DateTime<Utc>) -> status_change::ActiveModel {
    status_change::ActiveModel {
        household_id: Set(household_id),
        action: Set(StatusAction::Returned),
        from_status: Set(Some(HouseholdStatus::LiftedOut)),
        to_status: Set(HouseholdStatus::Returned),
        from_monitoring: Set(None),
        to_monitoring: Set(None),
        year: Set(None),
        reason: Set("因病返贫".into()),
        proposal_id: Set(None),
        actor_id: Set(None),
        actor: Set("test".into()),
        at: Set(at),
        ..Default::default()
    }
}

/// Parses a GraphQL enum value into the stored enum.
fn stored<T: serde::de::DeserializeOwned>(value: &Value) -> T {
    serde_json::from_value(json!(value.as_str().expect("an enum").to_lowercase()))
        .expect("a stored value")
}

/// Counts of `key` among `rows`, as the statistics list them (`listed` by `field`).
fn assert_counts<K: Eq + std::hash::Hash + serde::de::DeserializeOwned + std::fmt::Debug>(
    listed: &Value,
    field: &str,
    count: &str,
    expected: &HashMap<K, i64>,
    when: &str,
) {
    let mut seen = 0;
    for row in listed.as_array().expect("a list") {
        let key: K = stored(&row[field]);
        let n = expected.get(&key).copied().unwrap_or(0);
        assert_eq!(row[count], n, "{when}: {row}");
        seen += n;
    }
    assert_eq!(
        seen,
        expected.values().sum::<i64>(),
        "{when}: every {field} is listed"
    );
}

/// The county's statistics, and each township's, against a recount from the
/// rows; returns the households that returned this year. Needs incomes of
/// this year (`incomes_recorded_again`). Backups are checked with it too.
pub(crate) async fn agrees_with_a_recount(app: &TestApp, when: &str) -> usize {
    let county = first_region(&app.db, RegionLevel::County).await;
    let s = app
        .query(
            STATISTICS,
            json!({ "r": global_id("County", county.id), "y": this_year() }),
        )
        .await["statistics"]
        .clone();

    let homes = household::Entity::find()
        .all(&app.db)
        .await
        .expect("households");
    let members = member::Entity::find()
        .filter(member::Column::IsActive.eq(true))
        .all(&app.db)
        .await
        .expect("members");
    let villages = regions(&app.db, RegionLevel::Village).await;
    let township_of: HashMap<i64, i64> = villages
        .iter()
        .map(|v| (v.id, v.parent_id.expect("a township")))
        .collect();
    let home_of: HashMap<i64, &household::Model> = homes.iter().map(|h| (h.id, h)).collect();
    let mut households: HashMap<HouseholdStatus, i64> = HashMap::new();
    let mut of_township: HashMap<i64, HashMap<HouseholdStatus, i64>> = HashMap::new();
    let mut people_of_township: HashMap<i64, HashMap<HouseholdStatus, i64>> = HashMap::new();
    for h in &homes {
        *households.entry(h.status).or_default() += 1;
        *of_township
            .entry(township_of[&h.village_id])
            .or_default()
            .entry(h.status)
            .or_default() += 1;
    }
    let mut people: HashMap<HouseholdStatus, i64> = HashMap::new();
    for m in &members {
        let h = home_of[&m.household_id];
        *people.entry(h.status).or_default() += 1;
        *people_of_township
            .entry(township_of[&h.village_id])
            .or_default()
            .entry(h.status)
            .or_default() += 1;
    }
    assert_counts(&s["byStatus"], "status", "households", &households, when);
    assert_counts(&s["byStatus"], "status", "people", &people, when);
    let exits = homes
        .iter()
        .filter(|h| h.lifted_out_year == Some(this_year()))
        .count();
    assert_eq!(s["exits"], exits, "{when}");
    // Households with a return this year as the county counts its days (UTC+8).
    let this_years = Utc
        .with_ymd_and_hms(this_year() - 1, 12, 31, 16, 0, 0)
        .single()
        .expect("a time")
        ..Utc
            .with_ymd_and_hms(this_year(), 12, 31, 16, 0, 0)
            .single()
            .expect("a time");
    let returned: std::collections::HashSet<i64> = status_change::Entity::find()
        .filter(status_change::Column::Action.eq(StatusAction::Returned))
        .all(&app.db)
        .await
        .expect("status changes")
        .into_iter()
        .filter(|c| this_years.contains(&c.at))
        .map(|c| c.household_id)
        .collect();
    assert_eq!(s["returns"], returned.len(), "{when}");
    let mut returns_of_township: HashMap<i64, i64> = HashMap::new();
    for h in &returned {
        *returns_of_township
            .entry(township_of[&home_of[h].village_id])
            .or_default() += 1;
    }
    let registered = |h: &&household::Model| {
        matches!(
            h.status,
            HouseholdStatus::Enrolled | HouseholdStatus::LiftedOut | HouseholdStatus::Returned
        )
    };
    let mut causes: HashMap<PovertyCause, i64> = HashMap::new();
    let mut attributes: HashMap<HouseholdAttribute, i64> = HashMap::new();
    for h in homes.iter().filter(registered) {
        *causes.entry(h.main_cause).or_default() += 1;
        *attributes.entry(h.attribute).or_default() += 1;
    }
    assert_counts(&s["byMainCause"], "cause", "households", &causes, when);
    assert_counts(
        &s["byAttribute"],
        "attribute",
        "households",
        &attributes,
        when,
    );
    let registered_ids: std::collections::HashSet<i64> =
        homes.iter().filter(registered).map(|h| h.id).collect();
    let incomes: Vec<household_income::Model> = household_income::Entity::find()
        .filter(household_income::Column::Year.eq(this_year()))
        .all(&app.db)
        .await
        .expect("incomes")
        .into_iter()
        .filter(|i| registered_ids.contains(&i.household_id))
        .collect();
    let per_capita = |amount: fn(&household_income::Model) -> i64| {
        let total: i64 = incomes.iter().map(amount).sum();
        let size: i64 = incomes.iter().map(|i| i64::from(i.household_size)).sum();
        let fen = total / size;
        format!("{}.{:02}", fen / 100, fen % 100)
    };
    assert_eq!(s["income"]["households"], incomes.len(), "{when}");
    assert_eq!(
        s["income"]["perCapitaNet"],
        per_capita(|i| i.net_fen()),
        "{when}"
    );
    assert_eq!(
        s["income"]["perCapitaWage"],
        per_capita(|i| i.wage_fen),
        "{when}"
    );
    assert_eq!(
        s["income"]["perCapitaTransfer"],
        per_capita(|i| i.transfer_fen),
        "{when}"
    );
    let population: i64 = villages
        .iter()
        .filter_map(|v| v.rural_population)
        .map(i64::from)
        .sum();
    assert_eq!(s["ruralPopulation"], population);
    // Each township's figures are its own households'.
    let children = s["children"].as_array().expect("townships");
    assert_eq!(
        children.len(),
        regions(&app.db, RegionLevel::Township).await.len()
    );
    for child in children {
        let township = regions(&app.db, RegionLevel::Township)
            .await
            .into_iter()
            .find(|t| global_id("Township", t.id) == child["region"]["id"])
            .expect("a township");
        let none = HashMap::new();
        let when = format!("{when}, {}", township.name);
        let counted = of_township.get(&township.id).unwrap_or(&none);
        assert_counts(&child["byStatus"], "status", "households", counted, &when);
        let counted = people_of_township.get(&township.id).unwrap_or(&none);
        assert_counts(&child["byStatus"], "status", "people", counted, &when);
        let returns = returns_of_township.get(&township.id).copied();
        assert_eq!(child["returns"], returns.unwrap_or(0), "{when}");
    }
    returned.len()
}

/// A member deactivated in one transaction while another changes the
/// household's status: the kept people must follow the member to the new
/// status, whichever transaction counts first.
async fn a_member_change_racing_a_status_change_is_counted_once(backend: Backend) {
    use sea_orm::TransactionTrait;
    let (app, _) = TestApp::seeded(&backend, 40).await;
    incomes_recorded_again(&app.db, 2020, this_year()).await;
    let home = household::Entity::find()
        .filter(household::Column::Status.eq(HouseholdStatus::Enrolled))
        .one(&app.db)
        .await
        .expect("query")
        .expect("an enrolled household");
    let member = member::Entity::find()
        .filter(member::Column::HouseholdId.eq(home.id))
        .filter(member::Column::Relation.ne(Relation::Head))
        .filter(member::Column::IsActive.eq(true))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a member besides the head");
    let member_change = {
        let db = app.db.clone();
        tokio::spawn(async move {
            let txn = db.begin().await.expect("begin");
            txn.execute_unprepared(&format!(
                "UPDATE member SET is_active = FALSE WHERE id = {}",
                member.id
            ))
            .await
            .expect("deactivate");
            tokio::time::sleep(std::time::Duration::from_millis(400)).await;
            txn.commit().await.expect("commit");
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    app.db
        .execute_unprepared(&format!(
            "UPDATE household SET status = 'lifted_out', lifted_out_year = {} WHERE id = {}",
            this_year(),
            home.id
        ))
        .await
        .expect("lift out");
    member_change.await.expect("the member's transaction");
    agrees_with_a_recount(&app, "after racing writes").await;
}

/// Returned households of a village, as a signed-in caller and as the public
/// read them.
async fn returned_in(app: &TestApp, village: &region::Model) -> (Value, Value) {
    let vars = json!({ "r": global_id("Village", village.id), "y": this_year() });
    let returned = |s: &Value| by_key(&s["byStatus"], "status", "RETURNED")["households"].clone();
    let signed_in = app.query(STATISTICS, vars.clone()).await["statistics"].clone();
    let public = app.query_as(None, STATISTICS, vars).await["statistics"].clone();
    (returned(&signed_in), returned(&public))
}

/// A figure read, changed and read again, before and after compaction: the
/// folded figures a replica keeps and the public's withheld cells it
/// remembers must follow every change, whoever wrote it.
async fn what_is_withheld_and_kept_follows_each_change(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let village = regions(&app.db, RegionLevel::Village).await.remove(0);
    let none_returned = format!(
        "UPDATE household SET status = 'enrolled' WHERE status = 'returned' AND village_id = {}",
        village.id
    );
    app.db
        .execute_unprepared(&none_returned)
        .await
        .expect("none returned");
    tally::compact(&app.db).await.expect("compaction");
    assert_eq!(returned_in(&app, &village).await, (json!(0), json!(0)));

    let one_returns = format!(
        "UPDATE household SET status = 'returned' WHERE id = (SELECT MIN(id) FROM household \
         WHERE status = 'enrolled' AND village_id = {})",
        village.id
    );
    app.db
        .execute_unprepared(&one_returns)
        .await
        .expect("one returns");
    assert_eq!(
        returned_in(&app, &village).await,
        (json!(1), Value::Null),
        "a change pending: one household, withheld from the public"
    );
    assert!(tally::compact(&app.db).await.expect("compaction") > 0);
    assert_eq!(
        returned_in(&app, &village).await,
        (json!(1), Value::Null),
        "the change folded"
    );
}

/// The figures of the register (not plans, pairing or projects, which are
/// read as they stand) of the county and each township.
const REGISTER_FIGURES: &str = "query($r: ID!, $y: Int!) { statistics(regionId: $r, year: $y) {
    byStatus { status households people } poorHouseholds poorPeople povertyIncidence
    exits returns byMainCause { cause households } byAttribute { attribute households }
    income { households perCapitaNet perCapitaWage }
    children { region { id } byStatus { status households people } poorHouseholds exits returns } } }";

async fn register_figures(app: &TestApp, year: i32) -> Value {
    let county = first_region(&app.db, RegionLevel::County).await;
    app.query(
        REGISTER_FIGURES,
        json!({ "r": global_id("County", county.id), "y": year }),
    )
    .await["statistics"]
        .clone()
}

/// Last year's figures are those of the register as it stood when the year
/// ended: the same before and after the register changes; and a year first
/// asked for long after, rebuilt from the status history and the cards'
/// revisions, reads as the register stood then, not as it stands.
async fn a_year_over_reads_as_the_register_stood_when_it_ended(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let last_year = this_year() - 1;
    // The seeded history ends in 2020: since then the register stood still,
    // so last year ended as the register stands now.
    let now = register_figures(&app, this_year()).await;
    let last = register_figures(&app, last_year).await;
    for figure in [
        "byStatus",
        "poorHouseholds",
        "poorPeople",
        "byMainCause",
        "byAttribute",
    ] {
        assert_eq!(last[figure], now[figure], "{figure}");
    }
    let homes = household::Entity::find()
        .all(&app.db)
        .await
        .expect("households");
    let exits_2020 = homes
        .iter()
        .filter(|h| h.lifted_out_year == Some(2020))
        .count();
    assert!(exits_2020 > 0, "the seed lifts households out in 2020");

    // The register changes today, over HTTP as the county office would.
    let lifted = homes
        .iter()
        .find(|h| h.status == HouseholdStatus::LiftedOut)
        .expect("a lifted-out household");
    app.query(
        "mutation($h: ID!, $v: Int!) { returnToPoverty(householdId: $h, version: $v, reason: \"因病返贫\") { status } }",
        json!({ "h": global_id("Household", lifted.id), "v": lifted.version }),
    )
    .await;
    let enrolled: Vec<&household::Model> = homes
        .iter()
        .filter(|h| h.status == HouseholdStatus::Enrolled)
        .collect();
    app.query(
        "mutation($h: ID!, $v: Int!) { removeHousehold(householdId: $h, version: $v, reason: \"错评，家有财政供养人员\") { status } }",
        json!({ "h": global_id("Household", enrolled[0].id), "v": enrolled[0].version }),
    )
    .await;
    let newborn = person("王小明", &api::codes::id_number("52010220250808045"), "SON");
    app.query(
        "mutation($h: ID!, $m: MemberInput!) { addMember(householdId: $h, member: $m) { id } }",
        json!({ "h": global_id("Household", enrolled[1].id), "m": newborn }),
    )
    .await;
    app.query(
        "mutation($i: IncomeInput!) { setIncome(input: $i) { year } }",
        json!({ "i": { "householdId": global_id("Household", enrolled[2].id), "year": last_year,
            "wage": "9000", "production": "0", "property": "0", "transfer": "0",
            "productionCost": "0" } }),
    )
    .await;
    tally::compact(&app.db).await.expect("compaction");

    assert_eq!(
        register_figures(&app, last_year).await,
        last,
        "last year reads as it did before the changes"
    );
    let changed = register_figures(&app, this_year()).await;
    assert_ne!(
        changed["byStatus"], now["byStatus"],
        "this year follows the register"
    );
    assert_ne!(changed["poorPeople"], now["poorPeople"]);

    // 2020, first asked for now: as the register stood at its end, the
    // changed cards as they were before today's changes.
    let in_2020 = register_figures(&app, 2020).await;
    for figure in [
        "byStatus",
        "poorHouseholds",
        "poorPeople",
        "byMainCause",
        "byAttribute",
    ] {
        assert_eq!(in_2020[figure], now[figure], "2020: {figure}");
    }
    assert_eq!(in_2020["exits"], exits_2020);
    assert!(in_2020["income"]["households"].as_i64().expect("a count") > 0);

    // What a closed year says cannot be changed behind the service's back.
    for sql in [
        "UPDATE closed_year_figure SET amount = amount + 1",
        "DELETE FROM closed_year_figure",
        "DELETE FROM closed_year",
    ] {
        let refused = app.db.execute_unprepared(sql).await;
        assert!(
            refused.is_err_and(|e| e.to_string().contains("append-only")),
            "{sql}"
        );
    }
    assert_eq!(register_figures(&app, 2020).await, in_2020);
}

/// Readers asking at once for a year not closed yet: the year is rebuilt
/// once, not once for each of them (a replica closes one year at a time,
/// the others wait and read it), it is closed once, and all answer the same.
async fn first_readers_of_a_year_over_close_it_once(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    // What closing a year costs, and what reading a closed one does.
    let start = app.statements();
    let alone = register_figures(&app, 2018).await;
    let closing_and_reading = app.statements() - start;
    let start = app.statements();
    assert_eq!(register_figures(&app, 2018).await, alone);
    let reading = app.statements() - start;
    let closing = closing_and_reading - reading;

    let start = app.statements();
    let answers = futures::future::join_all((0..6).map(|_| register_figures(&app, 2019))).await;
    let spent = app.statements() - start;
    assert!(answers.iter().all(|a| *a == answers[0]));
    assert!(
        spent < 6 * reading + 2 * closing,
        "six first readers rebuilt the year more than once: {spent} statements, \
         a read costs {reading} and a closing {closing}"
    );
    let closed = entity::closed_year::Entity::find()
        .count(&app.db)
        .await
        .expect("closed years");
    assert_eq!(closed, 2);
    assert_eq!(register_figures(&app, 2019).await, answers[0]);
}
