//! Every role sees exactly its rows and its fields, whatever the query shape.

use entity::enums::{RegionLevel, Role};
use entity::{household, member};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::{Value, json};
use tests::{Backend, TestApp, error_message, first_region, global_id, on_both_backends};

on_both_backends!(
    each_role_sees_the_households_of_its_scope,
    rows_outside_the_scope_do_not_exist_on_any_path,
    sensitive_fields_are_masked_or_hidden_on_every_path,
    the_public_sees_places_and_projects_but_never_a_person,
    the_permission_matrix_holds_for_every_role_and_sensitive_field,
    errors_never_echo_a_stored_value_the_caller_may_not_read,
);

async fn villages_of(app: &TestApp, level: RegionLevel) -> Vec<i64> {
    let region = first_region(&app.db, level).await;
    let prefix_len = if level == RegionLevel::Township {
        9
    } else {
        12
    };
    let prefix = &region.code[..prefix_len];
    tests::regions(&app.db, RegionLevel::Village)
        .await
        .into_iter()
        .filter(|v| v.code.starts_with(prefix))
        .map(|v| v.id)
        .collect()
}

async fn households_in(app: &TestApp, villages: &[i64]) -> u64 {
    household::Entity::find()
        .filter(household::Column::VillageId.is_in(villages.to_vec()))
        .count(&app.db)
        .await
        .expect("count")
}

async fn each_role_sees_the_households_of_its_scope(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 300).await;
    let township = households_in(&app, &villages_of(&app, RegionLevel::Township).await).await;
    let village = households_in(&app, &villages_of(&app, RegionLevel::Village).await).await;
    assert!(township > village && village > 0);
    let expectations = [
        (Role::CountyAdmin, 300),
        (Role::Auditor, 300),
        (Role::ProvincialSystem, 300),
        (Role::TownshipOfficer, township),
        (Role::VillageCadre, village),
        (Role::HelperCadre, 0),
        (Role::Enterprise, 0),
    ];
    let query = "{ households(first: 100) { totalCount nodes { village { id } } } members: households { totalCount } }";
    for (role, expected) in expectations {
        let token = app.token_for(role).await;
        let data = app.query_as(Some(&token), query, json!({})).await;
        assert_eq!(data["households"]["totalCount"], expected, "{role:?}");
        let shown = data["households"]["nodes"].as_array().expect("nodes").len() as u64;
        assert_eq!(shown, expected.min(100), "{role:?}");
    }
    let public = app.query_as(None, query, json!({})).await;
    assert_eq!(public["households"]["totalCount"], 0);
}

async fn rows_outside_the_scope_do_not_exist_on_any_path(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 300).await;
    let mine = villages_of(&app, RegionLevel::Village).await;
    let outside = household::Entity::find()
        .filter(household::Column::VillageId.is_not_in(mine.clone()))
        .order_by_asc(household::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household elsewhere");
    let outside_member = member::Entity::find()
        .filter(member::Column::HouseholdId.eq(outside.id))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a member");
    let cadre = app.token_for(Role::VillageCadre).await;
    let id = global_id("Household", outside.id);
    for query in [
        "query($id: ID!) { household(id: $id) { number } }",
        "query($id: ID!) { node(id: $id) { id } }",
        "query($id: ID!) { node(id: $id) { ... on Household { number } } }",
        "query($id: ID!) { a: node(id: $id) { ...H } } fragment H on Household { number }",
    ] {
        let body = app
            .graphql_as(Some(&cadre), query, json!({ "id": id }))
            .await;
        assert_eq!(TestApp::error_codes(&body), ["NOT_FOUND"], "{query}");
    }
    let body = app
        .graphql_as(
            Some(&cadre),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": global_id("Member", outside_member.id) }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&body), ["NOT_FOUND"]);
    // Through another village, a township, search and filters: nothing of it.
    let other_village = global_id("Village", outside.village_id);
    let data = app
        .query_as(
            Some(&cadre),
            "query($v: ID!, $n: String) { village(id: $v) { households { totalCount } }
               households(filter: { regionId: $v }) { totalCount }
               bySearch: households(filter: { search: $n }) { totalCount } }",
            json!({ "v": other_village, "n": outside.number }),
        )
        .await;
    assert_eq!(data["village"]["households"]["totalCount"], 0);
    assert_eq!(data["households"]["totalCount"], 0);
    assert_eq!(data["bySearch"]["totalCount"], 0);
    // The county administrator sees it on every one of those paths.
    let body = app
        .query(
            "query($id: ID!) { household(id: $id) { number } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(body["household"]["number"], outside.number.as_str());
}

const MEMBER_FIELDS: &str = "name idNumber birthDate health disabilityGrade";

fn member_paths() -> Vec<String> {
    vec![
        format!("query($h: ID!) {{ household(id: $h) {{ members {{ {MEMBER_FIELDS} }} }} }}"),
        format!("query($m: ID!) {{ node(id: $m) {{ ... on Member {{ {MEMBER_FIELDS} }} }} }}"),
        format!(
            "query($m: ID!) {{ x: node(id: $m) {{ ...M }} }} fragment M on Member {{ {MEMBER_FIELDS} }}"
        ),
        format!(
            "query($h: ID!) {{ node(id: $h) {{ ... on Household {{ head {{ {MEMBER_FIELDS} }} }} }} }}"
        ),
        format!("{{ households(first: 1) {{ nodes {{ members {{ {MEMBER_FIELDS} }} }} }} }}"),
        format!(
            "{{ villages(first: 10) {{ nodes {{ households(first: 20) {{ nodes {{ members {{ {MEMBER_FIELDS} }} }} }} }} }} }}"
        ),
    ]
}

/// Every member object a response holds, wherever it sits.
fn members_in(value: &Value, out: &mut Vec<Value>) {
    match value {
        Value::Object(map) if map.contains_key("idNumber") => out.push(value.clone()),
        Value::Object(map) => map.values().for_each(|v| members_in(v, out)),
        Value::Array(items) => items.iter().for_each(|v| members_in(v, out)),
        _ => {}
    }
}

async fn sensitive_fields_are_masked_or_hidden_on_every_path(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 120).await;
    let village = villages_of(&app, RegionLevel::Village).await;
    let home = household::Entity::find()
        .filter(household::Column::VillageId.is_in(village))
        .order_by_asc(household::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household in the first village");
    let head = member::Entity::find()
        .filter(member::Column::HouseholdId.eq(home.id))
        .order_by_asc(member::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a member");
    let vars = json!({ "h": global_id("Household", home.id), "m": global_id("Member", head.id) });
    let masked_id = format!("{}********{}", &head.id_number[..6], &head.id_number[14..]);

    let admin = app.admin_token.clone();
    let cadre = app.token_for(Role::VillageCadre).await;
    for query in member_paths() {
        // The county office sees everything in full.
        let body = app.graphql_as(Some(&admin), &query, vars.clone()).await;
        assert!(body.get("errors").is_none(), "{query}: {body}");
        let mut members = Vec::new();
        members_in(&body["data"], &mut members);
        assert!(!members.is_empty(), "{query}");
        let shown = members
            .iter()
            .find(|m| m["name"] == head.name.as_str())
            .expect("the member");
        assert_eq!(shown["idNumber"], head.id_number.as_str(), "{query}");

        // A village cadre sees the ID number masked, and not the birth date it holds.
        let body = app.graphql_as(Some(&cadre), &query, vars.clone()).await;
        let mut members = Vec::new();
        members_in(&body["data"], &mut members);
        assert!(!members.is_empty(), "{query}: {body}");
        for m in &members {
            let id = m["idNumber"].as_str().expect("a masked ID number");
            assert!(id.contains("********") && id.len() == 18, "{query}: {id}");
            assert!(m["birthDate"].is_null(), "{query}");
            assert!(
                m["health"].is_string(),
                "village cadres see health: {query}"
            );
        }
        assert!(
            members.iter().any(|m| m["idNumber"] == masked_id.as_str()),
            "{query}"
        );
        let codes = TestApp::error_codes(&body);
        assert!(
            !codes.is_empty() && codes.iter().all(|c| c == "FORBIDDEN"),
            "{query}: {codes:?}"
        );
        let paths: Vec<&Value> = body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| &e["path"])
            .collect();
        assert!(
            paths
                .iter()
                .all(|p| p.as_array().and_then(|p| p.last()) == Some(&json!("birthDate"))),
            "{paths:?}"
        );
    }

    // A township officer sees phone numbers masked.
    let officer = app.token_for(Role::TownshipOfficer).await;
    let phoned = household::Entity::find()
        .filter(household::Column::Phone.is_not_null())
        .filter(household::Column::VillageId.is_in(villages_of(&app, RegionLevel::Township).await))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household with a phone");
    let phone = phoned.phone.clone().unwrap_or_default();
    let data = app
        .query_as(
            Some(&officer),
            "query($h: ID!) { household(id: $h) { phone } }",
            json!({ "h": global_id("Household", phoned.id) }),
        )
        .await;
    assert_eq!(
        data["household"]["phone"],
        format!("{}****{}", &phone[..3], &phone[7..])
    );

    // A landline is shorter: its mask still hides more than it shows.
    for (number, masked) in [("8124567", "****567"), ("81234567", "****4567")] {
        let mut short: household::ActiveModel = phoned.clone().into();
        short.phone = Set(Some(number.to_owned()));
        short.update(&app.db).await.expect("update");
        let data = app
            .query_as(
                Some(&officer),
                "query($h: ID!) { household(id: $h) { phone } }",
                json!({ "h": global_id("Household", phoned.id) }),
            )
            .await;
        assert_eq!(data["household"]["phone"], masked, "{number}");
    }
}

async fn the_public_sees_places_and_projects_but_never_a_person(backend: Backend) {
    let (app, report) = TestApp::seeded(&backend, 100).await;
    let data = app
        .query_as(
            None,
            "{ villages { totalCount } projects { totalCount } enterprises { totalCount } povertyLines { year }
               households { totalCount } county { townships { nodes { villages(first: 2) { nodes { households { totalCount } } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["villages"]["totalCount"], report.villages);
    assert_eq!(data["projects"]["totalCount"], report.projects);
    assert_eq!(data["households"]["totalCount"], 0);
    for township in data["county"]["townships"]["nodes"]
        .as_array()
        .expect("nodes")
    {
        for village in township["villages"]["nodes"].as_array().expect("nodes") {
            assert_eq!(village["households"]["totalCount"], 0);
        }
    }
    let member = member::Entity::find()
        .one(&app.db)
        .await
        .expect("query")
        .expect("a member");
    let body = app
        .graphql_as(
            None,
            "query($m: ID!) { node(id: $m) { ... on Member { name idNumber } } }",
            json!({ "m": global_id("Member", member.id) }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&body), ["NOT_FOUND"]);
    let me = app.graphql_as(None, "{ me { username } }", json!({})).await;
    assert_eq!(TestApp::error_codes(&me), ["UNAUTHENTICATED"]);
}

/// Every role against every sensitive field of a person's card, on two paths:
/// what it gets is exactly what `api::permissions::POLICY` says. The helper
/// cadre is paired with the household and the enterprise linked to it first,
/// so that every role reaches the row; every field compared holds a value.
async fn the_permission_matrix_holds_for_every_role_and_sensitive_field(backend: Backend) {
    use api::permissions::{Access, READERS, access_of, rule_of};

    let (app, _) = TestApp::seeded(&backend, 150).await;
    let village = villages_of(&app, RegionLevel::Village).await;
    let first = household::Entity::find()
        .filter(household::Column::VillageId.is_in(village))
        .order_by_asc(household::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household in the first village");
    let first_member = member::Entity::find()
        .filter(member::Column::HouseholdId.eq(first.id))
        .order_by_asc(member::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a member");
    // Null shows the same masked, hidden or in full: give every field a value.
    let mut filled: household::ActiveModel = first.into();
    filled.phone = Set(Some("13812345678".into()));
    filled.address = Set("三组12号".into());
    let home = filled
        .update(&app.db)
        .await
        .expect("a phone and an address");
    let mut filled: member::ActiveModel = first_member.into();
    filled.health = Set(entity::enums::Health::Disabled);
    filled.disability_grade = Set(Some(2));
    let person = filled.update(&app.db).await.expect("a disability");
    let stored = |type_name: &str, field: &str| -> Value {
        match (type_name, field) {
            ("Household", "phone") => json!(home.phone),
            ("Household", "address") => json!(home.address),
            ("Member", "name") => json!(person.name),
            ("Member", "idNumber") => json!(person.id_number),
            ("Member", "birthDate") => json!(format!(
                "{}-{}-{}",
                &person.id_number[6..10],
                &person.id_number[10..12],
                &person.id_number[12..14]
            )),
            ("Member", "health") => json!("DISABLED"),
            ("Member", "disabilityGrade") => json!(person.disability_grade),
            other => panic!("no stored value for {other:?}"),
        }
    };
    let fields = [
        ("Household", "phone"),
        ("Household", "address"),
        ("Member", "name"),
        ("Member", "idNumber"),
        ("Member", "birthDate"),
        ("Member", "health"),
        ("Member", "disabilityGrade"),
    ];
    for (type_name, field) in fields {
        assert!(!stored(type_name, field).is_null(), "{type_name}.{field}");
    }
    let household_id = global_id("Household", home.id);
    let member_id = global_id("Member", person.id);

    let (helper, helper_token) = app.user_for(Role::HelperCadre).await;
    app.query(
        "mutation($u: String!, $h: ID!) { pairHelper(helperUsername: $u, householdId: $h) { startedOn } }",
        json!({ "u": helper.username, "h": household_id }),
    )
    .await;
    let (firm_user, firm_token) = app.user_for(Role::Enterprise).await;
    app.query(
        "mutation($input: RecordBenefitLinkInput!) { recordBenefitLink(input: $input) { id } }",
        json!({ "input": {
            "enterpriseId": global_id("Enterprise", firm_user.enterprise_id.expect("an enterprise")),
            "householdId": household_id, "mode": "EMPLOYMENT", "startedOn": "2020-03-01",
            "annualIncome": "6000",
        } }),
    )
    .await;

    let paths = [
        (
            "query($h: ID!, $m: ID!) { r: household(id: $h) { id } h: household(id: $h) { phone address } m: node(id: $m) { ... on Member { name idNumber birthDate health disabilityGrade } } }",
            ["h", "m"],
        ),
        (
            "query($h: ID!, $m: ID!) { r: node(id: $h) { id } h: node(id: $h) { ... on Household { phone address } } m: node(id: $m) { ...P } } fragment P on Member { name idNumber birthDate health disabilityGrade }",
            ["h", "m"],
        ),
    ];
    let roles = [
        Role::CountyAdmin,
        Role::TownshipOfficer,
        Role::VillageCadre,
        Role::HelperCadre,
        Role::Enterprise,
        Role::Auditor,
        Role::ProvincialSystem,
    ];
    for role in roles {
        let token = match role {
            Role::HelperCadre => helper_token.clone(),
            Role::Enterprise => firm_token.clone(),
            _ => app.token_for(role).await,
        };
        let reader = READERS[roles.iter().position(|r| *r == role).expect("role") + 1];
        for (query, [h, m]) in paths {
            let body = app
                .graphql_as(
                    Some(&token),
                    query,
                    json!({ "h": household_id, "m": member_id }),
                )
                .await;
            let errors: Vec<&Value> = body["errors"]
                .as_array()
                .map(|e| e.iter().collect())
                .unwrap_or_default();
            assert!(
                errors
                    .iter()
                    .all(|e| e["extensions"]["code"] == "FORBIDDEN"),
                "{reader} reaches the household and its member: {body}"
            );
            assert_eq!(
                body["data"]["r"]["id"],
                json!(household_id),
                "{reader}: {body}"
            );
            // A hidden field that may not be null takes its object with it.
            for (type_name, field) in fields {
                let rule = rule_of(type_name, field).expect("a rule");
                let object = if type_name == "Household" {
                    &body["data"][h]
                } else {
                    &body["data"][m]
                };
                let shown = &object[field];
                let expected = stored(type_name, field);
                let viewer = tests::viewer_of_role(role);
                let forbidden_here = errors.iter().any(|e| {
                    e["path"].as_array().and_then(|p| p.last()) == Some(&json!(field))
                        && e["extensions"]["code"] == "FORBIDDEN"
                });
                match access_of(&viewer, rule) {
                    Access::Full => assert_eq!(shown, &expected, "{reader} {type_name}.{field}"),
                    Access::Masked => {
                        let mask = rule.mask.expect("a mask");
                        assert_eq!(
                            shown,
                            &json!(mask.apply(expected.as_str().expect("text"))),
                            "{reader} {type_name}.{field}"
                        );
                    }
                    Access::Hidden => {
                        assert!(shown.is_null(), "{reader} {type_name}.{field}: {shown}");
                        assert!(
                            forbidden_here,
                            "{reader} {type_name}.{field}: a FORBIDDEN error at its path"
                        );
                    }
                }
            }
        }
    }
}

async fn errors_never_echo_a_stored_value_the_caller_may_not_read(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let officer = app.token_for(Role::TownshipOfficer).await;
    let home = household::Entity::find()
        .filter(household::Column::VillageId.is_in(villages_of(&app, RegionLevel::Township).await))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household in the township");
    let person = member::Entity::find()
        .filter(member::Column::HouseholdId.eq(home.id))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a member");
    // A number on file from before the check, its check character wrong.
    let wrong = if person.id_number.ends_with('0') {
        '1'
    } else {
        '0'
    };
    let stored = format!("{}{wrong}", &person.id_number[..17]);
    let mut flawed: member::ActiveModel = person.clone().into();
    flawed.id_number = Set(stored.clone());
    flawed.update(&app.db).await.expect("update");

    // The officer reads ID numbers masked: an edit refused for the number must not spell it out.
    let body = app
        .graphql_as(
            Some(&officer),
            "mutation($input: MemberPatch!) { updateMember(input: $input) { version } }",
            json!({ "input": { "id": global_id("Member", person.id), "version": person.version, "name": "王改名" } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"]);
    let message = error_message(&body);
    assert!(message.contains("check character"), "{message}");
    assert!(
        !message.contains(&stored[6..14]),
        "the birth date leaks: {message}"
    );
}
