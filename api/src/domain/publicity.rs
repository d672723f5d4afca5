//! Policies of the county office and their audiences: drafts are created and
//! edited, then published and perhaps withdrawn; every step is versioned and
//! audited. Read receipts are facts, not changes: appended once per user, not
//! audited.

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate, Utc};
use entity::enums::{
    MeasureCategory, MeasureStatus, PolicyCategory, PolicyStatus, RegionLevel, Role,
};
use entity::{household, measure, policy, policy_read, policy_region, policy_role, region};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::{Value, json};

use super::calendar;
use super::node::global_id;
use super::text::{free_text, required_text};
use super::write::{self, Created};
use crate::access::{self, Viewer};
use crate::audit::{self, Actor, Change};
use crate::error::{ApiError, ApiResult};
use crate::permissions;

const MAX_TITLE_CHARS: usize = 200;
const MAX_BODY_CHARS: usize = 20_000;
const MAX_ISSUER_CHARS: usize = 200;
const MAX_REASON_CHARS: usize = 500;
/// Most regions one policy may address.
const MAX_REGIONS: usize = 200;
/// Targeted poverty alleviation began in 2014: no policy of it is older.
const FIRST_YEAR: i32 = 2014;
/// How many years ahead a policy may take effect.
const YEARS_AHEAD: i32 = 5;

/// The audience of a policy: roles in enum order, regions in code order.
#[derive(Debug, Clone, Default)]
pub struct Audience {
    pub roles: Vec<Role>,
    pub regions: Vec<region::Model>,
}

/// The audiences of `keys`, in two statements.
pub async fn audiences(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    keys: &[i64],
) -> ApiResult<HashMap<i64, Audience>> {
    let mut found: HashMap<i64, Audience> = HashMap::new();
    let roles = access::select::<policy_role::Entity>(viewer)
        .filter(policy_role::Column::PolicyId.is_in(keys.iter().copied()))
        .all(db)
        .await?;
    for row in roles {
        found.entry(row.policy_id).or_default().roles.push(row.role);
    }
    let links = access::select::<policy_region::Entity>(viewer)
        .filter(policy_region::Column::PolicyId.is_in(keys.iter().copied()))
        .all(db)
        .await?;
    let regions: HashMap<i64, region::Model> = region::Entity::find()
        .filter(region::Column::Id.is_in(links.iter().map(|l| l.region_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    for link in links {
        if let Some(region) = regions.get(&link.region_id) {
            found
                .entry(link.policy_id)
                .or_default()
                .regions
                .push(region.clone());
        }
    }
    for audience in found.values_mut() {
        audience.roles.sort();
        audience.regions.sort_by(|a, b| a.code.cmp(&b.code));
    }
    Ok(found)
}

/// The GraphQL type of a region of this level.
/// A policy as the audit trail and conflict errors show it.
fn policy_snapshot(policy: &policy::Model, audience: &Audience) -> Value {
    json!({
        "id": global_id("Policy", policy.id),
        "title": policy.title,
        "body": policy.body,
        "category": policy.category,
        "issuingBody": policy.issuing_body,
        "effectiveOn": policy.effective_on,
        "audienceRoles": audience.roles,
        "audienceRegions": audience
            .regions
            .iter()
            .map(|r| global_id(super::region::type_name(r.level), r.id))
            .collect::<Vec<_>>(),
        "status": policy.status,
        "publishedAt": policy.published_at,
        "withdrawnAt": policy.withdrawn_at,
        "withdrawalReason": policy.withdrawal_reason,
        "version": policy.version,
    })
}

/// A region a caller names as a policy's audience: a township or a village;
/// the county is named by naming none.
#[derive(Debug, Clone, Copy)]
pub enum AudienceRegion {
    County,
    Township(i64),
    Village(i64),
}

impl AudienceRegion {
    /// The region as the caller named it: its global ID.
    fn named(self) -> Option<String> {
        match self {
            AudienceRegion::County => None,
            AudienceRegion::Township(id) => Some(global_id("Township", id)),
            AudienceRegion::Village(id) => Some(global_id("Village", id)),
        }
    }
}

fn effective_on(date: NaiveDate) -> ApiResult<NaiveDate> {
    let last = calendar::today().year() + YEARS_AHEAD;
    if !(FIRST_YEAR..=last).contains(&date.year()) {
        return Err(ApiError::bad_input(
            "effectiveOn",
            format!("a policy takes effect in {FIRST_YEAR} to {last}"),
        ));
    }
    Ok(date)
}

fn audience_roles(roles: &[Role]) -> ApiResult<Vec<Role>> {
    let roles: BTreeSet<Role> = roles.iter().copied().collect();
    if roles.is_empty() {
        return Err(ApiError::bad_input(
            "audienceRoles",
            "a policy addresses at least one role",
        ));
    }
    Ok(roles.into_iter().collect())
}

/// Refuses an audience that would reach no one: a policy for some townships
/// or villages reaches the users who have a region, township officers and
/// village cadres; the other roles (helper cadres among them) have none.
fn reachable(roles: &[Role], regions: &[region::Model]) -> ApiResult<()> {
    if regions.is_empty() {
        return Ok(());
    }
    let regionless: Vec<String> = roles
        .iter()
        .filter(|role| !matches!(role, Role::TownshipOfficer | Role::VillageCadre))
        .map(|role| role.to_value())
        .collect();
    if regionless.is_empty() {
        return Ok(());
    }
    Err(ApiError::bad_input(
        "audienceRoles",
        format!(
            "a policy for some townships or villages reaches township officers and village \
             cadres only; {} have no region: address them with a policy for the whole county",
            regionless.join(", ")
        ),
    ))
}

/// The townships and villages named, in code order; none for the whole county.
async fn audience_regions(
    txn: &DatabaseTransaction,
    named: &[AudienceRegion],
) -> ApiResult<Vec<region::Model>> {
    if named.len() > MAX_REGIONS {
        return Err(ApiError::bad_input(
            "audienceRegionIds",
            format!("a policy addresses at most {MAX_REGIONS} regions"),
        ));
    }
    let mut raw = BTreeSet::new();
    for region in named {
        match region {
            AudienceRegion::County => {
                return Err(ApiError::bad_input(
                    "audienceRegionIds",
                    "leave the regions empty to address the whole county",
                ));
            }
            AudienceRegion::Township(id) | AudienceRegion::Village(id) => raw.insert(*id),
        };
    }
    let mut regions = region::Entity::find()
        .filter(region::Column::Id.is_in(raw.iter().copied()))
        .filter(region::Column::Level.ne(RegionLevel::County))
        .all(txn)
        .await?;
    if regions.len() != raw.len() {
        return Err(ApiError::not_found("Township or Village"));
    }
    regions.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(regions)
}

/// Replaces a policy's audience rows.
async fn write_audience(
    txn: &DatabaseTransaction,
    policy_id: i64,
    audience: &Audience,
) -> ApiResult<()> {
    policy_role::Entity::delete_many()
        .filter(policy_role::Column::PolicyId.eq(policy_id))
        .exec(txn)
        .await?;
    policy_region::Entity::delete_many()
        .filter(policy_region::Column::PolicyId.eq(policy_id))
        .exec(txn)
        .await?;
    policy_role::Entity::insert_many(audience.roles.iter().map(|role| policy_role::ActiveModel {
        policy_id: Set(policy_id),
        role: Set(*role),
    }))
    .exec_without_returning(txn)
    .await?;
    if !audience.regions.is_empty() {
        policy_region::Entity::insert_many(audience.regions.iter().map(|region| {
            policy_region::ActiveModel {
                policy_id: Set(policy_id),
                region_id: Set(region.id),
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

async fn audience_of(txn: &DatabaseTransaction, viewer: &Viewer, id: i64) -> ApiResult<Audience> {
    Ok(audiences(txn, viewer, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default())
}

/// A policy the caller sees, locked for a change, with its audience.
async fn policy_to_change(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: i64,
    version: i32,
) -> ApiResult<(policy::Model, Audience)> {
    let select = access::select::<policy::Entity>(viewer).filter(policy::Column::Id.eq(id));
    let found = write::one_locked(txn, select)
        .await?
        .ok_or_else(|| ApiError::not_found("Policy"))?;
    let audience = audience_of(txn, viewer, id).await?;
    write::check_version("policy", version, found.version, || {
        permissions::redact(viewer, "Policy", policy_snapshot(&found, &audience))
    })?;
    Ok((found, audience))
}

/// Refuses a step the policy's status does not allow.
fn require_status(found: &policy::Model, allowed: PolicyStatus, step: &str) -> ApiResult<()> {
    if found.status == allowed {
        return Ok(());
    }
    Err(ApiError::bad_input(
        "id",
        format!(
            "the policy is {}: only a {} policy can be {step}",
            found.status.to_value(),
            allowed.to_value()
        ),
    ))
}

/// A new policy, as the caller gives it.
pub struct NewPolicy {
    pub title: String,
    pub body: String,
    pub category: PolicyCategory,
    pub issuing_body: String,
    pub effective_on: NaiveDate,
    pub audience_roles: Vec<Role>,
    pub audience_regions: Vec<AudienceRegion>,
}

/// Drafts a policy.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    key: Option<&str>,
    new: NewPolicy,
) -> ApiResult<policy::Model> {
    let user_id = viewer.user()?.id;
    let title = free_text("title", &new.title, MAX_TITLE_CHARS)?;
    let body = free_text("body", &new.body, MAX_BODY_CHARS)?;
    let issuing_body = required_text(&new.issuing_body, "issuingBody", MAX_ISSUER_CHARS)?;
    let effective_on = effective_on(new.effective_on)?;
    let roles = audience_roles(&new.audience_roles)?;
    let request = json!({
        "title": title,
        "body": body,
        "category": new.category,
        "issuingBody": issuing_body,
        "effectiveOn": effective_on,
        "audienceRoles": roles,
        "audienceRegions": new.audience_regions.iter().map(|r| r.named()).collect::<Vec<_>>(),
    });
    write::create::<policy::Entity, _>(db, actor, key, "createPolicy", &request, async |txn| {
        let regions = audience_regions(txn, &new.audience_regions).await?;
        reachable(&roles, &regions)?;
        let now = Utc::now();
        let created = policy::ActiveModel {
            title: Set(title),
            body: Set(body),
            category: Set(new.category),
            issuing_body: Set(issuing_body),
            effective_on: Set(effective_on),
            status: Set(PolicyStatus::Draft),
            published_at: Set(None),
            published_by: Set(None),
            withdrawn_at: Set(None),
            withdrawn_by: Set(None),
            withdrawal_reason: Set(None),
            created_by: Set(Some(user_id)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let audience = Audience { roles, regions };
        write_audience(txn, created.id, &audience).await?;
        Ok(Created::new(
            created.id,
            "policy.create",
            "Policy",
            policy_snapshot(&created, &audience),
            created,
        ))
    })
    .await
}

/// Changes to a draft policy; fields left out stay as they are.
pub struct PolicyChange {
    pub id: i64,
    pub version: i32,
    pub title: Option<String>,
    pub body: Option<String>,
    pub category: Option<PolicyCategory>,
    pub issuing_body: Option<String>,
    pub effective_on: Option<NaiveDate>,
    pub audience_roles: Option<Vec<Role>>,
    pub audience_regions: Option<Vec<AudienceRegion>>,
}

/// Changes a draft policy; published and withdrawn ones stay as they were published.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    change: PolicyChange,
) -> ApiResult<policy::Model> {
    let title = change
        .title
        .map(|t| free_text("title", &t, MAX_TITLE_CHARS))
        .transpose()?;
    let body = change
        .body
        .map(|t| free_text("body", &t, MAX_BODY_CHARS))
        .transpose()?;
    let issuing_body = change
        .issuing_body
        .map(|t| required_text(&t, "issuingBody", MAX_ISSUER_CHARS))
        .transpose()?;
    let effective = change.effective_on.map(effective_on).transpose()?;
    let roles = change
        .audience_roles
        .as_deref()
        .map(audience_roles)
        .transpose()?;
    if title.is_none()
        && body.is_none()
        && change.category.is_none()
        && issuing_body.is_none()
        && effective.is_none()
        && roles.is_none()
        && change.audience_regions.is_none()
    {
        return Err(ApiError::bad_input(
            "input",
            "give at least one field to change",
        ));
    }
    let txn = write::begin(db).await?;
    let (before, old_audience) = policy_to_change(&txn, viewer, change.id, change.version).await?;
    require_status(&before, PolicyStatus::Draft, "edited")?;
    let regions = match &change.audience_regions {
        Some(named) => Some(audience_regions(&txn, named).await?),
        None => None,
    };
    let mut changed: policy::ActiveModel = before.clone().into();
    if let Some(title) = title {
        changed.title = Set(title);
    }
    if let Some(body) = body {
        changed.body = Set(body);
    }
    if let Some(category) = change.category {
        changed.category = Set(category);
    }
    if let Some(issuing_body) = issuing_body {
        changed.issuing_body = Set(issuing_body);
    }
    if let Some(effective) = effective {
        changed.effective_on = Set(effective);
    }
    let audience = Audience {
        roles: roles.unwrap_or_else(|| old_audience.roles.clone()),
        regions: regions.unwrap_or_else(|| old_audience.regions.clone()),
    };
    reachable(&audience.roles, &audience.regions)?;
    changed.version = Set(before.version + 1);
    changed.updated_at = Set(Utc::now());
    let after = changed.update(&txn).await?;
    write_audience(&txn, after.id, &audience).await?;
    let change = Change {
        action: "policy.update",
        entity_type: "Policy",
        entity_id: after.id,
        before: Some(policy_snapshot(&before, &old_audience)),
        after: Some(policy_snapshot(&after, &audience)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// Publishes a draft policy to its audience.
pub async fn publish(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    id: i64,
    version: i32,
) -> ApiResult<policy::Model> {
    let txn = write::begin(db).await?;
    let (before, audience) = policy_to_change(&txn, viewer, id, version).await?;
    require_status(&before, PolicyStatus::Draft, "published")?;
    let mut changed: policy::ActiveModel = before.clone().into();
    let now = Utc::now();
    changed.status = Set(PolicyStatus::Published);
    changed.published_at = Set(Some(now));
    changed.published_by = Set(actor.user_id);
    changed.version = Set(before.version + 1);
    changed.updated_at = Set(now);
    let after = changed.update(&txn).await?;
    let change = Change {
        action: "policy.publish",
        entity_type: "Policy",
        entity_id: after.id,
        before: Some(policy_snapshot(&before, &audience)),
        after: Some(policy_snapshot(&after, &audience)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// Withdraws a published policy: it leaves its audience's lists and the
/// public's, and stays on record with its read receipts.
pub async fn withdraw(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: &Viewer,
    id: i64,
    version: i32,
    reason: &str,
) -> ApiResult<policy::Model> {
    let reason = free_text("reason", reason, MAX_REASON_CHARS)?;
    let txn = write::begin(db).await?;
    let (before, audience) = policy_to_change(&txn, viewer, id, version).await?;
    require_status(&before, PolicyStatus::Published, "withdrawn")?;
    let mut changed: policy::ActiveModel = before.clone().into();
    let now = Utc::now();
    changed.status = Set(PolicyStatus::Withdrawn);
    changed.withdrawn_at = Set(Some(now));
    changed.withdrawn_by = Set(actor.user_id);
    changed.withdrawal_reason = Set(Some(reason));
    changed.version = Set(before.version + 1);
    changed.updated_at = Set(now);
    let after = changed.update(&txn).await?;
    let change = Change {
        action: "policy.withdraw",
        entity_type: "Policy",
        entity_id: after.id,
        before: Some(policy_snapshot(&before, &audience)),
        after: Some(policy_snapshot(&after, &audience)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// Records that the caller has read a published policy addressed to them,
/// once per user: calling again gives the first receipt.
pub async fn mark_read(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<(policy::Model, policy_read::Model)> {
    let user_id = viewer.user()?.id;
    let found = access::select::<policy::Entity>(viewer)
        .filter(access::addressed_to(viewer)?)
        .filter(policy::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("Policy"))?;
    policy_read::Entity::insert(policy_read::ActiveModel {
        policy_id: Set(found.id),
        user_id: Set(user_id),
        read_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([policy_read::Column::PolicyId, policy_read::Column::UserId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let receipt = policy_read::Entity::find_by_id((found.id, user_id))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("receipt of policy {id} vanished")))?;
    Ok((found, receipt))
}

/// The field of policy a measure of a household's plan carries out: the
/// policies of that field are the ones the measure brings to the household.
pub fn policy_field_of(measure: MeasureCategory) -> PolicyCategory {
    match measure {
        MeasureCategory::DevelopProduction => PolicyCategory::Industry,
        MeasureCategory::Relocation => PolicyCategory::Relocation,
        MeasureCategory::Education => PolicyCategory::Education,
        MeasureCategory::SocialSecurity => PolicyCategory::SocialSecurity,
        MeasureCategory::Employment
        | MeasureCategory::PublicWelfareJob
        | MeasureCategory::SkillsTraining => PolicyCategory::Employment,
        MeasureCategory::Health => PolicyCategory::Health,
        MeasureCategory::HousingRenovation => PolicyCategory::Housing,
        MeasureCategory::Microcredit => PolicyCategory::Finance,
        MeasureCategory::EcologicalCompensation | MeasureCategory::Other => PolicyCategory::Other,
    }
}

/// The policies a household enjoys on `day` (享受政策), oldest in force
/// first: published, in force, addressed to the whole county or to its
/// village or township, in a field of a measure of its plan not cancelled.
pub async fn policies_enjoyed(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    household: &household::Model,
    day: NaiveDate,
) -> ApiResult<Vec<policy::Model>> {
    let fields: BTreeSet<PolicyCategory> = measure::Entity::find()
        .filter(measure::Column::HouseholdId.eq(household.id))
        .filter(measure::Column::Status.ne(MeasureStatus::Cancelled))
        .all(db)
        .await?
        .into_iter()
        .map(|m| policy_field_of(m.category))
        .collect();
    if fields.is_empty() {
        return Ok(Vec::new());
    }
    let village = region::Entity::find_by_id(household.village_id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("Village"))?;
    let home = [Some(village.id), village.parent_id];
    let restricted = Query::select()
        .column(policy_region::Column::PolicyId)
        .from(policy_region::Entity)
        .to_owned();
    let addressed = Query::select()
        .column(policy_region::Column::PolicyId)
        .from(policy_region::Entity)
        .and_where(policy_region::Column::RegionId.is_in(home.into_iter().flatten()))
        .to_owned();
    Ok(access::select::<policy::Entity>(viewer)
        .filter(policy::Column::Status.eq(PolicyStatus::Published))
        .filter(policy::Column::EffectiveOn.lte(day))
        .filter(policy::Column::Category.is_in(fields))
        .filter(
            Condition::any()
                .add(policy::Column::Id.not_in_subquery(restricted))
                .add(policy::Column::Id.in_subquery(addressed)),
        )
        .order_by_asc(policy::Column::EffectiveOn)
        .order_by_asc(policy::Column::Id)
        .all(db)
        .await?)
}
