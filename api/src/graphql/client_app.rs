//! Third-party apps in the schema (接入应用): the county office registers an
//! app and its documents, and holds its tokens to those documents.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::client_app;

use super::context::{actor, data, db};
use crate::client_app as apps;
use crate::config::Limits;
use crate::error::{ApiError, ApiResult};

/// A third-party app and the documents registered for it (接入应用).
pub struct ClientApp {
    app: client_app::Model,
    documents: Vec<String>,
}

/// A third-party app and the documents registered for it (接入应用).
#[Object]
impl ClientApp {
    /// The app's number, for `registerAppDocuments` and `setAppTrustedDocumentsOnly`.
    async fn id(&self) -> ID {
        ID(self.app.id.to_string())
    }
    /// Its name (应用名称).
    async fn name(&self) -> &str {
        &self.app.name
    }
    /// The public identifier its users pass to `login` as `clientId` (客户端标识).
    async fn client_id(&self) -> &str {
        &self.app.client_id
    }
    /// Whether its tokens run only the documents registered for it (仅限可信查询).
    async fn trusted_documents_only(&self) -> bool {
        self.app.trusted_documents_only
    }
    /// The SHA-256 hashes of the documents registered for it, in the order registered.
    async fn documents(&self) -> &[String] {
        &self.documents
    }
    /// The version, for `setAppTrustedDocumentsOnly`.
    async fn version(&self) -> i32 {
        self.app.version
    }
    /// When it was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.app.created_at
    }
}

fn app_id(id: &ID) -> ApiResult<i64> {
    id.parse()
        .map_err(|_| ApiError::bad_input("id", format!("`{}` is not an app ID", id.0)))
}

/// An app with its documents, read afresh.
async fn with_documents(ctx: &Context<'_>, app: client_app::Model) -> ApiResult<ClientApp> {
    let documents = apps::documents_of(db(ctx)?, &[app.id])
        .await?
        .remove(&app.id)
        .unwrap_or_default();
    Ok(ClientApp { app, documents })
}

#[derive(Default)]
pub struct ClientAppQuery;

#[Object]
impl ClientAppQuery {
    /// The registered third-party apps and their documents (接入应用): for the county office.
    async fn client_apps(&self, ctx: &Context<'_>) -> ApiResult<Vec<ClientApp>> {
        let db = db(ctx)?;
        let all = apps::all(db).await?;
        let ids: Vec<i64> = all.iter().map(|a| a.id).collect();
        let mut documents = apps::documents_of(db, &ids).await?;
        Ok(all
            .into_iter()
            .map(|app| ClientApp {
                documents: documents.remove(&app.id).unwrap_or_default(),
                app,
            })
            .collect())
    }
}

#[derive(Default)]
pub struct ClientAppMutation;

#[Object]
impl ClientAppMutation {
    /// Registers a third-party app (登记接入应用); its users sign in with the
    /// answer's `clientId`. It runs any document until held to its registered ones.
    async fn register_client_app(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The app's name, 1 to 100 characters (应用名称).")] name: String,
    ) -> ApiResult<ClientApp> {
        let app = apps::register(db(ctx)?, &actor(ctx)?, &name).await?;
        Ok(ClientApp {
            app,
            documents: Vec::new(),
        })
    }

    /// Registers documents an app sends (登记可信查询): each is stored as a
    /// persisted document, so the app may send its hash alone. Returns the
    /// hashes (SHA-256, lower-case hex), in the order given; at most 100 a call.
    async fn register_app_documents(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The app.")] app_id: ID,
        #[graphql(desc = "The documents' full text; each must parse.")] documents: Vec<String>,
    ) -> ApiResult<Vec<String>> {
        let id = app_id.parse().map_err(|_| {
            ApiError::bad_input("appId", format!("`{}` is not an app ID", app_id.0))
        })?;
        let max_bytes = data::<Limits>(ctx)?.max_document_bytes;
        apps::register_documents(db(ctx)?, &actor(ctx)?, id, &documents, max_bytes).await
    }

    /// Holds an app's tokens to its registered documents, or frees them
    /// (仅限可信查询). It takes effect at once, for tokens already issued too.
    async fn set_app_trusted_documents_only(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The app.")] id: ID,
        #[graphql(desc = "The version read.")] version: i32,
        #[graphql(desc = "Registered documents only (true), or any (false).")] only: bool,
    ) -> ApiResult<ClientApp> {
        let app =
            apps::set_trusted_documents_only(db(ctx)?, &actor(ctx)?, app_id(&id)?, version, only)
                .await?;
        with_documents(ctx, app).await
    }
}
