//! Passwords and tokens: the only module that touches argon2 and jsonwebtoken.
//! Access tokens are short-lived HS256 JWTs; refresh tokens are opaque random
//! strings of which only a SHA-256 hash is stored.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Utc;
use entity::app_user;
use entity::enums::Role;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};

/// Shortest secret accepted for signing tokens, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// How tokens are signed and checked.
#[derive(Clone)]
pub struct AuthConfig {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// Identity providers whose tokens are accepted too.
    pub external: Vec<ExternalIssuer>,
}

/// An identity provider (the province's) whose tokens are accepted: checked
/// with its public key, their claims mapped onto a role and a scope.
#[derive(Clone)]
pub struct ExternalIssuer {
    pub issuer: String,
    audience: String,
    algorithm: Algorithm,
    key: DecodingKey,
    role_claim: String,
    region_claim: String,
    enterprise_claim: String,
    /// The provider's role names mapped onto ours; our own names are accepted as they are.
    roles: HashMap<String, Role>,
}

/// How an external issuer is configured, one entry of the JSON file that
/// `FUPIN_EXTERNAL_ISSUERS` names.
#[derive(Deserialize)]
struct ExternalIssuerEntry {
    issuer: String,
    audience: String,
    /// `RS256` or `ES256`.
    algorithm: String,
    /// Path of the provider's public key, PEM.
    public_key_pem: PathBuf,
    #[serde(default = "default_role_claim")]
    role_claim: String,
    #[serde(default = "default_region_claim")]
    region_claim: String,
    #[serde(default = "default_enterprise_claim")]
    enterprise_claim: String,
    #[serde(default)]
    roles: HashMap<String, Role>,
}

fn default_role_claim() -> String {
    "role".into()
}

fn default_region_claim() -> String {
    "region_code".into()
}

fn default_enterprise_claim() -> String {
    "credit_code".into()
}

impl ExternalIssuer {
    /// Reads the issuers of a JSON file: an array of entries.
    pub fn load_all(path: &Path) -> Result<Vec<ExternalIssuer>, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let entries: Vec<ExternalIssuerEntry> =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        entries
            .into_iter()
            .map(|entry| Self::from_entry(entry, base))
            .collect()
    }

    fn from_entry(entry: ExternalIssuerEntry, base: &Path) -> Result<ExternalIssuer, String> {
        let pem_path = base.join(&entry.public_key_pem);
        let pem = std::fs::read(&pem_path).map_err(|e| format!("{}: {e}", pem_path.display()))?;
        let (algorithm, key) = match entry.algorithm.as_str() {
            "RS256" => (Algorithm::RS256, DecodingKey::from_rsa_pem(&pem)),
            "ES256" => (Algorithm::ES256, DecodingKey::from_ec_pem(&pem)),
            other => {
                return Err(format!(
                    "issuer {}: algorithm {other} is not RS256 or ES256",
                    entry.issuer
                ));
            }
        };
        let key = key.map_err(|e| format!("{}: {e}", pem_path.display()))?;
        Ok(ExternalIssuer {
            issuer: entry.issuer,
            audience: entry.audience,
            algorithm,
            key,
            role_claim: entry.role_claim,
            region_claim: entry.region_claim,
            enterprise_claim: entry.enterprise_claim,
            roles: entry.roles,
        })
    }

    fn validation(&self) -> Validation {
        let mut validation = Validation::new(self.algorithm);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        validation
    }

    /// The identity a token of this issuer carries, if the token is valid.
    fn identify(&self, token: &str) -> Option<ExternalIdentity> {
        let claims = match jsonwebtoken::decode::<serde_json::Value>(
            token,
            &self.key,
            &self.validation(),
        ) {
            Ok(data) => data.claims,
            Err(err) => {
                tracing::debug!(issuer = %self.issuer, error = %err, "not a valid token of this issuer");
                return None;
            }
        };
        let text = |name: &str| claims.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        let role_name = text(&self.role_claim)?;
        let role = self
            .roles
            .get(&role_name)
            .copied()
            .or_else(|| serde_json::from_value(serde_json::Value::String(role_name)).ok())?;
        Some(ExternalIdentity {
            issuer: self.issuer.clone(),
            subject: text("sub")?,
            role,
            region_code: text(&self.region_claim),
            enterprise_credit_code: text(&self.enterprise_claim),
            expires: claims.get("exp")?.as_i64()?,
        })
    }
}

/// Who an external token says its bearer is.
#[derive(Debug, Clone)]
pub struct ExternalIdentity {
    pub issuer: String,
    pub subject: String,
    pub role: Role,
    pub region_code: Option<String>,
    pub enterprise_credit_code: Option<String>,
    /// When the token expires (its `exp`, seconds since the epoch).
    pub expires: i64,
}

/// What a bearer token proves.
pub enum Identity {
    /// A token this service signed.
    Local(Claims),
    /// A token of a configured identity provider.
    External(ExternalIdentity),
}

impl Identity {
    /// When the token expires (its `exp`, seconds since the epoch).
    pub fn expires(&self) -> i64 {
        match self {
            Identity::Local(claims) => claims.exp,
            Identity::External(identity) => identity.expires,
        }
    }
}

/// Checks a bearer token: HS256 tokens against our secret, RS256 and ES256
/// tokens against the configured providers with that algorithm. Nothing else.
pub fn identify(config: &AuthConfig, token: &str) -> ApiResult<Identity> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| ApiError::Unauthenticated)?;
    if header.alg == Algorithm::HS256 {
        return decode_access_token(config, token).map(Identity::Local);
    }
    config
        .external
        .iter()
        .filter(|issuer| issuer.algorithm == header.alg)
        .find_map(|issuer| issuer.identify(token))
        .map(Identity::External)
        .ok_or_else(|| {
            tracing::info!(algorithm = ?header.alg, "external token refused");
            ApiError::Unauthenticated
        })
}

impl AuthConfig {
    pub fn new(secret: &[u8], issuer: &str, audience: &str) -> Result<Self, String> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the JWT secret must be at least {MIN_SECRET_BYTES} bytes"
            ));
        }
        Ok(Self::from_secret(secret, issuer, audience))
    }

    /// A configuration with a fresh random secret, for the demo only: tokens die
    /// with the process, so it cannot serve more than one replica.
    pub fn ephemeral(issuer: &str, audience: &str) -> Self {
        let mut secret = [0u8; 48];
        OsRng.fill_bytes(&mut secret);
        Self::from_secret(&secret, issuer, audience)
    }

    fn from_secret(secret: &[u8], issuer: &str, audience: &str) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            external: Vec::new(),
        }
    }

    /// Also accepts the tokens of these identity providers.
    pub fn with_external(mut self, issuers: Vec<ExternalIssuer>) -> Self {
        self.external = issuers;
        self
    }

    fn validation(&self) -> Validation {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        validation
    }
}

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user's ID.
    pub sub: String,
    pub role: Role,
    /// The region code or enterprise ID the role is scoped to, for clients' information;
    /// the server reads the scope from the user's row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The user's token version when issued; raising it revokes the token.
    pub tv: i32,
    /// The app (`client_app` ID) the user signed in through, which may hold
    /// the token to the app's registered documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<i64>,
    /// The session (refresh-token family) the token was issued in: the token
    /// ends with it, at logout or when a reused refresh token revokes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// Issues an access token for `user`, signed in through `app` if any; returns
/// it with its lifetime in seconds.
pub fn issue_access_token(
    config: &AuthConfig,
    user: &app_user::Model,
    scope: Option<String>,
    app: Option<i64>,
    session: Option<&str>,
) -> ApiResult<(String, i64)> {
    let now = Utc::now().timestamp();
    let ttl = config.access_ttl.as_secs() as i64;
    let claims = Claims {
        sub: user.id.to_string(),
        role: user.role,
        scope,
        tv: user.token_version,
        app,
        sid: session.map(str::to_owned),
        iss: config.issuer.clone(),
        aud: config.audience.clone(),
        iat: now,
        nbf: now,
        exp: now + ttl,
    };
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &config.encoding)
        .map_err(|e| ApiError::Internal(format!("signing a token: {e}")))?;
    Ok((token, ttl))
}

/// Checks an access token's signature, algorithm, times, issuer and audience.
pub fn decode_access_token(config: &AuthConfig, token: &str) -> ApiResult<Claims> {
    jsonwebtoken::decode::<Claims>(token, &config.decoding, &config.validation())
        .map(|data| data.claims)
        .map_err(|err| {
            tracing::info!(error = %err, "access token refused");
            ApiError::Unauthenticated
        })
}

/// An argon2id hash of a password, as a PHC string.
pub fn hash_password(password: &str) -> ApiResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::Internal(format!("hashing a password: {e}")))
}

/// Whether `password` matches the stored hash.
pub fn verify_password(hash: &str, password: &str) -> bool {
    // An account without a usable password (an external one) costs a check
    // all the same, so that its name answers as slowly as any other.
    let (parsed, usable) = match PasswordHash::new(hash) {
        Ok(parsed) => (parsed, true),
        Err(_) => match PasswordHash::new(dummy_password_hash()) {
            Ok(dummy) => (dummy, false),
            Err(_) => return false,
        },
    };
    let verified = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    usable && verified
}

/// Checks a password as `verify_password` does, on a blocking thread and
/// at most one check a core at a time: argon2 is slow and memory-hungry by
/// design, so that parallel logins neither stall the async workers (which
/// hold the login record's transactions) nor exhaust memory.
pub async fn check_password(hash: String, password: String) -> ApiResult<bool> {
    static CHECKS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(1, usize::from))
    });
    let _permit = CHECKS
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// A hash to verify against when the user does not exist, so that a wrong
/// username takes as long as a wrong password. Made once, with the same
/// parameters as every stored hash.
pub fn dummy_password_hash() -> &'static str {
    static DUMMY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash_password(&random_password()).unwrap_or_default());
    &DUMMY
}

/// A new opaque refresh token and the hash to store for it.
pub fn new_refresh_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

/// The stored form of a refresh token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Rules for new passwords.
pub fn check_password_strength(password: &str) -> ApiResult<()> {
    if password.chars().count() < 10 {
        return Err(ApiError::bad_input(
            "newPassword",
            "a password needs at least 10 characters",
        ));
    }
    Ok(())
}

/// A random password of 16 letters and digits (about 95 bits).
pub fn random_password() -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| CHARS[usize::from(*b) % CHARS.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_costs_a_real_verification() {
        assert!(PasswordHash::new(dummy_password_hash()).is_ok());
        assert!(!verify_password(dummy_password_hash(), "anything"));
    }

    #[test]
    fn passwords_verify_against_their_own_hash_only() {
        let hash = hash_password("a long enough password").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "a long enough password"));
        assert!(!verify_password(&hash, "another password"));
    }

    #[test]
    fn an_account_without_a_usable_password_never_verifies() {
        assert!(!verify_password("!external", "!external"));
        assert!(!verify_password("", ""));
    }
}
