//! The audit trail: every change appends an entry with who, what, before and
//! after; entries are chained, so an entry altered in the database is found.
//! The database refuses to update or delete an entry, and the chain's head is
//! published (the change feed, webhook events, `auditChainHead`), so that a
//! consumer that kept a head learns when the newest entries were cut off.

use std::sync::Arc;
use std::time::Duration;

use api::config::Background;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use entity::enums::Role;
use entity::{audit_entry, household};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel, ModelTrait,
    QueryOrder, Set,
};
use serde_json::{Value, json};
use tests::{Backend, TestApp, feed_sequence, global_id, on_both_backends};
use tokio::sync::Mutex;

on_both_backends!(
    every_change_of_an_account_is_in_the_trail,
    an_entry_altered_or_removed_behind_the_service_is_found,
    register_entries_are_found_by_record_and_shaped_by_the_field_policy,
    the_database_refuses_to_update_or_delete_an_entry,
    every_feed_page_carries_the_chain_head,
    every_webhook_event_carries_the_chain_head_of_its_entry,
    a_consumer_that_kept_the_head_learns_the_newest_entries_were_cut_off,
    a_consumer_that_kept_the_head_learns_it_was_rewritten_and_rehashed,
);

const TRAIL: &str = r#"query($t: String, $a: String) {
  auditEntries(first: 50, filter: { entityType: $t, actor: $a }) {
    totalCount
    nodes { sequence at actor role action entityType entityId before after requestId hash }
  }
}"#;

const VERIFY: &str = "{ verifyAuditChain { entries intact firstBrokenSequence } }";

/// Runs a mutation as the administrator and returns its request ID.
async fn mutate(app: &TestApp, query: &str) -> String {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&app.admin_token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("request");
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .expect("text")
        .to_owned();
    let body: Value = response.json().await.expect("JSON");
    assert!(body.get("errors").is_none(), "{body}");
    request_id
}

async fn every_change_of_an_account_is_in_the_trail(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let created = mutate(
        &app,
        r#"mutation { createUser(input: { username: "qian", password: "a long enough password", role: AUDITOR }) { username } }"#,
    )
    .await;
    let reset = mutate(&app, r#"mutation { resetUserPassword(username: "qian", newPassword: "another long password") { username } }"#).await;
    let disabled = mutate(
        &app,
        r#"mutation { disableUser(username: "qian") { username } }"#,
    )
    .await;

    let data = app
        .query(TRAIL, json!({ "t": "Account", "a": "admin" }))
        .await;
    let entries = data["auditEntries"]["nodes"].as_array().expect("nodes");
    assert_eq!(data["auditEntries"]["totalCount"], 3);
    // Newest first.
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        actions,
        ["user.disable", "user.reset_password", "user.create"]
    );
    let request_ids: Vec<&str> = entries
        .iter()
        .map(|e| e["requestId"].as_str().expect("id"))
        .collect();
    assert_eq!(
        request_ids,
        [disabled.as_str(), reset.as_str(), created.as_str()]
    );
    for entry in entries {
        assert_eq!(entry["actor"], "admin");
        assert_eq!(entry["role"], "county_admin");
        assert_eq!(entry["after"]["username"], "qian");
        assert!(
            !entry.to_string().contains("argon2"),
            "no password hash in the trail"
        );
    }
    assert!(entries[2]["before"].is_null());
    assert_eq!(entries[0]["before"]["isActive"], true);
    assert_eq!(entries[0]["after"]["isActive"], false);
    assert_eq!(
        entries[1]["after"]["tokenVersion"],
        entries[1]["before"]["tokenVersion"].as_i64().expect("v") + 1
    );

    let auditor = app.token_for(Role::Auditor).await;
    let report = app.query_as(Some(&auditor), VERIFY, json!({})).await;
    assert_eq!(report["verifyAuditChain"]["intact"], true);
    let cadre = app.token_for(Role::HelperCadre).await;
    let body = app.graphql_as(Some(&cadre), TRAIL, json!({})).await;
    assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"]);
}

async fn an_entry_altered_or_removed_behind_the_service_is_found(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    for name in ["sun", "zhou", "wu", "zheng"] {
        mutate(
            &app,
            &format!(r#"mutation {{ createUser(input: {{ username: "{name}", password: "a long enough password", role: AUDITOR }}) {{ username }} }}"#),
        )
        .await;
    }
    let report = app.query(VERIFY, json!({})).await;
    assert_eq!(report["verifyAuditChain"]["intact"], true);
    let total = report["verifyAuditChain"]["entries"]
        .as_u64()
        .expect("entries");
    assert!(total >= 4);

    let entries = audit_entry::Entity::find()
        .order_by_asc(audit_entry::Column::Id)
        .all(&app.db)
        .await
        .expect("entries");
    // Someone with the database owner's rights lifts the protection and
    // rewrites history: "zhou" was never made an auditor.
    app.drop_append_only("audit_entry").await;
    let target = entries
        .iter()
        .find(|e| e.after.as_deref().is_some_and(|a| a.contains("zhou")))
        .expect("zhou's entry");
    let mut forged = target.clone().into_active_model();
    forged.after = Set(target
        .after
        .as_ref()
        .map(|a| a.replace("auditor", "helper_cadre")));
    forged.update(&app.db).await.expect("tamper");
    let report = app.query(VERIFY, json!({})).await;
    assert_eq!(report["verifyAuditChain"]["intact"], false);
    assert_eq!(report["verifyAuditChain"]["firstBrokenSequence"], target.id);

    // Put it back, then remove an entry instead: the one after it no longer links.
    let mut restored = target.clone().into_active_model();
    restored.after = Set(target.after.clone());
    restored.update(&app.db).await.expect("restore");
    assert_eq!(
        app.query(VERIFY, json!({})).await["verifyAuditChain"]["intact"],
        true
    );
    let removed = entries
        .iter()
        .find(|e| e.after.as_deref().is_some_and(|a| a.contains("\"wu\"")))
        .expect("wu's entry");
    let next = entries
        .iter()
        .find(|e| e.id > removed.id)
        .expect("an entry after it");
    removed.clone().delete(&app.db).await.expect("delete");
    let report = app.query(VERIFY, json!({})).await;
    assert_eq!(report["verifyAuditChain"]["firstBrokenSequence"], next.id);
}

const ENTRIES: &str = r#"query($f: AuditFilter) {
  auditEntries(first: 50, filter: $f) { totalCount nodes { sequence at entityType entityId before after } }
}"#;

async fn register_entries_are_found_by_record_and_shaped_by_the_field_policy(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let importer = api::audit::Actor::system("import");
    let member = json!({
        "name": "王五",
        "idNumber": "11010519491231002X",
        "health": "chronic_illness",
        "disabilityGrade": null,
        "importBatch": "2026-03",
    });
    let mut changed = member.clone();
    changed["health"] = json!("healthy");
    let changes = [
        ("member.update", "Member", Some(member), changed),
        (
            "household.update",
            "Household",
            None,
            json!({ "number": "52269910020100001", "phone": "13812345678", "importBatch": "2026-03" }),
        ),
        (
            "user.create",
            "Account",
            None,
            json!({ "username": "qian", "importBatch": "2026-03" }),
        ),
    ];
    for (action, entity_type, before, after) in changes {
        api::audit::record(
            &app.db,
            &importer,
            api::audit::Change {
                action,
                entity_type,
                entity_id: 7,
                before,
                after: Some(after),
            },
        )
        .await
        .expect("record");
    }
    let auditor = app.token_for(Role::Auditor).await;
    let entries = |filter: Value| {
        let (app, auditor) = (&app, &auditor);
        async move {
            app.graphql_as(Some(auditor), ENTRIES, json!({ "f": filter }))
                .await
        }
    };

    // One record: by its global ID, or by type and database ID.
    let by_global = entries(json!({ "entity": global_id("Member", 7) })).await;
    let by_type = entries(json!({ "entityType": "Member", "entityId": 7 })).await;
    assert_eq!(by_global["data"], by_type["data"]);
    let found = &by_global["data"]["auditEntries"];
    assert_eq!(found["totalCount"], 1);
    let entry = &found["nodes"][0];
    assert_eq!(entry["entityType"], "Member");
    // Auditors see members in full; a key the Member type does not have is dropped.
    assert_eq!(entry["before"]["idNumber"], "11010519491231002X");
    assert_eq!(entry["before"]["health"], "CHRONIC_ILLNESS");
    assert_eq!(entry["after"]["health"], "HEALTHY");
    assert!(entry["before"].get("importBatch").is_none(), "{entry}");
    assert!(entry["after"].get("importBatch").is_none(), "{entry}");
    let household = entries(json!({ "entity": global_id("Household", 7) })).await;
    let household = &household["data"]["auditEntries"]["nodes"][0];
    assert_eq!(household["after"]["phone"], "13812345678");
    assert!(household["after"].get("importBatch").is_none());
    assert!(household["before"].is_null());
    // Accounts are not a sensitive type: their snapshots are shown as kept.
    let account = entries(json!({ "entityType": "Account", "entityId": 7 })).await;
    assert_eq!(
        account["data"]["auditEntries"]["nodes"][0]["after"],
        json!({ "username": "qian", "importBatch": "2026-03" })
    );

    // By actor and time.
    let all = entries(json!({ "actor": "import" })).await;
    assert_eq!(all["data"]["auditEntries"]["totalCount"], 3);
    let first_at = all["data"]["auditEntries"]["nodes"][2]["at"].clone();
    let since = entries(json!({ "actor": "import", "from": first_at })).await;
    assert_eq!(since["data"]["auditEntries"]["totalCount"], 3);
    let until = entries(json!({ "actor": "import", "to": first_at })).await;
    assert_eq!(until["data"]["auditEntries"]["totalCount"], 0);

    // An ID alone names nothing; a global ID is not combined with a type.
    let bare = entries(json!({ "entityId": 7 })).await;
    assert_eq!(TestApp::error_codes(&bare), ["BAD_USER_INPUT"]);
    let both = entries(json!({ "entity": global_id("Member", 7), "entityType": "Member" })).await;
    assert_eq!(TestApp::error_codes(&both), ["BAD_USER_INPUT"]);

    // A register entry edited in the database (by its owner, who can lift
    // the protection) breaks the chain there.
    app.drop_append_only("audit_entry").await;
    let stored = audit_entry::Entity::find()
        .order_by_asc(audit_entry::Column::Id)
        .all(&app.db)
        .await
        .expect("entries")
        .into_iter()
        .find(|e| e.entity_type == "Member")
        .expect("the member entry");
    let mut forged = stored.clone().into_active_model();
    forged.after = Set(stored
        .after
        .as_ref()
        .map(|a| a.replace("healthy", "disabled")));
    forged.update(&app.db).await.expect("tamper");
    let report = app.query_as(Some(&auditor), VERIFY, json!({})).await;
    assert_eq!(report["verifyAuditChain"]["intact"], false);
    assert_eq!(report["verifyAuditChain"]["firstBrokenSequence"], stored.id);
}

/// The newest entry of the trail, read from the database.
async fn newest(app: &TestApp) -> audit_entry::Model {
    audit_entry::Entity::find()
        .order_by_desc(audit_entry::Column::Id)
        .one(&app.db)
        .await
        .expect("read")
        .expect("an entry")
}

async fn create_auditor(app: &TestApp, name: &str) {
    mutate(
        app,
        &format!(r#"mutation {{ createUser(input: {{ username: "{name}", password: "a long enough password", role: AUDITOR }}) {{ username }} }}"#),
    )
    .await;
}

async fn the_database_refuses_to_update_or_delete_an_entry(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    for name in ["sun", "zhou"] {
        create_auditor(&app, name).await;
    }
    let entry = newest(&app).await;
    let id = entry.id;
    let mut attempts = vec![
        format!("UPDATE audit_entry SET actor = 'nobody' WHERE id = {id}"),
        format!("DELETE FROM audit_entry WHERE id = {id}"),
        "DELETE FROM audit_entry".to_owned(),
    ];
    if app.db.get_database_backend() == DbBackend::Postgres {
        attempts.push("TRUNCATE audit_entry".to_owned());
    }
    for sql in attempts {
        let refused = app.db.execute_unprepared(&sql).await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains("append-only")),
            "{sql}: {refused:?}"
        );
    }
    assert_eq!(newest(&app).await, entry);
    let report = app.query(VERIFY, json!({})).await;
    assert_eq!(report["verifyAuditChain"]["intact"], true);
}

const PAGE: &str = "{ changes(first: 10) { changes { cursor } chainHead { sequence hash at } } }";
const HEAD: &str = "{ auditChainHead { sequence hash at } }";

async fn every_feed_page_carries_the_chain_head(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let province = app.token_for(Role::ProvincialSystem).await;
    let auditor = app.token_for(Role::Auditor).await;
    let cadre = app.token_for(Role::HelperCadre).await;
    create_auditor(&app, "sun").await;
    // Accounts are not in the feed, but the head is the trail's, of every type.
    let page = app.query_as(Some(&province), PAGE, json!({})).await["changes"].clone();
    assert_eq!(page["changes"], json!([]));
    let entry = newest(&app).await;
    assert_eq!(page["chainHead"]["sequence"], entry.id);
    assert_eq!(page["chainHead"]["hash"], entry.hash.as_str());
    // The same head the county office, auditors and the province read.
    for token in [&auditor, &province, &app.admin_token] {
        let head = app.query_as(Some(token), HEAD, json!({})).await;
        assert_eq!(head["auditChainHead"], page["chainHead"]);
    }
    let refused = app.graphql_as(Some(&cadre), HEAD, json!({})).await;
    assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"]);

    // A change moves the head on, and the next page carries it.
    create_auditor(&app, "zhou").await;
    let later = app.query_as(Some(&province), PAGE, json!({})).await["changes"].clone();
    let entry = newest(&app).await;
    assert_eq!(later["chainHead"]["sequence"], entry.id);
    assert_eq!(later["chainHead"]["hash"], entry.hash.as_str());
    assert!(entry.id > page["chainHead"]["sequence"].as_i64().expect("a sequence"));
}

/// A webhook receiver that takes every event and keeps its body.
async fn start_receiver() -> (Arc<Mutex<Vec<Value>>>, String) {
    async fn take(
        State(taken): State<Arc<Mutex<Vec<Value>>>>,
        Json(event): Json<Value>,
    ) -> StatusCode {
        taken.lock().await.push(event);
        StatusCode::NO_CONTENT
    }
    let taken = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/events", listener.local_addr().expect("address"));
    let app = axum::Router::new()
        .route("/events", axum::routing::post(take))
        .with_state(taken.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.expect("receiver") });
    (taken, url)
}

async fn every_webhook_event_carries_the_chain_head_of_its_entry(backend: Backend) {
    let prompt = Background {
        webhook_poll_ms: 50,
        ..Background::default()
    };
    let app = TestApp::spawn_with_background(&backend, prompt).await;
    app.seed(3, 7).await;
    let (taken, url) = start_receiver().await;
    let province = app.token_for(Role::ProvincialSystem).await;
    app.query_as(
        Some(&province),
        "mutation($i: RegisterWebhookInput!) { registerWebhook(input: $i) { secret } }",
        json!({ "i": { "url": url, "eventTypes": ["HouseholdIncome"] } }),
    )
    .await;
    let homes = household::Entity::find()
        .order_by_asc(household::Column::Id)
        .all(&app.db)
        .await
        .expect("households");
    for home in &homes[..2] {
        app.query(
            "mutation($i: IncomeInput!) { setIncome(input: $i) { year } }",
            json!({ "i": { "householdId": global_id("Household", home.id), "year": 2024,
                "wage": "5000", "production": "1000", "property": "0", "transfer": "300",
                "productionCost": "200" } }),
        )
        .await;
    }
    let mut waited = 0;
    while taken.lock().await.len() < 2 {
        assert!(waited < 200, "waited ten seconds for two events");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }

    let events = taken.lock().await.clone();
    for event in &events {
        let sequence = feed_sequence(event["eventId"].as_str().expect("an event ID"));
        let entry = audit_entry::Entity::find_by_id(sequence)
            .one(&app.db)
            .await
            .expect("read")
            .expect("the event's entry");
        assert_eq!(event["chainHead"]["sequence"], entry.id, "{event}");
        assert_eq!(event["chainHead"]["hash"], entry.hash.as_str(), "{event}");
        assert_eq!(event["chainHead"]["at"], event["at"], "{event}");
    }
    // The last change was the last write: its event carries the current head.
    let head = app.query_as(Some(&province), HEAD, json!({})).await;
    let last = events.last().expect("an event");
    assert_eq!(
        last["chainHead"]["sequence"],
        head["auditChainHead"]["sequence"]
    );
    assert_eq!(last["chainHead"]["hash"], head["auditChainHead"]["hash"]);
}

const CHECK: &str = "query($h: AuditChainHeadInput) {
    verifyAuditChain(head: $h) { intact firstBrokenSequence holdsHead } }";

/// What `verifyAuditChain` says of a head the province kept.
async fn check(app: &TestApp, token: &str, head: &Value) -> Value {
    let kept = json!({ "sequence": head["sequence"], "hash": head["hash"] });
    app.query_as(Some(token), CHECK, json!({ "h": kept })).await["verifyAuditChain"].clone()
}

async fn a_consumer_that_kept_the_head_learns_the_newest_entries_were_cut_off(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let province = app.token_for(Role::ProvincialSystem).await;
    for name in ["sun", "zhou", "wu", "zheng"] {
        create_auditor(&app, name).await;
    }
    let kept = app.query_as(Some(&province), PAGE, json!({})).await["changes"]["chainHead"].clone();
    assert_eq!(
        check(&app, &province, &kept).await,
        json!({ "intact": true, "firstBrokenSequence": null, "holdsHead": true })
    );
    let unasked = app.query_as(Some(&province), CHECK, json!({})).await;
    assert!(unasked["verifyAuditChain"]["holdsHead"].is_null());

    // Someone with the database owner's rights lifts the protection and cuts
    // off the two newest entries: what is left is a chain intact in itself.
    app.drop_append_only("audit_entry").await;
    let cut = kept["sequence"].as_i64().expect("a sequence") - 1;
    app.db
        .execute_unprepared(&format!("DELETE FROM audit_entry WHERE id >= {cut}"))
        .await
        .expect("cut off");
    assert_eq!(
        check(&app, &province, &kept).await,
        json!({ "intact": true, "firstBrokenSequence": null, "holdsHead": false })
    );

    // The service writes on: the new head does not extend the one kept.
    create_auditor(&app, "qian").await;
    let now = app.query_as(Some(&province), PAGE, json!({})).await["changes"]["chainHead"].clone();
    assert_ne!(now["hash"], kept["hash"]);
    assert_eq!(check(&app, &province, &kept).await["holdsHead"], false);
    assert_eq!(check(&app, &province, &now).await["holdsHead"], true);
}

async fn a_consumer_that_kept_the_head_learns_it_was_rewritten_and_rehashed(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let province = app.token_for(Role::ProvincialSystem).await;
    for name in ["sun", "zhou"] {
        create_auditor(&app, name).await;
    }
    let kept = app.query_as(Some(&province), HEAD, json!({})).await["auditChainHead"].clone();

    // The newest entry is rewritten and given the hash its new content has:
    // the chain links as before, but not to the head the province kept.
    app.drop_append_only("audit_entry").await;
    let entry = newest(&app).await;
    let mut forged = entry.clone();
    forged.after = entry
        .after
        .as_ref()
        .map(|a| a.replace("auditor", "county_admin"));
    assert_ne!(forged.after, entry.after, "the forgery changes the entry");
    forged.hash = api::audit::entry_hash(&forged);
    let mut rewrite = entry.into_active_model();
    rewrite.after = Set(forged.after.clone());
    rewrite.hash = Set(forged.hash.clone());
    rewrite.update(&app.db).await.expect("rewrite");
    assert_eq!(
        check(&app, &province, &kept).await,
        json!({ "intact": true, "firstBrokenSequence": null, "holdsHead": false })
    );
}
