//! The `Money` scalar: the domain's exact fen, sent as yuan strings.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

pub use crate::domain::money::Money;

/// Exact amount of money in yuan (元), sent as a decimal string with two fraction
/// digits, e.g. "3535.00". Never a float; stored as integer fen (分).
#[Scalar(name = "Money")]
impl ScalarType for Money {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => Money::parse_yuan(text).ok_or_else(|| {
                InputValueError::custom("expected yuan with at most two decimals, e.g. \"3535.00\"")
            }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.to_string())
    }
}
