//! The county office sets up its divisions over the API: adds a village to a
//! township and renames it or marks it a poverty village and its exit, from
//! the version it read, audited; nobody else may.

use entity::enums::{RegionLevel, Role};
use entity::region;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use tests::{Backend, TestApp, first_region, global_id, on_both_backends, regions};

on_both_backends!(the_county_office_adds_a_village_and_edits_it);

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
