//! Pairing assistance (结对帮扶): helper cadres paired with households. A helper
//! cadre sees exactly the households paired with them. Helper units and village
//! staff are in [`unit`], visits in [`visit`].

pub mod unit;
pub mod visit;

use crate::graphql::date::Day;
use async_graphql::{Context, ID, Object};
use entity::helper_pairing;

use super::account::Account;
use super::context::{actor, db, loaders, viewer};
use super::household::Household;
use super::relay::{NodeKind, decode_id_of, global_id};
use crate::domain::pairing::{self as pairings, NewPairing};
use crate::error::ApiResult;

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
    async fn started_on(&self) -> Day {
        Day(self.0.started_on)
    }
    /// Last day, once ended (解除日期).
    async fn ended_on(&self) -> Option<Day> {
        self.0.ended_on.map(Day)
    }
}

/// Decodes the global ID of a household.
fn decode_household(id: &ID) -> ApiResult<i64> {
    Ok(decode_id_of(id, "householdId", &[NodeKind::Household])?.1)
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
        #[graphql(desc = "Username of the helper cadre (帮扶责任人).")] helper_username: String,
        #[graphql(desc = "The household (贫困户).")] household_id: ID,
        #[graphql(desc = "The helper's work unit, at most 100 characters (帮扶单位).")]
        unit: Option<String>,
        #[graphql(
            desc = "Client-chosen key: a retried request returns the first pairing (幂等键)."
        )]
        idempotency_key: Option<String>,
    ) -> ApiResult<Pairing> {
        let actor = actor(ctx)?;
        let new = NewPairing {
            helper_username,
            household_id: decode_household(&household_id)?,
            unit,
        };
        let key = idempotency_key.as_deref();
        let pairing = pairings::pair_helper(db(ctx)?, viewer(ctx)?, &actor, key, new).await?;
        Ok(Pairing(pairing))
    }

    /// Ends the active pairing of a helper cadre with a household (解除结对).
    async fn end_pairing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Username of the helper cadre (帮扶责任人).")] helper_username: String,
        #[graphql(desc = "The household (贫困户).")] household_id: ID,
    ) -> ApiResult<Pairing> {
        let actor = actor(ctx)?;
        let household = decode_household(&household_id)?;
        let pairing =
            pairings::end_pairing(db(ctx)?, viewer(ctx)?, &actor, &helper_username, household)
                .await?;
        Ok(Pairing(pairing))
    }
}
