//! Login lockouts (登录锁定): failed logins counted by account and source
//! together, from the login record alone, so that every replica agrees and
//! the process keeps nothing. A stranger's failures lock the stranger's
//! source, never a source the owner signed in from; failures from many
//! unknown sources close the account to unknown sources only; each raises an
//! alert in the audit trail.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use entity::{app_user, login_attempt};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement, TransactionTrait,
};

use crate::audit::{self, Actor, Change};
use crate::config::LoginLimits;
use crate::error::{ApiError, ApiResult};

/// The audit action of an alert: an account is under attack.
pub const ALERT_ACTION: &str = "account.under_attack";
/// The login record's reason for a failed password check: the failures that count.
const BAD_CREDENTIALS: &str = "bad_credentials";
/// First key of the PostgreSQL advisory locks that serialise the failures of
/// one login name (the second is a hash of the name); a key space apart from
/// the audit chain's.
const LOGIN_LOCK_SPACE: i32 = 0x6c6f_6769;
/// Longest login name kept in the record.
const MAX_NAME_CHARS: usize = 64;

/// Why an alert was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertReason {
    /// One source failed often enough to be locked out of the account.
    SourceLocked,
    /// Unknown sources together failed often enough to be refused.
    ManySources,
}

impl AlertReason {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertReason::SourceLocked => "source_locked",
            AlertReason::ManySources => "many_sources",
        }
    }
}

/// One login: the name given, where it comes from, and the rules it meets.
/// Names are counted whether or not an account has them, so that a lock
/// cannot tell a stranger which names exist.
pub struct Attempt<'a> {
    name: String,
    source: IpAddr,
    user: Option<&'a app_user::Model>,
    limits: &'a LoginLimits,
    request_id: &'a str,
}

/// What the record says of an attempt's account and source.
pub struct Standing {
    known: bool,
    pair_failures: u64,
    unknown_failures: u64,
}

impl<'a> Attempt<'a> {
    pub fn new(
        username: &str,
        source: IpAddr,
        user: Option<&'a app_user::Model>,
        limits: &'a LoginLimits,
        request_id: &'a str,
    ) -> Self {
        Self {
            name: username.chars().take(MAX_NAME_CHARS).collect(),
            source,
            user,
            limits,
            request_id,
        }
    }

    fn source_text(&self) -> String {
        self.source.to_string()
    }

    /// Failures count from the window's start, or from when an administrator
    /// last lifted the account's locks, whichever is later.
    fn counted_since(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let window_start = now
            .checked_sub_signed(self.limits.window())
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        self.user
            .and_then(|u| u.locks_lifted_at)
            .map_or(window_start, |lifted| Ord::max(lifted, window_start))
    }

    fn of_name(&self) -> sea_orm::Select<login_attempt::Entity> {
        login_attempt::Entity::find().filter(login_attempt::Column::Username.eq(self.name.as_str()))
    }

    fn of_pair(&self) -> sea_orm::Select<login_attempt::Entity> {
        self.of_name()
            .filter(login_attempt::Column::Source.eq(self.source_text()))
    }

    /// Reads the standing of the attempt's pair and account now.
    pub async fn standing(&self, db: &impl ConnectionTrait) -> ApiResult<Standing> {
        let now = Utc::now();
        let since = self.counted_since(now);
        let last_success = self
            .of_pair()
            .filter(login_attempt::Column::Failure.is_null())
            .order_by_desc(login_attempt::Column::At)
            .one(db)
            .await?
            .map(|attempt| attempt.at);
        let known_since = now
            .checked_sub_signed(self.limits.known_for())
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let known = last_success.is_some_and(|at| at > known_since);
        // A success from the pair clears its failures before it.
        let pair_since = last_success.map_or(since, |at| Ord::max(at, since));
        let pair_failures = self
            .of_pair()
            .filter(login_attempt::Column::Failure.eq(BAD_CREDENTIALS))
            .filter(login_attempt::Column::At.gt(pair_since))
            .count(db)
            .await?;
        let unknown_failures = if known {
            0
        } else {
            self.of_name()
                .filter(login_attempt::Column::Failure.eq(BAD_CREDENTIALS))
                .filter(login_attempt::Column::At.gt(since))
                .filter(login_attempt::Column::Source.is_not_null())
                .filter(
                    login_attempt::Column::Source.not_in_subquery(
                        Query::select()
                            .column(login_attempt::Column::Source)
                            .from(login_attempt::Entity)
                            .and_where(login_attempt::Column::Username.eq(self.name.as_str()))
                            .and_where(login_attempt::Column::Failure.is_null())
                            .and_where(login_attempt::Column::Source.is_not_null())
                            .and_where(login_attempt::Column::At.gt(known_since))
                            .to_owned(),
                    ),
                )
                .count(db)
                .await?
        };
        Ok(Standing {
            known,
            pair_failures,
            unknown_failures,
        })
    }

    /// Whether the attempt is refused before its password is checked: its
    /// pair is locked, or it comes from an unknown source while the account
    /// is under attack. The answer is the same whether or not the password
    /// would have been right.
    pub async fn refuse_if_locked(
        &self,
        db: &DatabaseConnection,
        standing: &Standing,
    ) -> ApiResult<()> {
        let failure = if standing.pair_failures >= self.limits.login_lock_after {
            "locked"
        } else if !standing.known && standing.unknown_failures >= self.limits.login_attack_after {
            "unknown_source"
        } else {
            return Ok(());
        };
        self.record(db, Some(failure)).await?;
        Err(ApiError::RateLimited(
            "too many failed logins: this account refuses sign-ins from your address for a while"
                .into(),
        ))
    }

    /// Records a wrong password, raises an alert when it locks the pair or
    /// closes the account to unknown sources, and returns how long to wait
    /// before answering. Failures of one name are recorded one at a time, so
    /// that each lock is announced exactly once.
    pub async fn fail(&self, db: &DatabaseConnection) -> ApiResult<std::time::Duration> {
        let txn = db.begin().await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                [LOGIN_LOCK_SPACE.into(), self.name.clone().into()],
            ))
            .await?;
        }
        // On SQLite, this first write takes the database's write lock.
        self.record(&txn, Some(BAD_CREDENTIALS)).await?;
        let standing = self.standing(&txn).await?;
        if let Some(user) = self.user {
            if standing.pair_failures == self.limits.login_lock_after {
                self.alert(&txn, user, AlertReason::SourceLocked).await?;
            }
            if !standing.known && standing.unknown_failures == self.limits.login_attack_after {
                self.alert(&txn, user, AlertReason::ManySources).await?;
            }
        }
        txn.commit().await?;
        Ok(self.limits.delay(standing.pair_failures))
    }

    /// Appends the alert: the account, the failures and sources of the window.
    async fn alert(
        &self,
        db: &impl ConnectionTrait,
        user: &app_user::Model,
        reason: AlertReason,
    ) -> ApiResult<()> {
        let since = self.counted_since(Utc::now());
        let (failures, sources): (i64, i64) = self
            .of_name()
            .filter(login_attempt::Column::Failure.eq(BAD_CREDENTIALS))
            .filter(login_attempt::Column::At.gt(since))
            .select_only()
            .column_as(Expr::col(login_attempt::Column::Id).count(), "failures")
            .column_as(
                Expr::col(login_attempt::Column::Source).count_distinct(),
                "sources",
            )
            .into_tuple()
            .one(db)
            .await?
            .unwrap_or_default();
        tracing::warn!(
            user.id = user.id,
            reason = reason.as_str(),
            failures,
            sources,
            "an account is under attack"
        );
        let source = (reason == AlertReason::SourceLocked).then(|| self.source_text());
        let actor = Actor {
            request_id: Some(self.request_id.to_owned()).filter(|id| !id.is_empty()),
            ..Actor::system("login")
        };
        audit::record(
            db,
            &actor,
            Change {
                action: ALERT_ACTION,
                entity_type: "Account",
                entity_id: user.id,
                before: None,
                after: Some(serde_json::json!({
                    "username": user.username,
                    "reason": reason.as_str(),
                    "source": source,
                    "failures": failures,
                    "sources": sources,
                    "since": since,
                })),
            },
        )
        .await
    }

    /// Appends the attempt to the login record; `failure` says why it failed.
    pub async fn record(&self, db: &impl ConnectionTrait, failure: Option<&str>) -> ApiResult<()> {
        login_attempt::ActiveModel {
            username: Set(self.name.clone()),
            user_id: Set(self.user.map(|u| u.id)),
            succeeded: Set(failure.is_none()),
            failure: Set(failure.map(str::to_owned)),
            at: Set(Utc::now()),
            source: Set(Some(self.source_text())),
            ..Default::default()
        }
        .insert(db)
        .await?;
        Ok(())
    }
}
