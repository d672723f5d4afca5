//! Enterprises and their benefit links with poor households, over HTTP:
//! registration with GB 32100 credit codes, who may edit which enterprise,
//! the links' lifecycle, what an enterprise sees of its linked households, and
//! the yearly figures and ranking against a hand computation.

use api::config::Limits;
use chrono::{Days, NaiveDate, Utc};
use entity::enums::{FundSourceKind, HouseholdStatus, RegionLevel, Role};
use entity::{enterprise, fund_source, household};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};
use tests::{
    Backend, TestApp, create_user, error_field, error_message, first_region, global_id,
    on_both_backends, raw_id, regions, token_of,
};

on_both_backends!(
    credit_codes_are_checked_and_unique,
    township_officers_register_in_their_township_only,
    enterprises_edit_their_own_record_only,
    benefit_links_are_recorded_changed_and_ended,
    an_enterprise_sees_its_linked_households_with_names_masked,
    figures_and_ranking_follow_a_hand_computation,
    links_to_households_not_on_the_register_count_for_nothing,
);

const CREATE: &str = "mutation($input: CreateEnterpriseInput!) { createEnterprise(input: $input) {
    id name creditCode kind industry village { id } contactPerson contactPhone version } }";
const UPDATE: &str = "mutation($input: UpdateEnterpriseInput!) { updateEnterprise(input: $input) {
    id name contactPerson contactPhone version } }";
const RECORD: &str = "mutation($input: RecordBenefitLinkInput!) { recordBenefitLink(input: $input) {
    id enterprise { id } household { id } mode startedOn endedOn annualIncome note active version } }";
const UPDATE_LINK: &str =
    "mutation($input: UpdateBenefitLinkInput!) { updateBenefitLink(input: $input) {
    id mode annualIncome note endedOn version } }";
const END_LINK: &str = "mutation($id: ID!, $v: Int!, $on: NaiveDate!) {
    endBenefitLink(id: $id, version: $v, endedOn: $on) { id endedOn active version } }";
const RANKING: &str = "query($year: Int!, $by: EnterpriseRankBy, $region: ID, $first: Int) {
    enterpriseRanking(year: $year, by: $by, regionId: $region, first: $first) {
        rank enterprise { id } householdsLinked incomeBrought investment } }";

fn today() -> NaiveDate {
    api::domain::calendar::today()
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

/// A valid credit code (GB 32100) for a 9-character body.
fn code(body: &str) -> String {
    api::codes::credit_code(&format!("91520102{body}")).expect("a valid body")
}

fn enterprise_input(
    name: &str,
    credit_code: &str,
    village: Option<i64>,
    key: Option<&str>,
) -> Value {
    json!({ "input": {
        "name": name,
        "creditCode": credit_code,
        "kind": "COOPERATIVE",
        "industry": "LIVESTOCK",
        "villageId": village.map(|v| global_id("Village", v)),
        "contactPerson": "王建国",
        "contactPhone": "13812345678",
        "idempotencyKey": key,
    } })
}

async fn households_of_village(app: &TestApp, village: i64) -> Vec<household::Model> {
    household::Entity::find()
        .filter(household::Column::VillageId.eq(village))
        .order_by_asc(household::Column::Id)
        .all(&app.db)
        .await
        .expect("households")
}

/// The first village of the second township: outside the first township's reach.
async fn village_of_second_township(app: &TestApp) -> entity::region::Model {
    let second = regions(&app.db, RegionLevel::Township).await[1].clone();
    entity::region::Entity::find()
        .filter(entity::region::Column::ParentId.eq(second.id))
        .order_by_asc(entity::region::Column::Code)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a village")
}

/// A household of a village that has some.
async fn household_in(app: &TestApp, village: &entity::region::Model) -> household::Model {
    households_of_village(app, village.id)
        .await
        .into_iter()
        .next()
        .expect("a household in the village")
}

/// Registers an enterprise as the county administrator; returns its global ID.
async fn register(app: &TestApp, name: &str, credit_code: &str, village: Option<i64>) -> Value {
    app.query(CREATE, enterprise_input(name, credit_code, village, None))
        .await["createEnterprise"]["id"]
        .clone()
}

/// A token for an enterprise user of the enterprise with this credit code.
async fn enterprise_token(app: &TestApp, credit_code: &str) -> String {
    let username = format!("firm-{}", uuid::Uuid::new_v4().simple());
    let user = create_user(
        &app.db,
        &username,
        Role::Enterprise,
        None,
        Some(credit_code.to_owned()),
    )
    .await;
    token_of(&user)
}

fn link_input(
    enterprise: &Value,
    household: i64,
    mode: &str,
    started: NaiveDate,
    ended: Option<NaiveDate>,
    income: &str,
) -> Value {
    json!({ "input": {
        "enterpriseId": enterprise,
        "householdId": global_id("Household", household),
        "mode": mode,
        "startedOn": started,
        "endedOn": ended,
        "annualIncome": income,
        "note": "每月务工20天",
    } })
}

async fn credit_codes_are_checked_and_unique(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let valid = code("MA6DABC12");

    // Lower case is accepted and stored upper case.
    let input = enterprise_input(
        "黔南养牛专业合作社",
        &valid.to_lowercase(),
        Some(village.id),
        Some("firm-1"),
    );
    let created = app.query(CREATE, input.clone()).await["createEnterprise"].clone();
    assert_eq!(created["creditCode"], valid.as_str());
    assert_eq!(created["kind"], "COOPERATIVE");
    assert_eq!(created["village"]["id"], global_id("Village", village.id));
    assert_eq!(created["contactPhone"], "13812345678");
    assert_eq!(created["version"], 1);

    // A retry with the same key returns the same enterprise.
    let retried = app.query(CREATE, input).await["createEnterprise"].clone();
    assert_eq!(retried["id"], created["id"]);
    let stored = enterprise::Entity::find()
        .filter(enterprise::Column::CreditCode.eq(valid.as_str()))
        .all(&app.db)
        .await
        .expect("enterprises");
    assert_eq!(stored.len(), 1, "a retried createEnterprise registers once");

    // Each problem of a code is named on `creditCode`.
    let mut wrong_check = valid.clone();
    let last = wrong_check.pop().expect("a character");
    wrong_check.push(if last == '0' { '1' } else { '0' });
    let cases = [
        (wrong_check, "check character"),
        (valid[..17].to_owned(), "18 characters"),
        (format!("{}I{}", &valid[..8], &valid[9..]), "`I`"),
    ];
    for (bad, problem) in cases {
        let body = app
            .graphql(CREATE, enterprise_input("某合作社", &bad, None, None))
            .await;
        assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"], "{bad}");
        assert_eq!(error_field(&body), "creditCode", "{bad}");
        assert!(
            error_message(&body).contains(problem),
            "{bad}: {}",
            error_message(&body)
        );
    }

    // A code already registered is a conflict, whatever the case it is given in.
    let duplicate = app
        .graphql(
            CREATE,
            enterprise_input("另一合作社", &valid.to_lowercase(), None, Some("firm-2")),
        )
        .await;
    assert_eq!(TestApp::error_codes(&duplicate), ["CONFLICT"]);

    // Other fields are validated too.
    let mut bad_phone = enterprise_input("某合作社", &code("000000001"), None, None);
    bad_phone["input"]["contactPhone"] = json!("call me");
    let body = app.graphql(CREATE, bad_phone).await;
    assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"]);
    assert_eq!(error_field(&body), "contactPhone");
    let body = app
        .graphql(
            CREATE,
            enterprise_input("  ", &code("000000002"), None, None),
        )
        .await;
    assert_eq!(error_field(&body), "name");

    assert_eq!(
        app.audit_actions("Enterprise", raw_id(&created["id"]))
            .await,
        ["enterprise.create"]
    );
}

async fn township_officers_register_in_their_township_only(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let own = first_region(&app.db, RegionLevel::Village).await;
    let other = village_of_second_township(&app).await;
    let township = app.token_for(Role::TownshipOfficer).await;
    let token = Some(township.as_str());

    let created = app
        .query_as(
            token,
            CREATE,
            enterprise_input("乡里合作社", &code("000000010"), Some(own.id), None),
        )
        .await;
    assert_eq!(
        created["createEnterprise"]["village"]["id"],
        global_id("Village", own.id)
    );
    let elsewhere = app
        .graphql_as(
            token,
            CREATE,
            enterprise_input("外乡合作社", &code("000000011"), Some(other.id), None),
        )
        .await;
    assert_eq!(TestApp::error_codes(&elsewhere), ["FORBIDDEN"]);
    let nowhere = app
        .graphql_as(
            token,
            CREATE,
            enterprise_input("无村合作社", &code("000000012"), None, None),
        )
        .await;
    assert_eq!(TestApp::error_codes(&nowhere), ["BAD_USER_INPUT"]);
    assert_eq!(error_field(&nowhere), "villageId");

    // The county office registers anywhere, or in no village.
    app.query(
        CREATE,
        enterprise_input("县外企业", &code("000000013"), None, None),
    )
    .await;

    // Village cadres, enterprises and the public register none.
    let input = enterprise_input("村里合作社", &code("000000014"), Some(own.id), None);
    for role in [Role::VillageCadre, Role::Enterprise, Role::HelperCadre] {
        let token = app.token_for(role).await;
        let body = app.graphql_as(Some(&token), CREATE, input.clone()).await;
        assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"], "{role:?}");
    }
    let body = app.graphql_as(None, CREATE, input).await;
    assert_eq!(TestApp::error_codes(&body), ["UNAUTHENTICATED"]);
}

async fn enterprises_edit_their_own_record_only(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let own_village = first_region(&app.db, RegionLevel::Village).await;
    let other_village = village_of_second_township(&app).await;
    let code_a = code("00000A001");
    let code_b = code("00000B002");
    let a = register(&app, "甲合作社", &code_a, Some(own_village.id)).await;
    let b = register(&app, "乙合作社", &code_b, Some(other_village.id)).await;
    let firm_a = enterprise_token(&app, &code_a).await;
    let token = Some(firm_a.as_str());

    // Its own record, by version.
    let edited = app
        .query_as(
            token,
            UPDATE,
            json!({ "input": { "id": a, "version": 1, "contactPerson": "李四", "contactPhone": "0854-8123456" } }),
        )
        .await["updateEnterprise"]
        .clone();
    assert_eq!(edited["version"], 2);
    assert_eq!(edited["contactPerson"], "李四");
    assert_eq!(edited["contactPhone"], "0854-8123456");
    let stale = app
        .graphql_as(
            token,
            UPDATE,
            json!({ "input": { "id": a, "version": 1, "name": "甲公司" } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"]);
    let current = &stale["errors"][0]["extensions"]["current"];
    assert_eq!(current["version"], 2);
    assert_eq!(current["contactPerson"], "李四");
    // Rows in the form the API shows them: global IDs.
    assert_eq!(current["id"], a);
    assert_eq!(
        current["village"],
        global_id("Village", own_village.id).as_str()
    );

    // Another enterprise's record is refused; so is another's credit code.
    let other = app
        .graphql_as(
            token,
            UPDATE,
            json!({ "input": { "id": b, "version": 1, "name": "乙公司" } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&other), ["FORBIDDEN"]);
    let taken = app
        .graphql_as(
            token,
            UPDATE,
            json!({ "input": { "id": a, "version": 2, "creditCode": code_b } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&taken), ["CONFLICT"]);

    // A township officer edits those of its township, and moves none out of it.
    let township = app.token_for(Role::TownshipOfficer).await;
    let by_township = app
        .query_as(
            Some(&township),
            UPDATE,
            json!({ "input": { "id": a, "version": 2, "name": "甲养殖专业合作社" } }),
        )
        .await;
    assert_eq!(by_township["updateEnterprise"]["version"], 3);
    for (id, version, village) in [(&b, 1, None), (&a, 3, Some(other_village.id))] {
        let mut input = json!({ "id": id, "version": version, "name": "改名" });
        if let Some(village) = village {
            input["villageId"] = json!(global_id("Village", village));
        }
        let body = app
            .graphql_as(Some(&township), UPDATE, json!({ "input": input }))
            .await;
        assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"]);
    }
    let cadre = app.token_for(Role::VillageCadre).await;
    let body = app
        .graphql_as(
            Some(&cadre),
            UPDATE,
            json!({ "input": { "id": a, "version": 3, "name": "改名" } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"]);
    let missing = app
        .graphql(
            UPDATE,
            json!({ "input": { "id": global_id("Enterprise", 999_999), "version": 1, "name": "无" } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&missing), ["NOT_FOUND"]);

    // Contacts: not for the public; the phone not for village cadres.
    let read =
        "query($id: ID!) { enterprise(id: $id) { name contactPerson contactPhone version } }";
    let public = app.graphql_as(None, read, json!({ "id": a })).await;
    assert_eq!(public["data"]["enterprise"]["name"], "甲养殖专业合作社");
    assert_eq!(
        TestApp::error_codes(&public),
        ["UNAUTHENTICATED", "UNAUTHENTICATED"]
    );
    let by_cadre = app.graphql_as(Some(&cadre), read, json!({ "id": a })).await;
    assert_eq!(by_cadre["data"]["enterprise"]["contactPerson"], "李四");
    assert_eq!(TestApp::error_codes(&by_cadre), ["FORBIDDEN"]);
    let own = app.query_as(token, read, json!({ "id": a })).await;
    assert_eq!(own["enterprise"]["contactPhone"], "0854-8123456");
    assert_eq!(own["enterprise"]["version"], 3);

    assert_eq!(
        app.audit_actions("Enterprise", raw_id(&a)).await,
        [
            "enterprise.update",
            "enterprise.update",
            "enterprise.create"
        ]
    );
}

async fn benefit_links_are_recorded_changed_and_ended(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let home = household_in(&app, &village).await;
    let stranger = household_in(&app, &village_of_second_township(&app).await).await;
    let firm = register(&app, "茶叶合作社", &code("00000C001"), Some(village.id)).await;
    let cadre = app.token_for(Role::VillageCadre).await;
    let token = Some(cadre.as_str());
    let started = date("2020-03-01");

    let mut input = link_input(&firm, home.id, "EMPLOYMENT", started, None, "3600.50");
    input["input"]["idempotencyKey"] = json!("link-1");
    let link = app.query_as(token, RECORD, input.clone()).await["recordBenefitLink"].clone();
    assert_eq!(link["mode"], "EMPLOYMENT");
    assert_eq!(link["annualIncome"], "3600.50");
    assert_eq!(link["active"], true);
    assert_eq!(link["version"], 1);
    assert_eq!(link["household"]["id"], global_id("Household", home.id));
    let retried = app.query_as(token, RECORD, input).await;
    assert_eq!(retried["recordBenefitLink"]["id"], link["id"]);

    // Dates, amounts and the household are checked.
    let cases = [
        (
            link_input(
                &firm,
                home.id,
                "DIVIDEND",
                started,
                Some(date("2020-02-01")),
                "1",
            ),
            "endedOn",
        ),
        (
            link_input(&firm, home.id, "DIVIDEND", date("2013-12-31"), None, "1"),
            "startedOn",
        ),
        (
            link_input(
                &firm,
                home.id,
                "DIVIDEND",
                today() + Days::new(400),
                None,
                "1",
            ),
            "startedOn",
        ),
        (
            link_input(&firm, home.id, "DIVIDEND", started, None, "-1"),
            "annualIncome",
        ),
    ];
    for (input, field) in cases {
        let body = app.graphql_as(token, RECORD, input).await;
        assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"], "{field}");
        assert_eq!(error_field(&body), field);
    }
    let out_of_reach = app
        .graphql_as(
            token,
            RECORD,
            link_input(&firm, stranger.id, "DIVIDEND", started, None, "1"),
        )
        .await;
    assert_eq!(TestApp::error_codes(&out_of_reach), ["NOT_FOUND"]);

    // No two links of one mode with one enterprise at once; another mode is fine.
    let twice = app
        .graphql_as(
            token,
            RECORD,
            link_input(
                &firm,
                home.id,
                "EMPLOYMENT",
                date("2024-01-01"),
                None,
                "100",
            ),
        )
        .await;
    assert_eq!(TestApp::error_codes(&twice), ["CONFLICT"]);
    let rent = app
        .query_as(
            token,
            RECORD,
            link_input(&firm, home.id, "LAND_RENT", date("2021-01-01"), None, "800"),
        )
        .await["recordBenefitLink"]
        .clone();

    // Edits go by version.
    let changed = app
        .query_as(
            token,
            UPDATE_LINK,
            json!({ "input": { "id": link["id"], "version": 1, "annualIncome": "4000", "note": "" } }),
        )
        .await["updateBenefitLink"]
        .clone();
    assert_eq!(changed["annualIncome"], "4000.00");
    assert!(changed["note"].is_null());
    assert_eq!(changed["version"], 2);
    let stale = app
        .graphql_as(
            token,
            UPDATE_LINK,
            json!({ "input": { "id": link["id"], "version": 1, "annualIncome": "1" } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"]);
    let current = &stale["errors"][0]["extensions"]["current"];
    assert_eq!(current["annualIncome"], "4000.00");
    assert_eq!(current["id"], link["id"]);
    assert_eq!(current["enterprise"], firm);
    assert_eq!(
        current["household"],
        global_id("Household", home.id).as_str()
    );
    let clash = app
        .graphql_as(
            token,
            UPDATE_LINK,
            json!({ "input": { "id": rent["id"], "version": 1, "mode": "EMPLOYMENT" } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&clash), ["CONFLICT"]);

    // Ending: not before the start; then the link is no longer active.
    let early = app
        .graphql_as(
            token,
            END_LINK,
            json!({ "id": link["id"], "v": 2, "on": "2019-01-01" }),
        )
        .await;
    assert_eq!(error_field(&early), "endedOn");
    let yesterday = today() - Days::new(1);
    let ended = app
        .query_as(
            token,
            END_LINK,
            json!({ "id": link["id"], "v": 2, "on": yesterday }),
        )
        .await["endBenefitLink"]
        .clone();
    assert_eq!(ended["active"], false);
    assert_eq!(ended["endedOn"], json!(yesterday));
    let again = app
        .graphql_as(
            token,
            END_LINK,
            json!({ "id": link["id"], "v": 3, "on": yesterday }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&again), ["BAD_USER_INPUT"]);
    // Once ended, the same mode may start again.
    app.query_as(
        token,
        RECORD,
        link_input(&firm, home.id, "EMPLOYMENT", today(), None, "3000"),
    )
    .await;

    // The household lists its links; the enterprise its own.
    let listed = app
        .query_as(
            token,
            "query($h: ID!, $e: ID!) {
                household(id: $h) { benefitLinks { mode active } }
                enterprise(id: $e) { benefitLinks(first: 10) { totalCount }
                                     open: benefitLinks(active: true) { nodes { mode } } } }",
            json!({ "h": global_id("Household", home.id), "e": firm }),
        )
        .await;
    let modes: Vec<(&str, bool)> = listed["household"]["benefitLinks"]
        .as_array()
        .expect("links")
        .iter()
        .map(|l| {
            (
                l["mode"].as_str().expect("mode"),
                l["active"].as_bool().expect("active"),
            )
        })
        .collect();
    assert_eq!(
        modes,
        [
            ("EMPLOYMENT", false),
            ("LAND_RENT", true),
            ("EMPLOYMENT", true)
        ]
    );
    assert_eq!(listed["enterprise"]["benefitLinks"]["totalCount"], 3);
    assert_eq!(
        listed["enterprise"]["open"]["nodes"]
            .as_array()
            .expect("nodes")
            .len(),
        2
    );

    // Enterprises and helper cadres record no links; the public sees none.
    let input = link_input(&firm, home.id, "DIVIDEND", started, None, "1");
    for role in [Role::Enterprise, Role::HelperCadre, Role::Auditor] {
        let token = app.token_for(role).await;
        let body = app.graphql_as(Some(&token), RECORD, input.clone()).await;
        assert_eq!(TestApp::error_codes(&body), ["FORBIDDEN"], "{role:?}");
    }
    let public = app
        .graphql_as(
            None,
            "query($e: ID!) { enterprise(id: $e) { name benefitLinks { totalCount } } }",
            json!({ "e": firm }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&public), ["UNAUTHENTICATED"]);
    let node = app
        .graphql_as(
            None,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": link["id"] }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&node), ["NOT_FOUND"]);

    assert_eq!(
        app.audit_actions("BenefitLink", raw_id(&link["id"])).await,
        [
            "benefit_link.end",
            "benefit_link.update",
            "benefit_link.create"
        ]
    );
}

async fn an_enterprise_sees_its_linked_households_with_names_masked(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let homes = households_of_village(&app, village.id).await;
    let (linked, unlinked) = (&homes[0], &homes[1]);
    let firm_code = code("00000D001");
    let firm = register(&app, "蜂蜜合作社", &firm_code, Some(village.id)).await;
    let link = app
        .query(
            RECORD,
            link_input(
                &firm,
                linked.id,
                "ORDER_PURCHASE",
                date("2022-05-01"),
                None,
                "1500",
            ),
        )
        .await["recordBenefitLink"]
        .clone();
    let token = enterprise_token(&app, &firm_code).await;
    let token = Some(token.as_str());

    let read = "query($id: ID!) { household(id: $id) { number members { name idNumber } } }";
    let body = app
        .graphql_as(
            token,
            read,
            json!({ "id": global_id("Household", linked.id) }),
        )
        .await;
    let members = body["data"]["household"]["members"]
        .as_array()
        .expect("members");
    assert!(!members.is_empty());
    for member in members {
        let name = member["name"].as_str().expect("a name");
        assert!(name.ends_with('*'), "masked: {name}");
        assert!(member["idNumber"].is_null());
    }
    let codes = TestApp::error_codes(&body);
    assert_eq!(codes.len(), members.len());
    assert!(codes.iter().all(|c| c == "FORBIDDEN"));
    let other = app
        .graphql_as(
            token,
            read,
            json!({ "id": global_id("Household", unlinked.id) }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&other), ["NOT_FOUND"]);

    // Its own links, with the income it brings but not the notes.
    let links = app
        .graphql_as(
            token,
            "query($e: ID!) { enterprise(id: $e) { benefitLinks { nodes { annualIncome note household { number } } } } }",
            json!({ "e": firm }),
        )
        .await;
    let node = &links["data"]["enterprise"]["benefitLinks"]["nodes"][0];
    assert_eq!(node["annualIncome"], "1500.00");
    assert_eq!(node["household"]["number"], linked.number.as_str());
    assert_eq!(TestApp::error_codes(&links), ["FORBIDDEN"]);

    // Ended yesterday: the household is out of its reach.
    let yesterday = today() - Days::new(1);
    app.query(
        END_LINK,
        json!({ "id": link["id"], "v": 1, "on": yesterday }),
    )
    .await;
    let after = app
        .graphql_as(
            token,
            read,
            json!({ "id": global_id("Household", linked.id) }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&after), ["NOT_FOUND"]);

    // A link that starts tomorrow opens nothing yet.
    let tomorrow = today() + Days::new(1);
    app.query(
        RECORD,
        link_input(&firm, unlinked.id, "EMPLOYMENT", tomorrow, None, "800"),
    )
    .await;
    let early = app
        .graphql_as(
            token,
            read,
            json!({ "id": global_id("Household", unlinked.id) }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&early), ["NOT_FOUND"]);
}

async fn figures_and_ranking_follow_a_hand_computation(backend: Backend) {
    // A loader window wide enough that a slow debug build gathers a whole page.
    let limits = Limits {
        loader_delay_ms: 200,
        ..Limits::default()
    };
    let app = TestApp::spawn_with(&backend, limits).await;
    app.seed(40, 7).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let far = village_of_second_township(&app).await;
    let homes = households_of_village(&app, village.id).await;
    let (h1, h2, h3) = (homes[0].id, homes[1].id, homes[2].id);
    let h4 = household_in(&app, &far).await.id;
    let e1 = register(&app, "一号合作社", &code("00000E001"), Some(village.id)).await;
    let e2 = register(&app, "二号合作社", &code("00000E002"), Some(village.id)).await;
    let e3 = register(&app, "三号合作社", &code("00000E003"), Some(far.id)).await;
    let links = [
        (&e1, h1, "EMPLOYMENT", "2022-03-01", None, "3000"),
        (
            &e1,
            h2,
            "LAND_RENT",
            "2023-06-01",
            Some("2023-12-31"),
            "1200",
        ),
        (&e1, h2, "DIVIDEND", "2021-01-01", Some("2022-12-31"), "500"),
        (
            &e2,
            h1,
            "ORDER_PURCHASE",
            "2023-01-01",
            Some("2024-02-01"),
            "800",
        ),
        (&e2, h3, "EMPLOYMENT", "2024-01-01", None, "2000"),
        (&e3, h4, "DIVIDEND", "2019-01-01", Some("2023-01-01"), "600"),
    ];
    for (firm, home, mode, started, ended, income) in links {
        app.query(
            RECORD,
            link_input(firm, home, mode, date(started), ended.map(date), income),
        )
        .await;
    }
    let donations = [
        (&e2, 2023, 5_000_000),
        (&e2, 2023, 1_000_000),
        (&e2, 2022, 3_000_000),
        (&e3, 2023, 500_000),
    ];
    for (firm, year, amount_fen) in donations {
        let now = Utc::now();
        fund_source::ActiveModel {
            year: Set(year),
            kind: Set(FundSourceKind::EnterpriseDonation),
            name: Set("企业捐赠".into()),
            document_number: Set(None),
            amount_fen: Set(amount_fen),
            donor_enterprise_id: Set(Some(raw_id(firm))),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .expect("fund source");
    }

    // Per enterprise, as anyone sees it: a link counts in every year it is open a day.
    let figures = app
        .query(
            "query($a: ID!, $b: ID!, $c: ID!) {
                a: enterprise(id: $a) { y23: benefit(year: 2023) { year householdsLinked incomeBrought investment }
                                        y22: benefit(year: 2022) { householdsLinked incomeBrought investment } }
                b: enterprise(id: $b) { y23: benefit(year: 2023) { householdsLinked incomeBrought investment }
                                        y22: benefit(year: 2022) { householdsLinked incomeBrought investment } }
                c: enterprise(id: $c) { y23: benefit(year: 2023) { householdsLinked incomeBrought investment } } }",
            json!({ "a": e1, "b": e2, "c": e3 }),
        )
        .await;
    let got = |who: &str, year: &str| {
        let f = &figures[who][year];
        (
            f["householdsLinked"].as_i64().expect("count"),
            f["incomeBrought"].as_str().expect("money").to_owned(),
            f["investment"].as_str().expect("money").to_owned(),
        )
    };
    let expect =
        |n: i64, income: &str, investment: &str| (n, income.to_owned(), investment.to_owned());
    assert_eq!(figures["a"]["y23"]["year"], 2023);
    assert_eq!(got("a", "y23"), expect(2, "4200.00", "0.00"));
    assert_eq!(got("a", "y22"), expect(2, "3500.00", "0.00"));
    assert_eq!(got("b", "y23"), expect(1, "800.00", "60000.00"));
    assert_eq!(got("b", "y22"), expect(0, "0.00", "30000.00"));
    assert_eq!(got("c", "y23"), expect(1, "600.00", "5000.00"));

    // A page of enterprises with their figures costs the same whatever its size.
    let page = "query($n: Int!) { enterprises(first: $n) { nodes { name benefit(year: 2023) { householdsLinked } } } }";
    let mut costs = Vec::new();
    for n in [2, 6] {
        let before = app.statements();
        let data = app.query(page, json!({ "n": n })).await;
        assert_eq!(
            data["enterprises"]["nodes"]
                .as_array()
                .expect("nodes")
                .len(),
            n
        );
        costs.push(app.statements() - before);
    }
    assert_eq!(costs[0], costs[1], "figures load in one statement per page");

    // The ranking: highest first, ties by registration, zeros left out.
    let ranking = |by: &str, region: Option<i64>, first: Option<i64>| {
        let mut vars = json!({ "year": 2023, "by": by });
        if let Some(region) = region {
            vars["region"] = json!(global_id("Township", region));
        }
        if let Some(first) = first {
            vars["first"] = json!(first);
        }
        vars
    };
    let order = |data: &Value| -> Vec<(i64, Value, i64)> {
        data["enterpriseRanking"]
            .as_array()
            .expect("ranking")
            .iter()
            .map(|r| {
                (
                    r["rank"].as_i64().expect("rank"),
                    r["enterprise"]["id"].clone(),
                    r["householdsLinked"].as_i64().expect("count"),
                )
            })
            .collect()
    };
    let by_households = app
        .query(RANKING, ranking("HOUSEHOLDS_LINKED", None, None))
        .await;
    assert_eq!(
        order(&by_households),
        [(1, e1.clone(), 2), (2, e2.clone(), 1), (3, e3.clone(), 1)]
    );
    assert_eq!(
        by_households["enterpriseRanking"][0]["incomeBrought"],
        "4200.00"
    );
    let by_income = app
        .query(RANKING, ranking("INCOME_BROUGHT", None, None))
        .await;
    let incomes: Vec<&str> = by_income["enterpriseRanking"]
        .as_array()
        .expect("ranking")
        .iter()
        .map(|r| r["incomeBrought"].as_str().expect("money"))
        .collect();
    assert_eq!(incomes, ["4200.00", "800.00", "600.00"]);
    let by_investment = app.query(RANKING, ranking("INVESTMENT", None, None)).await;
    assert_eq!(
        order(&by_investment),
        [(1, e2.clone(), 1), (2, e3.clone(), 1)]
    );
    assert_eq!(
        by_investment["enterpriseRanking"][0]["investment"],
        "60000.00"
    );
    let township = first_region(&app.db, RegionLevel::Township).await;
    let in_township = app
        .query(
            RANKING,
            ranking("HOUSEHOLDS_LINKED", Some(township.id), None),
        )
        .await;
    assert_eq!(
        order(&in_township),
        [(1, e1.clone(), 2), (2, e2.clone(), 1)]
    );
    let top = app
        .query(RANKING, ranking("HOUSEHOLDS_LINKED", None, Some(1)))
        .await;
    assert_eq!(order(&top), [(1, e1.clone(), 2)]);

    // Bounds.
    for first in [0, 101] {
        let body = app
            .graphql_as(None, RANKING, ranking("INVESTMENT", None, Some(first)))
            .await;
        assert_eq!(error_field(&body), "first");
    }
    let early = app
        .graphql_as(None, RANKING, json!({ "year": 2013, "by": "INVESTMENT" }))
        .await;
    assert_eq!(error_field(&early), "year");
}

async fn links_to_households_not_on_the_register_count_for_nothing(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    app.seed(40, 7).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let homes = households_of_village(&app, village.id).await;
    assert!(homes.len() >= 4, "the village has four households");
    let firm = register(&app, "四号合作社", &code("00000E004"), Some(village.id)).await;
    let statuses = [
        HouseholdStatus::Enrolled,
        HouseholdStatus::LiftedOut,
        HouseholdStatus::NotPoor,
        HouseholdStatus::Removed,
    ];
    for (home, status) in homes.iter().zip(statuses) {
        app.query(
            RECORD,
            link_input(
                &firm,
                home.id,
                "EMPLOYMENT",
                date("2023-01-01"),
                None,
                "1000",
            ),
        )
        .await;
        let mut row: household::ActiveModel = home.clone().into();
        row.status = Set(status);
        row.update(&app.db).await.expect("status");
    }
    // Two of the four households are on the register as poor or lifted out.
    let data = app
        .query(
            "query($e: ID!) { enterprise(id: $e) { benefit(year: 2023) { householdsLinked incomeBrought } }
                              enterpriseRanking(year: 2023, by: INCOME_BROUGHT) { incomeBrought } }",
            json!({ "e": firm }),
        )
        .await;
    assert_eq!(
        data["enterprise"]["benefit"],
        json!({ "householdsLinked": 2, "incomeBrought": "2000.00" })
    );
    assert_eq!(data["enterpriseRanking"][0]["incomeBrought"], "2000.00");
}
