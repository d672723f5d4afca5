//! The household figures the database keeps per village (`village_tally`,
//! see migration 11): reading them for the villages of a region, and folding
//! the changes the triggers append into the tally. A figure is always its
//! tally row plus its pending changes, so reading never waits for compaction,
//! and compaction, which any replica may run at any time, changes no figure.

use std::collections::HashMap;
use std::time::Duration;

use entity::enums::TallyFigure;
use entity::{village_tally, village_tally_change};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, UnionType};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};

use crate::access;
use crate::error::ApiResult;

/// One figure of one village: its item (a status, cause or attribute; empty
/// when the figure has none) and amount.
pub struct Tallied {
    pub village: i64,
    pub figure: TallyFigure,
    pub item: String,
    pub amount: i64,
}

fn rows_of<E: sea_orm::EntityTrait>(table: E, prefix: &str, year: i32) -> SelectStatement {
    use village_tally::Column as T;
    Query::select()
        .columns([T::VillageId, T::Figure, T::Item, T::Amount])
        .from(table)
        .and_where(Expr::col(T::VillageId).in_subquery(access::villages_under(prefix)))
        .and_where(Expr::col(T::Year).is_in([0, year]))
        .to_owned()
}

/// The figures of each village under `prefix` that are about the register as
/// it stands, or about `year`: the tally's rows as they are (no grouping of a
/// county's hundred thousand rows in the database), plus the few pending
/// changes, in one statement, so that a compaction committing meanwhile is
/// seen either wholly or not at all.
pub async fn read(db: &impl ConnectionTrait, prefix: &str, year: i32) -> ApiResult<Vec<Tallied>> {
    use village_tally::Column as T;
    let pending = rows_of(village_tally_change::Entity, prefix, year)
        .clear_selects()
        .columns([T::VillageId, T::Figure, T::Item])
        .expr_as(
            Expr::cust("CAST(SUM(\"amount\") AS BIGINT)"),
            Alias::new("amount"),
        )
        .group_by_columns([T::VillageId, T::Figure, T::Item])
        .to_owned();
    let query = rows_of(village_tally::Entity, prefix, year)
        .union(UnionType::All, pending)
        .to_owned();
    let mut figures: HashMap<(i64, TallyFigure, String), i64> = HashMap::new();
    for row in db.query_all(&query).await? {
        let key = (
            row.try_get("", "village_id")?,
            row.try_get("", "figure")?,
            row.try_get("", "item")?,
        );
        *figures.entry(key).or_default() += row.try_get::<i64>("", "amount")?;
    }
    Ok(figures
        .into_iter()
        .map(|((village, figure, item), amount)| Tallied {
            village,
            figure,
            item,
            amount,
        })
        .collect())
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
    }
    txn.commit().await?;
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
