//! The county's divisions (区划): county, townships, villages, each a code
//! that extends its parent's, set up from a divisions file.

use std::collections::HashMap;

use chrono::Utc;
use entity::enums::RegionLevel;
use entity::{household, region};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::household::change::move_to_village;
use super::node::global_id;
use super::text::free_text;
use super::{calendar, village_exit, write};
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::error::{ApiError, ApiResult};
use crate::permissions;

/// A village the caller sees.
pub async fn reachable_village(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<region::Model> {
    access::select::<region::Entity>(viewer)
        .filter(region::Column::Id.eq(id))
        .one(db)
        .await?
        .filter(|r| r.level == RegionLevel::Village)
        .ok_or_else(|| ApiError::not_found("Village"))
}

/// The digits of a region's code its children are told apart by: a county's
/// townships by 9, a township's villages (and a village itself) by 12.
pub fn child_part_len(level: RegionLevel) -> usize {
    match level {
        RegionLevel::County => 9,
        RegionLevel::Township | RegionLevel::Village => 12,
    }
}

/// The level of a region's children, if it has any.
pub fn child_level(level: RegionLevel) -> Option<RegionLevel> {
    match level {
        RegionLevel::County => Some(RegionLevel::Township),
        RegionLevel::Township => Some(RegionLevel::Village),
        RegionLevel::Village => None,
    }
}

/// The API's name of a region's object type at each level.
pub fn type_name(level: RegionLevel) -> &'static str {
    match level {
        RegionLevel::County => "County",
        RegionLevel::Township => "Township",
        RegionLevel::Village => "Village",
    }
}

/// A division as a divisions file lists it: its level and parent follow from
/// its code (a county's ends in six zeros, a township's in three).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Division {
    pub code: String,
    pub name: String,
    /// Village only: a designated poverty village (贫困村).
    pub poverty_village: bool,
    /// Village only: the year the poverty village exited (出列).
    pub exit_year: Option<i32>,
}

/// A division the file lists wrongly: where, and why.
#[derive(Debug, Serialize)]
pub struct DivisionRejection {
    pub line: u64,
    pub field: Option<&'static str>,
    pub reason: String,
}

/// What an import of divisions did, or would do: nothing is written unless
/// every division is sound (`applied`).
#[derive(Debug, Default, Serialize)]
pub struct DivisionsReport {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub applied: bool,
    pub rejections: Vec<DivisionRejection>,
}

/// Longest reason for merging or retiring a village, in characters.
const MAX_REASON_CHARS: usize = 500;
/// Longest name of a division, in characters.
const MAX_NAME_CHARS: usize = 60;
/// Years a poverty village may have exited in.
const EXIT_YEARS: std::ops::RangeInclusive<i32> = 2013..=2100;

/// The level a 12-digit division code is at.
fn level_of(code: &str) -> RegionLevel {
    if code.ends_with("000000") {
        RegionLevel::County
    } else if code.ends_with("000") {
        RegionLevel::Township
    } else {
        RegionLevel::Village
    }
}

/// The code of a division's parent: none for the county.
fn parent_code(code: &str) -> Option<String> {
    match level_of(code) {
        RegionLevel::County => None,
        RegionLevel::Township => Some(format!("{}000000", &code[..6])),
        RegionLevel::Village => Some(format!("{}000", &code[..9])),
    }
}

/// A division's fields as the audit trail records them, under the names the
/// API shows them by.
fn division_snapshot(r: &region::Model) -> Value {
    json!({
        "code": r.code,
        "name": r.name,
        "isPovertyVillage": r.is_poverty_village,
        "exitYear": r.exit_year,
        "retiredOn": r.retired_on,
        "mergedInto": r.merged_into_id.map(|id| global_id("Village", id)),
    })
}

/// What is wrong with one division on its own, if anything.
fn check_division(d: &Division) -> Result<(), (Option<&'static str>, String)> {
    if d.code.len() != 12 || !d.code.bytes().all(|b| b.is_ascii_digit()) {
        return Err((
            Some("code"),
            "a division code is 12 digits (统计用区划代码), e.g. 522634100201".into(),
        ));
    }
    let chars = d.name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS || d.name.chars().any(char::is_control) {
        return Err((
            Some("name"),
            format!("a name is 1 to {MAX_NAME_CHARS} characters, on one line"),
        ));
    }
    let village = level_of(&d.code) == RegionLevel::Village;
    if village && &d.code[6..9] == "000" {
        return Err((
            Some("code"),
            "a village's code names its township in digits 7 to 9, which are not 000".into(),
        ));
    }
    if !village && (d.poverty_village || d.exit_year.is_some()) {
        return Err((
            Some("povertyVillage"),
            "only a village is a poverty village or exits".into(),
        ));
    }
    if let Some(year) = d.exit_year {
        if !d.poverty_village {
            return Err((
                Some("exitYear"),
                "only a poverty village exits (出列)".into(),
            ));
        }
        if !EXIT_YEARS.contains(&year) {
            return Err((
                Some("exitYear"),
                format!(
                    "the exit year must be between {} and {}",
                    EXIT_YEARS.start(),
                    EXIT_YEARS.end()
                ),
            ));
        }
    }
    Ok(())
}

/// Writes a new division under `parent_id`, its level from its code, audited.
async fn add_division(
    txn: &DatabaseTransaction,
    actor: &Actor,
    division: &Division,
    parent_id: Option<i64>,
) -> ApiResult<region::Model> {
    let now = Utc::now();
    let level = level_of(&division.code);
    let added = region::ActiveModel {
        code: Set(division.code.clone()),
        name: Set(division.name.clone()),
        level: Set(level),
        parent_id: Set(parent_id),
        is_poverty_village: Set(division.poverty_village),
        exit_year: Set(division.exit_year),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let change = Change {
        action: "region.create",
        entity_type: type_name(level),
        entity_id: added.id,
        before: None,
        after: Some(division_snapshot(&added)),
    };
    audit::record(txn, actor, change).await?;
    Ok(added)
}

/// Gives `before` the name and poverty-village status of `division`, as its
/// next version, audited.
async fn change_division(
    txn: &DatabaseTransaction,
    actor: &Actor,
    before: &region::Model,
    division: &Division,
) -> ApiResult<region::Model> {
    let mut row: region::ActiveModel = before.clone().into();
    row.name = Set(division.name.clone());
    row.is_poverty_village = Set(division.poverty_village);
    row.exit_year = Set(division.exit_year);
    row.version = Set(before.version + 1);
    row.updated_at = Set(Utc::now());
    let after = row.update(txn).await?;
    let change = Change {
        action: "region.update",
        entity_type: type_name(before.level),
        entity_id: after.id,
        before: Some(division_snapshot(before)),
        after: Some(division_snapshot(&after)),
    };
    audit::record(txn, actor, change).await?;
    Ok(after)
}

/// Adds the county's divisions listed in a file (line, division) and updates
/// those already on the register whose name or poverty-village status differ,
/// each change audited; divisions the file leaves out stay as they are. The
/// county, each township and each village's township must be on the register
/// or listed. Nothing is written if any division is rejected, nor when
/// `apply` is false (a dry run).
pub async fn import_divisions(
    db: &DatabaseConnection,
    actor: &Actor,
    mut divisions: Vec<(u64, Division)>,
    apply: bool,
) -> ApiResult<DivisionsReport> {
    let txn = write::begin(db).await?;
    let on_file: Vec<region::Model> = if txn.get_database_backend() == DbBackend::Postgres {
        // Two imports at once would both find a code missing and both add it.
        region::Entity::find().lock_exclusive().all(&txn).await?
    } else {
        region::Entity::find().all(&txn).await?
    };
    let mut known: HashMap<String, region::Model> =
        on_file.into_iter().map(|r| (r.code.clone(), r)).collect();
    let mut county = known
        .values()
        .find(|r| r.level == RegionLevel::County)
        .map(|r| r.code.clone());
    // Parents before their children: a code sorts after its parent's.
    divisions.sort_by(|(a_line, a), (b_line, b)| a.code.cmp(&b.code).then(a_line.cmp(b_line)));
    let mut report = DivisionsReport::default();
    let mut listed: HashMap<String, u64> = HashMap::new();
    for (line, division) in divisions {
        let division = Division {
            code: division.code.trim().to_owned(),
            name: division.name.trim().to_owned(),
            ..division
        };
        let mut reject = |field: Option<&'static str>, reason: String| {
            report.rejections.push(DivisionRejection {
                line,
                field,
                reason,
            });
        };
        if let Err((field, reason)) = check_division(&division) {
            reject(field, reason);
            continue;
        }
        if let Some(first) = listed.insert(division.code.clone(), line) {
            reject(
                Some("code"),
                format!("{} is listed twice, first on line {first}", division.code),
            );
            continue;
        }
        let level = level_of(&division.code);
        match (&county, level) {
            (None, RegionLevel::County) => county = Some(division.code.clone()),
            (None, _) => {
                reject(
                    Some("code"),
                    "the register has no county yet: list the county's own code (ending in six zeros) too".into(),
                );
                continue;
            }
            (Some(ours), _) if ours[..6] != division.code[..6] => {
                reject(
                    Some("code"),
                    format!("{} is not in the county {ours}", division.code),
                );
                continue;
            }
            _ => {}
        }
        let parent_id = match parent_code(&division.code) {
            None => None,
            Some(parent) => match known.get(&parent) {
                Some(p) => Some(p.id),
                None => {
                    reject(
                        Some("code"),
                        format!("its parent {parent} is neither listed nor on the register"),
                    );
                    continue;
                }
            },
        };
        let after = match known.get(&division.code) {
            Some(old)
                if old.name == division.name
                    && old.is_poverty_village == division.poverty_village
                    && old.exit_year == division.exit_year =>
            {
                report.unchanged += 1;
                continue;
            }
            Some(old) => {
                report.updated += 1;
                change_division(&txn, actor, old, &division).await?
            }
            None => {
                report.created += 1;
                add_division(&txn, actor, &division, parent_id).await?
            }
        };
        known.insert(after.code.clone(), after);
    }
    report.rejections.sort_by_key(|r| r.line);
    if report.rejections.is_empty() && apply {
        txn.commit().await?;
        report.applied = true;
    }
    Ok(report)
}

/// Every division of the register as a divisions file lists it, by code.
pub async fn all_divisions(db: &impl ConnectionTrait) -> ApiResult<Vec<Division>> {
    let regions = region::Entity::find()
        .order_by_asc(region::Column::Code)
        .all(db)
        .await?;
    Ok(regions
        .into_iter()
        .map(|r| Division {
            code: r.code,
            name: r.name,
            poverty_village: r.is_poverty_village,
            exit_year: r.exit_year,
        })
        .collect())
}

/// A village's fields the county office edits.
#[derive(Debug, Clone)]
pub struct VillageFields {
    pub name: String,
    /// A designated poverty village (贫困村).
    pub poverty_village: bool,
    /// The year the poverty village exited (出列), as the county decided it.
    pub exit_year: Option<i32>,
}

/// Refuses what `check_division` refuses, as the one error type.
fn checked(division: &Division) -> ApiResult<()> {
    check_division(division).map_err(|(field, reason)| match field {
        Some(field) => ApiError::bad_input(field, reason),
        None => ApiError::bad_input("input", reason),
    })
}

/// Adds a village to a township, under a code that extends the township's.
pub async fn add_village(
    db: &DatabaseConnection,
    actor: &Actor,
    township_id: i64,
    code: &str,
    fields: VillageFields,
) -> ApiResult<region::Model> {
    let division = Division {
        code: code.trim().to_owned(),
        name: fields.name.trim().to_owned(),
        poverty_village: fields.poverty_village,
        exit_year: fields.exit_year,
    };
    checked(&division)?;
    village_exit::check_recorded_exit(None, division.exit_year, calendar::today())?;
    let txn = write::begin(db).await?;
    let township = region::Entity::find_by_id(township_id)
        .one(&txn)
        .await?
        .filter(|r| r.level == RegionLevel::Township)
        .ok_or_else(|| ApiError::not_found("Township"))?;
    if level_of(&division.code) != RegionLevel::Village || division.code[..9] != township.code[..9]
    {
        return Err(ApiError::bad_input(
            "code",
            format!(
                "a village of {} has a code {}xxx, not ending in 000",
                township.name,
                &township.code[..9]
            ),
        ));
    }
    let village = add_division(&txn, actor, &division, Some(township.id)).await?;
    txn.commit().await?;
    Ok(village)
}

/// Renames a village, or marks it a poverty village or its exit, from the
/// version the caller read.
pub async fn update_village(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    id: i64,
    version: i32,
    fields: VillageFields,
) -> ApiResult<region::Model> {
    let txn = write::begin(db).await?;
    let before = write::one_locked(&txn, region::Entity::find_by_id(id))
        .await?
        .filter(|r| r.level == RegionLevel::Village)
        .ok_or_else(|| ApiError::not_found("Village"))?;
    write::check_version("village", version, before.version, || {
        permissions::redact(viewer, "Village", division_snapshot(&before))
    })?;
    let division = Division {
        code: before.code.clone(),
        name: fields.name.trim().to_owned(),
        poverty_village: fields.poverty_village,
        exit_year: fields.exit_year,
    };
    checked(&division)?;
    village_exit::check_recorded_exit(before.exit_year, division.exit_year, calendar::today())?;
    let after = change_division(&txn, actor, &before, &division).await?;
    txn.commit().await?;
    Ok(after)
}

/// Refuses to file or move a household into a retired village.
pub fn takes_households(village: &region::Model, field: &str) -> ApiResult<()> {
    match village.retired_on {
        None => Ok(()),
        Some(day) => Err(ApiError::bad_input(
            field,
            match village.merged_into_id {
                Some(_) => format!(
                    "village {} was merged into another on {day}: its households are filed there",
                    village.code
                ),
                None => format!("village {} was retired on {day}", village.code),
            },
        )),
    }
}

/// A village to retire, locked, at the version the caller read, not retired yet.
async fn village_to_retire(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: i64,
    version: i32,
    field: &str,
) -> ApiResult<region::Model> {
    let village = write::one_locked(txn, region::Entity::find_by_id(id))
        .await?
        .filter(|r| r.level == RegionLevel::Village)
        .ok_or_else(|| ApiError::not_found("Village"))?;
    write::check_version("village", version, village.version, || {
        permissions::redact(viewer, "Village", division_snapshot(&village))
    })?;
    takes_households(&village, field)?;
    Ok(village)
}

/// Writes a retired village and its audit entry, with the reason.
async fn save_retired(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action: &str,
    before: &region::Model,
    mut row: region::ActiveModel,
    reason: &str,
) -> ApiResult<region::Model> {
    row.retired_on = Set(Some(calendar::today()));
    row.version = Set(before.version + 1);
    row.updated_at = Set(Utc::now());
    let after = row.update(txn).await?;
    let mut snapshot = division_snapshot(&after);
    if let Some(fields) = snapshot.as_object_mut() {
        fields.insert("reason".into(), reason.into());
    }
    let change = Change {
        action,
        entity_type: "Village",
        entity_id: after.id,
        before: Some(division_snapshot(before)),
        after: Some(snapshot),
    };
    audit::record(txn, actor, change).await?;
    Ok(after)
}

/// Merges village `from` (at the version the caller read) into village
/// `into` (撤并): every household of `from` moves to `into` with the reason,
/// keeping its number; `into` takes on `from`'s rural population; `from` is
/// retired, merged into `into`. One transaction, every step audited.
/// Returns the retired village and the households moved.
pub async fn merge_villages(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    (from_id, from_version): (i64, i32),
    into_id: i64,
    reason: &str,
) -> ApiResult<(region::Model, u64)> {
    let reason = free_text("reason", reason, MAX_REASON_CHARS)?;
    if from_id == into_id {
        return Err(ApiError::bad_input(
            "intoVillageId",
            "a village is not merged into itself",
        ));
    }
    let txn = write::begin(db).await?;
    let from = village_to_retire(&txn, viewer, from_id, from_version, "villageId").await?;
    let into = write::one_locked(&txn, region::Entity::find_by_id(into_id))
        .await?
        .filter(|r| r.level == RegionLevel::Village)
        .ok_or_else(|| ApiError::not_found("Village"))?;
    takes_households(&into, "intoVillageId")?;
    let households = household::Entity::find()
        .filter(household::Column::VillageId.eq(from.id))
        .order_by_asc(household::Column::Id)
        .all(&txn)
        .await?;
    let moved = households.len() as u64;
    for home in households {
        move_to_village(&txn, actor, home, into.id, &reason).await?;
    }
    if let Some(people) = from.rural_population {
        let mut grown: region::ActiveModel = into.clone().into();
        grown.rural_population = Set(Some(into.rural_population.unwrap_or(0) + people));
        grown.version = Set(into.version + 1);
        grown.updated_at = Set(Utc::now());
        let after = grown.update(&txn).await?;
        let change = Change {
            action: "region.update",
            entity_type: "Village",
            entity_id: after.id,
            before: Some(division_snapshot(&into)),
            after: Some(division_snapshot(&after)),
        };
        audit::record(&txn, actor, change).await?;
    }
    let mut row: region::ActiveModel = from.clone().into();
    row.merged_into_id = Set(Some(into.id));
    row.rural_population = Set(None);
    let retired = save_retired(&txn, actor, "region.merge", &from, row, &reason).await?;
    txn.commit().await?;
    Ok((retired, moved))
}

/// Retires an empty village (撤销): one with households is merged instead.
pub async fn retire_village(
    db: &DatabaseConnection,
    viewer: &Viewer,
    actor: &Actor,
    (id, version): (i64, i32),
    reason: &str,
) -> ApiResult<region::Model> {
    let reason = free_text("reason", reason, MAX_REASON_CHARS)?;
    let txn = write::begin(db).await?;
    let village = village_to_retire(&txn, viewer, id, version, "villageId").await?;
    let households = household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .count(&txn)
        .await?;
    if households > 0 {
        return Err(ApiError::bad_input(
            "villageId",
            format!(
                "the village has {households} households: merge it into another, and they move with it"
            ),
        ));
    }
    let row: region::ActiveModel = village.clone().into();
    let retired = save_retired(&txn, actor, "region.retire", &village, row, &reason).await?;
    txn.commit().await?;
    Ok(retired)
}
