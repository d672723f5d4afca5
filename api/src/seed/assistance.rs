//! The assistance of the demo county, laid over its register once it is
//! loaded: helper units and first secretaries for every poverty village, and
//! in the demo township (the demo township officer's) a plan, a helper cadre
//! and visits for every registered household, with benefit links, loans and
//! project assets here and there. It goes through the domain's own writes, as
//! the county office and the cadres would make them, each audited, so that
//! every dashboard of a fresh demo shows something and a newcomer sees each
//! part work. A few thousand writes: for the demo, not for a bench load.

use chrono::{Datelike, Days, NaiveDate};
use entity::enums::*;
use entity::{app_user, enterprise, household, project, project_village, region};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::{names, pick};
use crate::access::{self, Viewer};
use crate::account::{self, NewUser};
use crate::audit::Actor;
use crate::domain::asset::{self, NewAsset, NewIncome};
use crate::domain::enterprise::{self as firms, NewBenefitLink};
use crate::domain::microcredit::{self, NewLoan};
use crate::domain::money::Money;
use crate::domain::pairing::{self, NewPairing, NewPosting, NewVisit};
use crate::domain::plan::{self, NewMeasure};
use crate::domain::{calendar, tally};
use crate::error::ApiError;

/// Households a demo helper cadre is paired with.
const HOUSEHOLDS_PER_HELPER: usize = 10;
/// Helper units, by kind, each helping every few poverty villages.
const UNITS: [(&str, HelperUnitKind); 4] = [
    ("县人力资源和社会保障局", HelperUnitKind::CountyDepartment),
    ("县农业农村局", HelperUnitKind::CountyDepartment),
    ("省交通运输厅", HelperUnitKind::HigherAuthority),
    ("县农村信用合作联社", HelperUnitKind::Enterprise),
];
/// The five batches' measures a demo plan draws from: category, task, standard.
const MEASURES: [(MeasureCategory, &str, &str); 6] = [
    (
        MeasureCategory::DevelopProduction,
        "发展肉牛养殖",
        "存栏 3 头以上",
    ),
    (
        MeasureCategory::Employment,
        "推荐到县内企业务工",
        "务工 6 个月以上",
    ),
    (
        MeasureCategory::Education,
        "落实教育资助",
        "在校子女全部享受资助",
    ),
    (MeasureCategory::Health, "家庭医生签约服务", "签约并随访"),
    (
        MeasureCategory::HousingRenovation,
        "危房改造",
        "通过竣工验收",
    ),
    (
        MeasureCategory::SocialSecurity,
        "纳入农村低保",
        "按月足额发放",
    ),
];

fn failed(what: &str) -> impl Fn(ApiError) -> DbErr + '_ {
    move |e| DbErr::Custom(format!("demo assistance, {what}: {}", e.sentence()))
}

async fn account(db: &DatabaseConnection, username: &str) -> Result<app_user::Model, DbErr> {
    app_user::Entity::find()
        .filter(app_user::Column::Username.eq(username))
        .one(db)
        .await?
        .ok_or_else(|| DbErr::Custom(format!("demo assistance: no account `{username}`")))
}

/// A day within the last `days` days.
fn recent(rng: &mut ChaCha8Rng, today: NaiveDate, days: u64) -> NaiveDate {
    today - Days::new(rng.random_range(1..=days))
}

/// Lays the demo's assistance over a freshly loaded demo county whose demo
/// users exist (`admin` and `helper` among them).
pub async fn run(db: &DatabaseConnection, seed: u64) -> Result<(), DbErr> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let today = calendar::today();
    let admin = account(db, "admin").await?;
    let county = access::viewer_of(db, &admin)
        .await
        .map_err(failed("county office"))?;
    let actor = Actor::system("demo");

    let villages = region::Entity::find()
        .filter(region::Column::Level.eq(RegionLevel::Village))
        .order_by_asc(region::Column::Code)
        .all(db)
        .await?;
    let mut units = Vec::new();
    for (name, kind) in UNITS {
        let unit = pairing::create_helper_unit(db, &county, &actor, None, name, kind)
            .await
            .map_err(failed("helper unit"))?;
        units.push(unit);
    }
    let poverty_villages: Vec<&region::Model> =
        villages.iter().filter(|v| v.is_poverty_village).collect();
    for (i, village) in poverty_villages.iter().enumerate() {
        let unit = &units[i % units.len()];
        pairing::pair_unit_with_village(db, &county, &actor, None, unit.id, village.id)
            .await
            .map_err(failed("unit pairing"))?;
        let name = format!(
            "{}{}",
            pick(&mut rng, names::SURNAMES),
            pick(&mut rng, names::MALE_GIVEN)
        );
        let posting = NewPosting {
            village_id: village.id,
            role: VillageStaffRole::FirstSecretary,
            name,
            username: None,
            unit_id: Some(unit.id),
            phone: Some(format!("139{:08}", rng.random_range(0..100_000_000))),
            started_on: Some(recent(&mut rng, today, 700)),
        };
        pairing::appoint_village_staff(db, &county, &actor, None, posting)
            .await
            .map_err(failed("first secretary"))?;
    }

    assets(db, &county, &actor, &mut rng).await?;

    // The demo township: its registered households, village by village.
    let township = region::Entity::find()
        .filter(region::Column::Level.eq(RegionLevel::Township))
        .order_by_asc(region::Column::Code)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::Custom("demo assistance: no township".into()))?;
    let ours: Vec<i64> = villages
        .iter()
        .filter(|v| v.parent_id == Some(township.id))
        .map(|v| v.id)
        .collect();
    let homes = household::Entity::find()
        .filter(household::Column::VillageId.is_in(ours))
        .filter(household::Column::Status.is_in(tally::REGISTERED))
        .order_by_asc(household::Column::Id)
        .all(db)
        .await?;
    let firms = enterprise::Entity::find()
        .order_by_asc(enterprise::Column::Id)
        .all(db)
        .await?;
    let password = crate::auth::random_password();
    for (group, households) in homes.chunks(HOUSEHOLDS_PER_HELPER).enumerate() {
        // The demo's own helper takes the first households; the others are
        // accounts nobody signs in to.
        let helper = match group {
            0 => account(db, "helper").await?,
            n => {
                let new = NewUser {
                    username: format!("helper{:03}", n + 1),
                    password: password.clone(),
                    role: Role::HelperCadre,
                    region_code: None,
                    enterprise_credit_code: None,
                };
                account::create_user(db, &actor, new)
                    .await
                    .map_err(failed("helper cadre"))?
            }
        };
        let helper = access::viewer_of(db, &helper)
            .await
            .map_err(failed("helper cadre"))?;
        let unit = &units[group % units.len()];
        for home in households {
            assist(
                db,
                &county,
                &helper,
                &actor,
                (home, &unit.name),
                &firms,
                &mut rng,
            )
            .await?;
        }
    }
    Ok(())
}

/// An asset for each accepted project, owned by its first village, run by a
/// cooperative, with last year's income shared with poor households.
async fn assets(
    db: &DatabaseConnection,
    county: &Viewer,
    actor: &Actor,
    rng: &mut ChaCha8Rng,
) -> Result<(), DbErr> {
    let today = calendar::today();
    let accepted = project::Entity::find()
        .filter(project::Column::Status.eq(ProjectStatus::Accepted))
        .order_by_asc(project::Column::Id)
        .all(db)
        .await?;
    for source in accepted {
        let Some(village) = project_village::Entity::find()
            .filter(project_village::Column::ProjectId.eq(source.id))
            .order_by_asc(project_village::Column::VillageId)
            .one(db)
            .await?
        else {
            continue;
        };
        let kind = match source.kind {
            ProjectKind::Road | ProjectKind::DrinkingWater | ProjectKind::WaterConservancy => {
                AssetKind::Public
            }
            _ => AssetKind::Productive,
        };
        let handed_over_on = source
            .accepted_on
            .unwrap_or(today - Days::new(400))
            .min(today);
        let input = NewAsset {
            project_id: source.id,
            name: format!("{}形成资产", source.name),
            kind,
            value: Money(source.budget_fen / 2),
            owner_village_id: Some(village.village_id),
            owner_household_id: None,
            operator: "村股份经济合作社".into(),
            handed_over_on,
        };
        let asset = asset::register(db, county, actor, None, input)
            .await
            .map_err(failed("asset"))?;
        let year = today.year() - 1;
        if kind == AssetKind::Productive && handed_over_on.year() <= year {
            let amount = source.budget_fen / 20;
            let income = NewIncome {
                year,
                amount: Money(amount),
                distributed: Money(amount * 6 / 10),
                households_benefited: rng.random_range(10..60),
            };
            asset::record_income(db, county, actor, asset.id, income)
                .await
                .map_err(failed("asset income"))?;
        }
    }
    Ok(())
}

/// One household's plan, helper, visits, and now and then a benefit link and a loan.
async fn assist(
    db: &DatabaseConnection,
    county: &Viewer,
    helper: &Viewer,
    actor: &Actor,
    (home, unit): (&household::Model, &str),
    firms: &[enterprise::Model],
    rng: &mut ChaCha8Rng,
) -> Result<(), DbErr> {
    let today = calendar::today();
    let pairing = NewPairing {
        helper_username: helper.user().map_err(failed("helper"))?.username.clone(),
        household_id: home.id,
        unit: Some(unit.to_owned()),
    };
    pairing::pair_helper(db, county, actor, None, pairing)
        .await
        .map_err(failed("pairing"))?;
    for _ in 0..rng.random_range(1..=2) {
        let (category, task, standard) = *MEASURES.choose(rng).unwrap_or(&MEASURES[0]);
        let deadline = today
            .with_day(1)
            .unwrap_or(today)
            .checked_add_months(chrono::Months::new(rng.random_range(0..12)))
            .unwrap_or(today)
            - Days::new(rng.random_range(0..180));
        let measure = NewMeasure {
            household_id: home.id,
            category,
            task: task.into(),
            standard: standard.into(),
            responsible: unit.into(),
            deadline,
            funds: Money(rng.random_range(0..300) * 10_000),
        };
        let added = plan::add_measure(db, county, actor, None, measure)
            .await
            .map_err(failed("measure"))?;
        // Most measures due by now are done; a few are late.
        let status = match (deadline < today, rng.random_range(0..10)) {
            (true, 0..=7) => Some(MeasureStatus::Done),
            (false, 0..=4) => Some(MeasureStatus::InProgress),
            _ => None,
        };
        if let Some(status) = status {
            plan::set_measure_status(db, county, actor, added.id, added.version, status)
                .await
                .map_err(failed("measure status"))?;
        }
    }
    for visit in 0..rng.random_range(1..=3) {
        let help = if rng.random_bool(0.3) {
            vec![HelpKind::MaterialHelp]
        } else {
            vec![HelpKind::PolicyExplained, HelpKind::TechnicalHelp]
        };
        let input = NewVisit {
            household_id: home.id,
            visited_on: recent(rng, today, 120),
            help,
            notes: "入户走访，了解生产生活情况".into(),
            latitude: None,
            longitude: None,
            photos: Vec::new(),
        };
        // A visit is its visitor's own record, and its key is required.
        let key = format!("demo-visit-{}-{visit}", home.id);
        let visitor = Actor::of(helper, "").map_err(failed("visitor"))?;
        pairing::record_visit(db, helper, &visitor, &key, input)
            .await
            .map_err(failed("visit"))?;
    }
    if rng.random_bool(0.3)
        && let Some(firm) = firms.choose(rng)
    {
        let link = NewBenefitLink {
            enterprise_id: firm.id,
            household_id: home.id,
            mode: *[
                BenefitMode::Employment,
                BenefitMode::LandRent,
                BenefitMode::Dividend,
            ]
            .choose(rng)
            .unwrap_or(&BenefitMode::Employment),
            started_on: recent(rng, today, 600),
            ended_on: None,
            annual_income: Money(rng.random_range(8..60) * 10_000),
            note: None,
        };
        firms::record_link(db, county, actor, None, link)
            .await
            .map_err(failed("benefit link"))?;
    }
    if rng.random_bool(0.15) {
        // Three-year loans: those lent over three years ago and not repaid are overdue.
        let disbursed_on = recent(rng, today, 1_300);
        let amount = rng.random_range(1..=5) * 1_000_000;
        let loan = NewLoan {
            household_id: home.id,
            lender: "县农村商业银行".into(),
            amount: Money(amount),
            purpose: "发展种养业".into(),
            credit_rating: CreditRating::Good,
            disbursed_on,
            due_on: disbursed_on + Days::new(3 * 365 - 5),
        };
        let lent = microcredit::record_loan(db, county, actor, None, loan)
            .await
            .map_err(failed("loan"))?;
        if rng.random_bool(0.5) {
            let repaid_on = disbursed_on + (today - disbursed_on) / 2;
            microcredit::repay(db, county, actor, lent.id, Money(amount / 3), repaid_on)
                .await
                .map_err(failed("repayment"))?;
        }
    }
    Ok(())
}
