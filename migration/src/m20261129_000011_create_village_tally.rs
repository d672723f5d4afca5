//! The household figures of each village, kept by the database itself
//! (`village_tally`, `village_tally_change`): triggers on households, members
//! and incomes append what each write changes, in the writing transaction,
//! whoever writes. A county's statistics then read a few rows per village
//! instead of counting a million households and their members.
//!
//! Each trigger states its change as the figures of the rows after the write
//! minus those of the rows before it, through [`figures_of_households`],
//! [`figures_of_members`] and [`figures_of_incomes`]; the same statements,
//! over whole tables, fill the tally of an existing register.

use crate::columns::{enum_col, exec};
use entity::enums::{HouseholdStatus, StatusAction, TallyFigure};
use entity::{village_tally, village_tally_change};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ActiveEnum, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The statuses whose households count for causes, attributes and income.
fn registered() -> String {
    let values: Vec<String> = [
        HouseholdStatus::Enrolled,
        HouseholdStatus::LiftedOut,
        HouseholdStatus::Returned,
    ]
    .iter()
    .map(|s| format!("'{}'", s.to_value()))
    .collect();
    format!("({})", values.join(", "))
}

/// One figure per row of `from`: `SELECT ... AS village_id, year, figure, item, amount`.
fn select(
    village: &str,
    year: &str,
    f: TallyFigure,
    item: &str,
    amount: &str,
    from: &str,
) -> String {
    format!(
        "SELECT {village} AS village_id, {year} AS year, '{}' AS figure, {item} AS item, \
         {amount} AS amount FROM {from}",
        f.to_value()
    )
}

/// How a trigger's SQL is written. The first version (this migration)
/// computes income figures row by row and locks every household a write's
/// rows belong to; migration 18 rewrites the PostgreSQL functions with
/// [`Variant::SUMMED`], which a bulk load of a million households needed;
/// migration 19 keeps the returns of each year too ([`Variant::returns`]).
#[derive(Clone, Copy)]
pub(crate) struct Variant {
    /// Income rows are summed per village and year before they become one
    /// row per figure, instead of one row per record and figure.
    pub summed_incomes: bool,
    /// Households this transaction wrote itself are not locked again: no
    /// other transaction can change them before it ends.
    pub skip_own_households: bool,
    /// Whether households that returned to poverty are counted per year,
    /// with the county year of a status change's time in this backend's SQL.
    pub returns: Option<fn(&str) -> String>,
}

impl Variant {
    pub const FIRST: Variant = Variant {
        summed_incomes: false,
        skip_own_households: false,
        returns: None,
    };
    pub const SUMMED: Variant = Variant {
        summed_incomes: true,
        skip_own_households: true,
        returns: None,
    };

    /// [`Variant::SUMMED`] (on SQLite, whose writes are serialised and whose
    /// triggers are row by row, the first) keeping returns.
    pub fn returns(postgres: bool) -> Variant {
        if postgres {
            Variant {
                returns: Some(postgres_year),
                ..Variant::SUMMED
            }
        } else {
            Variant {
                returns: Some(sqlite_year),
                ..Variant::FIRST
            }
        }
    }
}

/// The year in the county (UTC+8) of the instant `at`, as the statistics
/// count a year.
fn postgres_year(at: &str) -> String {
    format!("CAST(EXTRACT(YEAR FROM ({at} AT TIME ZONE 'UTC') + INTERVAL '8 hours') AS INTEGER)")
}

/// SQLite keeps an instant as UTC text; its fraction of a second is cut off,
/// not rounded, so that the last instant of a year stays in it.
fn sqlite_year(at: &str) -> String {
    format!("CAST(strftime('%Y', substr({at}, 1, 19), '+8 hours') AS INTEGER)")
}

/// The income figures of income rows `i` of households `h` joined by `from`,
/// times `sign`: each record of a registered household adds its year's
/// figures.
fn income_figures(from: &str, sign: i64, variant: Variant) -> String {
    let net =
        "i.wage_fen + i.production_fen + i.property_fen + i.transfer_fen - i.production_cost_fen";
    let figures: Vec<(TallyFigure, &str)> = vec![
        (TallyFigure::IncomeHouseholds, "1"),
        (TallyFigure::IncomePeople, "i.household_size"),
        (TallyFigure::IncomeNet, net),
        (TallyFigure::IncomeWage, "i.wage_fen"),
        (TallyFigure::IncomeProduction, "i.production_fen"),
        (TallyFigure::IncomeProperty, "i.property_fen"),
        (TallyFigure::IncomeTransfer, "i.transfer_fen"),
    ];
    let names: Vec<String> = figures
        .iter()
        .map(|(f, _)| format!("SELECT '{}' AS figure", f.to_value()))
        .collect();
    let names = names.join(" UNION ALL ");
    if !variant.summed_incomes {
        // Joined once, then each record gives one row per figure.
        let amounts: Vec<String> = figures
            .iter()
            .map(|(f, amount)| format!("WHEN '{}' THEN {amount}", f.to_value()))
            .collect();
        return format!(
            "SELECT h.village_id AS village_id, i.year AS year, f.figure AS figure, '' AS item, \
             {sign} * CASE f.figure {} END AS amount \
             FROM {from} CROSS JOIN ({names}) f WHERE h.status IN {}",
            amounts.join(" "),
            registered()
        );
    }
    // Summed per village and year first: a few rows per village, whatever the write's size.
    let sums: Vec<String> = figures
        .iter()
        .enumerate()
        .map(|(n, (_, amount))| format!("SUM({amount}) AS f{n}"))
        .collect();
    let amounts: Vec<String> = figures
        .iter()
        .enumerate()
        .map(|(n, (f, _))| format!("WHEN '{}' THEN s.f{n}", f.to_value()))
        .collect();
    format!(
        "SELECT s.village_id AS village_id, s.year AS year, f.figure AS figure, '' AS item, \
         {sign} * CASE f.figure {} END AS amount \
         FROM (SELECT h.village_id AS village_id, i.year AS year, {} FROM {from} \
         WHERE h.status IN {} GROUP BY h.village_id, i.year) s CROSS JOIN ({names}) f",
        amounts.join(" "),
        sums.join(", "),
        registered()
    )
}

/// Every figure of the households in `rows` (a table or a row set with the
/// household's columns), times `sign`.
fn figures_of_households(rows: &str, sign: i64, variant: Variant) -> String {
    let registered = format!("{rows} h WHERE h.status IN {}", registered());
    let sign_text = sign.to_string();
    let mut parts = vec![
        select(
            "h.village_id",
            "0",
            TallyFigure::Households,
            "h.status",
            &sign_text,
            &format!("{rows} h"),
        ),
        select(
            "h.village_id",
            "0",
            TallyFigure::People,
            "h.status",
            &format!("{sign} * COUNT(m.id)"),
            &format!(
                "{rows} h JOIN member m ON m.household_id = h.id AND m.is_active = TRUE \
                 GROUP BY h.village_id, h.status"
            ),
        ),
        select(
            "h.village_id",
            "0",
            TallyFigure::Cause,
            "h.main_cause",
            &sign_text,
            &registered,
        ),
        select(
            "h.village_id",
            "0",
            TallyFigure::Attribute,
            "h.attribute",
            &sign_text,
            &registered,
        ),
        select(
            "h.village_id",
            "h.lifted_out_year",
            TallyFigure::Exits,
            "''",
            &sign_text,
            &format!("{rows} h WHERE h.lifted_out_year IS NOT NULL"),
        ),
    ];
    parts.push(income_figures(
        &format!("{rows} h JOIN household_income i ON i.household_id = h.id"),
        sign,
        variant,
    ));
    if let Some(year_of) = variant.returns {
        // A household counts once in each year it returned in.
        let year = year_of("s.at");
        parts.push(select(
            "h.village_id",
            &year,
            TallyFigure::Returns,
            "''",
            &format!("{sign} * COUNT(DISTINCT h.id)"),
            &format!(
                "{rows} h JOIN status_change s ON s.household_id = h.id \
                 WHERE s.action = '{}' GROUP BY h.village_id, {year}",
                StatusAction::Returned.to_value()
            ),
        ));
    }
    parts.join(" UNION ALL ")
}

/// The returns the status changes in `rows` add, times `sign`: a change
/// counts when it is its household's first return of its year (by id, which
/// grows as changes are appended), so a household counts once a year.
fn figures_of_status_changes(rows: &str, sign: i64, variant: Variant) -> String {
    let Some(year_of) = variant.returns else {
        return "SELECT 0 AS village_id, 0 AS year, '' AS figure, '' AS item, 0 AS amount \
                WHERE 1 = 0"
            .to_owned();
    };
    let returned = StatusAction::Returned.to_value();
    select(
        "h.village_id",
        &year_of("s.at"),
        TallyFigure::Returns,
        "''",
        &sign.to_string(),
        &format!(
            "{rows} s JOIN household h ON h.id = s.household_id \
             WHERE s.action = '{returned}' AND NOT EXISTS (SELECT 1 FROM status_change o \
             WHERE o.household_id = s.household_id AND o.action = '{returned}' \
             AND o.id < s.id AND {} = {})",
            year_of("o.at"),
            year_of("s.at")
        ),
    )
}

/// The people the members in `rows` add to their households' figures, times `sign`.
fn figures_of_members(rows: &str, sign: i64, _: Variant) -> String {
    select(
        "h.village_id",
        "0",
        TallyFigure::People,
        "h.status",
        &sign.to_string(),
        &format!("{rows} m JOIN household h ON h.id = m.household_id WHERE m.is_active = TRUE"),
    )
}

/// The income figures the records in `rows` add, times `sign`.
fn figures_of_incomes(rows: &str, sign: i64, variant: Variant) -> String {
    income_figures(
        &format!("{rows} i JOIN household h ON h.id = i.household_id"),
        sign,
        variant,
    )
}

/// A table whose writes change the figures.
pub(crate) struct Tracked {
    pub table: &'static str,
    /// The columns the figures read: a write that changes none of them changes nothing.
    columns: &'static [&'static str],
    pub figures: fn(&str, i64, Variant) -> String,
    /// Whether its rows belong to a household, whose row a change must lock
    /// (so that a concurrent change of the household sees it, or it sees that).
    of_household: bool,
}

pub(crate) const TRACKED: [Tracked; 3] = [
    Tracked {
        table: "household",
        columns: &[
            "id",
            "village_id",
            "status",
            "main_cause",
            "attribute",
            "lifted_out_year",
        ],
        figures: figures_of_households,
        of_household: false,
    },
    Tracked {
        table: "member",
        columns: &["id", "household_id", "is_active"],
        figures: figures_of_members,
        of_household: true,
    },
    Tracked {
        table: "household_income",
        columns: &[
            "household_id",
            "year",
            "wage_fen",
            "production_fen",
            "property_fen",
            "transfer_fen",
            "production_cost_fen",
            "household_size",
        ],
        figures: figures_of_incomes,
        of_household: true,
    },
];

/// The history of statuses, whose returns are counted from migration 19 on.
/// It is append-only, but a trigger for each event is written all the same.
pub(crate) const STATUS_CHANGES: Tracked = Tracked {
    table: "status_change",
    columns: &["id", "household_id", "action", "at"],
    figures: figures_of_status_changes,
    of_household: true,
};

/// Appends to `table` the difference of `before` and `after` (figure
/// statements or nothing), leaving out figures that did not move.
pub(crate) fn append(table: &str, before: Option<String>, after: Option<String>) -> String {
    let parts: Vec<String> = before.into_iter().chain(after).collect();
    format!(
        "INSERT INTO {table} (village_id, year, figure, item, amount) \
         SELECT village_id, year, figure, item, CAST(SUM(amount) AS BIGINT) FROM ({}) d \
         GROUP BY village_id, year, figure, item HAVING SUM(amount) <> 0",
        parts.join(" UNION ALL ")
    )
}

/// On PostgreSQL, one statement-level trigger per event over its transition
/// tables, so that a bulk write costs one set-based statement. A write's rows
/// are few beside the tables they join: the functions look them up by index
/// (no hash or merge joins over whole tables, which stale statistics during a
/// bulk load would pick) and skip JIT compilation, which costs seconds for
/// statements that run in milliseconds.
/// With `replace`, only the functions are written again, over those in place.
pub(crate) async fn postgres_triggers(
    manager: &SchemaManager<'_>,
    t: &Tracked,
    variant: Variant,
    replace: bool,
) -> Result<(), DbErr> {
    let table = t.table;
    for (event, referencing, before, after) in [
        ("INSERT", "NEW TABLE AS new_rows", None, Some("new_rows")),
        ("DELETE", "OLD TABLE AS old_rows", Some("old_rows"), None),
        (
            "UPDATE",
            "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            Some("old_rows"),
            Some("new_rows"),
        ),
    ] {
        let lock = if t.of_household {
            let ids: Vec<String> = before
                .iter()
                .chain(after.iter())
                .map(|rows| format!("SELECT household_id FROM {rows}"))
                .collect();
            let others = if variant.skip_own_households {
                " AND xmin <> pg_current_xact_id()::text::xid"
            } else {
                ""
            };
            format!(
                "PERFORM 1 FROM household WHERE id IN ({}){others} ORDER BY id FOR SHARE;",
                ids.join(" UNION ")
            )
        } else {
            String::new()
        };
        let change = append(
            "village_tally_change",
            before.map(|rows| (t.figures)(rows, -1, variant)),
            after.map(|rows| (t.figures)(rows, 1, variant)),
        );
        let name = format!("{table}_tally_{}", event.to_lowercase());
        exec(
            manager,
            &format!(
                "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ \
                 BEGIN {lock} {change}; RETURN NULL; END; $$ LANGUAGE plpgsql \
                 SET jit = off SET enable_hashjoin = off SET enable_mergejoin = off"
            ),
        )
        .await?;
        if replace {
            continue;
        }
        exec(
            manager,
            &format!(
                "CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {referencing} \
                 FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            ),
        )
        .await?;
    }
    Ok(())
}

/// On SQLite, row-level triggers over the row before and after, written as a
/// one-row set; writes there are serialised, so nothing needs a lock.
pub(crate) async fn sqlite_triggers(
    manager: &SchemaManager<'_>,
    t: &Tracked,
    variant: Variant,
) -> Result<(), DbErr> {
    let table = t.table;
    let row = |which: &str| {
        let columns: Vec<String> = t
            .columns
            .iter()
            .map(|c| format!("{which}.{c} AS {c}"))
            .collect();
        format!("(SELECT {})", columns.join(", "))
    };
    let changed: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("OLD.{c} IS NOT NEW.{c}"))
        .collect();
    for (event, when, before, after) in [
        ("INSERT".to_owned(), String::new(), None, Some(row("NEW"))),
        ("DELETE".to_owned(), String::new(), Some(row("OLD")), None),
        (
            format!("UPDATE OF {}", t.columns.join(", ")),
            format!("WHEN {}", changed.join(" OR ")),
            Some(row("OLD")),
            Some(row("NEW")),
        ),
    ] {
        let change = append(
            "village_tally_change",
            before.map(|rows| (t.figures)(&rows, -1, variant)),
            after.map(|rows| (t.figures)(&rows, 1, variant)),
        );
        let name = format!(
            "{table}_tally_{}",
            event.split(' ').next().unwrap_or_default().to_lowercase()
        );
        exec(
            manager,
            &format!("CREATE TRIGGER {name} AFTER {event} ON {table} {when} BEGIN {change}; END"),
        )
        .await?;
    }
    Ok(())
}

/// Drops the tally triggers of `tracked` (and, on PostgreSQL, their functions).
pub(crate) async fn drop_triggers(
    manager: &SchemaManager<'_>,
    tracked: &Tracked,
) -> Result<(), DbErr> {
    let postgres = manager.get_database_backend() == DbBackend::Postgres;
    for event in ["insert", "delete", "update"] {
        let name = format!("{}_tally_{event}", tracked.table);
        if postgres {
            exec(
                manager,
                &format!("DROP TRIGGER {name} ON {}", tracked.table),
            )
            .await?;
            exec(manager, &format!("DROP FUNCTION {name}()")).await?;
        } else {
            exec(manager, &format!("DROP TRIGGER {name}")).await?;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use village_tally::Column as T;
        manager
            .create_table(
                Table::create()
                    .table(village_tally::Entity)
                    .col(big_integer(T::VillageId))
                    .col(integer(T::Year))
                    .col(enum_col::<TallyFigure>(T::Figure))
                    .col(string_len(T::Item, 32))
                    .col(big_integer(T::Amount))
                    .primary_key(
                        Index::create()
                            .col(T::VillageId)
                            .col(T::Year)
                            .col(T::Figure)
                            .col(T::Item),
                    )
                    .take(),
            )
            .await?;
        use village_tally_change::Column as C;
        manager
            .create_table(
                Table::create()
                    .table(village_tally_change::Entity)
                    .col(big_pk_auto(C::Id))
                    .col(big_integer(C::VillageId))
                    .col(integer(C::Year))
                    .col(enum_col::<TallyFigure>(C::Figure))
                    .col(string_len(C::Item, 32))
                    .col(big_integer(C::Amount))
                    .take(),
            )
            .await?;
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        for tracked in &TRACKED {
            if postgres {
                postgres_triggers(manager, tracked, Variant::FIRST, false).await?;
            } else {
                sqlite_triggers(manager, tracked, Variant::FIRST).await?;
            }
        }
        // The register already written: its figures, as the triggers would have kept them.
        exec(
            manager,
            &append(
                "village_tally",
                None,
                Some(figures_of_households("household", 1, Variant::FIRST)),
            ),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for tracked in &TRACKED {
            drop_triggers(manager, tracked).await?;
        }
        for table in [
            village_tally_change::Entity.into_iden(),
            village_tally::Entity.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
