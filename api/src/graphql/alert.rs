//! Subscriptions: live alerts (实时提醒) over the graphql-ws protocol. A
//! subscription lives as long as the token it was opened with: it ends when
//! the token expires, or, at its next alert, once its session has ended
//! (logout, a disabled account).

use async_graphql::{Context, Enum, ID, Object, Subscription};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::BoxStream;
use sea_orm::DatabaseConnection;
use tokio::sync::broadcast::error::RecvError;

use super::context::{data, db, viewer};
use super::relay::{NodeKind, global_id};
use crate::access::{self, Viewer};
use crate::auth::AuthConfig;
use crate::domain::alert::{self as rules, AlertKind as Kind};
use crate::error::{ApiError, ApiResult};
use crate::exchange::feed::encode_cursor;
use crate::live::Hub;

/// What a connection's subscriptions need beside a request's data: the
/// replica's alerts, and the token the connection was opened with.
pub struct Live {
    pub hub: Hub,
    pub token: String,
    /// When the token expires.
    pub expires: DateTime<Utc>,
}

/// What an alert tells of (提醒类型).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::alert::AlertKind")]
pub enum AlertKind {
    /// A proposal to enrol or to exit a household entered its public notice (公示).
    ProposalInNotice,
    /// An objection to a proposal in notice was recorded (异议).
    ObjectionRecorded,
    /// A measure of a household's plan passed its time node undone (措施逾期).
    MeasureOverdue,
    /// A household was taken into monitoring (纳入防返贫监测).
    MonitoringCaseOpened,
    /// A complaint concerning the reader's township was assigned for handling (投诉交办).
    ComplaintAssigned,
}

pub struct Alert(rules::Alert);

/// One alert (提醒): what happened, to what, and where to read it.
#[Object]
impl Alert {
    /// What happened.
    async fn kind(&self) -> AlertKind {
        self.0.kind.into()
    }

    /// When it happened.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// One line to show, in Chinese.
    async fn summary(&self) -> &str {
        &self.0.summary
    }

    /// The global ID of the proposal, objection, measure, monitoring case or
    /// complaint: read it with `node(id:)`.
    async fn subject_id(&self) -> ID {
        let kind = match self.0.kind {
            Kind::ProposalInNotice => NodeKind::Proposal,
            Kind::ObjectionRecorded => NodeKind::Objection,
            Kind::MeasureOverdue => NodeKind::Measure,
            Kind::MonitoringCaseOpened => NodeKind::MonitoringCase,
            Kind::ComplaintAssigned => NodeKind::Complaint,
        };
        global_id(kind, self.0.subject_id)
    }

    /// The global ID of the household concerned, where there is one.
    async fn household_id(&self) -> Option<ID> {
        self.0
            .household_id
            .map(|id| global_id(NodeKind::Household, id))
    }

    /// Its place in the audit trail, as a cursor of the change feed.
    async fn cursor(&self) -> String {
        encode_cursor(self.0.sequence)
    }
}

#[derive(Default)]
pub struct Subscription;

/// What a client hears of as it happens, over a websocket to `/graphql`
/// (graphql-ws, the token in `connection_init`).
#[Subscription]
impl Subscription {
    /// Alerts of my region or my pairings as they happen (实时提醒), over a
    /// websocket to `/graphql` (graphql-ws): the proposals that enter their
    /// notice, objections, overdue measures, monitoring cases and, for township
    /// officers, complaints assigned to their township. Only what the reader may
    /// read as a row, and never the reader's own acts. Ends with an
    /// `UNAUTHENTICATED` error when the connection's token expires or its
    /// session ends: open a new connection with a fresh token.
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only alerts of these kinds; every kind when not given.")] kinds: Option<
            Vec<AlertKind>,
        >,
    ) -> async_graphql::Result<BoxStream<'static, ApiResult<Alert>>> {
        let viewer = viewer(ctx)?.clone();
        viewer.user()?;
        let live = data::<Live>(ctx)?;
        let kinds: Vec<Kind> = match kinds {
            Some(kinds) => kinds.into_iter().map(Into::into).collect(),
            None => Kind::ALL.to_vec(),
        };
        let watch = Watch {
            db: db(ctx)?.clone(),
            auth: data::<AuthConfig>(ctx)?.clone(),
            viewer,
            kinds,
            token: live.token.clone(),
            expires: live.expires,
            receiver: live.hub.subscribe(),
            ended: false,
        };
        Ok(futures::stream::unfold(watch, |mut watch| async move {
            let next = watch.next().await?;
            Some((next, watch))
        })
        .boxed())
    }
}

/// One subscription's state.
struct Watch {
    db: DatabaseConnection,
    auth: AuthConfig,
    viewer: Viewer,
    kinds: Vec<Kind>,
    token: String,
    expires: DateTime<Utc>,
    receiver: tokio::sync::broadcast::Receiver<std::sync::Arc<entity::audit_entry::Model>>,
    ended: bool,
}

impl Watch {
    /// The next alert for the reader; an error, once, when the token or the
    /// session ends; then nothing.
    async fn next(&mut self) -> Option<ApiResult<Alert>> {
        if self.ended {
            return None;
        }
        let left = (self.expires - Utc::now()).to_std().unwrap_or_default();
        let expiry = tokio::time::sleep(left);
        tokio::pin!(expiry);
        loop {
            tokio::select! {
                () = &mut expiry => return self.end(),
                received = self.receiver.recv() => match received {
                    Ok(entry) => {
                        if !Kind::of_action(&entry.action).is_some_and(|k| self.kinds.contains(&k)) {
                            continue;
                        }
                        match rules::for_viewer(&self.db, &self.viewer, &entry).await {
                            Ok(Some(alert)) => {
                                // Nothing more for a session that has ended.
                                if access::session_from_token(&self.db, &self.auth, &self.token)
                                    .await
                                    .is_err()
                                {
                                    return self.end();
                                }
                                return Some(Ok(Alert(alert)));
                            }
                            Ok(None) => {}
                            Err(err) => tracing::warn!(error = ?err, "cannot decide an alert"),
                        }
                    }
                    Err(RecvError::Lagged(skipped)) => {
                        tracing::warn!(skipped, "a subscription fell behind and skipped alerts");
                    }
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    }

    fn end(&mut self) -> Option<ApiResult<Alert>> {
        self.ended = true;
        Some(Err(ApiError::Unauthenticated))
    }
}
