//! Users and sessions: creating and disabling users, logging in (throttled by `lockout`),
//! rotating refresh tokens with reuse detection, logging out, changing passwords.
//! Used by the GraphQL mutations and by `fupin user`.

use std::net::IpAddr;

use chrono::Utc;
use entity::enums::Role;
use entity::{app_user, enterprise, refresh_token, region};
use sea_orm::ActiveEnum;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, TransactionTrait,
};

use crate::audit::{self, Actor, Change};
use crate::auth::{self, AuthConfig, ExternalIdentity};
use crate::config::LoginLimits;
use crate::error::{ApiError, ApiResult};
use crate::lockout::{Attempt, Failure};
use crate::telemetry::metrics::Metrics;

/// The tokens a successful login or refresh hands out.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: String,
    pub user: app_user::Model,
}

/// What a new user is.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: Role,
    /// Division code of the township or village, for township and village staff.
    pub region_code: Option<String>,
    /// Credit code of the enterprise, for enterprise users.
    pub enterprise_credit_code: Option<String>,
}

/// Creates a user; the scope must fit the role.
pub async fn create_user(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewUser,
) -> ApiResult<app_user::Model> {
    let username = new.username.trim().to_owned();
    if username.is_empty() || username.chars().count() > 64 {
        return Err(ApiError::bad_input(
            "username",
            "a username has 1 to 64 characters",
        ));
    }
    auth::check_password_strength(&new.password)?;
    let (region_id, enterprise_id) = resolve_scope(
        db,
        new.role,
        new.region_code.as_deref(),
        new.enterprise_credit_code.as_deref(),
    )
    .await?;
    let row = new_account(
        username,
        auth::hash_password(&new.password)?,
        new.role,
        (region_id, enterprise_id),
    );
    let txn = db.begin().await?;
    let user = row.insert(&txn).await?;
    audit::record(&txn, actor, account_change("user.create", None, &user)).await?;
    txn.commit().await?;
    Ok(user)
}

/// What the trail keeps of an account: never its password hash.
fn snapshot(user: &app_user::Model) -> serde_json::Value {
    serde_json::json!({
        "username": user.username,
        "role": user.role.to_value(),
        "regionId": user.region_id,
        "enterpriseId": user.enterprise_id,
        "isActive": user.is_active,
        "tokenVersion": user.token_version,
    })
}

/// An audit entry for a change of an account.
fn account_change<'a>(
    action: &'a str,
    before: Option<&app_user::Model>,
    after: &app_user::Model,
) -> Change<'a> {
    Change {
        action,
        entity_type: "Account",
        entity_id: after.id,
        before: before.map(snapshot),
        after: Some(snapshot(after)),
    }
}

/// A new, active account row with fresh counters.
fn new_account(
    username: String,
    password_hash: String,
    role: Role,
    (region_id, enterprise_id): (Option<i64>, Option<i64>),
) -> app_user::ActiveModel {
    let now = Utc::now();
    app_user::ActiveModel {
        username: Set(username),
        password_hash: Set(password_hash),
        role: Set(role),
        region_id: Set(region_id),
        enterprise_id: Set(enterprise_id),
        is_active: Set(true),
        token_version: Set(1),
        locks_lifted_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// A user by ID.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> ApiResult<app_user::Model> {
    app_user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("User"))
}

/// The region and enterprise IDs a role's scope names; the scope must fit the role.
async fn resolve_scope(
    db: &impl ConnectionTrait,
    role: Role,
    region_code: Option<&str>,
    enterprise_credit_code: Option<&str>,
) -> ApiResult<(Option<i64>, Option<i64>)> {
    let region_id = match (role, region_code) {
        (Role::TownshipOfficer | Role::VillageCadre, Some(code)) => {
            let level = if role == Role::TownshipOfficer {
                entity::enums::RegionLevel::Township
            } else {
                entity::enums::RegionLevel::Village
            };
            let region = region::Entity::find()
                .filter(region::Column::Code.eq(code))
                .filter(region::Column::Level.eq(level))
                .one(db)
                .await?
                .ok_or_else(|| {
                    ApiError::bad_input(
                        "region",
                        format!("no {level:?} has the code {code}").to_lowercase(),
                    )
                })?;
            Some(region.id)
        }
        (Role::TownshipOfficer | Role::VillageCadre, None) => {
            return Err(ApiError::bad_input(
                "region",
                "township officers and village cadres need a region",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::bad_input(
                "region",
                "only township and village staff have a region",
            ));
        }
        (_, None) => None,
    };
    let enterprise_id = match (role, enterprise_credit_code) {
        (Role::Enterprise, Some(code)) => Some(
            enterprise::Entity::find()
                .filter(enterprise::Column::CreditCode.eq(code))
                .one(db)
                .await?
                .ok_or_else(|| {
                    ApiError::bad_input(
                        "enterprise",
                        format!("no enterprise has the credit code {code}"),
                    )
                })?
                .id,
        ),
        (Role::Enterprise, None) => {
            return Err(ApiError::bad_input(
                "enterprise",
                "enterprise users need an enterprise",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::bad_input(
                "enterprise",
                "only enterprise users have an enterprise",
            ));
        }
        (_, None) => None,
    };
    Ok((region_id, enterprise_id))
}

/// The local account of a person signed in through an external identity
/// provider: made on first sight, kept in step with the token's role and scope,
/// and refused once disabled. It has no usable password.
pub async fn external_user(
    db: &DatabaseConnection,
    identity: &ExternalIdentity,
) -> ApiResult<app_user::Model> {
    let issuer = &auth::hash_token(&identity.issuer)[..16];
    let username = format!("ext:{issuer}:{}", identity.subject);
    if username.chars().count() > 64 {
        return Err(ApiError::Unauthenticated);
    }
    let scope = resolve_scope(
        db,
        identity.role,
        identity.region_code.as_deref(),
        identity.enterprise_credit_code.as_deref(),
    )
    .await
    .map_err(|_| {
        tracing::info!(issuer = %identity.issuer, "an external token's scope does not fit its role");
        ApiError::Unauthenticated
    })?;
    let now = Utc::now();
    let provider = Actor::system(&format!("idp:{issuer}"));
    let txn = db.begin().await?;
    let existing = app_user::Entity::find()
        .filter(app_user::Column::Username.eq(username.as_str()))
        .one(&txn)
        .await?;
    let user = match existing {
        None => {
            let user = new_account(
                username,
                EXTERNAL_PASSWORD_HASH.into(),
                identity.role,
                scope,
            )
            .insert(&txn)
            .await?;
            audit::record(
                &txn,
                &provider,
                account_change("user.create_external", None, &user),
            )
            .await?;
            user
        }
        Some(user)
            if (user.role, user.region_id, user.enterprise_id)
                != (identity.role, scope.0, scope.1) =>
        {
            let before = user.clone();
            let mut changed: app_user::ActiveModel = user.into();
            changed.role = Set(identity.role);
            changed.region_id = Set(scope.0);
            changed.enterprise_id = Set(scope.1);
            changed.version = Set(before.version + 1);
            changed.updated_at = Set(now);
            let user = changed.update(&txn).await?;
            audit::record(
                &txn,
                &provider,
                account_change("user.update_external", Some(&before), &user),
            )
            .await?;
            user
        }
        Some(user) => user,
    };
    txn.commit().await?;
    if !user.is_active {
        return Err(ApiError::Unauthenticated);
    }
    Ok(user)
}

/// Not a PHC string: no password ever verifies against it.
const EXTERNAL_PASSWORD_HASH: &str = "!external";

async fn find_by_username(db: &impl ConnectionTrait, username: &str) -> ApiResult<app_user::Model> {
    app_user::Entity::find()
        .filter(app_user::Column::Username.eq(username))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("User"))
}

/// Disables a user and revokes every token they hold.
pub async fn disable_user(
    db: &DatabaseConnection,
    actor: &Actor,
    username: &str,
) -> ApiResult<app_user::Model> {
    let txn = db.begin().await?;
    let before = find_by_username(&txn, username).await?;
    let user = deactivate(&txn, actor, "user.disable", before).await?;
    txn.commit().await?;
    Ok(user)
}

/// Makes an account inactive and ends every session it holds, audited as `action`.
async fn deactivate(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    before: app_user::Model,
) -> ApiResult<app_user::Model> {
    let mut active: app_user::ActiveModel = before.clone().into();
    active.is_active = Set(false);
    revoke_everything(db, &mut active).await?;
    let user = active.update(db).await?;
    audit::record(db, actor, account_change(action, Some(&before), &user)).await?;
    Ok(user)
}

/// Enables a disabled or locked user again (启用用户); their old sessions stay ended.
pub async fn enable_user(
    db: &DatabaseConnection,
    actor: &Actor,
    username: &str,
) -> ApiResult<app_user::Model> {
    let txn = db.begin().await?;
    let before = find_by_username(&txn, username).await?;
    let mut active: app_user::ActiveModel = before.clone().into();
    active.is_active = Set(true);
    active.version = Set(before.version + 1);
    active.updated_at = Set(Utc::now());
    let user = active.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        account_change("user.enable", Some(&before), &user),
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

/// Locks an account that misused a check (as `disable_user` does, by the
/// service itself): every session ends at once; the county office enables
/// it again with `enable_user`.
pub async fn lock_user(
    db: &impl ConnectionTrait,
    actor: &Actor,
    user_id: i64,
) -> ApiResult<app_user::Model> {
    let before = find(db, user_id).await?;
    deactivate(db, actor, "user.lock", before).await
}

/// Sets a new password, lifts the account's login locks (from every source)
/// and revokes every token.
pub async fn reset_password(
    db: &DatabaseConnection,
    actor: &Actor,
    username: &str,
    password: &str,
) -> ApiResult<app_user::Model> {
    auth::check_password_strength(password)?;
    let txn = db.begin().await?;
    let before = find_by_username(&txn, username).await?;
    let mut active: app_user::ActiveModel = before.clone().into();
    active.password_hash = Set(auth::hash_password(password)?);
    active.locks_lifted_at = Set(Some(Utc::now()));
    revoke_everything(&txn, &mut active).await?;
    let user = active.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        account_change("user.reset_password", Some(&before), &user),
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

/// Raises the token version (access tokens die) and revokes refresh tokens.
async fn revoke_everything(
    db: &impl ConnectionTrait,
    user: &mut app_user::ActiveModel,
) -> ApiResult<()> {
    let id = *user.id.as_ref();
    user.token_version = Set(user.token_version.as_ref() + 1);
    user.version = Set(user.version.as_ref() + 1);
    user.updated_at = Set(Utc::now());
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::UserId.eq(id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Which accounts a login entry point accepts: people log in with a password,
/// provincial systems with client credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    Password,
    ClientSecret,
}

/// Where a login comes from, and the limits it meets.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The client's address, as `http::client_source` tells it.
    pub source: IpAddr,
    /// The request, for an alert in the audit trail.
    pub request_id: &'a str,
    /// The thresholds and periods of the lockout.
    pub limits: &'a LoginLimits,
    /// Where refused sign-ins are counted.
    pub metrics: &'a Metrics,
}

/// Checks a username and password (or client ID and secret) and opens a
/// session, for `app` (a `client_app` ID) when the user signs in through one.
/// Every attempt is recorded with its source; failures slow down, then lock
/// the account for that source (see `lockout`). A wrong password, a name no
/// account has, a lock and a disabled account get the same answer after the
/// same work and the same wait, so that none of them can be told apart.
pub async fn login(
    db: &DatabaseConnection,
    config: &AuthConfig,
    username: &str,
    secret: &str,
    kind: Credentials,
    origin: &Origin<'_>,
    app: Option<i64>,
) -> ApiResult<Tokens> {
    let user = app_user::Entity::find()
        .filter(app_user::Column::Username.eq(username))
        .one(db)
        .await?
        .filter(|u| (u.role == Role::ProvincialSystem) == (kind == Credentials::ClientSecret));
    let attempt = Attempt::new(
        username,
        origin.source,
        user.as_ref(),
        origin.limits,
        origin.request_id,
    );
    let reservation = attempt.reserve(db).await?;
    // Checked on every path, against a dummy hash without such a user, so
    // that no refusal answers sooner than another.
    let hash = user
        .as_ref()
        .map_or(auth::dummy_password_hash(), |u| u.password_hash.as_str());
    let right = auth::check_password(hash.to_owned(), secret.to_owned()).await?;
    if !reservation.is_refused() {
        match user.as_ref().filter(|_| right) {
            Some(active) if active.is_active => {
                let txn = db.begin().await?;
                attempt.succeed(&txn, &reservation).await?;
                let family = uuid::Uuid::new_v4().to_string();
                let tokens = open_session(&txn, config, active.clone(), family, app).await?;
                txn.commit().await?;
                return Ok(tokens);
            }
            Some(_) => {
                origin.metrics.login_failure("disabled");
                attempt.fail(db, &reservation, Failure::Disabled).await?;
            }
            None => {
                origin.metrics.login_failure("bad_credentials");
                attempt
                    .fail(db, &reservation, Failure::BadCredentials)
                    .await?;
            }
        }
    } else {
        origin.metrics.login_failure("locked");
    }
    tokio::time::sleep(reservation.wait()).await;
    Err(ApiError::LoginRefused)
}

/// Issues an access token and a new refresh token in `family`, both for `app`.
async fn open_session(
    db: &impl ConnectionTrait,
    config: &AuthConfig,
    user: app_user::Model,
    family: String,
    app: Option<i64>,
) -> ApiResult<Tokens> {
    let (refresh, hash) = auth::new_refresh_token();
    let now = Utc::now();
    refresh_token::ActiveModel {
        user_id: Set(user.id),
        family: Set(family.clone()),
        token_hash: Set(hash),
        issued_at: Set(now),
        expires_at: Set(now + chrono::Duration::from_std(config.refresh_ttl).unwrap_or_default()),
        used_at: Set(None),
        revoked_at: Set(None),
        app_id: Set(app),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let scope = match (user.region_id, user.enterprise_id) {
        (Some(id), _) => region::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|r| r.code),
        (None, Some(id)) => enterprise::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|e| e.credit_code),
        (None, None) => None,
    };
    let (access, expires_in) = auth::issue_access_token(config, &user, scope, app, Some(&family))?;
    Ok(Tokens {
        access_token: access,
        expires_in,
        refresh_token: refresh,
        user,
    })
}

/// Exchanges a refresh token for new tokens. A token used twice means it was
/// stolen: its whole family is revoked.
pub async fn refresh(
    db: &DatabaseConnection,
    config: &AuthConfig,
    token: &str,
) -> ApiResult<Tokens> {
    let stored = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(auth::hash_token(token)))
        .one(db)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let now = Utc::now();
    let txn = db.begin().await?;
    // Claim the token: only one exchange can succeed, even when two race.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(stored.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if !claimed {
        revoke_family(&txn, &stored.family).await?;
        txn.commit().await?;
        tracing::warn!(
            user.id = stored.user_id,
            "a used refresh token came back: its family is revoked"
        );
        return Err(ApiError::Unauthenticated);
    }
    if stored.expires_at <= now {
        return Err(ApiError::Unauthenticated);
    }
    let user = app_user::Entity::find_by_id(stored.user_id)
        .one(&txn)
        .await?
        .filter(|u| u.is_active)
        .ok_or(ApiError::Unauthenticated)?;
    let tokens = open_session(&txn, config, user, stored.family, stored.app_id).await?;
    txn.commit().await?;
    Ok(tokens)
}

async fn revoke_family(db: &impl ConnectionTrait, family: &str) -> ApiResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::Family.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Ends the session a refresh token belongs to.
pub async fn logout(db: &DatabaseConnection, token: &str) -> ApiResult<()> {
    let stored = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(auth::hash_token(token)))
        .one(db)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    revoke_family(db, &stored.family).await
}

/// Changes the caller's password after checking the current one; every other
/// token of the user is revoked and a new session opened, for the app the
/// caller's token was issued through (so the app's restrictions stay).
pub async fn change_password(
    db: &DatabaseConnection,
    config: &AuthConfig,
    actor: &Actor,
    app: Option<i64>,
    current: &str,
    new: &str,
) -> ApiResult<Tokens> {
    let user_id = actor.user_id.ok_or(ApiError::Unauthenticated)?;
    auth::check_password_strength(new)?;
    let txn = db.begin().await?;
    let user = app_user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    if !auth::verify_password(&user.password_hash, current) {
        return Err(ApiError::bad_input(
            "currentPassword",
            "the current password is wrong",
        ));
    }
    let before = user.clone();
    let mut active: app_user::ActiveModel = user.into();
    active.password_hash = Set(auth::hash_password(new)?);
    revoke_everything(&txn, &mut active).await?;
    let user = active.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        account_change("user.change_password", Some(&before), &user),
    )
    .await?;
    let tokens = open_session(&txn, config, user, uuid::Uuid::new_v4().to_string(), app).await?;
    txn.commit().await?;
    Ok(tokens)
}
