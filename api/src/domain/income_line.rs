//! The income lines households are measured against, per year: the national
//! poverty line (贫困标准) that exits compare a household's income with, a
//! province's own line (省定贫困标准) where it is higher, which households
//! identified under the provincial standard exit against, and each province's
//! monitoring line (防返贫监测收入标准) for return to poverty. All are set by
//! the county office or the provincial system, and every setting is audited
//! with the line before and after.

use entity::enums::IdentificationStandard;
use entity::{household, monitoring_line, poverty_line, provincial_poverty_line, region};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, Set,
};
use serde_json::json;

use super::money::Money;
use super::write;
use crate::audit::{self, Actor, Change};
use crate::error::{ApiError, ApiResult};

/// Years a line may be set for: from the filing cards' first year (2013) on.
const YEARS: std::ops::RangeInclusive<i32> = 2013..=2100;

/// Refuses a year or an amount no line can have.
fn check_line(year: i32, annual: Money) -> ApiResult<()> {
    if !YEARS.contains(&year) {
        return Err(ApiError::bad_input(
            "year",
            format!(
                "the year must be between {} and {}",
                YEARS.start(),
                YEARS.end()
            ),
        ));
    }
    if annual.0 <= 0 {
        return Err(ApiError::bad_input("annual", "the line must be positive"));
    }
    Ok(())
}

/// Sets the poverty line of a year, replacing any earlier one: exits of that
/// year compare a household's per-capita net income with it.
pub async fn set_poverty_line(
    db: &DatabaseConnection,
    actor: &Actor,
    year: i32,
    annual: Money,
) -> ApiResult<poverty_line::Model> {
    check_line(year, annual)?;
    let txn = write::begin(db).await?;
    let before = write::one_locked(&txn, poverty_line::Entity::find_by_id(year)).await?;
    let line = poverty_line::ActiveModel {
        year: Set(year),
        annual_fen: Set(annual.0),
    };
    let after = match &before {
        Some(_) => line.update(&txn).await?,
        None => line.insert(&txn).await?,
    };
    let snapshot = |l: &poverty_line::Model| json!({ "year": l.year, "annual": Money(l.annual_fen).to_string() });
    let change = Change {
        action: "povertyLine.set",
        entity_type: "PovertyLine",
        entity_id: i64::from(year),
        before: before.as_ref().map(snapshot),
        after: Some(snapshot(&after)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// A province code as given, trimmed: two digits.
fn province(code: &str) -> ApiResult<&str> {
    let code = code.trim();
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_input(
            "provinceCode",
            "a province code is two digits, e.g. \"52\"",
        ));
    }
    Ok(code)
}

/// Audits the setting of a line keyed by (province, year), given its amount
/// before and after in fen; the entry's ID reads as both, e.g. 522024.
async fn record_province_line(
    txn: &DatabaseTransaction,
    actor: &Actor,
    (action, entity_type): (&str, &str),
    (code, year): (&str, i32),
    (before, after): (Option<i64>, i64),
) -> ApiResult<()> {
    let snapshot =
        |fen: i64| json!({ "provinceCode": code, "year": year, "annual": Money(fen).to_string() });
    let change = Change {
        action,
        entity_type,
        entity_id: i64::from(year) + 10_000 * code.parse::<i64>().unwrap_or_default(),
        before: before.map(snapshot),
        after: Some(snapshot(after)),
    };
    audit::record(txn, actor, change).await
}

/// Sets a province's own poverty line for a year, replacing any earlier one.
/// It is at least the national line of that year, where one is set: a
/// province raises the standard, it never lowers it.
pub async fn set_provincial_poverty_line(
    db: &DatabaseConnection,
    actor: &Actor,
    province_code: &str,
    year: i32,
    annual: Money,
) -> ApiResult<provincial_poverty_line::Model> {
    let code = province(province_code)?;
    check_line(year, annual)?;
    let txn = write::begin(db).await?;
    if let Some(national) = poverty_line::Entity::find_by_id(year).one(&txn).await?
        && annual.0 < national.annual_fen
    {
        return Err(ApiError::bad_input(
            "annual",
            format!(
                "a provincial line is at least the national line of {year}, {} yuan",
                Money(national.annual_fen)
            ),
        ));
    }
    let key = (code.to_owned(), year);
    let before = write::one_locked(&txn, provincial_poverty_line::Entity::find_by_id(key)).await?;
    let line = provincial_poverty_line::ActiveModel {
        province_code: Set(code.to_owned()),
        year: Set(year),
        annual_fen: Set(annual.0),
    };
    let after = match &before {
        Some(_) => line.update(&txn).await?,
        None => line.insert(&txn).await?,
    };
    record_province_line(
        &txn,
        actor,
        ("provincialPovertyLine.set", "ProvincialPovertyLine"),
        (code, year),
        (before.map(|l| l.annual_fen), after.annual_fen),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// The line a household's exit in `year` is measured against, in fen, and
/// whether it is its province's own: the provincial line for a household
/// identified under the provincial standard where the province set one for
/// that year, else the national line. None when neither is set.
pub async fn exit_line(
    db: &impl ConnectionTrait,
    home: &household::Model,
    year: i32,
) -> ApiResult<Option<(i64, bool)>> {
    if home.standard == IdentificationStandard::Provincial
        && let Some(village) = region::Entity::find_by_id(home.village_id).one(db).await?
    {
        let key = (village.code[..2].to_owned(), year);
        if let Some(line) = provincial_poverty_line::Entity::find_by_id(key)
            .one(db)
            .await?
        {
            return Ok(Some((line.annual_fen, true)));
        }
    }
    let national = poverty_line::Entity::find_by_id(year).one(db).await?;
    Ok(national.map(|l| (l.annual_fen, false)))
}

/// Sets a province's monitoring line for a year, replacing any earlier one.
pub async fn set_monitoring_line(
    db: &DatabaseConnection,
    actor: &Actor,
    province_code: &str,
    year: i32,
    annual: Money,
) -> ApiResult<monitoring_line::Model> {
    let code = province(province_code)?;
    check_line(year, annual)?;
    let txn = write::begin(db).await?;
    let before = write::one_locked(
        &txn,
        monitoring_line::Entity::find_by_id((code.to_owned(), year)),
    )
    .await?;
    let line = monitoring_line::ActiveModel {
        province_code: Set(code.to_owned()),
        year: Set(year),
        annual_fen: Set(annual.0),
    };
    let after = match &before {
        Some(_) => line.update(&txn).await?,
        None => line.insert(&txn).await?,
    };
    record_province_line(
        &txn,
        actor,
        ("monitoringLine.set", "MonitoringLine"),
        (code, year),
        (before.map(|l| l.annual_fen), after.annual_fen),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}
