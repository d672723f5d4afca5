//! The county portal at `/`: headless Chromium, driven through chromedriver,
//! reads every public page of a seeded county as the public does and finds
//! there what the API tells the public; files a complaint and follows it by
//! its tracking number; and signs in as a village cadre, who sees its own
//! village's households and no other, even by searching, and as a county
//! officer, who sees the county; and a cadre's page hears of its village's
//! news live, over the websocket.

use chrono::{Datelike, Days};
use entity::enums::{HouseholdStatus, RegionLevel, Role};
use entity::household;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde_json::{Value, json};
use tests::{
    Backend, TEST_PASSWORD, TestApp, create_user, first_region, global_id, on_both_backends,
    token_of,
};

use super::webdriver::Browser;

on_both_backends!(
    the_portal_is_served_whole_from_the_binary,
    the_public_pages_show_what_the_api_tells_the_public,
    a_complaint_is_filed_and_followed_by_its_tracking_number,
    a_village_cadre_sees_its_village_and_no_other,
    a_county_officer_sees_the_county,
    a_village_cadre_hears_of_its_village_live,
);

/// Households of the seeded county: enough for every township to have some.
const HOUSEHOLDS: u32 = 80;

/// A whole number as the portal writes it (`toLocaleString("zh-CN")`).
fn grouped(number: i64) -> String {
    let digits = number.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if number < 0 { format!("-{out}") } else { out }
}

/// An amount in fen as the portal writes yuan.
fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:02} 元",
        grouped(fen.abs() / 100),
        fen.abs() % 100
    )
}

/// The API's Money (a decimal string) in fen.
fn fen(money: &Value) -> i64 {
    let text = money.as_str().expect("money");
    let (whole, cents) = text.split_once('.').unwrap_or((text, "0"));
    let negative = whole.starts_with('-');
    let value = whole.trim_start_matches('-').parse::<i64>().expect("yuan") * 100
        + format!("{cents:0<2}")[..2].parse::<i64>().expect("fen");
    if negative { -value } else { value }
}

/// A count the public statistics may withhold, as the portal shows it.
fn cell(value: &Value) -> String {
    value.as_i64().map_or_else(|| "不公开".to_owned(), grouped)
}

/// The cells of every row `selector` finds, as their text.
async fn rows(browser: &Browser, selector: &str) -> Vec<Vec<String>> {
    let found = browser
        .client
        .execute(
            "return [...document.querySelectorAll(arguments[0])]
               .map((row) => [...row.cells].map((cell) => cell.textContent.trim()));",
            vec![json!(selector)],
        )
        .await
        .expect("read the rows");
    serde_json::from_value(found).expect("rows of cells")
}

/// A form-encoded value, as `URLSearchParams` writes it into the address.
fn form_encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /` is the page under the pages' policy, and every file it loads, and
/// every module those import, is served from `/portal/`; nothing else is.
async fn the_portal_is_served_whole_from_the_binary(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let page = app.client.get(app.url("/")).send().await.expect("request");
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    assert_eq!(headers["content-security-policy"], api::pages::PAGE_CSP);
    assert!(
        headers["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/html")
    );
    let html = page.text().await.expect("the page");
    let mut pending: Vec<String> = ["src=\"", "href=\""]
        .iter()
        .flat_map(|attribute| html.split(attribute).skip(1))
        .filter_map(|rest| rest.split_once('"').map(|(url, _)| url.to_owned()))
        .filter(|url| !url.starts_with('#'))
        .collect();
    assert!(!pending.is_empty());
    let mut served = Vec::new();
    while let Some(url) = pending.pop() {
        assert!(url.starts_with("/portal/"), "the page loads {url}");
        if served.contains(&url) {
            continue;
        }
        let file = app.client.get(app.url(&url)).send().await.expect("request");
        assert_eq!(file.status(), 200, "{url}");
        let kind = file.headers()["content-type"]
            .to_str()
            .expect("type")
            .to_owned();
        let text = file.text().await.expect("a file");
        if url.ends_with(".js") {
            assert!(kind.starts_with("text/javascript"), "{url}: {kind}");
            pending.extend(
                text.split("from \"./")
                    .skip(1)
                    .filter_map(|rest| rest.split_once('"'))
                    .map(|(name, _)| format!("/portal/{name}")),
            );
        } else {
            assert!(kind.starts_with("text/css"), "{url}: {kind}");
        }
        served.push(url);
    }
    for module in [
        "app.js",
        "api.js",
        "public.js",
        "work.js",
        "charts.js",
        "live.js",
    ] {
        assert!(
            served.contains(&format!("/portal/{module}")),
            "{module} is not loaded"
        );
    }
    let missing = app
        .client
        .get(app.url("/portal/missing.js"))
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), 404);
}

/// The portal names enum values in Chinese without asking the schema (the
/// public may not introspect it): its names are those of the schema's
/// descriptions, for every value of every enum it names.
#[test]
fn the_portal_names_enum_values_as_the_schema_does() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let labels =
        std::fs::read_to_string(format!("{root}/api/assets/portal/labels.js")).expect("labels.js");
    let schema = std::fs::read_to_string(format!("{root}/schema.graphql")).expect("the schema");
    let body = labels
        .split_once("export const LABELS = {")
        .and_then(|(_, rest)| rest.split_once("\n};"))
        .expect("the LABELS object")
        .0;
    let mut enums = 0;
    for block in body.split("\n  },").filter(|b| b.contains(": {")) {
        let (name, values) = block.split_once(": {").expect("an enum");
        let portal: Vec<(String, String)> = values
            .lines()
            .filter_map(|line| line.trim().trim_end_matches(',').split_once(": "))
            .map(|(value, label)| (value.to_owned(), label.trim_matches('"').to_owned()))
            .collect();
        assert_eq!(portal, chinese_names(&schema, name.trim()), "enum {name}");
        enums += 1;
    }
    assert!(enums > 20, "{enums} enums");
}

/// Each value of the schema's enum `name` with the Chinese its description
/// ends with, in order.
fn chinese_names(schema: &str, name: &str) -> Vec<(String, String)> {
    let block = schema
        .split(&format!("\nenum {name} {{\n"))
        .nth(1)
        .and_then(|rest| rest.split_once("\n}"))
        .unwrap_or_else(|| panic!("no enum {name} in the schema"))
        .0;
    let mut names = Vec::new();
    let mut description = String::new();
    let mut inside = false;
    for line in block.lines().map(str::trim) {
        if line == "\"\"\"" {
            if !inside {
                description.clear();
            }
            inside = !inside;
        } else if inside {
            description.push_str(line);
        } else if !line.is_empty() {
            let chinese = description
                .split('(')
                .filter_map(|part| part.split_once(')').map(|(inner, _)| inner))
                .rfind(|inner| {
                    inner
                        .chars()
                        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
                })
                .unwrap_or(line);
            names.push((line.to_owned(), chinese.to_owned()));
        }
    }
    names
}

fn shoots(backend: &Backend) -> bool {
    matches!(backend, Backend::Sqlite)
}

async fn the_public_pages_show_what_the_api_tells_the_public(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, HOUSEHOLDS).await;
    let year = api::domain::calendar::today().year();
    let policy_title = publish_a_policy(&app).await;
    let head = propose_in_the_first_village(&app).await;
    let browser = Browser::start().await;

    // Statistics: the county's figures and each township's, as the public
    // reads them, with the withheld cells said to be withheld.
    let county = app
        .query_as(None, "{ county { id name } }", json!({}))
        .await["county"]
        .clone();
    let stats = app
        .query_as(
            None,
            "query($r: ID!, $y: Int!) { statistics(regionId: $r, year: $y) {
                suppressedSmallCells poorHouseholds
                children { region { ... on Township { name } } poorHouseholds poorPeople
                  povertyIncidence meetsExitThreshold exits returns } } }",
            json!({ "r": county["id"], "y": year }),
        )
        .await["statistics"]
        .clone();
    assert_eq!(stats["suppressedSmallCells"], true);
    browser.open(&app.url("/#/statistics")).await;
    let text = browser.view_text().await;
    assert!(
        text.contains(county["name"].as_str().expect("name")),
        "{text}"
    );
    browser.element("#suppression-note").await;
    let cards = browser.texts(".card-value").await;
    assert_eq!(cards[0], cell(&stats["poorHouseholds"]));
    let expected: Vec<Vec<String>> = stats["children"]
        .as_array()
        .expect("townships")
        .iter()
        .map(|t| {
            vec![
                t["region"]["name"].as_str().expect("name").to_owned(),
                cell(&t["poorHouseholds"]),
                cell(&t["poorPeople"]),
                t["povertyIncidence"]
                    .as_f64()
                    .map_or_else(|| "不公开".to_owned(), |v| format!("{:.2}%", v * 100.0)),
                t["meetsExitThreshold"].as_bool().map_or_else(
                    || "不公开".to_owned(),
                    |m| if m { "是" } else { "否" }.to_owned(),
                ),
                cell(&t["exits"]),
                cell(&t["returns"]),
            ]
        })
        .collect();
    assert!(expected.len() > 1, "a county of townships");
    assert_eq!(
        rows(&browser, "table:has(caption) tbody tr").await,
        expected
    );
    assert_eq!(
        browser.texts("figure.chart figcaption").await.len(),
        4,
        "incidence, exits by year, causes, income against the line"
    );
    if shoots(&backend) {
        browser.screenshot("statistics", 2400).await;
    }

    // Projects, and one project's ledger to the last yuan.
    let listed = app
        .query_as(
            None,
            "{ projects(first: 30) { totalCount nodes { name } } }",
            json!({}),
        )
        .await["projects"]
        .clone();
    browser.open(&app.url("/#/projects")).await;
    let text = browser.view_text().await;
    assert!(
        text.contains(&format!(
            "共 {} 个项目",
            grouped(listed["totalCount"].as_i64().expect("count"))
        )),
        "{text}"
    );
    let names: Vec<String> = rows(&browser, "main table tbody tr")
        .await
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    let expected: Vec<String> = listed["nodes"]
        .as_array()
        .expect("projects")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect();
    assert_eq!(names, expected);

    let first_entry = app
        .query_as(
            None,
            "{ fundLedger(first: 1) { nodes { project { id name } } } }",
            json!({}),
        )
        .await["fundLedger"]["nodes"][0]["project"]
        .clone();
    let project = first_entry["id"].as_str().expect("a project with a ledger");
    let ledger = whole_ledger(&app, project).await;
    let sum = |kind: &str| {
        ledger
            .iter()
            .filter(|e| e["kind"] == kind)
            .map(|e| fen(&e["amount"]))
            .sum::<i64>()
    };
    browser
        .open(&app.url(&format!("/#/projects/{project}")))
        .await;
    let text = browser.view_text().await;
    assert!(text.contains(first_entry["name"].as_str().expect("name")));
    let sums = format!(
        "共 {} 笔：安排合计 {}，拨付合计 {}。",
        ledger.len(),
        yuan(sum("ALLOCATION")),
        yuan(sum("DISBURSEMENT"))
    );
    assert!(text.contains(&sums), "`{sums}` in {text}");
    let amounts: Vec<String> = rows(&browser, "table:has(caption) tbody tr")
        .await
        .into_iter()
        .map(|row| row[3].clone())
        .collect();
    let expected: Vec<String> = ledger.iter().map(|e| yuan(fen(&e["amount"]))).collect();
    assert_eq!(amounts, expected, "every entry of the ledger, in order");
    if shoots(&backend) {
        browser.screenshot("project", 1800).await;
    }

    // Policies: the one published, and its text.
    browser.open(&app.url("/#/policies")).await;
    assert!(browser.view_text().await.contains(&policy_title));
    browser.follow(&policy_title).await;
    browser.element("div.policy-body").await;
    assert!(
        browser
            .view_text()
            .await
            .contains("对建档立卡贫困户给予补助")
    );

    // Public notices: the proposal in notice, its head named, with the way
    // to object.
    browser.open(&app.url("/#/notices")).await;
    let text = browser.view_text().await;
    assert!(text.contains(&head), "{text}");
    assert!(text.contains("如何提出异议"));
    browser.click("p.object a").await;
    browser.element("#complaint-content").await;
    let prefilled = browser
        .element("#complaint-content")
        .await
        .prop("value")
        .await
        .expect("the content")
        .unwrap_or_default();
    assert!(prefilled.contains(&head), "{prefilled}");

    browser.close().await;
}

async fn a_complaint_is_filed_and_followed_by_its_tracking_number(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, HOUSEHOLDS).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let township = village.parent_id.expect("a township");
    let browser = Browser::start().await;

    browser.open(&app.url("/#/complaint")).await;
    browser.choose("#complaint-kind", "CADRE_CONDUCT").await;
    browser
        .choose("#complaint-township", &global_id("Township", township))
        .await;
    // The township's villages come in once it is chosen.
    browser
        .element(&format!(
            "#complaint-village option[value=\"{}\"]",
            global_id("Village", village.id)
        ))
        .await;
    browser
        .choose("#complaint-village", &global_id("Village", village.id))
        .await;
    browser
        .fill("#complaint-content", "村干部在危房改造补助发放中优亲厚友。")
        .await;
    browser.click("form.complaint button[type=submit]").await;
    let number = browser
        .element("#tracking-number")
        .await
        .text()
        .await
        .expect("the tracking number");
    assert!(number.starts_with("JB"), "{number}");
    assert_eq!(
        browser
            .element("#complaint-status")
            .await
            .text()
            .await
            .expect("status"),
        "已受理"
    );
    if shoots(&backend) {
        browser.screenshot("complaint", 1100).await;
    }

    // The county office assigns it; the complainant, following the number,
    // sees where it stands.
    let listed = app
        .query(
            "{ complaints(first: 10) { nodes { id version trackingNumber village { id } } } }",
            json!({}),
        )
        .await;
    let complaint = listed["complaints"]["nodes"]
        .as_array()
        .expect("complaints")
        .iter()
        .find(|c| c["trackingNumber"] == number.as_str())
        .expect("the complaint filed")
        .clone();
    assert_eq!(complaint["village"]["id"], global_id("Village", village.id));
    let deadline = api::domain::calendar::today() + Days::new(15);
    app.query(
        "mutation($input: AssignComplaintInput!) { assignComplaint(input: $input) { status } }",
        json!({ "input": { "id": complaint["id"], "version": complaint["version"],
                "unit": "县纪委监委第三监督检查室", "deadline": deadline } }),
    )
    .await;
    browser.click("div.submitted a").await;
    browser
        .shown(&format!("#/complaint/{}", form_encoded(&number)))
        .await;
    assert_eq!(
        browser
            .element("#complaint-status")
            .await
            .text()
            .await
            .expect("status"),
        "已交办"
    );
    let text = browser.view_text().await;
    assert!(text.contains("县纪委监委第三监督检查室"), "{text}");
    assert!(text.contains(&deadline.to_string()), "{text}");

    // A number that was never given finds nothing.
    browser.fill("#tracking-input", "JB20200101ZZZZZZ").await;
    browser.click("form.lookup button[type=submit]").await;
    browser.shown("#/complaint/JB20200101ZZZZZZ").await;
    browser.element("main .problem").await;

    browser.close().await;
}

async fn a_village_cadre_sees_its_village_and_no_other(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, HOUSEHOLDS).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let cadre = create_user(
        &app.db,
        "village",
        Role::VillageCadre,
        Some(village.code.clone()),
        None,
    )
    .await;
    let token = token_of(&cadre);
    let own = app
        .query_as(
            Some(&token),
            "{ households(first: 20) { totalCount nodes { id number head { name } village { name } } } }",
            json!({}),
        )
        .await["households"]
        .clone();
    let elsewhere = household::Entity::find()
        .filter(household::Column::VillageId.ne(village.id))
        .order_by_asc(household::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household of another village");
    let elsewhere_head = app
        .query(
            "query($id: ID!) { household(id: $id) { head { name } } }",
            json!({ "id": global_id("Household", elsewhere.id) }),
        )
        .await["household"]["head"]["name"]
        .as_str()
        .expect("a head")
        .to_owned();
    let browser = Browser::start().await;

    sign_in(&browser, &app, &cadre.username).await;
    let total = browser
        .element("#household-total")
        .await
        .text()
        .await
        .expect("total");
    assert_eq!(
        total,
        format!(
            "共 {} 户",
            grouped(own["totalCount"].as_i64().expect("count"))
        )
    );
    let listed = rows(&browser, "main table tbody tr").await;
    let expected: Vec<String> = own["nodes"]
        .as_array()
        .expect("households")
        .iter()
        .map(|h| h["number"].as_str().expect("number").to_owned())
        .collect();
    assert_eq!(
        listed.iter().map(|row| row[0].clone()).collect::<Vec<_>>(),
        expected
    );
    assert!(
        listed.iter().all(|row| row[2].ends_with(&village.name)),
        "{listed:?}"
    );
    assert!(!browser.view_text().await.contains(&elsewhere.number));
    if shoots(&backend) {
        browser.screenshot("households", 1300).await;
    }

    // Searching for the other village's household, by number or by its
    // head's name, never shows it.
    for search in [elsewhere.number.clone(), elsewhere_head] {
        browser.fill("#household-search", &search).await;
        browser.click("form.filters button[type=submit]").await;
        browser
            .shown(&format!("#/households?search={}", form_encoded(&search)))
            .await;
        let text = browser.view_text().await;
        assert!(!text.contains(&elsewhere.number), "{search}: {text}");
        for row in rows(&browser, "main table tbody tr").await {
            assert!(row[2].ends_with(&village.name), "{search}: {row:?}");
        }
    }
    // Nor does its card, asked for by address.
    browser
        .open(&app.url(&format!(
            "/#/households/{}",
            global_id("Household", elsewhere.id)
        )))
        .await;
    browser.element("main .problem").await;
    assert!(!browser.view_text().await.contains(&elsewhere.number));

    // The card of one of its own, with the booklet to print.
    let home = &own["nodes"][0];
    let id = home["id"].as_str().expect("id");
    browser.open(&app.url("/#/households")).await;
    browser.click("a.household-link").await;
    browser
        .shown(&format!("#/households/{}", form_encoded(id)))
        .await;
    let text = browser.view_text().await;
    assert!(
        text.contains(&format!(
            "贫困户档案 {}",
            home["number"].as_str().expect("number")
        )),
        "{text}"
    );
    assert!(
        text.contains(home["head"]["name"].as_str().expect("head")),
        "{text}"
    );
    assert!(text.contains("家庭成员"), "{text}");
    let booklet = browser
        .element("#booklet-link")
        .await
        .attr("href")
        .await
        .expect("href")
        .expect("a link");
    assert_eq!(booklet, format!("/booklet#household={}", form_encoded(id)));
    // Members as the cadre may read them: ID numbers masked, birth dates
    // refused by the API and shown as refused.
    let card = app
        .graphql_as(
            Some(&token),
            "query($id: ID!) { household(id: $id) { members { name idNumber birthDate } } }",
            json!({ "id": id }),
        )
        .await;
    assert!(
        TestApp::error_codes(&card).contains(&"FORBIDDEN".to_owned()),
        "{card}"
    );
    let members: Vec<Vec<String>> = card["data"]["household"]["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            let masked = m["idNumber"].as_str().expect("a masked ID number");
            assert!(masked.contains('*'), "{masked}");
            vec![
                m["name"].as_str().expect("name").to_owned(),
                masked.to_owned(),
                "无权查看".to_owned(),
            ]
        })
        .collect();
    let shown: Vec<Vec<String>> = rows(&browser, "main table tbody tr")
        .await
        .into_iter()
        .take(members.len())
        .map(|row| vec![row[0].clone(), row[3].clone(), row[4].clone()])
        .collect();
    assert_eq!(shown, members);
    if shoots(&backend) {
        browser.screenshot("household", 1800).await;
    }

    // The booklet opens in a tab of its own with the reader's token, which
    // it drops from its address at once.
    browser.click("#booklet-link").await;
    let card_window = browser.client.window().await.expect("this window");
    let booklet_window = browser
        .client
        .windows()
        .await
        .expect("the windows")
        .into_iter()
        .find(|w| *w != card_window)
        .expect("the booklet's window");
    browser
        .client
        .switch_to_window(booklet_window)
        .await
        .expect("switch to the booklet");
    browser.element("#booklet h1").await;
    let printed = browser
        .element("#booklet")
        .await
        .text()
        .await
        .expect("the booklet");
    assert!(
        printed.contains(home["number"].as_str().expect("number")),
        "{printed}"
    );
    let address = browser.client.current_url().await.expect("its address");
    assert_eq!(
        address.fragment(),
        Some(format!("household={}", form_encoded(id)).as_str())
    );

    browser.close().await;
}

async fn a_county_officer_sees_the_county(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, HOUSEHOLDS).await;
    let officer = create_user(&app.db, "county-officer", Role::CountyAdmin, None, None).await;
    let county = app
        .query("{ households(first: 1) { totalCount } county { id name } townships(first: 100) { nodes { name } } }", json!({}))
        .await;
    let browser = Browser::start().await;

    sign_in(&browser, &app, &officer.username).await;
    // The tab keeps the refresh token only: the access token stays in the
    // page's memory, nothing goes to localStorage or cookies.
    let stored = |script: &'static str| {
        let client = browser.client.clone();
        async move {
            client
                .execute(script, vec![])
                .await
                .expect("read the storage")
        }
    };
    let kept = "return [Object.keys(sessionStorage), Object.keys(localStorage), document.cookie, sessionStorage.getItem('fupin.refresh')]";
    let first = stored(kept).await;
    assert_eq!(first[0], json!(["fupin.refresh"]));
    assert_eq!(first[1], json!([]));
    assert_eq!(first[2], "");
    let refresh = first[3].as_str().expect("a refresh token").to_owned();
    assert!(!refresh.starts_with("eyJ"), "not a JWT: {refresh}");
    // A reload resumes the session with the refresh token, which is spent
    // and replaced.
    browser.client.refresh().await.expect("reload");
    browser.shown("#/households").await;
    let second = stored(kept).await;
    let renewed = second[3].as_str().expect("a new refresh token").to_owned();
    assert_ne!(renewed, refresh);
    let total = browser
        .element("#household-total")
        .await
        .text()
        .await
        .expect("total");
    assert_eq!(
        total,
        format!(
            "共 {} 户",
            grouped(county["households"]["totalCount"].as_i64().expect("count"))
        )
    );
    // Every township is there to filter by.
    let townships: Vec<String> = browser
        .texts("#household-region option")
        .await
        .into_iter()
        .skip(1)
        .collect();
    let expected: Vec<String> = county["townships"]["nodes"]
        .as_array()
        .expect("townships")
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_owned())
        .collect();
    assert_eq!(townships, expected);

    // Signed in, the statistics withhold nothing.
    browser.open(&app.url("/#/statistics")).await;
    assert!(
        browser
            .view_text()
            .await
            .contains(county["county"]["name"].as_str().expect("name"))
    );
    assert!(!browser.view_text().await.contains("不公开"));

    // The county's work: proposals in notice, overdue measures, monitoring.
    browser.open(&app.url("/#/work")).await;
    let text = browser.view_text().await;
    for heading in ["公示中的申请", "逾期的帮扶措施", "防返贫监测对象"] {
        assert!(text.contains(heading), "{text}");
    }
    assert!(!text.contains("部分内容无法读取"), "{text}");

    // Signing out ends the session on the server (its refresh token is
    // refused from then on) and in the tab: the households ask for a
    // sign-in again.
    browser.click("#nav button").await;
    browser.shown("#/statistics").await;
    assert_eq!(stored(kept).await[0], json!([]));
    let refused = app
        .graphql_as(
            None,
            "mutation($t: String!) { refresh(refreshToken: $t) { accessToken } }",
            json!({ "t": renewed }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&refused), ["UNAUTHENTICATED"]);
    browser
        .client
        .goto(&app.url("/#/households"))
        .await
        .expect("open the households");
    browser.shown("#/login?next=%23%2Fhouseholds").await;
    browser.close().await;
}

/// Signs in through the portal's form and waits for the households.
async fn sign_in(browser: &Browser, app: &TestApp, username: &str) {
    browser.open(&app.url("/#/login")).await;
    browser.fill("#username", username).await;
    browser.fill("#password", TEST_PASSWORD).await;
    browser.click("form.login button[type=submit]").await;
    browser.shown("#/households").await;
}

/// Every entry of a project's ledger, as the public reads it.
async fn whole_ledger(app: &TestApp, project: &str) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .query_as(
                None,
                "query($p: ID!, $after: String) { fundLedger(filter: { projectId: $p }, first: 100, after: $after) {
                    pageInfo { hasNextPage endCursor } nodes { kind amount } } }",
                json!({ "p": project, "after": after }),
            )
            .await["fundLedger"]
            .clone();
        entries.extend(page["nodes"].as_array().expect("entries").iter().cloned());
        if page["pageInfo"]["hasNextPage"] != true {
            return entries;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// Publishes a county policy through the API; returns its title.
async fn publish_a_policy(app: &TestApp) -> String {
    let title = "县健康扶贫医疗救助实施办法";
    let created = app
        .query(
            "mutation($input: CreatePolicyInput!) { createPolicy(input: $input) { id } }",
            json!({ "input": {
                "title": title,
                "body": "对建档立卡贫困户给予补助。\n住院费用经基本医保、大病保险报销后，个人自付部分由医疗救助兜底。",
                "category": "HEALTH",
                "issuingBody": "县扶贫开发领导小组",
                "effectiveOn": api::domain::calendar::today() - Days::new(10),
                "audienceRoles": ["VILLAGE_CADRE"],
                "audienceRegionIds": [],
            } }),
        )
        .await;
    app.query(
        "mutation($id: ID!) { publishPolicy(id: $id, version: 1) { id } }",
        json!({ "id": created["createPolicy"]["id"] }),
    )
    .await;
    title.to_owned()
}

/// Puts a household of the first village under an identification proposal in
/// its village's notice, as its cadre does; returns its head's name.
async fn propose_in_the_first_village(app: &TestApp) -> String {
    let village = first_region(&app.db, RegionLevel::Village).await;
    let home = household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .order_by_desc(household::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household");
    let mut applicant = home.into_active_model();
    applicant.status = Set(HouseholdStatus::NotPoor);
    applicant.enrolled_year = Set(None);
    applicant.lifted_out_year = Set(None);
    applicant.monitoring = Set(None);
    let home = applicant.update(&app.db).await.expect("an applicant");
    let (_, cadre) = app.user_for(Role::VillageCadre).await;
    let today = api::domain::calendar::today();
    app.query_as(
        Some(&cadre),
        "mutation($i: ProposeInput!) { propose(input: $i) { id } }",
        json!({ "i": {
            "householdId": global_id("Household", home.id),
            "kind": "IDENTIFICATION",
            "reason": "家庭人均纯收入低于当年贫困标准",
            "evidence": ["收入核查表.pdf"],
            "origin": "APPLICATION",
            "appraisal": { "heldOn": today - Days::new(1), "attendance": 31, "votesFor": 27,
                           "votesAgainst": 2, "minutesReference": "村民代表会议记录第3号" },
            "noticeStartsOn": today,
            "noticeEndsOn": today + Days::new(7),
        } }),
    )
    .await;
    app.query(
        "query($id: ID!) { household(id: $id) { head { name } } }",
        json!({ "id": global_id("Household", home.id) }),
    )
    .await["household"]["head"]["name"]
        .as_str()
        .expect("a head")
        .to_owned()
}

/// Signed in, a village cadre's page holds a live connection: a household of
/// its village taken into monitoring shows at the top, as it happens.
async fn a_village_cadre_hears_of_its_village_live(backend: Backend) {
    let background = api::config::Background {
        webhook_poll_ms: 3_600_000,
        tally_compact_ms: 3_600_000,
        audit_head_log_ms: 3_600_000,
        alert_poll_ms: 100,
        ..api::config::Background::default()
    };
    let app = TestApp::spawn_with_background(&backend, background).await;
    app.seed(HOUSEHOLDS, 7).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let cadre = create_user(
        &app.db,
        "live-cadre",
        Role::VillageCadre,
        Some(village.code),
        None,
    )
    .await;
    let home = household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .order_by_asc(household::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household");
    let mut row = home.into_active_model();
    row.status = Set(HouseholdStatus::NotPoor);
    row.enrolled_year = Set(None);
    row.lifted_out_year = Set(None);
    row.monitoring = Set(None);
    let home = row
        .update(&app.db)
        .await
        .expect("make the household not poor");

    let browser = Browser::start().await;
    sign_in(&browser, &app, &cadre.username).await;
    let mut waited = 0;
    while !browser
        .texts("#live .live-state")
        .await
        .concat()
        .contains("实时提醒已连接")
    {
        assert!(
            waited < 100,
            "the live panel never connected: {:?}",
            browser.texts("#live").await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    // Let the subscription settle behind the connection's ack.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let started = app
        .query(
            "mutation($i: StartMonitoringInput!) { startMonitoring(input: $i) { id } }",
            json!({ "i": {
                "householdId": global_id("Household", home.id), "version": home.version,
                "category": "MARGINAL", "risks": ["ILLNESS"], "foundBy": "CADRE_VISIT",
                "startedOn": api::domain::calendar::today(), "reason": "户主患病，收入骤减",
            }}),
        )
        .await;
    assert!(started["startMonitoring"]["id"].is_string());
    let mut heard = Vec::new();
    for _ in 0..100 {
        heard = browser.texts("#live .alerts li").await;
        if !heard.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert!(heard[0].contains("新纳入防返贫监测"), "{heard:?}");
    let link = browser
        .element("#live .alerts li a")
        .await
        .attr("href")
        .await
        .expect("the link")
        .expect("an address");
    assert!(
        link.ends_with(&format!("#/households/{}", global_id("Household", home.id))),
        "{link}"
    );
    browser.close().await;
}
