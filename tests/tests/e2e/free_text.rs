//! Free text read by other roles or the public carries no ID, phone or bank
//! card number: such a text is refused when it is written, and one stored
//! before the check reads with its numbers masked for whoever does not read
//! ID numbers in full.

use chrono::Utc;
use entity::enums::{MeasureCategory, MeasureStatus, RegionLevel, Role};
use entity::{household, measure, visit};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};
use tests::{
    Backend, TestApp, days_ago, error_field, error_message, first_region, global_id,
    on_both_backends,
};

on_both_backends!(
    a_personal_number_in_a_note_complaint_or_visit_note_is_refused_but_amounts_and_dates_pass,
    numbers_stored_in_free_text_read_masked_for_roles_without_full_id_access,
);

const ID_NUMBER: &str = "520102198001011234";
const PHONE: &str = "13812345678";
const GROUPED_CARD: &str = "6222 0210 0112 3456 789";

const ALLOCATE: &str =
    "mutation($input: AllocateFundsInput!) { allocateFunds(input: $input) { id note } }";
const SUBMIT: &str = "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) {
    trackingNumber } }";
const RECORD: &str =
    "mutation($input: RecordVisitInput!) { recordVisit(input: $input) { id notes } }";
const READ: &str = "query($h: ID!) { household(id: $h) {
    plan { measures { id task standard responsible version } } visits { notes } } }";
const UPDATE: &str = "mutation($input: UpdateMeasureInput!) { updateMeasure(input: $input) {
    id version } }";

async fn first_home(app: &TestApp) -> household::Model {
    let village = first_region(&app.db, RegionLevel::Village).await;
    household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .order_by_asc(household::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household in the first village")
}

fn complaint(household: i64, content: &str) -> Value {
    json!({ "input": {
        "subjectKind": "HOUSEHOLD_TREATMENT",
        "subjectId": global_id("Household", household),
        "content": content,
    } })
}

fn visit(household: i64, notes: &str, key: &str) -> Value {
    json!({ "input": {
        "householdId": global_id("Household", household),
        "visitedOn": days_ago(1),
        "help": ["POLICY_EXPLAINED"],
        "notes": notes,
        "idempotencyKey": key,
    } })
}

/// Asserts a refusal with BAD_USER_INPUT at `field`, naming `kind`, and no digit of the number.
fn assert_refused(body: &Value, field: &str, kind: &str) {
    assert_eq!(TestApp::error_codes(body), ["BAD_USER_INPUT"], "{body}");
    assert_eq!(error_field(body), field, "{body}");
    let message = error_message(body);
    assert!(message.contains(kind), "{message}");
    assert!(
        !message.chars().any(|c| c.is_ascii_digit()),
        "the refusal echoes the number: {message}"
    );
}

async fn a_personal_number_in_a_note_complaint_or_visit_note_is_refused_but_amounts_and_dates_pass(
    backend: Backend,
) {
    let (app, _) = TestApp::seeded(&backend, 20).await;
    let home = first_home(&app).await;

    let ledger = app
        .graphql(
            ALLOCATE,
            json!({ "input": {
                "sourceId": global_id("FundSource", 1), "projectId": global_id("Project", 1),
                "amount": "100", "entryDate": days_ago(1),
                "note": format!("补助发给张三，身份证 {ID_NUMBER}"),
            } }),
        )
        .await;
    assert_refused(&ledger, "note", "ID number");

    let public = app
        .graphql_as(
            None,
            SUBMIT,
            complaint(home.id, &format!("请联系我 {PHONE}，补助没有发到户")),
        )
        .await;
    assert_refused(&public, "content", "phone number");
    let landline = app
        .graphql_as(
            None,
            SUBMIT,
            complaint(home.id, "村委电话 0851-1234567 一直没人接"),
        )
        .await;
    assert_refused(&landline, "content", "phone number");

    let cadre = app.token_for(Role::VillageCadre).await;
    let notes = app
        .graphql_as(
            Some(&cadre),
            RECORD,
            visit(
                home.id,
                &format!("补助打到卡号 {GROUPED_CARD}"),
                "visit-card",
            ),
        )
        .await;
    assert_refused(&notes, "notes", "bank card");

    // Amounts, dates, years and counts are not numbers of a person.
    let text = "2019年收入 3500 元，2020-03-15 入户核实，5 户 12 人，补助 1500.00 元";
    let recorded = app
        .query_as(Some(&cadre), RECORD, visit(home.id, text, "visit-amounts"))
        .await;
    assert_eq!(recorded["recordVisit"]["notes"], text);
    let submitted = app.query_as(None, SUBMIT, complaint(home.id, text)).await;
    assert!(submitted["submitComplaint"]["trackingNumber"].is_string());
}

async fn numbers_stored_in_free_text_read_masked_for_roles_without_full_id_access(
    backend: Backend,
) {
    let (app, _) = TestApp::seeded(&backend, 20).await;
    let home = first_home(&app).await;
    let (cadre_user, cadre) = app.user_for(Role::VillageCadre).await;
    // Rows as they were written before the check, or as an import brought them.
    let stored = measure::ActiveModel {
        household_id: Set(home.id),
        category: Set(MeasureCategory::DevelopProduction),
        task: Set(format!("补助打到卡号 {GROUPED_CARD}")),
        standard: Set(format!("身份证 {ID_NUMBER} 办好医保")),
        responsible: Set(format!("王建国 {PHONE}")),
        deadline: Set(days_ago(0) + chrono::Days::new(30)),
        funds_fen: Set(0),
        status: Set(MeasureStatus::Planned),
        version: Set(1),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("measure");
    visit::ActiveModel {
        household_id: Set(home.id),
        visitor_id: Set(cadre_user.id),
        visited_on: Set(days_ago(2)),
        notes: Set(format!("户主电话 {PHONE}，身份证 {ID_NUMBER}")),
        photos: Set("[]".into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("visit");
    let household = json!({ "h": global_id("Household", home.id) });
    let measure_of = |data: &Value| -> Value {
        data["household"]["plan"]["measures"]
            .as_array()
            .expect("measures")
            .iter()
            .find(|m| m["id"] == global_id("Measure", stored.id))
            .expect("the stored measure")
            .clone()
    };
    let visit_notes = |data: &Value| -> Vec<String> {
        data["household"]["visits"]
            .as_array()
            .expect("visits")
            .iter()
            .filter_map(|v| v["notes"].as_str().map(str::to_owned))
            .filter(|notes| notes.starts_with("户主电话"))
            .collect()
    };

    // The village cadre reads ID numbers masked: the numbers in free text too.
    let seen = app.query_as(Some(&cadre), READ, household.clone()).await;
    let measure = measure_of(&seen);
    assert_eq!(measure["task"], "补助打到卡号 **** **** **** ***6 789");
    assert_eq!(measure["standard"], "身份证 520102********1234 办好医保");
    assert_eq!(measure["responsible"], "王建国 138****5678");
    assert_eq!(
        visit_notes(&seen),
        ["户主电话 138****5678，身份证 520102********1234"]
    );

    // The county office reads them in full.
    let full = app.query(READ, household).await;
    let measure = measure_of(&full);
    assert_eq!(measure["task"], format!("补助打到卡号 {GROUPED_CARD}"));
    assert_eq!(measure["responsible"], format!("王建国 {PHONE}"));
    assert_eq!(
        visit_notes(&full),
        [format!("户主电话 {PHONE}，身份证 {ID_NUMBER}")]
    );

    // Another path: the record a stale edit's CONFLICT shows is masked the same way.
    let stale = app
        .graphql_as(
            Some(&cadre),
            UPDATE,
            json!({ "input": { "id": global_id("Measure", stored.id), "version": 0, "funds": "1" } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"], "{stale}");
    let current = &stale["errors"][0]["extensions"]["current"];
    assert_eq!(current["responsible"], "王建国 138****5678", "{stale}");
    assert_eq!(current["standard"], "身份证 520102********1234 办好医保");
    assert!(!stale.to_string().contains(ID_NUMBER));
    assert!(!stale.to_string().contains(PHONE));
}
