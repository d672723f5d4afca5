//! Poor households and their members: the filing card (建档立卡).

mod booklet;
mod card;
mod edit;
mod filter;

use crate::graphql::date::Day;
use async_graphql::{Context, ID, Lookahead, Object, SimpleObject};
use chrono::NaiveDate;
use entity::enums::{
    DilapidatedGrade, Education, Gender, Health, HouseholdAttribute, HouseholdStatus,
    IdentificationStandard, LabourAbility, MigrantWork, MonitoringCategory, PovertyCause, Relation,
    StudentStatus,
};
use entity::{
    ethnicity, household, household_income, member, poverty_line, provincial_poverty_line, region,
};
use sea_orm::{QueryFilter, QueryOrder};

pub use booklet::Booklet;
pub use card::CardAsOf;
pub use edit::HouseholdMutation;
pub use filter::{HouseholdFilter, HouseholdOrder};

use super::context::{db, loaders, page, paginate_nested, viewer};
use super::enterprise::link::{self, BenefitLink};
use super::lifecycle::{self, MonitoringCase, Proposal, StatusChange};
use super::microcredit::{self, Loan};
use super::money::Money;
use super::pairing::Pairing;
use super::pairing::visit::{self, Visit};
use super::plan::{self, Plan};
use super::prefetch::{Prefetch, fetch, fill};
use super::region::Village;
use super::relay::{
    Conn, NodeKind, PageArgs, ParentColumn, decode_id_of, global_id, page_cost, paginate,
};
use crate::access;
use crate::error::{ApiError, ApiResult};

/// Households named by a client's filter and order: the whole register, or the
/// households of one village.
pub async fn list(
    ctx: &Context<'_>,
    village: Option<i64>,
    filter: Option<HouseholdFilter>,
    order_by: Option<HouseholdOrder>,
    args: PageArgs,
) -> ApiResult<Conn<Household>> {
    let condition = filter::condition(ctx, filter.unwrap_or_default()).await?;
    let select = access::select::<household::Entity>(viewer(ctx)?).filter(condition);
    let key = match order_by {
        Some(order) => {
            order.check(viewer(ctx)?)?;
            order.sort_key()
        }
        None => HouseholdOrder::default().sort_key(),
    };
    match village {
        Some(village) => {
            let parent = ParentColumn {
                table: "household",
                column: "village_id",
            };
            paginate_nested(ctx, select, parent, village, key, args, Household).await
        }
        None => paginate(ctx, select, &key, page(ctx, args)?, Household).await,
    }
}

/// The household of ID `id`, if the viewer reaches it, with the relations
/// `selection` asks of it read ahead.
pub async fn one(
    ctx: &Context<'_>,
    selection: &Lookahead<'_>,
    id: i64,
) -> ApiResult<Option<Household>> {
    let Some(row) = fetch(&loaders(ctx)?.households, [id]).await?.remove(&id) else {
        return Ok(None);
    };
    Household::prefetch(ctx, selection, std::slice::from_ref(&row)).await?;
    Ok(Some(Household(row)))
}

pub struct Household(pub household::Model);

/// Fields of a household answered from its current members.
const FROM_MEMBERS: [&str; 3] = ["members", "head", "size"];

impl Prefetch for Household {
    type Row = household::Model;

    async fn prefetch(
        ctx: &Context<'_>,
        selection: &Lookahead<'_>,
        rows: &[household::Model],
    ) -> ApiResult<()> {
        let loaders = loaders(ctx)?;
        let ids = || rows.iter().map(|h| h.id);
        let village = selection.field("village");
        let villages = async {
            if !village.exists() {
                return Ok(());
            }
            let villages = fetch(&loaders.regions, rows.iter().map(|h| h.village_id)).await?;
            let villages: Vec<region::Model> = villages.into_values().collect();
            Village::prefetch(ctx, &village, &villages).await
        };
        let members = async {
            if FROM_MEMBERS.iter().any(|f| selection.field(f).exists()) {
                fill(&loaders.household_members, ids()).await?;
            }
            Ok(())
        };
        let incomes = async {
            let asked = selection.field("incomes");
            if !asked.exists() && !selection.field("income").exists() {
                return Ok(());
            }
            let incomes = fetch(&loaders.household_incomes, ids()).await?;
            let incomes: Vec<household_income::Model> = incomes.into_values().flatten().collect();
            HouseholdIncome::prefetch(ctx, &asked, &incomes).await
        };
        let causes = async {
            if selection.field("otherCauses").exists() {
                fill(&loaders.household_causes, ids()).await?;
            }
            Ok(())
        };
        let pairings = async {
            if selection.field("pairings").exists() {
                fill(&loaders.household_pairings, ids()).await?;
            }
            Ok(())
        };
        futures::try_join!(villages, members, incomes, causes, pairings)?;
        Ok(())
    }
}

/// A poor household's filing card (建档立卡贫困户).
#[Object]
impl Household {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Household, self.0.id)
    }
    /// Household number (户编号).
    async fn number(&self) -> &str {
        &self.0.number
    }
    /// The village of the household (所属村).
    async fn village(&self, ctx: &Context<'_>) -> ApiResult<Option<Village>> {
        Ok(loaders(ctx)?
            .regions
            .load_one(self.0.village_id)
            .await?
            .map(Village))
    }
    /// Home address (家庭住址).
    async fn address(&self) -> Option<&str> {
        Some(&self.0.address)
    }
    /// Contact phone number (联系电话).
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// Household attribute (贫困户属性).
    async fn attribute(&self) -> HouseholdAttribute {
        self.0.attribute
    }
    /// Identification standard (识别标准).
    async fn identification_standard(&self) -> IdentificationStandard {
        self.0.standard
    }
    /// Poverty status (贫困状态).
    async fn status(&self) -> HouseholdStatus {
        self.0.status
    }
    /// Year the household was identified and enrolled (识别年度).
    async fn enrolled_year(&self) -> Option<i32> {
        self.0.enrolled_year
    }
    /// Year it was lifted out of poverty (脱贫年度), if it was.
    async fn lifted_out_year(&self) -> Option<i32> {
        self.0.lifted_out_year
    }
    /// Monitoring category for return to poverty (防返贫监测类别), if monitored.
    async fn monitoring(&self) -> Option<MonitoringCategory> {
        self.0.monitoring
    }
    /// Main cause of poverty (主要致贫原因).
    async fn main_cause(&self) -> PovertyCause {
        self.0.main_cause
    }
    /// Other causes of poverty (其他致贫原因).
    async fn other_causes(&self, ctx: &Context<'_>) -> ApiResult<Vec<PovertyCause>> {
        let causes = loaders(ctx)?.household_causes.load_one(self.0.id).await?;
        Ok(causes
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.cause)
            .collect())
    }
    /// Production and living conditions (生产生活条件).
    async fn conditions(&self) -> LivingConditions {
        let h = &self.0;
        LivingConditions {
            cultivated_land_mu: h.cultivated_land_mu,
            housing_area_m2: h.housing_area_m2,
            is_dilapidated: h.dilapidated_grade.is_some(),
            dilapidated_grade: h.dilapidated_grade,
            safe_drinking_water: h.safe_drinking_water,
            production_electricity: h.production_electricity,
            household_electricity: h.household_electricity,
            road_distance_km: h.road_distance_km,
            joined_cooperative: h.joined_cooperative,
        }
    }
    /// The "two no-worries, three guarantees" (两不愁三保障) and safe drinking water.
    async fn guarantees(&self) -> Guarantees {
        let h = &self.0;
        Guarantees {
            food: h.food_secure,
            clothing: h.clothing_secure,
            compulsory_education: h.compulsory_education_secure,
            basic_medical: h.basic_medical_secure,
            safe_housing: h.housing_secure,
            safe_drinking_water: h.safe_drinking_water,
            all_met: h.food_secure
                && h.clothing_secure
                && h.compulsory_education_secure
                && h.basic_medical_secure
                && h.housing_secure
                && h.safe_drinking_water,
        }
    }
    /// Current members, the head first (家庭成员).
    async fn members(&self, ctx: &Context<'_>) -> ApiResult<Vec<Member>> {
        let mut members = loaders(ctx)?
            .household_members
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        members.sort_by_key(|m| (m.relation != Relation::Head, m.id));
        Ok(members.into_iter().map(Member).collect())
    }
    /// The head of household (户主).
    async fn head(&self, ctx: &Context<'_>) -> ApiResult<Option<Member>> {
        let members = loaders(ctx)?
            .household_members
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        Ok(members
            .into_iter()
            .find(|m| m.relation == Relation::Head)
            .map(Member))
    }
    /// Number of current members (家庭人口数).
    async fn size(&self, ctx: &Context<'_>) -> ApiResult<usize> {
        let members = loaders(ctx)?.household_members.load_one(self.0.id).await?;
        Ok(members.map_or(0, |m| m.len()))
    }
    /// Income by year, oldest first (年度收入).
    async fn incomes(&self, ctx: &Context<'_>) -> ApiResult<Option<Vec<HouseholdIncome>>> {
        Ok(Some(incomes_of(ctx, self.0.id).await?))
    }
    /// Income of one year (某年收入), if recorded.
    async fn income(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year (年度).")] year: i32,
    ) -> ApiResult<Option<HouseholdIncome>> {
        let incomes = loaders(ctx)?.household_incomes.load_one(self.0.id).await?;
        Ok(incomes
            .unwrap_or_default()
            .into_iter()
            .find(|i| i.year == year)
            .map(HouseholdIncome))
    }
    /// Helper cadres paired with the household, past and present (结对帮扶).
    async fn pairings(&self, ctx: &Context<'_>) -> ApiResult<Vec<Pairing>> {
        let pairings = loaders(ctx)?.household_pairings.load_one(self.0.id).await?;
        Ok(pairings
            .unwrap_or_default()
            .into_iter()
            .map(Pairing)
            .collect())
    }
    /// Identification and exit proposals, newest first (识别退出申请).
    async fn proposals(&self, ctx: &Context<'_>) -> ApiResult<Vec<Proposal>> {
        lifecycle::proposals_of(ctx, self.0.id).await
    }
    /// Every change of status or monitoring, oldest first (状态变更记录).
    async fn status_history(&self, ctx: &Context<'_>) -> ApiResult<Vec<StatusChange>> {
        lifecycle::history_of(ctx, self.0.id).await
    }
    /// Monitoring for return to poverty, past and present, oldest first (防返贫监测记录).
    async fn monitoring_cases(&self, ctx: &Context<'_>) -> ApiResult<Vec<MonitoringCase>> {
        lifecycle::monitoring_cases_of(ctx, self.0.id).await
    }
    /// The household's plan of measures (一户一策帮扶计划).
    async fn plan(&self, ctx: &Context<'_>) -> ApiResult<Plan> {
        plan::plan_of(ctx, self.0.id).await
    }
    /// Visits to the household, latest visit day first (走访记录).
    async fn visits(&self, ctx: &Context<'_>) -> ApiResult<Vec<Visit>> {
        visit::visits_of(ctx, self.0.id).await
    }
    /// Benefit links of enterprises with the household, past and present, earliest first (利益联结).
    async fn benefit_links(&self, ctx: &Context<'_>) -> ApiResult<Vec<BenefitLink>> {
        link::links_of_household(ctx, self.0.id).await
    }
    /// The day of the latest visit (最近走访日期), if any.
    async fn last_visited_on(&self, ctx: &Context<'_>) -> ApiResult<Option<Day>> {
        Ok(visit::last_visited_on(ctx, self.0.id).await?.map(Day))
    }
    /// What the card said at the end of a day (the county's, UTC+8), rebuilt from its
    /// revisions; null if the household was not on file yet (某日档案).
    #[graphql(
        complexity = "crate::graphql::cost::priced(crate::graphql::cost::CARD_AS_OF, child_complexity)"
    )]
    async fn card_as_of(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day, in the county's time (UTC+8) (日期).")] date: Day,
    ) -> ApiResult<Option<CardAsOf>> {
        Ok(crate::domain::card::card_as_of(db(ctx)?, &self.0, date.0)
            .await?
            .map(CardAsOf))
    }
    /// Microcredit loans of the household, disbursed first first (扶贫小额信贷).
    async fn loans(&self, ctx: &Context<'_>) -> ApiResult<Vec<Loan>> {
        microcredit::loans_of(ctx, self.0.id).await
    }
    /// The household's booklet as of today: its policies, measures, helpers,
    /// visits, incomes against the line and benefit links (扶贫手册). A page to
    /// print it is served at `/booklet`.
    #[graphql(
        complexity = "crate::graphql::cost::priced(crate::graphql::cost::BOOKLET, child_complexity)"
    )]
    async fn booklet(&self) -> Booklet {
        Booklet::of(self.0.clone())
    }
    /// Version of the record, for detecting concurrent edits (版本号).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// Production and living conditions of a household (生产生活条件).
#[derive(SimpleObject)]
pub struct LivingConditions {
    /// Cultivated land, in mu (耕地面积，亩).
    cultivated_land_mu: f64,
    /// Housing area, in square metres (住房面积，平方米).
    housing_area_m2: f64,
    /// Whether the house is dilapidated (是否危房).
    is_dilapidated: bool,
    /// Grade of the dilapidated house (危房等级), if it is one.
    dilapidated_grade: Option<DilapidatedGrade>,
    /// Has safe drinking water (饮水安全).
    safe_drinking_water: bool,
    /// Has electricity for production (生产用电).
    production_electricity: bool,
    /// Has electricity for the household (生活用电).
    household_electricity: bool,
    /// Distance to the village's main road, in km (距村主干路距离，公里).
    road_distance_km: f64,
    /// Has joined a farmers' cooperative (是否加入农民专业合作社).
    joined_cooperative: bool,
}

/// The "two no-worries, three guarantees" (两不愁三保障), with safe drinking water.
#[derive(SimpleObject)]
pub struct Guarantees {
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
    /// Safe drinking water guaranteed (饮水安全有保障).
    safe_drinking_water: bool,
    /// All of the above are met, as exit requires (全部达标).
    all_met: bool,
}

/// A household's incomes by year, oldest first.
pub async fn incomes_of(ctx: &Context<'_>, household_id: i64) -> ApiResult<Vec<HouseholdIncome>> {
    let incomes = loaders(ctx)?
        .household_incomes
        .load_one(household_id)
        .await?;
    Ok(incomes
        .unwrap_or_default()
        .into_iter()
        .map(HouseholdIncome)
        .collect())
}

pub struct HouseholdIncome(pub household_income::Model);

impl Prefetch for HouseholdIncome {
    type Row = household_income::Model;

    async fn prefetch(
        ctx: &Context<'_>,
        selection: &Lookahead<'_>,
        rows: &[household_income::Model],
    ) -> ApiResult<()> {
        if selection.field("povertyLine").exists() || selection.field("abovePovertyLine").exists() {
            fill(&loaders(ctx)?.poverty_lines, rows.iter().map(|i| i.year)).await?;
        }
        Ok(())
    }
}

/// A household's income for one year (年度收入). Amounts in yuan.
#[Object]
impl HouseholdIncome {
    /// The year (年度).
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// Wage income (工资性收入).
    async fn wage(&self) -> Money {
        Money(self.0.wage_fen)
    }
    /// Production and business income (生产经营性收入).
    async fn production(&self) -> Money {
        Money(self.0.production_fen)
    }
    /// Property income: land transfer rent, dividends (财产性收入).
    async fn property(&self) -> Money {
        Money(self.0.property_fen)
    }
    /// Transfer income: subsidies, dibao, pensions, ecological compensation (转移性收入).
    async fn transfer(&self) -> Money {
        Money(self.0.transfer_fen)
    }
    /// Production and business costs (生产经营性支出).
    async fn production_cost(&self) -> Money {
        Money(self.0.production_cost_fen)
    }
    /// Net income: the four incomes less production costs (纯收入).
    async fn net(&self) -> Money {
        Money(self.0.net_fen())
    }
    /// Household size the per-capita figure is based on (计算人口).
    async fn household_size(&self) -> i32 {
        self.0.household_size
    }
    /// Per-capita net income (人均纯收入).
    async fn per_capita_net(&self) -> Money {
        Money(self.0.per_capita_net_fen)
    }
    /// That year's national poverty line (当年国家贫困标准), if recorded; a
    /// household identified under the provincial standard exits against its
    /// province's line (`provincialPovertyLines`) where one is set.
    async fn poverty_line(&self, ctx: &Context<'_>) -> ApiResult<Option<Money>> {
        let line = loaders(ctx)?.poverty_lines.load_one(self.0.year).await?;
        Ok(line.map(|l| Money(l.annual_fen)))
    }
    /// Whether per-capita net income is above that year's national line (是否超过贫困标准).
    async fn above_poverty_line(&self, ctx: &Context<'_>) -> ApiResult<Option<bool>> {
        let line = loaders(ctx)?.poverty_lines.load_one(self.0.year).await?;
        Ok(line.map(|l| self.0.per_capita_net_fen > l.annual_fen))
    }
}

/// An ethnic group (民族).
#[derive(SimpleObject)]
pub struct Ethnicity {
    /// GB/T 3304 code (民族代码).
    code: String,
    /// Chinese name (民族名称).
    name: String,
}

pub struct Member(pub member::Model);

/// A member of a poor household (家庭成员).
#[Object]
impl Member {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Member, self.0.id)
    }
    /// The household (所属户).
    async fn household(&self, ctx: &Context<'_>) -> ApiResult<Option<Household>> {
        Ok(loaders(ctx)?
            .households
            .load_one(self.0.household_id)
            .await?
            .map(Household))
    }
    /// Name (姓名).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Gender (性别).
    async fn gender(&self) -> Gender {
        self.0.gender
    }
    /// Resident ID number (居民身份证号).
    async fn id_number(&self) -> Option<&str> {
        Some(&self.0.id_number)
    }
    /// Date of birth, from the ID number (出生日期).
    async fn birth_date(&self) -> Option<Day> {
        NaiveDate::parse_from_str(self.0.id_number.get(6..14)?, "%Y%m%d")
            .ok()
            .map(Day)
    }
    /// Relation to the head of household (与户主关系).
    async fn relation(&self) -> Relation {
        self.0.relation
    }
    /// Ethnicity (民族).
    async fn ethnicity(&self) -> Ethnicity {
        Ethnicity {
            code: self.0.ethnicity.clone(),
            name: ethnicity::name_of(&self.0.ethnicity)
                .unwrap_or_default()
                .to_owned(),
        }
    }
    /// Education attained (文化程度).
    async fn education(&self) -> Education {
        self.0.education
    }
    /// Current school stage (在校生状况).
    async fn student_status(&self) -> StudentStatus {
        self.0.student_status
    }
    /// Health condition (健康状况).
    async fn health(&self) -> Option<Health> {
        Some(self.0.health)
    }
    /// Disability grade, 1 the most severe to 4 (残疾等级), when disabled.
    async fn disability_grade(&self) -> Option<i16> {
        self.0.disability_grade
    }
    /// Labour ability (劳动技能).
    async fn labour_ability(&self) -> LabourAbility {
        self.0.labour_ability
    }
    /// Migrant work (务工状况).
    async fn migrant_work(&self) -> MigrantWork {
        self.0.migrant_work
    }
    /// Months of migrant work in the year (务工时间，月).
    async fn migrant_months(&self) -> i16 {
        self.0.migrant_months
    }
    /// Enrolled in basic medical insurance (参加城乡居民基本医疗保险).
    async fn basic_medical_insurance(&self) -> bool {
        self.0.basic_medical_insurance
    }
    /// Enrolled in serious-illness insurance (参加大病保险).
    async fn serious_illness_insurance(&self) -> bool {
        self.0.serious_illness_insurance
    }
    /// Enrolled in the basic pension scheme (参加城乡居民基本养老保险).
    async fn basic_pension(&self) -> bool {
        self.0.basic_pension
    }
    /// Whether the person still belongs to the household; false once they left (是否在户).
    async fn active(&self) -> bool {
        self.0.is_active
    }
    /// Version of the record, for detecting concurrent edits (版本号).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

pub struct PovertyLine(pub poverty_line::Model);

/// The poverty line of one year (贫困标准).
#[Object]
impl PovertyLine {
    /// The year (年度).
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// Annual per-capita net income below which a person is poor, in current yuan (元/人·年).
    async fn annual(&self) -> Money {
        Money(self.0.annual_fen)
    }
}

pub struct ProvincialPovertyLine(pub provincial_poverty_line::Model);

/// A province's own poverty line of one year (省定贫困标准).
#[Object]
impl ProvincialPovertyLine {
    /// Two-digit province code (省级区划代码).
    async fn province_code(&self) -> &str {
        &self.0.province_code
    }
    /// The year (年度).
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// Annual per-capita net income below which a person is poor by the
    /// province's standard, in current yuan (元/人·年).
    async fn annual(&self) -> Money {
        Money(self.0.annual_fen)
    }
}

#[derive(Default)]
pub struct HouseholdQuery;

#[Object]
impl HouseholdQuery {
    /// Poor households on the register (贫困户), filtered and ordered.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn households(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which households; all that the caller reaches if not given (筛选条件).")]
        filter: Option<HouseholdFilter>,
        #[graphql(desc = "The order; by ID, ascending, if not given (排序).")] order_by: Option<
            HouseholdOrder,
        >,
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
    ) -> ApiResult<Conn<Household>> {
        list(
            ctx,
            None,
            filter,
            order_by,
            PageArgs::new(first, after, last, before),
        )
        .await
    }

    /// One household by ID.
    async fn household(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the household (贫困户).")] id: ID,
    ) -> ApiResult<Household> {
        let (_, raw) = decode_id_of(&id, "id", &[NodeKind::Household])?;
        one(ctx, &ctx.look_ahead(), raw)
            .await?
            .ok_or_else(|| ApiError::not_found("Household"))
    }

    /// The poverty line of every recorded year, oldest first (历年贫困标准).
    async fn poverty_lines(&self, ctx: &Context<'_>) -> ApiResult<Vec<PovertyLine>> {
        let lines = access::select::<poverty_line::Entity>(viewer(ctx)?)
            .order_by_asc(poverty_line::Column::Year)
            .all(db(ctx)?)
            .await?;
        Ok(lines.into_iter().map(PovertyLine).collect())
    }

    /// The provinces' own poverty lines, by province and year (历年省定贫困标准).
    async fn provincial_poverty_lines(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<ProvincialPovertyLine>> {
        let lines = access::select::<provincial_poverty_line::Entity>(viewer(ctx)?)
            .order_by_asc(provincial_poverty_line::Column::ProvinceCode)
            .order_by_asc(provincial_poverty_line::Column::Year)
            .all(db(ctx)?)
            .await?;
        Ok(lines.into_iter().map(ProvincialPovertyLine).collect())
    }
}
