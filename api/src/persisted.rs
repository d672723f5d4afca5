//! Persisted documents (持久化查询): query documents known by their SHA-256,
//! kept in the database so that every replica knows what any of them was sent,
//! with a bounded cache in front so that a known hash seldom costs a query.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use entity::persisted_document;
use lru::LruCache;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set};
use sha2::{Digest, Sha256};

use crate::error::ApiResult;

/// Documents each replica keeps in memory: at the default size limit of 32 KB
/// at most 16 MB, and far less for the few kilobytes a real document has.
const CACHED_DOCUMENTS: NonZeroUsize = NonZeroUsize::new(512).expect("512 is not zero");

/// The SHA-256 of a document as clients send it: lower-case hex.
pub fn sha256_hex(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

/// Whether a text is a SHA-256 in lower-case hex.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Why a document may not be stored: only documents within the size limit that
/// parse are, so that the table cannot be filled with junk.
pub fn unstorable(document: &str, max_bytes: usize) -> Option<String> {
    if document.len() > max_bytes {
        return Some(format!("the document is larger than {max_bytes} bytes"));
    }
    async_graphql::parser::parse_query(document)
        .err()
        .map(|err| format!("the document does not parse: {err}"))
}

/// Inserts a document under its hash; a hash already known stays as it is.
pub async fn insert(db: &impl ConnectionTrait, sha256: &str, document: &str) -> ApiResult<()> {
    persisted_document::Entity::insert(persisted_document::ActiveModel {
        sha256: Set(sha256.to_owned()),
        document: Set(document.to_owned()),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(persisted_document::Column::Sha256)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The documents, as one replica reaches them. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    cache: Arc<Mutex<LruCache<String, Arc<str>>>>,
}

impl Store {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            cache: Arc::new(Mutex::new(LruCache::new(CACHED_DOCUMENTS))),
        }
    }

    /// The document of a hash, if any replica was ever sent it.
    pub async fn get(&self, sha256: &str) -> ApiResult<Option<Arc<str>>> {
        if let Some(document) = self.cached(sha256) {
            return Ok(Some(document));
        }
        // Misses are not cached: another replica may store the document next.
        let Some(row) = persisted_document::Entity::find_by_id(sha256.to_owned())
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let document: Arc<str> = row.document.into();
        self.cache_put(sha256, document.clone());
        Ok(Some(document))
    }

    /// Keeps a document sent with its hash (the caller checked that they
    /// match) if it may be stored.
    pub async fn remember(&self, sha256: &str, document: &str, max_bytes: usize) -> ApiResult<()> {
        if self.cached(sha256).is_some() {
            return Ok(());
        }
        if let Some(why) = unstorable(document, max_bytes) {
            tracing::debug!(sha256, why, "a persisted document was not stored");
            return Ok(());
        }
        insert(&self.db, sha256, document).await?;
        self.cache_put(sha256, document.into());
        Ok(())
    }

    fn cached(&self, sha256: &str) -> Option<Arc<str>> {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(sha256)
            .cloned()
    }

    fn cache_put(&self, sha256: &str, document: Arc<str>) {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .put(sha256.to_owned(), document);
    }
}
