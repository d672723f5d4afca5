//! A household's lifecycle: the status machine as users meet it, "two public
//! notices and one announcement", monitoring for return to poverty, the status
//! history, the audit trail and the card as it stood before a change.

use chrono::{Datelike, Duration, Months, Utc};
use entity::enums::{
    HouseholdStatus, IdentificationStandard, LabourAbility, MeasureCategory, MeasureStatus,
    RegionLevel, Relation, Role,
};
use entity::{
    household, household_income, measure, member, monitoring_case, project_stage_change, proposal,
    region,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde_json::{Value, json};
use tests::{Backend, TestApp, first_region, global_id, on_both_backends, raw_id};

on_both_backends!(
    every_status_against_every_direct_action,
    an_identification_goes_through_notice_objection_check_and_decision,
    an_exit_needs_income_above_the_line_and_every_guarantee,
    an_exit_year_before_the_enrolment_year_is_refused,
    an_exit_after_2020_is_measured_against_the_line_the_county_sets,
    a_household_of_the_provincial_standard_exits_against_the_province_s_line,
    public_notices_name_the_head_and_nothing_personal,
    monitoring_ends_only_when_the_risk_is_eliminated,
    a_stale_version_is_a_conflict,
    a_notice_entered_late_needs_its_paper_evidence,
    both_notices_run_before_the_county_decides,
    a_proposal_checked_before_the_second_notice_is_decided_as_before,
);

const PROPOSE: &str = "mutation($i: ProposeInput!) { propose(input: $i) { id stage kind version noticeOpen exitYear } }";
const CHECK: &str = "mutation($p: ID!, $v: Int!, $ok: Boolean!, $n: NoticeInput) { checkProposal(proposalId: $p, version: $v, passed: $ok, opinion: \"情况属实\", townshipNotice: $n) { stage version townshipOpinion townshipNoticeStartsOn townshipNoticeEndsOn } }";
const DECIDE: &str = "mutation($p: ID!, $v: Int!, $ok: Boolean!) { decideProposal(proposalId: $p, version: $v, approved: $ok, note: \"同意\") { stage version decidedAt } }";
const RETURN: &str = "mutation($h: ID!, $v: Int!) { returnToPoverty(householdId: $h, version: $v, reason: \"因病返贫\") { status version } }";
const REMOVE: &str = "mutation($h: ID!, $v: Int!) { removeHousehold(householdId: $h, version: $v, reason: \"错评，家有财政供养人员\") { status version } }";
const MONITOR: &str = "mutation($i: StartMonitoringInput!) { startMonitoring(input: $i) { id category risks startedOn household { monitoring version } } }";
const ELIMINATE: &str = "mutation($h: ID!, $v: Int!) { eliminateRisk(householdId: $h, version: $v, note: \"务工收入稳定\") { eliminatedOn eliminationNote household { monitoring version } } }";
const HISTORY: &str = "query($h: ID!) { household(id: $h) { status monitoring enrolledYear liftedOutYear version statusHistory { action fromStatus toStatus fromMonitoring toMonitoring year reason actor proposal { id } } } }";

/// Puts a household in a status, consistently with the register's constraints,
/// unmonitored, with every guarantee met.
async fn set_status(app: &TestApp, id: i64, status: HouseholdStatus) -> household::Model {
    let home = household::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("household");
    let mut row = home.into_active_model();
    row.status = Set(status);
    row.enrolled_year = Set((status != HouseholdStatus::NotPoor).then_some(2016));
    row.lifted_out_year = Set(matches!(
        status,
        HouseholdStatus::LiftedOut | HouseholdStatus::Returned
    )
    .then_some(2019));
    row.monitoring = Set(None);
    for guarantee in [
        &mut row.food_secure,
        &mut row.clothing_secure,
        &mut row.compulsory_education_secure,
        &mut row.basic_medical_secure,
        &mut row.housing_secure,
        &mut row.safe_drinking_water,
    ] {
        *guarantee = Set(true);
    }
    row.update(&app.db).await.expect("update household")
}

/// Records a year's income of one person's worth `yuan` per capita.
async fn set_income(app: &TestApp, id: i64, year: i32, yuan: i64) {
    household_income::Entity::delete_by_id((id, year))
        .exec(&app.db)
        .await
        .expect("delete income");
    household_income::ActiveModel {
        household_id: Set(id),
        year: Set(year),
        wage_fen: Set(yuan * 100),
        production_fen: Set(0),
        property_fen: Set(0),
        transfer_fen: Set(0),
        production_cost_fen: Set(0),
        household_size: Set(1),
        per_capita_net_fen: Set(yuan * 100),
        version: Set(1),
        updated_at: Set(Utc::now()),
    }
    .insert(&app.db)
    .await
    .expect("insert income");
}

async fn households_of_first_village(app: &TestApp) -> Vec<household::Model> {
    let village = first_region(&app.db, RegionLevel::Village).await;
    household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .order_by_asc(household::Column::Id)
        .all(&app.db)
        .await
        .expect("households")
}

async fn version_of(app: &TestApp, id: i64) -> i32 {
    household::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("household")
        .version
}

fn days_from_today(days: i64) -> String {
    (api::domain::calendar::today() + Duration::days(days)).to_string()
}

/// A proposal's input; a notice that started before today comes with its paper notice.
fn propose_input(id: i64, kind: &str, exit_year: Option<i32>, starts: i64, ends: i64) -> Value {
    json!({ "i": {
        "householdId": global_id("Household", id),
        "kind": kind,
        "reason": "家庭人均纯收入情况经村民代表评议",
        "evidence": ["收入核查表.pdf"],
        "exitYear": exit_year,
        "origin": "APPLICATION",
        "appraisal": {
            "heldOn": days_from_today(starts - 1),
            "attendance": 31,
            "votesFor": 27,
            "votesAgainst": 2,
            "minutesReference": "村民代表会议记录第3号",
        },
        "noticeStartsOn": days_from_today(starts),
        "noticeEndsOn": days_from_today(ends),
        "paperNotice": (starts < 0).then(|| json!({
            "postedBy": "村民委员会", "postedAt": "村务公开栏", "evidence": "公示照片.jpg",
        })),
    }})
}

/// The variables of a township check: a pass is noticed in the township from
/// today for five days.
fn check_vars(p: &str, version: i64, passed: bool) -> Value {
    json!({ "p": p, "v": version, "ok": passed,
            "n": passed.then(|| json!({ "endsOn": days_from_today(4) })) })
}

/// The township's notice of proposal `p` run its course, as if posted ten
/// days ago.
async fn township_notice_over(app: &TestApp, p: &str) {
    let row = proposal::Entity::find_by_id(raw_id(&json!(p)))
        .one(&app.db)
        .await
        .expect("query")
        .expect("proposal");
    let mut ended = row.into_active_model();
    ended.township_notice_starts_on = Set(Some(api::domain::calendar::today() - Duration::days(6)));
    ended.township_notice_ends_on = Set(Some(api::domain::calendar::today() - Duration::days(1)));
    ended
        .update(&app.db)
        .await
        .expect("end the township's notice");
}

fn assert_refused(body: &Value, code: &str, words: &str) {
    assert_eq!(TestApp::error_codes(body), [code], "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(words), "`{message}` should say `{words}`");
}

/// Every status against every action a user takes directly: allowed ones
/// succeed and change the status, refused ones say why with BAD_USER_INPUT.
async fn every_status_against_every_direct_action(backend: Backend) {
    use HouseholdStatus::*;
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let homes = household::Entity::find()
        .order_by_asc(household::Column::Id)
        .all(&app.db)
        .await
        .expect("households");
    let statuses = [Enrolled, LiftedOut, Returned, Removed, NotPoor];
    let actions = [
        "returnToPoverty",
        "removeHousehold",
        "UNSTABLE",
        "MARGINAL",
        "SUDDEN_DIFFICULTY",
        "IDENTIFICATION",
        "EXIT",
    ];
    let allowed = |status: HouseholdStatus, action: &str| -> Option<HouseholdStatus> {
        match (action, status) {
            ("returnToPoverty", LiftedOut) => Some(Returned),
            ("removeHousehold", s) if s != Removed => Some(Removed),
            ("UNSTABLE", LiftedOut) => Some(LiftedOut),
            ("MARGINAL", NotPoor) => Some(NotPoor),
            ("SUDDEN_DIFFICULTY", s @ (LiftedOut | NotPoor)) => Some(s),
            ("IDENTIFICATION", NotPoor) | ("EXIT", Enrolled | Returned) => Some(status),
            _ => None,
        }
    };
    let mut homes = homes.into_iter();
    for status in statuses {
        for action in actions {
            let home = homes.next().expect("a household for each cell");
            let home = set_status(&app, home.id, status).await;
            set_income(&app, home.id, 2020, 9_000).await;
            let h = global_id("Household", home.id);
            let v = home.version;
            let body = match action {
                "returnToPoverty" => app.graphql(RETURN, json!({ "h": h, "v": v })).await,
                "removeHousehold" => app.graphql(REMOVE, json!({ "h": h, "v": v })).await,
                "IDENTIFICATION" => {
                    let input = propose_input(home.id, action, None, 0, 7);
                    app.graphql(PROPOSE, input).await
                }
                "EXIT" => {
                    let input = propose_input(home.id, action, Some(2020), 0, 7);
                    app.graphql(PROPOSE, input).await
                }
                category => {
                    let input = json!({ "i": {
                        "householdId": h, "version": v, "category": category,
                        "risks": ["ILLNESS"], "foundBy": "CADRE_VISIT", "reason": "家中有人患大病",
                    }});
                    app.graphql(MONITOR, input).await
                }
            };
            let cell = format!("{status:?} × {action}");
            match allowed(status, action) {
                Some(to) => {
                    assert!(body.get("errors").is_none(), "{cell}: {body}");
                    let now = household::Entity::find_by_id(home.id)
                        .one(&app.db)
                        .await
                        .expect("query")
                        .expect("household");
                    assert_eq!(now.status, to, "{cell}");
                }
                None => {
                    assert_eq!(
                        TestApp::error_codes(&body),
                        ["BAD_USER_INPUT"],
                        "{cell}: {body}"
                    );
                    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
                    let named = api::domain::lifecycle::status_name(status);
                    assert!(message.contains(named), "{cell}: `{message}`");
                    assert_eq!(version_of(&app, home.id).await, v, "{cell}: unchanged");
                }
            }
        }
    }
}

/// NotPoor → propose → objection → township check refused while the notice
/// runs and while the objection is open → resolved → checked → approved →
/// Enrolled, with the history, the audit trail and the objector's privacy.
async fn an_identification_goes_through_notice_objection_check_and_decision(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let homes = households_of_first_village(&app).await;
    let home = set_status(&app, homes[0].id, HouseholdStatus::NotPoor).await;
    let other = set_status(&app, homes[1].id, HouseholdStatus::NotPoor).await;
    let (_, cadre) = app.user_for(Role::VillageCadre).await;
    let (_, township) = app.user_for(Role::TownshipOfficer).await;

    let mut input = propose_input(home.id, "IDENTIFICATION", None, -3, 4);
    input["i"]["reason"] = json!("户主身份证 520102199001011234 家庭困难");
    let leaky = app.graphql_as(Some(&cadre), PROPOSE, input.clone()).await;
    assert_refused(&leaky, "BAD_USER_INPUT", "ID number");
    assert_eq!(leaky["errors"][0]["extensions"]["field"], "reason");
    input["i"]["reason"] = json!("家庭人均纯收入低于标准，经村民代表评议");
    input["i"]["idempotencyKey"] = json!("identify-1");
    let proposed = app.query_as(Some(&cadre), PROPOSE, input.clone()).await;
    let p = proposed["propose"]["id"].as_str().expect("id").to_owned();
    assert_eq!(proposed["propose"]["stage"], "NOTICE");
    assert_eq!(proposed["propose"]["noticeOpen"], true);
    let retried = app.query_as(Some(&cadre), PROPOSE, input.clone()).await;
    assert_eq!(
        retried["propose"]["id"],
        p.as_str(),
        "a retry returns the first"
    );
    input["i"]["idempotencyKey"] = json!("identify-2");
    let second = app.graphql_as(Some(&cadre), PROPOSE, input).await;
    assert_refused(&second, "CONFLICT", "already has a proposal in progress");

    let objection = app
        .query_as(
            Some(&cadre),
            "mutation($p: ID!) { recordObjection(input: { proposalId: $p, objector: \"李四\", content: \"该户有经商收入\" }) { id version open } }",
            json!({ "p": p }),
        )
        .await;
    let o = objection["recordObjection"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let seen = app
        .graphql_as(
            Some(&cadre),
            "query($p: ID!) { node(id: $p) { ... on Proposal { objections { content objector } } } }",
            json!({ "p": p }),
        )
        .await;
    assert_eq!(
        seen["data"]["node"]["objections"][0]["content"],
        "该户有经商收入"
    );
    assert!(seen["data"]["node"]["objections"][0]["objector"].is_null());
    assert_eq!(
        TestApp::error_codes(&seen),
        ["FORBIDDEN"],
        "the village does not learn who objected"
    );

    let forbidden = app
        .graphql_as(Some(&cadre), CHECK, check_vars(&p, 1, true))
        .await;
    assert_eq!(TestApp::error_codes(&forbidden), ["FORBIDDEN"]);
    // The township passes a proposal only on what the whole notice brought.
    let early = app
        .graphql_as(Some(&township), CHECK, check_vars(&p, 1, true))
        .await;
    assert_refused(&early, "BAD_USER_INPUT", "the public notice runs until");
    // The notice runs its course.
    let row = proposal::Entity::find()
        .filter(proposal::Column::HouseholdId.eq(home.id))
        .one(&app.db)
        .await
        .expect("query")
        .expect("proposal");
    let mut ended = row.clone().into_active_model();
    ended.notice_starts_on = Set(api::domain::calendar::today() - Duration::days(10));
    ended.notice_ends_on = Set(api::domain::calendar::today() - Duration::days(1));
    ended.update(&app.db).await.expect("end the notice");

    let open = app
        .graphql_as(Some(&township), CHECK, check_vars(&p, 1, true))
        .await;
    assert_refused(&open, "BAD_USER_INPUT", "not resolved");
    let resolved = app
        .query_as(
            Some(&township),
            "mutation($o: ID!) { resolveObjection(objectionId: $o, version: 1, upheld: false, resolution: \"经核查，经商收入已计入\") { open upheld objector } }",
            json!({ "o": o }),
        )
        .await;
    assert_eq!(resolved["resolveObjection"]["upheld"], false);
    assert_eq!(resolved["resolveObjection"]["objector"], "李四");
    let checked = app
        .query_as(Some(&township), CHECK, check_vars(&p, 1, true))
        .await;
    assert_eq!(checked["checkProposal"]["stage"], "TOWNSHIP_CHECKED");
    township_notice_over(&app, &p).await;
    let v = checked["checkProposal"]["version"]
        .as_i64()
        .expect("version");
    let by_cadre = app
        .graphql_as(Some(&cadre), DECIDE, json!({ "p": p, "v": v, "ok": true }))
        .await;
    assert_eq!(TestApp::error_codes(&by_cadre), ["FORBIDDEN"]);
    let decided = app
        .query(DECIDE, json!({ "p": p, "v": v, "ok": true }))
        .await;
    assert_eq!(decided["decideProposal"]["stage"], "APPROVED");

    let card = app
        .query(HISTORY, json!({ "h": global_id("Household", home.id) }))
        .await;
    let card = &card["household"];
    assert_eq!(card["status"], "ENROLLED");
    assert_eq!(card["enrolledYear"], api::domain::calendar::today().year());
    let history = card["statusHistory"].as_array().expect("history");
    let last = history.last().expect("a history row");
    assert_eq!(last["action"], "ENROLLED");
    assert_eq!(last["fromStatus"], "NOT_POOR");
    assert_eq!(last["toStatus"], "ENROLLED");
    assert_eq!(last["actor"], "admin");
    assert_eq!(last["proposal"]["id"], p.as_str());
    assert!(
        last["reason"]
            .as_str()
            .expect("reason")
            .contains("低于标准")
    );
    assert_eq!(
        app.audit_actions("Household", home.id).await,
        ["household.enrolled"]
    );
    let proposal_id = row.id;
    assert_eq!(
        app.audit_actions("Proposal", proposal_id).await,
        ["proposal.approve", "proposal.check", "proposal.create"]
    );
    let objection_id = api::graphql::relay::decode_id(&async_graphql::ID(o.clone()), "id")
        .expect("objection ID")
        .1;
    assert_eq!(
        app.audit_actions("Objection", objection_id).await,
        ["objection.resolve", "objection.create"]
    );

    // An upheld objection stops an approval; the proposal can be withdrawn.
    let proposed = app
        .query_as(
            Some(&cadre),
            PROPOSE,
            propose_input(other.id, "IDENTIFICATION", None, -10, -1),
        )
        .await;
    let p2 = proposed["propose"]["id"].as_str().expect("id").to_owned();
    let late = app
        .graphql_as(
            Some(&cadre),
            "mutation($p: ID!) { recordObjection(input: { proposalId: $p, content: \"不实\" }) { id } }",
            json!({ "p": p2 }),
        )
        .await;
    assert_refused(&late, "BAD_USER_INPUT", "during the notice");
    let objection = app
        .query_as(
            Some(&cadre),
            "mutation($p: ID!, $d: NaiveDate!) { recordObjection(input: { proposalId: $p, content: \"不实\", receivedOn: $d }) { id } }",
            json!({ "p": p2, "d": days_from_today(-2) }),
        )
        .await;
    let o2 = objection["recordObjection"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.query_as(
        Some(&township),
        "mutation($o: ID!) { resolveObjection(objectionId: $o, version: 1, upheld: true, resolution: \"属实\") { upheld } }",
        json!({ "o": o2 }),
    )
    .await;
    app.query_as(Some(&township), CHECK, check_vars(&p2, 1, true))
        .await;
    township_notice_over(&app, &p2).await;
    let upheld = app
        .graphql(DECIDE, json!({ "p": p2, "v": 2, "ok": true }))
        .await;
    assert_refused(&upheld, "BAD_USER_INPUT", "upheld");
    let withdrawn = app
        .query_as(
            Some(&cadre),
            "mutation($p: ID!) { withdrawProposal(proposalId: $p, version: 2, reason: \"异议属实\") { stage } }",
            json!({ "p": p2 }),
        )
        .await;
    assert_eq!(withdrawn["withdrawProposal"]["stage"], "WITHDRAWN");
    let status = household::Entity::find_by_id(other.id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("household")
        .status;
    assert_eq!(status, HouseholdStatus::NotPoor);
}

/// An exit is refused under the poverty line and with an unmet guarantee, and
/// goes through once both hold; the card of the day before still says ENROLLED.
async fn an_exit_needs_income_above_the_line_and_every_guarantee(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let homes = households_of_first_village(&app).await;
    let home = set_status(&app, homes[0].id, HouseholdStatus::Enrolled).await;
    let mut filed = home.clone().into_active_model();
    filed.created_at = Set(Utc::now() - Duration::days(30));
    filed.food_secure = Set(false);
    let home = filed.update(&app.db).await.expect("update");
    set_income(&app, home.id, 2020, 3_000).await;
    let input = propose_input(home.id, "EXIT", Some(2020), -10, -1);

    let unmet = app.graphql(PROPOSE, input.clone()).await;
    assert_refused(&unmet, "BAD_USER_INPUT", "food");
    assert_eq!(unmet["errors"][0]["extensions"]["field"], "exitYear");
    let mut fed = home.clone().into_active_model();
    fed.food_secure = Set(true);
    fed.update(&app.db).await.expect("update");
    let poor = app.graphql(PROPOSE, input.clone()).await;
    assert_refused(&poor, "BAD_USER_INPUT", "poverty line of 4000.00");
    let mut no_year = input.clone();
    no_year["i"]["exitYear"] = Value::Null;
    let missing = app.graphql(PROPOSE, no_year).await;
    assert_refused(&missing, "BAD_USER_INPUT", "exit year");

    set_income(&app, home.id, 2020, 5_000).await;
    let proposed = app.query(PROPOSE, input).await;
    let p = proposed["propose"]["id"].as_str().expect("id").to_owned();
    assert_eq!(proposed["propose"]["exitYear"], 2020);
    app.query(CHECK, check_vars(&p, 1, true)).await;
    township_notice_over(&app, &p).await;
    // Income corrected downwards before the decision: the decision checks again.
    set_income(&app, home.id, 2020, 3_900).await;
    let refused = app
        .graphql(DECIDE, json!({ "p": p, "v": 2, "ok": true }))
        .await;
    assert_refused(&refused, "BAD_USER_INPUT", "poverty line");
    set_income(&app, home.id, 2020, 5_000).await;
    app.query(DECIDE, json!({ "p": p, "v": 2, "ok": true }))
        .await;

    let h = global_id("Household", home.id);
    let before_exit = days_from_today(-2);
    let card = app
        .query(
            "query($h: ID!, $d: NaiveDate!) { household(id: $h) { status liftedOutYear statusHistory { action fromStatus toStatus year } cardAsOf(date: $d) { status liftedOutYear } } }",
            json!({ "h": h, "d": before_exit }),
        )
        .await;
    assert_eq!(card["household"]["status"], "LIFTED_OUT");
    assert_eq!(card["household"]["liftedOutYear"], 2020);
    assert_eq!(card["household"]["cardAsOf"]["status"], "ENROLLED");
    assert!(card["household"]["cardAsOf"]["liftedOutYear"].is_null());
    // The seeded history comes first; the decision appended the exit.
    assert_eq!(
        card["household"]["statusHistory"]
            .as_array()
            .and_then(|h| h.last()),
        Some(
            &json!({ "action": "LIFTED_OUT", "fromStatus": "ENROLLED", "toStatus": "LIFTED_OUT", "year": 2020 })
        )
    );
    assert_eq!(
        app.audit_actions("Household", home.id).await,
        ["household.lifted_out"]
    );
}

async fn an_exit_year_before_the_enrolment_year_is_refused(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let homes = households_of_first_village(&app).await;
    let home = set_status(&app, homes[0].id, HouseholdStatus::Enrolled).await;
    let mut late = home.into_active_model();
    late.enrolled_year = Set(Some(2021));
    late.created_at = Set(Utc::now() - Duration::days(30));
    let home = late.update(&app.db).await.expect("update");
    // Everything else an exit in 2020 needs is in place.
    set_income(&app, home.id, 2020, 5_000).await;
    let early = app
        .graphql(PROPOSE, propose_input(home.id, "EXIT", Some(2020), -10, -1))
        .await;
    assert_refused(
        &early,
        "BAD_USER_INPUT",
        "before the household was enrolled, in 2021",
    );
    assert_eq!(early["errors"][0]["extensions"]["field"], "exitYear");
}

/// The seed's poverty lines end in 2020: an exit of a later year waits for the
/// county office (or the province) to set that year's line, is measured
/// against the line as last set, and every setting is audited.
/// A province may raise the line: a household identified under the
/// provincial standard exits only above it; one of the national standard, on
/// the same income, exits above the national line. The provincial line is
/// never set below the national one, and only by those who set lines.
async fn a_household_of_the_provincial_standard_exits_against_the_province_s_line(
    backend: Backend,
) {
    const SET_LINE: &str = "mutation($p: String!, $y: Int!, $a: Money!) { setProvincialPovertyLine(provinceCode: $p, year: $y, annual: $a) { provinceCode year annual } }";
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let homes = households_of_first_village(&app).await;
    let province = first_region(&app.db, RegionLevel::County).await.code[..2].to_owned();
    let mut exits = Vec::new();
    for (home, standard) in [
        (&homes[0], IdentificationStandard::Provincial),
        (&homes[1], IdentificationStandard::National),
    ] {
        let home = set_status(&app, home.id, HouseholdStatus::Enrolled).await;
        let mut filed = home.into_active_model();
        filed.created_at = Set(Utc::now() - Duration::days(30));
        filed.standard = Set(standard);
        let home = filed.update(&app.db).await.expect("update");
        set_income(&app, home.id, 2020, 4_500).await;
        exits.push(propose_input(home.id, "EXIT", Some(2020), -10, -1));
    }

    let line = json!({ "p": province, "y": 2020, "a": "5000" });
    let (_, cadre) = app.user_for(Role::VillageCadre).await;
    let by_cadre = app.graphql_as(Some(&cadre), SET_LINE, line.clone()).await;
    assert_eq!(TestApp::error_codes(&by_cadre), ["FORBIDDEN"]);
    for (bad, field) in [
        (json!({ "p": province, "y": 2020, "a": "3999" }), "annual"),
        (json!({ "p": "5", "y": 2020, "a": "5000" }), "provinceCode"),
    ] {
        let refused = app.graphql(SET_LINE, bad).await;
        assert_eq!(
            refused["errors"][0]["extensions"]["field"], field,
            "{refused}"
        );
    }
    let set = app.query(SET_LINE, line).await;
    assert_eq!(
        set["setProvincialPovertyLine"],
        json!({ "provinceCode": province, "year": 2020, "annual": "5000.00" })
    );
    let entry = 2020 + 10_000 * province.parse::<i64>().expect("digits");
    assert_eq!(
        app.audit_actions("ProvincialPovertyLine", entry).await,
        ["provincialPovertyLine.set"]
    );
    let public = app
        .graphql_as(
            None,
            "{ provincialPovertyLines { provinceCode year annual } }",
            json!({}),
        )
        .await;
    assert_eq!(
        public["data"]["provincialPovertyLines"],
        json!([{ "provinceCode": province, "year": 2020, "annual": "5000.00" }])
    );

    let refused = app.graphql(PROPOSE, exits[0].clone()).await;
    assert_refused(
        &refused,
        "BAD_USER_INPUT",
        "provincial poverty line of 5000.00",
    );
    let national = app.graphql(PROPOSE, exits[1].clone()).await;
    assert!(national.get("errors").is_none(), "{national}");
}

async fn an_exit_after_2020_is_measured_against_the_line_the_county_sets(backend: Backend) {
    const SET_LINE: &str =
        "mutation($y: Int!, $a: Money!) { setPovertyLine(year: $y, annual: $a) { year annual } }";
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let homes = households_of_first_village(&app).await;
    let home = set_status(&app, homes[0].id, HouseholdStatus::Enrolled).await;
    let mut filed = home.into_active_model();
    filed.created_at = Set(Utc::now() - Duration::days(30));
    let home = filed.update(&app.db).await.expect("update");
    set_income(&app, home.id, 2021, 5_000).await;
    let input = propose_input(home.id, "EXIT", Some(2021), -10, -1);
    assert_refused(
        &app.graphql(PROPOSE, input.clone()).await,
        "BAD_USER_INPUT",
        "there is no poverty line for 2021",
    );

    let (_, cadre) = app.user_for(Role::VillageCadre).await;
    let line = json!({ "y": 2021, "a": "5200" });
    let by_cadre = app.graphql_as(Some(&cadre), SET_LINE, line.clone()).await;
    assert_eq!(TestApp::error_codes(&by_cadre), ["FORBIDDEN"]);
    let anonymous = app.graphql_as(None, SET_LINE, line.clone()).await;
    assert_eq!(TestApp::error_codes(&anonymous), ["UNAUTHENTICATED"]);
    for (bad, field) in [
        (json!({ "y": 2021, "a": "0" }), "annual"),
        (json!({ "y": 2021, "a": "-4100" }), "annual"),
        (json!({ "y": 2012, "a": "4100" }), "year"),
    ] {
        let refused = app.graphql(SET_LINE, bad).await;
        assert_eq!(TestApp::error_codes(&refused), ["BAD_USER_INPUT"]);
        assert_eq!(refused["errors"][0]["extensions"]["field"], field);
    }
    assert_eq!(
        app.audit_actions("PovertyLine", 2021).await,
        Vec::<String>::new()
    );

    let set = app.query(SET_LINE, line).await;
    assert_eq!(
        set["setPovertyLine"],
        json!({ "year": 2021, "annual": "5200.00" })
    );
    assert_refused(
        &app.graphql(PROPOSE, input.clone()).await,
        "BAD_USER_INPUT",
        "not above that year's poverty line of 5200.00",
    );
    // Set again, lower: the line replaced, not added beside the first.
    app.query(SET_LINE, json!({ "y": 2021, "a": "4100" })).await;
    let proposed = app.query(PROPOSE, input).await;
    assert_eq!(proposed["propose"]["exitYear"], 2021);
    let lines = app
        .query("{ povertyLines { year annual } }", json!({}))
        .await;
    let lines = lines["povertyLines"].as_array().expect("lines");
    assert_eq!(
        lines.last(),
        Some(&json!({ "year": 2021, "annual": "4100.00" }))
    );
    assert_eq!(lines.iter().filter(|l| l["year"] == 2021).count(), 1);

    let trail = app
        .query(
            "{ auditEntries(first: 10, filter: { entityType: \"PovertyLine\", entityId: 2021 }) { nodes { action before after } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        trail["auditEntries"]["nodes"],
        json!([
            { "action": "povertyLine.set", "before": { "year": 2021, "annual": "5200.00" }, "after": { "year": 2021, "annual": "4100.00" } },
            { "action": "povertyLine.set", "before": null, "after": { "year": 2021, "annual": "5200.00" } },
        ])
    );
}

/// Anyone reads the notices without a token: the head named in full (so that
/// neighbours know whom it is about), the village, the appraisal and the
/// reason, and nothing else personal: no other member, ID number, phone,
/// address or health.
async fn public_notices_name_the_head_and_nothing_personal(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let homes = households_of_first_village(&app).await;
    let home = set_status(&app, homes[0].id, HouseholdStatus::NotPoor).await;
    let (_, cadre) = app.user_for(Role::VillageCadre).await;
    let proposed = app
        .query_as(
            Some(&cadre),
            PROPOSE,
            propose_input(home.id, "IDENTIFICATION", None, 0, 7),
        )
        .await;
    let p = proposed["propose"]["id"].as_str().expect("id").to_owned();

    let body = app
        .graphql_as(
            None,
            "{ publicNotices(first: 20) { totalCount nodes { id proposalId kind stage villageName townshipName headName reason noticeLevel noticeStartsOn noticeEndsOn noticeOpen announcedOn appraisal { heldOn attendance votesFor votesAgainst } } } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let notices = &body["data"]["publicNotices"];
    assert_eq!(notices["totalCount"], 1);
    let notice = &notices["nodes"][0];
    assert_eq!(notice["proposalId"], p.as_str());
    assert_eq!(notice["stage"], "NOTICE");
    assert_eq!(notice["noticeOpen"], true);
    assert!(notice["announcedOn"].is_null());
    assert_eq!(notice["reason"], "家庭人均纯收入情况经村民代表评议");
    let village = first_region(&app.db, RegionLevel::Village).await;
    assert_eq!(notice["villageName"], village.name.as_str());
    let members = member::Entity::find()
        .filter(member::Column::HouseholdId.eq(home.id))
        .all(&app.db)
        .await
        .expect("members");
    let head = members
        .iter()
        .find(|m| m.relation == Relation::Head)
        .expect("a head");
    assert_eq!(notice["headName"], head.name.as_str());
    assert_eq!(notice["noticeLevel"], "VILLAGE");
    let township = region::Entity::find_by_id(village.parent_id.expect("a township"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("the township");
    assert_eq!(notice["townshipName"], township.name.as_str());
    assert_eq!(
        notice["appraisal"],
        json!({ "heldOn": days_from_today(-1), "attendance": 31, "votesFor": 27, "votesAgainst": 2 })
    );
    let text = body.to_string();
    for person in &members {
        if person.relation != Relation::Head {
            assert!(
                !text.contains(&person.name),
                "{} shown: {text}",
                person.name
            );
        }
        assert!(!text.contains(&person.id_number), "an ID number shown");
    }
    if let Some(phone) = &home.phone {
        assert!(!text.contains(phone), "the phone shown");
    }
    assert!(!text.contains(&home.address), "the address shown");
    assert!(!text.contains("health") && !text.contains("HEALTHY"));

    // The notice is a node for anyone while it is up; the proposal behind it is not.
    let fetched = app
        .graphql_as(
            None,
            "query($n: ID!, $p: ID!) { node(id: $n) { id ... on PublicNotice { proposalId headName } } nodes(ids: [$n, $p]) { id } }",
            json!({ "n": notice["id"], "p": p }),
        )
        .await;
    assert!(fetched.get("errors").is_none(), "{fetched}");
    assert_eq!(
        fetched["data"]["node"],
        json!({ "id": notice["id"], "proposalId": p, "headName": head.name })
    );
    assert_eq!(
        fetched["data"]["nodes"],
        json!([{ "id": notice["id"] }, null])
    );
    // Withdrawn, it leaves the boards, and its ID finds nothing any more.
    let withdrawn = app
        .query_as(
            Some(&cadre),
            "mutation($p: ID!, $v: Int!) { withdrawProposal(proposalId: $p, version: $v, reason: \"申请有误\") { stage } }",
            json!({ "p": p, "v": proposed["propose"]["version"] }),
        )
        .await;
    assert_eq!(withdrawn["withdrawProposal"]["stage"], "WITHDRAWN");
    let gone = app
        .graphql_as(
            None,
            "query($n: ID!) { node(id: $n) { id } }",
            json!({ "n": notice["id"] }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&gone), ["NOT_FOUND"]);

    // Personal fields are not even in the type.
    let probe = app
        .graphql_as(
            None,
            "{ publicNotices { nodes { household { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(TestApp::error_codes(&probe), ["GRAPHQL_VALIDATION_FAILED"]);
    let proposals = app
        .graphql_as(None, "{ proposals { totalCount } }", json!({}))
        .await;
    assert_eq!(TestApp::error_codes(&proposals), ["UNAUTHENTICATED"]);
}

/// Monitoring: a category must fit the status; the risk is eliminated only
/// after six months, with a measure under way, labour and two years above the line.
async fn monitoring_ends_only_when_the_risk_is_eliminated(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let homes = households_of_first_village(&app).await;
    let (_, cadre) = app.user_for(Role::VillageCadre).await;
    let not_poor = set_status(&app, homes[1].id, HouseholdStatus::NotPoor).await;
    let monitor = |id: i64, version: i32, category: &str, started: i64| {
        json!({ "i": {
            "householdId": global_id("Household", id), "version": version, "category": category,
            "risks": ["ILLNESS", "UNSTABLE_EMPLOYMENT"], "foundBy": "CADRE_VISIT",
            "startedOn": days_from_today(started), "reason": "户主患病，务工中断",
        }})
    };
    let wrong = app
        .graphql_as(
            Some(&cadre),
            MONITOR,
            monitor(not_poor.id, not_poor.version, "UNSTABLE", 0),
        )
        .await;
    assert_refused(&wrong, "BAD_USER_INPUT", "NOT_POOR");
    let mut twice = monitor(not_poor.id, not_poor.version, "MARGINAL", 0);
    twice["i"]["risks"] = json!(["ILLNESS", "ILLNESS"]);
    let twice = app.graphql_as(Some(&cadre), MONITOR, twice).await;
    assert_refused(&twice, "BAD_USER_INPUT", "once");
    let future = app
        .graphql_as(
            Some(&cadre),
            MONITOR,
            monitor(not_poor.id, not_poor.version, "MARGINAL", 1),
        )
        .await;
    assert_refused(&future, "BAD_USER_INPUT", "future");

    let home = set_status(&app, homes[0].id, HouseholdStatus::LiftedOut).await;
    let started = app
        .query_as(
            Some(&cadre),
            MONITOR,
            monitor(home.id, home.version, "UNSTABLE", -30),
        )
        .await;
    let case = &started["startMonitoring"];
    assert_eq!(case["category"], "UNSTABLE");
    assert_eq!(case["risks"], json!(["ILLNESS", "UNSTABLE_EMPLOYMENT"]));
    assert_eq!(case["household"]["monitoring"], "UNSTABLE");
    let version = i32::try_from(case["household"]["version"].as_i64().expect("v")).expect("v");
    let again = app
        .graphql_as(
            Some(&cadre),
            MONITOR,
            monitor(home.id, version, "SUDDEN_DIFFICULTY", 0),
        )
        .await;
    assert_refused(&again, "BAD_USER_INPUT", "already monitored");

    let h = global_id("Household", home.id);
    let eliminate = || app.graphql_as(Some(&cadre), ELIMINATE, json!({ "h": h, "v": version }));
    assert_refused(&eliminate().await, "BAD_USER_INPUT", "after 6 months");
    // Seven months pass.
    let open_case = monitoring_case::Entity::find()
        .filter(monitoring_case::Column::HouseholdId.eq(home.id))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a case");
    let mut aged = open_case.clone().into_active_model();
    aged.started_on = Set(api::domain::calendar::today()
        .checked_sub_months(Months::new(7))
        .expect("a date"));
    aged.update(&app.db).await.expect("age the case");
    assert_refused(
        &eliminate().await,
        "BAD_USER_INPUT",
        "no assistance measure",
    );
    let now = Utc::now();
    measure::ActiveModel {
        household_id: Set(home.id),
        category: Set(MeasureCategory::Employment),
        task: Set("公益岗位就业".into()),
        standard: Set("月收入不低于1500元".into()),
        responsible: Set("王帮扶".into()),
        deadline: Set(api::domain::calendar::today() + Duration::days(60)),
        funds_fen: Set(0),
        status: Set(MeasureStatus::InProgress),
        completed_on: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("insert a measure");
    member::Entity::update_many()
        .col_expr(
            member::Column::LabourAbility,
            sea_orm::sea_query::Expr::value(LabourAbility::Lost),
        )
        .filter(member::Column::HouseholdId.eq(home.id))
        .exec(&app.db)
        .await
        .expect("no labour");
    assert_refused(
        &eliminate().await,
        "BAD_USER_INPUT",
        "no member able to work",
    );
    member::Entity::update_many()
        .col_expr(
            member::Column::LabourAbility,
            sea_orm::sea_query::Expr::value(LabourAbility::Ordinary),
        )
        .filter(member::Column::HouseholdId.eq(home.id))
        .filter(member::Column::Relation.eq(Relation::Head))
        .exec(&app.db)
        .await
        .expect("labour again");
    let year = api::domain::calendar::today().year();
    set_income(&app, home.id, year - 1, 8_000).await;
    let no_current = app
        .graphql_as(Some(&cadre), ELIMINATE, json!({ "h": h, "v": version }))
        .await;
    assert_refused(
        &no_current,
        "BAD_USER_INPUT",
        &format!("no income recorded for {}", year - 2),
    );
    set_income(&app, home.id, year, 6_000).await;
    let lines = "mutation($y: Int!, $a: Money!) { setMonitoringLine(provinceCode: \"52\", year: $y, annual: $a) { provinceCode year annual } }";
    for (y, annual) in [(year - 1, "6900"), (year, "7200")] {
        let set = app.query(lines, json!({ "y": y, "a": annual })).await;
        assert_eq!(set["setMonitoringLine"]["annual"], format!("{annual}.00"));
    }
    let by_cadre = app
        .graphql_as(Some(&cadre), lines, json!({ "y": year, "a": "1" }))
        .await;
    assert_eq!(TestApp::error_codes(&by_cadre), ["FORBIDDEN"]);
    assert_refused(
        &eliminate().await,
        "BAD_USER_INPUT",
        "monitoring line of 7200.00",
    );
    set_income(&app, home.id, year, 9_000).await;
    let eliminated = app
        .query_as(Some(&cadre), ELIMINATE, json!({ "h": h, "v": version }))
        .await;
    let closed = &eliminated["eliminateRisk"];
    assert_eq!(closed["eliminatedOn"], days_from_today(0));
    assert!(closed["household"]["monitoring"].is_null());

    let card = app.query(HISTORY, json!({ "h": h })).await;
    let history: Vec<(&str, &Value, &Value)> = card["household"]["statusHistory"]
        .as_array()
        .expect("history")
        .iter()
        .map(|r| {
            (
                r["action"].as_str().expect("action"),
                &r["fromMonitoring"],
                &r["toMonitoring"],
            )
        })
        .collect();
    // The seeded history comes first; monitoring appended its start and end.
    assert_eq!(
        history[history.len().saturating_sub(2)..],
        [
            ("MONITORING_STARTED", &Value::Null, &json!("UNSTABLE")),
            ("RISK_ELIMINATED", &json!("UNSTABLE"), &Value::Null),
        ]
    );
    assert_eq!(
        app.audit_actions("MonitoringCase", open_case.id).await,
        ["monitoringCase.eliminate", "monitoringCase.create"]
    );
    assert_eq!(
        app.audit_actions("Household", home.id).await,
        ["household.risk_eliminated", "household.monitoring_started"]
    );
    let listed = app
        .query_as(
            Some(&cadre),
            "{ monitoringLines(provinceCode: \"52\") { year annual } }",
            json!({}),
        )
        .await;
    assert!(
        listed["monitoringLines"]
            .as_array()
            .expect("lines")
            .iter()
            .any(|l| l["year"] == year && l["annual"] == "7200.00")
    );
}

/// An edit made from a stale read is refused with the record as it is now.
async fn a_stale_version_is_a_conflict(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let homes = households_of_first_village(&app).await;
    let home = set_status(&app, homes[0].id, HouseholdStatus::LiftedOut).await;
    let h = global_id("Household", home.id);
    let returned = app
        .query(RETURN, json!({ "h": h, "v": home.version }))
        .await;
    assert_eq!(returned["returnToPoverty"]["status"], "RETURNED");
    let stale = app
        .graphql(REMOVE, json!({ "h": h, "v": home.version }))
        .await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"], "{stale}");
    assert_eq!(
        stale["errors"][0]["extensions"]["current"]["status"],
        "RETURNED"
    );
    let (_, village) = app.user_for(Role::VillageCadre).await;
    let outside = household::Entity::find()
        .filter(household::Column::VillageId.ne(home.village_id))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household elsewhere");
    let unreachable = app
        .graphql_as(
            Some(&village),
            PROPOSE,
            propose_input(outside.id, "IDENTIFICATION", None, 0, 7),
        )
        .await;
    assert_eq!(TestApp::error_codes(&unreachable), ["NOT_FOUND"]);
}

/// A notice is up at least five days, its first and last included, for a
/// household's proposal and a project alike; one entered after its first day
/// was posted on paper first, and is accepted only with that paper's evidence,
/// marked as such.
async fn a_notice_entered_late_needs_its_paper_evidence(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let homes = households_of_first_village(&app).await;
    let home = set_status(&app, homes[0].id, HouseholdStatus::NotPoor).await;
    const PROPOSED: &str = "mutation($i: ProposeInput!) { propose(input: $i) { stage noticeBackdated paperNotice { postedBy postedAt evidence } } }";

    let short = propose_input(home.id, "IDENTIFICATION", None, 0, 3);
    let refused = app.graphql(PROPOSED, short).await;
    assert_refused(&refused, "BAD_USER_INPUT", "at least 5 days");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "noticeEndsOn");

    let mut unproven = propose_input(home.id, "IDENTIFICATION", None, -10, -1);
    unproven["i"]["paperNotice"] = Value::Null;
    let refused = app.graphql(PROPOSED, unproven.clone()).await;
    assert_refused(&refused, "BAD_USER_INPUT", "posted on paper");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "paperNotice");
    unproven["i"]["paperNotice"] =
        json!({ "postedBy": " ", "postedAt": "村务公开栏", "evidence": "照片" });
    let refused = app.graphql(PROPOSED, unproven).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["field"],
        "paperNotice.postedBy"
    );

    let paper = app
        .query(
            PROPOSED,
            propose_input(home.id, "IDENTIFICATION", None, -10, -1),
        )
        .await;
    assert_eq!(paper["propose"]["noticeBackdated"], true);
    assert_eq!(
        paper["propose"]["paperNotice"],
        json!({ "postedBy": "村民委员会", "postedAt": "村务公开栏", "evidence": "公示照片.jpg" })
    );
    let other = set_status(&app, homes[1].id, HouseholdStatus::NotPoor).await;
    let today = app
        .query(
            PROPOSED,
            propose_input(other.id, "IDENTIFICATION", None, 0, 4),
        )
        .await;
    assert_eq!(today["propose"]["noticeBackdated"], false);
    assert!(today["propose"]["paperNotice"].is_null());

    // A project's notice: the same five days, the same paper.
    let project = app
        .query(
            "mutation($i: CreateProjectInput!) { createProject(input: $i) { id } }",
            json!({ "i": {
                "name": "产业发展养牛项目", "kind": "INDUSTRY", "year": 2026,
                "villageIds": [global_id("Village", home.village_id)], "implementer": "县农业农村局",
                "budget": "500000", "plannedStart": "2026-03-01", "plannedEnd": "2026-10-31",
                "performanceTargets": "带动贫困户30户每户年增收2000元",
                "benefitMechanism": "贫困户务工、入股分红，收益按户公示",
            } }),
        )
        .await;
    let id = project["createProject"]["id"].clone();
    const NOTICE: &str = "mutation($id: ID!, $s: NaiveDate!, $e: NaiveDate!, $p: PaperNoticeInput) { publishProjectNotice(id: $id, version: 1, startsOn: $s, endsOn: $e, paperNotice: $p) { paperNotice { postedAt } } }";
    let short = json!({ "id": id, "s": days_from_today(0), "e": days_from_today(3) });
    let refused = app.graphql(NOTICE, short).await;
    assert_refused(&refused, "BAD_USER_INPUT", "at least 5 days");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "endsOn");
    // Entered into the library a month ago, noticed on paper since.
    let raw = api::graphql::relay::decode_id(
        &async_graphql::ID(id.as_str().expect("id").to_owned()),
        "id",
    )
    .expect("a project ID")
    .1;
    project_stage_change::Entity::update_many()
        .col_expr(
            project_stage_change::Column::EffectiveOn,
            sea_orm::sea_query::Expr::value(api::domain::calendar::today() - Duration::days(30)),
        )
        .filter(project_stage_change::Column::ProjectId.eq(raw))
        .exec(&app.db)
        .await
        .expect("backdate the entry");
    let late = json!({ "id": id, "s": days_from_today(-6), "e": days_from_today(-2) });
    let refused = app.graphql(NOTICE, late.clone()).await;
    assert_refused(&refused, "BAD_USER_INPUT", "posted on paper");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "paperNotice");
    let mut proven = late;
    proven["p"] =
        json!({ "postedBy": "村民委员会", "postedAt": "村务公开栏", "evidence": "公示照片.jpg" });
    let published = app.query(NOTICE, proven).await;
    assert_eq!(
        published["publishProjectNotice"]["paperNotice"]["postedAt"],
        "村务公开栏"
    );
}

const NOTICES: &str = "{ publicNotices(first: 20) { nodes { proposalId stage noticeLevel noticeStartsOn noticeEndsOn noticeOpen announcedOn headName } } }";

/// The public notice of proposal `p`, as anyone reads it.
async fn public_notice(app: &TestApp, p: &str) -> Value {
    let notices = app.query_as(None, NOTICES, json!({})).await;
    notices["publicNotices"]["nodes"]
        .as_array()
        .expect("notices")
        .iter()
        .find(|n| n["proposalId"] == p)
        .cloned()
        .unwrap_or(Value::Null)
}

/// Application or discovery, the village's democratic appraisal, the notice
/// in the village, the township's check and its notice, objections during
/// either, the county's decision and the announcement: each step in order,
/// with who did it and its evidence, and none skipped.
async fn both_notices_run_before_the_county_decides(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let homes = households_of_first_village(&app).await;
    let home = set_status(&app, homes[0].id, HouseholdStatus::NotPoor).await;
    let (_, cadre) = app.user_for(Role::VillageCadre).await;
    let (_, township) = app.user_for(Role::TownshipOfficer).await;

    // The appraisal must have passed it, before the notice, with counts that add up.
    let mut input = propose_input(home.id, "IDENTIFICATION", None, -12, -8);
    input["i"]["origin"] = json!("DISCOVERY");
    for (field, value, words, at) in [
        (
            "votesFor",
            json!(15),
            "not a majority",
            "appraisal.votesFor",
        ),
        (
            "votesAgainst",
            json!(10),
            "more votes than people",
            "appraisal.votesFor",
        ),
        (
            "heldOn",
            json!(days_from_today(-11)),
            "comes before the notice",
            "appraisal.heldOn",
        ),
        (
            "heldOn",
            json!(days_from_today(-80)),
            "within 60 days",
            "appraisal.heldOn",
        ),
        ("attendance", json!(0), "between 1", "appraisal.attendance"),
        (
            "minutesReference",
            json!(" "),
            "",
            "appraisal.minutesReference",
        ),
        (
            "minutesReference",
            json!("会议记录 520102199001011234"),
            "ID number",
            "appraisal.minutesReference",
        ),
    ] {
        let mut wrong = input.clone();
        wrong["i"]["appraisal"][field] = value;
        let refused = app.graphql_as(Some(&cadre), PROPOSE, wrong).await;
        assert_refused(&refused, "BAD_USER_INPUT", words);
        assert_eq!(refused["errors"][0]["extensions"]["field"], at, "{refused}");
    }
    let proposed = app.query_as(Some(&cadre), PROPOSE, input).await;
    let p = proposed["propose"]["id"].as_str().expect("id").to_owned();
    let shown = app
        .query(
            "query($p: ID!) { node(id: $p) { ... on Proposal { origin appraisal { heldOn attendance votesFor votesAgainst minutesReference } } } }",
            json!({ "p": p }),
        )
        .await;
    assert_eq!(
        shown["node"],
        json!({ "origin": "DISCOVERY", "appraisal": { "heldOn": days_from_today(-13),
            "attendance": 31, "votesFor": 27, "votesAgainst": 2,
            "minutesReference": "村民代表会议记录第3号" } })
    );

    // A pass is noticed in the township, after the village's notice; a rejection is not.
    let bare = app
        .graphql_as(
            Some(&township),
            CHECK,
            json!({ "p": p, "v": 1, "ok": true }),
        )
        .await;
    assert_refused(&bare, "BAD_USER_INPUT", "noticed in the township");
    assert_eq!(bare["errors"][0]["extensions"]["field"], "townshipNotice");
    let mut rejected_with_notice = check_vars(&p, 1, true);
    rejected_with_notice["ok"] = json!(false);
    let refused = app
        .graphql_as(Some(&township), CHECK, rejected_with_notice)
        .await;
    assert_refused(&refused, "BAD_USER_INPUT", "not noticed again");
    let mut overlapping = check_vars(&p, 1, true);
    overlapping["n"] = json!({ "startsOn": days_from_today(-8), "endsOn": days_from_today(-4),
        "paperNotice": { "postedBy": "乡政府", "postedAt": "乡政务公开栏", "evidence": "乡公示照片.jpg" } });
    let refused = app.graphql_as(Some(&township), CHECK, overlapping).await;
    assert_refused(&refused, "BAD_USER_INPUT", "follows the village's");
    let checked = app
        .query_as(Some(&township), CHECK, check_vars(&p, 1, true))
        .await["checkProposal"]
        .clone();
    assert_eq!(checked["stage"], "TOWNSHIP_CHECKED");
    assert_eq!(checked["townshipNoticeStartsOn"], days_from_today(0));
    assert_eq!(checked["townshipNoticeEndsOn"], days_from_today(4));
    let notice = public_notice(&app, &p).await;
    assert_eq!(notice["noticeLevel"], "TOWNSHIP", "{notice}");
    assert_eq!(notice["noticeStartsOn"], days_from_today(0));
    assert_eq!(notice["noticeOpen"], true);

    // The county waits for the township's notice, and for what it brings.
    let early = app
        .graphql(DECIDE, json!({ "p": p, "v": 2, "ok": true }))
        .await;
    assert_refused(&early, "BAD_USER_INPUT", "the public notice runs until");
    let objection = app
        .query_as(
            Some(&township),
            "mutation($p: ID!) { recordObjection(input: { proposalId: $p, content: \"该户子女有稳定工作\" }) { id } }",
            json!({ "p": p }),
        )
        .await;
    let o = objection["recordObjection"]["id"].clone();
    township_notice_over(&app, &p).await;
    let open = app
        .graphql(DECIDE, json!({ "p": p, "v": 2, "ok": true }))
        .await;
    assert_refused(&open, "BAD_USER_INPUT", "not resolved");
    app.query_as(
        Some(&township),
        "mutation($o: ID!) { resolveObjection(objectionId: $o, version: 1, upheld: false, resolution: \"经核查，子女已分户\") { upheld } }",
        json!({ "o": o }),
    )
    .await;
    let decided = app
        .query(DECIDE, json!({ "p": p, "v": 2, "ok": true }))
        .await;
    assert_eq!(decided["decideProposal"]["stage"], "APPROVED");
    let announced = public_notice(&app, &p).await;
    assert_eq!(announced["stage"], "APPROVED");
    assert!(announced["noticeLevel"].is_null(), "{announced}");
    assert_eq!(announced["announcedOn"], days_from_today(0));
    let status = household::Entity::find_by_id(home.id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("household")
        .status;
    assert_eq!(status, HouseholdStatus::Enrolled);
    assert_eq!(
        app.audit_actions("Proposal", raw_id(&json!(p))).await,
        ["proposal.approve", "proposal.check", "proposal.create"]
    );
}

/// A proposal the township passed before its notice was kept has no second
/// notice: the county decides it on the village's, and no objection is taken.
async fn a_proposal_checked_before_the_second_notice_is_decided_as_before(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let homes = households_of_first_village(&app).await;
    let home = set_status(&app, homes[0].id, HouseholdStatus::NotPoor).await;
    let proposed = app
        .query(
            PROPOSE,
            propose_input(home.id, "IDENTIFICATION", None, -10, -5),
        )
        .await;
    let p = proposed["propose"]["id"].as_str().expect("id").to_owned();
    let row = proposal::Entity::find_by_id(raw_id(&json!(p)))
        .one(&app.db)
        .await
        .expect("query")
        .expect("proposal");
    let mut earlier = row.into_active_model();
    earlier.stage = Set(entity::enums::ProposalStage::TownshipChecked);
    earlier.origin = Set(None);
    earlier.appraised_on = Set(None);
    earlier.version = Set(2);
    earlier.update(&app.db).await.expect("checked as before");

    let objection = app
        .graphql(
            "mutation($p: ID!) { recordObjection(input: { proposalId: $p, content: \"不实\" }) { id } }",
            json!({ "p": p }),
        )
        .await;
    assert_refused(&objection, "BAD_USER_INPUT", "not under notice");
    let shown = app
        .query(
            "query($p: ID!) { node(id: $p) { ... on Proposal { origin appraisal { heldOn } noticeOpen townshipNoticeStartsOn } } }",
            json!({ "p": p }),
        )
        .await;
    assert_eq!(
        shown["node"],
        json!({ "origin": null, "appraisal": null, "noticeOpen": false, "townshipNoticeStartsOn": null })
    );
    let decided = app
        .query(DECIDE, json!({ "p": p, "v": 2, "ok": true }))
        .await;
    assert_eq!(decided["decideProposal"]["stage"], "APPROVED");
}
