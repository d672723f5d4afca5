//! Registering and editing enterprises (经营主体登记): the county office
//! anywhere, a township officer in its township; an enterprise user edits its
//! own record. Credit codes are checked against GB 32100 and unique.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::Utc;
use entity::enums::{EnterpriseKind, Industry};
use entity::{enterprise, region};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    Set,
};
use serde_json::json;

use super::super::region::find_region;
use super::super::relay::{NodeKind, decode_id_of, global_id};
use super::super::{actor, db, optional_text, required_text, viewer};
use super::Enterprise;
use crate::access;
use crate::audit::{self, Change};
use crate::codes;
use crate::domain::text::phone;
use crate::domain::write::{self, Created};
use crate::error::{ApiError, ApiResult};
use crate::permissions;

/// Longest name, in characters (as the column holds).
const MAX_NAME_CHARS: usize = 100;
/// Longest contact person, in characters.
const MAX_CONTACT_CHARS: usize = 100;

fn snapshot(firm: &enterprise::Model) -> serde_json::Value {
    json!({
        "id": global_id(NodeKind::Enterprise, firm.id),
        "name": firm.name,
        "creditCode": firm.credit_code,
        "kind": firm.kind,
        "industry": firm.industry,
        "village": firm.village_id.map(|v| global_id(NodeKind::Village, v)),
        "contactPerson": firm.contact_person,
        "contactPhone": firm.contact_phone,
        "version": firm.version,
    })
}

/// A credit code as stored: trimmed, upper-cased, checked against GB 32100.
fn credit_code(code: &str) -> ApiResult<String> {
    let code = code.trim().to_uppercase();
    codes::check_credit_code(&code).map_err(|e| ApiError::bad_input("creditCode", e.message()))?;
    Ok(code)
}

/// Refuses a credit code another enterprise is registered with.
async fn check_code_free(txn: &DatabaseTransaction, code: &str, except: i64) -> ApiResult<()> {
    let taken = enterprise::Entity::find()
        .filter(enterprise::Column::CreditCode.eq(code))
        .filter(enterprise::Column::Id.ne(except))
        .one(txn)
        .await?;
    match taken {
        Some(other) => Err(ApiError::Conflict(format!(
            "the credit code {code} is already registered, to {}",
            other.name
        ))),
        None => Ok(()),
    }
}

/// The village of a registration: one of the county.
async fn village(ctx: &Context<'_>, id: Option<&ID>) -> ApiResult<Option<region::Model>> {
    match id {
        Some(id) => Ok(Some(
            find_region(ctx, id, "villageId", &[NodeKind::Village]).await?,
        )),
        None => Ok(None),
    }
}

/// The village an enterprise is registered in, read in the change's transaction.
async fn village_of(
    db: &impl ConnectionTrait,
    firm: &enterprise::Model,
) -> ApiResult<Option<region::Model>> {
    match firm.village_id {
        Some(id) => Ok(region::Entity::find_by_id(id).one(db).await?),
        None => Ok(None),
    }
}

fn refuse(firm: &enterprise::Model) -> ApiError {
    ApiError::Forbidden(format!(
        "you may not change {}: the county office changes any enterprise, a township \
         officer those registered in its township, an enterprise user its own record",
        firm.name
    ))
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
        input: CreateEnterpriseInput,
    ) -> ApiResult<Enterprise> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        viewer.user()?;
        let name = required_text(&input.name, "name", MAX_NAME_CHARS)?;
        let code = credit_code(&input.credit_code)?;
        let contact_person = optional_text(
            input.contact_person.as_deref(),
            "contactPerson",
            MAX_CONTACT_CHARS,
        )?;
        let contact_phone = phone("contactPhone", input.contact_phone.as_deref())?;
        let village = village(ctx, input.village_id.as_ref()).await?;
        if !access::registers_enterprises_in(viewer, village.as_ref()) {
            return Err(match village {
                None => ApiError::bad_input(
                    "villageId",
                    "a township officer registers an enterprise in a village of its township",
                ),
                Some(village) => ApiError::Forbidden(format!(
                    "{} is not in your township: you may not register enterprises there",
                    village.name
                )),
            });
        }
        let request = json!({
            "name": name,
            "creditCode": code,
            "kind": input.kind,
            "industry": input.industry,
            "village": village.as_ref().map(|v| v.id),
            "contactPerson": contact_person,
            "contactPhone": contact_phone,
        });
        let key = input.idempotency_key.as_deref();
        let created = write::create::<enterprise::Entity, _>(
            db(ctx)?,
            &actor,
            key,
            "createEnterprise",
            &request,
            async |txn| {
                check_code_free(txn, &code, 0).await?;
                let now = Utc::now();
                let created = enterprise::ActiveModel {
                    name: Set(name),
                    credit_code: Set(code),
                    kind: Set(input.kind),
                    industry: Set(input.industry),
                    village_id: Set(village.map(|v| v.id)),
                    contact_person: Set(contact_person),
                    contact_phone: Set(contact_phone),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                Ok(Created::new(
                    created.id,
                    "enterprise.create",
                    "Enterprise",
                    snapshot(&created),
                    created,
                ))
            },
        )
        .await?;
        Ok(Enterprise(created))
    }

    /// Changes an enterprise's record (修改经营主体): the county office any, a
    /// township officer those registered in its township, an enterprise user its
    /// own. Others are refused with FORBIDDEN (enterprises are public, so there
    /// is nothing to hide by answering NOT_FOUND).
    async fn update_enterprise(
        &self,
        ctx: &Context<'_>,
        input: UpdateEnterpriseInput,
    ) -> ApiResult<Enterprise> {
        let actor = actor(ctx)?;
        let viewer = viewer(ctx)?;
        let name = input
            .name
            .map(|n| required_text(&n, "name", MAX_NAME_CHARS))
            .transpose()?;
        let code = input.credit_code.as_deref().map(credit_code).transpose()?;
        let contact_person = input
            .contact_person
            .as_deref()
            .map(|p| optional_text(Some(p), "contactPerson", MAX_CONTACT_CHARS))
            .transpose()?;
        let contact_phone = input
            .contact_phone
            .as_deref()
            .map(|p| phone("contactPhone", Some(p)))
            .transpose()?;
        let new_village = village(ctx, input.village_id.as_ref()).await?;
        if name.is_none()
            && code.is_none()
            && input.kind.is_none()
            && input.industry.is_none()
            && new_village.is_none()
            && contact_person.is_none()
            && contact_phone.is_none()
        {
            return Err(ApiError::bad_input(
                "input",
                "give at least one field to change",
            ));
        }
        let (_, raw) = decode_id_of(&input.id, "id", &[NodeKind::Enterprise])?;
        let txn = write::begin(db(ctx)?).await?;
        let select =
            access::select::<enterprise::Entity>(viewer).filter(enterprise::Column::Id.eq(raw));
        let before = write::one_locked(&txn, select)
            .await?
            .ok_or_else(|| ApiError::not_found("Enterprise"))?;
        let registered = village_of(&txn, &before).await?;
        if !access::manages_enterprise(viewer, &before, registered.as_ref()) {
            return Err(refuse(&before));
        }
        if let Some(village) = &new_village
            && !access::manages_enterprise(viewer, &before, Some(village))
        {
            return Err(ApiError::Forbidden(format!(
                "{} is not in your township: you may not move an enterprise there",
                village.name
            )));
        }
        write::check_version("enterprise", input.version, before.version, || {
            permissions::redact(viewer, "Enterprise", snapshot(&before))
        })?;
        let mut changed: enterprise::ActiveModel = before.clone().into();
        if let Some(name) = name {
            changed.name = Set(name);
        }
        if let Some(code) = code {
            check_code_free(&txn, &code, before.id).await?;
            changed.credit_code = Set(code);
        }
        if let Some(kind) = input.kind {
            changed.kind = Set(kind);
        }
        if let Some(industry) = input.industry {
            changed.industry = Set(industry);
        }
        if let Some(village) = new_village {
            changed.village_id = Set(Some(village.id));
        }
        if let Some(person) = contact_person {
            changed.contact_person = Set(person);
        }
        if let Some(phone) = contact_phone {
            changed.contact_phone = Set(phone);
        }
        changed.version = Set(before.version + 1);
        changed.updated_at = Set(Utc::now());
        let after = changed.update(&txn).await?;
        let change = Change {
            action: "enterprise.update",
            entity_type: "Enterprise",
            entity_id: after.id,
            before: Some(snapshot(&before)),
            after: Some(snapshot(&after)),
        };
        audit::record(&txn, &actor, change).await?;
        txn.commit().await?;
        Ok(Enterprise(after))
    }
}
