//! Supervision: anyone submits a complaint without an account and follows it
//! by tracking number, never seeing who complained; the county and the
//! township handle it through one table of transitions; overdue complaints
//! are listed; the complainant's identity is for the county office and
//! auditors only, in the fields and in the audit trail.

use entity::complaint;
use entity::enums::{RegionLevel, Role};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{
    Backend, TestApp, days_ago, error_field, error_message, first_region, global_id,
    on_both_backends, raw_id, regions,
};

on_both_backends!(
    the_public_submits_without_a_token_and_follows_by_tracking_number,
    a_signed_in_retry_returns_the_same_complaint,
    each_handling_step_moves_only_from_its_status,
    overdue_complaints_are_listed,
    only_the_county_office_and_auditors_know_who_complained,
    a_township_officer_handles_only_its_townships_complaints,
    bad_submissions_name_the_field,
    a_complaint_about_a_project_names_a_village_it_covers,
);

const SUBMIT: &str = "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) {
    trackingNumber complaint { trackingNumber subjectKind status submittedAt assignedUnit deadline answer } } }";
const PROGRESS: &str = "query($n: String!) { complaintByTrackingNumber(trackingNumber: $n) {
    trackingNumber subjectKind status submittedAt assignedUnit assignedOn deadline answer
    rectification answeredOn conclusion closedOn } }";
const ASSIGN: &str = "mutation($input: AssignComplaintInput!) { assignComplaint(input: $input) {
    id status assignedUnit assignmentNote deadline overdue version } }";
const ANSWER: &str = "mutation($input: AnswerComplaintInput!) { answerComplaint(input: $input) {
    id status answer rectification answeredOn version } }";
const CLOSE: &str = "mutation($input: CloseComplaintInput!) { closeComplaint(input: $input) {
    id status conclusion closedOn version } }";
const COMPLAINT: &str = "query($id: ID!) { node(id: $id) { ... on Complaint {
    id trackingNumber subjectKind status content version overdue
    village { id } subject { id } } } }";
const IDENTITY: &str = "query($id: ID!) { node(id: $id) { ... on Complaint {
    id complainantName complainantPhone } } }";
const LIST: &str = "query($f: ComplaintFilter) { complaints(first: 50, filter: $f) {
    totalCount nodes { id status overdue deadline } } }";
const TRAIL: &str = "query($id: Int) { auditEntries(first: 20, filter: { entityType: \"Complaint\", entityId: $id }) {
    nodes { action actor after } } }";

const NAME: &str = "李秀英";
const PHONE: &str = "13812345678";

fn household_complaint(household: i64) -> Value {
    json!({ "input": {
        "subjectKind": "HOUSEHOLD_TREATMENT",
        "subjectId": global_id("Household", household),
        "content": "村里评定贫困户时优亲厚友，我家符合条件却未被识别。",
        "complainantName": NAME,
        "complainantPhone": PHONE,
    } })
}

fn village_complaint(village: i64) -> Value {
    json!({ "input": {
        "subjectKind": "CADRE_CONDUCT",
        "subjectId": global_id("Village", village),
        "content": "村干部在危房改造补助发放中吃拿卡要。",
        "complainantName": NAME,
        "complainantPhone": PHONE,
    } })
}

/// Submits as `token` (none: the public) and returns the payload.
async fn submit(app: &TestApp, token: Option<&str>, input: Value) -> Value {
    app.query_as(token, SUBMIT, input).await["submitComplaint"].clone()
}

/// The complaint's database row, by tracking number.
async fn row(app: &TestApp, tracking_number: &Value) -> complaint::Model {
    complaint::Entity::find()
        .filter(complaint::Column::TrackingNumber.eq(tracking_number.as_str().expect("number")))
        .one(&app.db)
        .await
        .expect("query")
        .expect("the complaint")
}

/// A village of the first township (the one `token_for` scopes officers to)
/// and a village of another township.
async fn villages(app: &TestApp) -> (i64, i64) {
    let township = first_region(&app.db, RegionLevel::Township).await;
    let prefix = &township.code[..9];
    let all = regions(&app.db, RegionLevel::Village).await;
    let inside = all
        .iter()
        .find(|v| v.code.starts_with(prefix))
        .expect("inside");
    let outside = all
        .iter()
        .find(|v| !v.code.starts_with(prefix))
        .expect("outside");
    (inside.id, outside.id)
}

fn in_days(days: u64) -> chrono::NaiveDate {
    api::domain::calendar::today() + chrono::Days::new(days)
}

fn assign(id: &Value, version: i64) -> Value {
    json!({ "input": {
        "id": id, "version": version, "unit": "县乡村振兴局", "deadline": in_days(15),
        "note": "请核实评定程序并约谈村两委",
    } })
}

fn answer(id: &Value, version: i64) -> Value {
    json!({ "input": {
        "id": id, "version": version, "answer": "经核查，反映问题部分属实。",
        "rectification": "已重新组织民主评议并补录该户。",
    } })
}

fn close(id: &Value, version: i64) -> Value {
    json!({ "input": { "id": id, "version": version, "conclusion": "PARTLY_SUBSTANTIATED" } })
}

async fn the_public_submits_without_a_token_and_follows_by_tracking_number(backend: Backend) {
    let app = TestApp::seeded(&backend, 20).await.0;
    let (village, _) = villages(&app).await;
    let home = entity::household::Entity::find()
        .filter(entity::household::Column::VillageId.eq(village))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household");

    let submitted = submit(&app, None, household_complaint(home.id)).await;
    let number = submitted["trackingNumber"]
        .as_str()
        .expect("number")
        .to_owned();
    let today = api::domain::calendar::today().format("%Y%m%d").to_string();
    assert!(number.starts_with(&format!("JB{today}")), "{number}");
    assert_eq!(number.len(), 16);
    assert_eq!(submitted["complaint"]["status"], "RECEIVED");
    assert_eq!(submitted["complaint"]["subjectKind"], "HOUSEHOLD_TREATMENT");
    let text = submitted.to_string();
    assert!(!text.contains(NAME) && !text.contains(PHONE) && !text.contains("优亲厚友"));

    // The complaint is filed under the household's village, from the register.
    let stored = row(&app, &submitted["trackingNumber"]).await;
    assert_eq!(stored.village_id, Some(village));
    assert_eq!(stored.household_id, Some(home.id));
    assert_eq!(stored.submitted_by, None);

    // The complainant follows it, in any letter case, and sees no identity.
    let progress = app
        .query_as(None, PROGRESS, json!({ "n": number.to_lowercase() }))
        .await["complaintByTrackingNumber"]
        .clone();
    assert_eq!(progress["status"], "RECEIVED");
    assert!(progress["assignedUnit"].is_null());
    let text = progress.to_string();
    assert!(!text.contains(NAME) && !text.contains(PHONE));
    let asked = app
        .graphql_as(
            None,
            "query($n: String!) { complaintByTrackingNumber(trackingNumber: $n) { complainantName } }",
            json!({ "n": number }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&asked), ["GRAPHQL_VALIDATION_FAILED"]);
    let unknown = app
        .graphql_as(None, PROGRESS, json!({ "n": "JB20200101AAAAAA" }))
        .await;
    assert_eq!(TestApp::error_codes(&unknown), ["NOT_FOUND"]);
    // The public reaches no complaint as a row.
    let id = global_id("Complaint", stored.id);
    let as_row = app.graphql_as(None, COMPLAINT, json!({ "id": id })).await;
    assert_eq!(TestApp::error_codes(&as_row), ["NOT_FOUND"]);

    // Handled, the answer reaches the complainant; the instructions do not.
    let assigned = app.query(ASSIGN, assign(&json!(id), 1)).await["assignComplaint"].clone();
    app.query(ANSWER, answer(&json!(id), 2)).await;
    let progress =
        app.query_as(None, PROGRESS, json!({ "n": number })).await["complaintByTrackingNumber"]
            .clone();
    assert_eq!(progress["status"], "ANSWERED");
    assert_eq!(progress["assignedUnit"], "县乡村振兴局");
    assert_eq!(progress["deadline"], assigned["deadline"]);
    assert_eq!(progress["answer"], "经核查，反映问题部分属实。");
    assert_eq!(progress["rectification"], "已重新组织民主评议并补录该户。");
    assert!(!progress.to_string().contains("约谈"));

    // The trail: submitted by the public, then handled by the administrator.
    let trail = app.query(TRAIL, json!({ "id": stored.id })).await["auditEntries"]["nodes"].clone();
    let steps: Vec<(&str, &str)> = trail
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or(""),
                e["actor"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("complaint.answer", "admin"),
            ("complaint.assign", "admin"),
            ("complaint.submit", "public")
        ]
    );
}

async fn a_signed_in_retry_returns_the_same_complaint(backend: Backend) {
    let app = TestApp::seeded(&backend, 10).await.0;
    let (village, _) = villages(&app).await;
    let cadre = app.token_for(Role::VillageCadre).await;
    let mut input = village_complaint(village);
    input["input"]["idempotencyKey"] = json!("jb-1");
    let first = submit(&app, Some(&cadre), input.clone()).await;
    let again = submit(&app, Some(&cadre), input.clone()).await;
    assert_eq!(first["trackingNumber"], again["trackingNumber"]);
    assert_eq!(
        complaint::Entity::find()
            .all(&app.db)
            .await
            .expect("rows")
            .len(),
        1
    );
    let stored = row(&app, &first["trackingNumber"]).await;
    assert!(stored.submitted_by.is_some());
    assert_eq!(stored.village_id, Some(village));

    // The same key for another complaint is a conflict.
    input["input"]["content"] = json!("另一件事");
    let reused = app.graphql_as(Some(&cadre), SUBMIT, input.clone()).await;
    assert_eq!(TestApp::error_codes(&reused), ["CONFLICT"]);

    // The public has no key to present: a plain insert each time.
    let public = app.graphql_as(None, SUBMIT, input).await;
    assert_eq!(TestApp::error_codes(&public), ["BAD_USER_INPUT"]);
    assert_eq!(error_field(&public), "idempotencyKey");
    assert_eq!(
        app.audit_actions("Complaint", stored.id).await,
        ["complaint.submit"]
    );
}

/// Drives a new complaint through the first `steps` handling steps.
async fn complaint_at(app: &TestApp, village: i64, steps: usize) -> Value {
    let submitted = submit(app, None, village_complaint(village)).await;
    let id = json!(global_id(
        "Complaint",
        row(app, &submitted["trackingNumber"]).await.id
    ));
    let moves = [
        (ASSIGN, assign(&id, 1)),
        (ANSWER, answer(&id, 2)),
        (CLOSE, close(&id, 3)),
    ];
    for (mutation, variables) in moves.into_iter().take(steps) {
        app.query(mutation, variables).await;
    }
    id
}

async fn each_handling_step_moves_only_from_its_status(backend: Backend) {
    let app = TestApp::seeded(&backend, 10).await.0;
    let (village, _) = villages(&app).await;
    let statuses = ["RECEIVED", "ASSIGNED", "ANSWERED", "CLOSED"];
    type Step = (
        &'static str,
        &'static str,
        fn(&Value, i64) -> Value,
        usize,
        &'static str,
    );
    let steps: [Step; 3] = [
        (ASSIGN, "assignComplaint", assign, 0, "ASSIGNED"),
        (ANSWER, "answerComplaint", answer, 1, "ANSWERED"),
        (CLOSE, "closeComplaint", close, 2, "CLOSED"),
    ];
    for (at, status) in statuses.iter().enumerate() {
        for (mutation, field, input, allowed_at, leads_to) in steps {
            let id = complaint_at(&app, village, at).await;
            let version = at as i64 + 1;
            let body = app.graphql(mutation, input(&id, version)).await;
            let now = app.query(COMPLAINT, json!({ "id": id })).await["node"].clone();
            if at == allowed_at {
                assert!(
                    body.get("errors").is_none(),
                    "{field} from {status}: {body}"
                );
                assert_eq!(body["data"][field]["status"], leads_to);
                assert_eq!(body["data"][field]["version"], version + 1);
                assert_eq!(now["status"], leads_to);
            } else {
                assert_eq!(
                    TestApp::error_codes(&body),
                    ["BAD_USER_INPUT"],
                    "{field} from {status}"
                );
                assert!(
                    error_message(&body).contains(status),
                    "{field} from {status}: {body}"
                );
                assert_eq!(now["status"], *status);
                assert_eq!(now["version"], version);
            }
        }
    }

    // A stale version is a conflict, whatever the step.
    let id = complaint_at(&app, village, 0).await;
    let stale = app.graphql(ASSIGN, assign(&id, 7)).await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"]);
    // A deadline is a day after today.
    let mut today = assign(&id, 1);
    today["input"]["deadline"] = json!(api::domain::calendar::today());
    let body = app.graphql(ASSIGN, today).await;
    assert_eq!(error_field(&body), "deadline");
    assert_eq!(
        app.audit_actions("Complaint", raw_id(&id)).await,
        ["complaint.submit"]
    );
}

async fn overdue_complaints_are_listed(backend: Backend) {
    let app = TestApp::seeded(&backend, 10).await.0;
    let (inside, outside) = villages(&app).await;
    let late = complaint_at(&app, inside, 1).await;
    let on_time = complaint_at(&app, inside, 1).await;
    let answered_late = complaint_at(&app, outside, 2).await;
    complaint_at(&app, outside, 0).await;
    // Time passes: two deadlines fall before today.
    complaint::Entity::update_many()
        .col_expr(complaint::Column::Deadline, Expr::value(days_ago(1)))
        .filter(complaint::Column::Id.is_in([raw_id(&late), raw_id(&answered_late)]))
        .exec(&app.db)
        .await
        .expect("age");

    let overdue = app.query(LIST, json!({ "f": { "overdue": true } })).await["complaints"].clone();
    assert_eq!(overdue["totalCount"], 1);
    assert_eq!(overdue["nodes"][0]["id"], late);
    assert_eq!(overdue["nodes"][0]["overdue"], true);
    assert_eq!(overdue["nodes"][0]["deadline"], json!(days_ago(1)));
    let not_overdue = app.query(LIST, json!({ "f": { "overdue": false } })).await;
    assert_eq!(not_overdue["complaints"]["totalCount"], 3);
    let node = app.query(COMPLAINT, json!({ "id": on_time })).await;
    assert_eq!(node["node"]["overdue"], false);

    let township = first_region(&app.db, RegionLevel::Township).await;
    let here = app
        .query(
            LIST,
            json!({ "f": { "status": "ASSIGNED", "regionId": global_id("Township", township.id) } }),
        )
        .await;
    assert_eq!(here["complaints"]["totalCount"], 2);
    let there = app
        .query(
            LIST,
            json!({ "f": { "regionId": global_id("Village", outside) } }),
        )
        .await;
    assert_eq!(there["complaints"]["totalCount"], 2);
}

async fn only_the_county_office_and_auditors_know_who_complained(backend: Backend) {
    let app = TestApp::seeded(&backend, 10).await.0;
    let (village, _) = villages(&app).await;
    let id = complaint_at(&app, village, 1).await;
    let auditor = app.token_for(Role::Auditor).await;
    let officer = app.token_for(Role::TownshipOfficer).await;

    for token in [Some(app.admin_token.as_str()), Some(auditor.as_str())] {
        let seen = app.query_as(token, IDENTITY, json!({ "id": id })).await;
        assert_eq!(seen["node"]["complainantName"], NAME);
        assert_eq!(seen["node"]["complainantPhone"], PHONE);
    }
    let hidden = app
        .graphql_as(Some(&officer), IDENTITY, json!({ "id": id }))
        .await;
    assert_eq!(TestApp::error_codes(&hidden), ["FORBIDDEN", "FORBIDDEN"]);
    assert_eq!(hidden["data"]["node"]["id"], id);
    assert!(hidden["data"]["node"]["complainantName"].is_null());
    // The rest of the complaint is the officer's to handle.
    let seen = app
        .query_as(Some(&officer), COMPLAINT, json!({ "id": id }))
        .await;
    assert_eq!(seen["node"]["status"], "ASSIGNED");
    assert_eq!(seen["node"]["village"]["id"], global_id("Village", village));

    // The audit trail: the auditor sees who complained; the township cannot read it.
    let trail = app
        .query_as(Some(&auditor), TRAIL, json!({ "id": raw_id(&id) }))
        .await["auditEntries"]["nodes"]
        .clone();
    let submitted = &trail[1]["after"];
    assert_eq!(trail[1]["action"], "complaint.submit");
    assert_eq!(submitted["complainantName"], NAME);
    assert_eq!(submitted["complainantPhone"], PHONE);
    let refused = app
        .graphql_as(Some(&officer), TRAIL, json!({ "id": raw_id(&id) }))
        .await;
    assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"]);
    assert!(!refused.to_string().contains(NAME));
    // A conflict shows the officer the current record without the identity.
    let stale = app.graphql_as(Some(&officer), ANSWER, answer(&id, 9)).await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"]);
    let current = &stale["errors"][0]["extensions"]["current"];
    assert_eq!(current["status"], "ASSIGNED");
    assert!(current.get("complainantName").is_none());
    assert!(!stale.to_string().contains(PHONE));

    // Auditors read every complaint and change none.
    let listed = app.query_as(Some(&auditor), LIST, json!({})).await;
    assert_eq!(listed["complaints"]["totalCount"], 1);
    let change = app.graphql_as(Some(&auditor), ANSWER, answer(&id, 2)).await;
    assert_eq!(TestApp::error_codes(&change), ["FORBIDDEN"]);
    for role in [Role::VillageCadre, Role::HelperCadre, Role::Enterprise] {
        let token = app.token_for(role).await;
        let list = app.graphql_as(Some(&token), LIST, json!({})).await;
        assert_eq!(TestApp::error_codes(&list), ["FORBIDDEN"], "{role:?}");
    }
    let public = app.graphql_as(None, LIST, json!({})).await;
    assert_eq!(TestApp::error_codes(&public), ["UNAUTHENTICATED"]);
}

async fn a_township_officer_handles_only_its_townships_complaints(backend: Backend) {
    let app = TestApp::seeded(&backend, 10).await.0;
    let (inside, outside) = villages(&app).await;
    let officer = app.token_for(Role::TownshipOfficer).await;
    let ours = complaint_at(&app, inside, 0).await;
    let theirs = complaint_at(&app, outside, 0).await;
    let nowhere = submit(
        &app,
        None,
        json!({ "input": { "subjectKind": "OTHER", "content": "乡镇扶贫站工作人员服务态度差。" } }),
    )
    .await;
    let nowhere = json!(global_id(
        "Complaint",
        row(&app, &nowhere["trackingNumber"]).await.id
    ));

    let listed = app.query_as(Some(&officer), LIST, json!({})).await;
    assert_eq!(listed["complaints"]["totalCount"], 1);
    assert_eq!(listed["complaints"]["nodes"][0]["id"], ours);

    let assigned =
        app.query_as(Some(&officer), ASSIGN, assign(&ours, 1)).await["assignComplaint"].clone();
    assert_eq!(assigned["status"], "ASSIGNED");
    assert_eq!(assigned["assignmentNote"], "请核实评定程序并约谈村两委");
    for other in [&theirs, &nowhere] {
        let body = app
            .graphql_as(Some(&officer), ASSIGN, assign(other, 1))
            .await;
        assert_eq!(TestApp::error_codes(&body), ["NOT_FOUND"]);
        let node = app
            .graphql_as(Some(&officer), COMPLAINT, json!({ "id": other }))
            .await;
        assert_eq!(TestApp::error_codes(&node), ["NOT_FOUND"]);
    }
    // The county office handles any of them.
    app.query(ASSIGN, assign(&nowhere, 1)).await;
    assert_eq!(
        app.audit_actions("Complaint", raw_id(&theirs)).await,
        ["complaint.submit"]
    );
}

async fn bad_submissions_name_the_field(backend: Backend) {
    let app = TestApp::seeded(&backend, 10).await.0;
    let (village, _) = villages(&app).await;
    let project = entity::project::Entity::find()
        .one(&app.db)
        .await
        .expect("query")
        .map(|p| p.id);
    let base = village_complaint(village);
    let with = |field: &str, value: Value| {
        let mut input = base.clone();
        input["input"][field] = value;
        input
    };
    let mut cases = vec![
        (with("content", json!("   ")), "content"),
        (with("content", json!("长".repeat(5_001))), "content"),
        (with("complainantPhone", json!("12ab")), "complainantPhone"),
        (
            with("complainantName", json!("名".repeat(51))),
            "complainantName",
        ),
        (
            with("subjectId", json!(global_id("Village", 999_999))),
            "subjectId",
        ),
        (with("subjectId", json!("not-an-id")), "subjectId"),
        (
            with("villageId", json!(global_id("Village", village))),
            "villageId",
        ),
    ];
    let mut household = base.clone();
    household["input"]["subjectKind"] = json!("HOUSEHOLD_TREATMENT");
    household["input"]["subjectId"] = json!(global_id("Household", 999_999));
    cases.push((household.clone(), "subjectId"));
    household["input"]["subjectId"] = json!(global_id("Village", village));
    cases.push((household, "subjectId"));
    if let Some(project) = project {
        let mut funds = base.clone();
        funds["input"]["subjectKind"] = json!("FUNDS");
        funds["input"]["subjectId"] = json!(global_id("Project", project));
        funds["input"]["villageId"] = json!(global_id("Village", 999_999));
        cases.push((funds, "villageId"));
    }
    for (input, field) in cases {
        let body = app.graphql_as(None, SUBMIT, input).await;
        assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"], "{body}");
        assert_eq!(error_field(&body), field, "{body}");
    }
    assert!(
        complaint::Entity::find()
            .all(&app.db)
            .await
            .expect("rows")
            .is_empty()
    );
    // Anonymous is fine: no name, no phone.
    let anonymous = submit(
        &app,
        None,
        json!({ "input": { "subjectKind": "FUNDS", "content": "某项目资金被挪用。" } }),
    )
    .await;
    assert_eq!(anonymous["complaint"]["status"], "RECEIVED");
}

async fn a_complaint_about_a_project_names_a_village_it_covers(backend: Backend) {
    let app = TestApp::seeded(&backend, 200).await.0;
    let entry = entity::fund_entry::Entity::find()
        .one(&app.db)
        .await
        .expect("query")
        .expect("the seed has a ledger");
    let covered: Vec<i64> = entity::project_village::Entity::find()
        .filter(entity::project_village::Column::ProjectId.eq(entry.project_id))
        .all(&app.db)
        .await
        .expect("query")
        .into_iter()
        .map(|pv| pv.village_id)
        .collect();
    let elsewhere = regions(&app.db, RegionLevel::Village)
        .await
        .into_iter()
        .map(|v| v.id)
        .find(|v| !covered.contains(v))
        .expect("a village the project does not cover");
    let about = |subject: String, village: i64| {
        json!({ "input": {
            "subjectKind": "FUNDS",
            "subjectId": subject,
            "villageId": global_id("Village", village),
            "content": "项目资金被挪用。",
        } })
    };
    for subject in [
        global_id("Project", entry.project_id),
        global_id("FundEntry", entry.id),
    ] {
        let body = app
            .graphql_as(None, SUBMIT, about(subject.clone(), elsewhere))
            .await;
        assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"], "{body}");
        assert_eq!(error_field(&body), "villageId", "{body}");
        let taken = submit(&app, None, about(subject, covered[0])).await;
        assert_eq!(taken["complaint"]["status"], "RECEIVED");
    }
}
