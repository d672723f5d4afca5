//! Project assets (扶贫项目资产): what a project leaves once accepted (验收).
//! A productive or public asset belongs to a village collective of the
//! project, a household asset to a registered household living in one of its
//! villages; together a project's assets are worth at most its budget. An
//! asset is in use, idle or disposed of (final, with a reason), and its yearly
//! income is appended to a ledger with what of it reached poor households.
//! Every write locks the project (or the asset) it depends on, so that two at
//! once cannot both pass a limit.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, Utc};
use entity::enums::{AssetKind, AssetStatus, ProjectStatus};
use entity::{asset_income, household, project, project_asset, project_village, region};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, Iterable, QueryFilter, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::calendar;
use super::money::Money;
use super::tally::REGISTERED;
use super::text::{free_text, optional_free_text};
use super::write::{self, Created};
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::error::{ApiError, ApiResult};
use crate::permissions;

/// The first year of targeted poverty alleviation: no asset income before it.
const FIRST_YEAR: i32 = 2014;
const MAX_NAME_CHARS: usize = 200;
const MAX_OPERATOR_CHARS: usize = 200;
const MAX_REASON_CHARS: usize = 500;

/// An asset as given.
#[derive(Serialize)]
pub struct NewAsset {
    pub project_id: i64,
    pub name: String,
    pub kind: AssetKind,
    pub value: Money,
    pub owner_village_id: Option<i64>,
    pub owner_household_id: Option<i64>,
    pub operator: String,
    pub handed_over_on: NaiveDate,
}

/// What an update changes: each field given replaces what is recorded.
pub struct AssetChanges {
    pub operator: Option<String>,
    pub status: Option<AssetStatus>,
    /// Why, kept in the audit entry; required for a disposal.
    pub reason: Option<String>,
}

/// A year's income of an asset as given.
pub struct NewIncome {
    pub year: i32,
    pub amount: Money,
    pub distributed: Money,
    pub households_benefited: i32,
}

/// An asset as the audit trail and conflict errors show it.
fn asset_snapshot(a: &project_asset::Model) -> Value {
    json!({
        "project": a.project_id,
        "name": a.name,
        "kind": a.kind,
        "value": Money(a.value_fen).to_string(),
        "ownerVillage": a.owner_village_id,
        "ownerHousehold": a.owner_household_id,
        "operator": a.operator,
        "handedOverOn": a.handed_over_on,
        "status": a.status,
        "version": a.version,
    })
}

/// Refuses a year of income outside 2014 to this year; `field` names the argument.
pub fn check_year(field: &str, year: i32, today: NaiveDate) -> ApiResult<()> {
    if (FIRST_YEAR..=today.year()).contains(&year) {
        return Ok(());
    }
    Err(ApiError::bad_input(
        field,
        format!("the year is from {FIRST_YEAR} to {}", today.year()),
    ))
}

/// Refuses an owner that does not match the kind: a household asset names a
/// household, any other a village collective, and never both.
fn check_owner(kind: AssetKind, village: Option<i64>, household: Option<i64>) -> ApiResult<()> {
    match (kind, village, household) {
        (AssetKind::Household, None, Some(_)) => Ok(()),
        (AssetKind::Household, Some(_), _) => Err(ApiError::bad_input(
            "ownerVillageId",
            "a household asset (到户类) belongs to a household: give ownerHouseholdId, not a village",
        )),
        (AssetKind::Household, None, None) => Err(ApiError::bad_input(
            "ownerHouseholdId",
            "a household asset (到户类) names the household that owns it",
        )),
        (_, _, Some(_)) => Err(ApiError::bad_input(
            "ownerHouseholdId",
            "a productive or public asset belongs to a village collective: give ownerVillageId, not a household",
        )),
        (_, None, None) => Err(ApiError::bad_input(
            "ownerVillageId",
            "a productive or public asset names the village collective that owns it",
        )),
        (_, Some(_), None) => Ok(()),
    }
}

/// The villages a project covers.
async fn villages_of(txn: &DatabaseTransaction, project_id: i64) -> ApiResult<Vec<region::Model>> {
    let covered = Query::select()
        .column(project_village::Column::VillageId)
        .from(project_village::Entity)
        .and_where(project_village::Column::ProjectId.eq(project_id))
        .to_owned();
    Ok(region::Entity::find()
        .filter(region::Column::Id.in_subquery(covered))
        .all(txn)
        .await?)
}

/// Refuses a caller who does not answer for the village an asset belongs to
/// (the owner's, or the owning household's): the county office answers for
/// every village, a township officer for those of its township.
fn check_answers_for(viewer: &Viewer, village: &region::Model) -> ApiResult<()> {
    if access::answers_for_villages(viewer, std::slice::from_ref(village)) {
        return Ok(());
    }
    Err(ApiError::Forbidden(
        "only the county office, or the township of the asset's village, manages the asset".into(),
    ))
}

/// What the assets of a project are worth together, in fen.
async fn registered_fen(txn: &DatabaseTransaction, project_id: i64) -> ApiResult<i64> {
    let total = project_asset::Entity::find()
        .select_only()
        .expr(Expr::cust("CAST(SUM(value_fen) AS BIGINT)"))
        .filter(project_asset::Column::ProjectId.eq(project_id))
        .into_tuple::<Option<i64>>()
        .one(txn)
        .await?;
    Ok(total.flatten().unwrap_or(0))
}

/// The village an asset belongs to, for which the caller must answer: the
/// owning village, one the project covers, or the village of the owning
/// household, registered and living in one of them.
async fn owners_village(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    source: &project::Model,
    input: &NewAsset,
) -> ApiResult<region::Model> {
    let villages = villages_of(txn, source.id).await?;
    let (village, field) = match (input.owner_village_id, input.owner_household_id) {
        (Some(village), _) => (village, "ownerVillageId"),
        (None, Some(owner)) => {
            let home = access::select::<household::Entity>(viewer)
                .filter(household::Column::Id.eq(owner))
                .one(txn)
                .await?
                .ok_or_else(|| ApiError::not_found("Household"))?;
            if !REGISTERED.contains(&home.status) {
                return Err(ApiError::bad_input(
                    "ownerHouseholdId",
                    "a household asset goes to a registered household \
                     (enrolled, lifted out or returned)",
                ));
            }
            (home.village_id, "ownerHouseholdId")
        }
        (None, None) => return Err(ApiError::Internal("an asset without an owner".into())),
    };
    villages
        .into_iter()
        .find(|v| v.id == village)
        .ok_or_else(|| {
            ApiError::bad_input(
                field,
                "the owner is in none of the villages the project covers",
            )
        })
}

/// Registers an asset an accepted project left, owned by a village of the
/// project or a registered household living in one.
pub async fn register(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    key: Option<&str>,
    input: NewAsset,
) -> ApiResult<project_asset::Model> {
    let today = calendar::today();
    let name = free_text("name", &input.name, MAX_NAME_CHARS)?;
    let operator = free_text("operator", &input.operator, MAX_OPERATOR_CHARS)?;
    check_owner(input.kind, input.owner_village_id, input.owner_household_id)?;
    let value = input.value.0;
    if value <= 0 {
        return Err(ApiError::bad_input(
            "value",
            "an asset is worth more than 0",
        ));
    }
    if input.handed_over_on > today || input.handed_over_on.year() < FIRST_YEAR {
        return Err(ApiError::bad_input(
            "handedOverOn",
            format!("an asset is handed over from {FIRST_YEAR} to today ({today})"),
        ));
    }
    write::create::<project_asset::Entity, _>(
        db,
        actor,
        key,
        "registerAsset",
        &input,
        async |txn| {
            // The project is locked: two assets registered at once are counted together.
            let select = access::select::<project::Entity>(viewer)
                .filter(project::Column::Id.eq(input.project_id));
            let source = write::one_locked(txn, select)
                .await?
                .ok_or_else(|| ApiError::not_found("Project"))?;
            if source.status != ProjectStatus::Accepted {
                return Err(ApiError::bad_input(
                    "projectId",
                    "assets are registered once their project is accepted (已验收)",
                ));
            }
            if let Some(accepted) = source.accepted_on
                && input.handed_over_on < accepted
            {
                return Err(ApiError::bad_input(
                    "handedOverOn",
                    format!("an asset is handed over once its project is accepted ({accepted})"),
                ));
            }
            let village = owners_village(txn, viewer, &source, &input).await?;
            check_answers_for(viewer, &village)?;
            let registered = registered_fen(txn, source.id).await?;
            if registered + value > source.budget_fen {
                return Err(ApiError::bad_input(
                    "value",
                    format!(
                        "the project's assets are worth at most its budget, {} yuan; {} yuan of \
                         it is registered already, so this asset is worth at most {} yuan",
                        Money(source.budget_fen),
                        Money(registered),
                        Money((source.budget_fen - registered).max(0))
                    ),
                ));
            }
            let now = Utc::now();
            let created = project_asset::ActiveModel {
                project_id: Set(source.id),
                name: Set(name),
                kind: Set(input.kind),
                value_fen: Set(value),
                owner_village_id: Set(input.owner_village_id),
                owner_household_id: Set(input.owner_household_id),
                operator: Set(operator),
                handed_over_on: Set(input.handed_over_on),
                status: Set(AssetStatus::InUse),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            Ok(Created::new(
                created.id,
                "project_asset.create",
                "ProjectAsset",
                asset_snapshot(&created),
                created,
            ))
        },
    )
    .await
}

/// An asset the caller sees, locked for a change, once the caller is found to
/// answer for the village it belongs to (the owner's or the owning household's).
async fn asset_to_change(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<project_asset::Model> {
    let asset = write::one_locked(
        txn,
        access::select::<project_asset::Entity>(viewer).filter(project_asset::Column::Id.eq(id)),
    )
    .await?
    .ok_or_else(|| ApiError::not_found("ProjectAsset"))?;
    let village_id = match (asset.owner_village_id, asset.owner_household_id) {
        (Some(village), _) => Some(village),
        (None, Some(home)) => household::Entity::find_by_id(home)
            .one(txn)
            .await?
            .map(|h| h.village_id),
        (None, None) => None,
    };
    let village = match village_id {
        Some(village) => region::Entity::find_by_id(village).one(txn).await?,
        None => None,
    }
    .ok_or_else(|| ApiError::Internal(format!("project asset {id} has no owner's village")))?;
    check_answers_for(viewer, &village)?;
    Ok(asset)
}

/// Changes who runs an asset or its status, from the version the caller
/// read. A disposal (已处置) is final and gives its reason.
pub async fn update(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    (asset_id, version): (i64, i32),
    changes: AssetChanges,
) -> ApiResult<project_asset::Model> {
    let operator = changes
        .operator
        .as_deref()
        .map(|o| free_text("operator", o, MAX_OPERATOR_CHARS))
        .transpose()?;
    let reason = optional_free_text("reason", changes.reason.as_deref(), MAX_REASON_CHARS)?;
    if operator.is_none() && changes.status.is_none() {
        return Err(ApiError::bad_input(
            "status",
            "nothing to change: give a new operator or status",
        ));
    }
    if changes.status == Some(AssetStatus::Disposed) && reason.is_none() {
        return Err(ApiError::bad_input(
            "reason",
            "a disposal (处置) gives its reason",
        ));
    }
    let txn = write::begin(db).await?;
    let before = asset_to_change(&txn, viewer, asset_id).await?;
    write::check_version("asset", version, before.version, || {
        permissions::redact(viewer, "ProjectAsset", asset_snapshot(&before))
    })?;
    if before.status == AssetStatus::Disposed {
        return Err(ApiError::bad_input(
            "assetId",
            "the asset has been disposed of (已处置) and changes no more",
        ));
    }
    let mut row: project_asset::ActiveModel = before.clone().into();
    if let Some(operator) = operator {
        row.operator = Set(operator);
    }
    if let Some(status) = changes.status {
        row.status = Set(status);
    }
    row.version = Set(before.version + 1);
    row.updated_at = Set(Utc::now());
    let after = row.update(&txn).await?;
    let mut snapshot = asset_snapshot(&after);
    if let (Some(reason), Some(fields)) = (reason, snapshot.as_object_mut()) {
        fields.insert("reason".into(), reason.into());
    }
    let change = Change {
        action: if after.status == AssetStatus::Disposed {
            "project_asset.dispose"
        } else {
            "project_asset.update"
        },
        entity_type: "ProjectAsset",
        entity_id: after.id,
        before: Some(asset_snapshot(&before)),
        after: Some(snapshot),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// Records a year's income of an asset not disposed of (资产收益): more than
/// nothing, of a year from its handover to this one, with what of it was
/// distributed to poor households, at most all of it. Returns the asset.
pub async fn record_income(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    asset_id: i64,
    income: NewIncome,
) -> ApiResult<project_asset::Model> {
    let today = calendar::today();
    check_year("year", income.year, today)?;
    if income.amount.0 <= 0 {
        return Err(ApiError::bad_input("amount", "an income is more than 0"));
    }
    if !(0..=income.amount.0).contains(&income.distributed.0) {
        return Err(ApiError::bad_input(
            "distributed",
            format!(
                "what is distributed is from 0 to the income, {} yuan",
                income.amount
            ),
        ));
    }
    if income.households_benefited < 0 {
        return Err(ApiError::bad_input(
            "householdsBenefited",
            "the households benefited are 0 or more",
        ));
    }
    let txn = write::begin(db).await?;
    // The asset is locked: no income is recorded while it is being disposed of.
    let target = asset_to_change(&txn, viewer, asset_id).await?;
    if target.status == AssetStatus::Disposed {
        return Err(ApiError::bad_input(
            "assetId",
            "the asset has been disposed of (已处置) and brings no income",
        ));
    }
    if income.year < target.handed_over_on.year() {
        return Err(ApiError::bad_input(
            "year",
            format!(
                "the asset was handed over on {}: its income is of that year or later",
                target.handed_over_on
            ),
        ));
    }
    asset_income::ActiveModel {
        asset_id: Set(target.id),
        year: Set(income.year),
        amount_fen: Set(income.amount.0),
        distributed_fen: Set(income.distributed.0),
        households_benefited: Set(income.households_benefited),
        recorded_by: Set(actor.user_id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut touched: project_asset::ActiveModel = target.clone().into();
    touched.version = Set(target.version + 1);
    touched.updated_at = Set(Utc::now());
    let after = touched.update(&txn).await?;
    let change = Change {
        action: "project_asset.income",
        entity_type: "ProjectAsset",
        entity_id: target.id,
        before: None,
        after: Some(json!({
            "year": income.year,
            "income": income.amount.to_string(),
            "distributed": income.distributed.to_string(),
            "householdsBenefited": income.households_benefited,
        })),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// The assets owned under the region `prefix`: by a village collective
/// there, or by a household living there.
fn owned_under(prefix: &str) -> Condition {
    let households = Query::select()
        .column(household::Column::Id)
        .from(household::Entity)
        .and_where(household::Column::VillageId.in_subquery(access::villages_under(prefix)))
        .to_owned();
    Condition::any()
        .add(project_asset::Column::OwnerVillageId.in_subquery(access::villages_under(prefix)))
        .add(project_asset::Column::OwnerHouseholdId.in_subquery(households))
}

/// Assets and what they are worth, in fen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    pub assets: i64,
    pub value: i64,
}

/// The project assets of a region (扶贫项目资产情况), in fen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    /// The assets not disposed of, by kind, every kind in order.
    pub by_kind: Vec<(AssetKind, Held)>,
    /// Assets standing idle.
    pub idle: i64,
    /// Assets disposed of.
    pub disposed: i64,
    /// The income of the year, of every asset, disposed of since or not.
    pub income: i64,
    pub distributed: i64,
    /// Households benefited, as each income of the year recorded them, added up.
    pub households_benefited: i64,
}

impl Figures {
    /// The assets not disposed of, all kinds together.
    pub fn held(&self) -> Held {
        self.by_kind
            .iter()
            .fold(Held::default(), |sum, (_, h)| Held {
                assets: sum.assets + h.assets,
                value: sum.value + h.value,
            })
    }
}

/// The asset figures of the region `prefix`, the income of `year`: two
/// grouped statements, whatever the number of assets.
pub async fn figures(db: &impl ConnectionTrait, prefix: &str, year: i32) -> ApiResult<Figures> {
    use project_asset::Column as A;
    let groups: Vec<(AssetKind, AssetStatus, i64, i64)> = project_asset::Entity::find()
        .select_only()
        .column(A::Kind)
        .column(A::Status)
        .expr(Expr::cust("COUNT(*)"))
        .expr(Expr::cust("CAST(SUM(value_fen) AS BIGINT)"))
        .filter(owned_under(prefix))
        .group_by(A::Kind)
        .group_by(A::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut figures = Figures::default();
    let mut held: HashMap<AssetKind, Held> = HashMap::new();
    for (kind, status, assets, value) in groups {
        match status {
            AssetStatus::Disposed => figures.disposed += assets,
            AssetStatus::Idle | AssetStatus::InUse => {
                if status == AssetStatus::Idle {
                    figures.idle += assets;
                }
                let sum = held.entry(kind).or_default();
                sum.assets += assets;
                sum.value += value;
            }
        }
    }
    figures.by_kind = AssetKind::iter()
        .map(|kind| (kind, held.get(&kind).copied().unwrap_or_default()))
        .collect();
    let assets = Query::select()
        .column(A::Id)
        .from(project_asset::Entity)
        .cond_where(owned_under(prefix))
        .to_owned();
    let sums: Option<(Option<i64>, Option<i64>, Option<i64>)> = asset_income::Entity::find()
        .select_only()
        .expr(Expr::cust("CAST(SUM(amount_fen) AS BIGINT)"))
        .expr(Expr::cust("CAST(SUM(distributed_fen) AS BIGINT)"))
        .expr(Expr::cust("CAST(SUM(households_benefited) AS BIGINT)"))
        .filter(asset_income::Column::Year.eq(year))
        .filter(asset_income::Column::AssetId.in_subquery(assets))
        .into_tuple()
        .one(db)
        .await?;
    if let Some((income, distributed, households)) = sums {
        figures.income = income.unwrap_or(0);
        figures.distributed = distributed.unwrap_or(0);
        figures.households_benefited = households.unwrap_or(0);
    }
    Ok(figures)
}
