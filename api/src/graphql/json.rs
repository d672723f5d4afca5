//! The `JSON` scalar: a snapshot of a record as the audit trail and the change
//! feed keep it, in its own type so that it can name its specification.

use async_graphql::{InputValueResult, Scalar, ScalarType, Value};

/// A JSON value a field answers with.
pub struct Json(pub serde_json::Value);

/// Any JSON value (RFC 8259), sent as itself within the response, not as a
/// string: here an object of a record's fields as the audit trail or the change
/// feed keeps them, masked as the reader's role reads that type.
#[Scalar(
    name = "JSON",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc8259"
)]
impl ScalarType for Json {
    fn parse(value: Value) -> InputValueResult<Self> {
        Ok(Json(value.into_json()?))
    }

    fn to_value(&self) -> Value {
        Value::from_json(self.0.clone()).unwrap_or_default()
    }
}
