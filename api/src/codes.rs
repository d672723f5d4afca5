//! Check characters of Chinese identity codes: resident ID numbers (GB 11643)
//! and unified social credit codes (GB 32100).

use chrono::{Datelike, NaiveDate};
use entity::enums::Gender;

/// The 18-character ID number for the first 17 digits, with its check character.
pub fn id_number(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{first17}{}", CHECK[(sum % 11) as usize] as char)
}

/// Whether an ID number is 18 characters with a valid check character.
pub fn is_valid_id_number(id: &str) -> bool {
    id.len() == 18
        && id.as_bytes()[..17].iter().all(u8::is_ascii_digit)
        && id_number(&id[..17]) == id
}

/// What a valid resident ID number encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdFacts {
    pub birth_date: NaiveDate,
    pub gender: Gender,
}

/// Checks a resident ID number (GB 11643): 17 digits and a check character,
/// a real birth date not after `today`, and the gender in the 17th digit (odd: male).
pub fn check_id_number(id: &str, today: NaiveDate) -> Result<IdFacts, String> {
    if id.len() != 18 || !id.as_bytes()[..17].iter().all(u8::is_ascii_digit) {
        return Err("an ID number is 17 digits and a check character".into());
    }
    if id_number(&id[..17]) != id {
        return Err("the ID number has a wrong check character (GB 11643)".into());
    }
    let birth_date = NaiveDate::parse_from_str(&id[6..14], "%Y%m%d")
        .ok()
        .filter(|d| *d <= today && d.year() >= 1900)
        .ok_or_else(|| "the ID number encodes no valid birth date".to_owned())?;
    let gender = if (id.as_bytes()[16] - b'0') % 2 == 1 {
        Gender::Male
    } else {
        Gender::Female
    };
    Ok(IdFacts { birth_date, gender })
}

/// Characters of a credit code, in the order that gives their values.
pub const CREDIT_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// The 18-character credit code for the first 17 characters, with its check character.
pub fn credit_code(first17: &str) -> Option<String> {
    const WEIGHTS: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let mut sum = 0;
    for (b, w) in first17.bytes().zip(WEIGHTS) {
        sum += CREDIT_CHARSET.iter().position(|&c| c == b)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(format!("{first17}{}", CREDIT_CHARSET[check] as char))
}

/// Whether a credit code is 18 characters with a valid check character.
pub fn is_valid_credit_code(code: &str) -> bool {
    check_credit_code(code).is_ok()
}

/// What is wrong with a unified social credit code (GB 32100).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreditCodeError {
    /// Not 18 characters: how many it has.
    Length(usize),
    /// A character outside the code's alphabet, and its 1-based position.
    Character(char, usize),
    /// The 18th character is not the check character of the first 17: the right one.
    CheckCharacter(char),
}

impl CreditCodeError {
    /// The problem in a sentence, for a client.
    pub fn message(&self) -> String {
        match self {
            CreditCodeError::Length(n) => {
                format!("a unified social credit code has 18 characters, not {n}")
            }
            CreditCodeError::Character(c, at) => format!(
                "`{c}` (character {at}) may not appear in a unified social credit code: \
                 digits and capital letters other than I, O, S, V and Z"
            ),
            CreditCodeError::CheckCharacter(expected) => format!(
                "wrong check character: by GB 32100 the 18th character should be `{expected}`"
            ),
        }
    }
}

/// Checks a unified social credit code (GB 32100): 18 characters of its
/// alphabet, the last one the check character of the first 17.
pub fn check_credit_code(code: &str) -> Result<(), CreditCodeError> {
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 18 {
        return Err(CreditCodeError::Length(chars.len()));
    }
    if let Some((at, c)) = chars
        .iter()
        .enumerate()
        .find(|(_, c)| !c.is_ascii() || !CREDIT_CHARSET.contains(&(**c as u8)))
    {
        return Err(CreditCodeError::Character(*c, at + 1));
    }
    let expected = credit_code(&code[..17])
        .and_then(|full| full.chars().last())
        .ok_or(CreditCodeError::Length(chars.len()))?;
    if chars[17] != expected {
        return Err(CreditCodeError::CheckCharacter(expected));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_id_numbers_check_out() {
        // The sample number printed in GB 11643 itself.
        assert!(is_valid_id_number("11010519491231002X"));
        assert!(!is_valid_id_number("110105194912310021"));
    }

    #[test]
    fn id_numbers_give_birth_date_and_gender() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        let facts = check_id_number("11010519491231002X", today).expect("valid");
        assert_eq!(
            facts.birth_date,
            NaiveDate::from_ymd_opt(1949, 12, 31).expect("date")
        );
        assert_eq!(facts.gender, Gender::Female);
        assert!(check_id_number("110105194912310021", today).is_err());
        assert!(check_id_number(&id_number("11010520991231001"), today).is_err());
        assert!(check_id_number(&id_number("11010519491331001"), today).is_err());
        assert!(check_id_number("1101051949", today).is_err());
    }

    #[test]
    fn known_credit_codes_check_out() {
        // Published codes of two Shenzhen companies.
        assert!(is_valid_credit_code("9144030071526726XG"));
        assert!(is_valid_credit_code("914403001922038216"));
        assert!(!is_valid_credit_code("914403001922038217"));
        assert!(credit_code("9352269IOA6DXXXX1").is_none());
    }

    #[test]
    fn credit_code_checks_name_the_problem() {
        assert_eq!(check_credit_code("9144030071526726XG"), Ok(()));
        assert_eq!(
            check_credit_code("91440300715267"),
            Err(CreditCodeError::Length(14))
        );
        assert_eq!(
            check_credit_code("91440300715267I6XG"),
            Err(CreditCodeError::Character('I', 15))
        );
        assert_eq!(
            check_credit_code("914403007152672张XG"),
            Err(CreditCodeError::Character('张', 16))
        );
        assert_eq!(
            check_credit_code("914403001922038217"),
            Err(CreditCodeError::CheckCharacter('6'))
        );
        assert!(!is_valid_credit_code("91440300192203821张"));
    }
}
