//! Public disclosure ("funds run in the sun"): without a token anyone reads
//! every project and its money, and no response to the public carries a
//! person's name beyond its masked form, nor an ID number. (A public notice
//! of a household's proposal names its head in full, by design: see
//! `lifecycle::public_notices_name_the_head_and_nothing_personal`; the
//! register here has no proposal under notice.)

use std::collections::HashSet;

use chrono::{Days, Utc};
use entity::enums::{FundEntryKind, FundSourceKind, PayeeKind, ProjectStatus};
use entity::{
    enterprise, fund_entry, fund_source, household, member, project, project_beneficiary,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};
use tests::{Backend, TestApp, global_id, on_both_backends};

on_both_backends!(the_public_sees_projects_and_money_without_personal_data);

/// Everything a caller without a token may ask about projects, money and industry.
const PUBLIC_QUERIES: &[&str] = &[
    r#"{ projects(first: 100) { totalCount nodes {
        id name kind status year implementer implementerEnterprise { name creditCode kind industry }
        budget plannedStartDate plannedEndDate version performanceTargets benefitMechanism
        actualStartDate actualEndDate progressPercent noticeStartsOn noticeEndsOn approvedOn
        acceptedOn announcedOn announcementDueOn announcementOverdue beneficiaryCount
        history { fromStatus toStatus effectiveOn note at }
        villages { id code name township { name } }
        funds { allocated disbursed undisbursed utilisation
                bySource { allocated disbursed source { name kind year amount documentNumber } } } } } }"#,
    r#"{ fundSources(first: 100) { nodes { id year kind name documentNumber amount allocated
        disbursed unallocated utilisation donorEnterprise { name } } } }"#,
    r#"{ fundLedger(first: 100) { nodes { id kind amount entryDate voucherNumber payeeKind
        payeeOrganisation payeePerson source { name } project { name }
        reverses { id } reversedBy { id } createdAt } } }"#,
    r#"{ enterprises(first: 100) { nodes { id name creditCode kind industry village { name }
        projects(first: 5) { nodes { name } } } } }"#,
    r#"{ publicNotices(first: 100) { nodes { kind stage villageName headName reason } } }"#,
    r#"{ enterpriseRanking(year: 2020, first: 100) { rank householdsLinked incomeBrought investment
        enterprise { name benefit(year: 2020) { householdsLinked incomeBrought investment } } } }"#,
];

async fn home_village(app: &TestApp, household: i64) -> i64 {
    household::Entity::find_by_id(household)
        .one(&app.db)
        .await
        .expect("query")
        .expect("the household")
        .village_id
}

/// Every string in a response, at any depth.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => out.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(fields) => fields.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

async fn the_public_sees_projects_and_money_without_personal_data(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let members = member::Entity::find()
        .order_by_asc(member::Column::Id)
        .all(&app.db)
        .await
        .expect("members");
    // A subsidy paid to a person of the register, a beneficiary household: the
    // kinds of rows that could leak a name.
    let payee = members
        .iter()
        .find(|m| m.name.chars().count() == 3)
        .expect("a member with a three-character name");
    let project = project::Entity::find()
        .filter(project::Column::Status.eq(ProjectStatus::InProgress))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a project under way");
    project_beneficiary::ActiveModel {
        project_id: Set(project.id),
        household_id: Set(payee.household_id),
    }
    .insert(&app.db)
    .await
    .expect("beneficiary");
    // A project entered and noticed through the API, with the payee's household
    // as its beneficiary, and a benefit link to the same household.
    let village = global_id("Village", home_village(&app, payee.household_id).await);
    let household = global_id("Household", payee.household_id);
    let entered = app
        .query(
            "mutation($input: CreateProjectInput!) { createProject(input: $input) { id version } }",
            json!({ "input": {
                "name": "2020年危房改造到户项目", "kind": "HOUSING_RENOVATION",
                "year": 2020, "villageIds": [village], "implementer": "县住房和城乡建设局",
                "budget": "30000", "performanceTargets": "完成危房改造1户",
                "benefitMechanism": "直接补助到户", "beneficiaryHouseholdIds": [household],
            } }),
        )
        .await["createProject"]
        .clone();
    app.query(
        "mutation($id: ID!, $from: NaiveDate!, $to: NaiveDate!) {
            publishProjectNotice(id: $id, version: 1, startsOn: $from, endsOn: $to) { id } }",
        json!({ "id": entered["id"], "from": api::domain::calendar::today(), "to": api::domain::calendar::today() + Days::new(6) }),
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
            "enterpriseId": global_id("Enterprise", firm.id), "householdId": household,
            "mode": "EMPLOYMENT", "startedOn": "2020-03-01", "annualIncome": "6000",
            "note": format!("{}在基地务工", payee.name),
        } }),
    )
    .await;

    let now = Utc::now();
    let source = fund_source::ActiveModel {
        year: Set(2020),
        kind: Set(FundSourceKind::County),
        name: Set("2020年县级危房改造补助".into()),
        amount_fen: Set(1_000_000),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("source");
    let day = api::domain::calendar::today() - Days::new(3);
    for (kind, payee_name) in [
        (FundEntryKind::Allocation, None),
        (FundEntryKind::Disbursement, Some(payee.name.clone())),
    ] {
        fund_entry::ActiveModel {
            kind: Set(kind),
            source_id: Set(source.id),
            project_id: Set(project.id),
            amount_fen: Set(500_000),
            entry_date: Set(day),
            voucher_number: Set(payee_name.as_ref().map(|_| "记-2020-088".to_owned())),
            payee_kind: Set(payee_name.as_ref().map(|_| PayeeKind::Person)),
            payee: Set(payee_name),
            note: Set(format!("{}户危房改造补助", payee.name)),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .expect("entry");
    }

    let mut seen = Vec::new();
    for query in PUBLIC_QUERIES {
        let body = app.graphql_as(None, query, json!({})).await;
        assert!(body.get("errors").is_none(), "{query}: {body}");
        strings(&body, &mut seen);
    }
    // Fields the public may not read are refused, and leak nothing either.
    let refused = [
        "{ fundLedger(first: 100) { nodes { note recordedBy } } }",
        "{ enterprises(first: 100) { nodes { contactPerson contactPhone } } }",
        "{ enterprises(first: 100) { nodes { benefitLinks { nodes { household { id } annualIncome note } } } } }",
        "{ projects(first: 100) { nodes { beneficiaries { nodes { id } } history { actor } } } }",
    ];
    for query in refused {
        let body = app.graphql_as(None, query, json!({})).await;
        assert!(
            TestApp::error_codes(&body)
                .iter()
                .all(|code| code == "UNAUTHENTICATED"),
            "{query}: {body}"
        );
        strings(&body["data"], &mut seen);
    }
    let household = app
        .graphql_as(
            None,
            "query($id: ID!) { node(id: $id) { ... on Household { members { name idNumber } } } }",
            json!({ "id": global_id("Household", payee.household_id) }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&household), ["NOT_FOUND"]);
    strings(&household["data"], &mut seen);

    // The masked payee is there, so the scan below looks where a name would be.
    let masked = format!("{}**", payee.name.chars().next().expect("a surname"));
    assert!(
        seen.contains(&masked),
        "the public sees the payee as {masked}"
    );
    let seen: HashSet<String> = seen.into_iter().collect();
    for m in &members {
        for text in &seen {
            assert!(
                !text.contains(&m.id_number),
                "an ID number reached the public: {text}"
            );
            // Two-character names also occur inside place and firm names.
            let leaked = if m.name.chars().count() >= 3 {
                text.contains(&m.name)
            } else {
                *text == m.name
            };
            assert!(!leaked, "the name {} reached the public: {text}", m.name);
        }
    }

    // The aggregates the public reads count the household, without naming it.
    let counted = app
        .graphql_as(
            None,
            "query($id: ID!, $e: ID!) { node(id: $id) { ... on Project { beneficiaryCount history { toStatus } } }
                enterprise(id: $e) { benefit(year: 2020) { householdsLinked incomeBrought } } }",
            json!({ "id": entered["id"], "e": global_id("Enterprise", firm.id) }),
        )
        .await;
    assert_eq!(counted["data"]["node"]["beneficiaryCount"], 1, "{counted}");
    // One linked household: what the link pays it is not the public's to read,
    // in the enterprise's figures or in the ranking; the county office reads both.
    let linked = "query($e: ID!) { enterprise(id: $e) { benefit(year: 2020) { householdsLinked incomeBrought } }
        enterpriseRanking(year: 2020, first: 100) { enterprise { id } householdsLinked incomeBrought } }";
    let firm_id = global_id("Enterprise", firm.id);
    let ranked = |data: &Value| -> Value {
        data["enterpriseRanking"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["enterprise"]["id"] == json!(firm_id))
            .map(|r| json!({ "householdsLinked": r["householdsLinked"], "incomeBrought": r["incomeBrought"] }))
            .unwrap_or_default()
    };
    let public = app.query_as(None, linked, json!({ "e": firm_id })).await;
    let hidden = json!({ "householdsLinked": null, "incomeBrought": null });
    assert_eq!(public["enterprise"]["benefit"], hidden, "{public}");
    assert_eq!(ranked(&public), hidden, "{public}");
    let office = app.query(linked, json!({ "e": firm_id })).await;
    let shown = json!({ "householdsLinked": 1, "incomeBrought": "6000.00" });
    assert_eq!(office["enterprise"]["benefit"], shown, "{office}");
    assert_eq!(ranked(&office), shown, "{office}");

    // What the public sees of the money adds up to the ledger.
    let funds = app
        .graphql_as(
            None,
            "query($id: ID!) { project(id: $id) { funds { allocated disbursed } } }",
            json!({ "id": global_id("Project", project.id) }),
        )
        .await;
    let seeded_allocation = fund_entry::Entity::find()
        .filter(fund_entry::Column::ProjectId.eq(project.id))
        .all(&app.db)
        .await
        .expect("entries");
    let allocated: i64 = seeded_allocation
        .iter()
        .filter(|e| e.kind == FundEntryKind::Allocation)
        .map(|e| e.amount_fen)
        .sum();
    assert_eq!(
        funds["data"]["project"]["funds"]["allocated"],
        format!("{}.{:02}", allocated / 100, allocated % 100)
    );
}
