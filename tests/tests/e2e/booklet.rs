//! The household's booklet (扶贫手册): `Household.booklet` gathers the policies
//! that reach the household, its measures, helpers, visits, incomes and links,
//! and `/booklet` prints it in headless Chromium, in Chinese on A4, showing
//! each reader only what the field policy lets them see.

use chrono::Days;
use entity::enums::{RegionLevel, Relation, Role};
use entity::{enterprise, household, member};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tests::{Backend, TestApp, first_region, global_id, on_both_backends, regions};

use super::browser::{printed_pdf, rendered_dom};

on_both_backends!(
    the_booklet_gathers_what_reached_the_household,
    the_printed_booklet_shows_each_reader_what_they_may_see,
);

const CREATE_POLICY: &str =
    "mutation($input: CreatePolicyInput!) { createPolicy(input: $input) { id } }";
const PUBLISH_POLICY: &str =
    "mutation($id: ID!) { publishPolicy(id: $id, version: 1) { id status } }";
const BOOKLET: &str = "query($id: ID!) { household(id: $id) { booklet {
    issuedOn
    policies { title }
    plan { total measures { category task } }
    helpers { helper { username } unit }
    contacts { name }
    visits { visitedOn help }
    incomes { year perCapitaNet povertyLine abovePovertyLine }
    benefitLinks { mode annualIncome enterprise { name } } } } }";

/// A policy of the county office, published unless `draft`.
async fn policy(
    app: &TestApp,
    title: &str,
    category: &str,
    effective_on: chrono::NaiveDate,
    regions: &[String],
    draft: bool,
) {
    let roles: &[&str] = if regions.is_empty() {
        &["VILLAGE_CADRE", "HELPER_CADRE"]
    } else {
        &["VILLAGE_CADRE"]
    };
    let created = app
        .query(
            CREATE_POLICY,
            json!({ "input": {
                "title": title,
                "body": "对建档立卡贫困户给予补助。",
                "category": category,
                "issuingBody": "县扶贫开发领导小组",
                "effectiveOn": effective_on,
                "audienceRoles": roles,
                "audienceRegionIds": regions,
            } }),
        )
        .await;
    if !draft {
        let id = created["createPolicy"]["id"].clone();
        app.query(PUBLISH_POLICY, json!({ "id": id })).await;
    }
}

/// A household of the first village (the village cadre's), with a head whose
/// ID number is on file, and the helper cadre paired with it.
struct Home {
    household: household::Model,
    head: member::Model,
    helper: String,
    helper_name: String,
}

async fn a_helped_household(app: &TestApp) -> Home {
    let village = first_region(&app.db, RegionLevel::Village).await;
    let household = household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .order_by_asc(household::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household in the first village");
    let head = member::Entity::find()
        .filter(member::Column::HouseholdId.eq(household.id))
        .filter(member::Column::Relation.eq(Relation::Head))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a head");
    let id = global_id("Household", household.id);
    let (helper_user, helper) = app.user_for(Role::HelperCadre).await;
    let cadre = app.token_for(Role::VillageCadre).await;
    app.query_as(
        Some(&cadre),
        "mutation($u: String!, $h: ID!) { pairHelper(helperUsername: $u, householdId: $h, unit: \"县卫生健康局\") { id } }",
        json!({ "u": helper_user.username, "h": id }),
    )
    .await;
    let today = api::domain::calendar::today();
    for (category, task) in [
        ("HEALTH", "落实家庭医生签约服务"),
        ("EDUCATION", "落实义务教育阶段资助"),
    ] {
        app.query_as(
            Some(&cadre),
            "mutation($input: AddMeasureInput!) { addMeasure(input: $input) { id } }",
            json!({ "input": {
                "householdId": id,
                "category": category,
                "task": task,
                "standard": "全年落实到位",
                "responsible": "王建国",
                "deadline": today + Days::new(60),
                "funds": "0.00",
            } }),
        )
        .await;
    }
    app.query_as(
        Some(&helper),
        "mutation($input: RecordVisitInput!) { recordVisit(input: $input) { id } }",
        json!({ "input": {
            "householdId": id,
            "visitedOn": today - Days::new(3),
            "help": ["POLICY_EXPLAINED", "PROBLEM_SOLVED"],
            "notes": "讲解健康扶贫政策，协助办理慢病卡",
            "idempotencyKey": uuid::Uuid::new_v4().to_string(),
        } }),
    )
    .await;
    let firm = enterprise::Entity::find()
        .order_by_asc(enterprise::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("an enterprise");
    app.query(
        "mutation($input: RecordBenefitLinkInput!) { recordBenefitLink(input: $input) { id } }",
        json!({ "input": {
            "enterpriseId": global_id("Enterprise", firm.id),
            "householdId": id,
            "mode": "EMPLOYMENT",
            "startedOn": today - Days::new(100),
            "annualIncome": "3600.00",
        } }),
    )
    .await;
    Home {
        household,
        head,
        helper,
        helper_name: helper_user.username,
    }
}

async fn the_booklet_gathers_what_reached_the_household(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let home = a_helped_household(&app).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let township = village.parent_id.expect("a township");
    let elsewhere = regions(&app.db, RegionLevel::Township)
        .await
        .into_iter()
        .find(|t| t.id != township)
        .expect("a second township");
    let today = api::domain::calendar::today();
    let past = today - Days::new(30);
    // Reach the household: its fields (health, education), the whole county or
    // its own village or township, published and in force.
    policy(&app, "县健康扶贫政策", "HEALTH", past, &[], false).await;
    policy(
        &app,
        "本乡教育资助政策",
        "EDUCATION",
        past - Days::new(1),
        &[global_id("Township", township)],
        false,
    )
    .await;
    // Do not: another field, another township, a draft, not yet in force.
    policy(&app, "县产业扶贫政策", "INDUSTRY", past, &[], false).await;
    policy(
        &app,
        "外乡健康政策",
        "HEALTH",
        past,
        &[global_id("Township", elsewhere.id)],
        false,
    )
    .await;
    policy(&app, "健康政策草稿", "HEALTH", past, &[], true).await;
    policy(
        &app,
        "明年健康政策",
        "HEALTH",
        today + Days::new(30),
        &[],
        false,
    )
    .await;

    let id = global_id("Household", home.household.id);
    let booklet = app.query(BOOKLET, json!({ "id": id })).await["household"]["booklet"].clone();
    assert_eq!(booklet["issuedOn"], json!(today));
    let titles: Vec<&Value> = booklet["policies"]
        .as_array()
        .expect("policies")
        .iter()
        .map(|p| &p["title"])
        .collect();
    assert_eq!(
        titles,
        [&json!("本乡教育资助政策"), &json!("县健康扶贫政策")]
    );
    assert_eq!(booklet["plan"]["total"], 2);
    assert_eq!(
        booklet["helpers"],
        json!([{ "helper": { "username": home.helper_name }, "unit": "县卫生健康局" }])
    );
    assert_eq!(
        booklet["visits"][0]["help"],
        json!(["POLICY_EXPLAINED", "PROBLEM_SOLVED"])
    );
    assert_eq!(
        booklet["benefitLinks"][0]["annualIncome"], "3600.00",
        "{booklet}"
    );
    let incomes = booklet["incomes"].as_array().expect("incomes");
    assert!(!incomes.is_empty(), "the seeded card has incomes");
    for income in incomes {
        assert!(income["povertyLine"].is_string(), "{income}");
    }

    // A cancelled measure no longer brings its field's policies.
    let measures = app
        .query(
            "query($id: ID!) { household(id: $id) { plan { measures { id category version } } } }",
            json!({ "id": id }),
        )
        .await;
    let education = measures["household"]["plan"]["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .find(|m| m["category"] == "EDUCATION")
        .expect("the education measure")
        .clone();
    app.query(
        "mutation($id: ID!, $v: Int!) { setMeasureStatus(id: $id, version: $v, status: CANCELLED) { id } }",
        json!({ "id": education["id"], "v": education["version"] }),
    )
    .await;
    let booklet = app.query(BOOKLET, json!({ "id": id })).await["household"]["booklet"].clone();
    assert_eq!(booklet["policies"], json!([{ "title": "县健康扶贫政策" }]));

    // Incomes follow the field policy: an enterprise user reaching the
    // household through its link sees the booklet without them.
    let firm = app.token_for(Role::Enterprise).await;
    let seen = app
        .graphql_as(
            Some(&firm),
            "query($id: ID!) { household(id: $id) { booklet { policies { title } incomes { year } } } }",
            json!({ "id": id }),
        )
        .await;
    assert!(
        seen["data"]["household"]["booklet"]["incomes"].is_null(),
        "{seen}"
    );
    assert_eq!(
        seen["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{seen}"
    );
    assert_eq!(
        seen["data"]["household"]["booklet"]["policies"],
        json!([{ "title": "县健康扶贫政策" }])
    );

    // A household out of the reader's reach has no booklet either.
    let stranger = app.token_for(Role::HelperCadre).await;
    let refused = app
        .graphql_as(
            Some(&stranger),
            "query($id: ID!) { household(id: $id) { booklet { policies { title } } } }",
            json!({ "id": id }),
        )
        .await;
    assert!(refused["data"]["household"].is_null(), "{refused}");
    assert!(!refused.to_string().contains("县健康扶贫政策"), "{refused}");
}

/// The booklet page of a household as `token` would see it.
async fn page_for(app: &TestApp, household: &str, token: Option<&str>) -> String {
    let mut url = format!("{}#household={household}", app.url("/booklet"));
    if let Some(token) = token {
        url.push_str(&format!("&token={token}"));
    }
    tokio::task::spawn_blocking(move || rendered_dom(&url))
        .await
        .expect("chromium run")
}

async fn the_printed_booklet_shows_each_reader_what_they_may_see(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let home = a_helped_household(&app).await;
    let today = api::domain::calendar::today();
    // A title that is markup must print as text, never run or render.
    policy(
        &app,
        "<img src=x id=injected>健康扶贫政策",
        "HEALTH",
        today - Days::new(10),
        &[],
        false,
    )
    .await;
    let id = global_id("Household", home.household.id);
    let id_number = home.head.id_number.clone();
    let masked_tail = &id_number[id_number.len() - 4..];

    // The county office sees the card in full.
    let admin = app.token_for(Role::CountyAdmin).await;
    let dom = page_for(&app, &id, Some(&admin)).await;
    for shown in [
        "扶贫手册",
        "一、家庭基本情况",
        "五、享受政策",
        "八、走访记录",
        "户主签字",
        home.head.name.as_str(),
        home.household.number.as_str(),
        id_number.as_str(),
        "健康扶贫",
        "讲解健康扶贫政策，协助办理慢病卡",
        "宣讲政策、解决困难",
        "县卫生健康局",
        "3600.00",
    ] {
        assert!(
            dom.contains(shown),
            "the county office's booklet lacks {shown}: {dom}"
        );
    }
    assert!(
        dom.contains("&lt;img src=x id=injected&gt;健康扶贫政策"),
        "the title is not printed as text: {dom}"
    );
    assert!(
        !dom.contains("id=\"injected\""),
        "the title became markup: {dom}"
    );
    assert!(!dom.contains("正在读取"), "the page never drew the booklet");

    // The helper cadre paired with it sees the ID number masked and no health.
    let dom = page_for(&app, &id, Some(&home.helper)).await;
    assert!(dom.contains(home.head.name.as_str()), "{dom}");
    assert!(
        !dom.contains(id_number.as_str()),
        "the full ID number reached a helper cadre"
    );
    assert!(
        dom.contains(&format!("********{masked_tail}")),
        "the masked ID number is missing: {dom}"
    );
    let health = app
        .query(
            "query($id: ID!) { household(id: $id) { members { health } } }",
            json!({ "id": id }),
        )
        .await;
    let head_health = health["household"]["members"][0]["health"]
        .as_str()
        .expect("the head's health");
    let labels = app
        .query(
            "{ __type(name: \"Health\") { enumValues { name description } } }",
            json!({}),
        )
        .await;
    let label = labels["__type"]["enumValues"]
        .as_array()
        .expect("values")
        .iter()
        .find(|v| v["name"] == head_health)
        .and_then(|v| v["description"].as_str())
        .and_then(|d| {
            d.rsplit_once('(')?
                .1
                .split_once(')')
                .map(|(l, _)| l.to_owned())
        })
        .expect("a Chinese label");
    let admin_dom = page_for(&app, &id, Some(&admin)).await;
    assert!(admin_dom.contains(&label), "{admin_dom}");
    let members_of = |page: &str| -> String {
        let start = page.find("二、家庭成员").expect("the members' section");
        let end = page.find("三、帮扶责任人").expect("the helpers' section");
        page[start..end].to_owned()
    };
    assert!(
        !members_of(&dom).contains(&format!("<td>{label}</td>")),
        "health reached a helper cadre: {dom}"
    );

    // Another helper cadre, not paired with it, gets no booklet; nor does a
    // reader without a token.
    let stranger = app.token_for(Role::HelperCadre).await;
    let dom = page_for(&app, &id, Some(&stranger)).await;
    assert!(dom.contains("无法读取扶贫手册"), "{dom}");
    assert!(!dom.contains(home.head.name.as_str()), "{dom}");
    let dom = page_for(&app, &id, None).await;
    assert!(dom.contains("请先登录"), "{dom}");
    assert!(!dom.contains(home.head.name.as_str()), "{dom}");

    // It prints on A4.
    let url = format!("{}#household={id}&token={admin}", app.url("/booklet"));
    let pdf_path = std::env::temp_dir().join(format!("booklet-{}.pdf", uuid::Uuid::new_v4()));
    let path = pdf_path.clone();
    let pdf = tokio::task::spawn_blocking(move || printed_pdf(&url, &path))
        .await
        .expect("chromium run");
    std::fs::remove_file(&pdf_path).ok();
    let pdf = String::from_utf8_lossy(&pdf);
    let media_box = pdf
        .split("/MediaBox [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("a page size");
    let sides: Vec<f64> = media_box
        .split_whitespace()
        .map(|n| n.parse().expect("a number"))
        .collect();
    // A4 is 210 x 297 mm: 595 x 842 points.
    assert!(
        (sides[2] - 595.0).abs() < 2.0 && (sides[3] - 842.0).abs() < 2.0,
        "not A4: {media_box}"
    );
}
