//! A poverty village's exit (贫困村出列) over HTTP: the village's survey is
//! recorded; the township proposes the exit only when every criterion is met
//! and notices it; the county decides after the notice, on the criteria as
//! they stand then; the exit is announced to the public without the village's
//! poor count; an exit this year cannot be typed in by hand instead.

use chrono::{Datelike, Days};
use entity::enums::HouseholdStatus;
use entity::enums::{RegionLevel, Role};
use entity::{household, member, village_exit};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set,
};
use serde_json::{Value, json};
use tests::{
    Backend, TestApp, create_user, first_region, global_id, on_both_backends, regions, token_of,
};

on_both_backends!(
    a_poverty_village_exits_through_the_township_and_the_county,
    two_proposals_at_once_open_one_exit,
    the_incidence_counts_the_people_of_the_village_s_poor_households,
);

const ADD: &str = "mutation($t: ID!, $c: String!, $i: VillageInput!) { addVillage(townshipId: $t, code: $c, input: $i) { id version } }";
const UPDATE: &str = "mutation($v: ID!, $n: Int!, $i: VillageInput!) { updateVillage(villageId: $v, version: $n, input: $i) { version exitYear } }";
const SURVEY: &str = "mutation($v: ID!, $n: Int!, $i: VillageSurveyInput!) { recordVillageSurvey(villageId: $v, version: $n, input: $i) { version ruralPopulation survey { broadband surveyedOn } exitCheck { met poorPeople povertyIncidence exitThreshold criteria { criterion met detail } } } }";
const PROPOSE: &str = "mutation($v: ID!, $r: String!, $n: NoticeInput!) { proposeVillageExit(villageId: $v, reason: $r, notice: $n) { id stage version noticeOpen noticeEndsOn criteria { met poorPeople } village { id } } }";
const DECIDE: &str = "mutation($e: ID!, $n: Int!, $a: Boolean!, $o: String!) { decideVillageExit(exitId: $e, version: $n, approved: $a, opinion: $o) { stage exitYear decidedOn opinion version village { exitYear version } } }";
const CHECK: &str = "query($v: ID!) { village(id: $v) { version exitYear exitCheck { met poorPeople criteria { criterion met } } } }";

fn today() -> chrono::NaiveDate {
    api::domain::calendar::today()
}

/// A survey that meets every criterion for a village of `people`.
fn full_survey(people: i64) -> Value {
    json!({
        "ruralPopulation": people,
        "collectiveIncome": { "year": today().year() - 1, "amount": "80000" },
        "hardenedRoad": true, "safeDrinkingWater": true, "gridPower": true,
        "standardClinic": true, "schoolWithinReach": true, "broadband": true,
    })
}

fn notice() -> Value {
    json!({ "endsOn": today() + Days::new(4) })
}

/// A new poverty village of the first township, without households.
async fn new_poverty_village(app: &TestApp, sequence: u32) -> String {
    let township = first_region(&app.db, RegionLevel::Township).await;
    let code = format!("{}{sequence}", &township.code[..9]);
    let input = json!({ "name": format!("出列{sequence}村"), "isPovertyVillage": true });
    let vars = json!({ "t": global_id("Township", township.id), "c": code, "i": input });
    app.query(ADD, vars).await["addVillage"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

fn assert_refused(body: &Value, code: &str, words: &str) {
    assert_eq!(TestApp::error_codes(body), [code], "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(words), "`{message}` should say `{words}`");
}

/// Moves an exit's notice into the past, as if its days had run.
async fn notice_over(app: &TestApp, exit: &Value) {
    let row = village_exit::Entity::find_by_id(tests::raw_id(exit))
        .one(&app.db)
        .await
        .expect("query")
        .expect("exit");
    let mut ended = row.into_active_model();
    ended.notice_starts_on = Set(today() - Days::new(6));
    ended.notice_ends_on = Set(today() - Days::new(1));
    ended.update(&app.db).await.expect("end the notice");
}

async fn a_poverty_village_exits_through_the_township_and_the_county(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let v = new_poverty_village(&app, 901).await;
    let township = app.token_for(Role::TownshipOfficer).await;
    let t = Some(township.as_str());
    let propose = json!({ "v": v, "r": "乡镇核查达标", "n": notice() });

    // Nothing surveyed: every criterion is unmet, and the proposal says so.
    let unknown = app.query(CHECK, json!({ "v": v })).await["village"].clone();
    assert_eq!(unknown["exitCheck"]["met"], false);
    let refused = app.graphql_as(t, PROPOSE, propose.clone()).await;
    assert_refused(
        &refused,
        "BAD_USER_INPUT",
        "rural population is not recorded",
    );

    // Surveyed without broadband: that one criterion is named.
    let mut survey = full_survey(400);
    survey["broadband"] = json!(false);
    let recorded = app
        .graphql_as(t, SURVEY, json!({ "v": v, "n": 1, "i": survey }))
        .await;
    let village = &recorded["data"]["recordVillageSurvey"];
    assert_eq!(
        village["survey"]["surveyedOn"],
        json!(today()),
        "{recorded}"
    );
    let unmet: Vec<&Value> = village["exitCheck"]["criteria"]
        .as_array()
        .expect("criteria")
        .iter()
        .filter(|c| c["met"] == false)
        .map(|c| &c["criterion"])
        .collect();
    assert_eq!(unmet, [&json!("BROADBAND")]);
    assert_eq!(village["exitCheck"]["exitThreshold"], 0.03);
    let refused = app.graphql_as(t, PROPOSE, propose.clone()).await;
    assert_refused(&refused, "BAD_USER_INPUT", "has no broadband");

    // A stale survey is refused; a full one meets every criterion.
    let stale = app
        .graphql_as(t, SURVEY, json!({ "v": v, "n": 1, "i": full_survey(400) }))
        .await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"], "{stale}");
    let surveyed = app
        .query_as(t, SURVEY, json!({ "v": v, "n": 2, "i": full_survey(400) }))
        .await;
    assert_eq!(surveyed["recordVillageSurvey"]["exitCheck"]["met"], true);

    // Who may not propose: village cadres (of another village here), helper
    // cadres, enterprises; a township officer of another township does not find it.
    for role in [Role::VillageCadre, Role::HelperCadre, Role::Enterprise] {
        let token = app.token_for(role).await;
        let refused = app.graphql_as(Some(&token), PROPOSE, propose.clone()).await;
        assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"], "{role:?}");
    }
    let other = regions(&app.db, RegionLevel::Township).await[1].clone();
    let stranger = create_user(
        &app.db,
        "other-township",
        Role::TownshipOfficer,
        Some(other.code),
        None,
    )
    .await;
    let refused = app
        .graphql_as(Some(&token_of(&stranger)), PROPOSE, propose.clone())
        .await;
    assert_eq!(TestApp::error_codes(&refused), ["NOT_FOUND"], "{refused}");
    let short = json!({ "v": v, "r": "乡镇核查达标", "n": { "endsOn": today() + Days::new(3) } });
    let refused = app.graphql_as(t, PROPOSE, short).await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "notice.endsOn");

    let proposed = app.query_as(t, PROPOSE, propose.clone()).await["proposeVillageExit"].clone();
    assert_eq!(
        (
            &proposed["stage"],
            &proposed["noticeOpen"],
            &proposed["criteria"]["met"]
        ),
        (&json!("NOTICE"), &json!(true), &json!(true))
    );
    let again = app.graphql_as(t, PROPOSE, propose.clone()).await;
    assert_refused(&again, "CONFLICT", "already being noticed");

    // The public reads the notice, but not the village's poor count.
    let notices = app
        .graphql_as(
            None,
            "{ villageExits(stage: NOTICE) { id stage noticeEndsOn village { name } criteria { poorPeople } } }",
            json!({}),
        )
        .await;
    let listed = notices["data"]["villageExits"].as_array().expect("exits");
    assert_eq!(listed.len(), 1, "{notices}");
    assert_eq!(listed[0]["village"]["name"], "出列901村");
    assert_eq!(listed[0]["criteria"], Value::Null);
    assert_eq!(TestApp::error_codes(&notices), ["UNAUTHENTICATED"]);
    let public_check = app.graphql_as(None, CHECK, json!({ "v": v })).await;
    assert_eq!(public_check["data"]["village"]["exitCheck"], Value::Null);

    // The county decides only after the notice, and only the county.
    let decide = json!({ "e": proposed["id"], "n": 1, "a": true, "o": "同意出列" });
    let early = app.graphql(DECIDE, decide.clone()).await;
    assert_refused(&early, "BAD_USER_INPUT", "runs until");
    notice_over(&app, &proposed["id"]).await;
    let refused = app.graphql_as(t, DECIDE, decide.clone()).await;
    assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"]);

    // The village lost its broadband meanwhile: the approval is refused.
    let mut lost = full_survey(400);
    lost["broadband"] = json!(false);
    app.query_as(t, SURVEY, json!({ "v": v, "n": 3, "i": lost }))
        .await;
    let refused = app.graphql(DECIDE, decide.clone()).await;
    assert_refused(&refused, "BAD_USER_INPUT", "no longer meets");
    app.query_as(t, SURVEY, json!({ "v": v, "n": 4, "i": full_survey(400) }))
        .await;

    let decided = app.query(DECIDE, decide.clone()).await["decideVillageExit"].clone();
    assert_eq!(
        (
            &decided["stage"],
            &decided["exitYear"],
            &decided["village"]["exitYear"]
        ),
        (
            &json!("APPROVED"),
            &json!(today().year()),
            &json!(today().year())
        )
    );
    let twice = app
        .graphql(
            DECIDE,
            json!({ "e": proposed["id"], "n": 2, "a": false, "o": "重复" }),
        )
        .await;
    assert_refused(&twice, "BAD_USER_INPUT", "decided already");
    let exited = app.graphql_as(t, PROPOSE, propose).await;
    assert_refused(&exited, "BAD_USER_INPUT", "exited in");
    let exit_id = tests::raw_id(&proposed["id"]);
    assert_eq!(
        app.audit_actions("VillageExit", exit_id).await,
        ["village_exit.approve", "village_exit.propose"]
    );
    let village_actions = app.audit_actions("Village", tests::raw_id(&json!(v))).await;
    assert_eq!(village_actions[0], "region.exit", "{village_actions:?}");

    // Another village's exit this year cannot be typed in instead.
    let by_hand = new_poverty_village(&app, 902).await;
    let input =
        json!({ "name": "出列902村", "isPovertyVillage": true, "exitYear": today().year() });
    let refused = app
        .graphql(UPDATE, json!({ "v": by_hand, "n": 1, "i": input }))
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["field"], "exitYear",
        "{refused}"
    );
    let earlier = json!({ "name": "出列902村", "isPovertyVillage": true, "exitYear": 2019 });
    let recorded = app
        .query(UPDATE, json!({ "v": by_hand, "n": 1, "i": earlier }))
        .await;
    assert_eq!(recorded["updateVillage"]["exitYear"], 2019);
}

async fn two_proposals_at_once_open_one_exit(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 20).await;
    let v = new_poverty_village(&app, 903).await;
    app.query(SURVEY, json!({ "v": v, "n": 1, "i": full_survey(300) }))
        .await;
    let propose = json!({ "v": v, "r": "乡镇核查达标", "n": notice() });
    let (one, two) = tokio::join!(
        app.graphql(PROPOSE, propose.clone()),
        app.graphql(PROPOSE, propose)
    );
    let taken: Vec<&Value> = [&one, &two]
        .into_iter()
        .filter(|b| b.get("errors").is_none())
        .collect();
    assert_eq!(taken.len(), 1, "{one} {two}");
    let listed = app
        .query(
            "query($v: ID!) { village(id: $v) { exits { stage } } }",
            json!({ "v": v }),
        )
        .await;
    assert_eq!(listed["village"]["exits"], json!([{ "stage": "NOTICE" }]));

    // A village retired during its notice does not exit.
    let exit = &taken[0]["data"]["proposeVillageExit"]["id"];
    notice_over(&app, exit).await;
    app.query(
        "mutation($v: ID!) { retireVillage(villageId: $v, version: 2, reason: \"撤并建制村\") { retiredOn } }",
        json!({ "v": v }),
    )
    .await;
    let refused = app
        .graphql(
            DECIDE,
            json!({ "e": exit, "n": 1, "a": true, "o": "同意出列" }),
        )
        .await;
    assert_refused(&refused, "BAD_USER_INPUT", "retired");
}

async fn the_incidence_counts_the_people_of_the_village_s_poor_households(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let v = global_id("Village", village.id);
    let homes: Vec<i64> = household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .filter(
            household::Column::Status.is_in([HouseholdStatus::Enrolled, HouseholdStatus::Returned]),
        )
        .all(&app.db)
        .await
        .expect("households")
        .into_iter()
        .map(|h| h.id)
        .collect();
    let poor = member::Entity::find()
        .filter(member::Column::HouseholdId.is_in(homes))
        .filter(member::Column::IsActive.eq(true))
        .count(&app.db)
        .await
        .expect("members") as i64;
    assert!(poor > 0, "the seeded village has poor people");
    let input = json!({ "name": village.name, "isPovertyVillage": true, "exitYear": null });
    let marked = app
        .query(UPDATE, json!({ "v": v, "n": village.version, "i": input }))
        .await;
    let version = marked["updateVillage"]["version"]
        .as_i64()
        .expect("version");

    // A tenth of the population poor is over the 3% threshold; a fiftieth is under it.
    let high = app
        .query(
            SURVEY,
            json!({ "v": v, "n": version, "i": full_survey(poor * 10) }),
        )
        .await["recordVillageSurvey"]["exitCheck"]
        .clone();
    assert_eq!(
        (&high["poorPeople"], &high["met"]),
        (&json!(poor), &json!(false))
    );
    assert_eq!(high["povertyIncidence"], 0.1);
    let propose = json!({ "v": v, "r": "乡镇核查达标", "n": notice() });
    let refused = app.graphql(PROPOSE, propose.clone()).await;
    assert_refused(&refused, "BAD_USER_INPUT", "poverty incidence 10.00%");
    let low = app
        .query(
            SURVEY,
            json!({ "v": v, "n": version + 1, "i": full_survey(poor * 50) }),
        )
        .await["recordVillageSurvey"]["exitCheck"]
        .clone();
    assert_eq!(low["met"], true, "{low}");
    let proposed = app.query(PROPOSE, propose).await["proposeVillageExit"].clone();
    assert_eq!(proposed["criteria"]["poorPeople"], json!(poor));
}
