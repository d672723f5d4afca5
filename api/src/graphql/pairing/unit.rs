//! Who helps a village (因村派人): helper units paired with villages (单位包村),
//! and the first secretary and resident working team posted there (驻村力量).
//! Both are posted on village boards, so names are public; staff phones are not.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{Datelike, NaiveDate, Utc};
use entity::enums::{HelperUnitKind, VillageStaffRole};
use entity::{app_user, helper_unit, region, unit_pairing, village_staff};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use serde_json::json;

use super::super::account::Account;
use super::super::region::{Village, find_region};
use super::super::relay::{
    Conn, KeyType, NodeKind, PageArgs, SortKey, decode_id_of, global_id, page_cost, paginate,
};
use super::super::{actor, db, loaders, optional_text, page, required_text, viewer};
use crate::access::{self, Viewer};
use crate::audit::{self, Change};
use crate::domain::calendar;
use crate::domain::write::{self, Created};
use crate::error::{ApiError, ApiResult};
use crate::permissions;

/// Longest unit name, in characters (as the column holds).
const MAX_UNIT_NAME_CHARS: usize = 100;
/// Longest staff name, in characters.
const MAX_STAFF_NAME_CHARS: usize = 50;
/// Longest phone number, in characters.
const MAX_PHONE_CHARS: usize = 20;
/// First secretaries were first sent to poor villages in 2013 and after.
const FIRST_POSTING_YEAR: i32 = 2013;

/// Helper units are listed by name.
const BY_NAME: SortKey<helper_unit::Entity> = SortKey {
    name: "name",
    column: helper_unit::Column::Name,
    key_type: KeyType::Text,
    descending: false,
    value_of: |m| m.name.clone(),
};

pub struct HelperUnit(pub helper_unit::Model);

/// A unit that helps villages (帮扶单位): a department, an institution, an enterprise.
#[Object]
impl HelperUnit {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::HelperUnit, self.0.id)
    }
    /// Name (单位名称).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Kind of unit (单位类型).
    async fn kind(&self) -> HelperUnitKind {
        self.0.kind
    }
    /// Villages it helps now, in code order (帮扶村).
    async fn villages(&self, ctx: &Context<'_>) -> ApiResult<Vec<Village>> {
        let loaders = loaders(ctx)?;
        let pairings = loaders
            .unit_pairings_by_unit
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        let villages = loaders
            .regions
            .load_many(pairings.iter().map(|p| p.village_id))
            .await?;
        let mut villages: Vec<region::Model> = villages.into_values().collect();
        villages.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(villages.into_iter().map(Village).collect())
    }
}

pub struct UnitPairing(pub unit_pairing::Model);

/// A helper unit paired with a village (单位包村).
#[Object]
impl UnitPairing {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::UnitPairing, self.0.id)
    }
    /// The helper unit (帮扶单位).
    async fn unit(&self, ctx: &Context<'_>) -> ApiResult<Option<HelperUnit>> {
        Ok(loaders(ctx)?
            .helper_units
            .load_one(self.0.unit_id)
            .await?
            .map(HelperUnit))
    }
    /// The village helped (帮扶村).
    async fn village(&self, ctx: &Context<'_>) -> ApiResult<Option<Village>> {
        Ok(loaders(ctx)?
            .regions
            .load_one(self.0.village_id)
            .await?
            .map(Village))
    }
    /// First day of the pairing (结对日期).
    async fn started_on(&self) -> NaiveDate {
        self.0.started_on
    }
    /// Last day, once ended (解除日期).
    async fn ended_on(&self) -> Option<NaiveDate> {
        self.0.ended_on
    }
}

pub struct VillageStaff(pub village_staff::Model);

/// A first secretary or member of a village's resident working team (驻村干部).
#[Object]
impl VillageStaff {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::VillageStaff, self.0.id)
    }
    /// The village they serve (驻村).
    async fn village(&self, ctx: &Context<'_>) -> ApiResult<Option<Village>> {
        Ok(loaders(ctx)?
            .regions
            .load_one(self.0.village_id)
            .await?
            .map(Village))
    }
    /// Role (职务).
    async fn role(&self) -> VillageStaffRole {
        self.0.role
    }
    /// Name (姓名).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Their account (账号), when they have one and the reader may see it.
    async fn account(&self, ctx: &Context<'_>) -> ApiResult<Option<Account>> {
        let Some(user_id) = self.0.user_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?.users.load_one(user_id).await?.map(Account))
    }
    /// The unit that sent them (派出单位).
    async fn unit(&self, ctx: &Context<'_>) -> ApiResult<Option<HelperUnit>> {
        let Some(unit_id) = self.0.unit_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .helper_units
            .load_one(unit_id)
            .await?
            .map(HelperUnit))
    }
    /// Contact phone number (联系电话).
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// First day of the posting (到岗日期).
    async fn started_on(&self) -> NaiveDate {
        self.0.started_on
    }
    /// Last day of the posting, once ended (离岗日期).
    async fn ended_on(&self) -> Option<NaiveDate> {
        self.0.ended_on
    }
    /// Version of the record, for detecting concurrent edits (版本号).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// Helper units that help a village now, by name.
pub async fn helper_units_of(ctx: &Context<'_>, village_id: i64) -> ApiResult<Vec<HelperUnit>> {
    let loaders = loaders(ctx)?;
    let pairings = loaders
        .unit_pairings_by_village
        .load_one(village_id)
        .await?
        .unwrap_or_default();
    let units = loaders
        .helper_units
        .load_many(pairings.iter().map(|p| p.unit_id))
        .await?;
    let mut units: Vec<helper_unit::Model> = units.into_values().collect();
    units.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(units.into_iter().map(HelperUnit).collect())
}

/// The staff serving a village now: the first secretary, then the team leader
/// and members, each in the order they were appointed.
pub async fn serving_staff_of(ctx: &Context<'_>, village_id: i64) -> ApiResult<Vec<VillageStaff>> {
    let mut staff = loaders(ctx)?
        .village_serving_staff
        .load_one(village_id)
        .await?
        .unwrap_or_default();
    staff.sort_by_key(|s| (s.role != VillageStaffRole::FirstSecretary, s.role, s.id));
    Ok(staff.into_iter().map(VillageStaff).collect())
}

fn unit_snapshot(unit: &helper_unit::Model) -> serde_json::Value {
    json!({
        "id": global_id(NodeKind::HelperUnit, unit.id),
        "name": unit.name,
        "kind": unit.kind,
    })
}

fn pairing_snapshot(pairing: &unit_pairing::Model) -> serde_json::Value {
    json!({
        "id": global_id(NodeKind::UnitPairing, pairing.id),
        "unit": global_id(NodeKind::HelperUnit, pairing.unit_id),
        "village": global_id(NodeKind::Village, pairing.village_id),
        "startedOn": pairing.started_on,
        "endedOn": pairing.ended_on,
    })
}

fn staff_snapshot(staff: &village_staff::Model, account: Option<&str>) -> serde_json::Value {
    json!({
        "id": global_id(NodeKind::VillageStaff, staff.id),
        "village": global_id(NodeKind::Village, staff.village_id),
        "role": staff.role,
        "name": staff.name,
        "account": account,
        "unit": staff.unit_id.map(|id| global_id(NodeKind::HelperUnit, id)),
        "phone": staff.phone,
        "startedOn": staff.started_on,
        "endedOn": staff.ended_on,
        "version": staff.version,
    })
}

/// Refuses a township officer a village outside their township.
fn check_in_charge(viewer: &Viewer, village: &region::Model) -> ApiResult<()> {
    match &viewer.user()?.region_prefix {
        Some(prefix) if !village.code.starts_with(prefix.as_str()) => Err(ApiError::Forbidden(
            format!("the village {} is outside your township", village.name),
        )),
        _ => Ok(()),
    }
}

/// A village the caller looks after, by global ID.
async fn village_in_charge(ctx: &Context<'_>, id: &ID, field: &str) -> ApiResult<region::Model> {
    let village = find_region(ctx, id, field, &[NodeKind::Village]).await?;
    check_in_charge(viewer(ctx)?, &village)?;
    Ok(village)
}

async fn helper_unit(ctx: &Context<'_>, id: &ID, field: &str) -> ApiResult<helper_unit::Model> {
    let (_, raw) = decode_id_of(id, field, &[NodeKind::HelperUnit])?;
    loaders(ctx)?
        .helper_units
        .load_one(raw)
        .await?
        .ok_or_else(|| ApiError::not_found("HelperUnit"))
}

/// A date of a posting: not in the future, not before postings began.
fn check_posting_day(day: NaiveDate, field: &str) -> ApiResult<NaiveDate> {
    if day > calendar::today() {
        return Err(ApiError::bad_input(
            field,
            "a posting day may not be in the future",
        ));
    }
    if day.year() < FIRST_POSTING_YEAR {
        return Err(ApiError::bad_input(
            field,
            format!("postings began in {FIRST_POSTING_YEAR}"),
        ));
    }
    Ok(day)
}

/// A phone number: digits, with an optional leading `+` and `-` or spaces between.
fn check_phone(phone: Option<&str>) -> ApiResult<Option<String>> {
    let Some(phone) = optional_text(phone, "phone", MAX_PHONE_CHARS)? else {
        return Ok(None);
    };
    let body = phone.strip_prefix('+').unwrap_or(&phone);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    if digits < 7
        || !body
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == ' ')
    {
        return Err(ApiError::bad_input(
            "phone",
            "a phone number has at least 7 digits, with `-` or spaces between",
        ));
    }
    Ok(Some(phone))
}

/// The message of a second serving first secretary.
fn first_secretary_taken(village: &region::Model) -> ApiError {
    ApiError::Conflict(format!(
        "the village {} already has a serving first secretary: end that posting first",
        village.name
    ))
}

async fn serving_first_secretary(
    txn: &DatabaseTransaction,
    village_id: i64,
) -> ApiResult<Option<village_staff::Model>> {
    Ok(village_staff::Entity::find()
        .filter(village_staff::Column::VillageId.eq(village_id))
        .filter(village_staff::Column::Role.eq(VillageStaffRole::FirstSecretary))
        .filter(village_staff::Column::EndedOn.is_null())
        .one(txn)
        .await?)
}

/// A posting to a village (驻村任职).
#[derive(InputObject)]
pub struct AppointVillageStaffInput {
    /// The village (驻村).
    village_id: ID,
    /// Role (职务).
    role: VillageStaffRole,
    /// Name, at most 50 characters (姓名).
    name: String,
    /// Username of their account, if they have one (账号).
    username: Option<String>,
    /// The unit that sent them (派出单位).
    unit_id: Option<ID>,
    /// Contact phone number (联系电话).
    phone: Option<String>,
    /// First day of the posting; today if left out (到岗日期).
    started_on: Option<NaiveDate>,
    /// Client-chosen key: a retried request returns the first posting (幂等键).
    idempotency_key: Option<String>,
}

#[derive(Default)]
pub struct UnitMutation;

#[Object]
impl UnitMutation {
    /// Registers a helper unit (新增帮扶单位).
    async fn create_helper_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Name, unique, at most 100 characters (单位名称).")] name: String,
        #[graphql(desc = "Kind of unit (单位类型).")] kind: HelperUnitKind,
        #[graphql(desc = "Client-chosen key: a retried request returns the first unit (幂等键).")]
        idempotency_key: Option<String>,
    ) -> ApiResult<HelperUnit> {
        let actor = actor(ctx)?;
        viewer(ctx)?.user()?;
        let name = required_text(&name, "name", MAX_UNIT_NAME_CHARS)?;
        let request = json!({ "name": name, "kind": kind });
        let key = idempotency_key.as_deref();
        let created = write::create::<helper_unit::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "createHelperUnit",
            &request,
            async |txn| {
                let taken = || ApiError::Conflict(format!("a helper unit named {name} exists"));
                let existing = helper_unit::Entity::find()
                    .filter(helper_unit::Column::Name.eq(&name))
                    .one(txn)
                    .await?;
                if existing.is_some() {
                    return Err(taken());
                }
                let now = Utc::now();
                let unit = helper_unit::ActiveModel {
                    name: Set(name.clone()),
                    kind: Set(kind),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(txn)
                .await
                .map_err(|e| match ApiError::from(e) {
                    ApiError::Conflict(_) => taken(),
                    other => other,
                })?;
                Ok(Created::new(
                    unit.id,
                    "helper_unit.create",
                    "HelperUnit",
                    unit_snapshot(&unit),
                    unit,
                ))
            },
        )
        .await?;
        Ok(HelperUnit(created))
    }

    /// Pairs a helper unit with a village (单位包村).
    async fn pair_unit_with_village(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The helper unit (帮扶单位).")] unit_id: ID,
        #[graphql(desc = "The village (帮扶村).")] village_id: ID,
        #[graphql(
            desc = "Client-chosen key: a retried request returns the first pairing (幂等键)."
        )]
        idempotency_key: Option<String>,
    ) -> ApiResult<UnitPairing> {
        let actor = actor(ctx)?;
        viewer(ctx)?.user()?;
        let unit = helper_unit(ctx, &unit_id, "unitId").await?;
        let village = village_in_charge(ctx, &village_id, "villageId").await?;
        let request = json!({ "unit": unit.id, "village": village.id });
        let key = idempotency_key.as_deref();
        let created = write::create::<unit_pairing::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "pairUnitWithVillage",
            &request,
            async |txn| {
                let taken = || {
                    ApiError::Conflict(format!(
                        "{} already helps the village {}",
                        unit.name, village.name
                    ))
                };
                let active = unit_pairing::Entity::find()
                    .filter(unit_pairing::Column::UnitId.eq(unit.id))
                    .filter(unit_pairing::Column::VillageId.eq(village.id))
                    .filter(unit_pairing::Column::EndedOn.is_null())
                    .one(txn)
                    .await?;
                if active.is_some() {
                    return Err(taken());
                }
                let now = Utc::now();
                let pairing = unit_pairing::ActiveModel {
                    unit_id: Set(unit.id),
                    village_id: Set(village.id),
                    started_on: Set(calendar::today()),
                    ended_on: Set(None),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(txn)
                .await
                .map_err(|e| match ApiError::from(e) {
                    ApiError::Conflict(_) => taken(),
                    other => other,
                })?;
                Ok(Created::new(
                    pairing.id,
                    "unit_pairing.create",
                    "UnitPairing",
                    pairing_snapshot(&pairing),
                    pairing,
                ))
            },
        )
        .await?;
        Ok(UnitPairing(created))
    }

    /// Ends the current pairing of a helper unit with a village (解除单位包村).
    async fn end_unit_pairing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The helper unit (帮扶单位).")] unit_id: ID,
        #[graphql(desc = "The village (帮扶村).")] village_id: ID,
    ) -> ApiResult<UnitPairing> {
        let actor = actor(ctx)?;
        let unit = helper_unit(ctx, &unit_id, "unitId").await?;
        let village = village_in_charge(ctx, &village_id, "villageId").await?;
        let txn = write::begin(db(ctx)?).await?;
        let active = unit_pairing::Entity::find()
            .filter(unit_pairing::Column::UnitId.eq(unit.id))
            .filter(unit_pairing::Column::VillageId.eq(village.id))
            .filter(unit_pairing::Column::EndedOn.is_null());
        let before = write::one_locked(&txn, active)
            .await?
            .ok_or_else(|| ApiError::not_found("UnitPairing"))?;
        let mut ended: unit_pairing::ActiveModel = before.clone().into();
        ended.ended_on = Set(Some(calendar::today().max(before.started_on)));
        ended.version = Set(before.version + 1);
        ended.updated_at = Set(Utc::now());
        let pairing = ended.update(&txn).await?;
        let change = Change {
            action: "unit_pairing.end",
            entity_type: "UnitPairing",
            entity_id: pairing.id,
            before: Some(pairing_snapshot(&before)),
            after: Some(pairing_snapshot(&pairing)),
        };
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
        Ok(UnitPairing(pairing))
    }

    /// Posts a first secretary or resident team member to a village (选派驻村干部).
    /// A village has one serving first secretary at a time.
    async fn appoint_village_staff(
        &self,
        ctx: &Context<'_>,
        input: AppointVillageStaffInput,
    ) -> ApiResult<VillageStaff> {
        let actor = actor(ctx)?;
        viewer(ctx)?.user()?;
        let name = required_text(&input.name, "name", MAX_STAFF_NAME_CHARS)?;
        let phone = check_phone(input.phone.as_deref())?;
        let started_on = check_posting_day(
            input.started_on.unwrap_or_else(calendar::today),
            "startedOn",
        )?;
        let village = village_in_charge(ctx, &input.village_id, "villageId").await?;
        let account = match optional_text(input.username.as_deref(), "username", 64)? {
            Some(username) => Some(active_account(ctx, &username).await?),
            None => None,
        };
        let unit = match &input.unit_id {
            Some(id) => Some(helper_unit(ctx, id, "unitId").await?),
            None => None,
        };
        let request = json!({
            "village": village.id,
            "role": input.role,
            "name": name,
            "account": account.as_ref().map(|a| a.id),
            "unit": unit.as_ref().map(|u| u.id),
            "phone": phone,
            "startedOn": started_on,
        });
        let key = input.idempotency_key.as_deref();
        let created = write::create::<village_staff::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "appointVillageStaff",
            &request,
            async |txn| {
                if input.role == VillageStaffRole::FirstSecretary
                    && serving_first_secretary(txn, village.id).await?.is_some()
                {
                    return Err(first_secretary_taken(&village));
                }
                let now = Utc::now();
                let staff = village_staff::ActiveModel {
                    village_id: Set(village.id),
                    role: Set(input.role),
                    name: Set(name),
                    user_id: Set(account.as_ref().map(|a| a.id)),
                    unit_id: Set(unit.as_ref().map(|u| u.id)),
                    phone: Set(phone),
                    started_on: Set(started_on),
                    ended_on: Set(None),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(txn)
                .await
                .map_err(|e| match ApiError::from(e) {
                    ApiError::Conflict(_) => first_secretary_taken(&village),
                    other => other,
                })?;
                let username = account.as_ref().map(|a| a.username.as_str());
                Ok(Created::new(
                    staff.id,
                    "village_staff.appoint",
                    "VillageStaff",
                    staff_snapshot(&staff, username),
                    staff,
                ))
            },
        )
        .await?;
        Ok(VillageStaff(created))
    }

    /// Ends a posting to a village (驻村干部离岗).
    async fn end_village_staff(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The posting (驻村干部).")] id: ID,
        #[graphql(desc = "The version the change was made from (版本号).")] version: i32,
        #[graphql(desc = "Last day of the posting; today if left out (离岗日期).")]
        ended_on: Option<NaiveDate>,
    ) -> ApiResult<VillageStaff> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let (_, raw) = decode_id_of(&id, "id", &[NodeKind::VillageStaff])?;
        let ended_on = check_posting_day(ended_on.unwrap_or_else(calendar::today), "endedOn")?;
        let txn = write::begin(db(ctx)?).await?;
        let select = access::select::<village_staff::Entity>(viewer)
            .filter(village_staff::Column::Id.eq(raw));
        let before = write::one_locked(&txn, select)
            .await?
            .ok_or_else(|| ApiError::not_found("VillageStaff"))?;
        let village = region::Entity::find_by_id(before.village_id)
            .one(&txn)
            .await?
            .ok_or_else(|| ApiError::Internal(format!("staff {} has no village", before.id)))?;
        check_in_charge(viewer, &village)?;
        let account = match before.user_id {
            Some(id) => app_user::Entity::find_by_id(id).one(&txn).await?,
            None => None,
        };
        let username = account.as_ref().map(|a| a.username.as_str());
        write::check_version("posting", version, before.version, || {
            permissions::redact(viewer, "VillageStaff", staff_snapshot(&before, username))
        })?;
        if let Some(day) = before.ended_on {
            return Err(ApiError::bad_input(
                "id",
                format!("the posting already ended on {day}"),
            ));
        }
        if ended_on < before.started_on {
            return Err(ApiError::bad_input(
                "endedOn",
                format!("the posting began on {}", before.started_on),
            ));
        }
        let mut ended: village_staff::ActiveModel = before.clone().into();
        ended.ended_on = Set(Some(ended_on));
        ended.version = Set(before.version + 1);
        ended.updated_at = Set(Utc::now());
        let staff = ended.update(&txn).await?;
        let change = Change {
            action: "village_staff.end",
            entity_type: "VillageStaff",
            entity_id: staff.id,
            before: Some(staff_snapshot(&before, username)),
            after: Some(staff_snapshot(&staff, username)),
        };
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
        Ok(VillageStaff(staff))
    }
}

/// An active account, by username.
async fn active_account(ctx: &Context<'_>, username: &str) -> ApiResult<app_user::Model> {
    app_user::Entity::find()
        .filter(app_user::Column::Username.eq(username))
        .one(db(ctx)?)
        .await?
        .filter(|u| u.is_active)
        .ok_or_else(|| {
            ApiError::bad_input("username", format!("`{username}` is not an active account"))
        })
}

#[derive(Default)]
pub struct UnitQuery;

#[Object]
impl UnitQuery {
    /// Helper units, by name (帮扶单位).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn helper_units(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<Conn<HelperUnit>> {
        let select = access::select::<helper_unit::Entity>(viewer(ctx)?);
        let page = page(ctx, PageArgs::new(first, after, last, before))?;
        paginate(db(ctx)?, select, &BY_NAME, page, HelperUnit).await
    }
}
