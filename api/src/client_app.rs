//! Third-party apps (接入应用) and their trusted documents: the county office
//! registers an app, the documents it sends, and whether the tokens its users
//! sign in for may run those documents only.

use std::collections::HashMap;

use chrono::Utc;
use entity::{client_app, client_app_document};
use sea_orm::sea_query::{Expr, ExprTrait, JoinType, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::domain::write;
use crate::error::{ApiError, ApiResult};
use crate::persisted;

/// Most documents one registration may carry.
pub const MAX_DOCUMENTS_PER_CALL: usize = 100;
/// Longest app name, in characters.
const MAX_NAME_CHARS: usize = 100;

fn snapshot(app: &client_app::Model) -> serde_json::Value {
    json!({
        "name": app.name,
        "clientId": app.client_id,
        "trustedDocumentsOnly": app.trusted_documents_only,
        "version": app.version,
    })
}

/// Registers an app under a new public client ID.
pub async fn register(
    db: &DatabaseConnection,
    actor: &Actor,
    name: &str,
) -> ApiResult<client_app::Model> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::bad_input(
            "name",
            format!("an app's name has 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    let created_by = actor.user_id.ok_or(ApiError::Unauthenticated)?;
    let now = Utc::now();
    let txn = write::begin(db).await?;
    let app = client_app::ActiveModel {
        name: Set(name.to_owned()),
        client_id: Set(format!("app_{}", uuid::Uuid::new_v4().simple())),
        trusted_documents_only: Set(false),
        version: Set(1),
        created_at: Set(now),
        created_by: Set(created_by),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let change = Change {
        action: "client_app.register",
        entity_type: "ClientApp",
        entity_id: app.id,
        before: None,
        after: Some(snapshot(&app)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(app)
}

/// Stores documents and registers them for an app; returns their hashes, in
/// the order given. Each must be storable; registering one again changes nothing.
pub async fn register_documents(
    db: &DatabaseConnection,
    actor: &Actor,
    app_id: i64,
    documents: &[String],
    max_document_bytes: usize,
) -> ApiResult<Vec<String>> {
    if documents.is_empty() || documents.len() > MAX_DOCUMENTS_PER_CALL {
        return Err(ApiError::bad_input(
            "documents",
            format!("register 1 to {MAX_DOCUMENTS_PER_CALL} documents at a time"),
        ));
    }
    for (index, document) in documents.iter().enumerate() {
        if let Some(why) = persisted::unstorable(document, max_document_bytes) {
            return Err(ApiError::bad_input(
                "documents",
                format!("document {index}: {why}"),
            ));
        }
    }
    let hashes: Vec<String> = documents.iter().map(|d| persisted::sha256_hex(d)).collect();
    let txn = write::begin(db).await?;
    let app = client_app::Entity::find_by_id(app_id)
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found("ClientApp"))?;
    let now = Utc::now();
    for (sha256, document) in hashes.iter().zip(documents) {
        persisted::insert(&txn, sha256, document).await?;
        client_app_document::Entity::insert(client_app_document::ActiveModel {
            app_id: Set(app.id),
            sha256: Set(sha256.clone()),
            registered_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([
                client_app_document::Column::AppId,
                client_app_document::Column::Sha256,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    let change = Change {
        action: "client_app.register_documents",
        entity_type: "ClientApp",
        entity_id: app.id,
        before: None,
        after: Some(json!({ "documents": hashes })),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(hashes)
}

/// Holds an app's tokens to its registered documents, or frees them.
pub async fn set_trusted_documents_only(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    version: i32,
    only: bool,
) -> ApiResult<client_app::Model> {
    let txn = write::begin(db).await?;
    let before = write::one_locked(&txn, client_app::Entity::find_by_id(id))
        .await?
        .ok_or_else(|| ApiError::not_found("ClientApp"))?;
    write::check_version("app", version, before.version, || snapshot(&before))?;
    let mut after: client_app::ActiveModel = before.clone().into();
    after.trusted_documents_only = Set(only);
    after.version = Set(before.version + 1);
    after.updated_at = Set(Utc::now());
    let after = after.update(&txn).await?;
    let change = Change {
        action: if only {
            "client_app.trusted_documents_only"
        } else {
            "client_app.any_document"
        },
        entity_type: "ClientApp",
        entity_id: after.id,
        before: Some(snapshot(&before)),
        after: Some(snapshot(&after)),
    };
    audit::record(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(after)
}

/// Every app, in the order registered.
pub async fn all(db: &impl ConnectionTrait) -> ApiResult<Vec<client_app::Model>> {
    Ok(client_app::Entity::find()
        .order_by_asc(client_app::Column::Id)
        .all(db)
        .await?)
}

/// The hashes registered for each of `apps`, in the order registered.
pub async fn documents_of(
    db: &impl ConnectionTrait,
    apps: &[i64],
) -> ApiResult<HashMap<i64, Vec<String>>> {
    let rows = client_app_document::Entity::find()
        .filter(client_app_document::Column::AppId.is_in(apps.iter().copied()))
        .order_by_asc(client_app_document::Column::RegisteredAt)
        .order_by_asc(client_app_document::Column::Sha256)
        .all(db)
        .await?;
    let mut documents: HashMap<i64, Vec<String>> = HashMap::new();
    for row in rows {
        documents.entry(row.app_id).or_default().push(row.sha256);
    }
    Ok(documents)
}

/// The app a client ID names, for signing in through it.
pub async fn by_client_id(
    db: &impl ConnectionTrait,
    client_id: &str,
) -> ApiResult<client_app::Model> {
    client_app::Entity::find()
        .filter(client_app::Column::ClientId.eq(client_id.trim()))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::bad_input("clientId", "no app is registered with this client ID"))
}

#[derive(FromQueryResult)]
struct Trust {
    trusted_documents_only: bool,
    registered: Option<String>,
}

/// Whether a token issued through `app` may call the endpoints that take no
/// GraphQL document (the exchange): not when the app is held to its
/// registered documents, since nothing there is one of them.
pub async fn may_call_endpoints(db: &impl ConnectionTrait, app: i64) -> ApiResult<bool> {
    let app = client_app::Entity::find_by_id(app).one(db).await?;
    Ok(app.is_some_and(|app| !app.trusted_documents_only))
}

/// Whether a token issued through `app` may run the document of `sha256`:
/// any document, unless the app runs its registered ones only. One query,
/// read at every request, so that a change of the setting holds at once.
pub async fn may_run(db: &impl ConnectionTrait, app: i64, sha256: &str) -> ApiResult<bool> {
    use client_app::Column as A;
    use client_app_document::Column as D;
    let statement = Query::select()
        .column((client_app::Entity, A::TrustedDocumentsOnly))
        .expr_as(
            Expr::col((client_app_document::Entity, D::Sha256)),
            "registered",
        )
        .from(client_app::Entity)
        .join(
            JoinType::LeftJoin,
            client_app_document::Entity,
            Expr::col((client_app_document::Entity, D::AppId))
                .equals((client_app::Entity, A::Id))
                .and(Expr::col((client_app_document::Entity, D::Sha256)).eq(sha256)),
        )
        .and_where(Expr::col((client_app::Entity, A::Id)).eq(app))
        .to_owned();
    let row = db
        .query_one(&statement)
        .await?
        .map(|row| Trust::from_query_result(&row, ""))
        .transpose()?;
    // A token naming an app that does not exist runs nothing.
    Ok(row.is_some_and(|trust| !trust.trusted_documents_only || trust.registered.is_some()))
}
