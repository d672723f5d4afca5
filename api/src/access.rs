//! The one place where the caller's identity meets the data: every read starts
//! from [`select`], which applies the viewer's scope in SQL, so lists, counts,
//! loaders and `node(id)` all agree on what exists for that caller.

use entity::enums::{PolicyStatus, RegionLevel, Role};
use entity::{
    app_user, assessment_indicator, assessment_result, asset_income, audit_entry, benefit_link,
    complaint, enterprise, field_check, fund_entry, fund_source, helper_pairing, helper_unit,
    household, household_cause, household_income, loan, measure, member, monitoring_case,
    monitoring_line, monitoring_risk, objection, policy, policy_read, policy_region, policy_role,
    poverty_line, project, project_asset, project_beneficiary, project_stage_change,
    project_village, proposal, provincial_poverty_line, refresh_token, region, reveal,
    status_change, unit_pairing, village_exit, village_staff, visit, visit_help,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect, Select,
};

use crate::auth::{self, AuthConfig, Identity};
use crate::domain::calendar;
use crate::error::{ApiError, ApiResult};

/// Who is asking.
#[derive(Debug, Clone)]
pub enum Viewer {
    /// No token: the public sees villages, aggregates and public project data.
    Public,
    User(User),
}

/// A signed-in user, with the scope of their role resolved.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    /// Division-code prefix of a township officer's township or a village cadre's village.
    pub region_prefix: Option<String>,
    pub enterprise_id: Option<i64>,
    /// The app (`client_app` ID) the token was issued through, if any.
    pub app: Option<i64>,
}

impl Viewer {
    /// An operator at the service's own command line (`fupin export`): the
    /// whole county, as the county office reaches it. No account stands behind
    /// it; what it changes is audited as `Actor::system`.
    pub fn operator() -> Viewer {
        Viewer::User(User {
            id: 0,
            username: "cli".into(),
            role: Role::CountyAdmin,
            region_prefix: None,
            enterprise_id: None,
            app: None,
        })
    }

    pub fn role(&self) -> Option<Role> {
        match self {
            Viewer::Public => None,
            Viewer::User(user) => Some(user.role),
        }
    }

    pub fn user(&self) -> ApiResult<&User> {
        match self {
            Viewer::Public => Err(ApiError::Unauthenticated),
            Viewer::User(user) => Ok(user),
        }
    }
}

/// The code prefix shared by a region and everything under it.
pub fn code_prefix(region: &region::Model) -> &str {
    prefix_of(&region.code, region.level)
}

fn prefix_of(code: &str, level: RegionLevel) -> &str {
    let digits = match level {
        RegionLevel::County => 6,
        RegionLevel::Township => 9,
        RegionLevel::Village => 12,
    };
    &code[..Ord::min(digits, code.len())]
}

/// Regions whose code starts with `prefix`: an index range, as codes are digits.
pub fn code_under(prefix: &str) -> Condition {
    Condition::all()
        .add(region::Column::Code.gte(prefix))
        .add(region::Column::Code.lt(format!("{prefix}:")))
}

/// The IDs of the villages under a code prefix.
pub fn villages_under(prefix: &str) -> SelectStatement {
    Query::select()
        .column(region::Column::Id)
        .from(region::Entity)
        .and_where(region::Column::Level.eq(RegionLevel::Village))
        .cond_where(code_under(prefix))
        .to_owned()
}

/// Resolves a bearer token to a viewer: signature and claims, then the user's
/// row, which must be active with the same token version, and the session the
/// token was issued in, which must not have ended. A provider's token
/// maps onto a local account made or updated from its claims.
pub async fn viewer_from_token(
    db: &DatabaseConnection,
    config: &AuthConfig,
    token: &str,
) -> ApiResult<Viewer> {
    session_from_token(db, config, token)
        .await
        .map(|(viewer, _)| viewer)
}

/// [`viewer_from_token`], with the time the token expires: what a long-lived
/// connection (a subscription) needs to end with its token.
pub async fn session_from_token(
    db: &DatabaseConnection,
    config: &AuthConfig,
    token: &str,
) -> ApiResult<(Viewer, i64)> {
    let identity = auth::identify(config, token)?;
    let expires = identity.expires();
    let claims = match identity {
        Identity::Local(claims) => claims,
        Identity::External(identity) => {
            let user = crate::account::external_user(db, &identity).await?;
            return Ok((viewer_of(db, &user).await?, expires));
        }
    };
    let id: i64 = claims.sub.parse().map_err(|_| ApiError::Unauthenticated)?;
    let session_open = match &claims.sid {
        Some(session) => Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(refresh_token::Entity)
                .and_where(refresh_token::Column::Family.eq(session.as_str()))
                .and_where(
                    Expr::col((refresh_token::Entity, refresh_token::Column::UserId))
                        .equals((app_user::Entity, app_user::Column::Id)),
                )
                .and_where(refresh_token::Column::RevokedAt.is_null())
                .to_owned(),
        ),
        None => Expr::val(true),
    };
    let of_region = |column: region::Column| {
        Expr::from(
            Query::select()
                .column(column)
                .from(region::Entity)
                .and_where(
                    Expr::col((region::Entity, region::Column::Id))
                        .equals((app_user::Entity, app_user::Column::RegionId)),
                )
                .to_owned(),
        )
    };
    // One statement: every authenticated request pays for it.
    let signed_in = app_user::Entity::find_by_id(id)
        .column_as(of_region(region::Column::Code), "region_code")
        .column_as(of_region(region::Column::Level), "region_level")
        .column_as(session_open, "session_open")
        .into_model::<SignedIn>()
        .one(db)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let user = &signed_in.user;
    if !user.is_active
        || user.token_version != claims.tv
        || user.role != claims.role
        || !signed_in.session_open
    {
        return Err(ApiError::Unauthenticated);
    }
    let region = match (&signed_in.region_code, signed_in.region_level) {
        (Some(code), Some(level)) => Some(prefix_of(code, level)),
        _ => None,
    };
    let mut viewer = viewer_in(user, region)?;
    if let Viewer::User(user) = &mut viewer {
        user.app = claims.app;
    }
    Ok((viewer, expires))
}

/// A token's user with what its viewer needs besides: the code and level of
/// its region, and whether the token's session is still open.
#[derive(FromQueryResult)]
struct SignedIn {
    #[sea_orm(nested)]
    user: app_user::Model,
    region_code: Option<String>,
    region_level: Option<RegionLevel>,
    session_open: bool,
}

/// The viewer a user's row describes, signed in through no app.
pub async fn viewer_of(db: &DatabaseConnection, user: &app_user::Model) -> ApiResult<Viewer> {
    let region = match user.region_id {
        Some(id) => region::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    viewer_in(user, region.as_ref().map(code_prefix))
}

/// The viewer of `user`, whose region has the code prefix `region`.
fn viewer_in(user: &app_user::Model, region: Option<&str>) -> ApiResult<Viewer> {
    if user.region_id.is_some() && region.is_none() {
        return Err(ApiError::Internal(format!(
            "user {} has a missing region",
            user.id
        )));
    }
    Ok(Viewer::User(User {
        id: user.id,
        username: user.username.clone(),
        role: user.role,
        region_prefix: region.map(str::to_owned),
        enterprise_id: user.enterprise_id,
        app: None,
    }))
}

/// How much of the register of households a viewer reaches.
enum Reach<'a> {
    All,
    /// The households of the villages under a code prefix.
    Under(&'a str),
    /// The households a helper cadre is paired with now.
    Paired(i64),
    /// The households an enterprise is linked with now, or that its projects benefit.
    Linked(i64),
    Nothing,
}

fn reach(viewer: &Viewer) -> Reach<'_> {
    let Viewer::User(user) = viewer else {
        return Reach::Nothing;
    };
    match user.role {
        Role::CountyAdmin | Role::Auditor | Role::ProvincialSystem => Reach::All,
        Role::TownshipOfficer | Role::VillageCadre => match &user.region_prefix {
            Some(prefix) => Reach::Under(prefix),
            None => Reach::Nothing,
        },
        Role::HelperCadre => Reach::Paired(user.id),
        Role::Enterprise => match user.enterprise_id {
            Some(enterprise) => Reach::Linked(enterprise),
            None => Reach::Nothing,
        },
    }
}

/// Whether `viewer` reached household `id` before the changes `entries`
/// made (a sync's page), though it no longer does: the household was in one
/// of its villages before a change moved it, or it was paired with the
/// helper, or linked with the enterprise, before that ended. Only then is a
/// field app told it is gone: others never held it, and are told nothing.
pub async fn reached_before(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i64,
    entries: &[audit_entry::Model],
) -> ApiResult<bool> {
    Ok(match reach(viewer) {
        Reach::All | Reach::Nothing => false,
        Reach::Under(prefix) => {
            let villages: Vec<i64> = entries
                .iter()
                .filter(|entry| entry.entity_type == "Household" && entry.entity_id == id)
                .filter_map(|entry| entry.before.as_deref())
                .filter_map(|text| serde_json::from_str::<serde_json::Value>(text).ok())
                .filter_map(|before| before.get("village")?.as_i64())
                .collect();
            !villages.is_empty()
                && region::Entity::find()
                    .filter(region::Column::Id.is_in(villages))
                    .filter(code_under(prefix))
                    .one(db)
                    .await?
                    .is_some()
        }
        Reach::Paired(helper) => helper_pairing::Entity::find()
            .filter(helper_pairing::Column::HelperId.eq(helper))
            .filter(helper_pairing::Column::HouseholdId.eq(id))
            .one(db)
            .await?
            .is_some(),
        Reach::Linked(enterprise) => benefit_link::Entity::find()
            .filter(benefit_link::Column::EnterpriseId.eq(enterprise))
            .filter(benefit_link::Column::HouseholdId.eq(id))
            .one(db)
            .await?
            .is_some(),
    })
}

/// Whether a viewer's reach takes in the households of a village (to file one there).
pub fn reaches_village(viewer: &Viewer, village: &region::Model) -> bool {
    match reach(viewer) {
        Reach::All => true,
        Reach::Under(prefix) => village.code.starts_with(prefix),
        Reach::Paired(_) | Reach::Linked(_) | Reach::Nothing => false,
    }
}

/// Whether a viewer answers for a project covering `villages`: the county
/// office for any project, a township officer when every village is in its
/// township ("townships propose for their villages").
pub fn answers_for_villages(viewer: &Viewer, villages: &[region::Model]) -> bool {
    let Viewer::User(user) = viewer else {
        return false;
    };
    match (user.role, &user.region_prefix) {
        (Role::CountyAdmin, _) => true,
        (Role::TownshipOfficer, Some(prefix)) => {
            !villages.is_empty() && villages.iter().all(|v| v.code.starts_with(prefix))
        }
        _ => false,
    }
}

/// Whether a viewer may change an enterprise's record (`village`: where it is
/// registered): the county office any, a township officer those registered in
/// its township, an enterprise user its own.
pub fn manages_enterprise(
    viewer: &Viewer,
    enterprise: &enterprise::Model,
    village: Option<&region::Model>,
) -> bool {
    let Viewer::User(user) = viewer else {
        return false;
    };
    match user.role {
        Role::Enterprise => user.enterprise_id == Some(enterprise.id),
        _ => registers_enterprises_in(viewer, village),
    }
}

/// Whether a viewer may register an enterprise in `village` (or in none): the
/// county office anywhere, a township officer in a village of its township.
pub fn registers_enterprises_in(viewer: &Viewer, village: Option<&region::Model>) -> bool {
    match viewer.role() {
        Some(Role::CountyAdmin) => true,
        Some(Role::TownshipOfficer) => village.is_some_and(|v| reaches_village(viewer, v)),
        _ => false,
    }
}

/// Whether a viewer is a user of the enterprise that implements a project.
pub fn implements(viewer: &Viewer, project: &project::Model) -> bool {
    match viewer {
        Viewer::User(user) => {
            user.role == Role::Enterprise
                && user.enterprise_id.is_some()
                && user.enterprise_id == project.implementer_enterprise_id
        }
        Viewer::Public => false,
    }
}

fn nothing() -> Condition {
    Condition::all().add(Expr::cust("1 = 0"))
}

/// The IDs of the households a viewer reaches, when it reaches some but not all.
fn households_reached(viewer: &Viewer) -> Option<Condition> {
    match reach(viewer) {
        Reach::All => None,
        Reach::Under(prefix) => Some(
            Condition::all().add(household::Column::VillageId.in_subquery(villages_under(prefix))),
        ),
        Reach::Paired(helper) => {
            let paired = Query::select()
                .column(helper_pairing::Column::HouseholdId)
                .from(helper_pairing::Entity)
                .and_where(helper_pairing::Column::HelperId.eq(helper))
                .and_where(helper_pairing::Column::EndedOn.is_null())
                .to_owned();
            Some(Condition::all().add(household::Column::Id.in_subquery(paired)))
        }
        Reach::Linked(enterprise) => {
            let linked = Query::select()
                .column(benefit_link::Column::HouseholdId)
                .from(benefit_link::Entity)
                .and_where(benefit_link::Column::EnterpriseId.eq(enterprise))
                // Only a link open today: not one that has ended, nor one that has not begun.
                .and_where(benefit_link::Column::StartedOn.lte(calendar::today()))
                .cond_where(
                    Condition::any()
                        .add(benefit_link::Column::EndedOn.is_null())
                        .add(benefit_link::Column::EndedOn.gte(calendar::today())),
                )
                .to_owned();
            let benefited = Query::select()
                .column(project_beneficiary::Column::HouseholdId)
                .from(project_beneficiary::Entity)
                .and_where(
                    project_beneficiary::Column::ProjectId.in_subquery(projects_of(enterprise)),
                )
                .to_owned();
            Some(
                Condition::any()
                    .add(household::Column::Id.in_subquery(linked))
                    .add(household::Column::Id.in_subquery(benefited)),
            )
        }
        Reach::Nothing => Some(nothing()),
    }
}

/// The IDs of the projects an enterprise implements.
fn projects_of(enterprise: i64) -> SelectStatement {
    Query::select()
        .column(project::Column::Id)
        .from(project::Entity)
        .and_where(project::Column::ImplementerEnterpriseId.eq(enterprise))
        .to_owned()
}

/// Rows tied to a household through `column`, for the households a viewer reaches.
fn through_household(viewer: &Viewer, column: impl ColumnTrait) -> Condition {
    match households_reached(viewer) {
        None => Condition::all(),
        Some(condition) => {
            let ids = Query::select()
                .column(household::Column::Id)
                .from(household::Entity)
                .cond_where(condition)
                .to_owned();
            Condition::all().add(column.in_subquery(ids))
        }
    }
}

/// An entity whose rows are visible to a viewer only within its scope.
pub trait Scoped: EntityTrait {
    /// The rows of this entity the viewer may see.
    fn scope(viewer: &Viewer) -> Condition;
}

/// The rows of `E` that exist for this viewer: the starting point of every read.
pub fn select<E: Scoped>(viewer: &Viewer) -> Select<E> {
    E::find().filter(E::scope(viewer))
}

impl Scoped for household::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        households_reached(viewer).unwrap_or_else(Condition::all)
    }
}

impl Scoped for member::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        through_household(viewer, member::Column::HouseholdId)
    }
}

impl Scoped for helper_pairing::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        through_household(viewer, helper_pairing::Column::HouseholdId)
    }
}

impl Scoped for household_cause::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        through_household(viewer, household_cause::Column::HouseholdId)
    }
}

impl Scoped for household_income::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        through_household(viewer, household_income::Column::HouseholdId)
    }
}

impl Scoped for proposal::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        through_household(viewer, proposal::Column::HouseholdId)
    }
}

impl Scoped for status_change::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        through_household(viewer, status_change::Column::HouseholdId)
    }
}

impl Scoped for monitoring_case::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        through_household(viewer, monitoring_case::Column::HouseholdId)
    }
}

/// Objections: those to the proposals of the households a viewer reaches.
impl Scoped for objection::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        let proposals = Query::select()
            .column(proposal::Column::Id)
            .from(proposal::Entity)
            .cond_where(proposal::Entity::scope(viewer))
            .to_owned();
        Condition::all().add(objection::Column::ProposalId.in_subquery(proposals))
    }
}

/// Risks: those of the monitoring cases of the households a viewer reaches.
impl Scoped for monitoring_risk::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        let cases = Query::select()
            .column(monitoring_case::Column::Id)
            .from(monitoring_case::Entity)
            .cond_where(monitoring_case::Entity::scope(viewer))
            .to_owned();
        Condition::all().add(monitoring_risk::Column::CaseId.in_subquery(cases))
    }
}

impl Scoped for measure::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        through_household(viewer, measure::Column::HouseholdId)
    }
}

impl Scoped for loan::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        through_household(viewer, loan::Column::HouseholdId)
    }
}

/// Project assets (扶贫项目资产): those of village collectives are public money
/// ("funds run in the sun"), seen by everyone; a household's own only by
/// those who reach the household.
impl Scoped for project_asset::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        if households_reached(viewer).is_none() {
            return Condition::all();
        }
        Condition::any()
            .add(project_asset::Column::OwnerHouseholdId.is_null())
            .add(through_household(
                viewer,
                project_asset::Column::OwnerHouseholdId,
            ))
    }
}

/// An asset's income: for those who see the asset.
impl Scoped for asset_income::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        if households_reached(viewer).is_none() {
            return Condition::all();
        }
        let assets = Query::select()
            .column(project_asset::Column::Id)
            .from(project_asset::Entity)
            .cond_where(project_asset::Entity::scope(viewer))
            .to_owned();
        Condition::all().add(asset_income::Column::AssetId.in_subquery(assets))
    }
}

/// Benefit links: an enterprise sees its own, everyone else those of the households they reach.
impl Scoped for benefit_link::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        match reach(viewer) {
            Reach::Linked(enterprise) => {
                Condition::all().add(benefit_link::Column::EnterpriseId.eq(enterprise))
            }
            _ => through_household(viewer, benefit_link::Column::HouseholdId),
        }
    }
}

/// Beneficiaries: an enterprise sees those of its own projects, everyone else
/// those among the households they reach (the public sees only their number).
impl Scoped for project_beneficiary::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        match reach(viewer) {
            Reach::Linked(enterprise) => Condition::all()
                .add(project_beneficiary::Column::ProjectId.in_subquery(projects_of(enterprise))),
            _ => through_household(viewer, project_beneficiary::Column::HouseholdId),
        }
    }
}

impl Scoped for visit::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        through_household(viewer, visit::Column::HouseholdId)
    }
}

/// What a visit did: for those who see the visit.
impl Scoped for visit_help::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        if households_reached(viewer).is_none() {
            return Condition::all();
        }
        let visits = Query::select()
            .column(visit::Column::Id)
            .from(visit::Entity)
            .cond_where(visit::Entity::scope(viewer))
            .to_owned();
        Condition::all().add(visit_help::Column::VisitId.in_subquery(visits))
    }
}

/// Accounts: the county office and auditors see all of them; township and
/// village staff also the helper cadres they pair; anyone else only their own.
impl Scoped for app_user::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        let Viewer::User(user) = viewer else {
            return nothing();
        };
        let own = app_user::Column::Id.eq(user.id);
        match user.role {
            Role::CountyAdmin | Role::Auditor => Condition::all(),
            Role::TownshipOfficer | Role::VillageCadre => Condition::any()
                .add(own)
                .add(app_user::Column::Role.eq(Role::HelperCadre)),
            _ => Condition::all().add(own),
        }
    }
}

/// Rows about one township (assessment results, field checks): the county
/// office, auditors and the province see all, a township officer its own.
fn of_own_township(viewer: &Viewer, column: impl ColumnTrait) -> Condition {
    let Viewer::User(user) = viewer else {
        return nothing();
    };
    match (user.role, &user.region_prefix) {
        (Role::CountyAdmin | Role::Auditor | Role::ProvincialSystem, _) => Condition::all(),
        (Role::TownshipOfficer, Some(prefix)) => {
            let own = Query::select()
                .column(region::Column::Id)
                .from(region::Entity)
                .and_where(region::Column::Level.eq(RegionLevel::Township))
                .cond_where(code_under(prefix))
                .to_owned();
            Condition::all().add(column.in_subquery(own))
        }
        _ => nothing(),
    }
}

/// Assessment results: the county-wide readers see all; a township officer
/// its own township's; a cadre stationed in a village for a helper unit (a
/// first secretary or team member whose account the appointment names) the
/// results of the units it has served.
impl Scoped for assessment_result::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        if let Viewer::User(user) = viewer
            && matches!(user.role, Role::HelperCadre | Role::VillageCadre)
        {
            let units = Query::select()
                .column(village_staff::Column::UnitId)
                .from(village_staff::Entity)
                .and_where(village_staff::Column::UserId.eq(user.id))
                .and_where(village_staff::Column::UnitId.is_not_null())
                .to_owned();
            return Condition::all()
                .add(assessment_result::Column::HelperUnitId.in_subquery(units));
        }
        of_own_township(viewer, assessment_result::Column::TownshipId)
    }
}

impl Scoped for field_check::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        of_own_township(viewer, field_check::Column::TownshipId)
    }
}

/// Complaints (投诉举报): the county office and auditors see all of them; a
/// township officer those concerning the villages of its township, which it
/// handles; a complaint naming no village is the county's alone. Nobody else
/// reaches a complaint as a row: the complainant follows it by tracking number.
impl Scoped for complaint::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        let Viewer::User(user) = viewer else {
            return nothing();
        };
        match (user.role, &user.region_prefix) {
            (Role::CountyAdmin | Role::Auditor, _) => Condition::all(),
            (Role::TownshipOfficer, Some(prefix)) => Condition::all()
                .add(complaint::Column::VillageId.in_subquery(villages_under(prefix))),
            _ => nothing(),
        }
    }
}

/// Reveals and the audit trail: for the county office and auditors.
macro_rules! oversight {
    ($($module:ident),+) => {
        $(impl Scoped for $module::Entity {
            fn scope(viewer: &Viewer) -> Condition {
                match viewer.role() {
                    Some(Role::CountyAdmin | Role::Auditor) => Condition::all(),
                    _ => nothing(),
                }
            }
        })+
    };
}

oversight!(reveal, audit_entry);

/// Public data: the regions, the poverty line, enterprises, projects and their
/// money ("funds run in the sun": payees who are persons are field-guarded), and
/// who helps each village (posted on village boards; staff phones are field-guarded).
macro_rules! public {
    ($($module:ident),+) => {
        $(impl Scoped for $module::Entity {
            fn scope(_: &Viewer) -> Condition {
                Condition::all()
            }
        })+
    };
}

public!(
    region,
    poverty_line,
    provincial_poverty_line,
    monitoring_line,
    enterprise,
    project,
    project_village,
    project_stage_change,
    fund_source,
    fund_entry,
    assessment_indicator,
    helper_unit,
    unit_pairing,
    village_staff,
    village_exit
);

/// Policies (政策): published ones are public; drafts and withdrawn ones only
/// for the county office and auditors.
impl Scoped for policy::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        match viewer.role() {
            Some(Role::CountyAdmin | Role::Auditor) => Condition::all(),
            _ => Condition::all().add(policy::Column::Status.eq(PolicyStatus::Published)),
        }
    }
}

/// The policies a viewer sees, as a subquery of their IDs.
fn policies_seen(viewer: &Viewer) -> SelectStatement {
    Query::select()
        .column(policy::Column::Id)
        .from(policy::Entity)
        .cond_where(policy::Entity::scope(viewer))
        .to_owned()
}

/// A policy's audience: as public as the policy.
impl Scoped for policy_role::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        Condition::all().add(policy_role::Column::PolicyId.in_subquery(policies_seen(viewer)))
    }
}

impl Scoped for policy_region::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        Condition::all().add(policy_region::Column::PolicyId.in_subquery(policies_seen(viewer)))
    }
}

/// Read receipts: one's own; all of them for the county office and auditors.
impl Scoped for policy_read::Entity {
    fn scope(viewer: &Viewer) -> Condition {
        match viewer {
            Viewer::Public => nothing(),
            Viewer::User(user) => match user.role {
                Role::CountyAdmin | Role::Auditor => Condition::all(),
                _ => Condition::all().add(policy_read::Column::UserId.eq(user.id)),
            },
        }
    }
}

/// The regions of a user scoped under `prefix` that a policy addressed to
/// them reaches the user from: the user's own region and those under it (a
/// township officer answers for the publicity in its villages), and the
/// township of a village cadre's village.
fn regions_reaching(prefix: &str) -> Condition {
    let township = &prefix[..prefix.len().min(9)];
    Condition::any().add(code_under(prefix)).add(
        Condition::all()
            .add(region::Column::Level.eq(RegionLevel::Township))
            .add(code_under(township)),
    )
}

/// The published policies addressed to a viewer (发给我的政策): the viewer's
/// role is in the audience, and the policy addresses the whole county (no
/// regions) or a region [`regions_reaching`] the viewer. Users without a
/// region (the county office, auditors, the province, helper cadres and
/// enterprises) are reached by whole-county policies only.
pub fn addressed_to(viewer: &Viewer) -> ApiResult<Condition> {
    let user = viewer.user()?;
    let roles = Query::select()
        .column(policy_role::Column::PolicyId)
        .from(policy_role::Entity)
        .and_where(policy_role::Column::Role.eq(user.role))
        .to_owned();
    let restricted = Query::select()
        .column(policy_region::Column::PolicyId)
        .from(policy_region::Entity)
        .to_owned();
    let mut regions = Condition::any().add(policy::Column::Id.not_in_subquery(restricted));
    if let Some(prefix) = &user.region_prefix {
        let reaching = Query::select()
            .column(region::Column::Id)
            .from(region::Entity)
            .cond_where(regions_reaching(prefix))
            .to_owned();
        let addressed = Query::select()
            .column(policy_region::Column::PolicyId)
            .from(policy_region::Entity)
            .and_where(policy_region::Column::RegionId.in_subquery(reaching))
            .to_owned();
        regions = regions.add(policy::Column::Id.in_subquery(addressed));
    }
    Ok(Condition::all()
        .add(policy::Column::Status.eq(PolicyStatus::Published))
        .add(policy::Column::Id.in_subquery(roles))
        .add(regions))
}

/// The regions whose users a policy addressed to `addressed` (townships and
/// villages, at least one) reaches: the mirror of [`regions_reaching`], for counting readers.
pub fn regions_reached(addressed: &[region::Model]) -> Condition {
    addressed.iter().fold(Condition::any(), |reached, region| {
        let prefix = code_prefix(region);
        let township = &prefix[..prefix.len().min(9)];
        reached.add(code_under(prefix)).add(
            Condition::all()
                .add(region::Column::Level.eq(RegionLevel::Township))
                .add(code_under(township)),
        )
    })
}
