//! Pairing assistance (结对帮扶): helper cadres paired with households. A helper
//! cadre sees exactly the households paired with them. Helper units and village
//! staff are in [`unit`], visits in [`visit`].

pub mod unit;
pub mod visit;

use async_graphql::{Context, ID, Object};
use chrono::{NaiveDate, Utc};
use entity::enums::Role;
use entity::{app_user, helper_pairing};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::account::Account;
use super::household::{Household, reachable_household};
use super::relay::{NodeKind, global_id};
use super::{actor, db, loaders};
use crate::audit::{self, Change};
use crate::domain::calendar;
use crate::domain::write::{self, Created};
use crate::error::{ApiError, ApiResult};

pub struct Pairing(pub helper_pairing::Model);

/// A helper cadre paired with a household (结对帮扶关系).
#[Object]
impl Pairing {
    /// Global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Pairing, self.0.id)
    }
    /// The helper cadre (帮扶责任人), when the reader may see their account.
    async fn helper(&self, ctx: &Context<'_>) -> ApiResult<Option<Account>> {
        Ok(loaders(ctx)?
            .users
            .load_one(self.0.helper_id)
            .await?
            .map(Account))
    }
    /// The helper's unit (帮扶单位).
    async fn unit(&self) -> Option<&str> {
        self.0.unit.as_deref()
    }
    /// The household helped (帮扶对象).
    async fn household(&self, ctx: &Context<'_>) -> ApiResult<Option<Household>> {
        Ok(loaders(ctx)?
            .households
            .load_one(self.0.household_id)
            .await?
            .map(Household))
    }
    /// First day of the pairing (结对日期).
    async fn started_on(&self) -> NaiveDate {
        self.0.started_on
    }
    /// Last day, once ended (解除日期).
    async fn ended_on(&self) -> Option<NaiveDate> {
        self.0.ended_on
    }
}

/// A pairing as the audit trail records it; `helper` is the helper's username.
fn snapshot(pairing: &helper_pairing::Model, helper: &str) -> serde_json::Value {
    serde_json::json!({
        "id": pairing.id,
        "helper": helper,
        "household": pairing.household_id,
        "unit": pairing.unit,
        "startedOn": pairing.started_on,
        "endedOn": pairing.ended_on,
    })
}

/// An active helper cadre, by username.
async fn helper_cadre(ctx: &Context<'_>, username: &str) -> ApiResult<app_user::Model> {
    app_user::Entity::find()
        .filter(app_user::Column::Username.eq(username))
        .one(db(ctx)?)
        .await?
        .filter(|u| u.role == Role::HelperCadre && u.is_active)
        .ok_or_else(|| {
            ApiError::bad_input(
                "helperUsername",
                format!("`{username}` is not an active helper cadre"),
            )
        })
}

#[derive(Default)]
pub struct PairingMutation;

#[Object]
impl PairingMutation {
    /// Pairs a helper cadre with a household of the caller's scope (结对). A
    /// retry with the same idempotency key returns the first pairing.
    async fn pair_helper(
        &self,
        ctx: &Context<'_>,
        helper_username: String,
        household_id: ID,
        unit: Option<String>,
        #[graphql(
            desc = "Client-chosen key: a retried request returns the first pairing (幂等键)."
        )]
        idempotency_key: Option<String>,
    ) -> ApiResult<Pairing> {
        let actor = actor(ctx)?;
        let home = reachable_household(ctx, &household_id).await?;
        let helper = helper_cadre(ctx, &helper_username).await?;
        let unit = unit.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
        let request = serde_json::json!({
            "helperId": helper.id,
            "householdId": home.id,
            "unit": unit,
        });
        let now = Utc::now();
        let key = idempotency_key.as_deref();
        let pairing = write::create::<helper_pairing::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "pairHelper",
            &request,
            async |txn| {
                let pairing = helper_pairing::ActiveModel {
                    helper_id: Set(helper.id),
                    household_id: Set(home.id),
                    unit: Set(unit),
                    started_on: Set(calendar::today()),
                    ended_on: Set(None),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                Ok(Created::new(
                    pairing.id,
                    "pairing.create",
                    "Pairing",
                    snapshot(&pairing, &helper.username),
                    pairing,
                ))
            },
        )
        .await?;
        Ok(Pairing(pairing))
    }

    /// Ends the active pairing of a helper cadre with a household (解除结对).
    async fn end_pairing(
        &self,
        ctx: &Context<'_>,
        helper_username: String,
        household_id: ID,
    ) -> ApiResult<Pairing> {
        let actor = actor(ctx)?;
        let home = reachable_household(ctx, &household_id).await?;
        let helper = helper_cadre(ctx, &helper_username).await?;
        let txn = write::begin(db(ctx)?).await?;
        let active = helper_pairing::Entity::find()
            .filter(helper_pairing::Column::HelperId.eq(helper.id))
            .filter(helper_pairing::Column::HouseholdId.eq(home.id))
            .filter(helper_pairing::Column::EndedOn.is_null());
        let before = write::one_locked(&txn, active)
            .await?
            .ok_or_else(|| ApiError::not_found("Pairing"))?;
        let now = Utc::now();
        let mut ended: helper_pairing::ActiveModel = before.clone().into();
        ended.ended_on = Set(Some(calendar::today().max(before.started_on)));
        ended.version = Set(before.version + 1);
        ended.updated_at = Set(now);
        let pairing = ended.update(&txn).await?;
        let change = Change {
            action: "pairing.end",
            entity_type: "Pairing",
            entity_id: pairing.id,
            before: Some(snapshot(&before, &helper.username)),
            after: Some(snapshot(&pairing, &helper.username)),
        };
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
        Ok(Pairing(pairing))
    }
}
