//! Enumerations stored as checked strings (the migration derives each CHECK list
//! from `Iterable`), and exposed unchanged as GraphQL enums.

use sea_orm::entity::prelude::*;

/// Declares an enum that is both a sea-orm string ActiveEnum and a GraphQL enum;
/// the doc comments become the schema descriptions.
macro_rules! db_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, async_graphql::Enum, serde::Serialize, serde::Deserialize)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* #[sea_orm(string_value = $value)] $variant,)+
        }
    };
}

db_enum! {
    /// Level of an administrative region (行政区划级别).
    RegionLevel {
        /// County (县).
        County = "county",
        /// Township or town (乡镇).
        Township = "township",
        /// Administrative village (行政村).
        Village = "village",
    }
}

db_enum! {
    /// Attribute of a poor household (贫困户属性).
    HouseholdAttribute {
        /// General poor household (一般贫困户).
        General = "general",
        /// Minimum-living-guarantee poor household (低保贫困户).
        MinimumLivingGuarantee = "dibao",
        /// Extreme-poverty support household (特困供养贫困户).
        ExtremePovertySupport = "tekun",
    }
}

db_enum! {
    /// Standard under which the household was identified (识别标准).
    IdentificationStandard {
        /// National standard (国家标准).
        National = "national",
        /// Provincial standard (省定标准).
        Provincial = "provincial",
        /// Municipal standard (市定标准).
        Municipal = "municipal",
    }
}

db_enum! {
    /// Poverty status of a household (贫困状态).
    HouseholdStatus {
        /// Enrolled, not yet lifted out (未脱贫).
        Enrolled = "enrolled",
        /// Lifted out of poverty (已脱贫).
        LiftedOut = "lifted_out",
        /// Returned to poverty after being lifted out (返贫).
        Returned = "returned",
        /// Removed from the register as wrongly included (清退).
        Removed = "removed",
        /// On file but not a poor household: an applicant under identification,
        /// or a marginal household under monitoring (非贫困户).
        NotPoor = "not_poor",
    }
}

db_enum! {
    /// Category of monitoring for return to poverty (防返贫监测对象类别).
    MonitoringCategory {
        /// Unstable lifted-out household (脱贫不稳定户).
        Unstable = "unstable",
        /// Marginal household at risk of poverty (边缘易致贫户).
        Marginal = "marginal",
        /// Household in sudden severe difficulty (突发严重困难户).
        SuddenDifficulty = "sudden_difficulty",
    }
}

db_enum! {
    /// Cause of poverty (致贫原因).
    PovertyCause {
        /// Illness (因病).
        Illness = "illness",
        /// Disability (因残).
        Disability = "disability",
        /// Education costs (因学).
        Education = "education",
        /// Disaster (因灾).
        Disaster = "disaster",
        /// Lack of land (缺土地).
        LackOfLand = "lack_of_land",
        /// Lack of water (缺水).
        LackOfWater = "lack_of_water",
        /// Lack of skills (缺技术).
        LackOfSkills = "lack_of_skills",
        /// Lack of labour (缺劳力).
        LackOfLabour = "lack_of_labour",
        /// Lack of funds (缺资金).
        LackOfFunds = "lack_of_funds",
        /// Poor transport (交通条件落后).
        PoorTransport = "poor_transport",
        /// Lack of self-motivation (自身发展动力不足).
        LackOfMotivation = "lack_of_motivation",
        /// Other (其他).
        Other = "other",
    }
}

db_enum! {
    /// Grade of a dilapidated house (危房等级): C is partly unsafe, D wholly unsafe.
    DilapidatedGrade {
        /// Grade C: local danger (C级危房).
        C = "c",
        /// Grade D: whole house unsafe (D级危房).
        D = "d",
    }
}

db_enum! {
    /// Gender (性别).
    Gender {
        /// Male (男).
        Male = "male",
        /// Female (女).
        Female = "female",
    }
}

db_enum! {
    /// Relation of a member to the head of household (与户主关系).
    Relation {
        /// The head of household (户主).
        Head = "head",
        /// Spouse (配偶).
        Spouse = "spouse",
        /// Son (之子).
        Son = "son",
        /// Daughter (之女).
        Daughter = "daughter",
        /// Daughter-in-law (之儿媳).
        DaughterInLaw = "daughter_in_law",
        /// Son-in-law (之女婿).
        SonInLaw = "son_in_law",
        /// Grandson (之孙子).
        Grandson = "grandson",
        /// Granddaughter (之孙女).
        Granddaughter = "granddaughter",
        /// Father (之父).
        Father = "father",
        /// Mother (之母).
        Mother = "mother",
        /// Other relation (其他).
        Other = "other",
    }
}

db_enum! {
    /// Highest education attained (文化程度).
    Education {
        /// Illiterate or semi-literate (文盲或半文盲).
        Illiterate = "illiterate",
        /// Primary school (小学).
        Primary = "primary",
        /// Junior middle school (初中).
        JuniorMiddle = "junior_middle",
        /// Senior high school (高中).
        SeniorHigh = "senior_high",
        /// Secondary or higher vocational school (中专/职高).
        Vocational = "vocational",
        /// College and above (大专及以上).
        College = "college",
    }
}

db_enum! {
    /// Current school stage (在校生状况).
    StudentStatus {
        /// Not a student (非在校生).
        NotStudent = "not_student",
        /// Preschool (学前教育).
        Preschool = "preschool",
        /// Primary school (小学).
        Primary = "primary",
        /// Junior middle school (初中).
        JuniorMiddle = "junior_middle",
        /// Senior high school (高中).
        SeniorHigh = "senior_high",
        /// Vocational school (中职/高职).
        Vocational = "vocational",
        /// College or university (大专及以上).
        College = "college",
    }
}

db_enum! {
    /// Health condition (健康状况).
    Health {
        /// Healthy (健康).
        Healthy = "healthy",
        /// Chronic illness (长期慢性病).
        ChronicIllness = "chronic_illness",
        /// Serious illness (大病).
        SeriousIllness = "serious_illness",
        /// Disabled (残疾); the grade is on `disabilityGrade`.
        Disabled = "disabled",
    }
}

db_enum! {
    /// Labour ability (劳动技能).
    LabourAbility {
        /// Skilled labour (技能劳动力).
        Skilled = "skilled",
        /// Ordinary labour (普通劳动力).
        Ordinary = "ordinary",
        /// Weak or half labour (弱劳动力或半劳动力).
        Weak = "weak",
        /// Lost the ability to work (丧失劳动力).
        Lost = "lost",
        /// No labour, e.g. children and students (无劳动力).
        None = "none",
    }
}

db_enum! {
    /// Where a member works as a migrant worker (务工状况).
    MigrantWork {
        /// Not a migrant worker (未外出务工).
        None = "none",
        /// Works within the county (县内务工).
        WithinCounty = "within_county",
        /// Works within the province, outside the county (省内县外务工).
        WithinProvince = "within_province",
        /// Works outside the province (省外务工).
        OutsideProvince = "outside_province",
    }
}

db_enum! {
    /// Kind of business entity (经营主体类型).
    EnterpriseKind {
        /// Enterprise (企业).
        Enterprise = "enterprise",
        /// Farmers' professional cooperative (农民专业合作社).
        Cooperative = "cooperative",
        /// Family farm (家庭农场).
        FamilyFarm = "family_farm",
        /// Large specialised household (种养大户).
        LargeHousehold = "large_household",
    }
}

db_enum! {
    /// Industry of an enterprise (所属产业).
    Industry {
        /// Crop planting (种植业).
        Planting = "planting",
        /// Livestock breeding (养殖业).
        Livestock = "livestock",
        /// Forestry (林业).
        Forestry = "forestry",
        /// Fishery (渔业).
        Fishery = "fishery",
        /// Processing of farm products (农产品加工).
        AgroProcessing = "agro_processing",
        /// Rural tourism (乡村旅游).
        RuralTourism = "rural_tourism",
        /// E-commerce (电子商务).
        Ecommerce = "ecommerce",
        /// Manufacturing (制造业).
        Manufacturing = "manufacturing",
        /// Construction (建筑业).
        Construction = "construction",
        /// Services (服务业).
        Services = "services",
        /// Other (其他).
        Other = "other",
    }
}

db_enum! {
    /// Kind of assistance project (扶贫项目类型).
    ProjectKind {
        /// Industry development (产业发展).
        Industry = "industry",
        /// Road construction (道路建设).
        Road = "road",
        /// Safe drinking water (饮水安全).
        DrinkingWater = "drinking_water",
        /// Rural power (农村电力).
        Power = "power",
        /// Water conservancy (水利).
        WaterConservancy = "water_conservancy",
        /// Renovation of dilapidated houses (危房改造).
        HousingRenovation = "housing_renovation",
        /// Education (教育扶贫).
        Education = "education",
        /// Skills training (技能培训).
        Training = "training",
        /// Financial support, e.g. microcredit (金融扶贫).
        Finance = "finance",
        /// Relocation from inhospitable areas (易地扶贫搬迁).
        Relocation = "relocation",
    }
}

db_enum! {
    /// Stage of a project's lifecycle (项目状态).
    ProjectStatus {
        /// In the project library, not yet approved (项目库).
        Library = "library",
        /// Approved (已批复).
        Approved = "approved",
        /// Under way (实施中).
        InProgress = "in_progress",
        /// Completed (已完工).
        Completed = "completed",
        /// Accepted after inspection (已验收).
        Accepted = "accepted",
    }
}

db_enum! {
    /// Role of a user of the service (用户角色); what it may see and do follows from it.
    Role {
        /// County poverty alleviation office (县扶贫办): manages everything in the county.
        CountyAdmin = "county_admin",
        /// Township officer (乡镇干部): the households of one township.
        TownshipOfficer = "township_officer",
        /// Village cadre (村干部): the households of one village.
        VillageCadre = "village_cadre",
        /// Helper cadre (帮扶责任人): the households paired with them.
        HelperCadre = "helper_cadre",
        /// Enterprise user (企业用户): their own enterprise.
        Enterprise = "enterprise",
        /// Auditor from discipline inspection, finance or audit (纪委/财政/审计): reads everything, changes nothing.
        Auditor = "auditor",
        /// A provincial system's service account (省级系统).
        ProvincialSystem = "provincial_system",
    }
}

db_enum! {
    /// What a proposal asks the county to decide (申请事项).
    ProposalKind {
        /// Identify the household as poor and enrol it (识别纳入).
        Identification = "identification",
        /// Certify the household lifted out of poverty (脱贫退出).
        Exit = "exit",
    }
}

db_enum! {
    /// A household's credit rating for microcredit (信用评级).
    CreditRating {
        /// Excellent (优秀).
        Excellent = "excellent",
        /// Good (较好).
        Good = "good",
        /// Fair (一般).
        Fair = "fair",
    }
}

db_enum! {
    /// How a proposal came (申请来源).
    ProposalOrigin {
        /// The household applied (农户申请).
        Application = "application",
        /// The village found it in its survey of households (排查发现).
        Discovery = "discovery",
    }
}

db_enum! {
    /// Where a proposal stands in "two public notices and one announcement" (两公示一公告).
    ProposalStage {
        /// Publicly noticed in the village; objections may be recorded (公示中).
        Notice = "notice",
        /// Checked and passed by the township, and noticed there (乡镇审核通过并公示).
        TownshipChecked = "township_checked",
        /// Approved by the county and announced (县级审定并公告).
        Approved = "approved",
        /// Refused by the township or the county (未通过).
        Rejected = "rejected",
        /// Withdrawn by the proposers (撤回).
        Withdrawn = "withdrawn",
    }
}

db_enum! {
    /// A change of a household's status, as its history records it (状态变更).
    StatusAction {
        /// Put on file as a not-poor household (建档).
        Filed = "filed",
        /// Identified as poor and enrolled (识别纳入).
        Enrolled = "enrolled",
        /// Lifted out of poverty (脱贫).
        LiftedOut = "lifted_out",
        /// Returned to poverty (返贫).
        Returned = "returned",
        /// Removed as wrongly included (清退).
        Removed = "removed",
        /// Entered monitoring for return to poverty (纳入监测).
        MonitoringStarted = "monitoring_started",
        /// Its risk marked eliminated (风险消除).
        RiskEliminated = "risk_eliminated",
    }
}

db_enum! {
    /// A risk that puts a household under monitoring (风险类型).
    RiskType {
        /// Illness (因病).
        Illness = "illness",
        /// Disability (因残).
        Disability = "disability",
        /// Schooling costs (因学).
        Schooling = "schooling",
        /// Natural disaster (因自然灾害).
        Disaster = "disaster",
        /// Accident (因意外事故).
        Accident = "accident",
        /// Failed industry project (因产业项目失败).
        FailedIndustry = "failed_industry",
        /// Unstable employment (因务工就业不稳).
        UnstableEmployment = "unstable_employment",
        /// Lack of labour (缺劳动力).
        LackOfLabour = "lack_of_labour",
        /// Other (其他).
        Other = "other",
    }
}

db_enum! {
    /// How a household at risk was found (发现方式).
    FoundBy {
        /// The household reported itself (农户自主申报).
        SelfReport = "self_report",
        /// A cadre's visit (基层干部排查).
        CadreVisit = "cadre_visit",
        /// A department's screening of its data (部门筛查预警).
        DepartmentScreening = "department_screening",
    }
}

db_enum! {
    /// Category of an assistance measure: the "five batches" (五个一批) and the others.
    MeasureCategory {
        /// Develop production (发展生产脱贫一批).
        DevelopProduction = "develop_production",
        /// Relocation (易地搬迁脱贫一批).
        Relocation = "relocation",
        /// Ecological compensation (生态补偿脱贫一批).
        EcologicalCompensation = "ecological_compensation",
        /// Education (发展教育脱贫一批).
        Education = "education",
        /// Social-security safety net (社会保障兜底一批).
        SocialSecurity = "social_security",
        /// Employment (就业扶贫).
        Employment = "employment",
        /// Health (健康扶贫).
        Health = "health",
        /// Renovation of a dilapidated house (危房改造).
        HousingRenovation = "housing_renovation",
        /// Microcredit (小额信贷).
        Microcredit = "microcredit",
        /// Public-welfare job (公益岗位).
        PublicWelfareJob = "public_welfare_job",
        /// Skills training (技能培训).
        SkillsTraining = "skills_training",
        /// Other (其他).
        Other = "other",
    }
}

db_enum! {
    /// Status of an assistance measure (措施状态); overdue is derived from the deadline.
    MeasureStatus {
        /// Planned, not started (计划).
        Planned = "planned",
        /// Under way (实施中).
        InProgress = "in_progress",
        /// Done (已完成).
        Done = "done",
        /// Cancelled (已取消).
        Cancelled = "cancelled",
    }
}

db_enum! {
    /// Kind of helper unit (帮扶单位类型).
    HelperUnitKind {
        /// County department (县直部门).
        CountyDepartment = "county_department",
        /// Provincial or municipal body (省市单位).
        HigherAuthority = "higher_authority",
        /// Public institution (事业单位).
        Institution = "institution",
        /// Enterprise (企业).
        Enterprise = "enterprise",
        /// Other (其他).
        Other = "other",
    }
}

db_enum! {
    /// Role of a village's assistance staff (驻村力量).
    VillageStaffRole {
        /// First secretary (第一书记).
        FirstSecretary = "first_secretary",
        /// Leader of the resident working team (驻村工作队队长).
        TeamLeader = "team_leader",
        /// Member of the resident working team (驻村工作队队员).
        TeamMember = "team_member",
    }
}

db_enum! {
    /// What a visit did for the household (帮扶内容).
    HelpKind {
        /// Explained policies (宣讲政策).
        PolicyExplained = "policy_explained",
        /// Solved a problem (解决困难).
        ProblemSolved = "problem_solved",
        /// Technical help (技术指导).
        TechnicalHelp = "technical_help",
        /// Training (培训).
        Training = "training",
        /// Material help: goods or money (物资帮扶).
        MaterialHelp = "material_help",
    }
}

db_enum! {
    /// How an enterprise's business benefits a poor household (利益联结方式).
    BenefitMode {
        /// Members of the household work for it (就业务工).
        Employment = "employment",
        /// It rents the household's land (土地流转).
        LandRent = "land_rent",
        /// The household holds shares or receives dividends (入股分红).
        Dividend = "dividend",
        /// It buys the household's produce on order (订单收购).
        OrderPurchase = "order_purchase",
        /// Company + base + poor households (公司+基地+贫困户).
        CompanyBaseHouseholds = "company_base_households",
    }
}

db_enum! {
    /// Where a fund comes from (资金来源).
    FundSourceKind {
        /// Central special poverty-alleviation funds (中央财政专项扶贫资金).
        Central = "central",
        /// Provincial funds (省级财政资金).
        Provincial = "provincial",
        /// County funds (县级财政资金).
        County = "county",
        /// Integrated agriculture-related funds (统筹整合涉农资金).
        IntegratedAgricultural = "integrated_agricultural",
        /// East-west cooperation funds (东西部扶贫协作资金).
        EastWestCooperation = "east_west_cooperation",
        /// Donations from society (社会捐赠).
        SocialDonation = "social_donation",
        /// Donations from enterprises (企业捐赠).
        EnterpriseDonation = "enterprise_donation",
    }
}

db_enum! {
    /// What a ledger entry records (资金台账类型).
    FundEntryKind {
        /// Funds of a source allocated to a project (资金安排).
        Allocation = "allocation",
        /// Funds of a project paid out to a payee (资金拨付).
        Disbursement = "disbursement",
    }
}

db_enum! {
    /// Who received a disbursement (收款方类型).
    PayeeKind {
        /// A private person (个人): never shown to the public beyond a masked name.
        Person = "person",
        /// A company, cooperative, unit or village collective (单位).
        Organisation = "organisation",
    }
}

db_enum! {
    /// An indicator of the assessment of townships (考核指标).
    IndicatorKind {
        /// Households lifted out in the year over those poor at its start (脱贫率).
        ExitRate = "exit_rate",
        /// Measures done over measures due in the year, not cancelled (帮扶计划完成率).
        PlanCompletion = "plan_completion",
        /// Registered households with a helper cadre (结对帮扶覆盖率).
        PairingCoverage = "pairing_coverage",
        /// Funds disbursed over funds allocated (资金使用率).
        FundUtilisation = "fund_utilisation",
        /// Households found wrongly lifted out by field checks; at most the target (错退率).
        WrongfulExitRate = "wrongful_exit_rate",
        /// Poor households found left out by field checks; at most the target (漏评率).
        MissedInclusionRate = "missed_inclusion_rate",
        /// People surveyed who recognise the results (群众认可度).
        PublicRecognition = "public_recognition",
        /// Households surveyed satisfied with their helpers (帮扶满意度).
        HelperSatisfaction = "helper_satisfaction",
    }
}

db_enum! {
    /// Field of a poverty-alleviation policy (政策类别).
    PolicyCategory {
        /// Industrial development (产业扶贫).
        Industry = "industry",
        /// Employment and labour transfer (就业扶贫).
        Employment = "employment",
        /// Education (教育扶贫).
        Education = "education",
        /// Health and medical care (健康扶贫).
        Health = "health",
        /// Safe housing (住房安全保障).
        Housing = "housing",
        /// Social security as the last safety net (兜底保障).
        SocialSecurity = "social_security",
        /// Microcredit for poor households (小额信贷).
        Finance = "finance",
        /// Relocation from inhospitable areas (易地扶贫搬迁).
        Relocation = "relocation",
        /// Other policies (其他).
        Other = "other",
    }
}

db_enum! {
    /// What a complaint or problem clue is about (投诉举报事项类别).
    ComplaintSubject {
        /// How a household was identified, helped or lifted out (贫困户认定与帮扶).
        HouseholdTreatment = "household_treatment",
        /// A poverty-alleviation project (扶贫项目).
        Project = "project",
        /// The use of poverty-alleviation funds (扶贫资金).
        Funds = "funds",
        /// The conduct of cadres: work style, corruption (干部作风).
        CadreConduct = "cadre_conduct",
        /// Anything else (其他).
        Other = "other",
    }
}

db_enum! {
    /// What a field check or survey counted (核查类型).
    CheckKind {
        /// Lifted-out households checked, and those found still poor (错退核查).
        WrongfulExit = "wrongful_exit",
        /// Households checked that are not registered, and those found poor (漏评核查).
        MissedInclusion = "missed_inclusion",
        /// People surveyed, and those who recognise the results (群众认可度调查).
        Recognition = "recognition",
        /// Households surveyed, and those satisfied with their helpers (帮扶满意度调查).
        Satisfaction = "satisfaction",
    }
}

db_enum! {
    /// Where a complaint stands (投诉办理状态): received, assigned to a unit,
    /// answered by it, closed with a conclusion.
    ComplaintStatus {
        /// Received, not yet assigned (已受理).
        Received = "received",
        /// Assigned to a unit with a deadline (已交办).
        Assigned = "assigned",
        /// Answered by the unit, with what was corrected (已答复).
        Answered = "answered",
        /// Closed with a conclusion (已办结).
        Closed = "closed",
    }
}

db_enum! {
    /// Where a policy stands in its publicity (政策状态).
    PolicyStatus {
        /// Being drafted by the county office; seen by no one else (草稿).
        Draft = "draft",
        /// Published to its audience (已发布).
        Published = "published",
        /// Withdrawn after publication; kept on record (已撤回).
        Withdrawn = "withdrawn",
    }
}

db_enum! {
    /// What the handling found (核查结论).
    ComplaintConclusion {
        /// The complaint was found true (属实).
        Substantiated = "substantiated",
        /// Partly true (部分属实).
        PartlySubstantiated = "partly_substantiated",
        /// Not true (不属实).
        Unsubstantiated = "unsubstantiated",
    }
}

db_enum! {
    /// A figure kept per village in `village_tally`: each counts households
    /// or people, or sums income of a year (in fen).
    TallyFigure {
        /// Households of a status (the item).
        Households = "households",
        /// Active members of households of a status (the item).
        People = "people",
        /// Registered households of a main cause (the item).
        Cause = "cause",
        /// Registered households of an attribute (the item).
        Attribute = "attribute",
        /// Households lifted out in the year.
        Exits = "exits",
        /// Registered households with an income record for the year.
        IncomeHouseholds = "income_households",
        /// People of those records.
        IncomePeople = "income_people",
        /// Net income of those records.
        IncomeNet = "income_net",
        /// Wage income of those records.
        IncomeWage = "income_wage",
        /// Production income of those records.
        IncomeProduction = "income_production",
        /// Property income of those records.
        IncomeProperty = "income_property",
        /// Transfer income of those records.
        IncomeTransfer = "income_transfer",
        /// Households that returned to poverty in the year (from migration 19).
        Returns = "returns",
    }
}

db_enum! {
    /// Where a poverty village's exit (贫困村出列) stands.
    VillageExitStage {
        /// Proposed by the township and noticed there (公示中).
        Notice = "notice",
        /// Decided by the county and announced: the village has exited (已出列).
        Approved = "approved",
        /// Refused by the county (未通过).
        Rejected = "rejected",
    }
}

db_enum! {
    /// Kind of a project asset (扶贫项目资产类型): who owns it follows from it.
    AssetKind {
        /// Productive (经营性): workshops, greenhouses, shares in an enterprise; owned by a village collective.
        Productive = "productive",
        /// Public welfare (公益性): roads, water works; owned by a village collective.
        Public = "public",
        /// For a household (到户类): livestock, housing; owned by the household.
        Household = "household",
    }
}

db_enum! {
    /// Where a project asset stands (资产状态).
    AssetStatus {
        /// In use (在用).
        InUse = "in_use",
        /// Standing idle (闲置).
        Idle = "idle",
        /// Disposed of: sold, scrapped or written off; final (已处置).
        Disposed = "disposed",
    }
}
