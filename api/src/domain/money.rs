//! Money as the register keeps it: exact amounts in integer fen, read and
//! written as yuan with at most two decimals; never a float.

/// An exact amount of money, in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Money(pub i64);

impl Money {
    /// Parses "123", "123.4" or "-123.45" into fen.
    pub fn parse_yuan(text: &str) -> Option<Money> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || fraction.len() > 2 {
            return None;
        }
        let fen = whole
            .parse::<i64>()
            .ok()?
            .checked_mul(100)?
            .checked_add(format!("{fraction:0<2}").parse::<i64>().ok()?)?;
        Some(Money(if negative { -fen } else { fen }))
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let fen = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", fen / 100, fen % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::Money;

    #[test]
    fn parses_and_prints_yuan_exactly() {
        assert_eq!(Money::parse_yuan("3535"), Some(Money(353_500)));
        assert_eq!(Money::parse_yuan("0.5"), Some(Money(50)));
        assert_eq!(Money::parse_yuan("-12.34"), Some(Money(-1234)));
        assert_eq!(Money::parse_yuan("1.234"), None);
        assert_eq!(Money::parse_yuan("1e3"), None);
        assert_eq!(Money::parse_yuan(""), None);
        assert_eq!(Money(-1234).to_string(), "-12.34");
        assert_eq!(Money(5).to_string(), "0.05");
    }
}
