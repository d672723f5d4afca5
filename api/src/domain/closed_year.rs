//! Closed years (年度结转): once a year is over, its household figures are
//! those of the register as it stood at the end of the year, frozen, so
//! that last year's poor population and incidence (what the county reported
//! and was assessed on) read the same whatever the register says since.
//!
//! A year closes when first asked for after its end, or, for last year,
//! when every replica's background loop finds it over (seconds after
//! midnight, if the register was in use then): its
//! figures are rebuilt village by village from the status history (where
//! each household stood, its exit and returns) and the card revisions (its
//! village, members, cause, attribute and the year's income), then written
//! once, in one transaction. The same figures the village tally keeps for the
//! current year, with the same meaning (see `tally`), so the statistics read
//! either alike.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use entity::enums::{HouseholdStatus, StatusAction, TallyFigure};
use entity::{
    card_revision, closed_year, closed_year_figure, household, household_income, member,
    status_change,
};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait,
};

use super::calendar;
use super::card::Card;
use super::tally::{self, REGISTERED, Tallied};
use crate::access;
use crate::error::{ApiError, ApiResult};

/// Held while this replica rebuilds a year.
static CLOSING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Households rebuilt at a time: a page's history and revisions are read in
/// a few statements, whatever the county's size.
const PAGE: u64 = 2_000;
/// Figures written a statement.
const WRITE_BATCH: usize = 1_000;

/// Whether `year` is over in the county: its figures are then closed ones.
pub fn is_over(year: i32) -> bool {
    year < calendar::today().year()
}

/// The closed figures of the villages under `prefix` for `year`, which must
/// be over; closes the year first if it is not closed yet.
pub async fn figures<C>(db: &C, prefix: &str, year: i32) -> ApiResult<Vec<Tallied>>
where
    C: ConnectionTrait + TransactionTrait,
{
    close(db, year).await?;
    use closed_year_figure::Column as F;
    let rows = Query::select()
        .columns([F::VillageId, F::Figure, F::Item, F::Amount])
        .from(closed_year_figure::Entity)
        .and_where(Expr::col(F::Year).eq(year))
        .and_where(Expr::col(F::VillageId).in_subquery(access::villages_under(prefix)))
        .to_owned();
    let mut figures = Vec::new();
    for row in db.query_all(&rows).await? {
        figures.extend(tally::tallied(&row)?);
    }
    Ok(figures)
}

/// Closes the year before the current one, if it is not closed and the
/// register was in use when it ended (a household was filed before): what
/// every replica's background loop does, so that the year closes seconds
/// after it ends, as the register then stood. A register filed only since,
/// its history imported, closes the year when first asked, from that history.
pub async fn close_last_year<C>(db: &C) -> ApiResult<bool>
where
    C: ConnectionTrait + TransactionTrait,
{
    let year = calendar::today().year() - 1;
    let ends = calendar::end_of(last_day(year)?);
    let in_use = household::Entity::find()
        .filter(household::Column::CreatedAt.lt(ends))
        .one(db)
        .await?
        .is_some();
    if !in_use {
        return Ok(false);
    }
    close(db, year).await
}

/// Closes last year every `every`, for as long as the process serves; a
/// failure is logged and tried again next time.
pub async fn keep_closing(db: DatabaseConnection, every: Duration) {
    let mut every = tokio::time::interval(every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(err) = close_last_year(&db).await {
            tracing::warn!(error = ?err, "cannot close last year's statistics");
        }
    }
}

/// Closes `year` as [`close`] does, in a task of its own: a request that
/// asks first may be abandoned at its time limit, while the closing goes on
/// and the next request finds the year closed.
pub async fn close_detached(db: &DatabaseConnection, year: i32) -> ApiResult<()> {
    let db = db.clone();
    tokio::spawn(async move { close(&db, year).await })
        .await
        .map_err(|e| ApiError::Internal(format!("closing {year}: {e}")))??;
    Ok(())
}

/// Closes `year`, which must be over, unless it is closed: rebuilds its
/// figures, then writes them with the year's closing in one transaction.
/// Returns whether this call closed it; when two replicas close a year at
/// once, one writes it and the other finds it closed.
pub async fn close<C>(db: &C, year: i32) -> ApiResult<bool>
where
    C: ConnectionTrait + TransactionTrait,
{
    if !is_over(year) {
        return Err(ApiError::Internal(format!("{year} is not over")));
    }
    if is_closed(db, year).await? {
        return Ok(false);
    }
    // One rebuild at a time in a replica: many first readers of a year wait
    // for one closing and then read it, instead of each rebuilding the county.
    let _closing = CLOSING.lock().await;
    if is_closed(db, year).await? {
        return Ok(false);
    }
    // Rebuilt before the transaction: it reads only what was recorded before
    // the year ended, and a writer (SQLite has one) is not kept waiting.
    let figures = rebuild(db, year).await?;
    let txn = db.begin().await?;
    let claimed = closed_year::Entity::insert(closed_year::ActiveModel {
        year: Set(year),
        closed_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(closed_year::Column::Year)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if claimed == 0 {
        return Ok(false);
    }
    let rows: Vec<closed_year_figure::ActiveModel> = figures
        .into_iter()
        .filter(|(_, amount)| *amount != 0)
        .map(
            |((village, figure, item), amount)| closed_year_figure::ActiveModel {
                year: Set(year),
                village_id: Set(village),
                figure: Set(figure),
                item: Set(item),
                amount: Set(amount),
            },
        )
        .collect();
    for batch in rows.chunks(WRITE_BATCH) {
        closed_year_figure::Entity::insert_many(batch.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    tracing::info!(year, "closed the year's statistics");
    Ok(true)
}

async fn is_closed(db: &impl ConnectionTrait, year: i32) -> ApiResult<bool> {
    Ok(closed_year::Entity::find_by_id(year)
        .one(db)
        .await?
        .is_some())
}

/// The last day of `year`.
fn last_day(year: i32) -> ApiResult<NaiveDate> {
    NaiveDate::from_ymd_opt(year, 12, 31)
        .ok_or_else(|| ApiError::bad_input("year", format!("{year} is not a year")))
}

/// A figure of a village: the village, the figure and its item.
type Key = (i64, TallyFigure, String);

/// Where a household stood at the end of the year, by its status history.
#[derive(Default)]
struct Standing {
    status: Option<HouseholdStatus>,
    lifted_out_year: Option<i32>,
    returned_in_year: bool,
}

/// The figures of every village at the end of `year`, household by household.
async fn rebuild(db: &impl ConnectionTrait, year: i32) -> ApiResult<BTreeMap<Key, i64>> {
    let begins = calendar::end_of(last_day(year - 1)?);
    let ends = calendar::end_of(last_day(year)?);
    let mut figures: BTreeMap<Key, i64> = BTreeMap::new();
    let mut after = 0i64;
    loop {
        let page = household::Entity::find()
            .filter(household::Column::Id.gt(after))
            .order_by_asc(household::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.id;
        let ids: Vec<i64> = page.iter().map(|h| h.id).collect();
        let standings = standings(db, &ids, begins, ends).await?;
        let mut cards = cards_at(db, &ids, ends).await?;
        let current: Vec<&household::Model> = page
            .iter()
            .filter(|h| standings.contains_key(&h.id) && !cards.contains_key(&h.id))
            .collect();
        for (id, card) in current_cards(db, &current, year).await? {
            cards.insert(id, card);
        }
        for (id, standing) in &standings {
            let (Some(status), Some(card)) = (standing.status, cards.get(id)) else {
                continue;
            };
            add_household(&mut figures, status, standing, card, year);
        }
    }
    Ok(figures)
}

/// What a household adds to its village's figures, as the tally counts them.
fn add_household(
    figures: &mut BTreeMap<Key, i64>,
    status: HouseholdStatus,
    standing: &Standing,
    card: &Card,
    year: i32,
) {
    let village = card.household.village_id;
    let mut add = |figure: TallyFigure, item: String, amount: i64| {
        *figures.entry((village, figure, item)).or_default() += amount;
    };
    add(TallyFigure::Households, status.to_value(), 1);
    add(
        TallyFigure::People,
        status.to_value(),
        card.members.iter().filter(|m| m.is_active).count() as i64,
    );
    if standing.lifted_out_year == Some(year) {
        add(TallyFigure::Exits, String::new(), 1);
    }
    if standing.returned_in_year {
        add(TallyFigure::Returns, String::new(), 1);
    }
    if !REGISTERED.contains(&status) {
        return;
    }
    add(TallyFigure::Cause, card.household.main_cause.to_value(), 1);
    add(
        TallyFigure::Attribute,
        card.household.attribute.to_value(),
        1,
    );
    for income in card.incomes.iter().filter(|i| i.year == year) {
        for (figure, amount) in [
            (TallyFigure::IncomeHouseholds, 1),
            (TallyFigure::IncomePeople, i64::from(income.household_size)),
            (TallyFigure::IncomeNet, income.net_fen()),
            (TallyFigure::IncomeWage, income.wage_fen),
            (TallyFigure::IncomeProduction, income.production_fen),
            (TallyFigure::IncomeProperty, income.property_fen),
            (TallyFigure::IncomeTransfer, income.transfer_fen),
        ] {
            add(figure, String::new(), amount);
        }
    }
}

/// Where each household of `ids` with a status before `ends` stood then:
/// its last status, the year of its last exit, and whether it returned to
/// poverty in the year (from `begins`).
async fn standings(
    db: &impl ConnectionTrait,
    ids: &[i64],
    begins: DateTime<Utc>,
    ends: DateTime<Utc>,
) -> ApiResult<HashMap<i64, Standing>> {
    let history = status_change::Entity::find()
        .filter(status_change::Column::HouseholdId.is_in(ids.iter().copied()))
        .filter(status_change::Column::At.lt(ends))
        .order_by_asc(status_change::Column::HouseholdId)
        .order_by_asc(status_change::Column::At)
        .order_by_asc(status_change::Column::Id)
        .all(db)
        .await?;
    let mut standings: HashMap<i64, Standing> = HashMap::new();
    for change in history {
        let standing = standings.entry(change.household_id).or_default();
        standing.status = Some(change.to_status);
        match change.action {
            StatusAction::LiftedOut => standing.lifted_out_year = change.year,
            StatusAction::Returned if change.at >= begins => standing.returned_in_year = true,
            _ => {}
        }
    }
    Ok(standings)
}

/// The cards of `ids` as they stood at `ends`, from their revisions: the
/// last one before, or for a card that changed only since, the first (how
/// it stood from when it was filed). Cards never revised are not here.
async fn cards_at(
    db: &impl ConnectionTrait,
    ids: &[i64],
    ends: DateTime<Utc>,
) -> ApiResult<HashMap<i64, Card>> {
    let revisions: Vec<(i64, i64, DateTime<Utc>)> = card_revision::Entity::find()
        .select_only()
        .columns([
            card_revision::Column::Id,
            card_revision::Column::HouseholdId,
            card_revision::Column::At,
        ])
        .filter(card_revision::Column::HouseholdId.is_in(ids.iter().copied()))
        .order_by_asc(card_revision::Column::HouseholdId)
        .order_by_asc(card_revision::Column::At)
        .order_by_asc(card_revision::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut chosen: HashMap<i64, i64> = HashMap::new();
    for (id, household, at) in revisions {
        if at < ends || !chosen.contains_key(&household) {
            chosen.insert(household, id);
        }
    }
    let rows = card_revision::Entity::find()
        .filter(card_revision::Column::Id.is_in(chosen.values().copied()))
        .all(db)
        .await?;
    let mut cards = HashMap::new();
    for row in rows {
        let card: Card = serde_json::from_str(&row.card)
            .map_err(|e| ApiError::Internal(format!("reading card revision {}: {e}", row.id)))?;
        cards.insert(row.household_id, card);
    }
    Ok(cards)
}

/// The cards never revised, as they stand: their active members and the
/// year's income.
async fn current_cards(
    db: &impl ConnectionTrait,
    households: &[&household::Model],
    year: i32,
) -> ApiResult<Vec<(i64, Card)>> {
    let ids = || households.iter().map(|h| h.id);
    let mut members: HashMap<i64, Vec<member::Model>> = HashMap::new();
    for m in member::Entity::find()
        .filter(member::Column::HouseholdId.is_in(ids()))
        .filter(member::Column::IsActive.eq(true))
        .all(db)
        .await?
    {
        members.entry(m.household_id).or_default().push(m);
    }
    let mut incomes: HashMap<i64, Vec<household_income::Model>> = HashMap::new();
    for i in household_income::Entity::find()
        .filter(household_income::Column::HouseholdId.is_in(ids()))
        .filter(household_income::Column::Year.eq(year))
        .all(db)
        .await?
    {
        incomes.entry(i.household_id).or_default().push(i);
    }
    Ok(households
        .iter()
        .map(|h| {
            let card = Card {
                household: (*h).clone(),
                members: members.remove(&h.id).unwrap_or_default(),
                incomes: incomes.remove(&h.id).unwrap_or_default(),
            };
            (h.id, card)
        })
        .collect())
}
