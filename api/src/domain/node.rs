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

/// The row number a global ID names, if it names a row of `type_name`.
pub fn number_of(global: &str, type_name: &str) -> Option<i64> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(global).ok()?).ok()?;
    text.strip_prefix(type_name)?
        .strip_prefix(':')?
        .parse()
        .ok()
}
