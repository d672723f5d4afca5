//! Project assets (扶贫项目资产) over HTTP: the assets an accepted project
//! leaves are registered with their owner within its budget, even two at
//! once; those of village collectives are public, a household's only for
//! those who reach the household; incomes are appended and never edited; a
//! disposed asset changes no more; a region's figures add them up.

use chrono::{Datelike, Days};
use entity::enums::{ProjectStatus, RegionLevel, Role};
use entity::{household, project, project_village, region};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use serde_json::{Value, json};
use tests::{
    Backend, TestApp, create_user, days_ago, error_field, error_message, first_region, global_id,
    on_both_backends, raw_id, regions, token_of,
};

on_both_backends!(
    an_accepted_project_s_assets_are_registered_within_its_budget_and_shown_as_owners_allow,
    incomes_are_appended_and_a_disposed_asset_changes_no_more,
    two_registrations_at_once_never_pass_the_budget,
);

const REGISTER: &str = "mutation($i: RegisterAssetInput!) { registerAsset(input: $i) { id kind value status version handedOverOn project { id } ownerVillage { id } } }";
const UPDATE: &str = "mutation($a: ID!, $v: Int!, $o: String, $s: AssetStatus, $r: String) { updateAsset(assetId: $a, version: $v, operator: $o, status: $s, reason: $r) { status operator version } }";
const INCOME: &str = "mutation($a: ID!, $y: Int!, $m: Money!, $d: Money!, $h: Int!) { recordAssetIncome(assetId: $a, year: $y, amount: $m, distributed: $d, householdsBenefited: $h) { version incomes { year amount distributed householdsBenefited } } }";
const FIGURES: &str = "query($r: ID!, $y: Int) { projectAssets(regionId: $r, year: $y) { year assets value idle disposed income distributed householdsBenefited byKind { kind assets value } } }";
const ASSETS: &str = "query($p: ID!) { project(id: $p) { assets { id kind value } } }";
const NODE: &str = "query($a: ID!) { node(id: $a) { id } }";

/// The budget the tests give their project: 100,000 yuan.
const BUDGET_FEN: i64 = 10_000_000;

fn today() -> chrono::NaiveDate {
    api::domain::calendar::today()
}

/// What a test works with: an accepted project; one of its villages, with a
/// registered household there that the enterprise user does not reach; a
/// village it does not cover; and that enterprise user's token.
struct Setup {
    project: project::Model,
    village: region::Model,
    household: household::Model,
    outside: region::Model,
    enterprise: String,
}

/// The villages a project covers, in code order.
async fn villages_of(app: &TestApp, project_id: i64) -> Vec<region::Model> {
    let covered: Vec<i64> = project_village::Entity::find()
        .filter(project_village::Column::ProjectId.eq(project_id))
        .all(&app.db)
        .await
        .expect("project villages")
        .into_iter()
        .map(|link| link.village_id)
        .collect();
    region::Entity::find()
        .filter(region::Column::Id.is_in(covered))
        .order_by_asc(region::Column::Code)
        .all(&app.db)
        .await
        .expect("villages")
}

/// Whether the user of `token` finds a household by its ID.
async fn reaches(app: &TestApp, token: &str, household: i64) -> bool {
    let body = app
        .graphql_as(
            Some(token),
            "query($h: ID!) { household(id: $h) { id } }",
            json!({ "h": global_id("Household", household) }),
        )
        .await;
    body["data"]["household"]["id"].is_string()
}

async fn setup(app: &TestApp) -> Setup {
    let enterprise = app.token_for(Role::Enterprise).await;
    let mut projects = project::Entity::find()
        .all(&app.db)
        .await
        .expect("projects");
    // Accepted projects first: the seed accepts most projects of earlier years.
    projects.sort_by_key(|p| (p.status != ProjectStatus::Accepted, p.id));
    for candidate in projects {
        let villages = villages_of(app, candidate.id).await;
        for village in &villages {
            let homes = household::Entity::find()
                .filter(household::Column::VillageId.eq(village.id))
                .filter(household::Column::Status.is_in(api::domain::tally::REGISTERED))
                .order_by_asc(household::Column::Id)
                .all(&app.db)
                .await
                .expect("households");
            for home in homes {
                if reaches(app, &enterprise, home.id).await {
                    continue;
                }
                // The seed draws budgets and acceptance days at random: the
                // project is given a budget of 100,000 yuan and an acceptance
                // 200 days ago in the database, so that the sums below are
                // exact. A project the seed left short of acceptance (should
                // no accepted one have a household to own an asset) is moved
                // to accepted the same way, as its lifecycle would have.
                let mut accepted = candidate.clone().into_active_model();
                accepted.status = Set(ProjectStatus::Accepted);
                accepted.accepted_on = Set(Some(days_ago(200)));
                accepted.budget_fen = Set(BUDGET_FEN);
                let project = accepted.update(&app.db).await.expect("accept the project");
                let outside = regions(&app.db, RegionLevel::Village)
                    .await
                    .into_iter()
                    .find(|v| villages.iter().all(|covered| covered.id != v.id))
                    .expect("a village the project does not cover");
                return Setup {
                    project,
                    village: village.clone(),
                    household: home,
                    outside,
                    enterprise,
                };
            }
        }
    }
    panic!("no project of the seed covers a registered household");
}

/// A `RegisterAssetInput` of `project`, owned by `owner` (the input field and
/// a global ID), handed over 100 days ago.
fn asset(project: i64, kind: &str, value: &str, owner: (&str, String)) -> Value {
    let mut input = json!({
        "projectId": global_id("Project", project),
        "name": "扶贫车间", "kind": kind, "value": value,
        "operator": "县扶贫产业合作社", "handedOverOn": days_ago(100),
    });
    input[owner.0] = json!(owner.1);
    json!({ "i": input })
}

fn village_owner(s: &Setup) -> (&'static str, String) {
    ("ownerVillageId", global_id("Village", s.village.id))
}

fn household_owner(s: &Setup) -> (&'static str, String) {
    ("ownerHouseholdId", global_id("Household", s.household.id))
}

/// An asset of the project owned by the collective of its village.
fn village_owned(s: &Setup, kind: &str, value: &str) -> Value {
    asset(s.project.id, kind, value, village_owner(s))
}

/// A household asset of the project, owned by the household.
fn household_owned(s: &Setup, value: &str) -> Value {
    asset(s.project.id, "HOUSEHOLD", value, household_owner(s))
}

fn ids(assets: &Value) -> Vec<Value> {
    assets
        .as_array()
        .expect("assets")
        .iter()
        .map(|a| a["id"].clone())
        .collect()
}

async fn an_accepted_project_s_assets_are_registered_within_its_budget_and_shown_as_owners_allow(
    backend: Backend,
) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let s = setup(&app).await;
    let project = json!({ "p": global_id("Project", s.project.id) });
    let workshop = village_owned(&s, "PRODUCTIVE", "60000");

    // Who may not register assets: village and helper cadres, enterprises;
    // nor a township officer for a village outside its township.
    for role in [Role::VillageCadre, Role::HelperCadre, Role::Enterprise] {
        let token = app.token_for(role).await;
        let refused = app
            .graphql_as(Some(&token), REGISTER, workshop.clone())
            .await;
        assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"], "{role:?}");
    }
    let other = regions(&app.db, RegionLevel::Township)
        .await
        .into_iter()
        .find(|t| !s.village.code.starts_with(&t.code[..9]))
        .expect("another township");
    let stranger = create_user(
        &app.db,
        "asset-other-township",
        Role::TownshipOfficer,
        Some(other.code),
        None,
    )
    .await;
    let refused = app
        .graphql_as(Some(&token_of(&stranger)), REGISTER, workshop.clone())
        .await;
    assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"], "{refused}");
    assert!(error_message(&refused).contains("township"), "{refused}");

    // What is refused, by field: another project, completed but not accepted
    // (set so in the database, whatever the seed drew), takes no asset.
    let other_project = project::Entity::find()
        .filter(project::Column::Id.ne(s.project.id))
        .order_by_asc(project::Column::Id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("another project");
    let mut completed = other_project.into_active_model();
    completed.status = Set(ProjectStatus::Completed);
    completed.accepted_on = Set(None);
    completed.announced_on = Set(None);
    let unaccepted = completed
        .update(&app.db)
        .await
        .expect("a completed project");
    let mut tomorrow = village_owned(&s, "PRODUCTIVE", "1000");
    tomorrow["i"]["handedOverOn"] = json!(today() + Days::new(1));
    let mut before_acceptance = village_owned(&s, "PRODUCTIVE", "1000");
    before_acceptance["i"]["handedOverOn"] = json!(days_ago(201));
    let outside = ("ownerVillageId", global_id("Village", s.outside.id));
    for (input, field) in [
        (
            asset(s.project.id, "PRODUCTIVE", "1000", household_owner(&s)),
            "ownerHouseholdId",
        ),
        (
            asset(s.project.id, "HOUSEHOLD", "1000", village_owner(&s)),
            "ownerVillageId",
        ),
        (village_owned(&s, "PUBLIC", "100000.01"), "value"),
        (village_owned(&s, "PUBLIC", "0"), "value"),
        (
            asset(unaccepted.id, "PUBLIC", "1000", village_owner(&s)),
            "projectId",
        ),
        (
            asset(s.project.id, "PUBLIC", "1000", outside),
            "ownerVillageId",
        ),
        (tomorrow, "handedOverOn"),
        (before_acceptance, "handedOverOn"),
    ] {
        let refused = app.graphql(REGISTER, input).await;
        assert_eq!(
            TestApp::error_codes(&refused),
            ["BAD_USER_INPUT"],
            "{refused}"
        );
        assert_eq!(error_field(&refused), field, "{refused}");
    }

    // Within the budget of 100,000 yuan: a workshop of 60,000 for the
    // village, a herd of 30,000 for the household, then 10,000 more at most.
    let made = app.query(REGISTER, workshop).await["registerAsset"].clone();
    assert_eq!(
        (&made["status"], &made["value"], &made["version"]),
        (&json!("IN_USE"), &json!("60000.00"), &json!(1))
    );
    assert_eq!(
        made["ownerVillage"]["id"],
        global_id("Village", s.village.id)
    );
    let herd = app.query(REGISTER, household_owned(&s, "30000")).await["registerAsset"].clone();
    let over = app
        .graphql(REGISTER, village_owned(&s, "PUBLIC", "10000.01"))
        .await;
    assert_eq!(error_field(&over), "value", "{over}");
    assert!(error_message(&over).contains("at most 10000.00"), "{over}");
    let road = app
        .query(REGISTER, village_owned(&s, "PUBLIC", "10000"))
        .await["registerAsset"]
        .clone();

    // The public reads the village's assets, by ID and under the project;
    // the household's is not there for it, nor for an enterprise that does
    // not reach the household.
    let public = app
        .query_as(
            None,
            "query($a: ID!) { node(id: $a) { ... on ProjectAsset { name kind value status operator ownerVillage { name } project { id } } } }",
            json!({ "a": made["id"] }),
        )
        .await;
    assert_eq!(public["node"]["kind"], "PRODUCTIVE", "{public}");
    assert_eq!(public["node"]["value"], "60000.00");
    assert_eq!(
        public["node"]["ownerVillage"]["name"],
        s.village.name.as_str()
    );
    assert_eq!(
        public["node"]["project"]["id"],
        global_id("Project", s.project.id)
    );
    let listed = app.query_as(None, ASSETS, project.clone()).await;
    assert_eq!(
        ids(&listed["project"]["assets"]),
        [made["id"].clone(), road["id"].clone()]
    );
    for token in [None, Some(s.enterprise.as_str())] {
        let hidden = app
            .graphql_as(token, NODE, json!({ "a": herd["id"] }))
            .await;
        assert_eq!(TestApp::error_codes(&hidden), ["NOT_FOUND"], "{hidden}");
    }
    let listed = app
        .query_as(Some(&s.enterprise), ASSETS, project.clone())
        .await;
    assert_eq!(
        ids(&listed["project"]["assets"]),
        [made["id"].clone(), road["id"].clone()]
    );
    // The county office reads all three, and whose the herd is.
    let all = app
        .query(
            "query($p: ID!) { project(id: $p) { assets { id kind ownerHousehold { id } } } }",
            project.clone(),
        )
        .await;
    let assets = &all["project"]["assets"];
    assert_eq!(
        ids(assets),
        [made["id"].clone(), herd["id"].clone(), road["id"].clone()]
    );
    assert_eq!(
        assets[1]["ownerHousehold"]["id"],
        global_id("Household", s.household.id)
    );

    // Incomes of this year, and the road standing idle: the figures add up.
    let year = today().year();
    app.query(
        INCOME,
        json!({ "a": made["id"], "y": year, "m": "8000", "d": "5000", "h": 12 }),
    )
    .await;
    app.query(
        INCOME,
        json!({ "a": herd["id"], "y": year, "m": "2000", "d": "2000", "h": 1 }),
    )
    .await;
    let idle = app
        .query(UPDATE, json!({ "a": road["id"], "v": 1, "s": "IDLE" }))
        .await["updateAsset"]
        .clone();
    assert_eq!(
        (&idle["status"], &idle["version"]),
        (&json!("IDLE"), &json!(2))
    );
    let expected = json!({
        "year": year, "assets": 3, "value": "100000.00", "idle": 1, "disposed": 0,
        "income": "10000.00", "distributed": "7000.00", "householdsBenefited": 13,
        "byKind": [
            { "kind": "PRODUCTIVE", "assets": 1, "value": "60000.00" },
            { "kind": "PUBLIC", "assets": 1, "value": "10000.00" },
            { "kind": "HOUSEHOLD", "assets": 1, "value": "30000.00" },
        ],
    });
    let village = json!({ "r": global_id("Village", s.village.id) });
    let figures = app.query_as(None, FIGURES, village.clone()).await;
    assert_eq!(figures["projectAssets"], expected);
    let county = first_region(&app.db, RegionLevel::County).await;
    let whole = app
        .query(FIGURES, json!({ "r": global_id("County", county.id) }))
        .await;
    assert_eq!(whole["projectAssets"], expected);
    let last_year = app
        .query(
            FIGURES,
            json!({ "r": global_id("Village", s.village.id), "y": year - 1 }),
        )
        .await["projectAssets"]
        .clone();
    assert_eq!(
        (&last_year["assets"], &last_year["income"]),
        (&json!(3), &json!("0.00"))
    );
    let elsewhere = app
        .query(FIGURES, json!({ "r": global_id("Village", s.outside.id) }))
        .await;
    assert_eq!(elsewhere["projectAssets"]["assets"], 0);
    let future = app
        .graphql(
            FIGURES,
            json!({ "r": global_id("Village", s.village.id), "y": year + 1 }),
        )
        .await;
    assert_eq!(error_field(&future), "year", "{future}");
    assert_eq!(
        app.audit_actions("ProjectAsset", raw_id(&made["id"])).await,
        ["project_asset.income", "project_asset.create"]
    );
}

async fn incomes_are_appended_and_a_disposed_asset_changes_no_more(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let s = setup(&app).await;
    let made = app
        .query(REGISTER, village_owned(&s, "PRODUCTIVE", "50000"))
        .await["registerAsset"]
        .clone();
    let a = made["id"].clone();
    let year = today().year();

    // What an income may not be, by field.
    for (income, field) in [
        (
            json!({ "a": a, "y": year, "m": "1000", "d": "1000.01", "h": 3 }),
            "distributed",
        ),
        (
            json!({ "a": a, "y": year, "m": "0", "d": "0", "h": 3 }),
            "amount",
        ),
        (
            json!({ "a": a, "y": 2013, "m": "1000", "d": "0", "h": 3 }),
            "year",
        ),
        (
            json!({ "a": a, "y": year + 1, "m": "1000", "d": "0", "h": 3 }),
            "year",
        ),
        (
            json!({ "a": a, "y": year, "m": "1000", "d": "0", "h": -1 }),
            "householdsBenefited",
        ),
    ] {
        let refused = app.graphql(INCOME, income).await;
        assert_eq!(error_field(&refused), field, "{refused}");
    }
    let earned = app
        .query(
            INCOME,
            json!({ "a": a, "y": year, "m": "1200.50", "d": "800", "h": 4 }),
        )
        .await["recordAssetIncome"]
        .clone();
    assert_eq!(earned["version"], 2);
    assert_eq!(
        earned["incomes"],
        json!([{ "year": year, "amount": "1200.50", "distributed": "800.00", "householdsBenefited": 4 }])
    );

    // From a stale version: refused. A disposal gives its reason.
    let stale = app
        .graphql(UPDATE, json!({ "a": a, "v": 1, "o": "村股份经济合作社" }))
        .await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"], "{stale}");
    let unexplained = app
        .graphql(UPDATE, json!({ "a": a, "v": 2, "s": "DISPOSED" }))
        .await;
    assert_eq!(error_field(&unexplained), "reason", "{unexplained}");
    let disposed = app
        .query(
            UPDATE,
            json!({ "a": a, "v": 2, "o": "村股份经济合作社", "s": "DISPOSED",
                    "r": "大棚损毁，经村民代表大会同意报废" }),
        )
        .await["updateAsset"]
        .clone();
    assert_eq!(
        (
            &disposed["status"],
            &disposed["operator"],
            &disposed["version"]
        ),
        (&json!("DISPOSED"), &json!("村股份经济合作社"), &json!(3))
    );

    // A disposed asset brings no income and changes no more.
    let refused = app
        .graphql(
            INCOME,
            json!({ "a": a, "y": year, "m": "100", "d": "0", "h": 0 }),
        )
        .await;
    assert_eq!(error_field(&refused), "assetId", "{refused}");
    assert!(error_message(&refused).contains("disposed"), "{refused}");
    let again = app
        .graphql(UPDATE, json!({ "a": a, "v": 3, "s": "IN_USE" }))
        .await;
    assert_eq!(error_field(&again), "assetId", "{again}");

    // Its income of the year still counts; the asset is no longer held.
    let figures = app
        .query(FIGURES, json!({ "r": global_id("Village", s.village.id) }))
        .await["projectAssets"]
        .clone();
    assert_eq!(
        (&figures["assets"], &figures["disposed"], &figures["income"]),
        (&json!(0), &json!(1), &json!("1200.50"))
    );

    // The ledger of incomes cannot be changed behind the service.
    for sql in [
        "UPDATE asset_income SET amount_fen = 1",
        "DELETE FROM asset_income",
    ] {
        let refused = app.db.execute_unprepared(sql).await;
        assert!(
            refused.is_err_and(|e| e.to_string().contains("append-only")),
            "{sql}"
        );
    }
    assert_eq!(
        app.audit_actions("ProjectAsset", raw_id(&a)).await,
        [
            "project_asset.dispose",
            "project_asset.income",
            "project_asset.create"
        ]
    );
}

async fn two_registrations_at_once_never_pass_the_budget(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let s = setup(&app).await;
    // Each fits the budget of 100,000 yuan alone; together they would pass it.
    let workshop = village_owned(&s, "PRODUCTIVE", "60000");
    let (one, two) = tokio::join!(
        app.graphql(REGISTER, workshop.clone()),
        app.graphql(REGISTER, workshop)
    );
    let taken = [&one, &two]
        .iter()
        .filter(|b| b.get("errors").is_none())
        .count();
    assert_eq!(taken, 1, "{one} {two}");
    let refused = if one.get("errors").is_some() {
        &one
    } else {
        &two
    };
    assert_eq!(error_field(refused), "value", "{refused}");
    let listed = app
        .query(ASSETS, json!({ "p": global_id("Project", s.project.id) }))
        .await;
    assert_eq!(
        listed["project"]["assets"].as_array().map(Vec::len),
        Some(1)
    );
}
