//! Revealing masked values with a stated purpose (查看敏感信息), the record of
//! reveals, the audit trail with the login alerts in it, and the county
//! administrator's management of users.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::enums::Role;
use entity::{app_user, audit_entry, reveal};
use sea_orm::{ColumnTrait, QueryFilter};

use super::account::Account;
use super::context::{actor, db, loaders, page, viewer};
use super::json::Json;
use super::relay::{
    Conn, KeyType, NodeKind, PageArgs, SortKey, decode_id, global_id, page_cost, paginate,
};
use crate::access;
use crate::account::{self, NewUser};
use crate::audit;
use crate::domain;
use crate::error::{ApiError, ApiResult};
use crate::lockout::{self, AlertReason};
use crate::permissions;

/// Newest first.
const NEWEST_REVEAL_FIRST: SortKey<reveal::Entity> = SortKey {
    name: "reveal-desc",
    column: reveal::Column::Id,
    key_type: KeyType::Int,
    descending: true,
    value_of: |m| m.id.to_string(),
};

const USERS_BY_ID: SortKey<app_user::Entity> = SortKey {
    name: "id",
    column: app_user::Column::Id,
    key_type: KeyType::Int,
    descending: false,
    value_of: |m| m.id.to_string(),
};

pub struct Reveal(reveal::Model);

/// Its relations go through the DataLoaders.
impl crate::graphql::prefetch::Prefetch for Reveal {
    type Row = entity::reveal::Model;
}

impl Reveal {
    /// The reveal of this ID, if the viewer may list reveals.
    pub async fn find(ctx: &Context<'_>, id: i64) -> ApiResult<Option<Self>> {
        let found = access::select::<reveal::Entity>(viewer(ctx)?)
            .filter(reveal::Column::Id.eq(id))
            .one(db(ctx)?)
            .await?;
        Ok(found.map(Self))
    }
}

/// One masked value a reader saw in full, and why (查看记录).
#[Object]
impl Reveal {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Reveal, self.0.id)
    }
    /// Who looked (查看人).
    async fn reader(&self, ctx: &Context<'_>) -> ApiResult<Option<Account>> {
        Ok(loaders(ctx)?
            .users
            .load_one(self.0.user_id)
            .await?
            .map(Account))
    }
    /// Global ID of the record looked at (被查看记录).
    async fn target_id(&self) -> ID {
        let kind = if self.0.target_type == "Household" {
            NodeKind::Household
        } else {
            NodeKind::Member
        };
        global_id(kind, self.0.target_id)
    }
    /// The field revealed, e.g. `idNumber` (字段).
    async fn field(&self) -> &str {
        &self.0.field
    }
    /// The purpose the reader stated (查看事由).
    async fn purpose(&self) -> &str {
        &self.0.purpose
    }
    /// When (查看时间).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

/// A new user (新用户).
#[derive(InputObject)]
pub struct CreateUserInput {
    /// Login name, or a service account's client ID.
    username: String,
    /// Initial password or client secret, at least 10 characters.
    password: String,
    /// The role, which decides what the user may see and do (角色).
    role: Role,
    /// Division code of the township or village, for township officers and village cadres.
    region_code: Option<String>,
    /// Unified social credit code of the enterprise, for enterprise users.
    enterprise_credit_code: Option<String>,
}

/// Newest first.
const NEWEST_AUDIT_FIRST: SortKey<audit_entry::Entity> = SortKey {
    name: "audit-desc",
    column: audit_entry::Column::Id,
    key_type: KeyType::Int,
    descending: true,
    value_of: |m| m.id.to_string(),
};

pub struct AuditEntry(audit_entry::Model);

/// Its relations go through the DataLoaders.
impl crate::graphql::prefetch::Prefetch for AuditEntry {
    type Row = entity::audit_entry::Model;
}

impl AuditEntry {
    /// The entry of this sequence, if the viewer may read the trail.
    pub async fn find(ctx: &Context<'_>, id: i64) -> ApiResult<Option<Self>> {
        let found = access::select::<audit_entry::Entity>(viewer(ctx)?)
            .filter(audit_entry::Column::Id.eq(id))
            .one(db(ctx)?)
            .await?;
        Ok(found.map(Self))
    }

    /// A stored snapshot as the reader may see it: the same masks and omissions
    /// as reading the fields of the entry's type.
    fn snapshot(&self, ctx: &Context<'_>, text: Option<&str>) -> ApiResult<Option<Json>> {
        let viewer = viewer(ctx)?;
        Ok(text
            .and_then(|text| serde_json::from_str(text).ok())
            .map(|value| Json(permissions::redact(viewer, &self.0.entity_type, value))))
    }
}

/// One change, as the audit trail keeps it (审计记录). Entries are never edited.
#[Object]
impl AuditEntry {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::AuditEntry, self.0.id)
    }
    /// Position in the trail.
    async fn sequence(&self) -> i64 {
        self.0.id
    }
    /// When (时间).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// Username of the actor, or the service part that acted (`cli`, `demo`, `idp:...`) (操作人).
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// The actor's role (角色).
    async fn role(&self) -> Option<&str> {
        self.0.role.as_deref()
    }
    /// What was done, e.g. `user.disable` (操作).
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// The type of the record changed, e.g. `Account` (对象类型).
    async fn entity_type(&self) -> &str {
        &self.0.entity_type
    }
    /// The database ID of the record changed (对象编号).
    async fn entity_id(&self) -> i64 {
        self.0.entity_id
    }
    /// The audited fields before the change, as the field policy lets the reader
    /// see that type's fields (变更前).
    async fn before(&self, ctx: &Context<'_>) -> ApiResult<Option<Json>> {
        self.snapshot(ctx, self.0.before.as_deref())
    }
    /// The audited fields after the change, shaped by the field policy like `before` (变更后).
    async fn after(&self, ctx: &Context<'_>) -> ApiResult<Option<Json>> {
        self.snapshot(ctx, self.0.after.as_deref())
    }
    /// The `x-request-id` of the request that made the change (请求编号).
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
    /// SHA-256 over the entry and the previous entry's hash (哈希).
    async fn hash(&self) -> &str {
        &self.0.hash
    }
}

/// Which audit entries to list (审计筛选条件).
#[derive(InputObject, Default)]
pub struct AuditFilter {
    /// Only changes of this type of record, e.g. `Account` (对象类型).
    entity_type: Option<String>,
    /// Only changes of this record (its database ID); with `entityType` (对象编号).
    entity_id: Option<i64>,
    /// Only changes of the record with this global ID, e.g. a household's; instead
    /// of `entityType` and `entityId` (对象).
    entity: Option<ID>,
    /// Only changes by this actor.
    actor: Option<String>,
    /// Only changes at or after this time.
    from: Option<DateTime<Utc>>,
    /// Only changes before this time.
    to: Option<DateTime<Utc>>,
}

/// The result of walking the audit chain (审计链校验结果).
#[derive(SimpleObject)]
pub struct AuditChainReport {
    /// Entries checked.
    entries: u64,
    /// Whether every entry matches its hash and follows the one before it.
    intact: bool,
    /// The first entry that does not: where the trail was altered.
    first_broken_sequence: Option<i64>,
    /// Whether the trail still holds the entry of the head given, with that
    /// hash (保留链头): false once it was deleted or rewritten, as when the
    /// newest entries are cut off, which `intact` alone cannot show. With
    /// `intact`, it means today's trail extends the one that head ended.
    /// Null when no head was given.
    holds_head: Option<bool>,
}

pub struct AuditChainHead(pub audit::ChainHead);

/// The newest entry of the audit trail (审计链头): its hash covers every entry
/// before it. Keep the last head you saw; `verifyAuditChain(head:)` later
/// says whether the trail still holds it.
#[Object]
impl AuditChainHead {
    /// Position of the entry in the trail (序号).
    async fn sequence(&self) -> i64 {
        self.0.sequence
    }
    /// The entry's SHA-256, over its content and the previous entry's hash (哈希).
    async fn hash(&self) -> &str {
        &self.0.hash
    }
    /// When the entry was written (时间).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

/// A chain head kept from `auditChainHead`, a page of `changes` or a webhook
/// event, to check against the trail (保存的链头).
#[derive(InputObject)]
pub struct AuditChainHeadInput {
    /// The head's `sequence`.
    sequence: i64,
    /// The head's `hash`.
    hash: String,
}

/// Why an account was reported under attack (告警原因).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum LoginAlertReason {
    /// Failed logins from one address locked that address out of the account
    /// (单一来源锁定).
    SourceLocked,
    /// Failed logins from many addresses the account never signed in from:
    /// every such address is refused for a while; known ones still sign in
    /// (多来源攻击).
    ManySources,
    /// The account itself spent its hourly budget of answers that a person is
    /// registered in a household it may not be told of, and was locked: a
    /// sign of someone testing ID numbers against the register (查重试探).
    RegisterProbed,
}

/// An alert that an account is under attack (登录告警): an entry of the audit
/// trail, written once when an address is locked out of the account or when
/// unknown addresses together are.
pub struct LoginAlert {
    entry: audit_entry::Model,
    details: serde_json::Value,
}

/// Its relations go through the DataLoaders.
impl crate::graphql::prefetch::Prefetch for LoginAlert {
    type Row = audit_entry::Model;
}

impl LoginAlert {
    /// The alert of this sequence, if the viewer may list alerts.
    pub async fn find(ctx: &Context<'_>, id: i64) -> ApiResult<Option<Self>> {
        let found = access::select::<audit_entry::Entity>(viewer(ctx)?)
            .filter(audit_entry::Column::Action.eq(lockout::ALERT_ACTION))
            .filter(audit_entry::Column::Id.eq(id))
            .one(db(ctx)?)
            .await?;
        Ok(found.map(Self::from))
    }
}

impl From<audit_entry::Model> for LoginAlert {
    fn from(entry: audit_entry::Model) -> Self {
        let details = entry
            .after
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default();
        Self { entry, details }
    }
}

/// An alert that an account is under attack (登录告警).
#[Object]
impl LoginAlert {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::LoginAlert, self.entry.id)
    }
    /// Position in the audit trail (审计序号).
    async fn sequence(&self) -> i64 {
        self.entry.id
    }
    /// When the alert was raised (时间).
    async fn at(&self) -> DateTime<Utc> {
        self.entry.at
    }
    /// The account attacked (被攻击账号).
    async fn account(&self, ctx: &Context<'_>) -> ApiResult<Option<Account>> {
        Ok(loaders(ctx)?
            .users
            .load_one(self.entry.entity_id)
            .await?
            .map(Account))
    }
    /// Why the alert was raised (告警原因).
    async fn reason(&self) -> LoginAlertReason {
        match self.details["reason"].as_str().and_then(AlertReason::parse) {
            Some(AlertReason::SourceLocked) => LoginAlertReason::SourceLocked,
            Some(AlertReason::RegisterProbed) => LoginAlertReason::RegisterProbed,
            Some(AlertReason::ManySources) | None => LoginAlertReason::ManySources,
        }
    }
    /// The address locked out, for `SOURCE_LOCKED` (来源地址).
    async fn source(&self) -> Option<&str> {
        self.details["source"].as_str()
    }
    /// Failed logins of the account within the window, from every address (失败次数).
    async fn failures(&self) -> i64 {
        self.details["failures"].as_i64().unwrap_or_default()
    }
    /// Addresses those failures came from (来源数).
    async fn sources(&self) -> i64 {
        self.details["sources"].as_i64().unwrap_or_default()
    }
    /// Start of the window the failures were counted in (统计起点).
    async fn since(&self) -> Option<DateTime<Utc>> {
        serde_json::from_value(self.details["since"].clone()).ok()
    }
}

#[derive(Default)]
pub struct OversightQuery;

#[Object]
impl OversightQuery {
    /// Every reveal of a masked value, newest first (查看记录): for the county office and auditors.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn reveals(
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
    ) -> ApiResult<Conn<Reveal>> {
        let select = access::select::<reveal::Entity>(viewer(ctx)?);
        let page = page(ctx, PageArgs::new(first, after, last, before))?;
        paginate(ctx, select, &NEWEST_REVEAL_FIRST, page, Reveal).await
    }

    /// The audit trail, newest first (审计日志): for the county office and auditors.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn audit_entries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which entries; the whole trail if not given (筛选条件).")] filter: Option<
            AuditFilter,
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
    ) -> ApiResult<Conn<AuditEntry>> {
        use audit_entry::Column as A;
        let mut filter = filter.unwrap_or_default();
        if let Some(entity) = &filter.entity {
            if filter.entity_type.is_some() || filter.entity_id.is_some() {
                return Err(ApiError::bad_input(
                    "filter.entity",
                    "give either `entity` or `entityType` and `entityId`, not both",
                ));
            }
            let (kind, raw) = decode_id(entity, "filter.entity")?;
            filter.entity_type = Some(kind.type_name().to_owned());
            filter.entity_id = Some(raw);
        }
        if filter.entity_id.is_some() && filter.entity_type.is_none() {
            return Err(ApiError::bad_input(
                "filter.entityId",
                "an ID names a record only with its `entityType`",
            ));
        }
        let mut select = access::select::<audit_entry::Entity>(viewer(ctx)?);
        if let Some(entity_type) = filter.entity_type {
            select = select.filter(A::EntityType.eq(entity_type));
        }
        if let Some(entity_id) = filter.entity_id {
            select = select.filter(A::EntityId.eq(entity_id));
        }
        if let Some(actor) = filter.actor {
            select = select.filter(A::Actor.eq(actor));
        }
        if let Some(from) = filter.from {
            select = select.filter(A::At.gte(from));
        }
        if let Some(to) = filter.to {
            select = select.filter(A::At.lt(to));
        }
        let page = page(ctx, PageArgs::new(first, after, last, before))?;
        paginate(ctx, select, &NEWEST_AUDIT_FIRST, page, AuditEntry).await
    }

    /// Alerts that accounts are under attack, newest first (登录告警): for the
    /// county office and auditors.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn login_alerts(
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
    ) -> ApiResult<Conn<LoginAlert>> {
        let select = access::select::<audit_entry::Entity>(viewer(ctx)?)
            .filter(audit_entry::Column::Action.eq(lockout::ALERT_ACTION));
        let page = page(ctx, PageArgs::new(first, after, last, before))?;
        paginate(ctx, select, &NEWEST_AUDIT_FIRST, page, LoginAlert::from).await
    }

    /// Walks the whole audit trail and reports the first entry altered behind
    /// the service's back, if any, and whether a head kept earlier is still
    /// in it (校验审计链): for the county office, auditors and the provincial
    /// system.
    #[graphql(
        complexity = "crate::graphql::cost::priced(crate::graphql::cost::AUDIT_CHAIN, child_complexity)"
    )]
    async fn verify_audit_chain(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A head kept from `auditChainHead`, the change feed or a webhook event.")]
        head: Option<AuditChainHeadInput>,
    ) -> ApiResult<AuditChainReport> {
        let db = db(ctx)?;
        let report = audit::verify(db).await?;
        let holds_head = match head {
            Some(head) => Some(audit::holds(db, head.sequence, &head.hash).await?),
            None => None,
        };
        Ok(AuditChainReport {
            entries: report.entries,
            intact: report.first_broken.is_none(),
            first_broken_sequence: report.first_broken,
            holds_head,
        })
    }

    /// The newest entry of the audit trail (审计链头), null while it is empty:
    /// for the county office, auditors and the provincial system.
    async fn audit_chain_head(&self, ctx: &Context<'_>) -> ApiResult<Option<AuditChainHead>> {
        Ok(audit::head(db(ctx)?).await?.map(AuditChainHead))
    }

    /// User accounts (用户): for the county office and auditors.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn users(
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
    ) -> ApiResult<Conn<Account>> {
        let select = access::select::<app_user::Entity>(viewer(ctx)?);
        let page = page(ctx, PageArgs::new(first, after, last, before))?;
        paginate(ctx, select, &USERS_BY_ID, page, Account).await
    }
}

#[derive(Default)]
pub struct OversightMutation;

#[Object]
impl OversightMutation {
    /// Shows one record's masked value in full, for a stated purpose (查看完整信息).
    /// Only a reader who sees the field masked needs it; each reveal is recorded.
    async fn reveal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the household or member (对象).")] id: ID,
        #[graphql(desc = "The masked field to show, e.g. `idNumber` (字段).")] field: String,
        #[graphql(
            desc = "Why, at least 4 characters, kept with the reveal; no ID or phone numbers in it (查看事由)."
        )]
        purpose: String,
    ) -> ApiResult<String> {
        let (kind, raw) = decode_id(&id, "id")?;
        let (db, viewer) = (db(ctx)?, viewer(ctx)?);
        domain::reveal::reveal(db, viewer, kind.type_name(), raw, &field, &purpose).await
    }

    /// Creates a user (新建用户): the county office only.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new account (新用户).")] input: CreateUserInput,
    ) -> ApiResult<Account> {
        let new = NewUser {
            username: input.username,
            password: input.password,
            role: input.role,
            region_code: input.region_code,
            enterprise_credit_code: input.enterprise_credit_code,
        };
        account::create_user(db(ctx)?, &actor(ctx)?, new)
            .await
            .map(Account)
    }

    /// Disables a user and ends all their sessions (停用用户): the county office only.
    async fn disable_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's username (用户名).")] username: String,
    ) -> ApiResult<Account> {
        account::disable_user(db(ctx)?, &actor(ctx)?, &username)
            .await
            .map(Account)
    }

    /// Enables a disabled or locked user again (启用用户): the county office only.
    async fn enable_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's username (用户名).")] username: String,
    ) -> ApiResult<Account> {
        account::enable_user(db(ctx)?, &actor(ctx)?, &username)
            .await
            .map(Account)
    }

    /// Sets a user's password, unlocks the account and ends all their sessions
    /// (重置密码): the county office only.
    async fn reset_user_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's username (用户名).")] username: String,
        #[graphql(desc = "The new password: at least 10 characters (新密码).")]
        new_password: String,
    ) -> ApiResult<Account> {
        account::reset_password(db(ctx)?, &actor(ctx)?, &username, &new_password)
            .await
            .map(Account)
    }
}
