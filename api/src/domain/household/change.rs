//! Changes to cards on file: filing a household with its members, editing
//! the card, members joining, changing, moving and leaving, the head handing
//! over, and a year's income. Each is one transaction that keeps the card's
//! revision before the change and records the new one (`domain::card`).

use chrono::Utc;
use entity::enums::{
    Education, Gender, Health, HouseholdAttribute, IdentificationStandard, LabourAbility,
    MigrantWork, PovertyCause, Relation, StudentStatus,
};
use entity::{household, household_cause, household_income, member, region};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;

use super::{
    CardFields, Conditions, Guarantees, NewMember, address, check_causes, check_income,
    check_member, check_members, duplicate, replace_causes,
};
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::codes::check_id_number;
use crate::domain::calendar;
use crate::domain::card::{self, household_snapshot, income_snapshot, member_snapshot};
use crate::domain::region as region_rules;
use crate::domain::text::{free_text, phone};
use crate::domain::write::{self, Created};
use crate::error::{ApiError, ApiResult};
use crate::permissions::redact;

/// A household to put on file, with its head and other members.
pub struct NewHousehold {
    pub village_id: i64,
    pub card: CardFields,
    pub other_causes: Vec<PovertyCause>,
    pub head: NewMember,
    pub members: Vec<NewMember>,
}

/// Changes to a card; `None` leaves a field as it is.
pub struct CardChanges {
    pub id: i64,
    /// The version the change was made from.
    pub version: i32,
    pub address: Option<String>,
    /// An empty number clears the phone.
    pub phone: Option<String>,
    pub attribute: Option<HouseholdAttribute>,
    pub standard: Option<IdentificationStandard>,
    pub main_cause: Option<PovertyCause>,
    /// Replaces the other causes.
    pub other_causes: Option<Vec<PovertyCause>>,
    pub conditions: Option<Conditions>,
    pub guarantees: Option<Guarantees>,
}

/// Changes to a member; `None` leaves a field as it is.
pub struct MemberChanges {
    pub id: i64,
    /// The version the change was made from.
    pub version: i32,
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub gender: Option<Gender>,
    pub relation: Option<Relation>,
    pub ethnicity: Option<String>,
    pub education: Option<Education>,
    pub student_status: Option<StudentStatus>,
    pub health: Option<Health>,
    pub disability_grade: Option<i16>,
    pub labour_ability: Option<LabourAbility>,
    pub migrant_work: Option<MigrantWork>,
    pub migrant_months: Option<i16>,
    pub basic_medical_insurance: Option<bool>,
    pub serious_illness_insurance: Option<bool>,
    pub basic_pension: Option<bool>,
}

/// A household's income for one year, in fen.
pub struct YearIncome {
    pub household_id: i64,
    pub year: i32,
    /// Required when the year is already recorded: the version it was read at.
    pub version: Option<i32>,
    pub wage: i64,
    pub production: i64,
    pub property: i64,
    pub transfer: i64,
    pub production_cost: i64,
    /// Persons the per-capita figure counts; the current members when `None`.
    pub household_size: Option<i32>,
}

/// A household the caller reaches, locked for the change.
pub async fn lock_household(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<household::Model> {
    let select = access::select::<household::Entity>(viewer).filter(household::Column::Id.eq(id));
    write::one_locked(txn, select)
        .await?
        .ok_or_else(|| ApiError::not_found("Household"))
}

/// Refuses an edit of a household made from a stale read.
pub fn check_household_version(
    viewer: &Viewer,
    stated: i32,
    h: &household::Model,
) -> ApiResult<()> {
    write::check_version("household", stated, h.version, || {
        redact(viewer, "Household", household_snapshot(h))
    })
}

/// A current member the caller reaches, locked for the change, checked
/// against the version read.
async fn lock_member(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: i64,
    version: i32,
) -> ApiResult<member::Model> {
    let select = access::select::<member::Entity>(viewer).filter(member::Column::Id.eq(id));
    let member = write::one_locked(txn, select)
        .await?
        .filter(|m| m.is_active)
        .ok_or_else(|| ApiError::not_found("Member"))?;
    write::check_version("member", version, member.version, || {
        redact(viewer, "Member", member_snapshot(&member))
    })?;
    Ok(member)
}

/// Files a household with its members, as not poor (建档): it is enrolled
/// only through identification with public notice. A retry under the same
/// key returns the first household.
pub async fn file_household(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    key: Option<&str>,
    request: &impl Serialize,
    new: NewHousehold,
    probe_budget: u32,
) -> ApiResult<household::Model> {
    let filed = write::create::<household::Entity, _>(
        db,
        actor,
        key,
        "createHousehold",
        request,
        async |txn| file_in(txn, viewer, new).await,
    )
    .await;
    duplicate::settle(db, viewer, probe_budget, filed).await
}

async fn file_in(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    new: NewHousehold,
) -> ApiResult<Created<household::Model>> {
    let now = Utc::now();
    let village_id = new.village_id;
    let (card, other_causes, rows) = check_new(new, now)?;
    let village = write::one_locked(txn, region::Entity::find_by_id(village_id))
        .await?
        .filter(|v| access::reaches_village(viewer, v))
        .ok_or_else(|| ApiError::not_found("Village"))?;
    region_rules::takes_households(&village, "villageId")?;
    let mut active: household::ActiveModel = household::Model {
        number: next_number(txn, &village).await?,
        village_id: village.id,
        ..card
    }
    .into();
    active.id = sea_orm::ActiveValue::NotSet;
    let created = active.insert(txn).await?;
    let mut audit = vec![Change {
        action: "household.create",
        entity_type: "Household",
        entity_id: created.id,
        before: None,
        after: Some(household_snapshot(&created)),
    }];
    replace_causes(txn, created.id, created.main_cause, &other_causes).await?;
    for (i, member) in rows.into_iter().enumerate() {
        let field = format!("{}.idNumber", new_person(i));
        duplicate::ensure_not_on_file(txn, viewer, &field, &member.id_number, None).await?;
        let member = member::Model {
            household_id: created.id,
            ..member
        };
        audit.push(insert_member(txn, member).await?.1);
    }
    card::record_change(txn, created.id).await?;
    Ok(Created {
        id: created.id,
        row: created,
        audit,
    })
}

/// How the people of a new household are named in errors: the head, then `members[i]`.
fn new_person(i: usize) -> String {
    match i {
        0 => "head".to_owned(),
        i => format!("members[{}]", i - 1),
    }
}

/// A new household's card, other causes and member rows, checked whole
/// before anything is looked up: every bad field is told at once, so that a
/// refusal never depends on what the register holds.
fn check_new(
    new: NewHousehold,
    now: chrono::DateTime<Utc>,
) -> ApiResult<(household::Model, Vec<PovertyCause>, Vec<member::Model>)> {
    let card = new
        .card
        .new_card("conditions.", String::new(), new.village_id, now);
    let mut errors: Vec<ApiError> = card.clone().err().into_iter().collect();
    errors.extend(check_causes(new.card.main_cause, &new.other_causes).err());
    if new.head.relation != Relation::Head {
        errors.push(ApiError::bad_input(
            "head.relation",
            "the head's relation is HEAD",
        ));
    }
    for (i, person) in new.members.iter().enumerate() {
        if person.relation == Relation::Head {
            errors.push(ApiError::bad_input(
                format!("members[{i}].relation"),
                "a household has exactly one head: the `head` field",
            ));
        }
    }
    let parsed: Vec<ApiResult<member::Model>> = std::iter::once(new.head)
        .chain(new.members)
        .enumerate()
        .map(|(i, person)| person.parse(&new_person(i), 0, now))
        .collect();
    let mut rows = Vec::with_capacity(parsed.len());
    for row in parsed {
        match row {
            Ok(row) => rows.push(row),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        errors.extend(check_members(&rows, new_person).err());
    }
    ApiError::gather(errors)?;
    Ok((card?, new.other_causes, rows))
}

/// The next household number of a village: its code and a 5-digit sequence.
/// The caller holds the village row locked, so numbers are handed out one at a time.
async fn next_number(txn: &DatabaseTransaction, village: &region::Model) -> ApiResult<String> {
    let last = household::Entity::find()
        .filter(household::Column::VillageId.eq(village.id))
        .order_by_desc(household::Column::Number)
        .one(txn)
        .await?;
    let sequence = last
        .and_then(|h| h.number.get(12..)?.parse::<u32>().ok())
        .unwrap_or(0)
        + 1;
    if sequence > 99_999 {
        return Err(ApiError::Conflict(format!(
            "village {} has used all household numbers",
            village.code
        )));
    }
    Ok(format!("{}{sequence:05}", village.code))
}

/// Inserts a member; returns it and the audit entry of its creation.
async fn insert_member(
    txn: &DatabaseTransaction,
    row: member::Model,
) -> ApiResult<(member::Model, Change<'static>)> {
    let mut active: member::ActiveModel = row.into();
    active.id = sea_orm::ActiveValue::NotSet;
    let row = active.insert(txn).await?;
    let change = Change {
        action: "member.create",
        entity_type: "Member",
        entity_id: row.id,
        before: None,
        after: Some(member_snapshot(&row)),
    };
    Ok((row, change))
}

async fn save_household(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action: &str,
    before: &household::Model,
    mut after: household::Model,
    reason: Option<&str>,
) -> ApiResult<household::Model> {
    after.version = before.version + 1;
    after.updated_at = Utc::now();
    let saved = after.into_active_model().reset_all().update(txn).await?;
    let mut snapshot = household_snapshot(&saved);
    if let (Some(reason), Some(fields)) = (reason, snapshot.as_object_mut()) {
        fields.insert("reason".into(), reason.into());
    }
    audit::record(
        txn,
        actor,
        Change {
            action,
            entity_type: "Household",
            entity_id: saved.id,
            before: Some(household_snapshot(before)),
            after: Some(snapshot),
        },
    )
    .await?;
    Ok(saved)
}

/// Moves a household to another village (its village merged into that one),
/// with the reason on its audit entry and a card revision before and after;
/// it keeps its number. Call inside the merge's transaction.
pub(crate) async fn move_to_village(
    txn: &DatabaseTransaction,
    actor: &Actor,
    before: household::Model,
    village_id: i64,
    reason: &str,
) -> ApiResult<household::Model> {
    card::keep_before_change(txn, before.id).await?;
    let mut after = before.clone();
    after.village_id = village_id;
    let saved = save_household(txn, actor, "household.move", &before, after, Some(reason)).await?;
    card::record_change(txn, saved.id).await?;
    Ok(saved)
}

async fn save_member(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action: &str,
    before: &member::Model,
    mut after: member::Model,
    reason: Option<&str>,
) -> ApiResult<member::Model> {
    after.version = before.version + 1;
    after.updated_at = Utc::now();
    let saved = after.into_active_model().reset_all().update(txn).await?;
    let mut snapshot = member_snapshot(&saved);
    if let (Some(reason), Some(fields)) = (reason, snapshot.as_object_mut()) {
        fields.insert("reason".into(), reason.into());
    }
    audit::record(
        txn,
        actor,
        Change {
            action,
            entity_type: "Member",
            entity_id: saved.id,
            before: Some(member_snapshot(before)),
            after: Some(snapshot),
        },
    )
    .await?;
    Ok(saved)
}

/// The head of a household's current members.
async fn head_of(txn: &DatabaseTransaction, household_id: i64) -> ApiResult<Option<member::Model>> {
    Ok(member::Entity::find()
        .filter(member::Column::HouseholdId.eq(household_id))
        .filter(member::Column::IsActive.eq(true))
        .filter(member::Column::Relation.eq(Relation::Head))
        .one(txn)
        .await?)
}

/// Changes a card (修改档案); a stale version gets CONFLICT.
pub async fn change_card(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    changes: CardChanges,
) -> ApiResult<household::Model> {
    let txn = write::begin(db).await?;
    let before = lock_household(&txn, viewer, changes.id).await?;
    check_household_version(viewer, changes.version, &before)?;
    card::keep_before_change(&txn, before.id).await?;
    let mut after = before.clone();
    if let Some(text) = &changes.address {
        after.address = address(text)?;
    }
    if let Some(number) = &changes.phone {
        after.phone = phone("phone", Some(number))?;
    }
    if let Some(attribute) = changes.attribute {
        after.attribute = attribute;
    }
    if let Some(standard) = changes.standard {
        after.standard = standard;
    }
    if let Some(main) = changes.main_cause {
        after.main_cause = main;
    }
    if let Some(conditions) = &changes.conditions {
        conditions.write_onto("conditions.", &mut after)?;
    }
    if let Some(guarantees) = &changes.guarantees {
        guarantees.write_onto(&mut after);
    }
    if changes.main_cause.is_some() || changes.other_causes.is_some() {
        let others = match changes.other_causes {
            Some(others) => others,
            None => household_cause::Entity::find()
                .filter(household_cause::Column::HouseholdId.eq(before.id))
                .all(&txn)
                .await?
                .into_iter()
                .map(|c| c.cause)
                .collect(),
        };
        replace_causes(&txn, before.id, after.main_cause, &others).await?;
    }
    let saved = save_household(&txn, actor, "household.update", &before, after, None).await?;
    card::record_change(&txn, saved.id).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Adds a person to a household (增加成员), not as head: the head hands over
/// with [`change_head`]. A retry under the same key returns the first member.
#[allow(clippy::too_many_arguments)]
pub async fn add_member(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    key: Option<&str>,
    request: &impl Serialize,
    household_id: i64,
    person: NewMember,
    probe_budget: u32,
) -> ApiResult<member::Model> {
    let added =
        write::create::<member::Entity, _>(db, actor, key, "addMember", request, async |txn| {
            let home = lock_household(txn, viewer, household_id).await?;
            if person.relation == Relation::Head {
                return Err(ApiError::bad_input(
                    "member.relation",
                    "the household has its head; add the person, then use changeHead",
                ));
            }
            let row = person.parse("member", home.id, Utc::now())?;
            duplicate::ensure_not_on_file(txn, viewer, "member.idNumber", &row.id_number, None)
                .await?;
            card::keep_before_change(txn, home.id).await?;
            let (created, change) = insert_member(txn, row).await?;
            card::record_change(txn, home.id).await?;
            Ok(Created {
                id: created.id,
                row: created,
                audit: vec![change],
            })
        })
        .await;
    duplicate::settle(db, viewer, probe_budget, added).await
}

/// Changes a member's record (修改成员信息); a stale version gets CONFLICT.
pub async fn change_member(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    changes: MemberChanges,
    probe_budget: u32,
) -> ApiResult<member::Model> {
    let changed = change_member_in(db, actor, viewer, changes).await;
    duplicate::settle(db, viewer, probe_budget, changed).await
}

async fn change_member_in(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    changes: MemberChanges,
) -> ApiResult<member::Model> {
    let txn = write::begin(db).await?;
    let before = lock_member(&txn, viewer, changes.id, changes.version).await?;
    let mut after = before.clone();
    if let Some(name) = changes.name {
        after.name = name;
    }
    if let Some(id_number) = changes.id_number {
        if changes.gender.is_none()
            && let Ok(facts) = check_id_number(id_number.trim(), calendar::today())
        {
            after.gender = facts.gender;
        }
        after.id_number = id_number;
    }
    if let Some(gender) = changes.gender {
        after.gender = gender;
    }
    match changes.relation {
        Some(Relation::Head) => {
            return Err(ApiError::bad_input(
                "relation",
                "use changeHead to make a member the head",
            ));
        }
        Some(_) if before.relation == Relation::Head => {
            return Err(ApiError::bad_input(
                "relation",
                "the head stays head until changeHead names another",
            ));
        }
        Some(relation) => after.relation = relation,
        None => {}
    }
    if let Some(code) = &changes.ethnicity {
        after.ethnicity = code.trim().to_owned();
    }
    if let Some(v) = changes.education {
        after.education = v;
    }
    if let Some(v) = changes.student_status {
        after.student_status = v;
    }
    if let Some(v) = changes.health {
        after.health = v;
        after.disability_grade = changes.disability_grade;
    } else if changes.disability_grade.is_some() {
        after.disability_grade = changes.disability_grade;
    }
    if let Some(v) = changes.labour_ability {
        after.labour_ability = v;
    }
    if let Some(v) = changes.migrant_work {
        after.migrant_work = v;
        if v == MigrantWork::None && changes.migrant_months.is_none() {
            after.migrant_months = 0;
        }
    }
    if let Some(v) = changes.migrant_months {
        after.migrant_months = v;
    }
    if let Some(v) = changes.basic_medical_insurance {
        after.basic_medical_insurance = v;
    }
    if let Some(v) = changes.serious_illness_insurance {
        after.serious_illness_insurance = v;
    }
    if let Some(v) = changes.basic_pension {
        after.basic_pension = v;
    }
    check_member("", &mut after).map_err(strip_leading_dot)?;
    if after.id_number != before.id_number {
        duplicate::ensure_not_on_file(&txn, viewer, "idNumber", &after.id_number, Some(before.id))
            .await?;
    }
    card::keep_before_change(&txn, before.household_id).await?;
    let saved = save_member(&txn, actor, "member.update", &before, after, None).await?;
    card::record_change(&txn, saved.household_id).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Errors of a member's change name the field without the prefix a nested
/// member would have.
fn strip_leading_dot(error: ApiError) -> ApiError {
    match error {
        ApiError::BadUserInput {
            field: Some(field),
            message,
        } => ApiError::BadUserInput {
            field: Some(field.trim_start_matches('.').to_owned()),
            message,
        },
        other => other,
    }
}

/// Moves a member to another household (成员迁移), e.g. on marriage or a split.
pub async fn move_member(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    (id, version): (i64, i32),
    to_household_id: i64,
    relation: Relation,
) -> ApiResult<member::Model> {
    let txn = write::begin(db).await?;
    let before = lock_member(&txn, viewer, id, version).await?;
    if before.relation == Relation::Head {
        return Err(ApiError::bad_input(
            "id",
            "the head cannot leave: name another head first (changeHead)",
        ));
    }
    if relation == Relation::Head {
        return Err(ApiError::bad_input(
            "relation",
            "join as a member, then use changeHead",
        ));
    }
    let target = lock_household(&txn, viewer, to_household_id).await?;
    if target.id == before.household_id {
        return Err(ApiError::bad_input(
            "toHouseholdId",
            "the member is already in that household",
        ));
    }
    card::keep_before_change(&txn, before.household_id).await?;
    card::keep_before_change(&txn, target.id).await?;
    let mut after = before.clone();
    after.household_id = target.id;
    after.relation = relation;
    let saved = save_member(&txn, actor, "member.move", &before, after, None).await?;
    card::record_change(&txn, before.household_id).await?;
    card::record_change(&txn, target.id).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Records that a member left the household for good (成员减少): death,
/// marriage out of the county... The record stays, inactive.
pub async fn remove_member(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    (id, version): (i64, i32),
    reason: &str,
) -> ApiResult<member::Model> {
    let reason = free_text("reason", reason, 200)?;
    let txn = write::begin(db).await?;
    let before = lock_member(&txn, viewer, id, version).await?;
    if before.relation == Relation::Head {
        return Err(ApiError::bad_input(
            "id",
            "the head cannot leave: name another head first (changeHead)",
        ));
    }
    card::keep_before_change(&txn, before.household_id).await?;
    let mut after = before.clone();
    after.is_active = false;
    let saved = save_member(&txn, actor, "member.remove", &before, after, Some(&reason)).await?;
    card::record_change(&txn, saved.household_id).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Makes another member the head of household (变更户主); the former head
/// takes `former_head_relation` to the new one.
pub async fn change_head(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    (household_id, version): (i64, i32),
    new_head_id: i64,
    former_head_relation: Relation,
) -> ApiResult<household::Model> {
    let txn = write::begin(db).await?;
    let home = lock_household(&txn, viewer, household_id).await?;
    check_household_version(viewer, version, &home)?;
    if former_head_relation == Relation::Head {
        return Err(ApiError::bad_input(
            "formerHeadRelation",
            "a household has exactly one head",
        ));
    }
    let new_head = member::Entity::find_by_id(new_head_id)
        .one(&txn)
        .await?
        .filter(|m| m.household_id == home.id && m.is_active)
        .ok_or_else(|| {
            ApiError::bad_input(
                "newHeadId",
                "the new head must be a member of the household",
            )
        })?;
    if new_head.relation == Relation::Head {
        return Err(ApiError::bad_input(
            "newHeadId",
            "that member is the head already",
        ));
    }
    card::keep_before_change(&txn, home.id).await?;
    // The former head steps down first: the database allows one head at a time.
    if let Some(former) = head_of(&txn, home.id).await? {
        let mut stepped_down = former.clone();
        stepped_down.relation = former_head_relation;
        save_member(&txn, actor, "member.update", &former, stepped_down, None).await?;
    }
    let mut promoted = new_head.clone();
    promoted.relation = Relation::Head;
    save_member(&txn, actor, "member.update", &new_head, promoted, None).await?;
    let saved = save_household(
        &txn,
        actor,
        "household.change_head",
        &home,
        home.clone(),
        None,
    )
    .await?;
    card::record_change(&txn, home.id).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Records or corrects a household's income for one year (录入年度收入).
pub async fn set_income(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    income: YearIncome,
) -> ApiResult<household_income::Model> {
    check_income(
        ("year", income.year),
        [
            ("wage", income.wage),
            ("production", income.production),
            ("property", income.property),
            ("transfer", income.transfer),
            ("productionCost", income.production_cost),
        ],
    )?;
    let txn = write::begin(db).await?;
    let home = lock_household(&txn, viewer, income.household_id).await?;
    let size = match income.household_size {
        Some(size) if size > 0 => size,
        Some(_) => {
            return Err(ApiError::bad_input(
                "householdSize",
                "the household size is at least 1",
            ));
        }
        None => {
            let members = member::Entity::find()
                .filter(member::Column::HouseholdId.eq(home.id))
                .filter(member::Column::IsActive.eq(true))
                .count(&txn)
                .await?;
            i32::try_from(members.max(1)).unwrap_or(i32::MAX)
        }
    };
    let existing = write::one_locked(
        &txn,
        household_income::Entity::find_by_id((home.id, income.year)),
    )
    .await?;
    if let Some(current) = &existing {
        let stated = income.version.ok_or_else(|| {
            ApiError::bad_input(
                "version",
                format!("{} is recorded: state the version you read", income.year),
            )
        })?;
        write::check_version("income", stated, current.version, || {
            redact(viewer, "HouseholdIncome", income_snapshot(current))
        })?;
    }
    let net = income.wage + income.production + income.property + income.transfer
        - income.production_cost;
    card::keep_before_change(&txn, home.id).await?;
    let row = household_income::ActiveModel {
        household_id: Set(home.id),
        year: Set(income.year),
        wage_fen: Set(income.wage),
        production_fen: Set(income.production),
        property_fen: Set(income.property),
        transfer_fen: Set(income.transfer),
        production_cost_fen: Set(income.production_cost),
        household_size: Set(size),
        per_capita_net_fen: Set(household_income::per_capita_net_fen(net, size)),
        version: Set(existing.as_ref().map_or(1, |e| e.version + 1)),
        updated_at: Set(Utc::now()),
    };
    let saved = if existing.is_some() {
        row.update(&txn).await?
    } else {
        row.insert(&txn).await?
    };
    audit::record(
        &txn,
        actor,
        Change {
            action: if existing.is_some() {
                "income.update"
            } else {
                "income.create"
            },
            entity_type: "HouseholdIncome",
            entity_id: home.id,
            before: existing.as_ref().map(income_snapshot),
            after: Some(income_snapshot(&saved)),
        },
    )
    .await?;
    card::record_change(&txn, home.id).await?;
    txn.commit().await?;
    Ok(saved)
}
