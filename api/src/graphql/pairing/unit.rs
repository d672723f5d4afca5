//! Who helps a village (因村派人): helper units paired with villages (单位包村),
//! and the first secretary and resident working team posted there (驻村力量).
//! Both are posted on village boards, so names are public; staff phones are not.

use crate::graphql::date::Day;
use async_graphql::{Context, ID, InputObject, Object};
use entity::enums::{HelperUnitKind, VillageStaffRole};
use entity::{helper_unit, region, unit_pairing, village_staff};

use super::super::account::Account;
use super::super::region::Village;
use super::super::relay::{
    Conn, KeyType, NodeKind, PageArgs, SortKey, decode_id_of, global_id, page_cost, paginate,
};
use crate::access;
use crate::domain::pairing::{self as pairings, NewPosting};
use crate::error::ApiResult;
use crate::graphql::context::{actor, db, loaders, page, viewer};

/// Helper units are listed by name.
const BY_NAME: SortKey<helper_unit::Entity> = SortKey {
    name: "name",
    column: helper_unit::Column::Name,
    key_type: KeyType::Text,
    descending: false,
    value_of: |m| m.name.clone(),
};

pub struct HelperUnit(pub helper_unit::Model);

/// Its relations go through the DataLoaders.
impl crate::graphql::prefetch::Prefetch for HelperUnit {
    type Row = entity::helper_unit::Model;
}

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
    async fn started_on(&self) -> Day {
        Day(self.0.started_on)
    }
    /// Last day, once ended (解除日期).
    async fn ended_on(&self) -> Option<Day> {
        self.0.ended_on.map(Day)
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
    async fn started_on(&self) -> Day {
        Day(self.0.started_on)
    }
    /// Last day of the posting, once ended (离岗日期).
    async fn ended_on(&self) -> Option<Day> {
        self.0.ended_on.map(Day)
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

/// Decodes the global ID of a helper unit.
fn decode_unit(id: &ID, field: &str) -> ApiResult<i64> {
    Ok(decode_id_of(id, field, &[NodeKind::HelperUnit])?.1)
}

/// Decodes the global ID of a village.
fn decode_village(id: &ID, field: &str) -> ApiResult<i64> {
    Ok(decode_id_of(id, field, &[NodeKind::Village])?.1)
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
    started_on: Option<Day>,
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
        let key = idempotency_key.as_deref();
        let unit =
            pairings::create_helper_unit(db(ctx)?, viewer(ctx)?, &actor, key, &name, kind).await?;
        Ok(HelperUnit(unit))
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
        let unit = decode_unit(&unit_id, "unitId")?;
        let village = decode_village(&village_id, "villageId")?;
        let key = idempotency_key.as_deref();
        let pairing =
            pairings::pair_unit_with_village(db(ctx)?, viewer(ctx)?, &actor, key, unit, village)
                .await?;
        Ok(UnitPairing(pairing))
    }

    /// Ends the current pairing of a helper unit with a village (解除单位包村).
    async fn end_unit_pairing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The helper unit (帮扶单位).")] unit_id: ID,
        #[graphql(desc = "The village (帮扶村).")] village_id: ID,
    ) -> ApiResult<UnitPairing> {
        let actor = actor(ctx)?;
        let unit = decode_unit(&unit_id, "unitId")?;
        let village = decode_village(&village_id, "villageId")?;
        let pairing =
            pairings::end_unit_pairing(db(ctx)?, viewer(ctx)?, &actor, unit, village).await?;
        Ok(UnitPairing(pairing))
    }

    /// Posts a first secretary or resident team member to a village (选派驻村干部).
    /// A village has one serving first secretary at a time.
    async fn appoint_village_staff(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The posting (驻村干部).")] input: AppointVillageStaffInput,
    ) -> ApiResult<VillageStaff> {
        let actor = actor(ctx)?;
        let posting = NewPosting {
            village_id: decode_village(&input.village_id, "villageId")?,
            role: input.role,
            name: input.name,
            username: input.username,
            unit_id: input
                .unit_id
                .as_ref()
                .map(|id| decode_unit(id, "unitId"))
                .transpose()?,
            phone: input.phone,
            started_on: input.started_on.map(Into::into),
        };
        let key = input.idempotency_key.as_deref();
        let staff =
            pairings::appoint_village_staff(db(ctx)?, viewer(ctx)?, &actor, key, posting).await?;
        Ok(VillageStaff(staff))
    }

    /// Ends a posting to a village (驻村干部离岗).
    async fn end_village_staff(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The posting (驻村干部).")] id: ID,
        #[graphql(desc = "The version the change was made from (版本号).")] version: i32,
        #[graphql(desc = "Last day of the posting; today if left out (离岗日期).")]
        ended_on: Option<Day>,
    ) -> ApiResult<VillageStaff> {
        let actor = actor(ctx)?;
        let (_, id) = decode_id_of(&id, "id", &[NodeKind::VillageStaff])?;
        let staff = pairings::end_village_staff(
            db(ctx)?,
            viewer(ctx)?,
            &actor,
            id,
            version,
            ended_on.map(Into::into),
        )
        .await?;
        Ok(VillageStaff(staff))
    }
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
        #[graphql(
            desc = "Items from the start of the list, or after `after`: 0 to the maximum page size (100 unless the server sets `--max-page-size`); 20 when neither `first` nor `last` is given (每页条数)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Cursor of an edge of this list: the page starts after it (游标).")]
        after: Option<String>,
        #[graphql(
            desc = "Items from the end of the list, or before `before`: 0 to the maximum page size (100 unless the server sets `--max-page-size`); not with `first` (每页条数)."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor of an edge of this list: the page ends before it, paging backwards; with `last`, not with `after` (游标)."
        )]
        before: Option<String>,
    ) -> ApiResult<Conn<HelperUnit>> {
        let select = access::select::<helper_unit::Entity>(viewer(ctx)?);
        let page = page(ctx, PageArgs::new(first, after, last, before))?;
        paginate(ctx, select, &BY_NAME, page, HelperUnit).await
    }
}
