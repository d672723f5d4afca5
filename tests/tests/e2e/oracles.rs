//! Side channels, tried as an attacker would: a check that looks beyond the
//! caller's scope answers without naming anything there, is recorded like a
//! reveal and is rationed per account; every bad field is told at once.

use api::config::Limits;
use api::domain::household::duplicate::PROBE_PURPOSE;
use entity::enums::{RegionLevel, Role};
use entity::{fund_source, household, member, project, reveal};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tests::{
    Backend, TEST_PASSWORD, TestApp, first_region, global_id, household_input, on_both_backends,
    person,
};

on_both_backends!(
    a_person_on_file_elsewhere_is_told_without_naming_the_household_and_recorded,
    every_bad_field_is_told_before_the_register_is_looked_up,
    the_budget_of_such_answers_locks_the_account_and_alerts_the_county_office,
    a_filter_search_or_sort_is_refused_to_whoever_does_not_read_its_field_in_full,
);

const CREATE: &str =
    "mutation($input: CreateHouseholdInput!) { createHousehold(input: $input) { id number } }";
const UPDATE_MEMBER: &str =
    "mutation($input: MemberPatch!) { updateMember(input: $input) { id idNumber } }";
const MESSAGE: &str = api::error::PERSON_ON_FILE;

/// The first village (a village cadre's, as `TestApp::user_for` scopes it),
/// and a current member of a household in another village.
async fn village_and_stranger(app: &TestApp) -> (String, member::Model, household::Model) {
    let village = first_region(&app.db, RegionLevel::Village).await;
    let home = household::Entity::find()
        .filter(household::Column::VillageId.ne(village.id))
        .order_by_asc(household::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household in another village");
    let stranger = member::Entity::find()
        .filter(member::Column::HouseholdId.eq(home.id))
        .filter(member::Column::IsActive.eq(true))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a current member");
    (global_id("Village", village.id), stranger, home)
}

async fn probes_of(app: &TestApp, user_id: i64) -> Vec<reveal::Model> {
    reveal::Entity::find()
        .filter(reveal::Column::UserId.eq(user_id))
        .order_by_asc(reveal::Column::Id)
        .all(&app.db)
        .await
        .expect("reveals")
}

fn refusal(body: &Value) -> (&str, &str, &str) {
    let error = &body["errors"][0];
    (
        error["extensions"]["code"].as_str().unwrap_or_default(),
        error["extensions"]["field"].as_str().unwrap_or_default(),
        error["message"].as_str().unwrap_or_default(),
    )
}

/// A fresh valid ID number of the demo county, not on file.
fn unused_id_number(sequence: u32) -> String {
    api::codes::id_number(&format!("52010219700101{sequence:03}"))
}

async fn a_person_on_file_elsewhere_is_told_without_naming_the_household_and_recorded(
    backend: Backend,
) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let (village, stranger, home) = village_and_stranger(&app).await;
    let (cadre, token) = app.user_for(Role::VillageCadre).await;

    let input = household_input(
        &village,
        person("王建国", &stranger.id_number, "HEAD"),
        vec![],
    );
    let body = app
        .graphql_as(Some(&token), CREATE, json!({ "input": input }))
        .await;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT", "head.idNumber", MESSAGE),
        "{body}"
    );
    let text = body.to_string();
    for secret in [&home.number, &stranger.id_number, &stranger.name] {
        assert!(!text.contains(secret.as_str()), "{secret} in {text}");
    }
    let probes = probes_of(&app, cadre.id).await;
    assert_eq!(probes.len(), 1);
    assert_eq!(
        (
            probes[0].target_type.as_str(),
            probes[0].target_id,
            probes[0].field.as_str()
        ),
        ("Member", stranger.id, "idNumber")
    );
    assert!(probes[0].purpose.starts_with(PROBE_PURPOSE));

    // Changing a member of the cadre's own village to the stranger's number.
    let own = app
        .graphql_as(
            Some(&token),
            "{ households(first: 1) { nodes { members { id version } } } }",
            json!({}),
        )
        .await;
    let mine = &own["data"]["households"]["nodes"][0]["members"][0];
    let body = app
        .graphql_as(
            Some(&token),
            UPDATE_MEMBER,
            json!({ "input": { "id": mine["id"], "version": mine["version"],
                               "idNumber": stranger.id_number } }),
        )
        .await;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT", "idNumber", MESSAGE),
        "{body}"
    );
    assert_eq!(probes_of(&app, cadre.id).await.len(), 2);

    // The county office reads every ID number in full: it is told where.
    let (admin, admin_token) = app.user_for(Role::CountyAdmin).await;
    let body = app
        .graphql_as(Some(&admin_token), CREATE, json!({ "input": input }))
        .await;
    let (code, field, message) = refusal(&body);
    assert_eq!((code, field), ("BAD_USER_INPUT", "head.idNumber"), "{body}");
    assert!(message.contains(&home.number), "{message}");
    assert!(probes_of(&app, admin.id).await.is_empty());
}

async fn every_bad_field_is_told_before_the_register_is_looked_up(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let (village, stranger, _) = village_and_stranger(&app).await;
    let (cadre, token) = app.user_for(Role::VillageCadre).await;
    let broken = |head_id: &str| {
        let mut input = household_input(&village, person("王建国", head_id, "HEAD"), vec![]);
        input["conditions"]["cultivatedLandMu"] = json!(-1.0);
        let mut spouse = person("李秀英", &unused_id_number(22), "SPOUSE");
        spouse["ethnicity"] = json!("99");
        input["members"] = json!([spouse]);
        input
    };
    let mut answers = Vec::new();
    for head_id in [stranger.id_number.clone(), unused_id_number(11)] {
        let body = app
            .graphql_as(Some(&token), CREATE, json!({ "input": broken(&head_id) }))
            .await;
        answers.push(body["errors"].clone());
    }
    // Whether the head is on file or not, the answer is the same: the bad fields, all of them.
    assert_eq!(answers[0], answers[1]);
    let fields: Vec<&str> = answers[0][0]["extensions"]["fields"]
        .as_array()
        .expect("every bad field")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        ["conditions.cultivatedLandMu", "members[0].ethnicity"],
        "{}",
        answers[0]
    );
    assert_eq!(answers[0][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert!(probes_of(&app, cadre.id).await.is_empty());
}

async fn the_budget_of_such_answers_locks_the_account_and_alerts_the_county_office(
    backend: Backend,
) {
    let limits = Limits {
        register_probes_per_hour: 3,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(&backend, limits).await;
    app.seed(40, 1).await;
    let (village, stranger, _) = village_and_stranger(&app).await;
    let (cadre, token) = app.user_for(Role::VillageCadre).await;
    let me = "{ me { username } }";
    for answer in 1..=3 {
        let input = household_input(
            &village,
            person("王建国", &stranger.id_number, "HEAD"),
            vec![],
        );
        let body = app
            .graphql_as(Some(&token), CREATE, json!({ "input": input }))
            .await;
        assert_eq!(refusal(&body).2, MESSAGE, "{body}");
        let (status, _, signed_in) = app
            .post_graphql(Some(&token), &json!({ "query": me }))
            .await;
        let still_in = signed_in["data"]["me"]["username"] == cadre.username.as_str();
        assert_eq!(still_in, answer < 3, "after answer {answer}: {signed_in}");
        if !still_in {
            assert_eq!(status, 401);
            assert_eq!(TestApp::error_codes(&signed_in), ["UNAUTHENTICATED"]);
        }
    }
    let login =
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";
    let credentials = json!({ "u": cadre.username, "p": TEST_PASSWORD });
    let refused = app.graphql(login, credentials.clone()).await;
    assert!(refused["data"]["login"].is_null(), "{refused}");

    let admin = app.token_for(Role::CountyAdmin).await;
    let alerts = app
        .query_as(
            Some(&admin),
            "{ loginAlerts(first: 5) { nodes { reason account { username } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        alerts["loginAlerts"]["nodes"],
        json!([{ "reason": "REGISTER_PROBED", "account": { "username": cadre.username } }])
    );
    app.query_as(
        Some(&admin),
        "mutation($u: String!) { enableUser(username: $u) { username } }",
        json!({ "u": cadre.username }),
    )
    .await;
    let back = app.graphql(login, credentials).await;
    assert!(back["data"]["login"]["accessToken"].is_string(), "{back}");
}

/// The list each filter and order input is an argument of.
fn list_of(input: &str) -> (&'static str, &'static str) {
    match input {
        "AuditFilter" => ("auditEntries", "filter"),
        "ComplaintFilter" => ("complaints", "filter"),
        "EnterpriseFilter" => ("enterprises", "filter"),
        "FundLedgerFilter" => ("fundLedger", "filter"),
        "FundSourceFilter" => ("fundSources", "filter"),
        "HouseholdFilter" => ("households", "filter"),
        "HouseholdOrder" => ("households", "orderBy"),
        "PolicyFilter" => ("policies", "filter"),
        "ProjectFilter" => ("projects", "filter"),
        "VillageFilter" => ("villages", "filter"),
        other => panic!("no list takes a `{other}`: add it to this test"),
    }
}

/// Every filter, search and sort argument of `api::permissions::FILTERS`, used
/// by every reader: refused (FORBIDDEN or UNAUTHENTICATED) exactly when the
/// reader may not call the list at all or does not read in full a field the
/// argument compares.
async fn a_filter_search_or_sort_is_refused_to_whoever_does_not_read_its_field_in_full(
    backend: Backend,
) {
    use api::permissions::{Access, FILTERS, READERS, access_of, rule_of};

    let (app, _) = TestApp::seeded(&backend, 40).await;
    let county = first_region(&app.db, RegionLevel::County).await;
    let home = household::Entity::find()
        .order_by_asc(household::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household");
    let project = project::Entity::find().one(&app.db).await.expect("query");
    let source = fund_source::Entity::find()
        .one(&app.db)
        .await
        .expect("query");
    let first_value = |type_name: &str| -> Value {
        let value = match type_name {
            "ComplaintStatus" => "RECEIVED",
            "ComplaintSubject" => "HOUSEHOLD_TREATMENT",
            "EnterpriseKind" => "ENTERPRISE",
            "Industry" => "PLANTING",
            "FundEntryKind" => "ALLOCATION",
            "FundSourceKind" => "CENTRAL",
            "HouseholdStatus" => "ENROLLED",
            "HouseholdAttribute" => "GENERAL",
            "PovertyCause" => "ILLNESS",
            "MonitoringCategory" => "UNSTABLE",
            "PolicyCategory" => "INDUSTRY",
            "PolicyStatus" => "PUBLISHED",
            "ProjectKind" => "INDUSTRY",
            "ProjectStatus" => "LIBRARY",
            other => panic!("no example of `{other}`"),
        };
        json!(value)
    };
    let example = |input: &str, field: &str, form: &str| -> Value {
        let gid = |kind: &str, id: Option<i64>| json!(id.map(|id| global_id(kind, id)));
        let value = match (input, field, form) {
            (_, "regionId", _) => json!(global_id("County", county.id)),
            ("AuditFilter", "entityType", _) => json!("Household"),
            ("AuditFilter", "entityId", _) => json!(home.id),
            ("AuditFilter", "entity", _) => json!(global_id("Household", home.id)),
            ("AuditFilter", "actor", _) => json!("someone"),
            ("AuditFilter", "from" | "to", _) => json!("2020-01-01T00:00:00Z"),
            ("FundLedgerFilter", "from" | "to", _) => json!("2020-01-01"),
            ("FundLedgerFilter", "projectId", _) => gid("Project", project.as_ref().map(|p| p.id)),
            ("FundLedgerFilter", "sourceId", _) => gid("FundSource", source.as_ref().map(|s| s.id)),
            ("FundLedgerFilter", "kind", _) => first_value("FundEntryKind"),
            ("ComplaintFilter", "status", _) => first_value("ComplaintStatus"),
            ("ComplaintFilter", "subjectKind", _) => first_value("ComplaintSubject"),
            ("EnterpriseFilter", "kind", _) => json!([first_value("EnterpriseKind")]),
            ("EnterpriseFilter", "industry", _) => json!([first_value("Industry")]),
            ("EnterpriseFilter", "search", _) => json!("合作社"),
            ("FundSourceFilter", "year", _) | ("ProjectFilter", "year", _) => json!(2020),
            ("FundSourceFilter", "kind", _) => json!([first_value("FundSourceKind")]),
            ("HouseholdFilter", "status", _) => json!([first_value("HouseholdStatus")]),
            ("HouseholdFilter", "attribute", _) => json!([first_value("HouseholdAttribute")]),
            ("HouseholdFilter", "cause" | "mainCause", _) => first_value("PovertyCause"),
            ("HouseholdFilter", "monitoring", _) => json!([first_value("MonitoringCategory")]),
            ("HouseholdFilter", "income", _) => json!({ "year": 2020, "minPerCapita": "1000.00" }),
            ("HouseholdFilter", "search", "number") => json!("52"),
            ("HouseholdFilter", "search", "name") => json!("王"),
            ("HouseholdOrder", "field", order) => return json!({ "field": order }),
            ("HouseholdOrder", "direction", _) => return json!({ "direction": "DESC" }),
            ("PolicyFilter", "category", _) => first_value("PolicyCategory"),
            ("PolicyFilter", "status", _) => first_value("PolicyStatus"),
            ("ProjectFilter", "kind", _) => json!([first_value("ProjectKind")]),
            ("ProjectFilter", "status", _) => json!([first_value("ProjectStatus")]),
            (_, "overdue" | "announcementOverdue" | "isPovertyVillage" | "exited", _) => {
                json!(true)
            }
            ("VillageFilter", "name", _) => json!("村"),
            other => panic!("no example of {other:?}: add one to this test"),
        };
        json!({ field: value })
    };
    let roles = [
        Role::CountyAdmin,
        Role::TownshipOfficer,
        Role::VillageCadre,
        Role::HelperCadre,
        Role::Enterprise,
        Role::Auditor,
        Role::ProvincialSystem,
    ];
    let mut readers: Vec<(Option<String>, api::access::Viewer)> =
        vec![(None, api::access::Viewer::Public)];
    for role in roles {
        readers.push((Some(app.token_for(role).await), tests::viewer_of_role(role)));
    }
    let mut refusals = 0;
    for rule in FILTERS {
        let (list, argument) = list_of(rule.input);
        let query = format!(
            "query($v: {}) {{ {list}(first: 1, {argument}: $v) {{ pageInfo {{ hasNextPage }} }} }}",
            rule.input
        );
        let variables = json!({ "v": example(rule.input, rule.field, rule.form) });
        for (i, (token, viewer)) in readers.iter().enumerate() {
            let body = app
                .graphql_as(token.as_deref(), &query, variables.clone())
                .await;
            let refused = TestApp::error_codes(&body)
                .iter()
                .any(|code| code == "FORBIDDEN" || code == "UNAUTHENTICATED");
            let list_hidden =
                rule_of("Query", list).is_some_and(|r| access_of(viewer, r) == Access::Hidden);
            let reads_all = rule.reads.iter().all(|(type_name, field)| {
                rule_of(type_name, field).is_none_or(|r| access_of(viewer, r) == Access::Full)
            });
            let reader = READERS[i];
            assert_eq!(
                refused,
                list_hidden || !reads_all,
                "{reader} with {}.{} ({}): {body}",
                rule.input,
                rule.field,
                rule.form
            );
            refusals += usize::from(refused && !list_hidden);
        }
    }
    // The enterprise (masked names, hidden incomes) and the public at least.
    assert!(refusals >= 3, "{refusals}");
}
