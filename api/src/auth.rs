//! Passwords and tokens: the only module that touches argon2 and jsonwebtoken.
//! Access tokens are short-lived HS256 JWTs; refresh tokens are opaque random
//! strings of which only a SHA-256 hash is stored.

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
        }
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
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// Issues an access token for `user`; returns it with its lifetime in seconds.
pub fn issue_access_token(
    config: &AuthConfig,
    user: &app_user::Model,
    scope: Option<String>,
) -> ApiResult<(String, i64)> {
    let now = Utc::now().timestamp();
    let ttl = config.access_ttl.as_secs() as i64;
    let claims = Claims {
        sub: user.id.to_string(),
        role: user.role,
        scope,
        tv: user.token_version,
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
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash to verify against when the user does not exist, so that a wrong
/// username takes as long as a wrong password.
pub fn dummy_password_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$kTqt0Qc4m8AUFp4pbFgz1ZVgfNxiZkpA8UgZk1UsQpo"
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
