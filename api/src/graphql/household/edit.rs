//! Editing the filing card: households, their members and yearly incomes,
//! as the API takes them; the rules and writes are in `domain::household`.

use async_graphql::{Context, ID, InputObject, Object};
use entity::enums::{
    DilapidatedGrade, Education, Gender, Health, HouseholdAttribute, IdentificationStandard,
    LabourAbility, MigrantWork, PovertyCause, Relation, StudentStatus,
};
use serde::Serialize;

use super::{Household, HouseholdIncome, Member};
use crate::config::Limits;
use crate::domain::household::change::{
    self, CardChanges, MemberChanges, NewHousehold, YearIncome,
};
use crate::domain::household::{CardFields, Conditions, Guarantees, NewMember};
use crate::error::ApiResult;
use crate::graphql::context::{actor, data, db, viewer};
use crate::graphql::money::Money;
use crate::graphql::relay::{NodeKind, decode_id_of};

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

impl MemberInput {
    fn to_domain(&self) -> NewMember {
        NewMember {
            name: self.name.clone(),
            id_number: self.id_number.clone(),
            gender: self.gender,
            relation: self.relation,
            ethnicity: self.ethnicity.clone(),
            education: self.education,
            student_status: self.student_status,
            health: self.health,
            disability_grade: self.disability_grade,
            labour_ability: self.labour_ability,
            migrant_work: self.migrant_work,
            migrant_months: self.migrant_months,
            basic_medical_insurance: self.basic_medical_insurance,
            serious_illness_insurance: self.serious_illness_insurance,
            basic_pension: self.basic_pension,
            active: true,
        }
    }
}

impl From<&LivingConditionsInput> for Conditions {
    fn from(c: &LivingConditionsInput) -> Self {
        Conditions {
            cultivated_land_mu: c.cultivated_land_mu,
            housing_area_m2: c.housing_area_m2,
            dilapidated_grade: c.dilapidated_grade,
            safe_drinking_water: c.safe_drinking_water,
            production_electricity: c.production_electricity,
            household_electricity: c.household_electricity,
            road_distance_km: c.road_distance_km,
            joined_cooperative: c.joined_cooperative,
        }
    }
}

impl From<&GuaranteesInput> for Guarantees {
    fn from(g: &GuaranteesInput) -> Self {
        Guarantees {
            food: g.food,
            clothing: g.clothing,
            compulsory_education: g.compulsory_education,
            basic_medical: g.basic_medical,
            safe_housing: g.safe_housing,
        }
    }
}

fn member_id(id: &ID) -> ApiResult<i64> {
    Ok(decode_id_of(id, "id", &[NodeKind::Member])?.1)
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
        #[graphql(desc = "The household's card and members (建档立卡).")]
        input: CreateHouseholdInput,
    ) -> ApiResult<Household> {
        let (_, village_id) = decode_id_of(&input.village_id, "villageId", &[NodeKind::Village])?;
        let new = NewHousehold {
            village_id,
            card: CardFields {
                address: input.address.clone(),
                phone: input.phone.clone(),
                attribute: input.attribute,
                standard: input.identification_standard,
                main_cause: input.main_cause,
                conditions: (&input.conditions).into(),
                guarantees: (&input.guarantees).into(),
            },
            other_causes: input.other_causes.clone(),
            head: input.head.to_domain(),
            members: input.members.iter().map(MemberInput::to_domain).collect(),
        };
        let key = input.idempotency_key.as_deref();
        let (actor, viewer) = (actor(ctx)?, viewer(ctx)?);
        let budget = data::<Limits>(ctx)?.register_probes_per_hour;
        let filed =
            change::file_household(db(ctx)?, &actor, viewer, key, &input, new, budget).await?;
        Ok(Household(filed))
    }

    /// Changes a household's card (修改档案); stale versions get CONFLICT.
    async fn update_household(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The household and what changes (户信息变更).")] input: HouseholdPatch,
    ) -> ApiResult<Household> {
        let (_, id) = decode_id_of(&input.id, "id", &[NodeKind::Household])?;
        let changes = CardChanges {
            id,
            version: input.version,
            address: input.address,
            phone: input.phone,
            attribute: input.attribute,
            standard: input.identification_standard,
            main_cause: input.main_cause,
            other_causes: input.other_causes,
            conditions: input.conditions.as_ref().map(Into::into),
            guarantees: input.guarantees.as_ref().map(Into::into),
        };
        let saved = change::change_card(db(ctx)?, &actor(ctx)?, viewer(ctx)?, changes).await?;
        Ok(Household(saved))
    }

    /// Adds a person to a household (增加成员); not as head: use `changeHead` after.
    async fn add_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The household (贫困户).")] household_id: ID,
        #[graphql(desc = "The new member (新增成员).")] member: MemberInput,
        #[graphql(desc = "The client's key for this request (幂等键).")] idempotency_key: Option<
            String,
        >,
    ) -> ApiResult<Member> {
        let (_, home) = decode_id_of(&household_id, "householdId", &[NodeKind::Household])?;
        let person = member.to_domain();
        let request = (&household_id, &member);
        let key = idempotency_key.as_deref();
        let (actor, viewer) = (actor(ctx)?, viewer(ctx)?);
        let budget = data::<Limits>(ctx)?.register_probes_per_hour;
        let added = change::add_member(
            db(ctx)?,
            &actor,
            viewer,
            key,
            &request,
            home,
            person,
            budget,
        )
        .await?;
        Ok(Member(added))
    }

    /// Changes a member's record (修改成员信息); stale versions get CONFLICT.
    async fn update_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member and what changes (成员信息变更).")] input: MemberPatch,
    ) -> ApiResult<Member> {
        let changes = MemberChanges {
            id: member_id(&input.id)?,
            version: input.version,
            name: input.name,
            id_number: input.id_number,
            gender: input.gender,
            relation: input.relation,
            ethnicity: input.ethnicity,
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
        };
        let budget = data::<Limits>(ctx)?.register_probes_per_hour;
        let saved =
            change::change_member(db(ctx)?, &actor(ctx)?, viewer(ctx)?, changes, budget).await?;
        Ok(Member(saved))
    }

    /// Moves a member to another household (成员迁移), e.g. on marriage or a split.
    async fn move_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member (成员).")] id: ID,
        #[graphql(desc = "The member's version read (版本号).")] version: i32,
        #[graphql(desc = "The household they join (迁入户).")] to_household_id: ID,
        #[graphql(desc = "Their relation to the new household's head (与新户主关系).")]
        relation: Relation,
    ) -> ApiResult<Member> {
        let id = member_id(&id)?;
        let (_, to) = decode_id_of(&to_household_id, "toHouseholdId", &[NodeKind::Household])?;
        let (actor, viewer) = (actor(ctx)?, viewer(ctx)?);
        let moved =
            change::move_member(db(ctx)?, &actor, viewer, (id, version), to, relation).await?;
        Ok(Member(moved))
    }

    /// Records that a member left the household for good (成员减少): death,
    /// marriage out of the county... The record stays, inactive.
    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member (成员).")] id: ID,
        #[graphql(desc = "The member's version read (版本号).")] version: i32,
        #[graphql(desc = "Why they left (减少原因).")] reason: String,
    ) -> ApiResult<Member> {
        let id = member_id(&id)?;
        let (actor, viewer) = (actor(ctx)?, viewer(ctx)?);
        let removed =
            change::remove_member(db(ctx)?, &actor, viewer, (id, version), &reason).await?;
        Ok(Member(removed))
    }

    /// Makes another member the head of household (变更户主).
    async fn change_head(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The household (贫困户).")] household_id: ID,
        #[graphql(desc = "The household's version, read with its members (户版本号).")]
        version: i32,
        #[graphql(desc = "The new head, a member of the household (新户主).")] new_head_id: ID,
        #[graphql(desc = "The former head's relation to the new one (原户主与新户主关系).")]
        former_head_relation: Relation,
    ) -> ApiResult<Household> {
        let (_, home) = decode_id_of(&household_id, "householdId", &[NodeKind::Household])?;
        let (_, new_head) = decode_id_of(&new_head_id, "newHeadId", &[NodeKind::Member])?;
        let (actor, viewer) = (actor(ctx)?, viewer(ctx)?);
        let household = (home, version);
        let saved = change::change_head(
            db(ctx)?,
            &actor,
            viewer,
            household,
            new_head,
            former_head_relation,
        )
        .await?;
        Ok(Household(saved))
    }

    /// Records or corrects a household's income for one year (录入年度收入).
    async fn set_income(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The household's income of a year (年度收入).")] input: IncomeInput,
    ) -> ApiResult<HouseholdIncome> {
        let (_, household_id) =
            decode_id_of(&input.household_id, "householdId", &[NodeKind::Household])?;
        let income = YearIncome {
            household_id,
            year: input.year,
            version: input.version,
            wage: input.wage.0,
            production: input.production.0,
            property: input.property.0,
            transfer: input.transfer.0,
            production_cost: input.production_cost.0,
            household_size: input.household_size,
        };
        let saved = change::set_income(db(ctx)?, &actor(ctx)?, viewer(ctx)?, income).await?;
        Ok(HouseholdIncome(saved))
    }
}
