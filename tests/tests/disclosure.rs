//! Public disclosure ("funds run in the sun"): without a token anyone reads
//! every project and its money, and no response to the public carries a
//! person's name beyond its masked form, nor an ID number.

use std::collections::HashSet;

use chrono::{Days, Utc};
use entity::enums::{FundEntryKind, FundSourceKind, PayeeKind, ProjectStatus};
use entity::{fund_entry, fund_source, member, project, project_beneficiary};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};
use tests::{Backend, TestApp, global_id, on_both_backends};

on_both_backends!(the_public_sees_projects_and_money_without_personal_data);

/// Everything a caller without a token may ask about projects, money and industry.
const PUBLIC_QUERIES: &[&str] = &[
    r#"{ projects(first: 100) { totalCount nodes {
        id name kind status year implementer implementerEnterprise { name creditCode kind industry }
        budget startDate endDate version
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
];

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
    let day = api::edit::today() - Days::new(3);
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
    let refused = ["{ fundLedger(first: 100) { nodes { note recordedBy } } }"];
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
