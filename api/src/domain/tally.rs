//! The household figures the database keeps per village (`village_tally`,
//! see migration 11): reading them for the villages of a region, and folding
//! the changes the triggers append into the tally. A figure is always its
//! tally row plus its pending changes, so reading never waits for compaction,
//! and compaction, which any replica may run at any time, changes no figure.
//!
//! The folded rows change only when a compaction folds changes, which moves
//! the tally's generation on in the same transaction (migration 17): a
//! reader keeps what the folded rows of a generation made ([`Folded`]: the
//! statistics keep each village's figures) and reads only the generation and
//! the pending changes as long as it stays the same.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entity::enums::{HouseholdAttribute, HouseholdStatus, PovertyCause, TallyFigure};
use entity::{village_tally, village_tally_change};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{
    ActiveEnum, ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement,
    TransactionTrait,
};

use crate::access;
use crate::error::{ApiError, ApiResult};

/// Households still registered as poor or lifted out: those the figures of
/// causes, attributes, income, plans and pairing are about.
pub const REGISTERED: [HouseholdStatus; 3] = [
    HouseholdStatus::Enrolled,
    HouseholdStatus::LiftedOut,
    HouseholdStatus::Returned,
];

/// Households counted as poor for the poverty incidence: not yet lifted out, or returned.
pub const POOR: [HouseholdStatus; 2] = [HouseholdStatus::Enrolled, HouseholdStatus::Returned];

/// A figure the tally keeps, with its item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    Households(HouseholdStatus),
    People(HouseholdStatus),
    Cause(PovertyCause),
    Attribute(HouseholdAttribute),
    Exits,
    Returns,
    IncomeHouseholds,
    IncomePeople,
    IncomeNet,
    IncomeWage,
    IncomeProduction,
    IncomeProperty,
    IncomeTransfer,
}

impl Figure {
    fn parse(figure: TallyFigure, item: &str) -> ApiResult<Figure> {
        fn of<E: ActiveEnum<Value = String>>(item: &str) -> ApiResult<E> {
            E::try_from_value(&item.to_owned())
                .map_err(|e| ApiError::Internal(format!("tally item `{item}`: {e}")))
        }
        Ok(match figure {
            TallyFigure::Households => Figure::Households(of(item)?),
            TallyFigure::People => Figure::People(of(item)?),
            TallyFigure::Cause => Figure::Cause(of(item)?),
            TallyFigure::Attribute => Figure::Attribute(of(item)?),
            TallyFigure::Exits => Figure::Exits,
            TallyFigure::Returns => Figure::Returns,
            TallyFigure::IncomeHouseholds => Figure::IncomeHouseholds,
            TallyFigure::IncomePeople => Figure::IncomePeople,
            TallyFigure::IncomeNet => Figure::IncomeNet,
            TallyFigure::IncomeWage => Figure::IncomeWage,
            TallyFigure::IncomeProduction => Figure::IncomeProduction,
            TallyFigure::IncomeProperty => Figure::IncomeProperty,
            TallyFigure::IncomeTransfer => Figure::IncomeTransfer,
        })
    }
}

/// One figure of one village, or a part of it: a figure is the sum of its
/// tally row and its pending changes.
#[derive(Debug, Clone, Copy)]
pub struct Tallied {
    pub village: i64,
    pub figure: Figure,
    pub amount: i64,
}

/// What this replica made of the folded rows of the tally it read last, by
/// year (with the figures of the register as it stands), with the generation
/// they are of. It only repeats the database: a read checks the generation
/// first. Keeping what the rows fold into, not the rows, spares every request
/// the folding of a county's hundred thousand rows.
pub struct Folded<T>(Mutex<HashMap<i32, Generation<T>>>);

/// A generation of the tally and what its folded rows of one year made.
type Generation<T> = (i64, Arc<T>);

impl<T> Default for Folded<T> {
    fn default() -> Self {
        Folded(Mutex::default())
    }
}

impl<T> Folded<T> {
    fn get(&self, year: i32, generation: i64) -> Option<Arc<T>> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        kept.get(&year)
            .filter(|(g, _)| *g == generation)
            .map(|(_, made)| made.clone())
    }

    fn put(&self, year: i32, generation: i64, made: Arc<T>) {
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // What an older generation made will not be read again.
        kept.retain(|_, (g, _)| *g >= generation);
        if kept.get(&year).is_none_or(|(g, _)| *g <= generation) {
            kept.insert(year, (generation, made));
        }
    }
}

const GENERATION: &str = "village_tally_generation";

/// `SELECT generation, village_id, figure, item, amount` of `rows`, joined to
/// the generation so that both come from one snapshot and an empty `rows`
/// still gives the generation.
fn with_generation(rows: SelectStatement) -> SelectStatement {
    use village_tally::Column as T;
    let (generation, r) = (Alias::new(GENERATION), Alias::new("r"));
    Query::select()
        .column((generation.clone(), Alias::new("generation")))
        .columns([T::VillageId, T::Figure, T::Item, T::Amount].map(|c| (r.clone(), c)))
        .from(generation)
        .join_subquery(JoinType::LeftJoin, rows, r, Expr::val(1).eq(1))
        .to_owned()
}

/// The generation, and the figures of the rows (none when `rows` had none).
async fn read_rows(
    db: &impl ConnectionTrait,
    rows: SelectStatement,
) -> ApiResult<(i64, Vec<Tallied>)> {
    let mut generation = None;
    let mut figures = Vec::new();
    for row in db.query_all(&with_generation(rows)).await? {
        generation = Some(row.try_get::<i64>("", "generation")?);
        if let Some(tallied) = tallied(&row)? {
            figures.push(tallied);
        }
    }
    let generation =
        generation.ok_or_else(|| ApiError::Internal("the tally has no generation".to_owned()))?;
    Ok((generation, figures))
}

/// The figure of a row with `village_id`, `figure`, `item` and `amount`, if any.
pub(super) fn tallied(row: &QueryResult) -> ApiResult<Option<Tallied>> {
    let Some(village) = row.try_get::<Option<i64>>("", "village_id")? else {
        return Ok(None);
    };
    let figure: TallyFigure = row.try_get("", "figure")?;
    let item: String = row.try_get("", "item")?;
    Ok(Some(Tallied {
        village,
        figure: Figure::parse(figure, &item)?,
        amount: row.try_get("", "amount")?,
    }))
}

/// The figures about the register as it stands and about `year`: the
/// folded rows of every village as `fold` made them, and the pending changes
/// of the villages under `prefix`. The generation and the few pending changes
/// come in one statement; what the folded rows of that generation made is
/// kept, or they are read again (a compaction in between means reading once
/// more).
pub async fn read<Made>(
    db: &impl ConnectionTrait,
    folded: &Folded<Made>,
    prefix: &str,
    year: i32,
    fold: impl Fn(Vec<Tallied>) -> Made,
) -> ApiResult<(Arc<Made>, Vec<Tallied>)> {
    use village_tally::Column as T;
    loop {
        let pending = Query::select()
            .columns([T::VillageId, T::Figure, T::Item])
            .expr_as(
                Expr::cust("CAST(SUM(\"amount\") AS BIGINT)"),
                Alias::new("amount"),
            )
            .from(village_tally_change::Entity)
            .and_where(Expr::col(T::VillageId).in_subquery(access::villages_under(prefix)))
            .and_where(Expr::col(T::Year).is_in([0, year]))
            .group_by_columns([T::VillageId, T::Figure, T::Item])
            .to_owned();
        let (generation, pending) = read_rows(db, pending).await?;
        if let Some(made) = folded.get(year, generation) {
            return Ok((made, pending));
        }
        let rows = Query::select()
            .columns([T::VillageId, T::Figure, T::Item, T::Amount])
            .from(village_tally::Entity)
            .and_where(Expr::col(T::Year).is_in([0, year]))
            .to_owned();
        let (read_at, rows) = read_rows(db, rows).await?;
        let made = Arc::new(fold(rows));
        folded.put(year, read_at, made.clone());
        if read_at == generation {
            return Ok((made, pending));
        }
    }
}

/// Folds every pending change into the tally, in one transaction, and drops
/// figures that came to nothing. Returns the changes folded.
pub async fn compact(db: &DatabaseConnection) -> ApiResult<u64> {
    const FOLD: &str = "INSERT INTO village_tally (village_id, year, figure, item, amount) \
        SELECT village_id, year, figure, item, CAST(SUM(amount) AS BIGINT) FROM {changes} \
        WHERE TRUE GROUP BY village_id, year, figure, item \
        ORDER BY village_id, year, figure, item \
        ON CONFLICT (village_id, year, figure, item) \
        DO UPDATE SET amount = village_tally.amount + excluded.amount";
    let txn = db.begin().await?;
    let folded = if txn.get_database_backend() == DbBackend::Postgres {
        // One statement, one snapshot: a change committed meanwhile is
        // neither folded nor deleted, and waits for the next compaction.
        let sql = format!(
            "WITH moved AS (DELETE FROM village_tally_change \
             RETURNING village_id, year, figure, item, amount), \
             folded AS ({} RETURNING 1) SELECT COUNT(*) AS n FROM moved",
            FOLD.replace("{changes}", "moved")
        );
        let row = txn
            .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await?;
        row.map_or(Ok(0), |row| row.try_get::<i64>("", "n"))?
            .unsigned_abs()
    } else {
        // SQLite lets one writer at a time: both statements see the same changes.
        txn.execute_unprepared(&FOLD.replace("{changes}", "village_tally_change"))
            .await?;
        txn.execute_unprepared("DELETE FROM village_tally_change")
            .await?
            .rows_affected()
    };
    if folded > 0 {
        txn.execute_unprepared("DELETE FROM village_tally WHERE amount = 0")
            .await?;
        txn.execute_unprepared(&format!(
            "UPDATE {GENERATION} SET generation = generation + 1"
        ))
        .await?;
    }
    txn.commit().await?;
    if folded > 0 && db.get_database_backend() == DbBackend::Postgres {
        // The changes' table is emptied over and over: without a vacuum
        // (autovacuum may be off during bulk loads) every read of the pending
        // changes would scan the dead rows of all the changes ever folded.
        db.execute_unprepared("VACUUM village_tally_change").await?;
    }
    Ok(folded)
}

/// Compacts `every` so often for as long as the process serves; a failure is
/// logged and tried again next time.
pub async fn keep_compacting(db: DatabaseConnection, every: Duration) {
    let mut every = tokio::time::interval(every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match compact(&db).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(changes = n, "folded changes into the village tally"),
            Err(err) => tracing::warn!(error = ?err, "cannot fold changes into the village tally"),
        }
    }
}
