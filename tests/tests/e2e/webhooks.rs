//! Webhooks: a receiver in the test that is down, then up, while the service
//! is stopped and started again; every event arrives, signed, in order, and
//! exactly once after dropping repeats by event ID. The county office sees the
//! failures.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use api::config::Background;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use entity::audit_entry;
use entity::enums::Role;
use entity::household;
use hmac::{Hmac, Mac};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use sha2::Sha256;
use tests::{Backend, TestApp, global_id, on_both_backends};
use tokio::sync::Mutex;

on_both_backends!(
    events_reach_a_receiver_through_an_outage_and_a_restart,
    webhooks_are_checked_paused_and_kept_to_their_owners,
    events_carry_pairings_and_records_as_the_api_shows_them,
);

const REGISTER: &str = "mutation($i: RegisterWebhookInput!) {
    registerWebhook(input: $i) { secret webhook { id version active eventTypes } } }";
const WEBHOOKS: &str = "{ webhooks { id url active failures lastError backlog nextAttemptAt version
    owner deliveries(first: 100) { eventId attempt statusCode error delivered } } }";
const SET_INCOME: &str = "mutation($i: IncomeInput!) { setIncome(input: $i) { year } }";
const PAUSE: &str = "mutation($id: ID!, $v: Int!, $a: Boolean!) {
    setWebhookActive(id: $id, version: $v, active: $a) { active version } }";

/// What the receiver was sent.
struct Received {
    event_id: String,
    timestamp: String,
    signature: String,
    body: Bytes,
}

/// An HTTP endpoint that answers 503 while down and records what it takes while up.
#[derive(Default)]
struct Receiver {
    up: AtomicBool,
    taken: Mutex<Vec<Received>>,
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    if !receiver.up.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    receiver.taken.lock().await.push(Received {
        event_id: header("x-fupin-event-id"),
        timestamp: header("x-fupin-timestamp"),
        signature: header("x-fupin-signature"),
        body,
    });
    StatusCode::NO_CONTENT
}

async fn start_receiver() -> (Arc<Receiver>, String) {
    let receiver = Arc::new(Receiver::default());
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

fn fast() -> Background {
    Background {
        webhook_poll_ms: 50,
        webhook_retry_ms: 100,
        webhook_max_retry_ms: 400,
        webhook_timeout_ms: 2_000,
        ..Background::default()
    }
}

async fn set_income(app: &TestApp, home: &household::Model, year: i32) {
    let body = app
        .graphql(
            SET_INCOME,
            json!({ "i": { "householdId": global_id("Household", home.id), "year": year,
                "version": null, "wage": "5000", "production": "1000", "property": "0",
                "transfer": "300", "productionCost": "200" } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
}

/// Waits up to thirty seconds for `done`: a loaded CI machine can take long
/// between a delivery's attempts.
async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    mut done: impl FnMut() -> F,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::time::Instant::now() < deadline {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("waited thirty seconds for {what}");
}

fn expected_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn events_reach_a_receiver_through_an_outage_and_a_restart(backend: Backend) {
    let mut app = TestApp::spawn_with_background(&backend, fast()).await;
    app.seed(6, 7).await;
    let homes = household::Entity::find()
        .order_by_asc(household::Column::Id)
        .all(&app.db)
        .await
        .expect("households");
    let (receiver, url) = start_receiver().await;
    let province = app.token_for(Role::ProvincialSystem).await;
    let registered = app
        .query_as(
            Some(&province),
            REGISTER,
            json!({ "i": { "url": url, "eventTypes": ["HouseholdIncome", "Household"] } }),
        )
        .await["registerWebhook"]
        .clone();
    let secret = registered["secret"].as_str().expect("a secret").to_owned();
    assert_eq!(secret.len(), 64);
    assert_eq!(
        registered["webhook"]["eventTypes"],
        json!(["Household", "HouseholdIncome"])
    );
    let since = audit_entry::Entity::find()
        .order_by_desc(audit_entry::Column::Id)
        .one(&app.db)
        .await
        .expect("read")
        .map_or(0, |e| e.id);

    // The receiver is down: the first events fail, and keep failing.
    for home in &homes[..3] {
        set_income(&app, home, 2024).await;
    }
    eventually("failed deliveries", || async {
        let hooks = app.query(WEBHOOKS, json!({})).await;
        hooks["webhooks"][0]["failures"].as_i64().unwrap_or(0) >= 2
    })
    .await;
    let seen = app.query(WEBHOOKS, json!({})).await["webhooks"][0].clone();
    assert!(
        seen["owner"]
            .as_str()
            .is_some_and(|o| o.starts_with("provincial_system"))
    );
    assert_eq!(seen["backlog"], 3);
    assert!(
        seen["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("503")),
        "{seen}"
    );
    assert!(seen["nextAttemptAt"].is_string());
    let attempts = seen["deliveries"].as_array().expect("deliveries");
    assert!(
        attempts
            .iter()
            .all(|d| d["delivered"] == false && d["statusCode"] == 503)
    );
    assert_eq!(attempts.last().expect("one")["attempt"], 1);

    // The service stops with the events undelivered; the receiver comes up;
    // the service starts again and delivers them, and what follows.
    app.stop().await;
    receiver.up.store(true, Ordering::SeqCst);
    app.restart().await;
    for home in &homes[3..5] {
        set_income(&app, home, 2024).await;
    }
    let expected: Vec<i64> = audit_entry::Entity::find()
        .filter(audit_entry::Column::Id.gt(since))
        .filter(audit_entry::Column::EntityType.is_in(["Household", "HouseholdIncome"]))
        .order_by_asc(audit_entry::Column::Id)
        .all(&app.db)
        .await
        .expect("entries")
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(expected.len(), 5);
    eventually("every event delivered", || async {
        let taken = receiver.taken.lock().await;
        let mut ids: Vec<&str> = taken.iter().map(|r| r.event_id.as_str()).collect();
        ids.dedup();
        ids.len() >= expected.len()
    })
    .await;

    let taken = receiver.taken.lock().await;
    let mut first_seen: Vec<i64> = Vec::new();
    for received in taken.iter() {
        assert_eq!(
            received.signature,
            expected_signature(&secret, &received.timestamp, &received.body),
            "a valid signature"
        );
        let sent_at: i64 = received.timestamp.parse().expect("a Unix time");
        assert!(
            (chrono::Utc::now().timestamp() - sent_at).abs() < 300,
            "a fresh timestamp"
        );
        let event: Value = serde_json::from_slice(&received.body).expect("JSON");
        assert_eq!(event["eventId"], received.event_id.as_str());
        assert!(event["state"].is_object(), "{event}");
        let sequence = tests::feed_sequence(&received.event_id);
        if !first_seen.contains(&sequence) {
            first_seen.push(sequence);
        }
    }
    assert_eq!(first_seen, expected, "every event once, in commit order");
    drop(taken);
    eventually("the webhook caught up", || async {
        let hook = app.query(WEBHOOKS, json!({})).await["webhooks"][0].clone();
        hook["backlog"] == 0 && hook["failures"] == 0 && hook["lastError"].is_null()
    })
    .await;
}

async fn webhooks_are_checked_paused_and_kept_to_their_owners(backend: Backend) {
    let app = TestApp::spawn_with_background(&backend, fast()).await;
    app.seed(3, 7).await;
    let home = household::Entity::find()
        .one(&app.db)
        .await
        .expect("read")
        .expect("a household");
    let (receiver, url) = start_receiver().await;
    receiver.up.store(true, Ordering::SeqCst);
    let province = app.token_for(Role::ProvincialSystem).await;
    for (input, field) in [
        (json!({ "url": "ftp://example.org/x" }), "url"),
        (json!({ "url": "not a url" }), "url"),
        (
            json!({ "url": url, "eventTypes": ["Weather"] }),
            "eventTypes",
        ),
    ] {
        let refused = app
            .graphql_as(Some(&province), REGISTER, json!({ "i": input }))
            .await;
        assert_eq!(
            TestApp::error_codes(&refused),
            ["BAD_USER_INPUT"],
            "{refused}"
        );
        assert_eq!(tests::error_field(&refused), field);
    }
    let cadre = app.token_for(Role::VillageCadre).await;
    let refused = app
        .graphql_as(Some(&cadre), REGISTER, json!({ "i": { "url": url } }))
        .await;
    assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"]);

    let hook = app
        .query_as(Some(&province), REGISTER, json!({ "i": { "url": url } }))
        .await["registerWebhook"]["webhook"]
        .clone();
    // The county office sees it; another provincial account does not.
    assert_eq!(
        app.query(WEBHOOKS, json!({})).await["webhooks"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let (other, _) = app.user_for(Role::ProvincialSystem).await;
    let other = tests::token_of(&other);
    let theirs = app.query_as(Some(&other), WEBHOOKS, json!({})).await;
    assert_eq!(theirs["webhooks"], json!([]));
    let stranger = app
        .graphql_as(
            Some(&other),
            PAUSE,
            json!({ "id": hook["id"], "v": hook["version"], "a": false }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&stranger), ["NOT_FOUND"]);

    // Paused, it holds events; resumed, it delivers them.
    let paused = app
        .query_as(
            Some(&province),
            PAUSE,
            json!({ "id": hook["id"], "v": hook["version"], "a": false }),
        )
        .await["setWebhookActive"]
        .clone();
    assert_eq!(paused["active"], false);
    let stale = app
        .graphql_as(
            Some(&province),
            PAUSE,
            json!({ "id": hook["id"], "v": hook["version"], "a": true }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"]);
    set_income(&app, &home, 2023).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let held = receiver.taken.lock().await;
    assert!(
        held.is_empty(),
        "a paused webhook holds events: {:?}",
        held.iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect::<Vec<_>>()
    );
    drop(held);
    app.query_as(
        Some(&province),
        PAUSE,
        json!({ "id": hook["id"], "v": paused["version"], "a": true }),
    )
    .await;
    eventually("the held event", || async {
        !receiver.taken.lock().await.is_empty()
    })
    .await;
    assert_eq!(
        app.audit_actions(
            "Webhook",
            hook["id"].as_str().expect("id").parse().expect("number")
        )
        .await,
        vec!["webhook.resume", "webhook.pause", "webhook.register"]
    );
}

/// The text a global ID stands for (`Type:id`).
fn decoded(id: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .unwrap_or_else(|_| panic!("`{id}` is base64"));
    String::from_utf8(bytes).expect("UTF-8")
}

async fn events_carry_pairings_and_records_as_the_api_shows_them(backend: Backend) {
    let app = TestApp::spawn_with_background(&backend, fast()).await;
    app.seed(3, 7).await;
    let home = household::Entity::find()
        .order_by_asc(household::Column::Id)
        .one(&app.db)
        .await
        .expect("read")
        .expect("a household");
    let h = global_id("Household", home.id);
    let (receiver, url) = start_receiver().await;
    receiver.up.store(true, Ordering::SeqCst);
    let province = app.token_for(Role::ProvincialSystem).await;
    app.query_as(
        Some(&province),
        REGISTER,
        json!({ "i": { "url": url, "eventTypes": ["Pairing", "Household"] } }),
    )
    .await;

    let (helper, _) = app.user_for(Role::HelperCadre).await;
    let paired = app
        .query(
            "mutation($u: String!, $h: ID!) { pairHelper(helperUsername: $u, householdId: $h) { id } }",
            json!({ "u": helper.username, "h": h }),
        )
        .await["pairHelper"]["id"]
        .clone();
    let read = app
        .query(
            "query($h: ID!) { household(id: $h) { status attribute version village { id } } }",
            json!({ "h": h }),
        )
        .await["household"]
        .clone();
    app.query(
        "mutation($i: HouseholdPatch!) { updateHousehold(input: $i) { version } }",
        json!({ "i": { "id": h, "version": read["version"], "address": "新址村3组" } }),
    )
    .await;
    eventually("both events", || async {
        receiver.taken.lock().await.len() >= 2
    })
    .await;

    let taken = receiver.taken.lock().await;
    let events: Vec<Value> = taken
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("JSON"))
        .collect();
    for (received, event) in taken.iter().zip(&events) {
        assert_eq!(event["eventId"], received.event_id.as_str());
        let text = decoded(&received.event_id);
        assert!(
            text.strip_prefix("Change:")
                .is_some_and(|n| n.parse::<i64>().is_ok()),
            "the event ID is a global ID: {text}"
        );
    }
    let pairing = &events[0];
    assert_eq!(pairing["entityType"], "Pairing", "{events:?}");
    assert_eq!(pairing["action"], "pairing.create");
    assert_eq!(pairing["id"], paired);
    assert_eq!(pairing["state"]["household"], h.as_str());
    assert!(
        pairing["state"].get("helper").is_none(),
        "the province reads no helper accounts: {pairing}"
    );
    let household = &events[1];
    assert_eq!(household["entityType"], "Household", "{events:?}");
    assert_eq!(household["state"]["status"], read["status"]);
    assert_eq!(household["state"]["attribute"], read["attribute"]);
    assert_eq!(household["state"]["village"], read["village"]["id"]);
    let first_id = taken[0].event_id.clone();
    drop(taken);

    // The delivery log names the events by the same IDs.
    let logged = app.query(WEBHOOKS, json!({})).await["webhooks"][0]["deliveries"].clone();
    let logged: Vec<&str> = logged
        .as_array()
        .expect("deliveries")
        .iter()
        .filter_map(|d| d["eventId"].as_str())
        .collect();
    assert!(logged.contains(&first_id.as_str()), "{logged:?}");
}
