//! Rows named as the API names them, for the records that keep that form
//! (audit snapshots of funds and projects, idempotency fingerprints): the
//! global ID of a row is its type name and number, `Type:id`, in URL-safe
//! base64, the same encoding the GraphQL layer hands out.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The global ID of row `id` of the object type `type_name`.
pub fn global_id(type_name: &str, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}"))
}
