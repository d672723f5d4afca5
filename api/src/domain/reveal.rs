//! Revealing a masked value in full, for a stated purpose (查看敏感信息): only
//! a reader who sees the field masked needs it, and every reveal is recorded.

use chrono::Utc;
use entity::{household, member};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, QueryFilter, Set};

use super::text;
use crate::access::{self, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::permissions::{self, Access};

/// Shortest purpose accepted for a reveal, in characters.
const MIN_PURPOSE_CHARS: usize = 4;

/// The value of `field` of the record `id` of the GraphQL type `type_name`,
/// for the stated `purpose`; the reveal is recorded.
pub async fn reveal(
    db: &DatabaseConnection,
    viewer: &Viewer,
    type_name: &str,
    id: i64,
    field: &str,
    purpose: &str,
) -> ApiResult<String> {
    let user = viewer.user()?;
    let purpose = purpose.trim().to_owned();
    if purpose.chars().count() < MIN_PURPOSE_CHARS {
        return Err(ApiError::bad_input(
            "purpose",
            "state why you need to see the value",
        ));
    }
    text::refuse_personal_numbers("purpose", &purpose)?;
    let rule = permissions::rule_of(type_name, field)
        .filter(|rule| rule.mask.is_some())
        .ok_or_else(|| {
            ApiError::bad_input(
                "field",
                format!("`{field}` of a {type_name} is never masked"),
            )
        })?;
    if permissions::access_of(viewer, rule) == Access::Hidden {
        return Err(ApiError::Forbidden(format!(
            "your role may not read `{type_name}.{field}`"
        )));
    }
    let value = match (type_name, field) {
        ("Member", "idNumber" | "name") => {
            let row = access::select::<member::Entity>(viewer)
                .filter(member::Column::Id.eq(id))
                .one(db)
                .await?
                .ok_or_else(|| ApiError::not_found("Member"))?;
            if field == "name" {
                row.name
            } else {
                row.id_number
            }
        }
        ("Household", "phone") => access::select::<household::Entity>(viewer)
            .filter(household::Column::Id.eq(id))
            .one(db)
            .await?
            .ok_or_else(|| ApiError::not_found("Household"))?
            .phone
            .unwrap_or_default(),
        _ => {
            return Err(ApiError::bad_input(
                "field",
                format!("`{field}` cannot be revealed"),
            ));
        }
    };
    entity::reveal::ActiveModel {
        user_id: Set(user.id),
        target_type: Set(type_name.to_owned()),
        target_id: Set(id),
        field: Set(field.to_owned()),
        purpose: Set(purpose),
        at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(value)
}
