//! Two `fupin serve` processes on one PostgreSQL database behave as one
//! service: sessions, budgets, idempotency keys, versions, webhook delivery,
//! the village tally's compaction and live alerts, each checked over HTTP and
//! websockets against both processes at once.
//!
//! PostgreSQL only: the service scales out as stateless replicas on one
//! PostgreSQL server; SQLite is for one process on one machine, and two
//! processes on one SQLite file are not a way it is meant to run. Skipped
//! with a message when `TEST_POSTGRES_URL` is unset.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use api::exchange::delivery::EVENT_ID_HEADER;
use api::seed::SeedOptions;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Datelike;
use entity::enums::{HouseholdStatus, RegionLevel, Role};
use entity::{audit_entry, household, region, village_tally_change, webhook_delivery};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Statement,
};
use serde_json::{Value, json};
use tests::process::{self, Server};
use tests::ws::WsClient;
use tests::{
    Backend, TEST_JWT_SECRET, TEST_PASSWORD, TestApp, TestDatabase, create_user, first_region,
    global_id, household_input, person, token_of,
};

/// What both replicas are started with: they know there are two, so that
/// each allows its half of a budget; auditors may make 20 requests a minute
/// in the whole service, and the county office as many as the tests make; the background work runs every few tens of
/// milliseconds, so that both replicas take part in it within a test; each
/// logs its tally compactions.
const REPLICA_SETTINGS: &[(&str, &str)] = &[
    ("FUPIN_REPLICAS", "2"),
    (
        "FUPIN_BUDGETS",
        "auditor=20/1000000,county_admin=100000/1000000000",
    ),
    ("FUPIN_WEBHOOK_POLL_MS", "20"),
    ("FUPIN_WEBHOOK_RETRY_MS", "100"),
    ("FUPIN_WEBHOOK_MAX_RETRY_MS", "400"),
    ("FUPIN_TALLY_COMPACT_MS", "30"),
    ("FUPIN_ALERT_POLL_MS", "50"),
    ("RUST_LOG", "info,sqlx=warn,api::domain::tally=debug"),
];

/// An auditor's requests a minute in the whole service (see [`REPLICA_SETTINGS`]).
const AUDITOR_REQUESTS: usize = 20;

/// What a replica logs each time it folds changes into the tally.
const FOLDED: &str = "folded changes into the village tally";

/// Long enough for many rounds of background work on a loaded machine.
const WAIT: Duration = Duration::from_secs(30);

/// Two replicas of the service on one seeded PostgreSQL database, and a
/// county administrator's token, which both accept.
struct Service {
    a: Server,
    b: Server,
    db: DatabaseConnection,
    admin: String,
    _database: TestDatabase,
}

impl Service {
    /// A county of `households` households served by two replicas; none
    /// without `TEST_POSTGRES_URL`.
    async fn start(households: u32) -> Option<Service> {
        Self::start_with(households, &[]).await
    }

    /// Like [`start`](Self::start), with `settings` besides (or instead of)
    /// [`REPLICA_SETTINGS`].
    async fn start_with(
        households: u32,
        settings: &'static [(&'static str, &'static str)],
    ) -> Option<Service> {
        let Some(backend) = Backend::postgres() else {
            eprintln!("TEST_POSTGRES_URL is not set: the replicas' tests are skipped");
            return None;
        };
        let database = TestDatabase::migrated(&backend).await;
        let db = api::db::connect(&database.url).await.expect("connect");
        let options = SeedOptions {
            households,
            seed: 7,
            progress: false,
            without_households: false,
        };
        api::seed::run(&db, &options).await.expect("seed");
        let admin = token_of(&create_user(&db, "admin", Role::CountyAdmin, None, None).await);
        let replica = |url: String| {
            tokio::task::spawn_blocking(move || {
                let mut command = process::fupin(env!("CARGO_BIN_EXE_fupin"), &url);
                command
                    .env(
                        "FUPIN_JWT_SECRET",
                        std::str::from_utf8(TEST_JWT_SECRET).expect("text"),
                    )
                    .envs(REPLICA_SETTINGS.iter().chain(settings).copied());
                Server::start(command, false)
            })
        };
        let (a, b) = tokio::join!(replica(database.url.clone()), replica(database.url.clone()));
        Some(Service {
            a: a.expect("replica A"),
            b: b.expect("replica B"),
            db,
            admin,
            _database: database,
        })
    }

    /// Both replicas, by name, for messages.
    fn both(&self) -> [(&'static str, &Server); 2] {
        [("A", &self.a), ("B", &self.b)]
    }

    /// A user of `role` scoped to the region with `region_code` (when the
    /// role needs one), and an access token for them.
    async fn user(&self, username: &str, role: Role, region_code: Option<&str>) -> String {
        let user = create_user(
            &self.db,
            username,
            role,
            region_code.map(str::to_owned),
            None,
        )
        .await;
        token_of(&user)
    }
}

/// What a replica warned of since it began serving, but for the database
/// driver's notes of slow statements (a loaded machine's, not the service's).
fn warnings(server: &Server) -> Vec<String> {
    server
        .logged("WARN")
        .into_iter()
        .filter(|event| {
            !event["target"]
                .as_str()
                .is_some_and(|t| t.starts_with("sqlx"))
        })
        .map(|event| event.to_string())
        .collect()
}

/// The one error code of a response.
fn error_code(body: &Value) -> String {
    let codes = TestApp::error_codes(body);
    assert_eq!(codes.len(), 1, "one error: {body}");
    codes[0].clone()
}

/// Waits for `done`, failing with `what` after [`WAIT`].
async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    mut done: impl FnMut() -> F,
) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("waited {} s for {what}", WAIT.as_secs());
}

const ME: &str = "{ me { username } }";
const LOGIN: &str = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) {
    accessToken refreshToken } }";
const REFRESH: &str =
    "mutation($r: String!) { refresh(refreshToken: $r) { accessToken refreshToken } }";
const LOGOUT: &str = "mutation($r: String!) { logout(refreshToken: $r) }";

/// Signs in on `server`: the access and refresh tokens.
async fn login(server: &Server, username: &str) -> (String, String) {
    let data = server
        .query_as(None, LOGIN, json!({ "u": username, "p": TEST_PASSWORD }))
        .await;
    let token = |name: &str| data["login"][name].as_str().expect("a token").to_owned();
    (token("accessToken"), token("refreshToken"))
}

/// Whose token `token` is, asked of `server`: the username, or the error
/// code (a token refused is answered 401).
async fn me(server: &Server, token: &str) -> Result<String, String> {
    let (status, _, body) = server
        .post_graphql(Some(token), &json!({ "query": ME }))
        .await;
    match body["data"]["me"]["username"].as_str() {
        Some(username) if status == 200 => Ok(username.to_owned()),
        _ => {
            assert_eq!(status, 401, "{body}");
            Err(error_code(&body))
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_opened_on_one_replica_holds_and_ends_on_both() {
    let Some(service) = Service::start(5).await else {
        return;
    };
    let (a, b) = (&service.a, &service.b);
    service.user("clerk", Role::CountyAdmin, None).await;

    let (access, refresh) = login(a, "clerk").await;
    assert_eq!(me(b, &access).await, Ok("clerk".to_owned()));
    // Refreshed on B, the new tokens work on A; the old refresh token is spent on both.
    let renewed = b.query_as(None, REFRESH, json!({ "r": refresh })).await;
    let renewed_access = renewed["refresh"]["accessToken"].as_str().expect("a token");
    let renewed_refresh = renewed["refresh"]["refreshToken"]
        .as_str()
        .expect("a token");
    assert_eq!(me(a, renewed_access).await, Ok("clerk".to_owned()));
    // Logged out on A: every token of the session ends on B at once.
    let out = a
        .query_as(
            Some(renewed_access),
            LOGOUT,
            json!({ "r": renewed_refresh }),
        )
        .await;
    assert_eq!(out["logout"], true);
    for token in [access.as_str(), renewed_access] {
        assert_eq!(me(b, token).await, Err("UNAUTHENTICATED".to_owned()));
        assert_eq!(me(a, token).await, Err("UNAUTHENTICATED".to_owned()));
    }
    let again = b
        .graphql_as(None, REFRESH, json!({ "r": renewed_refresh }))
        .await;
    assert_eq!(error_code(&again), "UNAUTHENTICATED");

    // One refresh token sent to both at once: one exchange succeeds, and the
    // second use, wherever it lands, is taken for a theft that ends the
    // session, the winner's new tokens included.
    let (access, refresh) = login(b, "clerk").await;
    let variables = json!({ "r": refresh });
    let (on_a, on_b) = tokio::join!(
        a.graphql_as(None, REFRESH, variables.clone()),
        b.graphql_as(None, REFRESH, variables.clone()),
    );
    let winners: Vec<&Value> = [&on_a, &on_b]
        .into_iter()
        .filter(|body| body.get("errors").is_none())
        .collect();
    assert_eq!(winners.len(), 1, "one exchange: {on_a} {on_b}");
    let loser = if on_a.get("errors").is_some() {
        &on_a
    } else {
        &on_b
    };
    assert_eq!(error_code(loser), "UNAUTHENTICATED");
    let stolen = winners[0]["data"]["refresh"]["accessToken"]
        .as_str()
        .expect("a token");
    for token in [access.as_str(), stolen] {
        for (name, server) in service.both() {
            assert_eq!(
                me(server, token).await,
                Err("UNAUTHENTICATED".to_owned()),
                "on {name}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_spread_over_both_replicas_gets_the_configured_budget_once() {
    let Some(service) = Service::start(5).await else {
        return;
    };
    let auditor = service.user("auditor", Role::Auditor, None).await;
    let started = Instant::now();
    let mut let_in = [0, 0];
    let mut refused = [0, 0];
    // Three times the budget, spread evenly as a load balancer spreads it.
    for n in 0..3 * AUDITOR_REQUESTS {
        let (name, server) = service.both()[n % 2];
        let (status, headers, body) = server
            .post_graphql(Some(&auditor), &json!({ "query": ME }))
            .await;
        match status {
            200 => {
                assert_eq!(body["data"]["me"]["username"], "auditor", "{body}");
                let_in[n % 2] += 1;
            }
            429 => {
                assert_eq!(error_code(&body), "RATE_LIMITED", "{name}: {body}");
                let message = body["errors"][0]["message"].as_str().unwrap_or_default();
                assert!(
                    message.contains(&format!("at most {AUDITOR_REQUESTS} a minute")),
                    "the whole service's budget is named: {message}"
                );
                // Each replica says what it allows: its half.
                assert_eq!(
                    headers["x-ratelimit-limit"],
                    (AUDITOR_REQUESTS / 2).to_string().as_str(),
                    "{name}"
                );
                refused[n % 2] += 1;
            }
            other => panic!("{name} answered {other}: {body}"),
        }
    }
    // The buckets refill continuously: a request a minute per 1/20 of a
    // minute gone, shared by the two.
    let refilled = (started.elapsed().as_secs_f64() * AUDITOR_REQUESTS as f64 / 60.0).ceil();
    let total = let_in[0] + let_in[1];
    assert!(
        total >= AUDITOR_REQUESTS && total as f64 <= AUDITOR_REQUESTS as f64 + refilled,
        "the configured budget in all, not one per replica: {let_in:?} let in, {refused:?} refused"
    );
    for side in 0..2 {
        assert!(
            let_in[side] >= AUDITOR_REQUESTS / 2,
            "each replica allows its half: {let_in:?}"
        );
        assert!(refused[side] > 0, "each replica refuses: {refused:?}");
    }
    // Another client's budget is its own.
    let other = service.user("auditor-2", Role::Auditor, None).await;
    assert_eq!(me(&service.b, &other).await, Ok("auditor-2".to_owned()));
}

const CREATE_HOUSEHOLD: &str =
    "mutation($input: CreateHouseholdInput!) { createHousehold(input: $input) { id version } }";

/// A valid ID number of a person born on `birth` (YYYYMMDD) in 520102, not
/// the seeded county's 522699: no seeded person has it.
fn id_number(birth: &str, sequence: u32) -> String {
    api::codes::id_number(&format!("520102{birth}{sequence:03}"))
}

/// The households on file.
async fn households(db: &DatabaseConnection) -> u64 {
    household::Entity::find().count(db).await.expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_idempotency_key_sent_to_both_replicas_at_once_files_one_household() {
    let Some(service) = Service::start(5).await else {
        return;
    };
    let village = first_region(&service.db, RegionLevel::Village).await;
    let cadre = service
        .user("cadre", Role::VillageCadre, Some(&village.code))
        .await;
    let mut input = household_input(
        &global_id("Village", village.id),
        person("孙一", &id_number("19650505", 31), "HEAD"),
        vec![],
    );
    input["idempotencyKey"] = json!("5f0c2a9e-weak-network");
    let before = households(&service.db).await;
    let variables = json!({ "input": input });
    let sent = (0..6).map(|n| {
        let server = if n % 2 == 0 { &service.a } else { &service.b };
        server.graphql_as(Some(&cadre), CREATE_HOUSEHOLD, variables.clone())
    });
    let answers = futures::future::join_all(sent).await;
    let ids: HashSet<&Value> = answers
        .iter()
        .map(|body| {
            assert!(body.get("errors").is_none(), "a retry is answered: {body}");
            &body["data"]["createHousehold"]["id"]
        })
        .collect();
    assert_eq!(
        ids.len(),
        1,
        "every answer names one household: {answers:?}"
    );
    assert_eq!(households(&service.db).await, before + 1);
    let id = tests::raw_id(ids.iter().next().expect("an ID"));
    let created = audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.eq("household.create"))
        .filter(audit_entry::Column::EntityId.eq(id))
        .count(&service.db)
        .await
        .expect("count");
    assert_eq!(created, 1, "one creation in the trail");

    // The key is the account's on both replicas: another request under it is refused.
    input["address"] = json!("另一个地址");
    for (name, server) in service.both() {
        let body = server
            .graphql_as(Some(&cadre), CREATE_HOUSEHOLD, json!({ "input": input }))
            .await;
        assert_eq!(error_code(&body), "CONFLICT", "{name}: {body}");
    }
    assert_eq!(households(&service.db).await, before + 1);
}

const UPDATE_HOUSEHOLD: &str =
    "mutation($input: HouseholdPatch!) { updateHousehold(input: $input) { address version } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_version_edited_on_both_replicas_at_once_has_one_winner() {
    let Some(service) = Service::start(5).await else {
        return;
    };
    let target = household::Entity::find()
        .order_by_asc(household::Column::Id)
        .one(&service.db)
        .await
        .expect("query")
        .expect("a household");
    let id = global_id("Household", target.id);
    let edits = (0..10).map(|n| {
        let server = if n % 2 == 0 { &service.a } else { &service.b };
        let input =
            json!({ "id": id, "version": target.version, "address": format!("新地址{n}号") });
        server.graphql_as(
            Some(&service.admin),
            UPDATE_HOUSEHOLD,
            json!({ "input": input }),
        )
    });
    let answers = futures::future::join_all(edits).await;
    let winners: Vec<&Value> = answers
        .iter()
        .filter(|body| body.get("errors").is_none())
        .collect();
    assert_eq!(winners.len(), 1, "one winner: {answers:?}");
    let won = &winners[0]["data"]["updateHousehold"];
    assert_eq!(won["version"], target.version + 1);
    for body in answers.iter().filter(|body| body.get("errors").is_some()) {
        assert_eq!(error_code(body), "CONFLICT", "{body}");
        let current = &body["errors"][0]["extensions"]["current"];
        assert_eq!(current["version"], target.version + 1, "{body}");
        assert_eq!(current["address"], won["address"], "{body}");
    }
    let stored = household::Entity::find_by_id(target.id)
        .one(&service.db)
        .await
        .expect("query")
        .expect("the household");
    assert_eq!(json!(stored.address), won["address"]);
    assert_eq!(stored.version, target.version + 1);
    let updates = audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.eq("household.update"))
        .filter(audit_entry::Column::EntityId.eq(target.id))
        .count(&service.db)
        .await
        .expect("count");
    assert_eq!(updates, 1, "one change, one entry");
}

/// A webhook's endpoint: takes each event after `delay`, keeping the IDs in
/// the order they came and how many posts it held at once at most.
#[derive(Default)]
struct Receiver {
    delay: Duration,
    taken: Mutex<Vec<String>>,
    in_hand: AtomicUsize,
    most_in_hand: AtomicUsize,
}

impl Receiver {
    fn taken(&self) -> Vec<String> {
        self.taken.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

async fn receive(State(receiver): State<Arc<Receiver>>, headers: HeaderMap) -> StatusCode {
    let now = receiver.in_hand.fetch_add(1, Ordering::SeqCst) + 1;
    receiver.most_in_hand.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(receiver.delay).await;
    let event_id = headers
        .get(EVENT_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    receiver
        .taken
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(event_id);
    receiver.in_hand.fetch_sub(1, Ordering::SeqCst);
    StatusCode::NO_CONTENT
}

async fn start_receiver(delay: Duration) -> (Arc<Receiver>, String) {
    let receiver = Arc::new(Receiver {
        delay,
        ..Receiver::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/events", listener.local_addr().expect("address"));
    let app = axum::Router::new()
        .route("/events", axum::routing::post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.expect("receiver") });
    (receiver, url)
}

const SET_INCOME: &str = "mutation($i: IncomeInput!) { setIncome(input: $i) { year } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_reaches_a_webhook_once_though_both_replicas_deliver() {
    let Some(service) = Service::start(30).await else {
        return;
    };
    // Slow enough that the other replica polls while a delivery is under
    // way; the events written in two waves, so that they keep coming.
    delivered_once(&service, Duration::from_millis(5), 2).await;
}

/// A receiver that takes half a timeout over each event, with a backlog
/// longer than a lease (the timeout and five seconds): the replica
/// delivering keeps the lease with every event, and the other never posts
/// the same events beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_receiver_with_a_long_backlog_is_posted_to_by_one_replica_at_a_time() {
    let Some(service) = Service::start_with(40, &[("FUPIN_WEBHOOK_TIMEOUT_MS", "400")]).await
    else {
        return;
    };
    delivered_once(&service, Duration::from_millis(200), 1).await;
}

/// Registers a webhook with a receiver that takes each event after `delay`,
/// sets an income of every household through both replicas at once in
/// `waves`, and checks that every event reached the receiver once, in
/// commit order, from one replica at a time.
async fn delivered_once(service: &Service, delay: Duration, waves: usize) {
    let (receiver, url) = start_receiver(delay).await;
    let province = service.user("province", Role::ProvincialSystem, None).await;
    let registered = service
        .a
        .query_as(
            Some(&province),
            "mutation($i: RegisterWebhookInput!) { registerWebhook(input: $i) { webhook { id } } }",
            json!({ "i": { "url": url, "eventTypes": ["HouseholdIncome"] } }),
        )
        .await;
    let hook: i64 = registered["registerWebhook"]["webhook"]["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("a webhook's ID");
    let since = trail_head(&service.db).await;

    let homes = household::Entity::find()
        .order_by_asc(household::Column::Id)
        .all(&service.db)
        .await
        .expect("households");
    for wave in homes.chunks(homes.len().div_ceil(waves)) {
        let writes = wave.iter().enumerate().map(|(n, home)| {
            let server = if n % 2 == 0 { &service.a } else { &service.b };
            server.query_as(
                Some(&service.admin),
                SET_INCOME,
                json!({ "i": { "householdId": global_id("Household", home.id), "year": 2024,
                    "version": null, "wage": "5000", "production": "1000", "property": "0",
                    "transfer": "300", "productionCost": "200" } }),
            )
        });
        futures::future::join_all(writes).await;
    }
    let expected: Vec<i64> = audit_entry::Entity::find()
        .filter(audit_entry::Column::Id.gt(since))
        .filter(audit_entry::Column::EntityType.eq("HouseholdIncome"))
        .order_by_asc(audit_entry::Column::Id)
        .all(&service.db)
        .await
        .expect("entries")
        .into_iter()
        .map(|entry| entry.id)
        .collect();
    assert_eq!(expected.len(), homes.len());

    eventually("every event delivered", || async {
        receiver.taken().len() >= expected.len()
    })
    .await;
    // Both replicas poll every 20 ms: give a repeat time to come.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let taken: Vec<i64> = receiver
        .taken()
        .iter()
        .map(|id| tests::feed_sequence(id))
        .collect();
    assert_eq!(taken, expected, "every event once, in commit order");
    assert_eq!(
        receiver.most_in_hand.load(Ordering::SeqCst),
        1,
        "one replica posts to the webhook at a time"
    );
    let attempts = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::WebhookId.eq(hook))
        .all(&service.db)
        .await
        .expect("deliveries");
    assert_eq!(attempts.len(), expected.len(), "one attempt an event");
    assert!(attempts.iter().all(|attempt| attempt.delivered));
    for (name, server) in service.both() {
        assert_eq!(warnings(server), Vec::<String>::new(), "{name}");
    }
}

/// The audit trail's newest sequence.
async fn trail_head(db: &DatabaseConnection) -> i64 {
    api::audit::head(db)
        .await
        .expect("the head")
        .map_or(0, |head| head.sequence)
}

const ADD_MEMBER: &str =
    "mutation($h: ID!, $m: MemberInput!) { addMember(householdId: $h, member: $m) { id } }";
const BY_STATUS: &str = "query($r: ID!, $y: Int!) { statistics(regionId: $r, year: $y) {
    byStatus { status households people } } }";

/// Adds a member, the `n`th the test adds, to `home` through `server`.
async fn add_member(service: &Service, server: &Server, home: &household::Model, n: u32) {
    server
        .query_as(
            Some(&service.admin),
            ADD_MEMBER,
            json!({ "h": global_id("Household", home.id),
                    "m": person("新成员", &id_number("19800101", n), "OTHER") }),
        )
        .await;
}

/// Households and their active members by status, counted from the rows.
async fn recount(db: &DatabaseConnection) -> HashMap<String, (i64, i64)> {
    let sql = "SELECT UPPER(h.status) AS status, COUNT(DISTINCT h.id) AS households, \
               COUNT(m.id) AS people FROM household h \
               LEFT JOIN member m ON m.household_id = h.id AND m.is_active \
               GROUP BY h.status";
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect(sql)
        .into_iter()
        .map(|row| {
            let get = |column: &str| row.try_get::<i64>("", column).expect(column);
            (
                row.try_get::<String>("", "status").expect("status"),
                (get("households"), get("people")),
            )
        })
        .collect()
}

/// The county's households and people by status as each replica reads them
/// match a recount of the rows.
async fn figures_agree_with_a_recount(service: &Service, when: &str) {
    let county = first_region(&service.db, RegionLevel::County).await;
    let expected = recount(&service.db).await;
    let variables = json!({
        "r": global_id("County", county.id),
        "y": api::domain::calendar::today().year(),
    });
    for (name, server) in service.both() {
        let data = server
            .query_as(Some(&service.admin), BY_STATUS, variables.clone())
            .await;
        let read: HashMap<String, (i64, i64)> = data["statistics"]["byStatus"]
            .as_array()
            .expect("statuses")
            .iter()
            .map(|row| {
                let count = |field: &str| row[field].as_i64().expect(field);
                (
                    row["status"].as_str().expect("a status").to_owned(),
                    (count("households"), count("people")),
                )
            })
            .filter(|(_, counts)| *counts != (0, 0))
            .collect();
        assert_eq!(read, expected, "{name}, {when}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_written_and_compacted_on_both_replicas_agree_with_a_recount() {
    let Some(service) = Service::start(40).await else {
        return;
    };
    let village = first_region(&service.db, RegionLevel::Village).await;
    let homes = household::Entity::find()
        .filter(
            household::Column::Status
                .is_in([HouseholdStatus::Enrolled, HouseholdStatus::LiftedOut]),
        )
        .order_by_asc(household::Column::Id)
        .all(&service.db)
        .await
        .expect("households");
    let before = recount(&service.db).await;

    // Members added through both replicas at once, and a household filed on
    // each, while both fold the changes every 30 ms: writing goes on until
    // changes were folded. Which replica folds them is a race that one of
    // them may win every time, so it is not asked for.
    let folded = |server: &Server| {
        server
            .logged("DEBUG")
            .iter()
            .any(|event| event["fields"]["message"] == FOLDED)
    };
    let started = Instant::now();
    let mut round: u32 = 0;
    while round < 10 || !(folded(&service.a) || folded(&service.b)) {
        assert!(
            started.elapsed() < WAIT && round < 400,
            "both replicas fold changes"
        );
        let (n, m) = (2 * round, 2 * round + 1);
        tokio::join!(
            add_member(&service, &service.a, &homes[n as usize % homes.len()], n),
            add_member(&service, &service.b, &homes[m as usize % homes.len()], m),
        );
        round += 1;
    }
    for (n, (_, server)) in service.both().into_iter().enumerate() {
        let input = household_input(
            &global_id("Village", village.id),
            person("赵二", &id_number("19700303", 900 + n as u32), "HEAD"),
            vec![person(
                "钱三",
                &id_number("19720404", 900 + n as u32),
                "SPOUSE",
            )],
        );
        server
            .query_as(
                Some(&service.admin),
                CREATE_HOUSEHOLD,
                json!({ "input": input }),
            )
            .await;
    }
    let after = recount(&service.db).await;
    let people = |counts: &HashMap<String, (i64, i64)>| counts.values().map(|c| c.1).sum::<i64>();
    assert_eq!(people(&after), people(&before) + i64::from(2 * round) + 4);
    figures_agree_with_a_recount(&service, "as written, folded or not").await;

    eventually("every change folded", || async {
        village_tally_change::Entity::find()
            .count(&service.db)
            .await
            .expect("count")
            == 0
    })
    .await;
    figures_agree_with_a_recount(&service, "with every change folded").await;
    for (name, server) in service.both() {
        assert_eq!(warnings(server), Vec::<String>::new(), "{name}");
    }
}

const ALERTS: &str = "subscription { alerts { kind subjectId cursor } }";

/// The next message a client hears, or a failure naming `who`.
async fn heard(client: &mut WsClient, who: &str) -> Value {
    client
        .next(WAIT)
        .await
        .unwrap_or_else(|| panic!("{who} heard nothing"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_caused_on_one_replica_is_heard_once_on_each() {
    let Some(service) = Service::start(30).await else {
        return;
    };
    let village = first_region(&service.db, RegionLevel::Village).await;
    let township = region::Entity::find_by_id(village.parent_id.expect("a township"))
        .one(&service.db)
        .await
        .expect("query")
        .expect("the township");
    let officer = service
        .user("officer", Role::TownshipOfficer, Some(&township.code))
        .await;
    service
        .user("cadre", Role::VillageCadre, Some(&village.code))
        .await;
    let home = household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .order_by_asc(household::Column::Id)
        .one(&service.db)
        .await
        .expect("query")
        .expect("a household");
    // Not poor, so that it can be taken into monitoring.
    household::Entity::update_many()
        .col_expr(household::Column::Status, HouseholdStatus::NotPoor.into())
        .col_expr(household::Column::EnrolledYear, Option::<i32>::None.into())
        .col_expr(household::Column::LiftedOutYear, Option::<i32>::None.into())
        .col_expr(
            household::Column::Monitoring,
            Option::<entity::enums::MonitoringCategory>::None.into(),
        )
        .filter(household::Column::Id.eq(home.id))
        .exec(&service.db)
        .await
        .expect("make the household not poor");
    let home = household::Entity::find_by_id(home.id)
        .one(&service.db)
        .await
        .expect("query")
        .expect("the household");

    // The county office listens on both replicas; the village's cadre on B,
    // in a session that then ends on A.
    let mut on_a = WsClient::connect(service.a.addr, &service.admin).await;
    let mut on_b = WsClient::connect(service.b.addr, &service.admin).await;
    let (cadre_access, cadre_refresh) = login(&service.b, "cadre").await;
    let mut cadre = WsClient::connect(service.b.addr, &cadre_access).await;
    for client in [&mut on_a, &mut on_b, &mut cadre] {
        client.subscribe("1", ALERTS).await;
    }
    service
        .a
        .query_as(Some(&cadre_access), LOGOUT, json!({ "r": cadre_refresh }))
        .await;
    // Let the subscriptions settle before the write.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let case = service
        .a
        .query_as(
            Some(&officer),
            "mutation($i: StartMonitoringInput!) { startMonitoring(input: $i) { id } }",
            json!({ "i": {
                "householdId": global_id("Household", home.id), "version": home.version,
                "category": "MARGINAL", "risks": ["ILLNESS"], "foundBy": "CADRE_VISIT",
                "startedOn": api::domain::calendar::today(), "reason": "户主患病，收入骤减",
            }}),
        )
        .await["startMonitoring"]["id"]
        .clone();
    let mut cursors = Vec::new();
    for (who, client) in [
        ("the county on A", &mut on_a),
        ("the county on B", &mut on_b),
    ] {
        let message = heard(client, who).await;
        assert_eq!(message["type"], "next", "{who}: {message}");
        let alert = &message["payload"]["data"]["alerts"];
        assert_eq!(alert["kind"], "MONITORING_CASE_OPENED", "{who}: {message}");
        assert_eq!(alert["subjectId"], case, "{who}: {message}");
        cursors.push(alert["cursor"].clone());
    }
    assert_eq!(cursors[0], cursors[1], "one entry of the trail");
    // The session ended on A: B tells its cadre so instead of the alert.
    let ended = heard(&mut cadre, "the cadre").await;
    assert_eq!(
        ended["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{ended}"
    );
    assert!(ended["payload"]["data"].is_null(), "{ended}");
    // Each replica read the trail many times since: nobody hears it again.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    for (who, client) in [
        ("the county on A", &mut on_a),
        ("the county on B", &mut on_b),
    ] {
        assert_eq!(client.next(Duration::from_millis(100)).await, None, "{who}");
    }
}
