//! The read API over a generated county: every answer is checked against the
//! database the server reads.

use entity::enums::{HouseholdStatus, PovertyCause, RegionLevel};
use entity::{
    enterprise, household, household_cause, household_income, member, project, project_village,
    region,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tests::{Backend, TestApp, first_region, global_id, on_both_backends, regions};

on_both_backends!(
    paging_forward_and_backward_visits_every_household_once,
    households_are_ordered_by_number_in_either_direction,
    filters_agree_with_the_database,
    a_household_shows_its_whole_filing_card,
    node_fetches_every_kind_by_global_id,
    unknown_and_malformed_ids_are_clear_errors,
    relations_run_in_both_directions,
    villages_can_be_filtered_by_region_and_designation,
);

const PAGE: &str = r#"
query($first: Int, $after: String, $last: Int, $before: String, $order: HouseholdOrder) {
  households(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id number } }
  }
}"#;

fn numbers(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["number"].as_str().expect("number").to_owned())
        .collect()
}

async fn paging_forward_and_backward_visits_every_household_once(backend: Backend) {
    let (app, report) = TestApp::seeded(&backend, 120).await;
    let expected: Vec<String> = household::Entity::find()
        .order_by_asc(household::Column::Id)
        .all(&app.db)
        .await
        .expect("households")
        .into_iter()
        .map(|h| h.number)
        .collect();
    assert_eq!(expected.len(), report.households);

    let mut forward = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .query(PAGE, json!({ "first": 50, "after": after }))
            .await;
        let page = &data["households"];
        assert_eq!(page["totalCount"], 120);
        forward.extend(numbers(page));
        if !page["pageInfo"]["hasNextPage"]
            .as_bool()
            .expect("hasNextPage")
        {
            break;
        }
        assert_eq!(page["pageInfo"]["endCursor"], page["edges"][49]["cursor"]);
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(forward, expected);

    let mut backward = Vec::new();
    let mut before = Value::Null;
    loop {
        let data = app
            .query(PAGE, json!({ "last": 50, "before": before }))
            .await;
        let page = &data["households"];
        let mut chunk = numbers(page);
        chunk.extend(backward);
        backward = chunk;
        if !page["pageInfo"]["hasPreviousPage"]
            .as_bool()
            .expect("hasPreviousPage")
        {
            break;
        }
        before = page["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(backward, expected);

    let first = app.query(PAGE, json!({ "first": 10 })).await;
    assert_eq!(first["households"]["pageInfo"]["hasPreviousPage"], false);
}

async fn households_are_ordered_by_number_in_either_direction(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let mut expected: Vec<String> = household::Entity::find()
        .all(&app.db)
        .await
        .expect("households")
        .into_iter()
        .map(|h| h.number)
        .collect();
    expected.sort();
    let asc = app
        .query(PAGE, json!({ "first": 30, "order": { "field": "NUMBER" } }))
        .await;
    assert_eq!(numbers(&asc["households"]), expected[..30]);
    let cursor = asc["households"]["pageInfo"]["endCursor"].clone();
    let next = app
        .query(
            PAGE,
            json!({ "first": 30, "after": cursor, "order": { "field": "NUMBER" } }),
        )
        .await;
    assert_eq!(numbers(&next["households"]), expected[30..]);

    let desc = app
        .query(
            PAGE,
            json!({ "first": 25, "order": { "field": "NUMBER", "direction": "DESC" } }),
        )
        .await;
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(numbers(&desc["households"]), reversed[..25]);

    // A cursor of one ordering means nothing in another.
    let wrong = app
        .graphql(PAGE, json!({ "first": 5, "after": cursor }))
        .await;
    assert_eq!(TestApp::error_codes(&wrong), ["BAD_USER_INPUT"]);
    let garbage = app
        .graphql(PAGE, json!({ "first": 5, "after": "!!!" }))
        .await;
    assert_eq!(TestApp::error_codes(&garbage), ["BAD_USER_INPUT"]);
}

async fn total(app: &TestApp, filter: Value) -> u64 {
    let data = app
        .query(
            "query($f: HouseholdFilter) { households(filter: $f) { totalCount } }",
            json!({ "f": filter }),
        )
        .await;
    data["households"]["totalCount"]
        .as_u64()
        .expect("totalCount")
}

async fn filters_agree_with_the_database(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 300).await;
    let db = &app.db;
    let count = |select: sea_orm::Select<household::Entity>| async move {
        select.count(db).await.expect("count")
    };

    let lifted = count(
        household::Entity::find().filter(household::Column::Status.eq(HouseholdStatus::LiftedOut)),
    )
    .await;
    assert!(lifted > 0);
    assert_eq!(
        total(&app, json!({ "status": ["LIFTED_OUT"] })).await,
        lifted
    );
    let poor = count(household::Entity::find().filter(
        household::Column::Status.is_in([HouseholdStatus::Enrolled, HouseholdStatus::Returned]),
    ))
    .await;
    assert_eq!(
        total(&app, json!({ "status": ["ENROLLED", "RETURNED"] })).await,
        poor
    );

    let illness_main = count(
        household::Entity::find().filter(household::Column::MainCause.eq(PovertyCause::Illness)),
    )
    .await;
    assert_eq!(
        total(&app, json!({ "mainCause": "ILLNESS" })).await,
        illness_main
    );
    let illness_other: Vec<i64> = household_cause::Entity::find()
        .filter(household_cause::Column::Cause.eq(PovertyCause::Illness))
        .all(db)
        .await
        .expect("causes")
        .into_iter()
        .map(|c| c.household_id)
        .collect();
    let illness_any = count(
        household::Entity::find().filter(
            sea_orm::Condition::any()
                .add(household::Column::MainCause.eq(PovertyCause::Illness))
                .add(household::Column::Id.is_in(illness_other)),
        ),
    )
    .await;
    assert!(
        illness_any > illness_main,
        "some households have illness as another cause"
    );
    assert_eq!(
        total(&app, json!({ "cause": "ILLNESS" })).await,
        illness_any
    );

    // Region: a township's households are those of its villages.
    let township = first_region(db, RegionLevel::Township).await;
    let villages: Vec<i64> = region::Entity::find()
        .filter(region::Column::ParentId.eq(township.id))
        .all(db)
        .await
        .expect("villages")
        .into_iter()
        .map(|v| v.id)
        .collect();
    let in_township = count(
        household::Entity::find().filter(household::Column::VillageId.is_in(villages.clone())),
    )
    .await;
    assert!(in_township > 0 && in_township < 300);
    assert_eq!(
        total(
            &app,
            json!({ "regionId": global_id("Township", township.id) })
        )
        .await,
        in_township
    );
    assert_eq!(
        total(&app, json!({ "regionId": global_id("County", 1) })).await,
        300
    );
    let village_only =
        count(household::Entity::find().filter(household::Column::VillageId.eq(villages[0]))).await;
    assert_eq!(
        total(
            &app,
            json!({ "regionId": global_id("Village", villages[0]) })
        )
        .await,
        village_only
    );

    // Income: per-capita net income in 2020 within [3000, 4000] yuan, inclusive.
    let in_range = household_income::Entity::find()
        .filter(household_income::Column::Year.eq(2020))
        .filter(household_income::Column::PerCapitaNetFen.between(300_000, 400_000))
        .count(db)
        .await
        .expect("count");
    assert!(in_range > 0);
    let filter =
        json!({ "income": { "year": 2020, "minPerCapita": "3000", "maxPerCapita": "4000.00" } });
    assert_eq!(total(&app, filter).await, in_range);
    let inverted = app
        .graphql(
            "{ households(filter: { income: { year: 2020, minPerCapita: \"5\", maxPerCapita: \"1\" } }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(TestApp::error_codes(&inverted), ["BAD_USER_INPUT"]);
    let not_money = app
        .graphql("{ households(filter: { income: { year: 2020, minPerCapita: \"1.234\" } }) { totalCount } }", json!({}))
        .await;
    assert_eq!(
        TestApp::error_codes(&not_money),
        ["BAD_USER_INPUT"],
        "{not_money}"
    );

    // Search: a household-number prefix, or the prefix of a member's name.
    let some = household::Entity::find()
        .order_by_asc(household::Column::Id)
        .one(db)
        .await
        .expect("query")
        .expect("one");
    let prefix = &some.number[..12];
    let by_number =
        count(household::Entity::find().filter(household::Column::Number.starts_with(prefix)))
            .await;
    assert_eq!(total(&app, json!({ "search": prefix })).await, by_number);
    let person = member::Entity::find()
        .order_by_asc(member::Column::Id)
        .one(db)
        .await
        .expect("query")
        .expect("one");
    let surname: String = person.name.chars().take(1).collect();
    let named: Vec<i64> = member::Entity::find()
        .filter(member::Column::Name.starts_with(&surname))
        .all(db)
        .await
        .expect("members")
        .into_iter()
        .map(|m| m.household_id)
        .collect();
    let by_name = count(household::Entity::find().filter(household::Column::Id.is_in(named))).await;
    assert_eq!(total(&app, json!({ "search": surname })).await, by_name);
    let whole = app
        .query("query($s: String) { households(filter: { search: $s }) { nodes { members { name } } } }", json!({ "s": person.name }))
        .await;
    assert!(
        whole["households"]["nodes"][0]["members"]
            .as_array()
            .expect("members")
            .iter()
            .any(|m| m["name"] == person.name.as_str())
    );
    let empty = app
        .graphql(
            "{ households(filter: { search: \"  \" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(TestApp::error_codes(&empty), ["BAD_USER_INPUT"]);

    // Criteria combine with AND.
    let both = count(
        household::Entity::find()
            .filter(household::Column::Status.eq(HouseholdStatus::LiftedOut))
            .filter(household::Column::VillageId.is_in(villages)),
    )
    .await;
    let filter =
        json!({ "status": ["LIFTED_OUT"], "regionId": global_id("Township", township.id) });
    assert_eq!(total(&app, filter).await, both);
}

const CARD: &str = r#"
query($id: ID!) {
  household(id: $id) {
    id number address phone attribute identificationStandard status enrolledYear liftedOutYear
    monitoring mainCause otherCauses version size
    village { id code name township { name county { name } } }
    conditions { cultivatedLandMu housingAreaM2 isDilapidated dilapidatedGrade safeDrinkingWater
                 productionElectricity householdElectricity roadDistanceKm joinedCooperative }
    guarantees { food clothing compulsoryEducation basicMedical safeHousing safeDrinkingWater allMet }
    head { name relation }
    members { id name gender idNumber birthDate relation ethnicity { code name } education studentStatus
              health disabilityGrade labourAbility migrantWork migrantMonths
              basicMedicalInsurance seriousIllnessInsurance basicPension household { number } }
    incomes { year wage production property transfer productionCost net householdSize perCapitaNet
              povertyLine abovePovertyLine }
    income(year: 2020) { year }
  }
}"#;

async fn a_household_shows_its_whole_filing_card(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 80).await;
    // The household with the most members, to see them all.
    let mut sizes = std::collections::HashMap::<i64, usize>::new();
    for m in member::Entity::find().all(&app.db).await.expect("members") {
        *sizes.entry(m.household_id).or_default() += 1;
    }
    let (&id, &size) = sizes
        .iter()
        .max_by_key(|(id, size)| (**size, -**id))
        .expect("households");
    let card = household::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("household");
    let data = app
        .query(CARD, json!({ "id": global_id("Household", id) }))
        .await;
    let h = &data["household"];
    assert_eq!(h["number"], card.number.as_str());
    assert_eq!(h["address"], card.address.as_str());
    assert_eq!(h["size"], size);
    assert_eq!(h["version"], 1);
    assert_eq!(h["enrolledYear"], json!(card.enrolled_year));
    assert_eq!(
        h["conditions"]["isDilapidated"],
        card.dilapidated_grade.is_some()
    );
    assert_eq!(h["conditions"]["cultivatedLandMu"], card.cultivated_land_mu);
    assert_eq!(h["guarantees"]["food"], card.food_secure);
    assert_eq!(
        h["village"]["code"].as_str().expect("code")[..12],
        card.number[..12]
    );
    assert_eq!(h["village"]["township"]["county"]["name"], "清水江县");

    let members = h["members"].as_array().expect("members");
    assert_eq!(members.len(), size);
    assert_eq!(members[0]["relation"], "HEAD", "the head comes first");
    assert_eq!(h["head"]["name"], members[0]["name"]);
    let stored = member::Entity::find()
        .filter(member::Column::HouseholdId.eq(id))
        .all(&app.db)
        .await
        .expect("members");
    for m in members {
        let row = stored
            .iter()
            .find(|s| global_id("Member", s.id) == m["id"].as_str().expect("id"))
            .expect("a stored member");
        assert_eq!(m["idNumber"], row.id_number.as_str());
        assert_eq!(m["name"], row.name.as_str());
        assert_eq!(
            m["birthDate"]
                .as_str()
                .expect("birth date")
                .replace('-', ""),
            row.id_number[6..14]
        );
        assert_eq!(m["ethnicity"]["code"], row.ethnicity.as_str());
        assert!(!m["ethnicity"]["name"].as_str().expect("name").is_empty());
        assert_eq!(m["household"]["number"], card.number.as_str());
        assert_eq!(
            m["disabilityGrade"].is_null(),
            row.disability_grade.is_none()
        );
    }

    let incomes = h["incomes"].as_array().expect("incomes");
    let stored = household_income::Entity::find()
        .filter(household_income::Column::HouseholdId.eq(id))
        .order_by_asc(household_income::Column::Year)
        .all(&app.db)
        .await
        .expect("incomes");
    assert_eq!(incomes.len(), stored.len());
    for (shown, row) in incomes.iter().zip(&stored) {
        assert_eq!(shown["year"], row.year);
        assert_eq!(
            shown["perCapitaNet"],
            format!(
                "{}.{:02}",
                row.per_capita_net_fen / 100,
                row.per_capita_net_fen % 100
            )
        );
        let yuan = |v: &Value| v.as_str().expect("money").parse::<f64>().expect("decimal");
        let sum = yuan(&shown["wage"])
            + yuan(&shown["production"])
            + yuan(&shown["property"])
            + yuan(&shown["transfer"])
            - yuan(&shown["productionCost"]);
        assert!(
            (sum - yuan(&shown["net"])).abs() < 0.001,
            "components add up to net income"
        );
        assert_eq!(
            shown["abovePovertyLine"],
            yuan(&shown["perCapitaNet"]) > yuan(&shown["povertyLine"])
        );
    }
    assert_eq!(h["income"]["year"], 2020);
}

async fn node_fetches_every_kind_by_global_id(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let db = &app.db;
    let township = first_region(db, RegionLevel::Township).await;
    let village = first_region(db, RegionLevel::Village).await;
    let household = household::Entity::find()
        .one(db)
        .await
        .expect("q")
        .expect("household");
    let member = member::Entity::find()
        .one(db)
        .await
        .expect("q")
        .expect("member");
    let enterprise = enterprise::Entity::find()
        .one(db)
        .await
        .expect("q")
        .expect("enterprise");
    let project = project::Entity::find()
        .one(db)
        .await
        .expect("q")
        .expect("project");
    let cases = [
        (global_id("County", 1), "County", "清水江县".to_owned()),
        (
            global_id("Township", township.id),
            "Township",
            township.name,
        ),
        (global_id("Village", village.id), "Village", village.name),
        (
            global_id("Household", household.id),
            "Household",
            household.number,
        ),
        (global_id("Member", member.id), "Member", member.name),
        (
            global_id("Enterprise", enterprise.id),
            "Enterprise",
            enterprise.name,
        ),
        (global_id("Project", project.id), "Project", project.name),
    ];
    let query = r#"query($id: ID!) { node(id: $id) { __typename id
        ... on County { name } ... on Township { name } ... on Village { name } ... on Household { name: number }
        ... on Member { name } ... on Enterprise { name } ... on Project { name } } }"#;
    for (id, type_name, name) in cases {
        let data = app.query(query, json!({ "id": id })).await;
        assert_eq!(data["node"]["__typename"], type_name);
        assert_eq!(data["node"]["id"], id.as_str());
        assert_eq!(data["node"]["name"], name.as_str());
    }
}

async fn unknown_and_malformed_ids_are_clear_errors(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 20).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let cases = [
        (
            "query($id: ID!) { node(id: $id) { id } }",
            global_id("Household", 999_999),
            "NOT_FOUND",
        ),
        (
            "query($id: ID!) { household(id: $id) { id } }",
            global_id("Household", 999_999),
            "NOT_FOUND",
        ),
        (
            "query($id: ID!) { village(id: $id) { id } }",
            global_id("Village", 999_999),
            "NOT_FOUND",
        ),
        // A village's row named as a township does not exist as a township.
        (
            "query($id: ID!) { node(id: $id) { id } }",
            global_id("Township", village.id),
            "NOT_FOUND",
        ),
        (
            "query($id: ID!) { node(id: $id) { id } }",
            "not-an-id".to_owned(),
            "BAD_USER_INPUT",
        ),
        (
            "query($id: ID!) { node(id: $id) { id } }",
            global_id("Spaceship", 1),
            "BAD_USER_INPUT",
        ),
        (
            "query($id: ID!) { household(id: $id) { id } }",
            global_id("Village", village.id),
            "BAD_USER_INPUT",
        ),
        (
            "query($id: ID!) { village(id: $id) { id } }",
            "VmlsbGFnZTp4".to_owned(),
            "BAD_USER_INPUT",
        ),
    ];
    for (query, id, code) in cases {
        let body = app.graphql(query, json!({ "id": id })).await;
        assert_eq!(TestApp::error_codes(&body), [code], "{query} {id}: {body}");
        assert_eq!(body["data"], Value::Null);
    }
    let body = app
        .graphql(
            "{ households(filter: { regionId: \"bm9wZQ\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(TestApp::error_codes(&body), ["BAD_USER_INPUT"]);
    assert_eq!(body["errors"][0]["extensions"]["field"], "filter.regionId");
}

async fn relations_run_in_both_directions(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 200).await;
    let db = &app.db;
    // Village -> households, and each household -> its village.
    let village = first_region(db, RegionLevel::Village).await;
    let count = household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .count(db)
        .await
        .expect("count");
    let data = app
        .query(
            "query($id: ID!) { village(id: $id) { id households(first: 100) { totalCount nodes { village { id } } } } }",
            json!({ "id": global_id("Village", village.id) }),
        )
        .await;
    assert_eq!(data["village"]["households"]["totalCount"], count);
    for h in data["village"]["households"]["nodes"]
        .as_array()
        .expect("nodes")
    {
        assert_eq!(h["village"]["id"], data["village"]["id"]);
    }

    // Project -> villages, and village -> projects.
    let link = project_village::Entity::find()
        .one(db)
        .await
        .expect("q")
        .expect("a link");
    let covered: Vec<String> = project_village::Entity::find()
        .filter(project_village::Column::ProjectId.eq(link.project_id))
        .all(db)
        .await
        .expect("links")
        .into_iter()
        .map(|l| global_id("Village", l.village_id))
        .collect();
    let data = app
        .query(
            "query($id: ID!) { project(id: $id) { villages { id } budget } }",
            json!({ "id": global_id("Project", link.project_id) }),
        )
        .await;
    let mut shown: Vec<String> = data["project"]["villages"]
        .as_array()
        .expect("villages")
        .iter()
        .map(|v| v["id"].as_str().expect("id").to_owned())
        .collect();
    shown.sort();
    let mut covered_sorted = covered.clone();
    covered_sorted.sort();
    assert_eq!(shown, covered_sorted);
    let projects_of_village = project_village::Entity::find()
        .filter(project_village::Column::VillageId.eq(link.village_id))
        .count(db)
        .await
        .expect("count");
    let data = app
        .query(
            "query($id: ID!) { village(id: $id) { projects(first: 100) { totalCount nodes { id } } } }",
            json!({ "id": global_id("Village", link.village_id) }),
        )
        .await;
    assert_eq!(
        data["village"]["projects"]["totalCount"],
        projects_of_village
    );
    assert!(
        data["village"]["projects"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .any(|p| p["id"] == global_id("Project", link.project_id).as_str())
    );

    // Enterprise -> village, village -> enterprises, enterprise -> projects it implements.
    let firm = enterprise::Entity::find()
        .one(db)
        .await
        .expect("q")
        .expect("enterprise");
    let village_id = firm.village_id.expect("in a village");
    let data = app
        .query(
            "query($id: ID!) { enterprise(id: $id) { creditCode village { id enterprises(first: 100) { nodes { id } } } projects { totalCount } } }",
            json!({ "id": global_id("Enterprise", firm.id) }),
        )
        .await;
    assert_eq!(data["enterprise"]["creditCode"], firm.credit_code.as_str());
    assert_eq!(
        data["enterprise"]["village"]["id"],
        global_id("Village", village_id).as_str()
    );
    assert!(
        data["enterprise"]["village"]["enterprises"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .any(|e| e["id"] == global_id("Enterprise", firm.id).as_str())
    );
    let implemented = project::Entity::find()
        .filter(project::Column::ImplementerEnterpriseId.eq(firm.id))
        .count(db)
        .await
        .expect("count");
    assert_eq!(data["enterprise"]["projects"]["totalCount"], implemented);

    // County -> townships -> villages, and back up.
    let townships = regions(db, RegionLevel::Township).await.len() as u64;
    let data = app.query("{ county { townships(first: 100) { totalCount nodes { county { code } villages { totalCount } } } } }", json!({})).await;
    assert_eq!(data["county"]["townships"]["totalCount"], townships);
    let villages: u64 = data["county"]["townships"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|t| t["villages"]["totalCount"].as_u64().expect("count"))
        .sum();
    let all_villages = regions(db, RegionLevel::Village).await.len() as u64;
    assert_eq!(villages, all_villages);

    // Enterprises and projects at the top level, with filters.
    let cooperatives = enterprise::Entity::find()
        .filter(enterprise::Column::Kind.eq(entity::enums::EnterpriseKind::Cooperative))
        .count(db)
        .await
        .expect("count");
    let data = app.query("{ enterprises(filter: { kind: [COOPERATIVE] }) { totalCount } projects(filter: { year: 2018 }) { totalCount } }", json!({})).await;
    assert_eq!(data["enterprises"]["totalCount"], cooperatives);
    let of_2018 = project::Entity::find()
        .filter(project::Column::Year.eq(2018))
        .count(db)
        .await
        .expect("count");
    assert_eq!(data["projects"]["totalCount"], of_2018);
}

async fn villages_can_be_filtered_by_region_and_designation(backend: Backend) {
    let (app, report) = TestApp::seeded(&backend, 2_000).await;
    let db = &app.db;
    let all = app
        .query("{ villages(first: 100) { totalCount } }", json!({}))
        .await;
    assert_eq!(all["villages"]["totalCount"], report.villages);
    let poor = region::Entity::find()
        .filter(region::Column::IsPovertyVillage.eq(true))
        .count(db)
        .await
        .expect("count");
    let exited = region::Entity::find()
        .filter(region::Column::ExitYear.is_not_null())
        .count(db)
        .await
        .expect("count");
    let data = app
        .query("{ poor: villages(filter: { isPovertyVillage: true }) { totalCount } exited: villages(filter: { exited: true }) { totalCount nodes { exitYear isPovertyVillage } } }", json!({}))
        .await;
    assert_eq!(data["poor"]["totalCount"], poor);
    assert_eq!(data["exited"]["totalCount"], exited);
    for v in data["exited"]["nodes"].as_array().expect("nodes") {
        assert!(v["exitYear"].is_i64());
        assert_eq!(v["isPovertyVillage"], true);
    }
    let township = first_region(db, RegionLevel::Township).await;
    let under = region::Entity::find()
        .filter(region::Column::ParentId.eq(township.id))
        .count(db)
        .await
        .expect("count");
    let data = app
        .query("query($id: ID) { villages(filter: { regionId: $id }) { totalCount nodes { township { id } } } }", json!({ "id": global_id("Township", township.id) }))
        .await;
    assert_eq!(data["villages"]["totalCount"], under);
    for v in data["villages"]["nodes"].as_array().expect("nodes") {
        assert_eq!(
            v["township"]["id"],
            global_id("Township", township.id).as_str()
        );
    }
    let one = first_region(db, RegionLevel::Village).await;
    let data = app
        .query(
            "query($n: String) { villages(filter: { name: $n }) { nodes { name } } }",
            json!({ "n": one.name }),
        )
        .await;
    assert!(
        data["villages"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .all(|v| v["name"].as_str().expect("name").starts_with(&one.name))
    );
    assert!(
        !data["villages"]["nodes"]
            .as_array()
            .expect("nodes")
            .is_empty()
    );
}
