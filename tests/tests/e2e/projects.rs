//! Assistance projects over HTTP: entering the county project library, the
//! lifecycle table (every step in every stage), who may take which step,
//! beneficiaries, overdue announcements, and what the public sees.

use chrono::{Days, NaiveDate};
use entity::enums::{RegionLevel, Role};
use entity::{enterprise, household, project, project_stage_change, region};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tests::{
    Backend, TestApp, create_user, days_ago, error_field, error_message, global_id,
    on_both_backends, raw_id, regions, token_of,
};

on_both_backends!(
    every_step_is_allowed_only_in_its_stages,
    a_project_enters_the_library_only_with_targets_and_mechanism,
    townships_enter_and_notice_projects_only_for_their_villages,
    approval_waits_for_the_notice_and_steps_follow_in_time,
    beneficiaries_live_in_the_covered_villages,
    overdue_announcements_are_listed,
    the_public_reads_a_project_but_no_household_of_it,
);

const FIELDS: &str = "id status version progressPercent plannedStartDate plannedEndDate
    performanceTargets benefitMechanism noticeStartsOn noticeEndsOn approvedOn actualStartDate
    actualEndDate acceptedOn announcedOn announcementDueOn announcementOverdue beneficiaryCount
    villages { id } history { fromStatus toStatus effectiveOn note actor }";

fn create_query() -> String {
    format!(
        "mutation($input: CreateProjectInput!) {{ createProject(input: $input) {{ {FIELDS} }} }}"
    )
}

fn project_query() -> String {
    format!("query($id: ID!) {{ project(id: $id) {{ {FIELDS} }} }}")
}

/// Each step mutation, named; all take `$id` and `$v`, some `$s`, `$e`, `$p`, `$hs`.
const STEPS: [(&str, &str); 9] = [
    (
        "update",
        r#"mutation($id: ID!, $v: Int!) { updateProject(input: { id: $id, version: $v, name: "改名后的项目" }) { status version } }"#,
    ),
    (
        "beneficiaries",
        "mutation($id: ID!, $v: Int!, $hs: [ID!]!) { setProjectBeneficiaries(id: $id, version: $v, householdIds: $hs) { status version } }",
    ),
    (
        "notice",
        "mutation($id: ID!, $v: Int!, $s: NaiveDate!, $e: NaiveDate!) { publishProjectNotice(id: $id, version: $v, startsOn: $s, endsOn: $e, paperNotice: { postedBy: \"村民委员会\", postedAt: \"村务公开栏\", evidence: \"公示照片.jpg\" }) { status version } }",
    ),
    (
        "approve",
        r#"mutation($id: ID!, $v: Int!) { approveProject(id: $id, version: $v, note: "县扶贫领导小组批复") { status version } }"#,
    ),
    (
        "start",
        "mutation($id: ID!, $v: Int!) { startProject(id: $id, version: $v) { status version } }",
    ),
    (
        "progress",
        r#"mutation($id: ID!, $v: Int!, $p: Int!) { reportProjectProgress(id: $id, version: $v, percent: $p, note: "主体工程完成") { status version } }"#,
    ),
    (
        "complete",
        "mutation($id: ID!, $v: Int!) { completeProject(id: $id, version: $v) { status version } }",
    ),
    (
        "accept",
        r#"mutation($id: ID!, $v: Int!) { acceptProject(id: $id, version: $v, note: "验收合格") { status version } }"#,
    ),
    (
        "announce",
        "mutation($id: ID!, $v: Int!) { announceProject(id: $id, version: $v) { status version } }",
    ),
];

fn step(name: &str) -> &'static str {
    STEPS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, q)| *q)
        .expect("a step")
}

fn today() -> NaiveDate {
    api::domain::calendar::today()
}

fn step_vars(id: &Value, version: i64) -> Value {
    json!({ "id": id, "v": version, "s": days_ago(10), "e": days_ago(5), "p": 50, "hs": [] })
}

fn input(villages: &[i64], key: Option<&str>) -> Value {
    let villages: Vec<String> = villages.iter().map(|v| global_id("Village", *v)).collect();
    json!({
        "name": "产业发展养牛项目",
        "kind": "INDUSTRY",
        "year": 2026,
        "villageIds": villages,
        "implementer": "县农业农村局",
        "budget": "500000",
        "plannedStart": "2026-03-01",
        "plannedEnd": "2026-10-31",
        "performanceTargets": "带动贫困户30户每户年增收2000元",
        "benefitMechanism": "贫困户务工、入股分红，收益按户公示",
        "idempotencyKey": key,
    })
}

/// The villages of the first township and those of another.
async fn villages(app: &TestApp) -> (Vec<region::Model>, Vec<region::Model>) {
    let township = &regions(&app.db, RegionLevel::Township).await[0];
    let (own, other) = regions(&app.db, RegionLevel::Village)
        .await
        .into_iter()
        .partition(|v| v.parent_id == Some(township.id));
    (own, other)
}

async fn households_of(app: &TestApp, village: i64) -> Vec<household::Model> {
    household::Entity::find()
        .filter(household::Column::VillageId.eq(village))
        .order_by_asc(household::Column::Id)
        .all(&app.db)
        .await
        .expect("households")
}

/// Moves a project's entry into the library back in time, as if entered `days` ago.
async fn backdate_entry(app: &TestApp, project: &Value, days: u64) {
    project_stage_change::Entity::update_many()
        .col_expr(
            project_stage_change::Column::EffectiveOn,
            sea_orm::sea_query::Expr::value(days_ago(days)),
        )
        .filter(project_stage_change::Column::ProjectId.eq(raw_id(project)))
        .exec(&app.db)
        .await
        .expect("backdate");
}

/// The project as the county office sees it now.
async fn current(app: &TestApp, id: &Value) -> Value {
    app.query(&project_query(), json!({ "id": id })).await["project"].clone()
}

/// Takes the named step as the county office; returns the project's new version.
async fn take(app: &TestApp, name: &str, id: &Value, version: i64) -> i64 {
    let data = app.query(step(name), step_vars(id, version)).await;
    let result = data
        .as_object()
        .expect("data")
        .values()
        .next()
        .expect("a result");
    result["version"].as_i64().expect("version")
}

/// A new project of the county office covering `village`, taken to `stage`; a
/// project in the library has its notice published, so that it may be approved.
async fn project_in(app: &TestApp, village: i64, stage: &str) -> Value {
    let created = app
        .query(&create_query(), json!({ "input": input(&[village], None) }))
        .await;
    let id = created["createProject"]["id"].clone();
    backdate_entry(app, &id, 30).await;
    let path = ["notice", "approve", "start", "complete", "accept"];
    let stages = [
        "LIBRARY",
        "APPROVED",
        "IN_PROGRESS",
        "COMPLETED",
        "ACCEPTED",
    ];
    let steps = stages.iter().position(|s| *s == stage).expect("a stage") + 1;
    let mut version = 1;
    for name in &path[..steps] {
        version = take(app, name, &id, version).await;
    }
    let project = current(app, &id).await;
    assert_eq!(project["status"], stage);
    project
}

/// The audit trail of a project, oldest entry first.
async fn audit_actions(app: &TestApp, id: &Value) -> Vec<String> {
    let mut actions = app.audit_actions("Project", raw_id(id)).await;
    actions.reverse();
    actions
}

async fn every_step_is_allowed_only_in_its_stages(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let village = villages(&app).await.0[0].id;
    // In each stage: the steps allowed there, those that move it last, and where they lead.
    let table: [(&str, &[&str], &str); 5] = [
        (
            "LIBRARY",
            &["update", "beneficiaries", "notice", "approve"],
            "APPROVED",
        ),
        ("APPROVED", &["beneficiaries", "start"], "IN_PROGRESS"),
        (
            "IN_PROGRESS",
            &["beneficiaries", "progress", "complete"],
            "COMPLETED",
        ),
        ("COMPLETED", &["beneficiaries", "accept"], "ACCEPTED"),
        ("ACCEPTED", &["announce"], "ACCEPTED"),
    ];
    for (stage, allowed, leads_to) in table {
        let project = project_in(&app, village, stage).await;
        let id = project["id"].clone();
        let version = project["version"].as_i64().expect("version");
        let history = project["history"].as_array().expect("history").len();
        for (name, query) in STEPS.iter().filter(|(n, _)| !allowed.contains(n)) {
            let body = app.graphql(query, step_vars(&id, version)).await;
            assert_eq!(
                TestApp::error_codes(&body),
                ["BAD_USER_INPUT"],
                "{name} in {stage}: {body}"
            );
            assert!(
                error_message(&body).contains(&format!("the project is in stage {stage}; only")),
                "{name} in {stage}: {body}"
            );
            let after = current(&app, &id).await;
            assert_eq!(
                after["version"], version,
                "{name} in {stage} changed nothing"
            );
            assert_eq!(after["status"], stage);
            assert_eq!(after["history"].as_array().expect("history").len(), history);
        }
        for (version, (i, name)) in (version..).zip(allowed.iter().enumerate()) {
            let data = app.query(step(name), step_vars(&id, version)).await;
            let result = data
                .as_object()
                .expect("data")
                .values()
                .next()
                .expect("a result");
            let expected = if i + 1 == allowed.len() {
                leads_to
            } else {
                stage
            };
            assert_eq!(result["status"], expected, "{name} in {stage}");
            assert_eq!(result["version"], version + 1);
        }
    }
    // The whole way, as the history and the audit trail keep it.
    let project = project_in(&app, village, "ACCEPTED").await;
    let id = project["id"].clone();
    take(
        &app,
        "announce",
        &id,
        project["version"].as_i64().expect("v"),
    )
    .await;
    let project = current(&app, &id).await;
    let steps: Vec<(Value, Value)> = project["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|s| (s["fromStatus"].clone(), s["toStatus"].clone()))
        .collect();
    let pairs = [
        (Value::Null, "LIBRARY"),
        (json!("LIBRARY"), "LIBRARY"),
        (json!("LIBRARY"), "APPROVED"),
        (json!("APPROVED"), "IN_PROGRESS"),
        (json!("IN_PROGRESS"), "COMPLETED"),
        (json!("COMPLETED"), "ACCEPTED"),
        (json!("ACCEPTED"), "ACCEPTED"),
    ];
    let expected: Vec<(Value, Value)> = pairs.into_iter().map(|(f, t)| (f, json!(t))).collect();
    assert_eq!(steps, expected);
    let approval = &project["history"][2];
    assert_eq!(approval["note"], "县扶贫领导小组批复");
    assert_eq!(approval["actor"], "admin");
    assert_eq!(approval["effectiveOn"], json!(today()));
    assert_eq!(project["progressPercent"], 100);
    assert_eq!(project["noticeStartsOn"], json!(days_ago(10)));
    assert_eq!(project["noticeEndsOn"], json!(days_ago(5)));
    for day in [
        "approvedOn",
        "actualStartDate",
        "actualEndDate",
        "acceptedOn",
        "announcedOn",
    ] {
        assert_eq!(project[day], json!(today()), "{day}");
    }
    assert_eq!(project["announcementOverdue"], false);
    assert_eq!(
        audit_actions(&app, &id).await,
        [
            "project.create",
            "project.notice",
            "project.approve",
            "project.start",
            "project.complete",
            "project.accept",
            "project.announce",
        ]
    );
    let again = app.graphql(step("announce"), step_vars(&id, 7)).await;
    assert_eq!(TestApp::error_codes(&again), ["BAD_USER_INPUT"]);
    assert!(
        error_message(&again).contains("already announced"),
        "{again}"
    );
}

async fn a_project_enters_the_library_only_with_targets_and_mechanism(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let village = villages(&app).await.0[0].id;
    let create = create_query();
    let before = project::Entity::find().count(&app.db).await.expect("count");

    let mut missing = input(&[village], None);
    missing["performanceTargets"] = Value::Null;
    let body = app.graphql(&create, json!({ "input": missing })).await;
    assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"]);
    assert_eq!(error_field(&body), "performanceTargets");
    assert!(
        error_message(&body).contains("performance targets"),
        "{body}"
    );
    let mut blank = input(&[village], None);
    blank["benefitMechanism"] = json!("   ");
    let body = app.graphql(&create, json!({ "input": blank })).await;
    assert_eq!(error_field(&body), "benefitMechanism");
    assert!(
        error_message(&body).contains("poverty-reduction mechanism"),
        "{body}"
    );
    for (field, value, at) in [
        ("budget", json!("0"), "budget"),
        ("plannedEnd", json!("2026-01-01"), "plannedEnd"),
        ("villageIds", json!([]), "villageIds"),
        (
            "villageIds",
            json!([global_id("Township", 2)]),
            "villageIds[0]",
        ),
    ] {
        let mut wrong = input(&[village], None);
        wrong[field] = value;
        let body = app.graphql(&create, json!({ "input": wrong })).await;
        assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"], "{field}");
        assert_eq!(error_field(&body), at);
    }
    let after = project::Entity::find().count(&app.db).await.expect("count");
    assert_eq!(after, before, "nothing refused was stored");

    // Idempotent: a retry returns the first project; the key with other input is a conflict.
    let keyed = json!({ "input": input(&[village], Some("project-1")) });
    let first = app.query(&create, keyed.clone()).await["createProject"].clone();
    assert_eq!(first["status"], "LIBRARY");
    assert_eq!(first["version"], 1);
    assert_eq!(first["plannedStartDate"], "2026-03-01");
    assert_eq!(first["plannedEndDate"], "2026-10-31");
    assert_eq!(
        first["performanceTargets"],
        "带动贫困户30户每户年增收2000元"
    );
    assert_eq!(first["beneficiaryCount"], 0);
    assert_eq!(first["villages"][0]["id"], global_id("Village", village));
    let entry = &first["history"][0];
    assert_eq!(entry["fromStatus"], Value::Null);
    assert_eq!(entry["toStatus"], "LIBRARY");
    assert_eq!(entry["effectiveOn"], json!(today()));
    let retried = app.query(&create, keyed).await["createProject"].clone();
    assert_eq!(retried["id"], first["id"]);
    let stored = project::Entity::find().count(&app.db).await.expect("count");
    assert_eq!(stored, before + 1);
    let mut other = input(&[village], Some("project-1"));
    other["budget"] = json!("600000");
    let reused = app.graphql(&create, json!({ "input": other })).await;
    assert_eq!(TestApp::error_codes(&reused), ["CONFLICT"]);

    // Edits go by version, and only in the library.
    let update = "mutation($input: UpdateProjectInput!) { updateProject(input: $input) { version budget benefitMechanism plannedEndDate } }";
    let edited = app
        .query(
            update,
            json!({ "input": { "id": first["id"], "version": 1, "budget": "450000", "plannedEnd": null } }),
        )
        .await["updateProject"]
        .clone();
    assert_eq!(edited["version"], 2);
    assert_eq!(edited["budget"], "450000.00");
    assert_eq!(edited["plannedEndDate"], Value::Null);
    let stale = app
        .graphql(
            update,
            json!({ "input": { "id": first["id"], "version": 1, "budget": "1" } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"]);
    assert_eq!(stale["errors"][0]["extensions"]["current"]["version"], 2);
    assert_eq!(
        stale["errors"][0]["extensions"]["current"]["budget"],
        "450000.00"
    );
    let emptied = app
        .graphql(
            update,
            json!({ "input": { "id": first["id"], "version": 2, "benefitMechanism": "" } }),
        )
        .await;
    assert_eq!(error_field(&emptied), "benefitMechanism");
    assert_eq!(
        audit_actions(&app, &first["id"]).await,
        ["project.create", "project.update"]
    );
}

async fn townships_enter_and_notice_projects_only_for_their_villages(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let (own, other) = villages(&app).await;
    let officer = app.token_for(Role::TownshipOfficer).await;
    let officer = Some(officer.as_str());
    let create = create_query();

    let mine = app
        .query_as(
            officer,
            &create,
            json!({ "input": input(&[own[0].id, own[1].id], None) }),
        )
        .await["createProject"]
        .clone();
    assert_eq!(mine["status"], "LIBRARY");
    for villages in [vec![other[0].id], vec![own[0].id, other[0].id]] {
        let body = app
            .graphql_as(officer, &create, json!({ "input": input(&villages, None) }))
            .await;
        assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"], "{villages:?}");
    }
    let cadre = app.token_for(Role::VillageCadre).await;
    let body = app
        .graphql_as(
            Some(&cadre),
            &create,
            json!({ "input": input(&[own[0].id], None) }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"]);

    // The township notices its own project, but only the county approves and accepts.
    let id = mine["id"].clone();
    backdate_entry(&app, &id, 30).await;
    let noticed = app
        .query_as(officer, step("notice"), step_vars(&id, 1))
        .await;
    assert_eq!(noticed["publishProjectNotice"]["version"], 2);
    let body = app
        .graphql_as(officer, step("approve"), step_vars(&id, 2))
        .await;
    assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"]);
    assert_eq!(current(&app, &id).await["status"], "LIBRARY");

    // Another township's project is not the officer's to edit or notice.
    let theirs = app
        .query(&create, json!({ "input": input(&[other[0].id], None) }))
        .await["createProject"]["id"]
        .clone();
    for name in ["update", "notice", "beneficiaries"] {
        let body = app
            .graphql_as(officer, step(name), step_vars(&theirs, 1))
            .await;
        assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"], "{name}");
    }

    // The implementing enterprise starts and reports on its own project only.
    let firm = enterprise::Entity::find()
        .order_by_asc(enterprise::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("an enterprise");
    let mut by_firm = input(&[own[0].id], None);
    by_firm["implementerEnterpriseId"] = json!(global_id("Enterprise", firm.id));
    let project = app.query(&create, json!({ "input": by_firm })).await["createProject"].clone();
    let id = project["id"].clone();
    backdate_entry(&app, &id, 30).await;
    let version = take(&app, "notice", &id, 1).await;
    let version = take(&app, "approve", &id, version).await;
    let enterprise = app.token_for(Role::Enterprise).await;
    let started = app
        .query_as(Some(&enterprise), step("start"), step_vars(&id, version))
        .await;
    assert_eq!(started["startProject"]["status"], "IN_PROGRESS");
    let body = app
        .graphql_as(
            Some(&enterprise),
            step("accept"),
            step_vars(&id, version + 1),
        )
        .await;
    assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"]);
    let other_project = project_in(&app, other[0].id, "APPROVED").await;
    let body = app
        .graphql_as(
            Some(&enterprise),
            step("start"),
            step_vars(
                &other_project["id"],
                other_project["version"].as_i64().expect("v"),
            ),
        )
        .await;
    assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"]);
}

async fn approval_waits_for_the_notice_and_steps_follow_in_time(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let village = villages(&app).await.0[0].id;
    let created = app
        .query(&create_query(), json!({ "input": input(&[village], None) }))
        .await["createProject"]
        .clone();
    let id = created["id"].clone();
    backdate_entry(&app, &id, 30).await;
    let notice = step("notice");

    let body = app.graphql(step("approve"), step_vars(&id, 1)).await;
    assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"]);
    assert!(error_message(&body).contains("publish it first"), "{body}");
    let short = json!({ "id": id, "v": 1, "s": days_ago(3), "e": days_ago(0) });
    let body = app.graphql(notice, short).await;
    assert_eq!(error_field(&body), "endsOn");
    let early = json!({ "id": id, "v": 1, "s": days_ago(40), "e": days_ago(20) });
    let body = app.graphql(notice, early).await;
    assert_eq!(error_field(&body), "startsOn");
    assert!(error_message(&body).contains("previous step"), "{body}");
    let future =
        json!({ "id": id, "v": 1, "s": today() + Days::new(1), "e": today() + Days::new(8) });
    let body = app.graphql(notice, future).await;
    assert_eq!(error_field(&body), "startsOn");

    // A notice still running holds the approval back.
    let running = json!({ "id": id, "v": 1, "s": days_ago(2), "e": today() + Days::new(2) });
    app.query(notice, running).await;
    let body = app.graphql(step("approve"), step_vars(&id, 2)).await;
    assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"]);
    assert_eq!(error_field(&body), "on");
    assert_eq!(current(&app, &id).await["version"], 2);
    let stale = app.graphql(step("approve"), step_vars(&id, 1)).await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"]);
    assert_eq!(
        stale["errors"][0]["extensions"]["current"]["status"],
        "LIBRARY"
    );

    // Once its notice has ended a project is approved; a step may not be dated
    // before the one before it, nor in the future.
    let created = app
        .query(&create_query(), json!({ "input": input(&[village], None) }))
        .await["createProject"]
        .clone();
    let id = created["id"].clone();
    backdate_entry(&app, &id, 30).await;
    let version = take(&app, "notice", &id, 1).await;
    let approve_on = "mutation($id: ID!, $v: Int!, $on: NaiveDate) { approveProject(id: $id, version: $v, on: $on) { version approvedOn } }";
    let body = app
        .graphql(
            approve_on,
            json!({ "id": id, "v": version, "on": days_ago(5) }),
        )
        .await;
    assert_eq!(error_field(&body), "on");
    let approved = app
        .query(
            approve_on,
            json!({ "id": id, "v": version, "on": days_ago(4) }),
        )
        .await["approveProject"]
        .clone();
    assert_eq!(approved["approvedOn"], json!(days_ago(4)));
    let start_on = "mutation($id: ID!, $v: Int!, $on: NaiveDate) { startProject(id: $id, version: $v, on: $on) { version } }";
    let version = approved["version"].as_i64().expect("version");
    for (on, why) in [
        (days_ago(6), "previous step"),
        (today() + Days::new(1), "future"),
    ] {
        let body = app
            .graphql(start_on, json!({ "id": id, "v": version, "on": on }))
            .await;
        assert_eq!(error_field(&body), "on");
        assert!(error_message(&body).contains(why), "{body}");
    }
    let version = take(&app, "start", &id, version).await;
    let progress = step("progress");
    for (percent, code) in [(101, "BAD_USER_INPUT"), (-1, "BAD_USER_INPUT")] {
        let mut vars = step_vars(&id, version);
        vars["p"] = json!(percent);
        let body = app.graphql(progress, vars).await;
        assert_eq!(TestApp::error_codes(&body), [code], "{percent}");
    }
    let version = take(&app, "progress", &id, version).await;
    let mut back = step_vars(&id, version);
    back["p"] = json!(40);
    let body = app.graphql(progress, back).await;
    assert_eq!(error_field(&body), "percent");
    let project = current(&app, &id).await;
    assert_eq!(project["progressPercent"], 50);
    let reported = project["history"]
        .as_array()
        .expect("history")
        .last()
        .cloned();
    assert_eq!(
        reported.expect("a step")["note"],
        "progress 50%: 主体工程完成"
    );
}

async fn beneficiaries_live_in_the_covered_villages(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let (own, other) = villages(&app).await;
    let inside = households_of(&app, own[0].id).await;
    let outside = households_of(&app, own[1].id).await;
    let elsewhere = households_of(&app, other[0].id).await;
    let create = create_query();

    let mut wrong = input(&[own[0].id], None);
    wrong["beneficiaryHouseholdIds"] = json!([
        global_id("Household", inside[0].id),
        global_id("Household", outside[0].id)
    ]);
    let body = app.graphql(&create, json!({ "input": wrong })).await;
    assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"]);
    assert_eq!(error_field(&body), "beneficiaryHouseholdIds[1]");

    // A township officer cannot name a household it does not reach.
    let officer = app.token_for(Role::TownshipOfficer).await;
    let mut unreachable = input(&[own[0].id], None);
    unreachable["beneficiaryHouseholdIds"] = json!([global_id("Household", elsewhere[0].id)]);
    let body = app
        .graphql_as(Some(&officer), &create, json!({ "input": unreachable }))
        .await;
    assert_eq!(TestApp::error_codes(&body), ["NOT_FOUND"]);

    let mut right = input(&[own[0].id, own[1].id], None);
    right["beneficiaryHouseholdIds"] = json!([
        global_id("Household", inside[0].id),
        global_id("Household", inside[1].id),
        global_id("Household", outside[0].id)
    ]);
    let project = app
        .query_as(Some(&officer), &create, json!({ "input": right }))
        .await["createProject"]
        .clone();
    assert_eq!(project["beneficiaryCount"], 3);
    let id = project["id"].clone();

    // Dropping a village some beneficiaries live in is refused until they are replaced.
    let update = "mutation($input: UpdateProjectInput!) { updateProject(input: $input) { version villages { id } } }";
    let narrowed = json!({ "input": { "id": id, "version": 1, "villageIds": [global_id("Village", own[0].id)] } });
    let body = app.graphql(update, narrowed.clone()).await;
    assert_eq!(error_field(&body), "villageIds");
    let set = "mutation($id: ID!, $v: Int!, $hs: [ID!]!) { setProjectBeneficiaries(id: $id, version: $v, householdIds: $hs) { version beneficiaryCount beneficiaries(first: 10) { totalCount nodes { id } } } }";
    let replaced = app
        .query_as(
            Some(&officer),
            set,
            json!({ "id": id, "v": 1, "hs": [global_id("Household", inside[2].id)] }),
        )
        .await["setProjectBeneficiaries"]
        .clone();
    assert_eq!(replaced["version"], 2);
    assert_eq!(replaced["beneficiaryCount"], 1);
    assert_eq!(
        replaced["beneficiaries"]["nodes"][0]["id"],
        global_id("Household", inside[2].id)
    );
    let mut narrowed = narrowed;
    narrowed["input"]["version"] = json!(2);
    let data = app.query(update, narrowed).await;
    assert_eq!(
        data["updateProject"]["villages"]
            .as_array()
            .expect("villages")
            .len(),
        1
    );
    let outside_now = json!({ "id": id, "v": 3, "hs": [global_id("Household", outside[1].id)] });
    let body = app.graphql(set, outside_now).await;
    assert_eq!(error_field(&body), "householdIds[0]");

    // Accepted projects keep their beneficiaries.
    let accepted = project_in(&app, own[0].id, "ACCEPTED").await;
    let body = app
        .graphql(
            set,
            json!({ "id": accepted["id"], "v": accepted["version"], "hs": [] }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"]);
    assert_eq!(
        audit_actions(&app, &id).await,
        ["project.create", "project.beneficiaries", "project.update"]
    );
}

async fn overdue_announcements_are_listed(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let village = villages(&app).await.0[0].id;
    let late = project_in(&app, village, "ACCEPTED").await;
    let recent = project_in(&app, village, "ACCEPTED").await;
    let announced = project_in(&app, village, "ACCEPTED").await;
    for project in [&late, &announced] {
        project::Entity::update_many()
            .col_expr(
                project::Column::AcceptedOn,
                sea_orm::sea_query::Expr::value(days_ago(60)),
            )
            .filter(project::Column::Id.eq(raw_id(&project["id"])))
            .exec(&app.db)
            .await
            .expect("age the acceptance");
    }
    take(
        &app,
        "announce",
        &announced["id"],
        announced["version"].as_i64().expect("v"),
    )
    .await;

    let list = "query($overdue: Boolean) { projects(first: 100, filter: { announcementOverdue: $overdue }) { nodes { id announcementDueOn announcementOverdue } } }";
    let ids = |data: &Value| -> Vec<Value> {
        data["projects"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|p| p["id"].clone())
            .collect()
    };
    let overdue = app.query(list, json!({ "overdue": true })).await;
    assert_eq!(ids(&overdue), [late["id"].clone()]);
    let shown = &overdue["projects"]["nodes"][0];
    assert_eq!(shown["announcementOverdue"], true);
    let due = api::domain::project::announcement_due_on(days_ago(60));
    assert_eq!(shown["announcementDueOn"], json!(due));
    let others = ids(&app.query(list, json!({ "overdue": false })).await);
    assert!(!others.contains(&late["id"]));
    assert!(others.contains(&recent["id"]));
    assert!(others.contains(&announced["id"]));
    let recent = current(&app, &recent["id"]).await;
    assert_eq!(recent["announcementOverdue"], false);
    let expected = api::domain::project::announcement_due_on(today());
    assert_eq!(recent["announcementDueOn"], json!(expected));

    // Announced, it leaves the list.
    take(
        &app,
        "announce",
        &late["id"],
        late["version"].as_i64().expect("v"),
    )
    .await;
    let overdue = app.query(list, json!({ "overdue": true })).await;
    assert!(ids(&overdue).is_empty());
}

async fn the_public_reads_a_project_but_no_household_of_it(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let (own, other) = villages(&app).await;
    let homes = households_of(&app, own[0].id).await;
    let firm = enterprise::Entity::find()
        .order_by_asc(enterprise::Column::Id)
        .all(&app.db)
        .await
        .expect("enterprises");
    let mut by_firm = input(&[own[0].id], None);
    by_firm["implementerEnterpriseId"] = json!(global_id("Enterprise", firm[0].id));
    by_firm["beneficiaryHouseholdIds"] = json!([
        global_id("Household", homes[0].id),
        global_id("Household", homes[1].id)
    ]);
    let project = app
        .query(&create_query(), json!({ "input": by_firm }))
        .await["createProject"]
        .clone();
    let id = project["id"].clone();
    backdate_entry(&app, &id, 30).await;
    take(&app, "notice", &id, 1).await;

    let public = app
        .query_as(
            None,
            "query($id: ID!) { project(id: $id) { status noticeStartsOn noticeEndsOn beneficiaryCount history { toStatus effectiveOn } } }",
            json!({ "id": id }),
        )
        .await["project"]
        .clone();
    assert_eq!(public["status"], "LIBRARY");
    assert_eq!(public["noticeStartsOn"], json!(days_ago(10)));
    assert_eq!(public["noticeEndsOn"], json!(days_ago(5)));
    assert_eq!(public["beneficiaryCount"], 2);
    assert_eq!(public["history"].as_array().expect("history").len(), 2);
    for field in ["beneficiaries { nodes { id } }", "history { actor }"] {
        let body = app
            .graphql_as(
                None,
                &format!("query($id: ID!) {{ project(id: $id) {{ {field} }} }}"),
                json!({ "id": id }),
            )
            .await;
        let codes = TestApp::error_codes(&body);
        assert!(!codes.is_empty(), "{field}: {body}");
        assert!(
            codes.iter().all(|c| c == "UNAUTHENTICATED"),
            "{field}: {body}"
        );
    }

    // The implementing enterprise sees the households it benefits, names masked;
    // another enterprise and another village's cadre see none, but the same count.
    let beneficiaries = "query($id: ID!) { project(id: $id) { beneficiaryCount beneficiaries { totalCount nodes { id head { name } } } } }";
    let implementer = app.token_for(Role::Enterprise).await;
    let seen = app
        .query_as(Some(&implementer), beneficiaries, json!({ "id": id }))
        .await["project"]
        .clone();
    assert_eq!(seen["beneficiaries"]["totalCount"], 2);
    let head = seen["beneficiaries"]["nodes"][0]["head"]["name"]
        .as_str()
        .expect("a name");
    assert!(head.ends_with('*'), "{head}");
    let stranger = create_user(
        &app.db,
        "another-enterprise",
        Role::Enterprise,
        None,
        Some(firm[1].credit_code.clone()),
    )
    .await;
    let cadre_region = other[0].code.clone();
    let cadre = create_user(
        &app.db,
        "far-cadre",
        Role::VillageCadre,
        Some(cadre_region),
        None,
    )
    .await;
    for user in [&stranger, &cadre] {
        let seen = app
            .query_as(Some(&token_of(user)), beneficiaries, json!({ "id": id }))
            .await["project"]
            .clone();
        assert_eq!(seen["beneficiaryCount"], 2, "{}", user.username);
        assert_eq!(seen["beneficiaries"]["totalCount"], 0, "{}", user.username);
    }
}
