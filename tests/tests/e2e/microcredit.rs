//! Poverty-alleviation microcredit (扶贫小额信贷) over HTTP: a registered
//! household borrows up to 50,000 yuan in all for up to three years; repayments
//! never pass what is owed, even two at once; an overdue loan is counted as
//! such; a loan is extended once; enterprises and helper cadres read none of it.

use chrono::Days;
use entity::enums::{HouseholdStatus, RegionLevel, Role};
use entity::household;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tests::{Backend, TestApp, first_region, global_id, on_both_backends};

on_both_backends!(
    a_household_borrows_repays_and_extends_within_the_limits,
    two_repayments_at_once_never_pass_what_is_owed,
);

const RECORD: &str = "mutation($i: RecordLoanInput!) { recordLoan(input: $i) { id amount owed status dueOn version household { id } } }";
const REPAY: &str = "mutation($l: ID!, $a: Money!, $d: NaiveDate!) { repayLoan(loanId: $l, amount: $a, repaidOn: $d) { owed repaid status version repayments { amount repaidOn } } }";
const EXTEND: &str = "mutation($l: ID!, $v: Int!, $d: NaiveDate!) { extendLoan(loanId: $l, version: $v, dueOn: $d) { dueOn extendedFrom status version } }";
const FIGURES: &str = "query($r: ID!) { microcredit(regionId: $r) { loans households lent repaid owed overdueLoans overdueOwed } }";

fn today() -> chrono::NaiveDate {
    api::domain::calendar::today()
}

fn days_ago(days: u64) -> chrono::NaiveDate {
    today() - Days::new(days)
}

fn loan(
    household: i64,
    amount: &str,
    disbursed: chrono::NaiveDate,
    due: chrono::NaiveDate,
) -> Value {
    json!({ "i": {
        "householdId": global_id("Household", household),
        "lender": "县农村商业银行", "amount": amount, "purpose": "养殖肉牛",
        "creditRating": "GOOD", "disbursedOn": disbursed, "dueOn": due,
    } })
}

/// Registered households of the first village, the village cadre's.
async fn borrowers(app: &TestApp) -> Vec<household::Model> {
    let village = first_region(&app.db, RegionLevel::Village).await;
    household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .filter(household::Column::Status.is_in([
            HouseholdStatus::Enrolled,
            HouseholdStatus::LiftedOut,
            HouseholdStatus::Returned,
        ]))
        .order_by_asc(household::Column::Id)
        .all(&app.db)
        .await
        .expect("households")
}

async fn a_household_borrows_repays_and_extends_within_the_limits(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let homes = borrowers(&app).await;
    let (home, other) = (&homes[0], &homes[1]);
    let township = app.token_for(Role::TownshipOfficer).await;
    let t = Some(township.as_str());

    // Who may not record loans, and what is refused.
    for role in [Role::VillageCadre, Role::HelperCadre, Role::Enterprise] {
        let token = app.token_for(role).await;
        let refused = app
            .graphql_as(
                Some(&token),
                RECORD,
                loan(home.id, "30000", days_ago(400), days_ago(30)),
            )
            .await;
        assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"], "{role:?}");
    }
    for (input, field) in [
        (
            loan(home.id, "50000.01", days_ago(10), today() + Days::new(300)),
            "amount",
        ),
        (
            loan(home.id, "0", days_ago(10), today() + Days::new(300)),
            "amount",
        ),
        (
            loan(
                home.id,
                "1000",
                today() + Days::new(1),
                today() + Days::new(300),
            ),
            "disbursedOn",
        ),
        (loan(home.id, "1000", days_ago(10), days_ago(10)), "dueOn"),
        (
            loan(
                home.id,
                "1000",
                days_ago(10),
                days_ago(10) + Days::new(1200),
            ),
            "dueOn",
        ),
    ] {
        let refused = app.graphql_as(t, RECORD, input).await;
        assert_eq!(
            refused["errors"][0]["extensions"]["field"], field,
            "{refused}"
        );
    }

    // An overdue loan of 30,000; a second of 20,000 fills the limit, a third passes it.
    let first = app
        .query_as(
            t,
            RECORD,
            loan(home.id, "30000", days_ago(400), days_ago(30)),
        )
        .await["recordLoan"]
        .clone();
    assert_eq!(first["status"], "OVERDUE");
    assert_eq!(first["owed"], "30000.00");
    let second = app
        .query_as(
            t,
            RECORD,
            loan(home.id, "20000", days_ago(5), today() + Days::new(700)),
        )
        .await["recordLoan"]
        .clone();
    assert_eq!(second["status"], "CURRENT");
    let over = app
        .graphql_as(
            t,
            RECORD,
            loan(home.id, "0.01", days_ago(1), today() + Days::new(300)),
        )
        .await;
    assert_eq!(over["errors"][0]["extensions"]["field"], "amount", "{over}");
    assert!(
        over["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("at most 0.00 more")
    );

    // Repayments: never more than owed, never before disbursement or in the future.
    let l = first["id"].clone();
    for (amount, day, field) in [
        ("30000.01", days_ago(1), "amount"),
        ("-5", days_ago(1), "amount"),
        ("100", days_ago(401), "repaidOn"),
        ("100", today() + Days::new(1), "repaidOn"),
    ] {
        let refused = app
            .graphql_as(t, REPAY, json!({ "l": l, "a": amount, "d": day }))
            .await;
        assert_eq!(
            refused["errors"][0]["extensions"]["field"], field,
            "{refused}"
        );
    }
    let paid = app
        .query_as(t, REPAY, json!({ "l": l, "a": "10000", "d": days_ago(2) }))
        .await["repayLoan"]
        .clone();
    assert_eq!(
        (&paid["owed"], &paid["repaid"], &paid["status"]),
        (&json!("20000.00"), &json!("10000.00"), &json!("OVERDUE"))
    );
    // Repaying frees room to borrow again.
    app.query_as(
        t,
        RECORD,
        loan(home.id, "10000", days_ago(1), today() + Days::new(300)),
    )
    .await;

    // An extension: once, past the due day, within a year of it, from the version read.
    let v = paid["version"].as_i64().expect("version");
    let stale = app
        .graphql_as(
            t,
            EXTEND,
            json!({ "l": l, "v": v - 1, "d": today() + Days::new(100) }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&stale), ["CONFLICT"]);
    let too_far = app
        .graphql_as(
            t,
            EXTEND,
            json!({ "l": l, "v": v, "d": days_ago(30) + Days::new(400) }),
        )
        .await;
    assert_eq!(
        too_far["errors"][0]["extensions"]["field"], "dueOn",
        "{too_far}"
    );
    let extended = app
        .query_as(
            t,
            EXTEND,
            json!({ "l": l, "v": v, "d": today() + Days::new(100) }),
        )
        .await["extendLoan"]
        .clone();
    assert_eq!(extended["status"], "CURRENT");
    assert_eq!(extended["extendedFrom"], json!(days_ago(30)));
    let twice = app
        .graphql_as(
            t,
            EXTEND,
            json!({ "l": l, "v": v + 1, "d": today() + Days::new(200) }),
        )
        .await;
    assert!(
        twice["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("once")
    );

    // Another household's overdue loan, fully repaid afterwards: repaid, not overdue.
    let other_loan = app
        .query_as(
            t,
            RECORD,
            loan(other.id, "5000", days_ago(300), days_ago(3)),
        )
        .await["recordLoan"]
        .clone();
    let settled = app
        .query_as(
            t,
            REPAY,
            json!({ "l": other_loan["id"], "a": "5000", "d": days_ago(1) }),
        )
        .await["repayLoan"]
        .clone();
    assert_eq!(settled["status"], "REPAID");

    // The region's figures add up the loans; the county office reads the same.
    let village = first_region(&app.db, RegionLevel::Village).await;
    let figures = app
        .query_as(t, FIGURES, json!({ "r": global_id("Village", village.id) }))
        .await["microcredit"]
        .clone();
    assert_eq!(
        figures,
        json!({ "loans": 4, "households": 2, "lent": "65000.00", "repaid": "15000.00",
                "owed": "50000.00", "overdueLoans": 0, "overdueOwed": "0.00" })
    );
    let county = first_region(&app.db, RegionLevel::County).await;
    let whole = app
        .query(FIGURES, json!({ "r": global_id("County", county.id) }))
        .await["microcredit"]
        .clone();
    assert_eq!(whole, figures);

    // Loans are not for enterprises or helper cadres, by any path.
    let firm = app.token_for(Role::Enterprise).await;
    let probe = app
        .graphql_as(
            Some(&firm),
            "query($l: ID!, $h: ID!) { node(id: $l) { ... on Loan { amount } } household(id: $h) { loans { amount } } }",
            json!({ "l": l, "h": global_id("Household", home.id) }),
        )
        .await;
    assert!(!probe.to_string().contains("30000.00"), "{probe}");
    let helper = app.token_for(Role::HelperCadre).await;
    let figures = app
        .graphql_as(
            Some(&helper),
            FIGURES,
            json!({ "r": global_id("County", county.id) }),
        )
        .await;
    assert_eq!(TestApp::error_codes(&figures), ["FORBIDDEN"]);
    let listed = app
        .query(
            "query($h: ID!) { household(id: $h) { loans { amount status repayments { amount } } } }",
            json!({ "h": global_id("Household", home.id) }),
        )
        .await;
    assert_eq!(
        listed["household"]["loans"].as_array().map(Vec::len),
        Some(3)
    );

    // The ledger of repayments cannot be changed behind the service.
    for sql in [
        "UPDATE loan_repayment SET amount_fen = 1",
        "DELETE FROM loan_repayment",
    ] {
        let refused = app.db.execute_unprepared(sql).await;
        assert!(
            refused.is_err_and(|e| e.to_string().contains("append-only")),
            "{sql}"
        );
    }
    assert_eq!(
        app.audit_actions("Loan", tests::raw_id(&l)).await,
        ["loan.extend", "loan.repay", "loan.create"]
    );
}

async fn two_repayments_at_once_never_pass_what_is_owed(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 40).await;
    let homes = borrowers(&app).await;
    let made = app
        .query(
            RECORD,
            loan(homes[0].id, "1000", days_ago(100), today() + Days::new(100)),
        )
        .await["recordLoan"]
        .clone();
    let pay = json!({ "l": made["id"], "a": "700", "d": days_ago(1) });
    let (one, two) = tokio::join!(app.graphql(REPAY, pay.clone()), app.graphql(REPAY, pay));
    let taken = [&one, &two]
        .iter()
        .filter(|b| b.get("errors").is_none())
        .count();
    assert_eq!(taken, 1, "{one} {two}");
    let owed = app
        .query(
            "query($l: ID!) { node(id: $l) { ... on Loan { owed repayments { amount } } } }",
            json!({ "l": made["id"] }),
        )
        .await;
    assert_eq!(owed["node"]["owed"], "300.00");
}
