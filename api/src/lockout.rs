//! Login lockouts (登录锁定): failed logins counted by account and source
//! together, from the login record alone, so that every replica agrees and
//! the process keeps nothing. A stranger's failures lock the stranger's
//! source, never a source the owner signed in from; failures from many
//! unknown sources close the account to unknown sources only; each raises an
//! alert in the audit trail. An attempt takes its place in the record before
//! its password is checked, so that parallel attempts cannot get more checks
//! than the lock allows.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{app_user, login_attempt};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement,
    TransactionTrait,
};

use crate::audit::{self, Actor, Change};
use crate::config::LoginLimits;
use crate::error::ApiResult;

/// The audit action of an alert: an account is under attack.
pub const ALERT_ACTION: &str = "account.under_attack";
/// The login record's mark of an attempt whose password is being checked: it
/// counts towards the lock like a failure until it is finalised. A crash (or
/// a request abandoned) between the check and the finalisation leaves it so:
/// it then counts as a failure until it leaves the window.
const CHECKING: &str = "checking";
/// The login record's reason for a wrong password, or a name no account has.
const BAD_CREDENTIALS: &str = "bad_credentials";
/// The login record's reason for the right password of a disabled account: a
/// failure like a wrong password, so that the two cannot be told apart.
const DISABLED: &str = "disabled";
/// The login record's reason for an attempt refused because its pair is locked.
const LOCKED: &str = "locked";
/// The login record's reason for an attempt refused because it comes from an
/// unknown source while the account is under attack.
const UNKNOWN_SOURCE: &str = "unknown_source";
/// The failures whose check is done: what alerts count.
const FAILED: &[&str] = &[BAD_CREDENTIALS, DISABLED];
/// What locks count: failures, and attempts still being checked.
const COUNTED: &[&str] = &[CHECKING, BAD_CREDENTIALS, DISABLED];
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
    /// The account spent its budget of answers that a person is registered
    /// where it may not be told (`domain::household::duplicate`).
    RegisterProbed,
}

impl AlertReason {
    const ALL: [AlertReason; 3] = [
        AlertReason::SourceLocked,
        AlertReason::ManySources,
        AlertReason::RegisterProbed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertReason::SourceLocked => "source_locked",
            AlertReason::ManySources => "many_sources",
            AlertReason::RegisterProbed => "register_probed",
        }
    }

    /// The reason an alert's entry names.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == text)
    }
}

/// Appends an alert about an account to the audit trail, where `loginAlerts`
/// lists it: `details` (an object) with the reason added.
pub async fn record_alert(
    db: &impl ConnectionTrait,
    actor: &Actor,
    user_id: i64,
    reason: AlertReason,
    mut details: serde_json::Value,
) -> ApiResult<()> {
    details["reason"] = reason.as_str().into();
    audit::record(
        db,
        actor,
        Change {
            action: ALERT_ACTION,
            entity_type: "Account",
            entity_id: user_id,
            before: None,
            after: Some(details),
        },
    )
    .await
}

/// Why a checked attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A wrong password, or a name no account has.
    BadCredentials,
    /// The right password of a disabled account.
    Disabled,
}

impl Failure {
    fn as_str(self) -> &'static str {
        match self {
            Failure::BadCredentials => BAD_CREDENTIALS,
            Failure::Disabled => DISABLED,
        }
    }
}

/// An attempt's place in the login record, taken before its password is checked.
pub struct Reservation {
    id: i64,
    refused: bool,
    wait: Duration,
}

impl Reservation {
    /// Whether the attempt is refused whatever its password: its pair is
    /// locked, or it comes from an unknown source while the account is under
    /// attack.
    pub fn is_refused(&self) -> bool {
        self.refused
    }

    /// How long a refusal of this attempt waits before it answers: the same
    /// for every reason, growing with the pair's failures.
    pub fn wait(&self) -> Duration {
        self.wait
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
struct Standing {
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

    /// Reads the standing of the attempt's pair and account now, counting
    /// the attempts whose failure is one of `counted`.
    async fn standing(&self, db: &impl ConnectionTrait, counted: &[&str]) -> ApiResult<Standing> {
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
            .filter(login_attempt::Column::Failure.is_in(counted.iter().copied()))
            .filter(login_attempt::Column::At.gt(pair_since))
            .count(db)
            .await?;
        let unknown_failures = if known {
            0
        } else {
            self.of_name()
                .filter(login_attempt::Column::Failure.is_in(counted.iter().copied()))
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

    /// Serialises the attempts of one name until the transaction ends: on
    /// PostgreSQL with an advisory lock; on SQLite the transaction's first
    /// write takes the database's write lock, so callers write first.
    async fn lock_name(&self, txn: &DatabaseTransaction) -> ApiResult<()> {
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                [LOGIN_LOCK_SPACE.into(), self.name.clone().into()],
            ))
            .await?;
        }
        Ok(())
    }

    /// Records the attempt as being checked and counts it with the pair's
    /// failures, before its password is checked: one attempt at a time per
    /// name, so that parallel attempts get no more checks than the lock
    /// allows. An attempt over a limit is recorded as refused.
    pub async fn reserve(&self, db: &DatabaseConnection) -> ApiResult<Reservation> {
        let txn = db.begin().await?;
        self.lock_name(&txn).await?;
        // On SQLite, this first write takes the database's write lock.
        let id = login_attempt::ActiveModel {
            username: Set(self.name.clone()),
            user_id: Set(self.user.map(|u| u.id)),
            succeeded: Set(false),
            failure: Set(Some(CHECKING.to_owned())),
            at: Set(Utc::now()),
            source: Set(Some(self.source_text())),
            ..Default::default()
        }
        .insert(&txn)
        .await?
        .id;
        // The counts include this attempt.
        let standing = self.standing(&txn, COUNTED).await?;
        let refusal = if standing.pair_failures > self.limits.login_lock_after {
            Some(LOCKED)
        } else if !standing.known && standing.unknown_failures > self.limits.login_attack_after {
            Some(UNKNOWN_SOURCE)
        } else {
            None
        };
        if let Some(failure) = refusal {
            finalise(&txn, id, Some(failure)).await?;
        }
        txn.commit().await?;
        Ok(Reservation {
            id,
            refused: refusal.is_some(),
            wait: self.limits.delay(standing.pair_failures),
        })
    }

    /// Records the attempt as a success, in the transaction that opens its session.
    pub async fn succeed(
        &self,
        txn: &DatabaseTransaction,
        reservation: &Reservation,
    ) -> ApiResult<()> {
        self.lock_name(txn).await?;
        finalise(txn, reservation.id, None).await
    }

    /// Records why the attempt's check failed, and raises an alert when the
    /// checked failures lock the pair or close the account to unknown
    /// sources. Finalised one at a time per name, so that each lock is
    /// announced exactly once.
    pub async fn fail(
        &self,
        db: &DatabaseConnection,
        reservation: &Reservation,
        failure: Failure,
    ) -> ApiResult<()> {
        let txn = db.begin().await?;
        self.lock_name(&txn).await?;
        finalise(&txn, reservation.id, Some(failure.as_str())).await?;
        if let Some(user) = self.user {
            let standing = self.standing(&txn, FAILED).await?;
            if standing.pair_failures == self.limits.login_lock_after {
                self.alert(&txn, user, AlertReason::SourceLocked).await?;
            }
            if !standing.known && standing.unknown_failures == self.limits.login_attack_after {
                self.alert(&txn, user, AlertReason::ManySources).await?;
            }
        }
        txn.commit().await?;
        Ok(())
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
            .filter(login_attempt::Column::Failure.is_in(FAILED.iter().copied()))
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
        let details = serde_json::json!({
            "username": user.username,
            "source": source,
            "failures": failures,
            "sources": sources,
            "since": since,
        });
        record_alert(db, &actor, user.id, reason, details).await
    }
}

/// Marks a reserved attempt as done: a success (no failure) or why it failed.
async fn finalise(db: &impl ConnectionTrait, id: i64, failure: Option<&str>) -> ApiResult<()> {
    login_attempt::Entity::update_many()
        .col_expr(
            login_attempt::Column::Failure,
            Expr::value(failure.map(str::to_owned)),
        )
        .col_expr(
            login_attempt::Column::Succeeded,
            Expr::value(failure.is_none()),
        )
        .filter(login_attempt::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
