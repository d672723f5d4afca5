//! The `NaiveDate` scalar: a calendar day, in a type of our own so that it can
//! name its specification (async-graphql's scalar for chrono's `NaiveDate`
//! names none, and a schema cannot add one to it).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A day a field answers with or an argument carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Day(pub NaiveDate);

impl From<NaiveDate> for Day {
    fn from(day: NaiveDate) -> Self {
        Day(day)
    }
}

impl From<Day> for NaiveDate {
    fn from(day: Day) -> Self {
        day.0
    }
}

/// The form RFC 3339 calls `full-date`: four digits of year, two of month,
/// two of day, joined by `-`. chrono alone would also take `2026-3-1`.
fn is_full_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(at, byte)| match at {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        })
}

/// A calendar day without a time zone, as an RFC 3339 `full-date` (ISO 8601
/// extended calendar date) string: `2026-03-01`. Days of the county are its
/// own (UTC+8). See docs/scalars.md.
#[Scalar(
    name = "NaiveDate",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
)]
impl ScalarType for Day {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) if is_full_date(text) => {
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map(Day)
                    .map_err(|_| {
                        InputValueError::custom(format!("{text} is not a day of the calendar"))
                    })
            }
            Value::String(_) => Err(InputValueError::custom(
                "expected a day as YYYY-MM-DD, e.g. \"2026-03-01\"",
            )),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_full_date_is_a_day() {
        let day = |text: &str| Day::parse(Value::String(text.into())).ok().map(|day| day.0);
        assert_eq!(day("2026-03-01"), NaiveDate::from_ymd_opt(2026, 3, 1));
        for refused in [
            "2026-3-1",
            "2026-02-30",
            "2026-03-01T00:00:00Z",
            "+2026-03-01",
            " 2026-03-01",
            "20260301",
        ] {
            assert_eq!(day(refused), None, "{refused}");
        }
        assert!(Day::parse(Value::from(20260301)).is_err());
        assert_eq!(
            Day(NaiveDate::from_ymd_opt(987, 1, 2).expect("a day")).to_value(),
            Value::String("0987-01-02".into())
        );
    }
}
