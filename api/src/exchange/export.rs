//! Export of a region's register (登记册导出), a batch of households at a time
//! from one read-only snapshot, so memory stays bounded whatever the size and
//! the file is the register as it stood at one moment.

use std::collections::HashMap;

use entity::enums::RegionLevel;
use entity::{
    household, household_cause, household_income, measure, member, region, status_change,
};
use sea_orm::{
    AccessMode, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    EntityTrait, IsolationLevel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    TransactionTrait,
};
use tokio::sync::mpsc;

use super::Format;
use super::csv;
use crate::access::{self, Viewer};
use crate::domain::household::record::{Card, HouseholdRecord};
use crate::error::{ApiError, ApiResult};

/// Households read and written per batch.
const BATCH: u64 = 500;

/// A piece of the file, and how many households it completes.
pub struct Chunk {
    pub bytes: Vec<u8>,
    pub households: u64,
}

/// The households of the register `viewer` reaches under the region with
/// `region_code` (the whole of their reach without one).
pub async fn households(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    region_code: Option<&str>,
) -> ApiResult<Select<household::Entity>> {
    let select = access::select::<household::Entity>(viewer);
    let Some(code) = region_code else {
        return Ok(select);
    };
    let region = access::select::<region::Entity>(viewer)
        .filter(region::Column::Code.eq(code))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::bad_input("region", format!("no region {code} in your reach")))?;
    Ok(select.filter(
        household::Column::VillageId
            .in_subquery(access::villages_under(access::code_prefix(&region))),
    ))
}

/// How many households an export of `select` holds (for a progress bar).
pub async fn count(db: &DatabaseConnection, select: Select<household::Entity>) -> ApiResult<u64> {
    Ok(select.count(db).await?)
}

/// Writes the households of `select` to `out` in `format`, oldest first. Stops
/// quietly when the receiver goes away (a client that hung up).
pub async fn run(
    db: &DatabaseConnection,
    select: Select<household::Entity>,
    format: Format,
    out: mpsc::Sender<ApiResult<Chunk>>,
) {
    if let Err(err) = write_all(db, select, format, &out).await {
        let _ = out.send(Err(err)).await;
    }
}

async fn write_all(
    db: &DatabaseConnection,
    select: Select<household::Entity>,
    format: Format,
    out: &mpsc::Sender<ApiResult<Chunk>>,
) -> ApiResult<()> {
    let txn = snapshot(db).await?;
    let villages: HashMap<i64, String> = region::Entity::find()
        .filter(region::Column::Level.eq(RegionLevel::Village))
        .all(&txn)
        .await?
        .into_iter()
        .map(|v| (v.id, v.code))
        .collect();
    if format == Format::Csv {
        let header = csv::header().await?;
        if out
            .send(Ok(Chunk {
                bytes: header,
                households: 0,
            }))
            .await
            .is_err()
        {
            return Ok(());
        }
    }
    let mut after = 0;
    loop {
        let batch = select
            .clone()
            .filter(household::Column::Id.gt(after))
            .order_by_asc(household::Column::Id)
            .limit(BATCH)
            .all(&txn)
            .await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        let households = batch.len() as u64;
        let mut bytes = Vec::new();
        for card in cards(&txn, batch, &villages).await? {
            let record = HouseholdRecord::from(&card);
            match format {
                Format::Ndjson => {
                    serde_json::to_writer(&mut bytes, &record).map_err(|e| {
                        ApiError::Internal(format!("writing household {}: {e}", record.number))
                    })?;
                    bytes.push(b'\n');
                }
                Format::Csv => bytes.extend(csv::rows(&record).await?),
            }
        }
        if out.send(Ok(Chunk { bytes, households })).await.is_err() {
            return Ok(());
        }
    }
    txn.commit().await?;
    Ok(())
}

/// A read-only transaction that sees one moment of the register throughout
/// (SQLite's read transactions do so by themselves).
async fn snapshot(db: &DatabaseConnection) -> ApiResult<DatabaseTransaction> {
    Ok(if db.get_database_backend() == DbBackend::Postgres {
        db.begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await?
    } else {
        db.begin().await?
    })
}

/// The cards of `batch`, in its order, with five statements whatever its size.
pub async fn cards(
    db: &impl ConnectionTrait,
    batch: Vec<household::Model>,
    village_codes: &HashMap<i64, String>,
) -> ApiResult<Vec<Card>> {
    let ids: Vec<i64> = batch.iter().map(|h| h.id).collect();
    let mut causes = group(
        household_cause::Entity::find()
            .filter(household_cause::Column::HouseholdId.is_in(ids.clone()))
            .order_by_asc(household_cause::Column::Cause)
            .all(db)
            .await?,
        |c| c.household_id,
    );
    let mut members = group(
        member::Entity::find()
            .filter(member::Column::HouseholdId.is_in(ids.clone()))
            .order_by_asc(member::Column::Id)
            .all(db)
            .await?,
        |m| m.household_id,
    );
    let mut incomes = group(
        household_income::Entity::find()
            .filter(household_income::Column::HouseholdId.is_in(ids.clone()))
            .order_by_asc(household_income::Column::Year)
            .all(db)
            .await?,
        |i| i.household_id,
    );
    let mut history = group(
        status_change::Entity::find()
            .filter(status_change::Column::HouseholdId.is_in(ids.clone()))
            .order_by_asc(status_change::Column::At)
            .order_by_asc(status_change::Column::Id)
            .all(db)
            .await?,
        |s| s.household_id,
    );
    let mut plans = group(
        measure::Entity::find()
            .filter(measure::Column::HouseholdId.is_in(ids))
            .order_by_asc(measure::Column::Id)
            .all(db)
            .await?,
        |m| m.household_id,
    );
    batch
        .into_iter()
        .map(|household| {
            let id = household.id;
            let village_code = village_codes
                .get(&household.village_id)
                .cloned()
                .ok_or_else(|| {
                    ApiError::Internal(format!("household {} has no village", household.number))
                })?;
            Ok(Card {
                household,
                village_code,
                other_causes: causes
                    .remove(&id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| c.cause)
                    .collect(),
                members: members.remove(&id).unwrap_or_default(),
                incomes: incomes.remove(&id).unwrap_or_default(),
                history: history.remove(&id).unwrap_or_default(),
                plan: plans.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}

fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> i64) -> HashMap<i64, Vec<T>> {
    let mut groups: HashMap<i64, Vec<T>> = HashMap::new();
    for row in rows {
        groups.entry(key(&row)).or_default().push(row);
    }
    groups
}
