//! Editing the filing card over HTTP: households and members with validation,
//! versions that stop silent overwrites, idempotency keys that stop duplicates,
//! the card as of a date, and every change in the audit trail.

use chrono::{Duration, Utc};
use entity::enums::{RegionLevel, Role};
use entity::{card_revision, household, member};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{Backend, TestApp, first_region, global_id, household_input, on_both_backends, person};

on_both_backends!(
    a_household_is_filed_with_valid_members_and_refused_with_clear_errors,
    a_retried_create_files_one_household,
    twenty_concurrent_edits_of_one_version_let_exactly_one_win,
    members_move_leave_and_change_head_and_the_card_remembers,
    incomes_are_exact_never_negative_and_versioned,
    a_stale_edit_shows_the_current_record_as_the_api_does,
);

const CREATE: &str = "mutation($input: CreateHouseholdInput!) { createHousehold(input: $input) {
    id number status enrolledYear version village { id }
    head { name idNumber gender relation }
    members { name relation active }
    otherCauses } }";

const UPDATE: &str = "mutation($input: HouseholdPatch!) { updateHousehold(input: $input) {
    address version conditions { housingAreaM2 isDilapidated dilapidatedGrade } } }";

/// A valid ID number: region 520102, a birth date, a sequence whose last digit gives the gender.
fn id_number(birth: &str, sequence: u32) -> String {
    api::codes::id_number(&format!("520102{birth}{sequence:03}"))
}

/// The first error's code and field.
fn refusal(body: &Value) -> (String, String) {
    let error = &body["errors"][0];
    (
        error["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        error["extensions"]["field"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

async fn village_id(app: &TestApp) -> (String, String) {
    let village = first_region(&app.db, RegionLevel::Village).await;
    (global_id("Village", village.id), village.code)
}

async fn file_household(app: &TestApp, token: &str, head_id: &str, spouse_id: &str) -> Value {
    let (village, _) = village_id(app).await;
    let input = household_input(
        &village,
        person("王建国", head_id, "HEAD"),
        vec![person("李秀英", spouse_id, "SPOUSE")],
    );
    app.query_as(Some(token), CREATE, json!({ "input": input }))
        .await["createHousehold"]
        .clone()
}

async fn a_household_is_filed_with_valid_members_and_refused_with_clear_errors(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 20).await;
    let (_, token) = app.user_for(Role::VillageCadre).await;
    let (village, code) = village_id(&app).await;
    let head = id_number("19700101", 11);
    let spouse = id_number("19720202", 22);
    let created = file_household(&app, &token, &head, &spouse).await;
    assert_eq!(created["status"], "NOT_POOR");
    assert!(created["enrolledYear"].is_null());
    assert_eq!(created["version"], 1);
    assert_eq!(created["village"]["id"], village.as_str());
    let number = created["number"].as_str().expect("number");
    assert!(number.starts_with(&code) && number.len() == 17);
    let seeded_max = household::Entity::find()
        .filter(household::Column::Number.starts_with(&code))
        .filter(household::Column::Number.ne(number))
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(
        number[12..].parse::<u64>().expect("sequence"),
        seeded_max + 1
    );
    assert_eq!(created["head"]["name"], "王建国");
    let birth = app
        .query(
            "query($id: ID!) { household(id: $id) { head { birthDate idNumber } } }",
            json!({ "id": created["id"] }),
        )
        .await;
    assert_eq!(birth["household"]["head"]["birthDate"], "1970-01-01");
    assert_eq!(birth["household"]["head"]["idNumber"], head.as_str());
    assert_eq!(created["head"]["gender"], "MALE", "odd 17th digit");
    assert_eq!(created["members"][1]["relation"], "SPOUSE");
    assert_eq!(created["otherCauses"], json!(["LACK_OF_FUNDS"]));

    // Each refusal names the field at fault and changes nothing.
    let before = household::Entity::find()
        .count(&app.db)
        .await
        .expect("count");
    let mut wrong_check = head.clone();
    wrong_check.replace_range(17.., if head.ends_with('1') { "2" } else { "1" });
    let cases = [
        (
            person("赵一", &wrong_check, "HEAD"),
            vec![],
            "head.idNumber",
        ),
        (
            person("赵一", &id_number("19800101", 13), "HEAD"),
            vec![person("赵二", &id_number("19800101", 13), "SON")],
            "members[0].idNumber",
        ),
        (
            person("赵一", &id_number("19800101", 15), "HEAD"),
            vec![person("赵二", &id_number("20100101", 17), "HEAD")],
            "members[0].relation",
        ),
        (person("赵一", &head, "HEAD"), vec![], "head.idNumber"),
        (
            {
                let mut p = person("赵一", &id_number("19800101", 19), "HEAD");
                p["gender"] = json!("FEMALE");
                p
            },
            vec![],
            "head.gender",
        ),
        (
            {
                let mut p = person("赵一", &id_number("19800101", 21), "HEAD");
                p["health"] = json!("DISABLED");
                p
            },
            vec![],
            "head.disabilityGrade",
        ),
        (
            person("赵一", &id_number("19800101", 23), "SON"),
            vec![],
            "head.relation",
        ),
    ];
    for (head, members, field) in cases {
        let input = household_input(&village, head, members);
        let body = app
            .graphql_as(Some(&token), CREATE, json!({ "input": input }))
            .await;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".to_owned(), field.to_owned()),
            "{body}"
        );
    }
    let mut negative = household_input(
        &village,
        person("赵一", &id_number("19800101", 25), "HEAD"),
        vec![],
    );
    negative["conditions"]["housingAreaM2"] = json!(-1.0);
    let body = app
        .graphql_as(Some(&token), CREATE, json!({ "input": negative }))
        .await;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "conditions.housingAreaM2".into())
    );
    let mut bad_enum = household_input(
        &village,
        person("赵一", &id_number("19800101", 27), "HEAD"),
        vec![],
    );
    bad_enum["attribute"] = json!("RICH");
    let body = app
        .graphql_as(Some(&token), CREATE, json!({ "input": bad_enum }))
        .await;
    assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"], "{body}");
    assert_eq!(
        household::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        before,
        "no refused request filed anything"
    );

    // Outside the cadre's village the village does not exist for them; helpers may not file.
    let other = tests::regions(&app.db, RegionLevel::Village).await;
    let elsewhere = global_id("Village", other[1].id);
    let input = household_input(
        &elsewhere,
        person("钱一", &id_number("19800101", 29), "HEAD"),
        vec![],
    );
    let body = app
        .graphql_as(Some(&token), CREATE, json!({ "input": input.clone() }))
        .await;
    assert_eq!(TestApp::error_codes(&body), ["NOT_FOUND"]);
    let helper = app.token_for(Role::HelperCadre).await;
    let body = app
        .graphql_as(Some(&helper), CREATE, json!({ "input": input }))
        .await;
    assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"]);
}

async fn a_retried_create_files_one_household(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 10).await;
    let (_, token) = app.user_for(Role::VillageCadre).await;
    let (village, _) = village_id(&app).await;
    let mut input = household_input(
        &village,
        person("孙一", &id_number("19650505", 31), "HEAD"),
        vec![],
    );
    input["idempotencyKey"] = json!("a6f1c7e2-retry");
    let before = household::Entity::find()
        .count(&app.db)
        .await
        .expect("count");
    let requests =
        (0..5).map(|_| app.graphql_as(Some(&token), CREATE, json!({ "input": input.clone() })));
    let bodies = futures::future::join_all(requests).await;
    let ids: Vec<&Value> = bodies
        .iter()
        .map(|b| {
            assert!(b.get("errors").is_none(), "{b}");
            &b["data"]["createHousehold"]["id"]
        })
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(
        household::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        before + 1
    );
    input["address"] = json!("另一个地址");
    let body = app
        .graphql_as(Some(&token), CREATE, json!({ "input": input }))
        .await;
    assert_eq!(TestApp::error_codes(&body), ["CONFLICT"]);
}

async fn twenty_concurrent_edits_of_one_version_let_exactly_one_win(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 10).await;
    let target = household::Entity::find()
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household");
    let id = global_id("Household", target.id);
    let edits = (0..20).map(|i| {
        let input =
            json!({ "id": id, "version": target.version, "address": format!("新地址{i}号") });
        app.graphql(UPDATE, json!({ "input": input }))
    });
    let bodies = futures::future::join_all(edits).await;
    let winners: Vec<&Value> = bodies
        .iter()
        .filter(|b| b.get("errors").is_none())
        .collect();
    assert_eq!(winners.len(), 1, "{bodies:?}");
    let won = &winners[0]["data"]["updateHousehold"];
    assert_eq!(won["version"], target.version + 1);
    for body in bodies.iter().filter(|b| b.get("errors").is_some()) {
        assert_eq!(TestApp::error_codes(body), ["CONFLICT"], "{body}");
        let current = &body["errors"][0]["extensions"]["current"];
        assert_eq!(current["version"], target.version + 1);
        assert_eq!(current["address"], won["address"]);
    }
    let stored = household::Entity::find_by_id(target.id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("household");
    assert_eq!(json!(stored.address), won["address"]);
    assert_eq!(stored.version, target.version + 1);
    let trail = app
        .query(
            "query($id: Int!) { auditEntries(filter: { entityType: \"Household\", entityId: $id }) {
                nodes { action before after } } }",
            json!({ "id": target.id }),
        )
        .await;
    let entries = trail["auditEntries"]["nodes"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "one change, one entry: {entries:?}");
    assert_eq!(entries[0]["action"], "household.update");
    assert_eq!(entries[0]["before"]["address"], json!(target.address));
    assert_eq!(entries[0]["after"]["address"], won["address"]);

    // A change from the old version later still conflicts; from the new one it passes.
    let stale = app
        .graphql(
            UPDATE,
            json!({ "input": { "id": id, "version": target.version, "conditions": {
                "cultivatedLandMu": 1.0, "housingAreaM2": 80.0, "safeDrinkingWater": true,
                "productionElectricity": true, "householdElectricity": true,
                "roadDistanceKm": 0.5, "joinedCooperative": true } } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"]);
    let fresh = app
        .query(
            UPDATE,
            json!({ "input": { "id": id, "version": target.version + 1, "conditions": {
                "cultivatedLandMu": 1.0, "housingAreaM2": 80.0, "safeDrinkingWater": true,
                "productionElectricity": true, "householdElectricity": true,
                "roadDistanceKm": 0.5, "joinedCooperative": true } } }),
        )
        .await;
    assert_eq!(fresh["updateHousehold"]["version"], target.version + 2);
    assert_eq!(
        fresh["updateHousehold"]["conditions"]["isDilapidated"],
        false
    );
}

async fn members_move_leave_and_change_head_and_the_card_remembers(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 10).await;
    let (_, token) = app.user_for(Role::VillageCadre).await;
    let first = file_household(
        &app,
        &token,
        &id_number("19600303", 41),
        &id_number("19620404", 42),
    )
    .await;
    let second = file_household(
        &app,
        &token,
        &id_number("19550606", 43),
        &id_number("19580707", 44),
    )
    .await;
    let first_id = first["id"].as_str().expect("id").to_owned();
    let raw_first: i64 = household::Entity::find()
        .filter(household::Column::Number.eq(first["number"].as_str().expect("number")))
        .one(&app.db)
        .await
        .expect("query")
        .expect("household")
        .id;
    // The card as it was filed is moved ten days back, as if filed then.
    card_revision::Entity::update_many()
        .col_expr(
            card_revision::Column::At,
            Expr::value(Utc::now() - Duration::days(10)),
        )
        .filter(card_revision::Column::HouseholdId.eq(raw_first))
        .exec(&app.db)
        .await
        .expect("backdate");
    household::Entity::update_many()
        .col_expr(
            household::Column::CreatedAt,
            Expr::value(Utc::now() - Duration::days(10)),
        )
        .filter(household::Column::Id.eq(raw_first))
        .exec(&app.db)
        .await
        .expect("backdate");

    let members = |h: &str| {
        let h = h.to_owned();
        let app = &app;
        async move {
            app.query(
                "query($id: ID!) { household(id: $id) { version members { id name relation version } } }",
                json!({ "id": h }),
            )
            .await["household"]
                .clone()
        }
    };
    let card = members(&first_id).await;
    let spouse = card["members"][1].clone();
    assert_eq!(spouse["relation"], "SPOUSE");
    const ADD: &str = "mutation($h: ID!, $m: MemberInput!, $k: String) { addMember(householdId: $h, member: $m, idempotencyKey: $k) { id name relation version } }";
    let child = app
        .query(
            ADD,
            json!({ "h": first_id, "m": person("王小明", &id_number("20100808", 45), "SON"), "k": "child-1" }),
        )
        .await["addMember"]
        .clone();
    let again = app
        .query(
            ADD,
            json!({ "h": first_id, "m": person("王小明", &id_number("20100808", 45), "SON"), "k": "child-1" }),
        )
        .await["addMember"]
        .clone();
    assert_eq!(child["id"], again["id"], "a retried add is one member");
    let taken = app
        .graphql(
            ADD,
            json!({ "h": second["id"], "m": person("王小明", &id_number("20100808", 45), "SON") }),
        )
        .await;
    assert_eq!(
        refusal(&taken),
        ("BAD_USER_INPUT".into(), "member.idNumber".into()),
        "a person is in at most one active household"
    );

    // The head cannot leave; a stale member edit conflicts.
    let head = card["members"][0].clone();
    const REMOVE: &str = "mutation($id: ID!, $v: Int!) { removeMember(id: $id, version: $v, reason: \"外嫁\") { active } }";
    let body = app
        .graphql(REMOVE, json!({ "id": head["id"], "v": head["version"] }))
        .await;
    assert_eq!(refusal(&body), ("BAD_USER_INPUT".into(), "id".into()));
    const RENAME: &str =
        "mutation($input: MemberPatch!) { updateMember(input: $input) { name version } }";
    let renamed = app
        .query(
            RENAME,
            json!({ "input": { "id": child["id"], "version": 1, "name": "王晓明" } }),
        )
        .await;
    assert_eq!(renamed["updateMember"]["version"], 2);
    let stale = app
        .graphql(
            RENAME,
            json!({ "input": { "id": child["id"], "version": 1, "name": "王明" } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"]);
    assert_eq!(
        stale["errors"][0]["extensions"]["current"]["name"],
        "王晓明"
    );

    // The spouse becomes head; the former head becomes her spouse.
    let changed = app
        .query(
            "mutation($h: ID!, $v: Int!, $n: ID!) { changeHead(householdId: $h, version: $v, newHeadId: $n, formerHeadRelation: SPOUSE) {
                version head { name } members { name relation } } }",
            json!({ "h": first_id, "v": card["version"], "n": spouse["id"] }),
        )
        .await["changeHead"]
        .clone();
    assert_eq!(changed["head"]["name"], "李秀英");
    let relations: Vec<&Value> = changed["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| &m["relation"])
        .collect();
    assert_eq!(relations.iter().filter(|r| **r == "HEAD").count(), 1);

    // The son moves to the second household; the card of ten days ago still has him out of it.
    let moved = app
        .query(
            "mutation($id: ID!, $v: Int!, $to: ID!) { moveMember(id: $id, version: $v, toHouseholdId: $to, relation: GRANDSON) {
                relation household { number } } }",
            json!({ "id": child["id"], "v": 2, "to": second["id"] }),
        )
        .await["moveMember"]
        .clone();
    assert_eq!(moved["household"]["number"], second["number"]);
    let now = members(&first_id).await;
    assert_eq!(now["members"].as_array().expect("members").len(), 2);
    let five_days_ago = (Utc::now() - Duration::days(5)).date_naive();
    let as_of = app
        .query(
            "query($id: ID!, $d: NaiveDate!, $t: NaiveDate!) { household(id: $id) {
                then: cardAsOf(date: $d) { status members { name relation } }
                today: cardAsOf(date: $t) { members { name relation } }
                before: cardAsOf(date: \"2000-01-01\") { status } } }",
            json!({ "id": first_id, "d": five_days_ago, "t": Utc::now().date_naive() + Duration::days(1) }),
        )
        .await["household"]
        .clone();
    assert_eq!(as_of["then"]["status"], "NOT_POOR");
    assert_eq!(
        as_of["then"]["members"],
        json!([{ "name": "王建国", "relation": "HEAD" }, { "name": "李秀英", "relation": "SPOUSE" }])
    );
    assert_eq!(
        as_of["today"]["members"][0],
        json!({ "name": "李秀英", "relation": "HEAD" })
    );
    assert_eq!(as_of["today"]["members"].as_array().map(Vec::len), Some(2));
    assert!(as_of["before"].is_null(), "not on file in 2000");

    // Every change is in the trail, with the member's ID number visible to the county office.
    let trail = app
        .query(
            "query($id: Int!) { auditEntries(filter: { entityType: \"Member\", entityId: $id }) { nodes { action after } } }",
            json!({ "id": member::Entity::find()
                .filter(member::Column::IdNumber.eq(id_number("20100808", 45)))
                .one(&app.db).await.expect("query").expect("member").id }),
        )
        .await;
    let actions: Vec<&str> = trail["auditEntries"]["nodes"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions.len(), 3, "{actions:?}");
    for action in ["member.create", "member.update", "member.move"] {
        assert!(actions.contains(&action), "{actions:?}");
    }
}

async fn incomes_are_exact_never_negative_and_versioned(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 10).await;
    let (_, token) = app.user_for(Role::VillageCadre).await;
    let home = file_household(
        &app,
        &token,
        &id_number("19700909", 51),
        &id_number("19711010", 52),
    )
    .await;
    const SET: &str = "mutation($input: IncomeInput!) { setIncome(input: $input) { year net perCapitaNet householdSize } }";
    let input = json!({ "householdId": home["id"], "year": 2024, "wage": "6000.50", "production": "2000",
        "property": "0", "transfer": "1200.25", "productionCost": "800" });
    let set = app
        .query_as(Some(&token), SET, json!({ "input": input.clone() }))
        .await;
    assert_eq!(set["setIncome"]["net"], "8400.75");
    assert_eq!(set["setIncome"]["perCapitaNet"], "4200.37");
    assert_eq!(set["setIncome"]["householdSize"], 2);
    let mut negative = input.clone();
    negative["wage"] = json!("-1");
    let body = app
        .graphql_as(Some(&token), SET, json!({ "input": negative }))
        .await;
    assert_eq!(refusal(&body), ("BAD_USER_INPUT".into(), "wage".into()));
    let body = app
        .graphql_as(Some(&token), SET, json!({ "input": input.clone() }))
        .await;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "version".into()),
        "a correction states its version"
    );
    let mut correction = input.clone();
    correction["version"] = json!(1);
    correction["wage"] = json!("7000");
    let fixed = app
        .query_as(Some(&token), SET, json!({ "input": correction.clone() }))
        .await;
    assert_eq!(fixed["setIncome"]["net"], "9400.25");
    let body = app
        .graphql_as(Some(&token), SET, json!({ "input": correction }))
        .await;
    assert_eq!(TestApp::error_codes(&body), ["CONFLICT"]);
}

/// The record a CONFLICT sends back reads as a query would read it: enum
/// names and global IDs, not the values stored.
async fn a_stale_edit_shows_the_current_record_as_the_api_does(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 3).await;
    let home = household::Entity::find()
        .one(&app.db)
        .await
        .expect("read")
        .expect("a household");
    let h = global_id("Household", home.id);
    let read = app
        .query(
            "query($h: ID!) { household(id: $h) { status attribute identificationStandard mainCause version village { id } } }",
            json!({ "h": h }),
        )
        .await["household"]
        .clone();
    app.query(
        UPDATE,
        json!({ "input": { "id": h, "version": read["version"], "address": "四组1号" } }),
    )
    .await;
    let stale = app
        .graphql(
            UPDATE,
            json!({ "input": { "id": h, "version": read["version"], "address": "五组2号" } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"], "{stale}");
    let current = &stale["errors"][0]["extensions"]["current"];
    assert_eq!(current["address"], "四组1号");
    for field in ["status", "attribute", "identificationStandard", "mainCause"] {
        assert_eq!(current[field], read[field], "{field}: {current}");
    }
    assert_eq!(current["village"], read["village"]["id"], "{current}");
}
