//! Assessment of townships over HTTP: the county's weights and targets, field
//! checks, scores and ranking against a hand computation, results kept as they
//! were, and each township's cadres seeing their own.

use std::collections::HashMap;

use entity::enums::{HelperUnitKind, HouseholdStatus, RegionLevel, Role, VillageStaffRole};
use entity::{helper_unit, household, region, unit_pairing, village_staff};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use tests::{
    Backend, TestApp, days_ago, error_field, first_region, global_id, on_both_backends, regions,
};

on_both_backends!(
    townships_are_scored_and_ranked_by_the_county_weights,
    indicators_are_checked_and_only_the_county_sets_them,
);

const SET: &str = "mutation($y: Int!, $i: [IndicatorInput!]!) {
    setAssessmentIndicators(year: $y, indicators: $i) { kind weight target lowerIsBetter } }";
const CHECK: &str = "mutation($input: RecordFieldCheckInput!) { recordFieldCheck(input: $input) { kind sampled found } }";
const RUN: &str = "mutation($y: Int!) { runAssessment(year: $y) { township { id } score rank } }";
const RESULTS: &str = "query($y: Int!) { assessmentResults(year: $y) {
    township { id } score rank breakdown { kind weight target value points } } }";

fn indicators() -> Value {
    json!([
        { "kind": "EXIT_RATE", "weight": 40, "target": 0.5 },
        { "kind": "PAIRING_COVERAGE", "weight": 20, "target": 1.0 },
        { "kind": "WRONGFUL_EXIT_RATE", "weight": 20, "target": 0.02 },
        { "kind": "PUBLIC_RECOGNITION", "weight": 20, "target": 0.9 },
    ])
}

fn check(township: &region::Model, kind: &str, sampled: i32, found: i32) -> Value {
    json!({ "input": {
        "townshipId": global_id("Township", township.id), "year": 2020, "kind": kind,
        "sampled": sampled, "found": found, "checkedOn": days_ago(3),
    } })
}

/// Exit rate of each township, recounted from the households.
async fn exit_rates(app: &TestApp) -> HashMap<i64, Option<f64>> {
    let villages: HashMap<i64, i64> = regions(&app.db, RegionLevel::Village)
        .await
        .into_iter()
        .map(|v| (v.id, v.parent_id.expect("a township")))
        .collect();
    let mut counts: HashMap<i64, (i64, i64)> = HashMap::new();
    for h in household::Entity::find()
        .all(&app.db)
        .await
        .expect("households")
    {
        let entry = counts.entry(villages[&h.village_id]).or_default();
        if matches!(
            h.status,
            HouseholdStatus::Enrolled | HouseholdStatus::Returned
        ) {
            entry.0 += 1;
        }
        if h.lifted_out_year == Some(2020) {
            entry.1 += 1;
        }
    }
    regions(&app.db, RegionLevel::Township)
        .await
        .into_iter()
        .map(|t| {
            let (poor, exits) = counts.get(&t.id).copied().unwrap_or_default();
            let rate = (poor + exits > 0).then(|| exits as f64 / (poor + exits) as f64);
            (t.id, rate)
        })
        .collect()
}

/// A helper unit paired with `villages` from 2019 on, straight in the database.
async fn add_unit(app: &TestApp, villages: &[region::Model]) -> i64 {
    let now = chrono::Utc::now();
    let unit = helper_unit::ActiveModel {
        name: Set("县农业农村局".into()),
        kind: Set(HelperUnitKind::CountyDepartment),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("unit");
    for village in villages {
        unit_pairing::ActiveModel {
            unit_id: Set(unit.id),
            village_id: Set(village.id),
            started_on: Set(chrono::NaiveDate::from_ymd_opt(2019, 1, 1).expect("a day")),
            ended_on: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .expect("pairing");
    }
    unit.id
}

/// The exit rate of 2020 over some villages, recounted from the households.
async fn exit_rate_of(app: &TestApp, villages: &[region::Model]) -> Option<f64> {
    let ids: Vec<i64> = villages.iter().map(|v| v.id).collect();
    let homes = household::Entity::find()
        .filter(household::Column::VillageId.is_in(ids))
        .all(&app.db)
        .await
        .expect("households");
    let poor = homes
        .iter()
        .filter(|h| {
            matches!(
                h.status,
                HouseholdStatus::Enrolled | HouseholdStatus::Returned
            )
        })
        .count();
    let exits = homes
        .iter()
        .filter(|h| h.lifted_out_year == Some(2020))
        .count();
    (poor + exits > 0).then(|| exits as f64 / (poor + exits) as f64)
}

async fn townships_are_scored_and_ranked_by_the_county_weights(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 80).await;
    let townships = regions(&app.db, RegionLevel::Township).await;
    let set = app
        .query(SET, json!({ "y": 2020, "i": indicators() }))
        .await;
    let lower: Vec<&Value> = set["setAssessmentIndicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .filter(|i| i["lowerIsBetter"] == true)
        .map(|i| &i["kind"])
        .collect();
    assert_eq!(lower, ["WRONGFUL_EXIT_RATE"]);
    let first = &townships[0];
    app.query(CHECK, check(first, "WRONGFUL_EXIT", 50, 2)).await;
    app.query(CHECK, check(first, "RECOGNITION", 60, 57)).await;
    app.query(CHECK, check(first, "RECOGNITION", 40, 38)).await;

    // By hand: exit rate against 0.5 for 40 points; no pairings in the demo
    // county; the first township's wrongful exits (2 of 50, 4%) earn half of 20,
    // its recognition (95 of 100) all of 20; the others have no checks.
    let rates = exit_rates(&app).await;
    let expected: HashMap<String, f64> = townships
        .iter()
        .map(|t| {
            let exit = rates[&t.id].map_or(0.0, |r| 40.0 * (r / 0.5).min(1.0));
            let checks = if t.id == first.id { 10.0 + 20.0 } else { 0.0 };
            (global_id("Township", t.id), exit + checks)
        })
        .collect();
    // A helper unit paired with two villages through 2020.
    let villages: Vec<region::Model> = regions(&app.db, RegionLevel::Village)
        .await
        .into_iter()
        .filter(|v| v.parent_id == Some(first.id))
        .take(2)
        .collect();
    let unit = add_unit(&app, &villages).await;
    let unit_rate = exit_rate_of(&app, &villages).await;

    let run = app.query(RUN, json!({ "y": 2020 })).await["runAssessment"].clone();
    let run = run.as_array().expect("results");
    assert_eq!(run.len(), townships.len());
    for result in run {
        let id = result["township"]["id"].as_str().expect("an ID");
        let score = result["score"].as_f64().expect("a score");
        assert!(
            (score - expected[id]).abs() < 1e-9,
            "{id}: {score} != {}",
            expected[id]
        );
        let better = expected
            .values()
            .filter(|s| **s > expected[id] + 1e-9)
            .count();
        assert_eq!(result["rank"], better + 1, "{result}");
    }
    let ranks: Vec<i64> = run
        .iter()
        .map(|r| r["rank"].as_i64().expect("rank"))
        .collect();
    assert!(
        ranks.windows(2).all(|w| w[0] <= w[1]),
        "best first: {ranks:?}"
    );

    let results = app.query(RESULTS, json!({ "y": 2020 })).await["assessmentResults"].clone();
    let ours = results
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["township"]["id"] == global_id("Township", first.id))
        .expect("the first township")
        .clone();
    let wrongful = ours["breakdown"]
        .as_array()
        .expect("breakdown")
        .iter()
        .find(|b| b["kind"] == "WRONGFUL_EXIT_RATE")
        .expect("wrongful exits")
        .clone();
    assert_eq!(
        wrongful,
        json!({ "kind": "WRONGFUL_EXIT_RATE", "weight": 20, "target": 0.02, "value": 0.04, "points": 10.0 })
    );

    // A year is assessed once, and its results stay as they were when the register changes.
    let again = app.graphql(RUN, json!({ "y": 2020 })).await;
    assert_eq!(TestApp::error_codes(&again), ["CONFLICT"]);
    let reset = app
        .graphql(SET, json!({ "y": 2020, "i": indicators() }))
        .await;
    assert_eq!(TestApp::error_codes(&reset), ["CONFLICT"]);
    let late = app
        .graphql(CHECK, check(first, "SATISFACTION", 10, 9))
        .await;
    assert_eq!(TestApp::error_codes(&late), ["CONFLICT"]);
    household::Entity::update_many()
        .col_expr(household::Column::LiftedOutYear, Expr::value(2020))
        .filter(household::Column::Status.eq(HouseholdStatus::LiftedOut))
        .exec(&app.db)
        .await
        .expect("change the register");
    let later = app.query(RESULTS, json!({ "y": 2020 })).await["assessmentResults"].clone();
    assert_eq!(later, results, "a past ranking stays as it was");
    // The unit is scored on the indicators taken from the figures, scaled to 100.
    let units = app
        .query(
            "query($y: Int!) { assessmentResults(year: $y, of: HELPER_UNITS) {
                helperUnit { id } township { id } score rank breakdown { kind } } }",
            json!({ "y": 2020 }),
        )
        .await["assessmentResults"]
        .clone();
    let exit_points = unit_rate.map_or(0.0, |r| 40.0 * (r / 0.5).min(1.0));
    assert_eq!(units.as_array().expect("units").len(), 1);
    assert_eq!(units[0]["helperUnit"]["id"], global_id("HelperUnit", unit));
    assert!(units[0]["township"].is_null());
    assert_eq!(units[0]["rank"], 1);
    let score = units[0]["score"].as_f64().expect("a score");
    assert!((score - exit_points * 100.0 / 60.0).abs() < 1e-9, "{score}");
    assert_eq!(
        units[0]["breakdown"],
        json!([{ "kind": "EXIT_RATE" }, { "kind": "PAIRING_COVERAGE" }])
    );

    let trail = app.audit_actions("AssessmentYear", 2020).await;
    assert_eq!(trail, ["assessment.run", "assessment.indicators"]);

    // A township officer sees its own result and breakdown; a village cadre none.
    let officer = app.token_for(Role::TownshipOfficer).await;
    let own = app
        .query_as(Some(officer.as_str()), RESULTS, json!({ "y": 2020 }))
        .await;
    let own_township = first_region(&app.db, RegionLevel::Township).await;
    assert_eq!(
        own["assessmentResults"].as_array().expect("results").len(),
        1
    );
    assert_eq!(
        own["assessmentResults"][0]["township"]["id"],
        global_id("Township", own_township.id)
    );
    let cadre = app.token_for(Role::VillageCadre).await;
    let none = app
        .query_as(Some(cadre.as_str()), RESULTS, json!({ "y": 2020 }))
        .await;
    assert_eq!(none["assessmentResults"], json!([]));
    // A first secretary the unit sent sees the unit's score and breakdown,
    // and no township's.
    let (secretary, secretary_token) = app.user_for(Role::HelperCadre).await;
    let now = chrono::Utc::now();
    village_staff::ActiveModel {
        village_id: Set(first_region(&app.db, RegionLevel::Village).await.id),
        role: Set(VillageStaffRole::FirstSecretary),
        name: Set("李第一".into()),
        user_id: Set(Some(secretary.id)),
        unit_id: Set(Some(unit)),
        phone: Set(None),
        started_on: Set(chrono::NaiveDate::from_ymd_opt(2019, 3, 1).expect("a day")),
        ended_on: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("appointment");
    let own_unit = app
        .query_as(
            Some(secretary_token.as_str()),
            "query($y: Int!) { assessmentResults(year: $y, of: HELPER_UNITS) {
                helperUnit { id } township { id } score rank breakdown { kind } } }",
            json!({ "y": 2020 }),
        )
        .await["assessmentResults"]
        .clone();
    assert_eq!(
        own_unit, units,
        "the unit's own result, as the county sees it"
    );
    let townships = app
        .query_as(
            Some(secretary_token.as_str()),
            RESULTS,
            json!({ "y": 2020 }),
        )
        .await;
    assert_eq!(townships["assessmentResults"], json!([]));
    let other_cadre = app.token_for(Role::HelperCadre).await;
    let not_sent = app
        .query_as(
            Some(other_cadre.as_str()),
            "query($y: Int!) { assessmentResults(year: $y, of: HELPER_UNITS) { score } }",
            json!({ "y": 2020 }),
        )
        .await;
    assert_eq!(not_sent["assessmentResults"], json!([]));
    let public = app.graphql_as(None, RESULTS, json!({ "y": 2020 })).await;
    assert_eq!(TestApp::error_codes(&public), ["UNAUTHENTICATED"]);
    let published = app
        .graphql_as(
            None,
            "{ assessmentIndicators(year: 2020) { kind weight } }",
            json!({}),
        )
        .await;
    assert_eq!(
        published["data"]["assessmentIndicators"]
            .as_array()
            .expect("indicators")
            .len(),
        4
    );
}

async fn indicators_are_checked_and_only_the_county_sets_them(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 20).await;
    let township = first_region(&app.db, RegionLevel::Township).await;
    let uneven = app
        .graphql(
            SET,
            json!({ "y": 2020, "i": [{ "kind": "EXIT_RATE", "weight": 60, "target": 0.5 }] }),
        )
        .await;
    assert_eq!(error_field(&uneven), "indicators");
    let twice = app
        .graphql(
            SET,
            json!({ "y": 2020, "i": [
                { "kind": "EXIT_RATE", "weight": 50, "target": 0.5 },
                { "kind": "EXIT_RATE", "weight": 50, "target": 0.4 }] }),
        )
        .await;
    assert_eq!(error_field(&twice), "indicators[1].kind");
    let beyond = app
        .graphql(
            SET,
            json!({ "y": 2020, "i": [{ "kind": "EXIT_RATE", "weight": 100, "target": 1.5 }] }),
        )
        .await;
    assert_eq!(error_field(&beyond), "indicators[0].target");
    let unset = app.graphql(RUN, json!({ "y": 2019 })).await;
    assert_eq!(error_field(&unset), "year");
    let more_found = app
        .graphql(CHECK, check(&township, "RECOGNITION", 10, 11))
        .await;
    assert_eq!(error_field(&more_found), "found");

    // Replacing a year's indicators before it is assessed.
    app.query(SET, json!({ "y": 2021, "i": indicators() }))
        .await;
    let replaced = app
        .query(SET, json!({ "y": 2021, "i": [{ "kind": "FUND_UTILISATION", "weight": 100, "target": 0.8 }] }))
        .await;
    assert_eq!(
        replaced["setAssessmentIndicators"],
        json!([{ "kind": "FUND_UTILISATION", "weight": 100, "target": 0.8, "lowerIsBetter": false }])
    );

    for role in [Role::TownshipOfficer, Role::Auditor, Role::ProvincialSystem] {
        let token = app.token_for(role).await;
        let refused = app
            .graphql_as(
                Some(token.as_str()),
                SET,
                json!({ "y": 2020, "i": indicators() }),
            )
            .await;
        assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"], "{role:?}");
        let refused = app
            .graphql_as(Some(token.as_str()), RUN, json!({ "y": 2020 }))
            .await;
        assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"], "{role:?}");
    }
}
