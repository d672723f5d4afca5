//! The county's day (UTC+8): a record stamped at an instant is dated on the
//! county's calendar, whatever day it still is in UTC. Each test stamps a row
//! at 17:00 UTC on a day D, which is already D+1 in the county, and reads it
//! back through the API.

use api::domain::calendar;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use entity::enums::{ProposalKind, ProposalStage, Role};
use entity::{card_revision, household, proposal};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use tests::{Backend, TestApp, global_id, on_both_backends};

on_both_backends!(
    a_card_as_of_a_day_ends_at_the_county_midnight,
    an_announcement_is_dated_on_the_county_day,
    a_helper_pairing_starts_and_ends_on_the_county_day,
);

/// 17:00 UTC on `day`: one in the morning of the next day in the county.
fn late_utc(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(17, 0, 0).expect("a time"))
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a day")
}

async fn a_card_as_of_a_day_ends_at_the_county_midnight(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 3).await;
    let home = first_household(&app).await;
    let id = global_id("Household", home.id);
    app.query(
        "mutation($i: HouseholdPatch!) { updateHousehold(input: $i) { version } }",
        json!({ "i": { "id": id, "version": home.version, "address": "新址村3组" } }),
    )
    .await;
    // The card as it stood from February, and the change at 17:00 UTC on 1 March.
    let filed = Utc
        .with_ymd_and_hms(2026, 2, 1, 0, 0, 0)
        .single()
        .expect("a time");
    let changed = late_utc(day(2026, 3, 1));
    let mut early = home.clone().into_active_model();
    early.created_at = Set(filed - Duration::days(30));
    early.update(&app.db).await.expect("update household");
    let revisions = card_revision::Entity::find()
        .filter(card_revision::Column::HouseholdId.eq(home.id))
        .order_by_asc(card_revision::Column::Id)
        .all(&app.db)
        .await
        .expect("revisions");
    assert!(revisions.len() >= 2, "the change kept a revision before it");
    let last = revisions.len() - 1;
    for (i, revision) in revisions.into_iter().enumerate() {
        let mut row = revision.into_active_model();
        row.at = Set(if i == last { changed } else { filed });
        row.update(&app.db).await.expect("update revision");
    }

    let card = app
        .query(
            "query($h: ID!) { household(id: $h) {
                march1: cardAsOf(date: \"2026-03-01\") { since }
                march2: cardAsOf(date: \"2026-03-02\") { since } } }",
            json!({ "h": id }),
        )
        .await;
    let since = |key: &str| {
        card["household"][key]["since"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    // 1 March ended in the county at 16:00 UTC, before the change.
    assert_eq!(since("march1"), Some(filed), "{card}");
    assert_eq!(since("march2"), Some(changed), "{card}");
}

async fn an_announcement_is_dated_on_the_county_day(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 3).await;
    let home = first_household(&app).await;
    let (admin, _) = app.user_for(Role::CountyAdmin).await;
    let utc_day = Utc::now().date_naive() - Duration::days(3);
    let decided = late_utc(utc_day);
    let now = Utc::now();
    let announced = proposal::ActiveModel {
        household_id: Set(home.id),
        kind: Set(ProposalKind::Identification),
        stage: Set(ProposalStage::Approved),
        reason: Set("家庭人均纯收入低于标准，经村民代表评议".into()),
        evidence: Set("[]".into()),
        exit_year: Set(None),
        notice_starts_on: Set(utc_day - Duration::days(10)),
        notice_ends_on: Set(utc_day - Duration::days(3)),
        notice_posted_by: Set(None),
        notice_posted_at: Set(None),
        notice_evidence: Set(None),
        proposer_id: Set(admin.id),
        township_checker_id: Set(Some(admin.id)),
        township_checked_at: Set(Some(decided - Duration::days(1))),
        township_opinion: Set(Some("情况属实".into())),
        decider_id: Set(Some(admin.id)),
        decided_at: Set(Some(decided)),
        decision_note: Set(Some("同意".into())),
        version: Set(3),
        created_at: Set(now - Duration::days(20)),
        updated_at: Set(decided),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("insert an approved proposal");
    let announced = global_id("Proposal", announced.id);

    let body = app
        .graphql_as(
            None,
            "{ publicNotices(first: 100) { nodes { proposalId stage announcedOn } } }",
            json!({}),
        )
        .await;
    let notice = body["data"]["publicNotices"]["nodes"]
        .as_array()
        .and_then(|nodes| nodes.iter().find(|n| n["proposalId"] == announced.as_str()))
        .unwrap_or_else(|| panic!("the announcement is listed: {body}"));
    assert_eq!(notice["stage"], "APPROVED", "{body}");
    assert_eq!(
        notice["announcedOn"],
        json!(calendar::day_of(decided)),
        "{body}"
    );
    assert_eq!(notice["announcedOn"], json!(utc_day + Duration::days(1)));
}

/// The county's day and UTC's differ only from 16:00 to 24:00 UTC, so this
/// holds the dates to `calendar::today()` rather than to a fixed instant.
async fn a_helper_pairing_starts_and_ends_on_the_county_day(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 3).await;
    let home = first_household(&app).await;
    let (helper, _) = app.user_for(Role::HelperCadre).await;
    let vars = json!({ "u": helper.username, "h": global_id("Household", home.id) });
    let paired = app
        .query(
            "mutation($u: String!, $h: ID!) { pairHelper(helperUsername: $u, householdId: $h) { startedOn } }",
            vars.clone(),
        )
        .await;
    assert_eq!(
        paired["pairHelper"]["startedOn"],
        json!(calendar::today()),
        "{paired}"
    );
    let ended = app
        .query(
            "mutation($u: String!, $h: ID!) { endPairing(helperUsername: $u, householdId: $h) { endedOn } }",
            vars,
        )
        .await;
    assert_eq!(
        ended["endPairing"]["endedOn"],
        json!(calendar::today()),
        "{ended}"
    );
}

/// The seeded register's first household.
async fn first_household(app: &TestApp) -> household::Model {
    household::Entity::find()
        .order_by_asc(household::Column::Id)
        .one(&app.db)
        .await
        .expect("read")
        .expect("a household")
}
