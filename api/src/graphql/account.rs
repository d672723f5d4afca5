//! Signing in and out (登录): login, client credentials, refresh, logout,
//! change password, and `me`.

use async_graphql::{Context, ID, Object, SimpleObject};
use entity::app_user;
use entity::enums::Role;

use super::context::{RequestData, actor, data, db, loaders, viewer};
use super::enterprise::Enterprise;
use super::node::Node;
use super::region::region_node;
use super::relay::{NodeKind, global_id};
use crate::account::{self, Credentials, Origin, Tokens};
use crate::auth::AuthConfig;
use crate::client_app;
use crate::config::Limits;
use crate::error::ApiResult;

/// The tokens of a session (会话令牌).
#[derive(SimpleObject)]
pub struct TokenPayload {
    /// Access token (JWT) to send as `Authorization: Bearer <token>`.
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: i64,
    /// Opaque refresh token: exchange it with `refresh` for new tokens. Each
    /// refresh token works once; using one twice ends the whole session.
    refresh_token: String,
    /// The signed-in account.
    account: Account,
}

impl From<Tokens> for TokenPayload {
    fn from(tokens: Tokens) -> Self {
        TokenPayload {
            access_token: tokens.access_token,
            token_type: "Bearer",
            expires_in: tokens.expires_in,
            refresh_token: tokens.refresh_token,
            account: Account(tokens.user),
        }
    }
}

/// A user account (用户账号).
pub struct Account(pub app_user::Model);

/// Its relations go through the DataLoaders.
impl crate::graphql::prefetch::Prefetch for Account {
    type Row = entity::app_user::Model;
}

/// A user account (用户账号).
#[Object]
impl Account {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Account, self.0.id)
    }
    /// Login name, or a service account's client ID (用户名).
    async fn username(&self) -> &str {
        &self.0.username
    }
    /// Role (角色).
    async fn role(&self) -> Role {
        self.0.role
    }
    /// The township or village a township officer or village cadre works in (所辖区域).
    async fn region(&self, ctx: &Context<'_>) -> ApiResult<Option<Node>> {
        let Some(id) = self.0.region_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?.regions.load_one(id).await?.map(region_node))
    }
    /// The enterprise of an enterprise user (所属企业).
    async fn enterprise(&self, ctx: &Context<'_>) -> ApiResult<Option<Enterprise>> {
        let Some(id) = self.0.enterprise_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .enterprises
            .load_one(id)
            .await?
            .map(Enterprise))
    }
    /// Whether the account may sign in (是否启用).
    async fn is_active(&self) -> bool {
        self.0.is_active
    }
}

fn auth<'a>(ctx: &Context<'a>) -> ApiResult<&'a AuthConfig> {
    data::<AuthConfig>(ctx)
}

/// Where this request's login comes from.
fn origin<'a>(ctx: &Context<'a>) -> ApiResult<Origin<'a>> {
    let request = data::<RequestData>(ctx)?;
    Ok(Origin {
        source: request.source,
        request_id: &request.request_id,
        limits: &data::<Limits>(ctx)?.logins,
        metrics: &request.metrics,
    })
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in account (当前用户).
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<Account> {
        let user = viewer(ctx)?.user()?;
        account::find(db(ctx)?, user.id).await.map(Account)
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Signs in with a username and password (登录). Failed attempts slow down
    /// and then lock the account for a while from the address they come from;
    /// a wrong password, an unknown name, a lock and a disabled account all
    /// answer `UNAUTHENTICATED` with the same message; every attempt is recorded.
    #[graphql(
        complexity = "crate::graphql::cost::priced(crate::graphql::cost::CREDENTIALS, child_complexity)"
    )]
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Login name (用户名).")] username: String,
        #[graphql(desc = "Password (密码).")] password: String,
        #[graphql(
            desc = "The `clientId` of the registered app signing in (接入应用): its tokens, refreshed ones too, may be held to the app's registered documents."
        )]
        client_id: Option<String>,
    ) -> ApiResult<TokenPayload> {
        let db = db(ctx)?;
        let app = match client_id {
            Some(client_id) => Some(client_app::by_client_id(db, &client_id).await?.id),
            None => None,
        };
        account::login(
            db,
            auth(ctx)?,
            &username,
            &password,
            Credentials::Password,
            &origin(ctx)?,
            app,
        )
        .await
        .map(TokenPayload::from)
    }

    /// Exchanges a provincial system's client ID and secret for tokens (客户端凭证).
    #[graphql(
        complexity = "crate::graphql::cost::priced(crate::graphql::cost::CREDENTIALS, child_complexity)"
    )]
    async fn client_credentials(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The provincial system's client ID (客户端标识).")] client_id: String,
        #[graphql(desc = "Its client secret (客户端密钥).")] client_secret: String,
    ) -> ApiResult<TokenPayload> {
        account::login(
            db(ctx)?,
            auth(ctx)?,
            &client_id,
            &client_secret,
            Credentials::ClientSecret,
            &origin(ctx)?,
            None,
        )
        .await
        .map(TokenPayload::from)
    }

    /// Exchanges a refresh token for new tokens (刷新令牌).
    #[graphql(
        complexity = "crate::graphql::cost::priced(crate::graphql::cost::CREDENTIALS, child_complexity)"
    )]
    async fn refresh(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token of the latest tokens; each works once (刷新令牌).")]
        refresh_token: String,
    ) -> ApiResult<TokenPayload> {
        account::refresh(db(ctx)?, auth(ctx)?, &refresh_token)
            .await
            .map(TokenPayload::from)
    }

    /// Ends the session a refresh token belongs to (退出登录).
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A refresh token of the session to end (刷新令牌).")]
        refresh_token: String,
    ) -> ApiResult<bool> {
        account::logout(db(ctx)?, &refresh_token)
            .await
            .map(|()| true)
    }

    /// Changes the caller's password (修改密码). Every other session ends;
    /// the answer carries the tokens of a new one.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The caller's password now (原密码).")] current_password: String,
        #[graphql(desc = "The new password: at least 10 characters (新密码).")]
        new_password: String,
    ) -> ApiResult<TokenPayload> {
        let actor = actor(ctx)?;
        let app = viewer(ctx)?.user()?.app;
        account::change_password(
            db(ctx)?,
            auth(ctx)?,
            &actor,
            app,
            &current_password,
            &new_password,
        )
        .await
        .map(TokenPayload::from)
    }
}
