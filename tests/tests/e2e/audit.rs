//! The audit trail: every change appends an entry with who, what, before and
//! after; entries are chained, so an entry altered in the database is found.

use entity::audit_entry;
use entity::enums::Role;
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, ModelTrait, QueryOrder, Set};
use serde_json::{Value, json};
use tests::{Backend, TestApp, global_id, on_both_backends};

on_both_backends!(
    every_change_of_an_account_is_in_the_trail,
    an_entry_altered_or_removed_behind_the_service_is_found,
    register_entries_are_found_by_record_and_shaped_by_the_field_policy,
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
    // Someone with database access rewrites history: "zhou" was never made an auditor.
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

    // A register entry edited in the database breaks the chain there.
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
