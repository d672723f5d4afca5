//! The `Money` scalar: the domain's exact fen, sent as yuan strings.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

pub use crate::domain::money::Money;

/// Exact amount of money in yuan (元), stored as integer fen (分), never a float.
/// Answers are a decimal string with exactly two fraction digits: "3535.00",
/// "0.05", "-12.34". Arguments are a string of an optional "-", digits, and at
/// most two fraction digits after a ".": "3535", "3535.5", "3535.50". Numbers,
/// exponents, "+", separators and fractions of a fen are refused. No public
/// specification describes this format: see docs/scalars.md.
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
