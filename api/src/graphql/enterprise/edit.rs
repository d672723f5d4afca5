//! Registering and editing enterprises (经营主体登记): the county office
//! anywhere, a township officer in its township; an enterprise user edits its
//! own record. Credit codes are checked against GB 32100 and unique.

use async_graphql::{Context, ID, InputObject, Object};
use entity::enums::{EnterpriseKind, Industry};

use super::super::relay::{NodeKind, decode_id_of};
use super::Enterprise;
use crate::domain::enterprise::{self as firms, EnterpriseChanges, NewEnterprise};
use crate::error::ApiResult;
use crate::graphql::context::{actor, db, viewer};

/// Decodes the global ID of a village, if one is given.
fn decode_village(id: Option<&ID>) -> ApiResult<Option<i64>> {
    id.map(|id| decode_id_of(id, "villageId", &[NodeKind::Village]).map(|(_, raw)| raw))
        .transpose()
}

/// A new enterprise, cooperative, family farm or large household (登记经营主体).
#[derive(InputObject)]
pub struct CreateEnterpriseInput {
    /// Registered name, at most 100 characters (名称).
    name: String,
    /// Unified social credit code: 18 characters with a GB 32100 check
    /// character; lower case is accepted (统一社会信用代码).
    credit_code: String,
    /// Kind of entity (主体类型).
    kind: EnterpriseKind,
    /// Industry (所属产业).
    industry: Industry,
    /// The village it is registered in; required for a township officer, and
    /// then in its township (所在村).
    village_id: Option<ID>,
    /// Contact person, at most 100 characters (联系人).
    contact_person: Option<String>,
    /// Contact telephone: 7 to 20 digits, hyphens allowed (联系电话).
    contact_phone: Option<String>,
    /// Client-chosen key: a retried request returns the first enterprise (幂等键).
    idempotency_key: Option<String>,
}

/// Changes to an enterprise; fields left out stay as they are (修改经营主体).
#[derive(InputObject)]
pub struct UpdateEnterpriseInput {
    /// The enterprise (经营主体).
    id: ID,
    /// The version the change was made from (版本号).
    version: i32,
    /// New name (名称).
    name: Option<String>,
    /// New unified social credit code (统一社会信用代码).
    credit_code: Option<String>,
    /// New kind (主体类型).
    kind: Option<EnterpriseKind>,
    /// New industry (所属产业).
    industry: Option<Industry>,
    /// New village: for a township officer, one of its township (所在村).
    village_id: Option<ID>,
    /// New contact person; an empty string clears it (联系人).
    contact_person: Option<String>,
    /// New contact telephone; an empty string clears it (联系电话).
    contact_phone: Option<String>,
}

#[derive(Default)]
pub struct EditMutation;

#[Object]
impl EditMutation {
    /// Registers an enterprise (登记经营主体): the county office anywhere, a
    /// township officer in a village of its township. A credit code already
    /// registered is a CONFLICT.
    async fn create_enterprise(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The enterprise (企业信息).")] input: CreateEnterpriseInput,
    ) -> ApiResult<Enterprise> {
        let actor = actor(ctx)?;
        let new = NewEnterprise {
            name: input.name,
            credit_code: input.credit_code,
            kind: input.kind,
            industry: input.industry,
            village_id: decode_village(input.village_id.as_ref())?,
            contact_person: input.contact_person,
            contact_phone: input.contact_phone,
        };
        let key = input.idempotency_key.as_deref();
        let created = firms::register(db(ctx)?, viewer(ctx)?, &actor, key, new).await?;
        Ok(Enterprise(created))
    }

    /// Changes an enterprise's record (修改经营主体): the county office any, a
    /// township officer those registered in its township, an enterprise user its
    /// own. Others are refused with FORBIDDEN (enterprises are public, so there
    /// is nothing to hide by answering NOT_FOUND).
    async fn update_enterprise(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The enterprise and what changes (企业信息变更).")]
        input: UpdateEnterpriseInput,
    ) -> ApiResult<Enterprise> {
        let actor = actor(ctx)?;
        let (_, id) = decode_id_of(&input.id, "id", &[NodeKind::Enterprise])?;
        let changes = EnterpriseChanges {
            id,
            version: input.version,
            name: input.name,
            credit_code: input.credit_code,
            kind: input.kind,
            industry: input.industry,
            village_id: decode_village(input.village_id.as_ref())?,
            contact_person: input.contact_person,
            contact_phone: input.contact_phone,
        };
        let updated = firms::update(db(ctx)?, viewer(ctx)?, &actor, changes).await?;
        Ok(Enterprise(updated))
    }
}
