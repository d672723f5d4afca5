//! Changes to policies, by the county office: drafts are created and edited,
//! then published and perhaps withdrawn (`domain::publicity`); read receipts.

use crate::graphql::date::Day;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::enums::{PolicyCategory, Role};

use super::Policy;
use crate::domain::publicity::{self, AudienceRegion, NewPolicy, PolicyChange};
use crate::error::ApiResult;
use crate::graphql::context::{actor, db, viewer};
use crate::graphql::relay::{NodeKind, decode_id_of};

/// The regions a policy is to address, as their global IDs name them.
fn audience_regions(ids: &[ID]) -> ApiResult<Vec<AudienceRegion>> {
    ids.iter()
        .map(|id| {
            let (kind, raw) = decode_id_of(
                id,
                "audienceRegionIds",
                &[NodeKind::County, NodeKind::Township, NodeKind::Village],
            )?;
            Ok(match kind {
                NodeKind::Township => AudienceRegion::Township(raw),
                NodeKind::Village => AudienceRegion::Village(raw),
                _ => AudienceRegion::County,
            })
        })
        .collect()
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
    effective_on: Day,
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
    effective_on: Option<Day>,
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
        #[graphql(desc = "The policy, as a draft (政策).")] input: CreatePolicyInput,
    ) -> ApiResult<Policy> {
        let new = NewPolicy {
            title: input.title,
            body: input.body,
            category: input.category,
            issuing_body: input.issuing_body,
            effective_on: input.effective_on.0,
            audience_roles: input.audience_roles,
            audience_regions: audience_regions(&input.audience_region_ids)?,
        };
        let key = input.idempotency_key.as_deref();
        publicity::create(db(ctx)?, &actor(ctx)?, viewer(ctx)?, key, new)
            .await
            .map(Policy)
    }

    /// Changes a draft policy; published and withdrawn ones stay as they were
    /// published (修改政策).
    async fn update_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The policy and what changes (政策变更).")] input: UpdatePolicyInput,
    ) -> ApiResult<Policy> {
        let (_, id) = decode_id_of(&input.id, "id", &[NodeKind::Policy])?;
        let change = PolicyChange {
            id,
            version: input.version,
            title: input.title,
            body: input.body,
            category: input.category,
            issuing_body: input.issuing_body,
            effective_on: input.effective_on.map(Into::into),
            audience_roles: input.audience_roles,
            audience_regions: input
                .audience_region_ids
                .as_deref()
                .map(audience_regions)
                .transpose()?,
        };
        publicity::update(db(ctx)?, &actor(ctx)?, viewer(ctx)?, change)
            .await
            .map(Policy)
    }

    /// Publishes a draft policy to its audience (发布政策).
    async fn publish_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The policy (政策).")] id: ID,
        #[graphql(desc = "The version the change was made from (版本号).")] version: i32,
    ) -> ApiResult<Policy> {
        let (_, id) = decode_id_of(&id, "id", &[NodeKind::Policy])?;
        publicity::publish(db(ctx)?, &actor(ctx)?, viewer(ctx)?, id, version)
            .await
            .map(Policy)
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
        let (_, id) = decode_id_of(&id, "id", &[NodeKind::Policy])?;
        publicity::withdraw(db(ctx)?, &actor(ctx)?, viewer(ctx)?, id, version, &reason)
            .await
            .map(Policy)
    }

    /// Records that the caller has read a published policy addressed to them,
    /// once per user: calling again returns the first receipt (阅读政策).
    async fn mark_policy_read(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The policy (政策).")] id: ID,
    ) -> ApiResult<PolicyReadReceipt> {
        let (_, id) = decode_id_of(&id, "id", &[NodeKind::Policy])?;
        let (policy, receipt) = publicity::mark_read(db(ctx)?, viewer(ctx)?, id).await?;
        Ok(PolicyReadReceipt {
            policy: Policy(policy),
            read_at: receipt.read_at,
        })
    }
}
