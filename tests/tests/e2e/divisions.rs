//! The county office sets up its divisions over the API: adds a village to a
//! township and renames it or marks it a poverty village and its exit, merges
//! one into another (its households moving with the reason) or retires an
//! empty one, from the version it read, audited; nobody else may.

use entity::enums::{RegionLevel, Role};
use entity::{household, region};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{
    Backend, TestApp, first_region, global_id, household_input, on_both_backends, person, regions,
};

on_both_backends!(
    the_county_office_adds_a_village_and_edits_it,
    a_merged_village_takes_its_households_along_and_no_more,
);

const ADD: &str = "mutation($t: ID!, $c: String!, $i: VillageInput!) { addVillage(townshipId: $t, code: $c, input: $i) { id code name isPovertyVillage exitYear version township { id } } }";
const UPDATE: &str = "mutation($v: ID!, $n: Int!, $i: VillageInput!) { updateVillage(villageId: $v, version: $n, input: $i) { name isPovertyVillage exitYear version } }";

async fn the_county_office_adds_a_village_and_edits_it(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 30).await;
    let township = first_region(&app.db, RegionLevel::Township).await;
    let other = regions(&app.db, RegionLevel::Township).await[1].clone();
    let t = global_id("Township", township.id);
    let code = format!("{}299", &township.code[..9]);
    let input = json!({ "name": "新寨村", "isPovertyVillage": true });
    let add = json!({ "t": t, "c": code, "i": input });

    for role in [
        Role::TownshipOfficer,
        Role::VillageCadre,
        Role::ProvincialSystem,
    ] {
        let token = app.token_for(role).await;
        let refused = app.graphql_as(Some(&token), ADD, add.clone()).await;
        assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"], "{role:?}");
    }
    let elsewhere = json!({ "t": t, "c": format!("{}299", &other.code[..9]), "i": input });
    let refused = app.graphql(ADD, elsewhere).await;
    assert_eq!(TestApp::error_codes(&refused), ["BAD_USER_INPUT"]);
    assert_eq!(refused["errors"][0]["extensions"]["field"], "code");
    let no_name = json!({ "t": t, "c": code, "i": { "name": " " } });
    let refused = app.graphql(ADD, no_name).await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "name");

    let added = app.query(ADD, add.clone()).await["addVillage"].clone();
    assert_eq!(
        (
            &added["code"],
            &added["name"],
            &added["isPovertyVillage"],
            &added["version"]
        ),
        (&json!(code), &json!("新寨村"), &json!(true), &json!(1))
    );
    assert_eq!(added["township"]["id"], t);
    let twice = app.graphql(ADD, add).await;
    assert_eq!(TestApp::error_codes(&twice), ["CONFLICT"]);

    let v = added["id"].as_str().expect("id").to_owned();
    let not_poor = json!({ "v": v, "n": 1, "i": { "name": "新寨村", "exitYear": 2019 } });
    let refused = app.graphql(UPDATE, not_poor).await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "exitYear");
    let exited = json!({ "name": "新名村", "isPovertyVillage": true, "exitYear": 2019 });
    let updated = app
        .query(UPDATE, json!({ "v": v, "n": 1, "i": exited }))
        .await;
    assert_eq!(
        updated["updateVillage"],
        json!({ "name": "新名村", "isPovertyVillage": true, "exitYear": 2019, "version": 2 })
    );
    let stale = app
        .graphql(UPDATE, json!({ "v": v, "n": 1, "i": { "name": "旧名村" } }))
        .await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"]);
    assert_eq!(
        stale["errors"][0]["extensions"]["current"]["name"],
        "新名村"
    );

    // Two edits of version 2 at once: one is taken, the other refused.
    let edit = |name: &str| json!({ "v": v, "n": 2, "i": { "name": name, "isPovertyVillage": true, "exitYear": 2019 } });
    let (first, second) = tokio::join!(
        app.graphql(UPDATE, edit("甲村")),
        app.graphql(UPDATE, edit("乙村"))
    );
    let mut outcomes = [TestApp::error_codes(&first), TestApp::error_codes(&second)];
    outcomes.sort();
    assert_eq!(outcomes, [vec![], vec!["CONFLICT".to_owned()]]);
    let won = if first.get("errors").is_none() {
        &first
    } else {
        &second
    };
    assert_eq!(won["data"]["updateVillage"]["version"], 3);
    let renamed = won["data"]["updateVillage"]["name"].clone();
    let back = json!({ "v": v, "n": 3, "i": { "name": "新名村", "isPovertyVillage": true, "exitYear": 2019 } });
    let again = app.query(UPDATE, back).await;
    assert_eq!(again["updateVillage"]["version"], 4, "{renamed} replaced");

    let found = app
        .query(
            "{ villages(filter: { name: \"新名村\" }) { nodes { id exitYear } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        found["villages"]["nodes"],
        json!([{ "id": v, "exitYear": 2019 }])
    );
    let row = region::Entity::find()
        .filter(region::Column::Code.eq(code.as_str()))
        .one(&app.db)
        .await
        .expect("query")
        .expect("the village");
    assert_eq!(
        app.audit_actions("Village", row.id).await,
        [
            "region.update",
            "region.update",
            "region.update",
            "region.create"
        ]
    );
}

const MERGE: &str = "mutation($v: ID!, $n: Int!, $into: ID!, $why: String!) { mergeVillages(villageId: $v, version: $n, intoVillageId: $into, reason: $why) { householdsMoved village { retiredOn mergedInto { id } version ruralPopulation } } }";
const RETIRE: &str = "mutation($v: ID!, $n: Int!) { retireVillage(villageId: $v, version: $n, reason: \"无常住人口，撤销\") { retiredOn version } }";
const REGISTER: &str = "query($r: ID!, $y: Int!) { statistics(regionId: $r, year: $y) { byStatus { status households people } } }";

async fn households_in(app: &TestApp, village: i64) -> Vec<household::Model> {
    household::Entity::find()
        .filter(household::Column::VillageId.eq(village))
        .all(&app.db)
        .await
        .expect("households")
}

async fn a_merged_village_takes_its_households_along_and_no_more(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let villages = regions(&app.db, RegionLevel::Village).await;
    let (from, into) = (villages[0].clone(), villages[1].clone());
    let moving = households_in(&app, from.id).await;
    let staying = households_in(&app, into.id).await;
    assert!(!moving.is_empty(), "the seeded village has households");
    let (v, into_id) = (global_id("Village", from.id), global_id("Village", into.id));
    let merge =
        json!({ "v": v, "n": from.version, "into": into_id, "why": "县政府〔2026〕12号撤并" });
    let county = first_region(&app.db, RegionLevel::County).await;
    let year = api::domain::calendar::today().format("%Y").to_string();
    let figures =
        json!({ "r": global_id("County", county.id), "y": year.parse::<i32>().expect("a year") });
    let before = app.query(REGISTER, figures.clone()).await;

    for role in [Role::TownshipOfficer, Role::VillageCadre, Role::Auditor] {
        let token = app.token_for(role).await;
        let refused = app.graphql_as(Some(&token), MERGE, merge.clone()).await;
        assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"], "{role:?}");
    }
    let mut itself = merge.clone();
    itself["into"] = json!(v);
    let refused = app.graphql(MERGE, itself).await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "intoVillageId");
    let mut stale = merge.clone();
    stale["n"] = json!(from.version + 1);
    let refused = app.graphql(MERGE, stale).await;
    assert_eq!(TestApp::error_codes(&refused), ["CONFLICT"]);
    let mut leaky = merge.clone();
    leaky["why"] = json!("户主电话 13812345678 同意");
    let refused = app.graphql(MERGE, leaky).await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "reason");
    let populated = app
        .graphql(RETIRE, json!({ "v": v, "n": from.version }))
        .await;
    assert_eq!(
        populated["errors"][0]["extensions"]["field"], "villageId",
        "{populated}"
    );

    let merged = app.query(MERGE, merge.clone()).await["mergeVillages"].clone();
    assert_eq!(merged["householdsMoved"], moving.len());
    assert_eq!(merged["village"]["mergedInto"]["id"], into_id);
    assert_eq!(
        merged["village"]["retiredOn"],
        json!(api::domain::calendar::today())
    );
    assert!(merged["village"]["ruralPopulation"].is_null());
    // Every household moved, keeping its number, each move audited with the reason.
    assert!(households_in(&app, from.id).await.is_empty());
    let now_there = households_in(&app, into.id).await;
    assert_eq!(now_there.len(), moving.len() + staying.len());
    for home in &moving {
        let there = now_there.iter().find(|h| h.id == home.id).expect("moved");
        assert_eq!(there.number, home.number);
        assert_eq!(
            app.audit_actions("Household", home.id).await[0],
            "household.move"
        );
    }
    let trail = app
        .query(
            "query($id: ID!) { auditEntries(filter: { entity: $id }, last: 1) { nodes { action after } } }",
            json!({ "id": global_id("Household", moving[0].id) }),
        )
        .await;
    let entry = &trail["auditEntries"]["nodes"][0];
    assert_eq!(
        entry["after"]["reason"], "县政府〔2026〕12号撤并",
        "{entry}"
    );
    assert_eq!(entry["after"]["village"], into_id, "{entry}");
    let grown = region::Entity::find_by_id(into.id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("village");
    assert_eq!(
        grown.rural_population,
        Some(into.rural_population.unwrap_or(0) + from.rural_population.unwrap_or(0))
    );
    // The county's figures are the same households, now counted in one village.
    assert_eq!(app.query(REGISTER, figures).await, before);

    // A retired village takes no household, filed or moved in, nor a second merge.
    let again = app
        .graphql(
            MERGE,
            json!({ "v": v, "n": from.version + 1, "into": into_id, "why": "再次撤并" }),
        )
        .await;
    assert!(error_says(&again, "merged into another"), "{again}");
    let filed = app
        .graphql(
            "mutation($input: CreateHouseholdInput!) { createHousehold(input: $input) { id } }",
            json!({ "input": household_input(&v, person("杨光明", &api::codes::id_number("52262219800101003"), "HEAD"), vec![]) }),
        )
        .await;
    assert!(error_says(&filed, "merged into another"), "{filed}");
    // Nor by the provincial exchange: a household of the register moved back
    // into it by file is refused, and stays where it is.
    let exported = app
        .client
        .get(app.url(&format!(
            "/exchange/households?format=ndjson&region={}",
            into.code
        )))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("the file");
    let mut record: Value =
        serde_json::from_str(exported.lines().next().expect("a household")).expect("a record");
    let number = record["number"].clone();
    record["village"] = json!(from.code);
    let report: Value = app
        .client
        .post(app.url("/exchange/households?format=ndjson"))
        .bearer_auth(&app.admin_token)
        .body(record.to_string())
        .send()
        .await
        .expect("import")
        .json()
        .await
        .expect("a report");
    assert_eq!(report["rejected"], 1, "{report}");
    assert_eq!(report["rejections"][0]["field"], "village", "{report}");
    assert!(
        report["rejections"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("merged into another")),
        "{report}"
    );
    let stayed = household::Entity::find()
        .filter(household::Column::Number.eq(number.as_str().expect("a number")))
        .one(&app.db)
        .await
        .expect("query")
        .expect("the household");
    assert_eq!(stayed.village_id, into.id);
    let into_retired = app
        .graphql(
            MERGE,
            json!({ "v": into_id, "n": grown.version, "into": v, "why": "撤并" }),
        )
        .await;
    assert_eq!(
        into_retired["errors"][0]["extensions"]["field"], "intoVillageId",
        "{into_retired}"
    );

    // An empty village is retired; one retired is not retired again.
    let empty = villages[2].clone();
    let e = global_id("Village", empty.id);
    app.query(
        MERGE,
        json!({ "v": e, "n": empty.version, "into": into_id, "why": "撤并" }),
    )
    .await;
    let spare = app
        .query(
            "mutation($t: ID!, $c: String!) { addVillage(townshipId: $t, code: $c, input: { name: \"空村\" }) { id version } }",
            json!({ "t": global_id("Township", into.parent_id.expect("a township")), "c": format!("{}298", &into.code[..9]) }),
        )
        .await["addVillage"]
        .clone();
    let retired =
        app.query(RETIRE, json!({ "v": spare["id"], "n": 1 })).await["retireVillage"].clone();
    assert_eq!(retired["version"], 2);
    let twice = app
        .graphql(RETIRE, json!({ "v": spare["id"], "n": 2 }))
        .await;
    assert!(error_says(&twice, "retired on"), "{twice}");
    assert_eq!(
        household::Entity::find()
            .filter(household::Column::VillageId.eq(empty.id))
            .count(&app.db)
            .await
            .expect("count"),
        0
    );
}

fn error_says(body: &Value, words: &str) -> bool {
    TestApp::error_codes(body) == ["BAD_USER_INPUT"]
        && body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains(words))
}
