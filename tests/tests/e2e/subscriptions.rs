//! Live alerts over graphql-ws, with a real websocket client: who hears of
//! what (row scope, never one's own act), on every replica, once; and the
//! sockets refused (no token, a bad one, a page of another site) or ended (an
//! expired token, a closed session).

use std::time::Duration;

use api::config::Background;
use entity::enums::{HouseholdStatus, RegionLevel, Role};
use entity::{audit_entry, household, region};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tests::ws::WsClient;
use tests::{Backend, TestApp, create_user, first_region, global_id, on_both_backends, token_of};

on_both_backends!(
    alerts_reach_whoever_reads_the_household_on_every_replica_and_no_one_else,
    an_overdue_measure_is_announced_once_whichever_replicas_sweep,
    proposals_objections_and_complaints_reach_those_who_handle_them,
    a_subscription_ends_with_its_token_or_its_session,
    a_socket_without_a_valid_token_or_from_a_page_elsewhere_is_refused,
    the_socket_carries_a_few_subscriptions_and_nothing_else,
);

const ALERTS: &str = "subscription { alerts { kind summary subjectId householdId cursor } }";
/// Long enough for several polls of the audit trail, on a slow machine.
const WAIT: Duration = Duration::from_secs(20);

/// A server whose replicas read the trail every 100 ms, and sweep for
/// overdue measures every 200 ms when `sweep`; a county of 60 households.
async fn live_app(backend: &Backend, sweep: bool) -> TestApp {
    let background = Background {
        webhook_poll_ms: 3_600_000,
        tally_compact_ms: 3_600_000,
        audit_head_log_ms: 3_600_000,
        alert_poll_ms: 100,
        overdue_sweep_ms: if sweep { 200 } else { 3_600_000 },
        ..Background::default()
    };
    let app = TestApp::spawn_with_background(backend, background).await;
    app.seed(60, 7).await;
    app
}

/// The first village's first household and another village of its township
/// with its first household, both made not poor (see [`make_not_poor`]).
async fn two_households(app: &TestApp) -> ((region::Model, i64), (region::Model, i64)) {
    let first = first_region(&app.db, RegionLevel::Village).await;
    let second = region::Entity::find()
        .filter(region::Column::ParentId.eq(first.parent_id))
        .filter(region::Column::Id.ne(first.id))
        .order_by_asc(region::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a second village in the township");
    let mut homes = Vec::new();
    for village in [&first, &second] {
        let home = household::Entity::find()
            .filter(household::Column::VillageId.eq(village.id))
            .order_by_asc(household::Column::Id)
            .one(&app.db)
            .await
            .expect("query")
            .expect("a household in the village");
        make_not_poor(app, home.id).await;
        homes.push(home.id);
    }
    ((first, homes[0]), (second, homes[1]))
}

/// Makes household `id` not poor and unmonitored, so that it can be taken
/// into monitoring as a marginal household.
async fn make_not_poor(app: &TestApp, id: i64) {
    household::Entity::update_many()
        .col_expr(household::Column::Status, HouseholdStatus::NotPoor.into())
        .col_expr(household::Column::EnrolledYear, Option::<i32>::None.into())
        .col_expr(household::Column::LiftedOutYear, Option::<i32>::None.into())
        .col_expr(
            household::Column::Monitoring,
            Option::<entity::enums::MonitoringCategory>::None.into(),
        )
        .filter(household::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .expect("make the household not poor");
}

/// Takes household `id` into monitoring as `token`'s user.
async fn start_monitoring(app: &TestApp, token: &str, id: i64) -> Value {
    let version = household::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("household")
        .version;
    app.query_as(
        Some(token),
        "mutation($i: StartMonitoringInput!) { startMonitoring(input: $i) { id } }",
        json!({ "i": {
            "householdId": global_id("Household", id), "version": version,
            "category": "MARGINAL", "risks": ["ILLNESS"], "foundBy": "CADRE_VISIT",
            "startedOn": api::domain::calendar::today(), "reason": "户主患病，收入骤减",
        }}),
    )
    .await
}

/// The next alert a client hears, or a failure naming `who`.
async fn alert(client: &mut WsClient, who: &str) -> Value {
    let message = client
        .next(WAIT)
        .await
        .unwrap_or_else(|| panic!("{who} heard nothing"));
    assert_eq!(message["type"], "next", "{who}: {message}");
    assert!(message["payload"]["errors"].is_null(), "{who}: {message}");
    message["payload"]["data"]["alerts"].clone()
}

async fn alerts_reach_whoever_reads_the_household_on_every_replica_and_no_one_else(
    backend: Backend,
) {
    let app = live_app(&backend, false).await;
    let other = app.replica().await;
    let ((first, home), (second, neighbour)) = two_households(&app).await;
    let township = app.token_for(Role::TownshipOfficer).await;
    let cadre = token_of(
        &create_user(
            &app.db,
            "cadre-1",
            Role::VillageCadre,
            Some(first.code.clone()),
            None,
        )
        .await,
    );
    let neighbour_cadre = token_of(
        &create_user(
            &app.db,
            "cadre-2",
            Role::VillageCadre,
            Some(second.code.clone()),
            None,
        )
        .await,
    );

    // Listening on the replica the writes do not go through.
    let mut county = WsClient::connect(other.addr, &app.admin_token).await;
    let mut officer = WsClient::connect(other.addr, &township).await;
    let mut first_cadre = WsClient::connect(other.addr, &cadre).await;
    let mut second_cadre = WsClient::connect(app.addr, &neighbour_cadre).await;
    for client in [
        &mut county,
        &mut officer,
        &mut first_cadre,
        &mut second_cadre,
    ] {
        client.subscribe("1", ALERTS).await;
    }
    // Let the subscriptions settle before the first write.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let case = start_monitoring(&app, &township, home).await;
    let case = case["startMonitoring"]["id"]
        .as_str()
        .expect("a case")
        .to_owned();
    let heard = alert(&mut first_cadre, "the village's cadre").await;
    assert_eq!(heard["kind"], "MONITORING_CASE_OPENED");
    assert_eq!(heard["subjectId"], case.as_str());
    assert_eq!(heard["householdId"], global_id("Household", home).as_str());
    assert_eq!(heard["summary"], "新纳入防返贫监测");
    let heard = alert(&mut county, "the county office").await;
    assert_eq!(heard["subjectId"], case.as_str());
    // The cursor places the alert in the audit trail: the case's creation.
    let sequence = tests::feed_sequence(heard["cursor"].as_str().expect("cursor"));
    let entry = audit_entry::Entity::find_by_id(sequence)
        .one(&app.db)
        .await
        .expect("query")
        .expect("the entry");
    assert_eq!(entry.action, "monitoringCase.create");

    // The neighbouring village's case: its cadre hears of it first, and of
    // nothing before; the officer who acted hears of neither.
    let next = start_monitoring(&app, &app.admin_token, neighbour).await;
    let next = next["startMonitoring"]["id"]
        .as_str()
        .expect("a case")
        .to_owned();
    let heard = alert(&mut second_cadre, "the neighbouring village's cadre").await;
    assert_eq!(heard["subjectId"], next.as_str(), "{heard}");
    let heard = alert(&mut officer, "the township officer").await;
    assert_eq!(
        heard["subjectId"],
        next.as_str(),
        "the officer's own act is no alert: {heard}"
    );
    // Nor does the first village's cadre hear of the other village: the next
    // alert it hears is a later one of its own village.
    let third = household::Entity::find()
        .filter(household::Column::VillageId.eq(first.id))
        .filter(household::Column::Id.ne(home))
        .order_by_asc(household::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a second household");
    make_not_poor(&app, third.id).await;
    let last = start_monitoring(&app, &app.admin_token, third.id).await;
    let last = last["startMonitoring"]["id"]
        .as_str()
        .expect("a case")
        .to_owned();
    let heard = alert(&mut first_cadre, "the village's cadre").await;
    assert_eq!(heard["subjectId"], last.as_str(), "{heard}");
}

async fn an_overdue_measure_is_announced_once_whichever_replicas_sweep(backend: Backend) {
    let app = live_app(&backend, true).await;
    let _second = app.replica().await;
    let third = app.replica().await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let home = household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .order_by_asc(household::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household");
    let cadre = app.token_for(Role::VillageCadre).await;
    let mut listener = WsClient::connect(third.addr, &cadre).await;
    listener
        .subscribe("late", "subscription { alerts(kinds: [MEASURE_OVERDUE]) { kind subjectId householdId summary } }")
        .await;
    let today = api::domain::calendar::today();
    let added = app
        .query_as(
            Some(&cadre),
            "mutation($i: AddMeasureInput!) { addMeasure(input: $i) { id version } }",
            json!({ "i": {
                "householdId": global_id("Household", home.id), "category": "DEVELOP_PRODUCTION",
                "task": "购买基础母牛2头", "standard": "年内出栏1头", "responsible": "王建国",
                "deadline": today - chrono::Days::new(1), "funds": "1000.00",
            }}),
        )
        .await;
    let measure = added["addMeasure"]["id"]
        .as_str()
        .expect("a measure")
        .to_owned();
    let heard = alert(&mut listener, "the cadre").await;
    assert_eq!(heard["kind"], "MEASURE_OVERDUE");
    assert_eq!(heard["subjectId"], measure.as_str());
    assert_eq!(
        heard["householdId"],
        global_id("Household", home.id).as_str()
    );
    // The summary carries the time node, never the measure's free text.
    assert_eq!(
        heard["summary"],
        format!("帮扶措施逾期（时间节点 {}）", today - chrono::Days::new(1)).as_str()
    );

    // Three replicas sweep every 200 ms: the announcement is made once.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let announced = || async {
        audit_entry::Entity::find()
            .filter(audit_entry::Column::Action.eq("measure.overdue"))
            .filter(audit_entry::Column::EntityId.eq(tests::raw_id(&json!(measure))))
            .count(&app.db)
            .await
            .expect("count")
    };
    assert_eq!(announced().await, 1);
    assert!(listener.next(Duration::from_millis(500)).await.is_none());

    // A time node moved, and passed again, is announced again.
    let moved = app
        .query_as(
            Some(&cadre),
            "mutation($i: UpdateMeasureInput!) { updateMeasure(input: $i) { version } }",
            json!({ "i": { "id": measure, "version": added["addMeasure"]["version"],
                           "deadline": today - chrono::Days::new(2) } }),
        )
        .await;
    assert!(moved["updateMeasure"]["version"].is_number());
    let heard = alert(&mut listener, "the cadre").await;
    assert_eq!(heard["subjectId"], measure.as_str());
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(announced().await, 2);
}

async fn a_subscription_ends_with_its_token_or_its_session(backend: Backend) {
    let app = live_app(&backend, false).await;
    let ((_, home), _) = two_households(&app).await;
    let (user, _) = app.user_for(Role::VillageCadre).await;

    // A token that expires in two seconds: the subscription ends then.
    let mut short = tests::test_auth();
    short.access_ttl = Duration::from_secs(2);
    let (expiring, _) =
        api::auth::issue_access_token(&short, &user, None, None, None).expect("a token");
    let mut client = WsClient::connect(app.addr, &expiring).await;
    client.subscribe("1", ALERTS).await;
    let ended = client.next(WAIT).await.expect("an answer");
    assert_eq!(ended["type"], "next", "{ended}");
    assert_eq!(
        ended["payload"]["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    let complete = client.next(WAIT).await.expect("the end");
    assert_eq!(complete, json!({ "type": "complete", "id": "1" }));

    // A session that ends (logout) hears nothing more: its next alert is an end.
    let login = app
        .query(
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken refreshToken } }",
            json!({ "u": user.username, "p": tests::TEST_PASSWORD }),
        )
        .await;
    let access = login["login"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let refresh = login["login"]["refreshToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let mut client = WsClient::connect(app.addr, &access).await;
    client.subscribe("2", ALERTS).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.query_as(
        Some(&access),
        "mutation($r: String!) { logout(refreshToken: $r) }",
        json!({ "r": refresh }),
    )
    .await;
    start_monitoring(&app, &app.admin_token, home).await;
    let ended = client.next(WAIT).await.expect("an answer");
    assert_eq!(
        ended["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{ended}"
    );
    assert!(
        ended["payload"]["data"].is_null(),
        "no alert after the session ended: {ended}"
    );
}

async fn a_socket_without_a_valid_token_or_from_a_page_elsewhere_is_refused(backend: Backend) {
    let app = live_app(&backend, false).await;
    for payload in [
        json!({}),
        json!({ "Authorization": "Bearer not-a-token" }),
        json!({ "Authorization": format!("Basic {}", app.admin_token) }),
    ] {
        let mut client = WsClient::open(app.addr, None).await.expect("open");
        let answer = client.init(payload.clone()).await;
        // graphql-ws closes a refused connection_init; async-graphql with 1002.
        assert_eq!(answer["type"], "close", "{payload}: {answer}");
        assert_eq!(answer["code"], 1002, "{payload}: {answer}");
        assert!(
            answer["reason"]
                .as_str()
                .expect("a reason")
                .contains("token"),
            "{answer}"
        );
    }
    // Without connection_init, a subscription is refused.
    let mut client = WsClient::open(app.addr, None).await.expect("open");
    client.subscribe("1", ALERTS).await;
    let answer = client.next(WAIT).await.expect("an answer");
    assert_eq!(answer["type"], "close", "{answer}");

    // A page of another site may not open one at all; the service's own may.
    let refused = WsClient::open(app.addr, Some("https://evil.example.com")).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403);
        }
        other => panic!(
            "a foreign page's socket was not refused: {:?}",
            other.is_ok()
        ),
    }
    let own = format!("http://{}", app.addr);
    assert!(WsClient::open(app.addr, Some(&own)).await.is_ok());
}

/// The error code of the answer to subscription `id`, which then completes.
async fn refusal(client: &mut WsClient, id: &str) -> String {
    let answer = client.next(WAIT).await.expect("an answer");
    assert_eq!(
        (&answer["type"], &answer["id"]),
        (&json!("next"), &json!(id)),
        "{answer}"
    );
    assert!(answer["payload"]["data"].is_null(), "{answer}");
    let complete = client.next(WAIT).await.expect("the end");
    assert_eq!(complete, json!({ "type": "complete", "id": id }));
    answer["payload"]["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn the_socket_carries_a_few_subscriptions_and_nothing_else(backend: Backend) {
    let app = live_app(&backend, false).await;
    let mut client = WsClient::connect(app.addr, &app.admin_token).await;
    // Queries and mutations go over HTTP, where budgets and timeouts hold.
    client.subscribe("q", "{ me { username } }").await;
    assert_eq!(refusal(&mut client, "q").await, "BAD_REQUEST");
    client
        .subscribe("m", "mutation { logout(refreshToken: \"x\") }")
        .await;
    assert_eq!(refusal(&mut client, "m").await, "BAD_REQUEST");
    // A document over the limits is refused as over HTTP.
    let long = format!(
        "subscription {{ alerts {{ kind {} }} }}",
        "__typename ".repeat(2500)
    );
    client.subscribe("long", &long).await;
    assert_eq!(refusal(&mut client, "long").await, "TOO_MANY_TOKENS");

    for id in 0..api::http::MAX_SUBSCRIPTIONS {
        client.subscribe(&format!("s{id}"), ALERTS).await;
    }
    client.subscribe("one-too-many", ALERTS).await;
    assert_eq!(refusal(&mut client, "one-too-many").await, "BAD_REQUEST");
}

async fn proposals_objections_and_complaints_reach_those_who_handle_them(backend: Backend) {
    let app = live_app(&backend, false).await;
    let ((_, home), _) = two_households(&app).await;
    let township = app.token_for(Role::TownshipOfficer).await;
    let cadre = app.token_for(Role::VillageCadre).await;
    let mut officer = WsClient::connect(app.addr, &township).await;
    let mut village = WsClient::connect(app.addr, &cadre).await;
    officer.subscribe("1", ALERTS).await;
    village.subscribe("1", ALERTS).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // A complaint about a household of the village, assigned by the county:
    // the township handles it, the village's cadre is not told.
    let submitted = app
        .query_as(
            None,
            "mutation($i: SubmitComplaintInput!) { submitComplaint(input: $i) { trackingNumber } }",
            json!({ "i": {
                "subjectKind": "HOUSEHOLD_TREATMENT", "subjectId": global_id("Household", home),
                "content": "评定贫困户时优亲厚友。",
            }}),
        )
        .await;
    let number = submitted["submitComplaint"]["trackingNumber"]
        .as_str()
        .expect("a number");
    let complaint = global_id("Complaint", complaint_id(&app, number).await);
    app.query(
        "mutation($i: AssignComplaintInput!) { assignComplaint(input: $i) { status } }",
        json!({ "i": { "id": complaint, "version": 1, "unit": "县乡村振兴局",
                       "deadline": api::domain::calendar::today() + chrono::Days::new(15) } }),
    )
    .await;
    let heard = alert(&mut officer, "the township officer").await;
    assert_eq!(heard["kind"], "COMPLAINT_ASSIGNED");
    assert!(
        heard["summary"].as_str().expect("summary").contains(number),
        "{heard}"
    );

    // The cadre proposes the household: the township hears of the notice.
    let today = api::domain::calendar::today();
    let proposed = app
        .query_as(
            Some(&cadre),
            "mutation($i: ProposeInput!) { propose(input: $i) { id } }",
            json!({ "i": {
                "householdId": global_id("Household", home), "kind": "IDENTIFICATION",
                "reason": "家庭人均纯收入低于标准，经村民代表评议", "evidence": ["收入核查表.pdf"],
                "origin": "APPLICATION",
                "appraisal": { "heldOn": today - chrono::Days::new(1), "attendance": 31,
                               "votesFor": 27, "votesAgainst": 2, "minutesReference": "村民代表会议记录第3号" },
                "noticeStartsOn": today, "noticeEndsOn": today + chrono::Days::new(6),
            }}),
        )
        .await;
    let proposal = proposed["propose"]["id"]
        .as_str()
        .expect("a proposal")
        .to_owned();
    let heard = alert(&mut officer, "the township officer").await;
    assert_eq!(heard["kind"], "PROPOSAL_IN_NOTICE");
    assert_eq!(heard["subjectId"], proposal.as_str());

    // An objection recorded by the township: the cadre hears of it, and of
    // nothing before it (neither the complaint nor its own proposal).
    let objection = app
        .query_as(
            Some(&township),
            "mutation($p: ID!) { recordObjection(input: { proposalId: $p, content: \"该户有经商收入\" }) { id } }",
            json!({ "p": proposal }),
        )
        .await;
    let heard = alert(&mut village, "the village's cadre").await;
    assert_eq!(heard["kind"], "OBJECTION_RECORDED", "{heard}");
    assert_eq!(heard["subjectId"], objection["recordObjection"]["id"]);
    assert_eq!(heard["householdId"], global_id("Household", home).as_str());
}

/// A complaint's database ID, by its tracking number.
async fn complaint_id(app: &TestApp, number: &str) -> i64 {
    entity::complaint::Entity::find()
        .filter(entity::complaint::Column::TrackingNumber.eq(number))
        .one(&app.db)
        .await
        .expect("query")
        .expect("the complaint")
        .id
}
