//! Policy publicity (政策宣传): policies the county office publishes to an
//! audience of roles and regions, the policies addressed to each user with
//! their read receipts, and read rates by region that show where publicity
//! has not reached. Published policies are public; drafts and withdrawn ones
//! are for the county office and auditors (`access`).
//!
//! Who a policy reaches: a user whose role is in its audience and, when the
//! policy names regions, whose township or village is one of them, lies under
//! one of them, or (for a township officer) contains one of them. Users
//! without a region (the county office, auditors, the province, helper cadres,
//! enterprises) are reached by whole-county policies only.

mod edit;

use crate::graphql::date::Day;
use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::enums::{PolicyCategory, PolicyStatus, RegionLevel, Role};
use entity::{app_user, policy, policy_read, region};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QueryTrait,
};

pub use edit::PolicyMutation;

use super::context::{db, loaders, page, viewer};
use super::node::Node;
use super::region::{find_region, region_node};
use super::relay::{Conn, KeyType, NodeKind, PageArgs, SortKey, global_id, page_cost, paginate};
use crate::access::{self, Viewer};
use crate::domain::publicity::{Audience, audiences};
use crate::error::{ApiError, ApiResult};

/// Newest first.
const POLICIES_BY_ID: SortKey<policy::Entity> = SortKey {
    name: "id",
    column: policy::Column::Id,
    key_type: KeyType::Int,
    descending: true,
    value_of: |m| m.id.to_string(),
};

/// The audiences of policies, by policy ID.
pub struct AudienceByPolicy {
    db: DatabaseConnection,
    viewer: Viewer,
}

impl AudienceByPolicy {
    pub fn new(db: &DatabaseConnection, viewer: &Viewer) -> Self {
        Self {
            db: db.clone(),
            viewer: viewer.clone(),
        }
    }
}

impl Loader<i64> for AudienceByPolicy {
    type Value = Audience;
    type Error = ApiError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Audience>, ApiError> {
        audiences(&self.db, &self.viewer, keys).await
    }
}

/// When the viewer read each policy, by policy ID.
pub struct ReadAtByPolicy {
    db: DatabaseConnection,
    user_id: Option<i64>,
}

impl ReadAtByPolicy {
    pub fn new(db: &DatabaseConnection, viewer: &Viewer) -> Self {
        Self {
            db: db.clone(),
            user_id: viewer.user().ok().map(|u| u.id),
        }
    }
}

impl Loader<i64> for ReadAtByPolicy {
    type Value = DateTime<Utc>;
    type Error = ApiError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, DateTime<Utc>>, ApiError> {
        let Some(user_id) = self.user_id else {
            return Ok(HashMap::new());
        };
        Ok(policy_read::Entity::find()
            .filter(policy_read::Column::UserId.eq(user_id))
            .filter(policy_read::Column::PolicyId.is_in(keys.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| (r.policy_id, r.read_at))
            .collect())
    }
}

pub struct Policy(pub policy::Model);

/// Its relations go through the DataLoaders.
impl crate::graphql::prefetch::Prefetch for Policy {
    type Row = entity::policy::Model;
}

/// A poverty-alleviation policy published to an audience (扶贫政策).
#[Object]
impl Policy {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Policy, self.0.id)
    }
    /// Title (政策标题).
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The text of the policy (政策正文).
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// Field of the policy (政策类别).
    async fn category(&self) -> PolicyCategory {
        self.0.category
    }
    /// The body that issued it (发文单位).
    async fn issuing_body(&self) -> &str {
        &self.0.issuing_body
    }
    /// The day it takes effect (生效日期).
    async fn effective_on(&self) -> Day {
        Day(self.0.effective_on)
    }
    /// The roles it addresses (受众角色).
    async fn audience_roles(&self, ctx: &Context<'_>) -> ApiResult<Vec<Role>> {
        Ok(self.audience(ctx).await?.roles)
    }
    /// The townships and villages it addresses; empty for the whole county (受众地区).
    async fn audience_regions(&self, ctx: &Context<'_>) -> ApiResult<Vec<Node>> {
        Ok(self
            .audience(ctx)
            .await?
            .regions
            .into_iter()
            .map(region_node)
            .collect())
    }
    /// Draft, published or withdrawn (政策状态).
    async fn status(&self) -> PolicyStatus {
        self.0.status
    }
    /// When it was published (发布时间).
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    /// The account that published it (发布人).
    async fn published_by(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        username(ctx, self.0.published_by).await
    }
    /// When it was withdrawn (撤回时间).
    async fn withdrawn_at(&self) -> Option<DateTime<Utc>> {
        self.0.withdrawn_at
    }
    /// The account that withdrew it (撤回人).
    async fn withdrawn_by(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        username(ctx, self.0.withdrawn_by).await
    }
    /// Why it was withdrawn (撤回原因).
    async fn withdrawal_reason(&self) -> Option<&str> {
        self.0.withdrawal_reason.as_deref()
    }
    /// When the caller read it; null while unread (阅读时间).
    async fn read_at(&self, ctx: &Context<'_>) -> ApiResult<Option<DateTime<Utc>>> {
        Ok(loaders(ctx)?.policy_reads.load_one(self.0.id).await?)
    }
    /// How many of those it addresses have read it, overall and by region (阅读情况).
    async fn readership(&self, ctx: &Context<'_>) -> ApiResult<PolicyReadership> {
        let audience = self.audience(ctx).await?;
        Ok(PolicyReadership {
            policy_id: self.0.id,
            audience,
        })
    }
    /// Version of the record, for detecting concurrent edits (版本号).
    async fn version(&self) -> i32 {
        self.0.version
    }
}

impl Policy {
    async fn audience(&self, ctx: &Context<'_>) -> ApiResult<Audience> {
        Ok(loaders(ctx)?
            .policy_audiences
            .load_one(self.0.id)
            .await?
            .unwrap_or_default())
    }
}

async fn username(ctx: &Context<'_>, id: Option<i64>) -> ApiResult<Option<String>> {
    let Some(id) = id else {
        return Ok(None);
    };
    Ok(loaders(ctx)?
        .users
        .load_one(id)
        .await?
        .map(|user| user.username))
}

/// The users a policy addresses and how many have read it (政策阅读情况).
pub struct PolicyReadership {
    policy_id: i64,
    audience: Audience,
}

/// Addressed and read, for a policy or one region of its audience (阅读统计).
pub struct ReadCounts {
    region: Option<region::Model>,
    addressed: i64,
    read: i64,
}

/// Addressed and read, for a policy or one region of its audience (阅读统计).
#[Object]
impl ReadCounts {
    /// The township or village; null for the policy as a whole (地区).
    async fn region(&self) -> Option<Node> {
        self.region.clone().map(region_node)
    }
    /// Active users the policy addresses (应读人数).
    async fn addressed(&self) -> i64 {
        self.addressed
    }
    /// Of those, how many have read it (已读人数).
    async fn read(&self) -> i64 {
        self.read
    }
    /// Read over addressed, 0 to 1; null when no one is addressed (阅读率).
    async fn rate(&self) -> Option<f64> {
        (self.addressed > 0).then(|| self.read as f64 / self.addressed as f64)
    }
}

/// Read counts of a policy over the active users it addresses now: users
/// whose role or region no longer match, and disabled ones, are not counted
/// (政策阅读情况).
#[Object]
impl PolicyReadership {
    /// The policy as a whole, county-wide users included (合计).
    async fn overall(&self, ctx: &Context<'_>) -> ApiResult<ReadCounts> {
        let counts = read_counts(db(ctx)?, self.policy_id, &self.audience, None).await?;
        let (addressed, read) = counts
            .values()
            .fold((0, 0), |(a, r), (ca, cr)| (a + ca, r + cr));
        Ok(ReadCounts {
            region: None,
            addressed,
            read,
        })
    }
    /// Each township of the county, or with `regionId` each village of that
    /// township, in code order: where publicity has not reached. Users
    /// without a region count only in the overall figures, township staff
    /// only in their township's (分地区).
    async fn by_region(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A township, to break down by its villages (乡镇).")] region_id: Option<
            ID,
        >,
    ) -> ApiResult<Vec<ReadCounts>> {
        let db = db(ctx)?;
        let parent = match region_id {
            Some(id) => find_region(ctx, &id, "regionId", &[NodeKind::Township]).await?,
            None => access::select::<region::Entity>(viewer(ctx)?)
                .filter(region::Column::Level.eq(RegionLevel::County))
                .one(db)
                .await?
                .ok_or_else(|| ApiError::not_found("County"))?,
        };
        let counts = read_counts(db, self.policy_id, &self.audience, Some(&parent)).await?;
        let children = access::select::<region::Entity>(viewer(ctx)?)
            .filter(region::Column::ParentId.eq(parent.id))
            .order_by_asc(region::Column::Code)
            .all(db)
            .await?;
        Ok(children
            .into_iter()
            .map(|child| {
                let (addressed, read) = counts
                    .get(access::code_prefix(&child))
                    .copied()
                    .unwrap_or_default();
                ReadCounts {
                    region: Some(child),
                    addressed,
                    read,
                }
            })
            .collect())
    }
}

/// Addressed and read users of a policy, grouped in SQL by the code prefix of
/// their region one level under `parent` (none: everyone, grouped by
/// township, users without a region under no prefix).
async fn read_counts(
    db: &impl ConnectionTrait,
    policy_id: i64,
    audience: &Audience,
    parent: Option<&region::Model>,
) -> ApiResult<HashMap<String, (i64, i64)>> {
    if audience.roles.is_empty() {
        return Ok(HashMap::new());
    }
    let part_len = match parent.map(|p| p.level) {
        Some(RegionLevel::Township | RegionLevel::Village) => 12,
        Some(RegionLevel::County) | None => 9,
    };
    // The length is our own constant: written into the SQL, so that SELECT
    // and GROUP BY carry the same expression on PostgreSQL.
    let part = Expr::cust(format!("SUBSTR(\"region\".\"code\", 1, {part_len})"));
    let read = Expr::col((policy_read::Entity, policy_read::Column::UserId)).is_not_null();
    let mut query = Query::select()
        .expr_as(part.clone(), Alias::new("part"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("addressed"))
        .expr_as(
            Func::sum(Expr::case(read, 1).finally(0)),
            Alias::new("read"),
        )
        .from(app_user::Entity)
        .left_join(
            region::Entity,
            Expr::col((region::Entity, region::Column::Id))
                .equals((app_user::Entity, app_user::Column::RegionId)),
        )
        .left_join(
            policy_read::Entity,
            Condition::all()
                .add(
                    Expr::col((policy_read::Entity, policy_read::Column::UserId))
                        .equals((app_user::Entity, app_user::Column::Id)),
                )
                .add(Expr::col((policy_read::Entity, policy_read::Column::PolicyId)).eq(policy_id)),
        )
        .and_where(Expr::col((app_user::Entity, app_user::Column::IsActive)).eq(true))
        .and_where(
            Expr::col((app_user::Entity, app_user::Column::Role)).is_in(audience.roles.clone()),
        )
        .add_group_by([part])
        .to_owned();
    if !audience.regions.is_empty() {
        let reached = Query::select()
            .column(region::Column::Id)
            .from(region::Entity)
            .cond_where(access::regions_reached(&audience.regions))
            .to_owned();
        query.and_where(
            Expr::col((app_user::Entity, app_user::Column::RegionId)).in_subquery(reached),
        );
    }
    if let Some(parent) = parent {
        let prefix = access::code_prefix(parent);
        query.and_where(Expr::col((region::Entity, region::Column::Code)).gte(prefix));
        query.and_where(Expr::col((region::Entity, region::Column::Code)).lt(format!("{prefix}:")));
    }
    let mut counts = HashMap::new();
    for row in db.query_all(&query).await? {
        let part: Option<String> = row.try_get("", "part")?;
        let addressed: i64 = row.try_get("", "addressed")?;
        let read: i64 = row.try_get("", "read")?;
        counts.insert(part.unwrap_or_default(), (addressed, read));
    }
    Ok(counts)
}

/// Which policies to list (政策筛选条件).
#[derive(InputObject, Default)]
pub struct PolicyFilter {
    /// Only policies of this field (政策类别).
    category: Option<PolicyCategory>,
    /// Only policies in this status; others than published only for the
    /// county office and auditors (政策状态).
    status: Option<PolicyStatus>,
}

#[derive(Default)]
pub struct PolicyQuery;

#[Object]
impl PolicyQuery {
    /// Policies, newest first: published ones for anyone; drafts and
    /// withdrawn ones for the county office and auditors (政策公开).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn policies(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which policies (筛选条件).")] filter: Option<PolicyFilter>,
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
    ) -> ApiResult<Conn<Policy>> {
        let filter = filter.unwrap_or_default();
        let select = access::select::<policy::Entity>(viewer(ctx)?)
            .apply_if(filter.category, |q, c| {
                q.filter(policy::Column::Category.eq(c))
            })
            .apply_if(filter.status, |q, s| q.filter(policy::Column::Status.eq(s)));
        let page = page(ctx, PageArgs::new(first, after, last, before))?;
        paginate(ctx, select, &POLICIES_BY_ID, page, Policy).await
    }

    /// The published policies addressed to the caller, newest first (我的政策).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn my_policies(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only those the caller has not read yet (仅未读).")] unread_only: Option<
            bool,
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
    ) -> ApiResult<Conn<Policy>> {
        let viewer = viewer(ctx)?;
        let user_id = viewer.user()?.id;
        let read = Query::select()
            .column(policy_read::Column::PolicyId)
            .from(policy_read::Entity)
            .and_where(policy_read::Column::UserId.eq(user_id))
            .to_owned();
        let select = access::select::<policy::Entity>(viewer)
            .filter(access::addressed_to(viewer)?)
            .apply_if(unread_only.filter(|u| *u), |q, _| {
                q.filter(policy::Column::Id.not_in_subquery(read))
            });
        let page = page(ctx, PageArgs::new(first, after, last, before))?;
        paginate(ctx, select, &POLICIES_BY_ID, page, Policy).await
    }
}
