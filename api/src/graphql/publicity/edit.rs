//! Changes to policies, by the county office: drafts are created and edited,
//! then published and perhaps withdrawn; every step is versioned and audited.
//! Read receipts are facts, not changes: appended once per user, not audited.

use std::collections::BTreeSet;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use entity::enums::{PolicyCategory, PolicyStatus, RegionLevel, Role};
use entity::{policy, policy_read, policy_region, policy_role, region};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set,
};

use super::{Audience, Policy, audiences, snapshot};
use crate::access::{self, Viewer};
use crate::audit::{self, Change};
use crate::domain::calendar;
use crate::domain::write::{self, Created};
use crate::error::{ApiError, ApiResult};
use crate::graphql::relay::{NodeKind, decode_id_of};
use crate::graphql::{actor, db, required_text, viewer};
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

/// The townships and villages named by `ids`, in code order; none for the whole county.
async fn audience_regions(txn: &DatabaseTransaction, ids: &[ID]) -> ApiResult<Vec<region::Model>> {
    if ids.len() > MAX_REGIONS {
        return Err(ApiError::bad_input(
            "audienceRegionIds",
            format!("a policy addresses at most {MAX_REGIONS} regions"),
        ));
    }
    let mut raw = BTreeSet::new();
    for id in ids {
        let (kind, id) = decode_id_of(
            id,
            "audienceRegionIds",
            &[NodeKind::County, NodeKind::Township, NodeKind::Village],
        )?;
        if kind == NodeKind::County {
            return Err(ApiError::bad_input(
                "audienceRegionIds",
                "leave the regions empty to address the whole county",
            ));
        }
        raw.insert(id);
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
    id: &ID,
    version: i32,
) -> ApiResult<(policy::Model, Audience)> {
    let (_, raw) = decode_id_of(id, "id", &[NodeKind::Policy])?;
    let select = access::select::<policy::Entity>(viewer).filter(policy::Column::Id.eq(raw));
    let found = write::one_locked(txn, select)
        .await?
        .ok_or_else(|| ApiError::not_found("Policy"))?;
    let audience = audience_of(txn, viewer, raw).await?;
    write::check_version("policy", version, found.version, || {
        permissions::redact(viewer, "Policy", snapshot(&found, &audience))
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

/// A new policy, saved as a draft (新建政策).
#[derive(InputObject)]
pub struct CreatePolicyInput {
    /// Title, at most 200 characters (政策标题).
    title: String,
    /// The text, at most 20,000 characters (政策正文).
    body: String,
    /// Field of the policy (政策类别).
    category: PolicyCategory,
    /// The body that issued it, at most 200 characters (发文单位).
    issuing_body: String,
    /// The day it takes effect (生效日期).
    effective_on: NaiveDate,
    /// The roles it addresses, at least one (受众角色).
    audience_roles: Vec<Role>,
    /// The townships and villages it addresses; none for the whole county (受众地区).
    #[graphql(default)]
    audience_region_ids: Vec<ID>,
    /// Client-chosen key: a retried request returns the first policy (幂等键).
    idempotency_key: Option<String>,
}

/// Changes to a draft policy; fields left out stay as they are (修改政策).
#[derive(InputObject)]
pub struct UpdatePolicyInput {
    /// The policy (政策).
    id: ID,
    /// The version the change was made from (版本号).
    version: i32,
    /// New title (政策标题).
    title: Option<String>,
    /// New text (政策正文).
    body: Option<String>,
    /// New field (政策类别).
    category: Option<PolicyCategory>,
    /// New issuing body (发文单位).
    issuing_body: Option<String>,
    /// New day it takes effect (生效日期).
    effective_on: Option<NaiveDate>,
    /// New roles it addresses, at least one (受众角色).
    audience_roles: Option<Vec<Role>>,
    /// New townships and villages it addresses; empty for the whole county (受众地区).
    audience_region_ids: Option<Vec<ID>>,
}

/// A caller's read receipt of a policy (阅读回执).
#[derive(SimpleObject)]
pub struct PolicyReadReceipt {
    /// The policy (政策).
    policy: Policy,
    /// When the caller first read it (阅读时间).
    read_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct PolicyMutation;

#[Object]
impl PolicyMutation {
    /// Drafts a policy (新建政策).
    async fn create_policy(
        &self,
        ctx: &Context<'_>,
        input: CreatePolicyInput,
    ) -> ApiResult<Policy> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let user_id = viewer.user()?.id;
        let title = required_text(&input.title, "title", MAX_TITLE_CHARS)?;
        let body = required_text(&input.body, "body", MAX_BODY_CHARS)?;
        let issuing_body = required_text(&input.issuing_body, "issuingBody", MAX_ISSUER_CHARS)?;
        let effective_on = effective_on(input.effective_on)?;
        let roles = audience_roles(&input.audience_roles)?;
        let request = serde_json::json!({
            "title": title,
            "body": body,
            "category": input.category,
            "issuingBody": issuing_body,
            "effectiveOn": effective_on,
            "audienceRoles": roles,
            "audienceRegions": input.audience_region_ids,
        });
        let key = input.idempotency_key.as_deref();
        let created = write::create::<policy::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "createPolicy",
            &request,
            async |txn| {
                let regions = audience_regions(txn, &input.audience_region_ids).await?;
                reachable(&roles, &regions)?;
                let now = Utc::now();
                let created = policy::ActiveModel {
                    title: Set(title),
                    body: Set(body),
                    category: Set(input.category),
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
                    snapshot(&created, &audience),
                    created,
                ))
            },
        )
        .await?;
        Ok(Policy(created))
    }

    /// Changes a draft policy; published and withdrawn ones stay as they were
    /// published (修改政策).
    async fn update_policy(
        &self,
        ctx: &Context<'_>,
        input: UpdatePolicyInput,
    ) -> ApiResult<Policy> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let title = input
            .title
            .map(|t| required_text(&t, "title", MAX_TITLE_CHARS))
            .transpose()?;
        let body = input
            .body
            .map(|t| required_text(&t, "body", MAX_BODY_CHARS))
            .transpose()?;
        let issuing_body = input
            .issuing_body
            .map(|t| required_text(&t, "issuingBody", MAX_ISSUER_CHARS))
            .transpose()?;
        let effective = input.effective_on.map(effective_on).transpose()?;
        let roles = input
            .audience_roles
            .as_deref()
            .map(audience_roles)
            .transpose()?;
        if title.is_none()
            && body.is_none()
            && input.category.is_none()
            && issuing_body.is_none()
            && effective.is_none()
            && roles.is_none()
            && input.audience_region_ids.is_none()
        {
            return Err(ApiError::bad_input(
                "input",
                "give at least one field to change",
            ));
        }
        let txn = write::begin(db(ctx)?).await?;
        let (before, old_audience) =
            policy_to_change(&txn, viewer, &input.id, input.version).await?;
        require_status(&before, PolicyStatus::Draft, "edited")?;
        let regions = match &input.audience_region_ids {
            Some(ids) => Some(audience_regions(&txn, ids).await?),
            None => None,
        };
        let mut changed: policy::ActiveModel = before.clone().into();
        if let Some(title) = title {
            changed.title = Set(title);
        }
        if let Some(body) = body {
            changed.body = Set(body);
        }
        if let Some(category) = input.category {
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
            before: Some(snapshot(&before, &old_audience)),
            after: Some(snapshot(&after, &audience)),
        };
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
        Ok(Policy(after))
    }

    /// Publishes a draft policy to its audience (发布政策).
    async fn publish_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The policy (政策).")] id: ID,
        #[graphql(desc = "The version the change was made from (版本号).")] version: i32,
    ) -> ApiResult<Policy> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let txn = write::begin(db(ctx)?).await?;
        let (before, audience) = policy_to_change(&txn, viewer, &id, version).await?;
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
            before: Some(snapshot(&before, &audience)),
            after: Some(snapshot(&after, &audience)),
        };
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
        Ok(Policy(after))
    }

    /// Withdraws a published policy: it leaves its audience's lists and the
    /// public's, and stays on record with its read receipts (撤回政策).
    async fn withdraw_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The policy (政策).")] id: ID,
        #[graphql(desc = "The version the change was made from (版本号).")] version: i32,
        #[graphql(desc = "Why it is withdrawn, at most 500 characters (撤回原因).")] reason: String,
    ) -> ApiResult<Policy> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let reason = required_text(&reason, "reason", MAX_REASON_CHARS)?;
        let txn = write::begin(db(ctx)?).await?;
        let (before, audience) = policy_to_change(&txn, viewer, &id, version).await?;
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
            before: Some(snapshot(&before, &audience)),
            after: Some(snapshot(&after, &audience)),
        };
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
        Ok(Policy(after))
    }

    /// Records that the caller has read a published policy addressed to them,
    /// once per user: calling again returns the first receipt (阅读政策).
    async fn mark_policy_read(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The policy (政策).")] id: ID,
    ) -> ApiResult<PolicyReadReceipt> {
        let viewer = viewer(ctx)?;
        let user_id = viewer.user()?.id;
        let (_, raw) = decode_id_of(&id, "id", &[NodeKind::Policy])?;
        let db = db(ctx)?;
        let found = access::select::<policy::Entity>(viewer)
            .filter(access::addressed_to(viewer)?)
            .filter(policy::Column::Id.eq(raw))
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
            .ok_or_else(|| ApiError::Internal(format!("receipt of policy {raw} vanished")))?;
        Ok(PolicyReadReceipt {
            policy: Policy(found),
            read_at: receipt.read_at,
        })
    }
}
