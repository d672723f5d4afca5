//! One household, one plan: measures are added, edited and completed over
//! HTTP by those who help the household; a plan's progress and the completion
//! of a region's plans agree with the measures behind them.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use entity::enums::{RegionLevel, Role};
use entity::{household, measure, region};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tests::{Backend, TestApp, error_field, first_region, global_id, on_both_backends, raw_id};

on_both_backends!(
    measures_are_added_edited_and_completed,
    plan_completion_counts_the_measures_of_each_region,
    only_those_who_help_a_household_plan_for_it,
);

const ADD: &str = "mutation($input: AddMeasureInput!) { addMeasure(input: $input) {
    id category task standard responsible deadline funds status completedOn overdue version } }";
const UPDATE: &str = "mutation($input: UpdateMeasureInput!) { updateMeasure(input: $input) {
    id task funds deadline version } }";
const STATUS: &str = "mutation($id: ID!, $v: Int!, $s: MeasureStatus!) {
    setMeasureStatus(id: $id, version: $v, status: $s) { id status completedOn overdue version } }";
const PLAN: &str = "query($h: ID!) { household(id: $h) { plan {
    total done overdue cancelled completionRate measures { id deadline status overdue } } } }";

fn today() -> NaiveDate {
    api::domain::calendar::today()
}

fn in_days(days: i64) -> NaiveDate {
    if days >= 0 {
        today() + Days::new(days.unsigned_abs())
    } else {
        today() - Days::new(days.unsigned_abs())
    }
}

fn measure_input(household: i64, deadline: NaiveDate, key: Option<&str>) -> Value {
    json!({ "input": {
        "householdId": global_id("Household", household),
        "category": "DEVELOP_PRODUCTION",
        "task": "发展养牛产业，购买基础母牛2头",
        "standard": "年内出栏肉牛1头，增收5000元",
        "responsible": "王建国",
        "deadline": deadline,
        "funds": "12000.50",
        "idempotencyKey": key,
    } })
}

async fn households_of_village(app: &TestApp, village: i64) -> Vec<household::Model> {
    household::Entity::find()
        .filter(household::Column::VillageId.eq(village))
        .order_by_asc(household::Column::Id)
        .all(&app.db)
        .await
        .expect("households")
}

async fn measures_are_added_edited_and_completed(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let home = households_of_village(&app, village.id).await[0].clone();
    let cadre = app.token_for(Role::VillageCadre).await;
    let token = Some(cadre.as_str());

    // A measure past its time node is overdue; a retry with the same key adds nothing.
    let past = measure_input(home.id, in_days(-30), Some("plan-1"));
    let first = app.query_as(token, ADD, past.clone()).await["addMeasure"].clone();
    assert_eq!(first["status"], "PLANNED");
    assert_eq!(first["funds"], "12000.50");
    assert_eq!(first["overdue"], true);
    assert_eq!(first["version"], 1);
    assert!(first["completedOn"].is_null());
    let retried = app.query_as(token, ADD, past.clone()).await;
    assert_eq!(retried["addMeasure"]["id"], first["id"]);
    let stored = measure::Entity::find()
        .filter(measure::Column::HouseholdId.eq(home.id))
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(stored, 1, "a retried addMeasure adds no second measure");
    let reused = app
        .graphql_as(
            token,
            ADD,
            measure_input(home.id, in_days(-29), Some("plan-1")),
        )
        .await;
    assert_eq!(TestApp::error_codes(&reused), ["CONFLICT"]);

    let later = app
        .query_as(token, ADD, measure_input(home.id, in_days(200), None))
        .await["addMeasure"]
        .clone();
    assert_eq!(later["overdue"], false);
    let dropped = app
        .query_as(token, ADD, measure_input(home.id, in_days(100), None))
        .await["addMeasure"]
        .clone();

    // Edits go by version; a stale one is refused with the record as it is now.
    let edited = app
        .query_as(
            token,
            UPDATE,
            json!({ "input": { "id": first["id"], "version": 1, "task": "购买基础母牛3头", "funds": "15000" } }),
        )
        .await["updateMeasure"]
        .clone();
    assert_eq!(edited["version"], 2);
    assert_eq!(edited["funds"], "15000.00");
    let stale = app
        .graphql_as(
            token,
            UPDATE,
            json!({ "input": { "id": first["id"], "version": 1, "task": "别的任务" } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"]);
    let current = &stale["errors"][0]["extensions"]["current"];
    assert_eq!(current["version"], 2);
    assert_eq!(current["task"], "购买基础母牛3头");

    // Done records the county's today; cancelled measures do not count as to do.
    let done = app
        .query_as(
            token,
            STATUS,
            json!({ "id": first["id"], "v": 2, "s": "DONE" }),
        )
        .await["setMeasureStatus"]
        .clone();
    assert_eq!(done["completedOn"], json!(today()));
    assert_eq!(done["overdue"], false);
    app.query_as(
        token,
        STATUS,
        json!({ "id": dropped["id"], "v": 1, "s": "CANCELLED" }),
    )
    .await;
    let again = app
        .graphql_as(
            token,
            STATUS,
            json!({ "id": dropped["id"], "v": 2, "s": "CANCELLED" }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&again), ["BAD_USER_INPUT"]);
    let vars = json!({ "h": global_id("Household", home.id) });
    let plan = app.query_as(token, PLAN, vars.clone()).await["household"]["plan"].clone();
    assert_eq!(plan["total"], 3);
    assert_eq!(plan["done"], 1);
    assert_eq!(plan["cancelled"], 1);
    assert_eq!(plan["overdue"], 0);
    assert_eq!(plan["completionRate"], 0.5);
    let order: Vec<&Value> = plan["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .map(|m| &m["id"])
        .collect();
    assert_eq!(order, [&first["id"], &dropped["id"], &later["id"]]);

    // Leaving done clears the day, and the past time node makes it overdue again.
    let reopened = app
        .query_as(
            token,
            STATUS,
            json!({ "id": first["id"], "v": 3, "s": "IN_PROGRESS" }),
        )
        .await["setMeasureStatus"]
        .clone();
    assert!(reopened["completedOn"].is_null());
    assert_eq!(reopened["overdue"], true);
    let plan = app.query_as(token, PLAN, vars).await["household"]["plan"].clone();
    assert_eq!(plan["overdue"], 1);
    assert_eq!(plan["done"], 0);
    assert_eq!(plan["completionRate"], 0.0);

    // Bad input names its field.
    for (change, field) in [
        (json!({ "task": "  " }), "task"),
        (json!({ "funds": "-1" }), "funds"),
        (json!({ "deadline": "1999-12-31" }), "deadline"),
        (json!({ "responsible": "长".repeat(101) }), "responsible"),
    ] {
        let mut vars = measure_input(home.id, in_days(10), None);
        for (k, v) in change.as_object().expect("object") {
            vars["input"][k] = v.clone();
        }
        let body = app.graphql_as(token, ADD, vars).await;
        assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"], "{field}");
        assert_eq!(error_field(&body), field);
    }

    assert_eq!(
        app.audit_actions("Measure", raw_id(&first["id"])).await,
        [
            "measure.status",
            "measure.status",
            "measure.update",
            "measure.create"
        ]
    );
}

/// What the test expects of a group of measures.
#[derive(Default, Debug, Clone, Copy, PartialEq)]
struct Expected {
    measures: i64,
    done: i64,
    overdue: i64,
    cancelled: i64,
}

fn check_progress(shown: &Value, expected: Expected, what: &str) {
    assert_eq!(shown["measures"], expected.measures, "{what}");
    assert_eq!(shown["done"], expected.done, "{what}");
    assert_eq!(shown["overdue"], expected.overdue, "{what}");
    assert_eq!(shown["cancelled"], expected.cancelled, "{what}");
    let to_do = expected.measures - expected.cancelled;
    if to_do == 0 {
        assert!(shown["completionRate"].is_null(), "{what}");
    } else {
        let rate = shown["completionRate"].as_f64().expect("a rate");
        assert!(
            (rate - expected.done as f64 / to_do as f64).abs() < 1e-9,
            "{what}: {rate}"
        );
    }
}

const COMPLETION: &str = "query($r: ID!) { planCompletion(regionId: $r) {
    overall { region { id } measures done overdue cancelled completionRate }
    children { region { id ... on Village { code } ... on Township { code } } measures done overdue cancelled completionRate } } }";

async fn plan_completion_counts_the_measures_of_each_region(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 120).await;
    let township = first_region(&app.db, RegionLevel::Township).await;
    let county = first_region(&app.db, RegionLevel::County).await;
    let villages = region::Entity::find()
        .filter(region::Column::ParentId.eq(township.id))
        .order_by_asc(region::Column::Code)
        .all(&app.db)
        .await
        .expect("villages");
    // Households in the first village of the township (none in the second), and
    // in villages of two other townships.
    let mut homes: Vec<household::Model> = households_of_village(&app, villages[0].id)
        .await
        .into_iter()
        .take(3)
        .collect();
    let all_villages = tests::regions(&app.db, RegionLevel::Village).await;
    let mut other_townships = Vec::new();
    for village in all_villages {
        if village.parent_id == Some(township.id) || other_townships.contains(&village.parent_id) {
            continue;
        }
        other_townships.push(village.parent_id);
        homes.extend(
            households_of_village(&app, village.id)
                .await
                .into_iter()
                .take(1),
        );
    }
    assert!(
        homes.len() >= 5 && villages.len() >= 2,
        "households in several villages and townships"
    );

    // Each household gets measures of every kind of progress.
    let steps: [(i64, Option<&str>); 5] = [
        (-40, None),
        (-10, Some("DONE")),
        (30, None),
        (-5, Some("CANCELLED")),
        (60, Some("IN_PROGRESS")),
    ];
    let mut created: Vec<(i64, &str, NaiveDate)> = Vec::new();
    for (n, home) in homes.iter().enumerate() {
        for (deadline_in, status) in steps.iter().take(2 + n % 4) {
            let deadline = in_days(*deadline_in);
            let added =
                app.query(ADD, measure_input(home.id, deadline, None)).await["addMeasure"].clone();
            if let Some(status) = status {
                app.query(STATUS, json!({ "id": added["id"], "v": 1, "s": status }))
                    .await;
            }
            created.push((home.village_id, status.unwrap_or("PLANNED"), deadline));
        }
    }
    let village_code: HashMap<i64, String> = tests::regions(&app.db, RegionLevel::Village)
        .await
        .into_iter()
        .map(|v| (v.id, v.code))
        .collect();
    let expect = |prefix: &str| {
        let mut e = Expected::default();
        for (village, status, deadline) in &created {
            if !village_code[village].starts_with(prefix) {
                continue;
            }
            e.measures += 1;
            match *status {
                "DONE" => e.done += 1,
                "CANCELLED" => e.cancelled += 1,
                _ if *deadline < today() => e.overdue += 1,
                _ => {}
            }
        }
        e
    };
    let prefix = |r: &region::Model, digits: usize| r.code[..digits].to_owned();

    // The township and each of its villages, the one without measures included.
    let data = app
        .query(
            COMPLETION,
            json!({ "r": global_id("Township", township.id) }),
        )
        .await;
    let report = &data["planCompletion"];
    assert_eq!(
        report["overall"]["region"]["id"],
        global_id("Township", township.id)
    );
    check_progress(
        &report["overall"],
        expect(&prefix(&township, 9)),
        "township",
    );
    let children = report["children"].as_array().expect("children");
    assert_eq!(children.len(), villages.len());
    for (shown, village) in children.iter().zip(&villages) {
        assert_eq!(shown["region"]["code"], village.code.as_str());
        check_progress(shown, expect(&village.code), &village.name);
    }
    assert_eq!(children[1]["measures"], 0);
    assert!(children[1]["completionRate"].is_null());

    // A village, and the county by township.
    let data = app
        .query(
            COMPLETION,
            json!({ "r": global_id("Village", villages[0].id) }),
        )
        .await;
    check_progress(
        &data["planCompletion"]["overall"],
        expect(&villages[0].code),
        "village",
    );
    assert_eq!(data["planCompletion"]["children"], json!([]));
    let data = app
        .query(COMPLETION, json!({ "r": global_id("County", county.id) }))
        .await;
    check_progress(&data["planCompletion"]["overall"], expect(""), "county");
    for shown in data["planCompletion"]["children"]
        .as_array()
        .expect("children")
    {
        let code = shown["region"]["code"].as_str().expect("code");
        check_progress(shown, expect(&code[..9]), code);
    }

    // A township officer counts only the households of their township.
    let officer = app.token_for(Role::TownshipOfficer).await;
    let data = app
        .query_as(
            Some(&officer),
            COMPLETION,
            json!({ "r": global_id("County", county.id) }),
        )
        .await;
    check_progress(
        &data["planCompletion"]["overall"],
        expect(&prefix(&township, 9)),
        "county as the township officer sees it",
    );
    let auditor = app.token_for(Role::Auditor).await;
    let data = app
        .query_as(
            Some(&auditor),
            COMPLETION,
            json!({ "r": global_id("County", county.id) }),
        )
        .await;
    check_progress(&data["planCompletion"]["overall"], expect(""), "auditor");
    let helper = app.token_for(Role::HelperCadre).await;
    let body = app
        .graphql_as(
            Some(&helper),
            COMPLETION,
            json!({ "r": global_id("County", county.id) }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"]);
}

async fn only_those_who_help_a_household_plan_for_it(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let homes = households_of_village(&app, village.id).await;
    let (helper, helper_token) = app.user_for(Role::HelperCadre).await;
    app.query(
        "mutation($u: String!, $h: ID!) { pairHelper(helperUsername: $u, householdId: $h) { startedOn } }",
        json!({ "u": helper.username, "h": global_id("Household", homes[0].id) }),
    )
    .await;

    let mine = app
        .query_as(
            Some(&helper_token),
            ADD,
            measure_input(homes[0].id, in_days(90), Some("helper-1")),
        )
        .await;
    assert_eq!(mine["addMeasure"]["status"], "PLANNED");
    let other = app
        .graphql_as(
            Some(&helper_token),
            ADD,
            measure_input(homes[1].id, in_days(90), None),
        )
        .await;
    assert_eq!(TestApp::error_codes(&other), ["NOT_FOUND"]);
    let stored = measure::Entity::find()
        .filter(measure::Column::HouseholdId.eq(homes[1].id))
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(stored, 0);
    // Someone else's measure on that household is out of the helper's reach too.
    let foreign = app
        .query(ADD, measure_input(homes[1].id, in_days(90), None))
        .await["addMeasure"]["id"]
        .clone();
    let body = app
        .graphql_as(
            Some(&helper_token),
            STATUS,
            json!({ "id": foreign, "v": 1, "s": "DONE" }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&body), ["NOT_FOUND"]);

    let enterprise = app.token_for(Role::Enterprise).await;
    let body = app
        .graphql_as(
            Some(&enterprise),
            ADD,
            measure_input(homes[0].id, in_days(90), None),
        )
        .await;
    assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"]);
    let body = app
        .graphql_as(None, ADD, measure_input(homes[0].id, in_days(90), None))
        .await;
    assert_eq!(TestApp::error_codes(&body), ["UNAUTHENTICATED"]);
}
