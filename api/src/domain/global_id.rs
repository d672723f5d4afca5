//! The global ID of a row as the API names it: base64url of `Type:id`. The
//! snapshots written here keep related rows in this form, as a client reads
//! them, where the field's type alone would not say which type a row is of.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The global ID of the row `id` of the GraphQL type `type_name`.
pub fn global_id(type_name: &str, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}"))
}
