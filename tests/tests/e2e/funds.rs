//! Funds in the sun: sources, allocations and disbursements over HTTP; the
//! ledger's invariants hold under concurrent requests, corrections are
//! reversing entries, utilisation adds up by project, region and source, and
//! the database itself refuses to edit the ledger.

use chrono::{Days, Utc};
use entity::enums::{FundEntryKind, ProjectKind, ProjectStatus, RegionLevel, Role};
use entity::{fund_entry, project, project_stage_change, project_village, region};
use futures::future::join_all;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, Statement,
};
use serde_json::{Value, json};
use tests::{
    Backend, TestApp, days_ago, error_field, global_id, on_both_backends, raw_id, regions,
};

on_both_backends!(
    sources_allocations_and_disbursements_trace_every_yuan,
    reversals_correct_the_ledger_without_editing_it,
    concurrent_entries_never_overspend,
    utilisation_adds_up_by_project_region_and_source,
    only_the_county_moves_money,
    a_project_goes_from_the_library_to_acceptance_with_every_yuan_traced,
);

const CREATE_SOURCE: &str = "mutation($input: CreateFundSourceInput!) { createFundSource(input: $input) {
    id year kind name documentNumber amount allocated disbursed unallocated utilisation version } }";
const UPDATE_SOURCE: &str =
    "mutation($input: UpdateFundSourceInput!) { updateFundSource(input: $input) {
    id amount version } }";
const ALLOCATE: &str = "mutation($input: AllocateFundsInput!) { allocateFunds(input: $input) {
    id kind amount entryDate note source { id } project { id } } }";
const DISBURSE: &str = "mutation($input: DisburseFundsInput!) { disburseFunds(input: $input) {
    id kind amount entryDate voucherNumber payeeKind payeeOrganisation payeePerson note } }";
const REVERSE: &str = "mutation($input: ReverseFundEntryInput!) { reverseFundEntry(input: $input) {
    id kind amount entryDate voucherNumber note reverses { id amount reversedBy { id } } } }";
const PROJECT_FUNDS: &str = "query($id: ID!) { project(id: $id) { funds {
    allocated disbursed undisbursed utilisation bySource { source { id } allocated disbursed } } } }";
const SOURCE: &str = "query($id: ID!) { fundSource(id: $id) {
    amount allocated disbursed unallocated utilisation version } }";

/// A project straight in the database, covering `villages`.
async fn project_in(
    app: &TestApp,
    villages: &[i64],
    status: ProjectStatus,
    year: i32,
) -> project::Model {
    let now = Utc::now();
    let project = project::ActiveModel {
        name: Set(format!("{year}年测试项目")),
        kind: Set(ProjectKind::Road),
        status: Set(status),
        year: Set(year),
        implementer: Set("县交通运输局".into()),
        budget_fen: Set(500_000_000),
        performance_targets: Set(Some("硬化通组路5公里".into())),
        benefit_mechanism: Set(Some("贫困户优先务工".into())),
        progress_percent: Set(0),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("project");
    for village in villages {
        project_village::ActiveModel {
            project_id: Set(project.id),
            village_id: Set(*village),
        }
        .insert(&app.db)
        .await
        .expect("coverage");
    }
    project
}

async fn village_ids(app: &TestApp) -> Vec<region::Model> {
    regions(&app.db, RegionLevel::Village).await
}

async fn source(app: &TestApp, amount: &str, key: Option<&str>) -> Value {
    app.query(
        CREATE_SOURCE,
        json!({ "input": {
            "year": 2020, "kind": "CENTRAL", "name": "2020年中央财政专项扶贫资金",
            "documentNumber": "黔财农〔2020〕1号", "amount": amount, "idempotencyKey": key,
        } }),
    )
    .await["createFundSource"]
        .clone()
}

fn allocation(source: &Value, project: i64, amount: &str) -> Value {
    json!({ "input": {
        "sourceId": source["id"], "projectId": global_id("Project", project),
        "amount": amount, "entryDate": days_ago(10), "note": "项目资金安排",
    } })
}

fn disbursement(source: &Value, project: i64, amount: &str, key: Option<&str>) -> Value {
    json!({ "input": {
        "projectId": global_id("Project", project), "sourceId": source["id"],
        "amount": amount, "entryDate": days_ago(5), "voucherNumber": "记-2020-001",
        "payee": "县路桥建设有限公司", "payeeKind": "ORGANISATION", "idempotencyKey": key,
    } })
}

async fn sources_allocations_and_disbursements_trace_every_yuan(backend: Backend) {
    let app = TestApp::seeded(&backend, 20).await.0;
    let villages = village_ids(&app).await;
    let road = project_in(&app, &[villages[0].id], ProjectStatus::InProgress, 2020).await;
    let water = project_in(&app, &[villages[1].id], ProjectStatus::Approved, 2020).await;
    let planned = project_in(&app, &[villages[1].id], ProjectStatus::Library, 2020).await;

    // A source, created once however often the request is retried.
    let central = source(&app, "100000", Some("src-1")).await;
    assert_eq!(central["amount"], "100000.00");
    assert_eq!(central["allocated"], "0.00");
    assert!(central["utilisation"].is_null());
    assert_eq!(
        source(&app, "100000", Some("src-1")).await["id"],
        central["id"]
    );
    let reused = app
        .graphql(
            CREATE_SOURCE,
            json!({ "input": { "year": 2021, "kind": "CENTRAL", "name": "别的资金", "amount": "1", "idempotencyKey": "src-1" } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&reused), ["CONFLICT"]);
    let no_donor = app
        .graphql(
            CREATE_SOURCE,
            json!({ "input": { "year": 2020, "kind": "ENTERPRISE_DONATION", "name": "企业捐赠", "amount": "5000" } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&no_donor), ["BAD_USER_INPUT"]);
    assert_eq!(error_field(&no_donor), "donorEnterpriseId");
    let zero = app
        .graphql(
            CREATE_SOURCE,
            json!({ "input": { "year": 2020, "kind": "COUNTY", "name": "县级资金", "amount": "0" } }),
        )
        .await;
    assert_eq!(error_field(&zero), "amount");
    let inexact = app
        .graphql(
            CREATE_SOURCE,
            json!({ "input": { "year": 2020, "kind": "COUNTY", "name": "县级资金", "amount": "1.005" } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&inexact), ["BAD_USER_INPUT"]);

    // Allocations: never beyond the source, never to a project still in the library.
    let allocated = app
        .query(ALLOCATE, allocation(&central, road.id, "60000"))
        .await["allocateFunds"]
        .clone();
    assert_eq!(allocated["kind"], "ALLOCATION");
    assert_eq!(allocated["amount"], "60000.00");
    let too_much = app
        .graphql(ALLOCATE, allocation(&central, water.id, "40000.01"))
        .await;
    assert_eq!(TestApp::error_codes(&too_much), ["BAD_USER_INPUT"]);
    assert_eq!(error_field(&too_much), "amount");
    assert!(
        too_much["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("40000.00"),
        "the refusal says what is left: {too_much}"
    );
    app.query(ALLOCATE, allocation(&central, water.id, "40000"))
        .await;
    let library = app
        .graphql(ALLOCATE, allocation(&central, planned.id, "1"))
        .await;
    assert_eq!(error_field(&library), "projectId");
    let future = app
        .graphql(
            ALLOCATE,
            json!({ "input": { "sourceId": central["id"], "projectId": global_id("Project", road.id),
                "amount": "1", "entryDate": api::domain::calendar::today() + Days::new(2) } }),
        )
        .await;
    assert_eq!(error_field(&future), "entryDate");

    // Disbursements: never beyond what the source allocated to the project.
    let paid = app
        .query(DISBURSE, disbursement(&central, road.id, "20000.50", None))
        .await["disburseFunds"]
        .clone();
    assert_eq!(paid["payeeOrganisation"], "县路桥建设有限公司");
    assert!(paid["payeePerson"].is_null());
    let mut to_person = disbursement(&central, road.id, "1000", None);
    to_person["input"]["payee"] = json!("王小明");
    to_person["input"]["payeeKind"] = json!("PERSON");
    let person = app.query(DISBURSE, to_person).await["disburseFunds"].clone();
    assert_eq!(person["payeePerson"], "王小明", "the county sees the payee");
    let overdrawn = app
        .graphql(DISBURSE, disbursement(&central, road.id, "38999.51", None))
        .await;
    assert_eq!(TestApp::error_codes(&overdrawn), ["BAD_USER_INPUT"]);
    assert_eq!(error_field(&overdrawn), "amount");
    let other_source = source(&app, "500", None).await;
    let unallocated = app
        .graphql(DISBURSE, disbursement(&other_source, road.id, "1", None))
        .await;
    assert_eq!(
        error_field(&unallocated),
        "amount",
        "a source that allocated nothing to the project pays nothing"
    );
    let unknown = json!({ "id": global_id("FundSource", 999_999) });
    let missing = app
        .graphql(DISBURSE, disbursement(&unknown, road.id, "1", None))
        .await;
    assert_eq!(TestApp::error_codes(&missing), ["NOT_FOUND"]);

    let funds = app
        .query(
            PROJECT_FUNDS,
            json!({ "id": global_id("Project", road.id) }),
        )
        .await["project"]["funds"]
        .clone();
    assert_eq!(funds["allocated"], "60000.00");
    assert_eq!(funds["disbursed"], "21000.50");
    assert_eq!(funds["undisbursed"], "38999.50");
    assert_eq!(funds["utilisation"], 21000.5 / 60000.0);
    assert_eq!(
        funds["bySource"],
        json!([{ "source": { "id": central["id"] }, "allocated": "60000.00", "disbursed": "21000.50" }])
    );
    let totals = app.query(SOURCE, json!({ "id": central["id"] })).await["fundSource"].clone();
    assert_eq!(totals["allocated"], "100000.00");
    assert_eq!(totals["disbursed"], "21000.50");
    assert_eq!(totals["unallocated"], "0.00");

    // A source's amount never drops below what it allocated; edits go by version.
    let below = app
        .graphql(
            UPDATE_SOURCE,
            json!({ "input": { "id": central["id"], "version": 1, "amount": "99999.99" } }),
        )
        .await;
    assert_eq!(error_field(&below), "amount");
    let raised = app
        .query(
            UPDATE_SOURCE,
            json!({ "input": { "id": central["id"], "version": 1, "amount": "120000" } }),
        )
        .await["updateFundSource"]
        .clone();
    assert_eq!(raised["version"], 2);
    let stale = app
        .graphql(
            UPDATE_SOURCE,
            json!({ "input": { "id": central["id"], "version": 1, "amount": "130000" } }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"]);
    assert_eq!(
        stale["errors"][0]["extensions"]["current"]["amount"],
        "120000.00"
    );

    // Every entry is in the audit trail.
    assert_eq!(
        app.audit_actions("FundEntry", raw_id(&paid["id"])).await,
        ["fund.disburse"]
    );
    assert_eq!(
        app.audit_actions("FundEntry", raw_id(&allocated["id"]))
            .await,
        ["fund.allocate"]
    );
    assert_eq!(
        app.audit_actions("FundSource", raw_id(&central["id"]))
            .await,
        ["fund_source.update", "fund_source.create"]
    );

    // The database itself refuses to edit or delete an entry.
    let id = raw_id(&paid["id"]);
    for sql in [
        format!("UPDATE fund_entry SET amount_fen = 1 WHERE id = {id}"),
        format!("DELETE FROM fund_entry WHERE id = {id}"),
    ] {
        let refused = app
            .db
            .execute_raw(Statement::from_string(app.db.get_database_backend(), sql))
            .await;
        assert!(refused.is_err(), "the ledger is append-only");
    }

    // Days are `YYYY-MM-DD` and nothing else (docs/scalars.md): the ledger
    // filtered from today holds the day's entries, and a day in another form
    // is refused, not read as something else.
    let ledger_from = |day: &str| {
        app.graphql(
            "query($from: NaiveDate!) { fundLedger(first: 100, filter: { from: $from }) { totalCount } }",
            json!({ "from": day }),
        )
    };
    let count_from = |days: u64| {
        let day = days_ago(days).format("%Y-%m-%d").to_string();
        async move { ledger_from(&day).await["data"]["fundLedger"]["totalCount"].as_i64() }
    };
    let (payments, everything) = (count_from(7).await, count_from(11).await);
    assert!(
        Some(0) < payments && payments < everything,
        "{payments:?} {everything:?}"
    );
    for malformed in ["2026-3-1", "2026-02-30", "2026-03-01T00:00:00Z", "20260301"] {
        let refused = ledger_from(malformed).await;
        assert_eq!(
            TestApp::error_codes(&refused),
            ["BAD_USER_INPUT"],
            "{malformed}: {refused}"
        );
    }
}

async fn reversals_correct_the_ledger_without_editing_it(backend: Backend) {
    let app = TestApp::seeded(&backend, 20).await.0;
    let villages = village_ids(&app).await;
    let road = project_in(&app, &[villages[0].id], ProjectStatus::InProgress, 2020).await;
    let central = source(&app, "1000", None).await;
    let allocated = app
        .query(ALLOCATE, allocation(&central, road.id, "1000"))
        .await["allocateFunds"]
        .clone();
    let paid = app
        .query(DISBURSE, disbursement(&central, road.id, "300", None))
        .await["disburseFunds"]
        .clone();
    let reverse = |id: &Value, days: u64, key: Option<&str>| json!({ "input": { "id": id, "entryDate": days_ago(days), "reason": "收款单位账号错误，红字冲销", "idempotencyKey": key } });

    // An allocation is reversed only once nothing paid out of it remains.
    let covered = app
        .graphql(REVERSE, reverse(&allocated["id"], 1, None))
        .await;
    assert_eq!(TestApp::error_codes(&covered), ["BAD_USER_INPUT"]);
    let early = app.graphql(REVERSE, reverse(&paid["id"], 30, None)).await;
    assert_eq!(error_field(&early), "entryDate");

    let reversal = app
        .query(REVERSE, reverse(&paid["id"], 1, Some("rev-1")))
        .await["reverseFundEntry"]
        .clone();
    assert_eq!(reversal["kind"], "DISBURSEMENT");
    assert_eq!(reversal["amount"], "-300.00");
    assert_eq!(reversal["voucherNumber"], "记-2020-001");
    assert_eq!(reversal["reverses"]["id"], paid["id"]);
    assert_eq!(
        reversal["reverses"]["amount"], "300.00",
        "the entry is unchanged"
    );
    assert_eq!(reversal["reverses"]["reversedBy"]["id"], reversal["id"]);
    let retried = app
        .query(REVERSE, reverse(&paid["id"], 1, Some("rev-1")))
        .await["reverseFundEntry"]
        .clone();
    assert_eq!(
        retried["id"], reversal["id"],
        "a retry reverses nothing more"
    );
    let twice = app.graphql(REVERSE, reverse(&paid["id"], 1, None)).await;
    assert_eq!(TestApp::error_codes(&twice), ["CONFLICT"]);
    let of_reversal = app
        .graphql(REVERSE, reverse(&reversal["id"], 1, None))
        .await;
    assert_eq!(error_field(&of_reversal), "id");

    app.query(REVERSE, reverse(&allocated["id"], 1, None)).await;
    let funds = app
        .query(
            PROJECT_FUNDS,
            json!({ "id": global_id("Project", road.id) }),
        )
        .await["project"]["funds"]
        .clone();
    assert_eq!(funds["allocated"], "0.00");
    assert_eq!(funds["disbursed"], "0.00");
    assert!(funds["utilisation"].is_null());

    let ledger = app
        .query(
            "query($p: ID!) { fundLedger(filter: { projectId: $p }) { nodes { kind amount reverses { id } } } }",
            json!({ "p": global_id("Project", road.id) }),
        )
        .await["fundLedger"]["nodes"]
        .clone();
    let amounts: Vec<&Value> = ledger
        .as_array()
        .expect("nodes")
        .iter()
        .map(|e| &e["amount"])
        .collect();
    assert_eq!(amounts, ["1000.00", "300.00", "-300.00", "-1000.00"]);
    assert_eq!(
        app.audit_actions("FundEntry", raw_id(&reversal["id"]))
            .await,
        ["fund.reverse"]
    );
}

/// The net disbursed and the number of disbursement rows of a project, straight from the database.
async fn disbursed_in_db(app: &TestApp, project: i64) -> (i64, usize) {
    let rows = fund_entry::Entity::find()
        .filter(fund_entry::Column::ProjectId.eq(project))
        .filter(fund_entry::Column::Kind.eq(FundEntryKind::Disbursement))
        .all(&app.db)
        .await
        .expect("entries");
    (rows.iter().map(|e| e.amount_fen).sum(), rows.len())
}

/// 50 payments of 30.00 at once, each with its own idempotency key (`pay-0`..`pay-49`).
async fn pay_thirty_fifty_times(app: &TestApp, source: &Value, project: i64) -> Vec<Value> {
    let requests = (0..50).map(|i| {
        let key = format!("pay-{i}");
        async move {
            app.graphql(
                DISBURSE,
                disbursement(source, project, "30", Some(key.as_str())),
            )
            .await
        }
    });
    join_all(requests).await
}

async fn concurrent_entries_never_overspend(backend: Backend) {
    let app = TestApp::seeded(&backend, 20).await.0;
    let villages = village_ids(&app).await;
    let road = project_in(&app, &[villages[0].id], ProjectStatus::InProgress, 2020).await;
    let central = source(&app, "1000", None).await;
    app.query(ALLOCATE, allocation(&central, road.id, "100"))
        .await;

    // 50 payments of 30.00 at once against 100.00: 3 fit, and all 50 arrive
    // before the first is written, so a check outside the transaction would pass them all.
    let responses = pay_thirty_fifty_times(&app, &central, road.id).await;
    let (paid, refused): (Vec<&Value>, Vec<&Value>) = responses
        .iter()
        .partition(|r| r["data"]["disburseFunds"].is_object());
    assert_eq!(paid.len(), 3, "every payment that fits is made");
    assert_eq!(refused.len(), 47);
    for refusal in &refused {
        assert_eq!(TestApp::error_codes(refusal), ["BAD_USER_INPUT"]);
        assert_eq!(error_field(refusal), "amount");
    }
    assert_eq!(disbursed_in_db(&app, road.id).await, (9_000, 3));

    // Retrying all 50 pays nothing twice and nothing more.
    let retried = pay_thirty_fifty_times(&app, &central, road.id).await;
    let replayed = retried
        .iter()
        .filter(|r| r["data"]["disburseFunds"].is_object())
        .count();
    assert!(replayed >= 3, "the paid ones replay their entry");
    assert_eq!(disbursed_in_db(&app, road.id).await, (9_000, 3));

    // 20 allocations of 100.00 at once from a source of 1000.00: 10 fit.
    let small = source(&app, "1000", None).await;
    let requests = (0..20).map(|_| app.graphql(ALLOCATE, allocation(&small, road.id, "100")));
    let allocated = join_all(requests)
        .await
        .iter()
        .filter(|r| r["data"]["allocateFunds"].is_object())
        .count();
    assert_eq!(allocated, 10);
    let totals = app.query(SOURCE, json!({ "id": small["id"] })).await["fundSource"].clone();
    assert_eq!(totals["allocated"], "1000.00");
    assert_eq!(totals["unallocated"], "0.00");
}

async fn utilisation_adds_up_by_project_region_and_source(backend: Backend) {
    let app = TestApp::seeded(&backend, 40).await.0;
    let townships = regions(&app.db, RegionLevel::Township).await;
    let villages = village_ids(&app).await;
    let under = |township: &region::Model| -> Vec<i64> {
        villages
            .iter()
            .filter(|v| v.parent_id == Some(township.id))
            .map(|v| v.id)
            .collect()
    };
    let (first, second) = (under(&townships[0]), under(&townships[1]));
    assert!(first.len() >= 2 && !second.is_empty());
    // 2015: a year the seeder plans no projects in.
    let spanning = project_in(&app, &[first[0], first[1]], ProjectStatus::InProgress, 2015).await;
    let local = project_in(&app, &[first[1]], ProjectStatus::Completed, 2015).await;
    let remote = project_in(&app, &[second[0]], ProjectStatus::Approved, 2015).await;
    let central = source(&app, "5000", None).await;
    for (project, allocated, paid) in [
        (spanning.id, "1000", Some("400")),
        (local.id, "500", Some("500")),
        (remote.id, "200", None),
    ] {
        app.query(ALLOCATE, allocation(&central, project, allocated))
            .await;
        if let Some(paid) = paid {
            app.query(DISBURSE, disbursement(&central, project, paid, None))
                .await;
        }
    }

    let county = first_of(&app, RegionLevel::County).await;
    let figures = app
        .query(
            "query($r: ID!) { fundUtilisation(regionId: $r, year: 2015) {
                projectCount allocated disbursed utilisation
                children { region { id } projectCount allocated disbursed utilisation } } }",
            json!({ "r": global_id("County", county) }),
        )
        .await["fundUtilisation"]
        .clone();
    assert_eq!(figures["projectCount"], 3);
    assert_eq!(figures["allocated"], "1700.00");
    assert_eq!(figures["disbursed"], "900.00");
    assert_eq!(figures["utilisation"], 900.0 / 1700.0);
    let children = figures["children"].as_array().expect("children");
    assert_eq!(children.len(), townships.len(), "every township is listed");
    let of = |township: &region::Model| {
        children
            .iter()
            .find(|c| c["region"]["id"] == global_id("Township", township.id))
            .expect("township listed")
            .clone()
    };
    let first_figures = of(&townships[0]);
    assert_eq!(
        first_figures["projectCount"], 2,
        "a project spanning villages counts once"
    );
    assert_eq!(first_figures["allocated"], "1500.00");
    assert_eq!(first_figures["disbursed"], "900.00");
    assert_eq!(first_figures["utilisation"], 0.6);
    let second_figures = of(&townships[1]);
    assert_eq!(second_figures["allocated"], "200.00");
    assert_eq!(second_figures["utilisation"], 0.0);
    if let Some(idle) = townships.get(2) {
        assert!(of(idle)["utilisation"].is_null());
    }

    let township = app
        .query(
            "query($r: ID!) { fundUtilisation(regionId: $r, year: 2015) {
                allocated children { region { id } projectCount allocated disbursed } } }",
            json!({ "r": global_id("Township", townships[0].id) }),
        )
        .await["fundUtilisation"]
        .clone();
    assert_eq!(township["allocated"], "1500.00");
    let village = |id: i64| {
        township["children"]
            .as_array()
            .expect("villages")
            .iter()
            .find(|c| c["region"]["id"] == global_id("Village", id))
            .expect("village listed")
            .clone()
    };
    assert_eq!(
        village(first[0]),
        json!({ "region": { "id": global_id("Village", first[0]) }, "projectCount": 1, "allocated": "1000.00", "disbursed": "400.00" })
    );
    assert_eq!(
        village(first[1]),
        json!({ "region": { "id": global_id("Village", first[1]) }, "projectCount": 2, "allocated": "1500.00", "disbursed": "900.00" })
    );

    let by_source = app.query(SOURCE, json!({ "id": central["id"] })).await["fundSource"].clone();
    assert_eq!(by_source["allocated"], "1700.00");
    assert_eq!(by_source["disbursed"], "900.00");
    assert_eq!(by_source["unallocated"], "3300.00");
    assert_eq!(by_source["utilisation"], 900.0 / 1700.0);
}

async fn first_of(app: &TestApp, level: RegionLevel) -> i64 {
    regions(&app.db, level).await[0].id
}

async fn only_the_county_moves_money(backend: Backend) {
    let app = TestApp::seeded(&backend, 20).await.0;
    let villages = village_ids(&app).await;
    let road = project_in(&app, &[villages[0].id], ProjectStatus::InProgress, 2020).await;
    let central = source(&app, "1000", None).await;
    let allocated = app
        .query(ALLOCATE, allocation(&central, road.id, "500"))
        .await["allocateFunds"]
        .clone();
    for role in [
        Role::TownshipOfficer,
        Role::VillageCadre,
        Role::HelperCadre,
        Role::Enterprise,
        Role::Auditor,
        Role::ProvincialSystem,
    ] {
        let token = app.token_for(role).await;
        let token = Some(token.as_str());
        for (query, variables) in [
            (ALLOCATE, allocation(&central, road.id, "1")),
            (DISBURSE, disbursement(&central, road.id, "1", None)),
            (
                REVERSE,
                json!({ "input": { "id": allocated["id"], "entryDate": days_ago(1), "reason": "x" } }),
            ),
        ] {
            let refused = app.graphql_as(token, query, variables).await;
            assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"], "{role:?}");
        }
    }
    let anonymous = app
        .graphql_as(None, ALLOCATE, allocation(&central, road.id, "1"))
        .await;
    assert_eq!(TestApp::error_codes(&anonymous), ["UNAUTHENTICATED"]);

    // Auditors read the whole ledger, who recorded each entry included.
    let auditor = app.token_for(Role::Auditor).await;
    let ledger = app
        .query_as(
            Some(auditor.as_str()),
            "query($p: ID!) { fundLedger(filter: { projectId: $p }) { nodes { amount note recordedBy } } }",
            json!({ "p": global_id("Project", road.id) }),
        )
        .await["fundLedger"]["nodes"]
        .clone();
    assert_eq!(
        ledger,
        json!([{ "amount": "500.00", "note": "项目资金安排", "recordedBy": "admin" }])
    );
    let (total, rows) = disbursed_in_db(&app, road.id).await;
    assert_eq!(
        (total, rows),
        (0, 0),
        "nothing was paid by a refused request"
    );
}

async fn a_project_goes_from_the_library_to_acceptance_with_every_yuan_traced(backend: Backend) {
    let app = TestApp::seeded(&backend, 20).await.0;
    let village = village_ids(&app).await[0].id;
    let entered = app
        .query(
            "mutation($input: CreateProjectInput!) { createProject(input: $input) { id status } }",
            json!({ "input": {
                "name": "2026年通组路硬化项目", "kind": "ROAD", "year": 2026,
                "villageIds": [global_id("Village", village)], "implementer": "县交通运输局",
                "budget": "800000", "performanceTargets": "硬化通组路3公里",
                "benefitMechanism": "贫困户优先参与务工", "idempotencyKey": "road-2026",
            } }),
        )
        .await["createProject"]
        .clone();
    assert_eq!(entered["status"], "LIBRARY");
    let id = entered["id"].clone();
    // Entered three weeks ago, so that its notice has run by today.
    project_stage_change::Entity::update_many()
        .col_expr(
            project_stage_change::Column::EffectiveOn,
            Expr::value(days_ago(21)),
        )
        .filter(project_stage_change::Column::ProjectId.eq(raw_id(&id)))
        .exec(&app.db)
        .await
        .expect("backdate");
    let central = source(&app, "800000", None).await;
    let early = app
        .graphql(ALLOCATE, allocation(&central, raw_id(&id), "800000"))
        .await;
    assert_eq!(error_field(&early), "projectId", "no money before approval");

    let step = |mutation: &str, version: i64, extra: &str| {
        format!(
            "mutation($id: ID!) {{ {mutation}(id: $id, version: {version}{extra}) {{ status version }} }}"
        )
    };
    let notice = format!(
        ", startsOn: \"{}\", endsOn: \"{}\", paperNotice: {{ postedBy: \"村民委员会\", postedAt: \"村务公开栏\", evidence: \"公示照片.jpg\" }}",
        days_ago(12),
        days_ago(6)
    );
    app.query(
        &step("publishProjectNotice", 1, &notice),
        json!({ "id": id }),
    )
    .await;
    let on = |days: u64| format!(", on: \"{}\"", days_ago(days));
    app.query(&step("approveProject", 2, &on(5)), json!({ "id": id }))
        .await;
    // No entry predates what it draws on: the allocation the approval, a
    // payment the allocation.
    let mut allocate = allocation(&central, raw_id(&id), "800000");
    let before_approval = app.graphql(ALLOCATE, allocate.clone()).await;
    assert_eq!(
        error_field(&before_approval),
        "entryDate",
        "{before_approval}"
    );
    assert!(tests::error_message(&before_approval).contains("the project's approval"));
    allocate["input"]["entryDate"] = json!(days_ago(4));
    app.query(ALLOCATE, allocate).await;
    app.query(&step("startProject", 3, &on(4)), json!({ "id": id }))
        .await;
    let early = app
        .graphql(DISBURSE, disbursement(&central, raw_id(&id), "1", None))
        .await;
    assert_eq!(error_field(&early), "entryDate", "{early}");
    assert!(tests::error_message(&early).contains("first allocation"));
    for (amount, voucher) in [("300000", "记-2026-011"), ("499999.99", "记-2026-012")] {
        let mut paid = disbursement(&central, raw_id(&id), amount, None);
        paid["input"]["voucherNumber"] = json!(voucher);
        paid["input"]["entryDate"] = json!(days_ago(3));
        app.query(DISBURSE, paid).await;
    }
    app.query(&step("completeProject", 4, &on(2)), json!({ "id": id }))
        .await;
    app.query(&step("acceptProject", 5, &on(1)), json!({ "id": id }))
        .await;
    let announced = app
        .query(&step("announceProject", 6, &on(0)), json!({ "id": id }))
        .await["announceProject"]
        .clone();
    assert_eq!(announced["status"], "ACCEPTED");

    // The public follows it, yuan by yuan: one fen was never paid out.
    let public = app
        .graphql_as(
            None,
            "query($id: ID!) { project(id: $id) { status acceptedOn announcedOn announcementOverdue
                history { toStatus }
                funds { allocated disbursed undisbursed bySource { source { name } allocated disbursed } } }
              fundLedger(filter: { projectId: $id }) { nodes { kind amount voucherNumber payeeOrganisation } } }",
            json!({ "id": id }),
        )
        .await;
    assert!(public.get("errors").is_none(), "{public}");
    let project = &public["data"]["project"];
    assert_eq!(project["acceptedOn"], json!(days_ago(1)));
    assert_eq!(project["announcedOn"], json!(days_ago(0)));
    assert_eq!(project["announcementOverdue"], false);
    let stages: Vec<&Value> = project["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| &h["toStatus"])
        .collect();
    for stage in [
        "LIBRARY",
        "APPROVED",
        "IN_PROGRESS",
        "COMPLETED",
        "ACCEPTED",
    ] {
        assert!(stages.contains(&&json!(stage)), "{stage} in {stages:?}");
    }
    assert_eq!(
        project["funds"],
        json!({ "allocated": "800000.00", "disbursed": "799999.99", "undisbursed": "0.01",
                "bySource": [{ "source": { "name": "2020年中央财政专项扶贫资金" },
                               "allocated": "800000.00", "disbursed": "799999.99" }] })
    );
    assert_eq!(
        public["data"]["fundLedger"]["nodes"],
        json!([
            { "kind": "ALLOCATION", "amount": "800000.00", "voucherNumber": null, "payeeOrganisation": null },
            { "kind": "DISBURSEMENT", "amount": "300000.00", "voucherNumber": "记-2026-011", "payeeOrganisation": "县路桥建设有限公司" },
            { "kind": "DISBURSEMENT", "amount": "499999.99", "voucherNumber": "记-2026-012", "payeeOrganisation": "县路桥建设有限公司" },
        ])
    );
}
