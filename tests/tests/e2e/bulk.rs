//! Bulk exchange of the register over HTTP: export as NDJSON and CSV, import
//! with its report, dry runs, atomic imports, double imports, and a round trip
//! into an empty database that gives back the same register. Imports write
//! batches of two households, three at once on PostgreSQL, so that files of a
//! few lines already go through writers working side by side.

use api::config::{ImportPace, Limits};
use chrono::Datelike;
use entity::enums::{HouseholdStatus, RegionLevel, Relation, Role};
use entity::{audit_entry, household, member};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, NotSet, PaginatorTrait,
    QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde_json::{Value, json};
use std::time::Duration;
use tests::{Backend, TestApp, first_region, global_id, on_both_backends};

on_both_backends!(
    export_then_import_into_an_empty_database_gives_back_the_register,
    bad_rows_are_reported_with_their_line_field_and_reason,
    dry_runs_and_atomic_imports_keep_nothing_they_should_not,
    only_the_county_office_and_the_province_move_registers,
    a_file_moves_a_status_only_as_the_procedure_would,
    batches_written_at_once_come_out_as_the_file_in_order,
);

const HOUSEHOLDS: &str = "/exchange/households";

async fn export(app: &TestApp, query: &str) -> String {
    let response = app
        .client
        .get(app.url(&format!("{HOUSEHOLDS}?{query}")))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), 200, "export {query}");
    response.text().await.expect("the file")
}

async fn import(app: &TestApp, query: &str, file: String) -> Value {
    let response = app
        .client
        .post(app.url(&format!("{HOUSEHOLDS}?{query}")))
        .bearer_auth(&app.admin_token)
        .body(file)
        .send()
        .await
        .expect("import");
    assert_eq!(response.status(), 200, "import {query}");
    response.json().await.expect("a report")
}

/// A database with the regions of the county the seeded apps have, and no
/// household, whose imports write `batch` households per transaction.
async fn empty_county_in_batches_of(backend: &Backend, batch: u32) -> TestApp {
    let limits = Limits {
        import: ImportPace {
            import_batch: batch,
            import_writers: 3,
        },
        ..Limits::default()
    };
    let app = TestApp::spawn_with(backend, limits).await;
    app.seed(0, 7).await;
    app
}

async fn empty_county(backend: &Backend) -> TestApp {
    empty_county_in_batches_of(backend, 2).await
}

async fn audit_entries(app: &TestApp) -> u64 {
    audit_entry::Entity::find()
        .count(&app.db)
        .await
        .expect("count")
}

fn counts(report: &Value) -> [u64; 4] {
    ["created", "updated", "unchanged", "rejected"].map(|k| report[k].as_u64().expect(k))
}

/// Gives the seeded register what the seed leaves out: a plan, a status
/// history, a former member and other causes.
async fn enrich(app: &TestApp) {
    let homes = household::Entity::find()
        .order_by_asc(household::Column::Id)
        .all(&app.db)
        .await
        .expect("households");
    let home = &homes[0];
    let measure = json!({ "input": {
        "householdId": global_id("Household", home.id), "category": "DEVELOP_PRODUCTION",
        "task": "发展林下养鸡 200 羽", "standard": "年增收 3000 元", "responsible": "王村长",
        "deadline": api::domain::calendar::today().to_string(), "funds": "1500.25",
    }});
    let added = app
        .query(
            "mutation($input: AddMeasureInput!) { addMeasure(input: $input) { id version } }",
            measure,
        )
        .await;
    assert!(added["addMeasure"]["id"].is_string(), "{added}");
    // A measure done carries the day it was done, which a file must carry back.
    let done = app
        .query(
            "mutation($id: ID!, $v: Int!) { setMeasureStatus(id: $id, version: $v, status: DONE) { completedOn } }",
            json!({ "id": added["addMeasure"]["id"], "v": added["addMeasure"]["version"] }),
        )
        .await;
    assert!(
        done["setMeasureStatus"]["completedOn"].is_string(),
        "{done}"
    );
    let lifted = homes
        .iter()
        .find(|h| h.status == HouseholdStatus::LiftedOut && h.monitoring.is_none())
        .expect("a household lifted out");
    let monitored = app
        .query(
            "mutation($i: StartMonitoringInput!) { startMonitoring(input: $i) { id } }",
            json!({ "i": {
                "householdId": global_id("Household", lifted.id), "version": lifted.version,
                "category": "UNSTABLE", "risks": ["ILLNESS"], "foundBy": "CADRE_VISIT",
                "reason": "户主患病，务工中断",
            }}),
        )
        .await;
    assert!(
        monitored["startMonitoring"]["id"].is_string(),
        "{monitored}"
    );
    let leaving = member::Entity::find()
        .filter(member::Column::Relation.ne(Relation::Head))
        .order_by_asc(member::Column::Id)
        .one(&app.db)
        .await
        .expect("read")
        .expect("a member besides the head");
    let removed = app
        .query(
            "mutation($id: ID!, $v: Int!) { removeMember(id: $id, version: $v, reason: \"外嫁\") { active } }",
            json!({ "id": global_id("Member", leaving.id), "v": leaving.version }),
        )
        .await;
    assert_eq!(removed["removeMember"]["active"], false, "{removed}");
    let causes = app
        .query(
            "mutation($i: HouseholdPatch!) { updateHousehold(input: $i) { otherCauses } }",
            json!({ "i": { "id": global_id("Household", homes[2].id), "version": homes[2].version,
                "mainCause": "ILLNESS", "otherCauses": ["LACK_OF_SKILLS", "LACK_OF_FUNDS"] } }),
        )
        .await;
    assert_eq!(
        causes["updateHousehold"]["otherCauses"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

/// What the trail shows of one household's import: its one entry holds the
/// card, its members and incomes and history as the file gave them.
async fn imported_card_is_in_its_entry(app: &TestApp, record: &Value) {
    let home = household::Entity::find()
        .filter(household::Column::Number.eq(record["number"].as_str().expect("number")))
        .one(&app.db)
        .await
        .expect("read")
        .expect("the household imported");
    let trail = app
        .query(
            "query($id: Int!) { auditEntries(filter: { entityType: \"Household\", entityId: $id }) {
                nodes { action before after } } }",
            json!({ "id": home.id }),
        )
        .await;
    let entries = trail["auditEntries"]["nodes"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{trail}");
    let entry = &entries[0];
    assert_eq!(entry["action"], "household.import");
    assert_eq!(entry["before"], Value::Null);
    let after = &entry["after"];
    assert_eq!(after["number"], record["number"]);
    let id_numbers = |list: &Value| -> Vec<Value> {
        list.as_array()
            .expect("members")
            .iter()
            .map(|m| m["idNumber"].clone())
            .collect()
    };
    assert_eq!(
        id_numbers(&after["members"]),
        id_numbers(&record["members"])
    );
    assert!(after["members"][0]["id"].is_string(), "{after}");
    assert_eq!(
        after["incomes"].as_array().map(Vec::len),
        record["incomes"].as_array().map(Vec::len)
    );
    assert_eq!(
        after["statusHistory"].as_array().map(Vec::len),
        record["statusHistory"].as_array().map(Vec::len)
    );
    assert_eq!(
        after["plan"]["measures"][0]["task"], record["plan"][0]["task"],
        "{after}"
    );
}

async fn export_then_import_into_an_empty_database_gives_back_the_register(backend: Backend) {
    let (source, report) = TestApp::seeded(&backend, 30).await;
    enrich(&source).await;
    let ndjson = export(&source, "format=ndjson").await;
    let csv = export(&source, "format=csv").await;
    assert_eq!(ndjson.lines().count(), report.households);
    let first: Value = serde_json::from_str(ndjson.lines().next().expect("a line")).expect("JSON");
    assert!(
        first["members"][0]["idNumber"]
            .as_str()
            .is_some_and(|n| n.len() == 18)
    );
    assert_eq!(first["plan"][0]["fundsFen"], 150025);
    assert!(
        ndjson.contains("\"monitoring_started\""),
        "the history is exported"
    );
    assert!(csv.starts_with("record,number,village,"));
    assert!(first["plan"][0]["completedOn"].is_string(), "{first}");
    assert!(
        first["statusHistory"][0]["decision"].is_string(),
        "an enrolment is exported with its decision: {first}"
    );

    // Each format, into its own empty county, gives back the same register.
    for (format, file) in [("ndjson", &ndjson), ("csv", &csv)] {
        let target = empty_county(&backend).await;
        let before = audit_entries(&target).await;
        let done = import(&target, &format!("format={format}"), file.clone()).await;
        assert_eq!(
            counts(&done),
            [report.households as u64, 0, 0, 0],
            "{format}: {done}"
        );
        assert_eq!(done["applied"], true);
        same_file(&export(&target, "format=ndjson").await, &ndjson, format);
        same_file(&export(&target, "format=csv").await, &csv, format);

        let chain = api::audit::verify(&target.db).await.expect("verify");
        assert_eq!(chain.first_broken, None, "the import's audit entries chain");
        assert_eq!(
            audit_entries(&target).await - before,
            report.households as u64,
            "{format}: one audit entry per household imported"
        );
        imported_card_is_in_its_entry(&target, &first).await;

        // The same file again changes nothing, not even the audit trail.
        let entries = audit_entries(&target).await;
        let again = import(&target, &format!("format={format}"), file.clone()).await;
        assert_eq!(
            counts(&again),
            [0, 0, report.households as u64, 0],
            "{format}: {again}"
        );
        assert_eq!(audit_entries(&target).await, entries);
    }

    // A region's export holds that region's households only.
    let village = first_region(&source.db, RegionLevel::Village).await;
    let in_village = household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .count(&source.db)
        .await
        .expect("count");
    let part = export(&source, &format!("region={}", village.code)).await;
    assert_eq!(part.lines().count() as u64, in_village);
}

/// Files equal line by line (a failure shows the first line that differs).
fn same_file(got: &str, expected: &str, what: &str) {
    for (i, (got, expected)) in got.lines().zip(expected.lines()).enumerate() {
        assert_eq!(got, expected, "{what} round trip, line {}", i + 1);
    }
    assert_eq!(
        got.lines().count(),
        expected.lines().count(),
        "{what} round trip"
    );
}

/// A seeded source register and its households as NDJSON records, for files made by hand.
async fn sample(backend: &Backend, households: u32) -> (TestApp, Vec<Value>) {
    let (source, _) = TestApp::seeded(backend, households).await;
    let records = export(&source, "format=ndjson")
        .await
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .collect();
    (source, records)
}

/// The ID number of a current member of a household record.
fn current_person(record: &Value) -> Value {
    record["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["active"] == true)
        .expect("a current member")["idNumber"]
        .clone()
}

fn ndjson(records: &[Value]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

async fn bad_rows_are_reported_with_their_line_field_and_reason(backend: Backend) {
    let (_source, records) = sample(&backend, 6).await;
    let target = empty_county(&backend).await;

    let mut bad_id = records[1].clone();
    let id_number = bad_id["members"][0]["idNumber"]
        .as_str()
        .expect("ID")
        .to_owned();
    let wrong_check = if id_number.ends_with('0') { "1" } else { "0" };
    bad_id["members"][0]["idNumber"] = json!(format!("{}{wrong_check}", &id_number[..17]));
    let mut unknown_village = records[2].clone();
    unknown_village["village"] = json!("999999999999");
    let mut bad_enum = records[3].clone();
    bad_enum["members"][0]["health"] = json!("immortal");
    let mut bad_number = records[5].clone();
    bad_number["number"] = json!("52269900000000001");
    // A new household listing a person current in a household before it in
    // the same batch: only the register can tell.
    let mut person_elsewhere = records[5].clone();
    person_elsewhere["members"][0]["idNumber"] = current_person(&records[0]);
    let file = [
        records[0].to_string(),
        bad_id.to_string(),
        "{ not json".to_owned(),
        unknown_village.to_string(),
        bad_enum.to_string(),
        records[4].to_string(),
        person_elsewhere.to_string(),
        bad_number.to_string(),
        records[0].to_string(),
    ]
    .join("\n");
    let report = import(&target, "format=ndjson", file).await;
    assert_eq!(counts(&report), [2, 0, 1, 6], "{report}");
    let rejections = report["rejections"].as_array().expect("rejections");
    let at = |line: u64| {
        rejections
            .iter()
            .find(|r| r["line"] == line)
            .unwrap_or_else(|| panic!("no rejection at line {line}: {report}"))
    };
    assert_eq!(at(2)["field"], "members[0].idNumber");
    assert!(
        at(2)["reason"].as_str().expect("reason").contains("check"),
        "{}",
        at(2)
    );
    assert!(at(3)["field"].is_null(), "{}", at(3));
    assert_eq!(at(4)["field"], "village");
    assert_eq!(at(5)["field"], "members[0].health");
    assert_eq!(at(7)["field"], "members[0].idNumber");
    let first_number = records[0]["number"].as_str().expect("number");
    assert!(
        at(7)["reason"]
            .as_str()
            .expect("reason")
            .contains(&format!("already a member of household {first_number}")),
        "{}",
        at(7)
    );
    assert_eq!(at(8)["field"], "number");
    let lines: Vec<u64> = rejections
        .iter()
        .map(|r| r["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, [2, 3, 4, 5, 7, 8], "in file order: {report}");
    let numbers: Vec<String> = household::Entity::find()
        .order_by_asc(household::Column::Number)
        .all(&target.db)
        .await
        .expect("households")
        .into_iter()
        .map(|h| h.number)
        .collect();
    let expected = |i: usize| records[i]["number"].as_str().expect("number").to_owned();
    assert_eq!(
        numbers,
        vec![expected(0), expected(4)],
        "a rejected household leaves nothing"
    );
    assert_eq!(
        member::Entity::find()
            .count(&target.db)
            .await
            .expect("count") as usize,
        records[0]["members"].as_array().map_or(0, Vec::len)
            + records[4]["members"].as_array().map_or(0, Vec::len)
    );

    // In CSV the rejection names the row and the column at fault.
    let other = empty_county(&backend).await;
    let source_csv = {
        let (source, _) = TestApp::seeded(&backend, 2).await;
        export(&source, "format=csv").await
    };
    let mut lines: Vec<String> = source_csv.lines().map(str::to_owned).collect();
    let member_line = lines
        .iter()
        .position(|l| l.starts_with("member,"))
        .expect("a member row");
    lines[member_line] = lines[member_line].replacen(",true,", ",maybe,", 1);
    let report = import(&other, "format=csv", lines.join("\n")).await;
    assert_eq!(counts(&report), [1, 0, 0, 1], "{report}");
    let rejection = &report["rejections"][0];
    assert_eq!(rejection["line"], member_line as u64 + 1);
    assert_eq!(rejection["field"], "basicMedicalInsurance");
    assert!(
        rejection["reason"]
            .as_str()
            .expect("reason")
            .contains("true or false")
    );

    // A file that is not in the format asked for is refused as a whole.
    let refused = target
        .client
        .post(target.url(&format!("{HOUSEHOLDS}?format=csv")))
        .bearer_auth(&target.admin_token)
        .body("number,colour\n1,red\n")
        .send()
        .await
        .expect("import");
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}

async fn dry_runs_and_atomic_imports_keep_nothing_they_should_not(backend: Backend) {
    let (_source, records) = sample(&backend, 6).await;
    let target = empty_county(&backend).await;
    let good = ndjson(&records);
    let count = records.len() as u64;

    let entries = audit_entries(&target).await;
    let dry = import(&target, "mode=dry-run", good.clone()).await;
    assert_eq!(counts(&dry), [count, 0, 0, 0], "{dry}");
    assert_eq!(dry["applied"], false);
    assert_eq!(
        household::Entity::find()
            .count(&target.db)
            .await
            .expect("count"),
        0
    );
    assert_eq!(audit_entries(&target).await, entries);

    let mut with_bad = records.clone();
    with_bad[3]["address"] = json!("  ");
    let atomic = import(&target, "mode=atomic", ndjson(&with_bad)).await;
    assert_eq!(counts(&atomic), [count - 1, 0, 0, 1], "{atomic}");
    assert_eq!(atomic["applied"], false);
    assert_eq!(atomic["rejections"][0]["line"], 4);
    assert_eq!(atomic["rejections"][0]["field"], "address");
    assert_eq!(
        household::Entity::find()
            .count(&target.db)
            .await
            .expect("count"),
        0
    );

    let whole = import(&target, "mode=atomic", good).await;
    assert_eq!(counts(&whole), [count, 0, 0, 0], "{whole}");
    assert_eq!(whole["applied"], true);

    // A correction is an update, audited as one; the rest stays unchanged.
    let mut corrected = records.clone();
    corrected[0]["address"] = json!("新村 8 号");
    corrected[0]["members"][0]["education"] = json!("junior_middle");
    let entries = audit_entries(&target).await;
    let update = import(&target, "", ndjson(&corrected)).await;
    assert_eq!(counts(&update), [0, 1, count - 1, 0], "{update}");
    assert_eq!(
        audit_entries(&target).await,
        entries + 1,
        "one entry per household"
    );
    let number = corrected[0]["number"].as_str().expect("number");
    let home = household::Entity::find()
        .filter(household::Column::Number.eq(number))
        .one(&target.db)
        .await
        .expect("read")
        .expect("the household");
    assert_eq!(home.address, "新村 8 号");
    assert_eq!(home.version, 2);
    assert_eq!(
        target.audit_actions("Household", home.id).await,
        vec!["household.import", "household.import"]
    );
    let trail = target
        .query(
            "query($id: Int!) { auditEntries(filter: { entityType: \"Household\", entityId: $id }) {
                nodes { before after } } }",
            json!({ "id": home.id }),
        )
        .await;
    let correction = &trail["auditEntries"]["nodes"][0];
    assert_eq!(correction["before"]["address"], records[0]["address"]);
    assert_eq!(
        correction["after"],
        json!({
            "address": "新村 8 号",
            "version": 2,
            "members": [correction["after"]["members"][0].clone()],
        }),
        "the entry holds what changed: {correction}"
    );
    assert_eq!(
        correction["after"]["members"][0]["education"],
        "JUNIOR_MIDDLE"
    );
    assert_ne!(
        correction["before"]["members"][0]["education"],
        "JUNIOR_MIDDLE"
    );

    // The history on record cannot be rewritten by a file.
    let mut rewritten = corrected.clone();
    let at = chrono::Utc::now() - chrono::Duration::hours(1);
    rewritten[0]["status"] = json!("removed");
    rewritten[0]["monitoring"] = Value::Null;
    rewritten[0]["statusHistory"]
        .as_array_mut()
        .expect("the history on record")
        .push(json!({
            "at": at, "action": "removed", "fromStatus": records[0]["status"], "toStatus": "removed",
            "fromMonitoring": records[0]["monitoring"], "toMonitoring": null, "year": null,
            "reason": "清退：家庭有财政供养人员", "actor": "省扶贫办",
        }));
    let appended = import(&target, "", ndjson(&rewritten[..1])).await;
    assert_eq!(counts(&appended), [0, 1, 0, 0], "{appended}");
    rewritten[0]["statusHistory"] = json!([]);
    let refused = import(&target, "", ndjson(&rewritten[..1])).await;
    assert_eq!(counts(&refused), [0, 0, 0, 1], "{refused}");
    assert_eq!(refused["rejections"][0]["field"], "statusHistory");
}

async fn only_the_county_office_and_the_province_move_registers(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 4).await;
    let call = |method: reqwest::Method, token: Option<String>, query: &'static str| {
        let mut request = app
            .client
            .request(method, app.url(&format!("{HOUSEHOLDS}?{query}")));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.body("").send().await.expect("request");
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body["errors"][0]["extensions"]["code"].clone())
        }
    };
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;
    assert_eq!(
        call(get.clone(), None, "").await,
        (401, json!("UNAUTHENTICATED"))
    );
    for role in [
        Role::TownshipOfficer,
        Role::VillageCadre,
        Role::HelperCadre,
        Role::Enterprise,
    ] {
        let token = Some(app.token_for(role).await);
        assert_eq!(
            call(get.clone(), token.clone(), "").await,
            (403, json!("FORBIDDEN")),
            "{role:?}"
        );
        assert_eq!(
            call(post.clone(), token, "").await,
            (403, json!("FORBIDDEN")),
            "{role:?}"
        );
    }
    let auditor = Some(app.token_for(Role::Auditor).await);
    assert_eq!(call(get.clone(), auditor.clone(), "").await.0, 200);
    assert_eq!(
        call(post.clone(), auditor, "").await,
        (403, json!("FORBIDDEN"))
    );
    let province = Some(app.token_for(Role::ProvincialSystem).await);
    assert_eq!(call(get.clone(), province.clone(), "").await.0, 200);
    assert_eq!(call(post.clone(), province.clone(), "").await.0, 200);
    for bad in ["format=xml", "region=000000", "colour=red"] {
        assert_eq!(
            call(get.clone(), province.clone(), bad).await,
            (400, json!("BAD_USER_INPUT")),
            "{bad}"
        );
    }
    assert_eq!(
        call(post.clone(), province, "mode=sometimes").await,
        (400, json!("BAD_USER_INPUT"))
    );
}

/// A status entry of a file, documented as a province would send it.
fn entry(action: &str, from: &str, to: &str, year: Option<i32>, decision: Option<&str>) -> Value {
    json!({
        "at": chrono::Utc::now() - chrono::Duration::hours(1), "action": action,
        "fromStatus": from, "toStatus": to, "fromMonitoring": null, "toMonitoring": null,
        "year": year, "decision": decision, "reason": "省级核查", "actor": "省扶贫办",
    })
}

/// Where a file leaves a household's status: the card's and the last entry of its history.
async fn status_of(app: &TestApp, number: &str) -> (String, Value) {
    let home = household::Entity::find()
        .filter(household::Column::Number.eq(number))
        .one(&app.db)
        .await
        .expect("read")
        .expect("the household");
    let card = app
        .query(
            "query($h: ID!) { household(id: $h) { status statusHistory { action year decision actor } } }",
            json!({ "h": global_id("Household", home.id) }),
        )
        .await;
    let card = &card["household"];
    let last = card["statusHistory"]
        .as_array()
        .and_then(|h| h.last())
        .cloned()
        .unwrap_or(Value::Null);
    (card["status"].as_str().expect("status").to_owned(), last)
}

/// The lifecycle is the one authority on status: a file may move a status only
/// by moves the procedure allows, each documented, and never decide what a
/// proposal in public notice is waiting for.
async fn a_file_moves_a_status_only_as_the_procedure_would(backend: Backend) {
    let (_source, records) = sample(&backend, 20).await;
    let target = empty_county(&backend).await;
    let year = api::domain::calendar::today().year();
    let others = import(&target, "", ndjson(&records[1..])).await;
    assert_eq!(
        counts(&others),
        [records.len() as u64 - 1, 0, 0, 0],
        "{others}"
    );

    // A new household enters as the mutations file it: not poor, with no history.
    let mut bare = records[0].clone();
    bare["statusHistory"] = json!([]);
    let refused = import(&target, "", ndjson(&[bare.clone()])).await;
    assert_eq!(counts(&refused), [0, 0, 0, 1], "{refused}");
    assert_eq!(refused["rejections"][0]["field"], "status", "{refused}");
    let reason = refused["rejections"][0]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.contains("statusHistory") && reason.contains("NOT_POOR"),
        "{reason}"
    );
    let mut filed = bare;
    for key in ["enrolledYear", "liftedOutYear", "monitoring"] {
        filed[key] = Value::Null;
    }
    filed["status"] = json!("not_poor");
    let created = import(&target, "", ndjson(&[filed.clone()])).await;
    assert_eq!(counts(&created), [1, 0, 0, 0], "{created}");
    let number = filed["number"].as_str().expect("number");

    // Its identification is in public notice: a file cannot decide it meanwhile.
    let home = household::Entity::find()
        .filter(household::Column::Number.eq(number))
        .one(&target.db)
        .await
        .expect("read")
        .expect("the household");
    let today = api::domain::calendar::today();
    let proposed = target
        .query(
            "mutation($i: ProposeInput!) { propose(input: $i) { stage } }",
            json!({ "i": {
                "householdId": global_id("Household", home.id), "kind": "IDENTIFICATION",
                "reason": "家庭人均纯收入低于扶贫标准", "evidence": ["收入核查表.pdf"],
                "origin": "APPLICATION",
                "appraisal": { "heldOn": today.to_string(), "attendance": 20, "votesFor": 18,
                    "votesAgainst": 0, "minutesReference": "村民代表会议记录第1号" },
                "noticeStartsOn": today.to_string(),
                "noticeEndsOn": (today + chrono::Days::new(7)).to_string(),
            }}),
        )
        .await;
    assert_eq!(proposed["propose"]["stage"], "NOTICE", "{proposed}");
    let mut enrol = filed.clone();
    enrol["status"] = json!("enrolled");
    enrol["enrolledYear"] = json!(year);
    enrol["statusHistory"] = json!([entry(
        "enrolled",
        "not_poor",
        "enrolled",
        Some(year),
        Some("省扶贫开发领导小组〔2026〕3号")
    )]);
    let refused = import(&target, "", ndjson(&[enrol])).await;
    assert_eq!(counts(&refused), [0, 0, 0, 1], "{refused}");
    assert_eq!(refused["rejections"][0]["field"], "statusHistory[0]");
    let reason = refused["rejections"][0]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("proposal is in progress"), "{reason}");
    assert_eq!(
        status_of(&target, number).await,
        ("NOT_POOR".to_owned(), Value::Null)
    );

    // An exit: refused undocumented, before the enrolment, or as a move the
    // table does not allow; applied, with its history, when documented.
    let poor = records[1..]
        .iter()
        .find(|r| r["status"] == "enrolled" && r["monitoring"].is_null())
        .expect("an enrolled household in the sample");
    let number = poor["number"].as_str().expect("number");
    let enrolled = poor["enrolledYear"].as_i64().expect("enrolment year") as i32;
    let on_file = poor["statusHistory"].as_array().expect("history").len();
    let exit = |entry: Value| {
        let mut out = poor.clone();
        out["status"] = json!("lifted_out");
        out["liftedOutYear"] = entry["year"].clone();
        out["statusHistory"]
            .as_array_mut()
            .expect("history")
            .push(entry);
        out
    };
    let field = |name: &str| format!("statusHistory[{on_file}].{name}");
    let cases = [
        (
            exit(entry(
                "lifted_out",
                "enrolled",
                "lifted_out",
                Some(year),
                None,
            )),
            field("decision"),
        ),
        (
            exit(entry(
                "lifted_out",
                "enrolled",
                "lifted_out",
                Some(enrolled - 1),
                Some("省〔2026〕9号"),
            )),
            field("year"),
        ),
        (
            {
                let mut back = exit(entry("returned", "enrolled", "returned", None, None));
                back["status"] = json!("returned");
                back["liftedOutYear"] = Value::Null;
                back
            },
            field("action"),
        ),
        (
            {
                let mut undocumented = poor.clone();
                undocumented["status"] = json!("lifted_out");
                undocumented["liftedOutYear"] = json!(year);
                undocumented
            },
            "status".to_owned(),
        ),
    ];
    for (record, expected) in cases {
        let refused = import(&target, "", ndjson(&[record])).await;
        assert_eq!(counts(&refused), [0, 0, 0, 1], "{refused}");
        assert_eq!(
            refused["rejections"][0]["field"],
            json!(expected),
            "{refused}"
        );
    }
    assert_eq!(status_of(&target, number).await.0, "ENROLLED");

    let decided = exit(entry(
        "lifted_out",
        "enrolled",
        "lifted_out",
        Some(year),
        Some("省扶贫开发领导小组〔2026〕12号"),
    ));
    let applied = import(&target, "", ndjson(&[decided])).await;
    assert_eq!(counts(&applied), [0, 1, 0, 0], "{applied}");
    assert_eq!(
        status_of(&target, number).await,
        (
            "LIFTED_OUT".to_owned(),
            json!({ "action": "LIFTED_OUT", "year": year, "decision": "省扶贫开发领导小组〔2026〕12号", "actor": "省扶贫办" })
        )
    );
}

/// A batch held up does not let a later one get ahead of it. The first batch
/// waits for a person another transaction is adding to a household on file,
/// and when that commits, falls back to writing its households one by one:
/// the second batch, which names nothing of the first, is written meanwhile
/// but numbered after it (an export gives the file back in order), and the
/// third, naming a person of the first, waits for it (the earlier line wins
/// the person).
async fn batches_written_at_once_come_out_as_the_file_in_order(backend: Backend) {
    let (source, records) = sample(&backend, 8).await;
    let target = empty_county(&backend).await;
    let number = |i: usize| records[i]["number"].clone();

    // Household 5 is on file; another transaction adds a person to it.
    let first_import = import(&target, "format=ndjson", ndjson(&records[5..6])).await;
    assert_eq!(counts(&first_import), [1, 0, 0, 0], "{first_import}");
    let on_file = household::Entity::find()
        .filter(household::Column::Number.eq(records[5]["number"].as_str().expect("number")))
        .one(&target.db)
        .await
        .expect("the household")
        .expect("on file");
    let person = member::Entity::find()
        .filter(
            member::Column::IdNumber.eq(current_person(&records[4]).as_str().expect("ID number")),
        )
        .one(&source.db)
        .await
        .expect("a member")
        .expect("on file");
    let person_id = json!(person.id_number);
    let blocker = target.db.begin().await.expect("begin");
    member::ActiveModel {
        id: NotSet,
        household_id: Set(on_file.id),
        relation: Set(Relation::Other),
        ..person.into_active_model()
    }
    .insert(&blocker)
    .await
    .expect("held member");

    let mut takes_the_held_person = records[1].clone();
    takes_the_held_person["members"][0]["idNumber"] = person_id;
    let mut takes_a_person_of_the_first = records[3].clone();
    takes_a_person_of_the_first["members"][0]["idNumber"] = current_person(&records[0]);
    // Batches of two: [0, 1], [2, 6], [3].
    let file = ndjson(&[
        records[0].clone(),
        takes_the_held_person,
        records[2].clone(),
        records[6].clone(),
        takes_a_person_of_the_first,
    ]);
    let importing = {
        let (client, url, token) = (
            target.client.clone(),
            target.url(&format!("{HOUSEHOLDS}?format=ndjson")),
            target.admin_token.clone(),
        );
        tokio::spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .body(file)
                .send()
                .await
                .expect("import");
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.expect("a report")
        })
    };
    // Time for batches that do not wait to be written.
    tokio::time::sleep(Duration::from_millis(750)).await;
    blocker.commit().await.expect("commit");
    let report = importing.await.expect("the import");

    assert_eq!(counts(&report), [3, 0, 0, 2], "{report}");
    let rejected: Vec<(Value, Value)> = report["rejections"]
        .as_array()
        .expect("rejections")
        .iter()
        .map(|r| (r["line"].clone(), r["field"].clone()))
        .collect();
    assert_eq!(
        rejected,
        [
            (json!(2), json!("members[0].idNumber")),
            (json!(5), json!("members[0].idNumber"))
        ],
        "{report}"
    );
    let exported: Vec<Value> = export(&target, "format=ndjson")
        .await
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .collect();
    assert_eq!(
        exported
            .iter()
            .map(|r| r["number"].clone())
            .collect::<Vec<_>>(),
        [number(5), number(0), number(2), number(6)],
        "numbered in file order"
    );
    assert_eq!(exported[1], records[0], "the first line keeps its people");
}
