//! Editing the filing card: households, their members and yearly incomes.
//! A new household is filed as not poor; it is enrolled only through
//! identification with public notice (the lifecycle module).

use async_graphql::{Context, ID, InputObject, Object};
use chrono::Utc;
use entity::enums::{
    DilapidatedGrade, Education, Gender, Health, HouseholdAttribute, HouseholdStatus,
    IdentificationStandard, LabourAbility, MigrantWork, PovertyCause, Relation, StudentStatus,
};
use entity::{household, household_cause, household_income, member, region};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;

use super::{Household, HouseholdIncome, Member};
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::codes::check_id_number;
use crate::domain::calendar;
use crate::domain::card::{self, household_snapshot, income_snapshot, member_snapshot};
use crate::domain::household::{
    amount, check_income, check_member, check_members, ensure_not_on_file, replace_causes,
};
use crate::domain::text::phone;
use crate::domain::write::{self, Created};
use crate::error::{ApiError, ApiResult};
use crate::graphql::money::Money;
use crate::graphql::relay::{NodeKind, decode_id_of};
use crate::graphql::{actor, db, required_text, viewer};
use crate::permissions::redact;

/// A person on a filing card (家庭成员信息).
#[derive(InputObject, Serialize, Clone)]
pub struct MemberInput {
    /// Name (姓名).
    name: String,
    /// Resident ID number (居民身份证号), checked against GB 11643.
    id_number: String,
    /// Gender (性别); taken from the ID number when left out, and must agree with it.
    gender: Option<Gender>,
    /// Relation to the head (与户主关系).
    relation: Relation,
    /// GB/T 3304 ethnicity code (民族代码), e.g. "01" for Han.
    ethnicity: String,
    /// Education attained (文化程度).
    education: Education,
    /// Current school stage (在校生状况).
    student_status: StudentStatus,
    /// Health condition (健康状况).
    health: Health,
    /// Disability grade 1-4 (残疾等级), exactly when disabled.
    disability_grade: Option<i16>,
    /// Labour ability (劳动技能).
    labour_ability: LabourAbility,
    /// Migrant work (务工状况).
    migrant_work: MigrantWork,
    /// Months of migrant work in the year, 0-12 (务工时间).
    #[graphql(default)]
    migrant_months: i16,
    /// Basic medical insurance (基本医疗保险).
    basic_medical_insurance: bool,
    /// Serious-illness insurance (大病保险).
    serious_illness_insurance: bool,
    /// Basic pension (基本养老保险).
    basic_pension: bool,
}

/// Changes to a member; fields left out stay as they are (成员信息变更).
#[derive(InputObject, Serialize, Clone)]
pub struct MemberPatch {
    /// The member (成员ID).
    id: ID,
    /// The version of the member the change was made from (版本号).
    version: i32,
    /// Name (姓名).
    name: Option<String>,
    /// Resident ID number (居民身份证号).
    id_number: Option<String>,
    /// Gender (性别).
    gender: Option<Gender>,
    /// Relation to the head, other than head: use `changeHead` (与户主关系).
    relation: Option<Relation>,
    /// Ethnicity code (民族代码).
    ethnicity: Option<String>,
    /// Education attained (文化程度).
    education: Option<Education>,
    /// Current school stage (在校生状况).
    student_status: Option<StudentStatus>,
    /// Health condition (健康状况).
    health: Option<Health>,
    /// Disability grade (残疾等级); send it with `health`.
    disability_grade: Option<i16>,
    /// Labour ability (劳动技能).
    labour_ability: Option<LabourAbility>,
    /// Migrant work (务工状况).
    migrant_work: Option<MigrantWork>,
    /// Months of migrant work (务工时间).
    migrant_months: Option<i16>,
    /// Basic medical insurance (基本医疗保险).
    basic_medical_insurance: Option<bool>,
    /// Serious-illness insurance (大病保险).
    serious_illness_insurance: Option<bool>,
    /// Basic pension (基本养老保险).
    basic_pension: Option<bool>,
}

/// Production and living conditions (生产生活条件).
#[derive(InputObject, Serialize, Clone)]
pub struct LivingConditionsInput {
    /// Cultivated land, mu (耕地面积).
    cultivated_land_mu: f64,
    /// Housing area, m² (住房面积).
    housing_area_m2: f64,
    /// Dilapidated house grade, if it is one (危房等级).
    dilapidated_grade: Option<DilapidatedGrade>,
    /// Safe drinking water (饮水安全).
    safe_drinking_water: bool,
    /// Electricity for production (生产用电).
    production_electricity: bool,
    /// Electricity for the household (生活用电).
    household_electricity: bool,
    /// Distance to the village's main road, km (距村主干路距离).
    road_distance_km: f64,
    /// Joined a farmers' cooperative (加入合作社).
    joined_cooperative: bool,
}

/// The "two no-worries, three guarantees" (两不愁三保障); water is in the conditions.
#[derive(InputObject, Serialize, Clone)]
pub struct GuaranteesInput {
    /// No worries about food (不愁吃).
    food: bool,
    /// No worries about clothing (不愁穿).
    clothing: bool,
    /// Compulsory education guaranteed (义务教育有保障).
    compulsory_education: bool,
    /// Basic medical care guaranteed (基本医疗有保障).
    basic_medical: bool,
    /// Safe housing guaranteed (住房安全有保障).
    safe_housing: bool,
}

/// A household to put on file (新建农户档案).
#[derive(InputObject, Serialize, Clone)]
pub struct CreateHouseholdInput {
    /// The village (所属村).
    village_id: ID,
    /// Home address (家庭住址).
    address: String,
    /// Contact phone (联系电话).
    phone: Option<String>,
    /// Household attribute (贫困户属性).
    attribute: HouseholdAttribute,
    /// Identification standard (识别标准).
    identification_standard: IdentificationStandard,
    /// Main cause of poverty (主要致贫原因).
    main_cause: PovertyCause,
    /// Other causes (其他致贫原因).
    #[graphql(default)]
    other_causes: Vec<PovertyCause>,
    /// Production and living conditions (生产生活条件).
    conditions: LivingConditionsInput,
    /// The guarantees (两不愁三保障).
    guarantees: GuaranteesInput,
    /// The head of household, relation HEAD (户主).
    head: MemberInput,
    /// The other members (其他成员).
    #[graphql(default)]
    members: Vec<MemberInput>,
    /// The client's key for this request: a retry returns the first household (幂等键).
    #[serde(skip)]
    idempotency_key: Option<String>,
}

/// Changes to a household's card; fields left out stay as they are (档案变更).
#[derive(InputObject, Serialize, Clone)]
pub struct HouseholdPatch {
    /// The household (户ID).
    id: ID,
    /// The version the change was made from (版本号).
    version: i32,
    /// Home address (家庭住址).
    address: Option<String>,
    /// Contact phone; an empty string clears it (联系电话).
    phone: Option<String>,
    /// Household attribute (贫困户属性).
    attribute: Option<HouseholdAttribute>,
    /// Identification standard (识别标准).
    identification_standard: Option<IdentificationStandard>,
    /// Main cause of poverty (主要致贫原因).
    main_cause: Option<PovertyCause>,
    /// Other causes, replacing the current ones (其他致贫原因).
    other_causes: Option<Vec<PovertyCause>>,
    /// Production and living conditions, replacing the current ones (生产生活条件).
    conditions: Option<LivingConditionsInput>,
    /// The guarantees, replacing the current ones (两不愁三保障).
    guarantees: Option<GuaranteesInput>,
}

/// A household's income for one year (年度收入录入). Amounts in yuan, none negative.
#[derive(InputObject, Serialize, Clone)]
pub struct IncomeInput {
    /// The household (户ID).
    household_id: ID,
    /// The year (年度).
    year: i32,
    /// Required when the year is already recorded: the version it was read at (版本号).
    version: Option<i32>,
    /// Wage income (工资性收入).
    wage: Money,
    /// Production and business income (生产经营性收入).
    production: Money,
    /// Property income (财产性收入).
    property: Money,
    /// Transfer income (转移性收入).
    transfer: Money,
    /// Production and business costs (生产经营性支出).
    production_cost: Money,
    /// Persons the per-capita figure counts; default: the current members (计算人口).
    household_size: Option<i32>,
}

fn new_member(input: &MemberInput, household_id: i64) -> ApiResult<member::Model> {
    let gender = input.gender.or_else(|| {
        check_id_number(input.id_number.trim(), calendar::today())
            .ok()
            .map(|f| f.gender)
    });
    let now = Utc::now();
    Ok(member::Model {
        id: 0,
        household_id,
        name: input.name.clone(),
        gender: gender.unwrap_or(Gender::Male),
        id_number: input.id_number.clone(),
        relation: input.relation,
        ethnicity: input.ethnicity.trim().to_owned(),
        education: input.education,
        student_status: input.student_status,
        health: input.health,
        disability_grade: input.disability_grade,
        labour_ability: input.labour_ability,
        migrant_work: input.migrant_work,
        migrant_months: input.migrant_months,
        basic_medical_insurance: input.basic_medical_insurance,
        serious_illness_insurance: input.serious_illness_insurance,
        basic_pension: input.basic_pension,
        is_active: true,
        version: 1,
        created_at: now,
        updated_at: now,
    })
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

fn apply_conditions(h: &mut household::Model, c: &LivingConditionsInput) -> ApiResult<()> {
    h.cultivated_land_mu = amount("conditions.cultivatedLandMu", c.cultivated_land_mu)?;
    h.housing_area_m2 = amount("conditions.housingAreaM2", c.housing_area_m2)?;
    h.road_distance_km = amount("conditions.roadDistanceKm", c.road_distance_km)?;
    h.dilapidated_grade = c.dilapidated_grade;
    h.safe_drinking_water = c.safe_drinking_water;
    h.production_electricity = c.production_electricity;
    h.household_electricity = c.household_electricity;
    h.joined_cooperative = c.joined_cooperative;
    Ok(())
}

fn apply_guarantees(h: &mut household::Model, g: &GuaranteesInput) {
    h.food_secure = g.food;
    h.clothing_secure = g.clothing;
    h.compulsory_education_secure = g.compulsory_education;
    h.basic_medical_secure = g.basic_medical;
    h.housing_secure = g.safe_housing;
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

/// A household the caller reaches, locked for the change.
pub async fn household_for_change(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: &ID,
    field: &str,
) -> ApiResult<household::Model> {
    let (_, raw) = decode_id_of(id, field, &[NodeKind::Household])?;
    household_for_change_by_id(txn, viewer, raw).await
}

/// Like [`household_for_change`], by database ID.
pub async fn household_for_change_by_id(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<household::Model> {
    let select = access::select::<household::Entity>(viewer).filter(household::Column::Id.eq(id));
    write::one_locked(txn, select)
        .await?
        .ok_or_else(|| ApiError::not_found("Household"))
}

/// A member the caller reaches, locked for the change, checked against the version read.
async fn member_for_change(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: &ID,
    version: i32,
) -> ApiResult<member::Model> {
    let (_, raw) = decode_id_of(id, "id", &[NodeKind::Member])?;
    let select = access::select::<member::Entity>(viewer).filter(member::Column::Id.eq(raw));
    let member = write::one_locked(txn, select)
        .await?
        .filter(|m| m.is_active)
        .ok_or_else(|| ApiError::not_found("Member"))?;
    write::check_version("member", version, member.version, || {
        redact(viewer, "Member", member_snapshot(&member))
    })?;
    Ok(member)
}

/// A household the caller reaches, by global ID.
pub(crate) async fn reachable_household(ctx: &Context<'_>, id: &ID) -> ApiResult<household::Model> {
    let (_, raw) = decode_id_of(id, "householdId", &[NodeKind::Household])?;
    access::select::<household::Entity>(viewer(ctx)?)
        .filter(household::Column::Id.eq(raw))
        .one(db(ctx)?)
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

async fn save_household(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action: &str,
    before: &household::Model,
    mut after: household::Model,
) -> ApiResult<household::Model> {
    after.version = before.version + 1;
    after.updated_at = Utc::now();
    let saved = after.into_active_model().reset_all().update(txn).await?;
    audit::record(
        txn,
        actor,
        Change {
            action,
            entity_type: "Household",
            entity_id: saved.id,
            before: Some(household_snapshot(before)),
            after: Some(household_snapshot(&saved)),
        },
    )
    .await?;
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

/// Files a household in `village_id` with its members, as not poor.
async fn create_household(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    village_id: i64,
    input: &CreateHouseholdInput,
) -> ApiResult<Created<household::Model>> {
    let village = write::one_locked(txn, region::Entity::find_by_id(village_id))
        .await?
        .filter(|v| access::reaches_village(viewer, v))
        .ok_or_else(|| ApiError::not_found("Village"))?;
    if input.head.relation != Relation::Head {
        return Err(ApiError::bad_input(
            "head.relation",
            "the head's relation is HEAD",
        ));
    }
    if let Some(i) = input
        .members
        .iter()
        .position(|m| m.relation == Relation::Head)
    {
        return Err(ApiError::bad_input(
            format!("members[{i}].relation"),
            "a household has exactly one head: the `head` field",
        ));
    }
    let now = Utc::now();
    let mut row = household::Model {
        id: 0,
        number: next_number(txn, &village).await?,
        village_id: village.id,
        address: required_text(&input.address, "address", 200)?,
        phone: phone("phone", input.phone.as_deref())?,
        attribute: input.attribute,
        standard: input.identification_standard,
        status: HouseholdStatus::NotPoor,
        enrolled_year: None,
        lifted_out_year: None,
        monitoring: None,
        main_cause: input.main_cause,
        cultivated_land_mu: 0.0,
        housing_area_m2: 0.0,
        dilapidated_grade: None,
        safe_drinking_water: false,
        production_electricity: false,
        household_electricity: false,
        road_distance_km: 0.0,
        joined_cooperative: false,
        food_secure: false,
        clothing_secure: false,
        compulsory_education_secure: false,
        basic_medical_secure: false,
        housing_secure: false,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    apply_conditions(&mut row, &input.conditions)?;
    apply_guarantees(&mut row, &input.guarantees);
    let mut active: household::ActiveModel = row.into();
    active.id = sea_orm::ActiveValue::NotSet;
    let created = active.insert(txn).await?;
    let mut audit = vec![Change {
        action: "household.create",
        entity_type: "Household",
        entity_id: created.id,
        before: None,
        after: Some(household_snapshot(&created)),
    }];
    replace_causes(txn, created.id, input.main_cause, &input.other_causes).await?;
    let people = std::iter::once(("head".to_owned(), &input.head)).chain(
        input
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| (format!("members[{i}]"), m)),
    );
    let mut rows = Vec::with_capacity(input.members.len() + 1);
    for (field, person) in people {
        let mut member = new_member(person, created.id)?;
        check_member(&field, &mut member)?;
        rows.push(member);
    }
    let named = |i: usize| match i {
        0 => "head".to_owned(),
        i => format!("members[{}]", i - 1),
    };
    check_members(&rows, named)?;
    for (i, member) in rows.into_iter().enumerate() {
        let field = format!("{}.idNumber", named(i));
        ensure_not_on_file(txn, &field, &member.id_number, None).await?;
        audit.push(insert_member(txn, member).await?.1);
    }
    card::record_change(txn, created.id).await?;
    Ok(Created {
        id: created.id,
        row: created,
        audit,
    })
}

#[derive(Default)]
pub struct HouseholdMutation;

#[Object]
impl HouseholdMutation {
    /// Puts a household on file with its members (建档), as not poor: it is
    /// enrolled only through identification with public notice (`propose`).
    async fn create_household(
        &self,
        ctx: &Context<'_>,
        input: CreateHouseholdInput,
    ) -> ApiResult<Household> {
        let viewer = viewer(ctx)?;
        let actor = actor(ctx)?;
        let key = input.idempotency_key.as_deref();
        let (_, village_id) = decode_id_of(&input.village_id, "villageId", &[NodeKind::Village])?;
        let created = write::create::<household::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "createHousehold",
            &input,
            async |txn| create_household(txn, viewer, village_id, &input).await,
        )
        .await?;
        Ok(Household(created))
    }

    /// Changes a household's card (修改档案); stale versions get CONFLICT.
    async fn update_household(
        &self,
        ctx: &Context<'_>,
        input: HouseholdPatch,
    ) -> ApiResult<Household> {
        let viewer = viewer(ctx)?;
        let actor = actor(ctx)?;
        let txn = write::begin(db(ctx)?).await?;
        let before = household_for_change(&txn, viewer, &input.id, "id").await?;
        check_household_version(viewer, input.version, &before)?;
        card::keep_before_change(&txn, before.id).await?;
        let mut after = before.clone();
        if let Some(address) = &input.address {
            after.address = required_text(address, "address", 200)?;
        }
        if let Some(number) = &input.phone {
            after.phone = phone("phone", Some(number))?;
        }
        if let Some(attribute) = input.attribute {
            after.attribute = attribute;
        }
        if let Some(standard) = input.identification_standard {
            after.standard = standard;
        }
        if let Some(main) = input.main_cause {
            after.main_cause = main;
        }
        if let Some(conditions) = &input.conditions {
            apply_conditions(&mut after, conditions)?;
        }
        if let Some(guarantees) = &input.guarantees {
            apply_guarantees(&mut after, guarantees);
        }
        if input.main_cause.is_some() || input.other_causes.is_some() {
            let others = match &input.other_causes {
                Some(others) => others.clone(),
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
        let saved = save_household(&txn, &actor, "household.update", &before, after).await?;
        card::record_change(&txn, saved.id).await?;
        txn.commit().await?;
        Ok(Household(saved))
    }

    /// Adds a person to a household (增加成员); not as head: use `changeHead` after.
    async fn add_member(
        &self,
        ctx: &Context<'_>,
        household_id: ID,
        member: MemberInput,
        #[graphql(desc = "The client's key for this request (幂等键).")] idempotency_key: Option<
            String,
        >,
    ) -> ApiResult<Member> {
        let viewer = viewer(ctx)?;
        let actor = actor(ctx)?;
        let key = idempotency_key.as_deref();
        let request = (&household_id, &member);
        let created = write::create::<member::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "addMember",
            &request,
            async |txn| {
                let home = household_for_change(txn, viewer, &household_id, "householdId").await?;
                if member.relation == Relation::Head {
                    return Err(ApiError::bad_input(
                        "member.relation",
                        "the household has its head; add the person, then use changeHead",
                    ));
                }
                let mut row = new_member(&member, home.id)?;
                check_member("member", &mut row)?;
                ensure_not_on_file(txn, "member.idNumber", &row.id_number, None).await?;
                card::keep_before_change(txn, home.id).await?;
                let (created, change) = insert_member(txn, row).await?;
                card::record_change(txn, home.id).await?;
                Ok(Created {
                    id: created.id,
                    row: created,
                    audit: vec![change],
                })
            },
        )
        .await?;
        Ok(Member(created))
    }

    /// Changes a member's record (修改成员信息); stale versions get CONFLICT.
    async fn update_member(&self, ctx: &Context<'_>, input: MemberPatch) -> ApiResult<Member> {
        let viewer = viewer(ctx)?;
        let actor = actor(ctx)?;
        let txn = write::begin(db(ctx)?).await?;
        let before = member_for_change(&txn, viewer, &input.id, input.version).await?;
        let mut after = before.clone();
        if let Some(name) = &input.name {
            after.name = name.clone();
        }
        if let Some(id_number) = &input.id_number {
            after.id_number = id_number.clone();
            if input.gender.is_none()
                && let Ok(facts) = check_id_number(id_number.trim(), calendar::today())
            {
                after.gender = facts.gender;
            }
        }
        if let Some(gender) = input.gender {
            after.gender = gender;
        }
        match input.relation {
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
        if let Some(code) = &input.ethnicity {
            after.ethnicity = code.trim().to_owned();
        }
        if let Some(v) = input.education {
            after.education = v;
        }
        if let Some(v) = input.student_status {
            after.student_status = v;
        }
        if let Some(v) = input.health {
            after.health = v;
            after.disability_grade = input.disability_grade;
        } else if input.disability_grade.is_some() {
            after.disability_grade = input.disability_grade;
        }
        if let Some(v) = input.labour_ability {
            after.labour_ability = v;
        }
        if let Some(v) = input.migrant_work {
            after.migrant_work = v;
            if v == MigrantWork::None && input.migrant_months.is_none() {
                after.migrant_months = 0;
            }
        }
        if let Some(v) = input.migrant_months {
            after.migrant_months = v;
        }
        if let Some(v) = input.basic_medical_insurance {
            after.basic_medical_insurance = v;
        }
        if let Some(v) = input.serious_illness_insurance {
            after.serious_illness_insurance = v;
        }
        if let Some(v) = input.basic_pension {
            after.basic_pension = v;
        }
        check_member("", &mut after).map_err(strip_leading_dot)?;
        if after.id_number != before.id_number {
            ensure_not_on_file(&txn, "idNumber", &after.id_number, Some(before.id)).await?;
        }
        card::keep_before_change(&txn, before.household_id).await?;
        let saved = save_member(&txn, &actor, "member.update", &before, after, None).await?;
        card::record_change(&txn, saved.household_id).await?;
        txn.commit().await?;
        Ok(Member(saved))
    }

    /// Moves a member to another household (成员迁移), e.g. on marriage or a split.
    async fn move_member(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        #[graphql(desc = "The household they join (迁入户).")] to_household_id: ID,
        #[graphql(desc = "Their relation to the new household's head (与新户主关系).")]
        relation: Relation,
    ) -> ApiResult<Member> {
        let viewer = viewer(ctx)?;
        let actor = actor(ctx)?;
        let txn = write::begin(db(ctx)?).await?;
        let before = member_for_change(&txn, viewer, &id, version).await?;
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
        let target = household_for_change(&txn, viewer, &to_household_id, "toHouseholdId").await?;
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
        let saved = save_member(&txn, &actor, "member.move", &before, after, None).await?;
        card::record_change(&txn, before.household_id).await?;
        card::record_change(&txn, target.id).await?;
        txn.commit().await?;
        Ok(Member(saved))
    }

    /// Records that a member left the household for good (成员减少): death,
    /// marriage out of the county... The record stays, inactive.
    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        #[graphql(desc = "Why they left (减少原因).")] reason: String,
    ) -> ApiResult<Member> {
        let viewer = viewer(ctx)?;
        let actor = actor(ctx)?;
        let reason = required_text(&reason, "reason", 200)?;
        let txn = write::begin(db(ctx)?).await?;
        let before = member_for_change(&txn, viewer, &id, version).await?;
        if before.relation == Relation::Head {
            return Err(ApiError::bad_input(
                "id",
                "the head cannot leave: name another head first (changeHead)",
            ));
        }
        card::keep_before_change(&txn, before.household_id).await?;
        let mut after = before.clone();
        after.is_active = false;
        let saved =
            save_member(&txn, &actor, "member.remove", &before, after, Some(&reason)).await?;
        card::record_change(&txn, saved.household_id).await?;
        txn.commit().await?;
        Ok(Member(saved))
    }

    /// Makes another member the head of household (变更户主).
    async fn change_head(
        &self,
        ctx: &Context<'_>,
        household_id: ID,
        #[graphql(desc = "The household's version, read with its members (户版本号).")]
        version: i32,
        #[graphql(desc = "The new head, a member of the household (新户主).")] new_head_id: ID,
        #[graphql(desc = "The former head's relation to the new one (原户主与新户主关系).")]
        former_head_relation: Relation,
    ) -> ApiResult<Household> {
        let viewer = viewer(ctx)?;
        let actor = actor(ctx)?;
        let txn = write::begin(db(ctx)?).await?;
        let home = household_for_change(&txn, viewer, &household_id, "householdId").await?;
        check_household_version(viewer, version, &home)?;
        if former_head_relation == Relation::Head {
            return Err(ApiError::bad_input(
                "formerHeadRelation",
                "a household has exactly one head",
            ));
        }
        let (_, new_id) = decode_id_of(&new_head_id, "newHeadId", &[NodeKind::Member])?;
        let new_head = member::Entity::find_by_id(new_id)
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
            save_member(&txn, &actor, "member.update", &former, stepped_down, None).await?;
        }
        let mut promoted = new_head.clone();
        promoted.relation = Relation::Head;
        save_member(&txn, &actor, "member.update", &new_head, promoted, None).await?;
        let saved =
            save_household(&txn, &actor, "household.change_head", &home, home.clone()).await?;
        card::record_change(&txn, home.id).await?;
        txn.commit().await?;
        Ok(Household(saved))
    }

    /// Records or corrects a household's income for one year (录入年度收入).
    async fn set_income(
        &self,
        ctx: &Context<'_>,
        input: IncomeInput,
    ) -> ApiResult<HouseholdIncome> {
        let viewer = viewer(ctx)?;
        let actor = actor(ctx)?;
        check_income(
            ("year", input.year),
            [
                ("wage", input.wage.0),
                ("production", input.production.0),
                ("property", input.property.0),
                ("transfer", input.transfer.0),
                ("productionCost", input.production_cost.0),
            ],
        )?;
        let txn = write::begin(db(ctx)?).await?;
        let home = household_for_change(&txn, viewer, &input.household_id, "householdId").await?;
        let size = match input.household_size {
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
            household_income::Entity::find_by_id((home.id, input.year)),
        )
        .await?;
        if let Some(current) = &existing {
            let stated = input.version.ok_or_else(|| {
                ApiError::bad_input(
                    "version",
                    format!("{} is recorded: state the version you read", input.year),
                )
            })?;
            write::check_version("income", stated, current.version, || {
                redact(viewer, "HouseholdIncome", income_snapshot(current))
            })?;
        }
        let net = input.wage.0 + input.production.0 + input.property.0 + input.transfer.0
            - input.production_cost.0;
        card::keep_before_change(&txn, home.id).await?;
        let row = household_income::ActiveModel {
            household_id: Set(home.id),
            year: Set(input.year),
            wage_fen: Set(input.wage.0),
            production_fen: Set(input.production.0),
            property_fen: Set(input.property.0),
            transfer_fen: Set(input.transfer.0),
            production_cost_fen: Set(input.production_cost.0),
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
            &actor,
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
        Ok(HouseholdIncome(saved))
    }
}

/// Errors of a patch name the field without the prefix a nested input would have.
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
