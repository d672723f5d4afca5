//! Accurate identification (精准识别): the data-quality checks list exactly the
//! households whose records are broken, within the region and the caller's reach.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate, Utc};
use entity::enums::{
    DilapidatedGrade, Gender, HelpKind, HouseholdStatus, LabourAbility, MeasureCategory,
    MeasureStatus, MonitoringCategory, RegionLevel, Relation, Role,
};
use entity::{
    app_user, helper_pairing, household, household_income, measure, member, poverty_line, visit,
    visit_help,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, NotSet,
    QueryFilter, QueryOrder, Set,
};
use serde_json::{Value, json};
use tests::{Backend, TestApp, first_region, global_id, on_both_backends, regions};

on_both_backends!(each_check_lists_exactly_the_broken_households);

const CHECKS: &str = r#"query($r: ID!, $d: Int! = 90, $n: Int! = 3) {
  dataQuality(regionId: $r, staleVisitDays: $d, recentVisits: $n) {
    kind description count
    households(first: 100) { totalCount nodes { number } }
  }
}"#;

const PAGED: &str = r#"query($r: ID!, $a: String) {
  dataQuality(regionId: $r) {
    kind
    households(first: 1, after: $a) { nodes { number } pageInfo { hasNextPage endCursor } }
  }
}"#;

/// Each kind's count and listed household numbers, after checking that the
/// count, the connection's total and the list agree.
async fn problems(
    app: &TestApp,
    token: &str,
    region: &str,
    vars: Value,
) -> BTreeMap<String, Vec<String>> {
    let mut vars = vars;
    vars["r"] = json!(region);
    let data = app.query_as(Some(token), CHECKS, vars).await;
    let mut found = BTreeMap::new();
    for check in data["dataQuality"].as_array().expect("checks") {
        let kind = check["kind"].as_str().expect("kind").to_owned();
        assert!(
            check["description"]
                .as_str()
                .is_some_and(|d| d.contains('(')),
            "{check}"
        );
        let numbers: Vec<String> = check["households"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["number"].as_str().expect("number").to_owned())
            .collect();
        assert_eq!(check["count"], numbers.len(), "{check}");
        assert_eq!(check["households"]["totalCount"], numbers.len(), "{check}");
        found.insert(kind, numbers);
    }
    found
}

/// One page of one check's households.
async fn page_of(app: &TestApp, region: &str, kind: &str, after: Value) -> Value {
    let data = app.query(PAGED, json!({ "r": region, "a": after })).await;
    data["dataQuality"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["kind"] == kind)
        .expect("the check")["households"]
        .clone()
}

fn expected(
    homes: &[household::Model],
    table: &[(&str, &[usize])],
) -> BTreeMap<String, Vec<String>> {
    table
        .iter()
        .map(|(kind, which)| {
            let numbers = which.iter().map(|&i| homes[i].number.clone()).collect();
            ((*kind).to_owned(), numbers)
        })
        .collect()
}

async fn update_household(
    app: &TestApp,
    home: &household::Model,
    change: impl FnOnce(&mut household::ActiveModel),
) {
    let mut row = home.clone().into_active_model();
    change(&mut row);
    row.update(&app.db).await.expect("update household");
}

async fn head_of(app: &TestApp, home: &household::Model) -> member::Model {
    member::Entity::find()
        .filter(member::Column::HouseholdId.eq(home.id))
        .filter(member::Column::IsActive.eq(true))
        .filter(member::Column::Relation.eq(Relation::Head))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a head")
}

async fn update_member(
    app: &TestApp,
    row: &member::Model,
    change: impl FnOnce(&mut member::ActiveModel),
) {
    let mut active = row.clone().into_active_model();
    change(&mut active);
    active.update(&app.db).await.expect("update member");
}

/// Replaces a household's incomes with one per (year, per-capita net) for a household of one.
async fn set_incomes(app: &TestApp, home: &household::Model, incomes: &[(i32, i64)]) {
    household_income::Entity::delete_many()
        .filter(household_income::Column::HouseholdId.eq(home.id))
        .exec(&app.db)
        .await
        .expect("delete incomes");
    for &(year, per_capita) in incomes {
        household_income::ActiveModel {
            household_id: Set(home.id),
            year: Set(year),
            wage_fen: Set(per_capita),
            production_fen: Set(0),
            property_fen: Set(0),
            transfer_fen: Set(0),
            production_cost_fen: Set(0),
            household_size: Set(1),
            per_capita_net_fen: Set(per_capita),
            version: Set(1),
            updated_at: Set(Utc::now()),
        }
        .insert(&app.db)
        .await
        .expect("insert income");
    }
}

async fn add_measure(
    app: &TestApp,
    home: &household::Model,
    category: MeasureCategory,
    status: MeasureStatus,
    deadline: NaiveDate,
) {
    let now = Utc::now();
    measure::ActiveModel {
        id: NotSet,
        household_id: Set(home.id),
        category: Set(category),
        task: Set("帮扶任务".into()),
        standard: Set("达到标准".into()),
        responsible: Set("李四".into()),
        deadline: Set(deadline),
        funds_fen: Set(0),
        status: Set(status),
        completed_on: Set((status == MeasureStatus::Done).then_some(deadline)),
        overdue_alerted_for: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.db)
    .await
    .expect("insert measure");
}

async fn pair(
    app: &TestApp,
    helper: &app_user::Model,
    home: &household::Model,
    ended_on: Option<NaiveDate>,
) {
    let now = Utc::now();
    helper_pairing::ActiveModel {
        id: NotSet,
        helper_id: Set(helper.id),
        household_id: Set(home.id),
        unit: Set(None),
        started_on: Set(NaiveDate::from_ymd_opt(2020, 1, 1).expect("date")),
        ended_on: Set(ended_on),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.db)
    .await
    .expect("insert pairing");
}

/// A visit on `on` that recorded `help`.
async fn add_visit(
    app: &TestApp,
    helper: &app_user::Model,
    home: &household::Model,
    on: NaiveDate,
    help: &[HelpKind],
) {
    let visit = visit::ActiveModel {
        id: NotSet,
        household_id: Set(home.id),
        visitor_id: Set(helper.id),
        visited_on: Set(on),
        notes: Set("入户走访".into()),
        latitude: Set(None),
        longitude: Set(None),
        photos: Set("[]".into()),
        created_at: Set(Utc::now()),
    }
    .insert(&app.db)
    .await
    .expect("insert visit");
    for kind in help {
        visit_help::ActiveModel {
            visit_id: Set(visit.id),
            kind: Set(*kind),
        }
        .insert(&app.db)
        .await
        .expect("insert help");
    }
}

async fn each_check_lists_exactly_the_broken_households(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 60).await;
    let village = first_region(&app.db, RegionLevel::Village).await;
    let homes = household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .order_by_asc(household::Column::Id)
        .all(&app.db)
        .await
        .expect("households");
    assert!(
        homes.len() >= 10,
        "the village has {} households",
        homes.len()
    );
    let today = api::domain::calendar::today();
    let days_ago = |n: u64| today.checked_sub_days(Days::new(n)).expect("date");
    let lines = poverty_line::Entity::find()
        .order_by_asc(poverty_line::Column::Year)
        .all(&app.db)
        .await
        .expect("poverty lines");
    let [.., older, latest] = lines.as_slice() else {
        panic!("two poverty lines are needed");
    };
    let (helper, _) = app.user_for(Role::HelperCadre).await;

    // Every household of the village is made clean: not poor, not monitored,
    // a sound house, nobody who lost the ability to work.
    for home in &homes {
        update_household(&app, home, |h| {
            h.status = Set(HouseholdStatus::NotPoor);
            h.enrolled_year = Set(None);
            h.lifted_out_year = Set(None);
            h.monitoring = Set(None);
            h.dilapidated_grade = Set(None);
        })
        .await;
    }
    let ids: Vec<i64> = homes.iter().map(|h| h.id).collect();
    member::Entity::update_many()
        .col_expr(member::Column::LabourAbility, LabourAbility::Weak.into())
        .filter(member::Column::HouseholdId.is_in(ids))
        .filter(member::Column::LabourAbility.eq(LabourAbility::Lost))
        .exec(&app.db)
        .await
        .expect("labour");
    let homes = household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .order_by_asc(household::Column::Id)
        .all(&app.db)
        .await
        .expect("households");

    // 0: an ID number with a wrong check character.
    let head = head_of(&app, &homes[0]).await;
    let mut wrong = head.id_number.clone();
    let last = if wrong.ends_with('0') { "1" } else { "0" };
    wrong.replace_range(17.., last);
    update_member(&app, &head, |m| m.id_number = Set(wrong)).await;
    // 1: a valid ID number of the other gender.
    let head = head_of(&app, &homes[1]).await;
    let other = if head.gender == Gender::Male {
        Gender::Female
    } else {
        Gender::Male
    };
    update_member(&app, &head, |m| m.gender = Set(other)).await;
    // 2 and 3: one person active in both, as imported data may have it.
    app.db
        .execute_unprepared("DROP INDEX member_active_id_number")
        .await
        .expect("drop the index");
    let head = head_of(&app, &homes[2]).await;
    let mut copy = head.clone().into_active_model();
    copy.id = NotSet;
    copy.household_id = Set(homes[3].id);
    copy.relation = Set(Relation::Other);
    copy.insert(&app.db).await.expect("insert the copy");
    // 4: enrolled, the latest year at twice the line (the year before under it);
    // paired and visited.
    update_household(&app, &homes[4], |h| {
        h.status = Set(HouseholdStatus::Enrolled);
        h.enrolled_year = Set(Some(2016));
    })
    .await;
    set_incomes(
        &app,
        &homes[4],
        &[
            (older.year, older.annual_fen - 1),
            (latest.year, 2 * latest.annual_fen),
        ],
    )
    .await;
    pair(&app, &helper, &homes[4], None).await;
    // Its two latest visits brought goods only, the one before training as well.
    let goods = [HelpKind::MaterialHelp];
    add_visit(&app, &helper, &homes[4], days_ago(10), &goods).await;
    add_visit(&app, &helper, &homes[4], days_ago(20), &goods).await;
    let training = [HelpKind::MaterialHelp, HelpKind::Training];
    add_visit(&app, &helper, &homes[4], days_ago(200), &training).await;
    // 5: lifted out, the latest year under the line (the year before far above it).
    update_household(&app, &homes[5], |h| {
        h.status = Set(HouseholdStatus::LiftedOut);
        h.enrolled_year = Set(Some(2016));
        h.lifted_out_year = Set(Some(2019));
    })
    .await;
    set_incomes(
        &app,
        &homes[5],
        &[
            (older.year, 3 * older.annual_fen),
            (latest.year, latest.annual_fen - 1),
        ],
    )
    .await;
    // 6: returned, just under twice the line; a member who cannot work and no
    // measure; the pairing ended; visited 100 days ago.
    update_household(&app, &homes[6], |h| {
        h.status = Set(HouseholdStatus::Returned);
        h.enrolled_year = Set(Some(2016));
        h.lifted_out_year = Set(Some(2019));
    })
    .await;
    set_incomes(&app, &homes[6], &[(latest.year, 2 * latest.annual_fen - 1)]).await;
    let head = head_of(&app, &homes[6]).await;
    update_member(&app, &head, |m| m.labour_ability = Set(LabourAbility::Lost)).await;
    pair(&app, &helper, &homes[6], Some(days_ago(30))).await;
    add_visit(&app, &helper, &homes[6], days_ago(100), &goods).await;
    // 5, lifted out, is no longer helped: goods alone are no formality there.
    add_visit(&app, &helper, &homes[5], days_ago(5), &goods).await;
    // 7: a member who cannot work, with social security under way but overdue;
    // monitored, its latest visit recorded no help at all, the one before goods.
    update_household(&app, &homes[7], |h| {
        h.monitoring = Set(Some(MonitoringCategory::Marginal));
    })
    .await;
    pair(&app, &helper, &homes[7], None).await;
    add_visit(&app, &helper, &homes[7], days_ago(3), &[]).await;
    add_visit(&app, &helper, &homes[7], days_ago(4), &goods).await;
    let head = head_of(&app, &homes[7]).await;
    update_member(&app, &head, |m| m.labour_ability = Set(LabourAbility::Lost)).await;
    add_measure(
        &app,
        &homes[7],
        MeasureCategory::SocialSecurity,
        MeasureStatus::InProgress,
        days_ago(1),
    )
    .await;
    // 8: a dilapidated house and a member who cannot work, whose measures were
    // cancelled; a measure done late is not overdue.
    update_household(&app, &homes[8], |h| {
        h.dilapidated_grade = Set(Some(DilapidatedGrade::C));
    })
    .await;
    let head = head_of(&app, &homes[8]).await;
    update_member(&app, &head, |m| m.labour_ability = Set(LabourAbility::Lost)).await;
    for category in [
        MeasureCategory::HousingRenovation,
        MeasureCategory::SocialSecurity,
    ] {
        add_measure(
            &app,
            &homes[8],
            category,
            MeasureStatus::Cancelled,
            days_ago(5),
        )
        .await;
    }
    add_measure(
        &app,
        &homes[8],
        MeasureCategory::SkillsTraining,
        MeasureStatus::Done,
        days_ago(30),
    )
    .await;
    // 9: monitored and paired but never visited; a dilapidated house to be
    // relocated, and a measure due today (not overdue yet).
    update_household(&app, &homes[9], |h| {
        h.monitoring = Set(Some(MonitoringCategory::Unstable));
        h.dilapidated_grade = Set(Some(DilapidatedGrade::D));
    })
    .await;
    pair(&app, &helper, &homes[9], None).await;
    add_measure(
        &app,
        &homes[9],
        MeasureCategory::Relocation,
        MeasureStatus::Planned,
        today.checked_add_days(Days::new(30)).expect("date"),
    )
    .await;
    add_measure(
        &app,
        &homes[9],
        MeasureCategory::DevelopProduction,
        MeasureStatus::Planned,
        today,
    )
    .await;

    let want = expected(
        &homes,
        &[
            ("INVALID_ID_NUMBER", &[0, 1]),
            ("PERSON_IN_TWO_HOUSEHOLDS", &[2, 3]),
            ("ENROLLED_FAR_ABOVE_LINE", &[4]),
            ("LIFTED_OUT_UNDER_LINE", &[5]),
            ("LOST_LABOUR_WITHOUT_SAFETY_NET", &[6, 8]),
            ("DILAPIDATED_WITHOUT_HOUSING_MEASURE", &[8]),
            ("NO_HELPER", &[6]),
            ("NO_RECENT_VISIT", &[6, 9]),
            ("OVERDUE_MEASURES", &[7]),
            ("MATERIAL_HELP_ONLY", &[6, 7]),
        ],
    );
    let village_id = global_id("Village", village.id);
    let admin = app.admin_token.clone();
    assert_eq!(problems(&app, &admin, &village_id, json!({})).await, want);
    let mut longer = want.clone();
    longer.insert("NO_RECENT_VISIT".into(), vec![homes[9].number.clone()]);
    assert_eq!(
        problems(&app, &admin, &village_id, json!({ "d": 120 })).await,
        longer
    );
    // Over its two latest visits, household 4's help was goods only too; over
    // the latest alone, household 7's was no help at all.
    let mut two = want.clone();
    two.insert(
        "MATERIAL_HELP_ONLY".into(),
        vec![
            homes[4].number.clone(),
            homes[6].number.clone(),
            homes[7].number.clone(),
        ],
    );
    assert_eq!(
        problems(&app, &admin, &village_id, json!({ "n": 2 })).await,
        two
    );
    let mut one = two.clone();
    one.insert(
        "MATERIAL_HELP_ONLY".into(),
        vec![homes[4].number.clone(), homes[6].number.clone()],
    );
    assert_eq!(
        problems(&app, &admin, &village_id, json!({ "n": 1 })).await,
        one
    );
    for bad in [0, 51] {
        let refused = app
            .graphql(CHECKS, json!({ "r": village_id, "n": bad }))
            .await;
        assert_eq!(TestApp::error_codes(&refused), ["BAD_USER_INPUT"]);
        assert_eq!(refused["errors"][0]["extensions"]["field"], "recentVisits");
    }

    // Staff of the township and the village see the same; the village cadre
    // asking about the county still sees only their village.
    let county_id = global_id(
        "County",
        first_region(&app.db, RegionLevel::County).await.id,
    );
    let township = app.token_for(Role::TownshipOfficer).await;
    assert_eq!(
        problems(&app, &township, &village_id, json!({})).await,
        want
    );
    let cadre = app.token_for(Role::VillageCadre).await;
    assert_eq!(problems(&app, &cadre, &county_id, json!({})).await, want);
    let auditor = app.token_for(Role::Auditor).await;
    assert_eq!(problems(&app, &auditor, &village_id, json!({})).await, want);
    let elsewhere = regions(&app.db, RegionLevel::Village).await[1].clone();
    let theirs = problems(&app, &cadre, &global_id("Village", elsewhere.id), json!({})).await;
    assert!(theirs.values().all(Vec::is_empty), "{theirs:?}");
    // The county office sees the whole county: more households without a helper.
    let county = problems(&app, &admin, &county_id, json!({})).await;
    assert!(county["NO_HELPER"].contains(&homes[6].number));
    assert!(county["NO_HELPER"].len() > 1);

    // Households are paged like any list.
    for (kind, first, second) in [
        ("LOST_LABOUR_WITHOUT_SAFETY_NET", 6, 8),
        ("INVALID_ID_NUMBER", 0, 1),
    ] {
        let one = page_of(&app, &village_id, kind, Value::Null).await;
        assert_eq!(one["nodes"][0]["number"], homes[first].number.as_str());
        assert_eq!(one["pageInfo"]["hasNextPage"], true);
        let two = page_of(
            &app,
            &village_id,
            kind,
            one["pageInfo"]["endCursor"].clone(),
        )
        .await;
        assert_eq!(two["nodes"][0]["number"], homes[second].number.as_str());
        assert_eq!(two["pageInfo"]["hasNextPage"], false);
    }

    // Helper cadres and the public may not ask; the look-back must be sensible.
    let helper_token = tests::token_of(&helper);
    let vars = json!({ "r": village_id });
    let refused = app
        .graphql_as(Some(&helper_token), CHECKS, vars.clone())
        .await;
    assert_eq!(TestApp::error_codes(&refused), ["FORBIDDEN"]);
    let public = app.graphql_as(None, CHECKS, vars).await;
    assert_eq!(TestApp::error_codes(&public), ["UNAUTHENTICATED"]);
    let negative = app
        .graphql(CHECKS, json!({ "r": village_id, "d": -1 }))
        .await;
    assert_eq!(TestApp::error_codes(&negative), ["BAD_USER_INPUT"]);
    let not_a_region = app
        .graphql(CHECKS, json!({ "r": global_id("Household", homes[0].id) }))
        .await;
    assert_eq!(TestApp::error_codes(&not_a_region), ["BAD_USER_INPUT"]);
}
