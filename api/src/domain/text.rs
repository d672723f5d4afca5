//! Free text as the register accepts it: trimmed, bounded, and named by the
//! field it came in when it is refused; the personal numbers (ID, phone, bank
//! card) that free text read by others may not carry.

use std::ops::Range;

use chrono::{Datelike, NaiveDate};

use crate::error::{ApiError, ApiResult};

/// Longest accepted search prefix, in characters.
const MAX_SEARCH_CHARS: usize = 64;

/// A trimmed, non-empty search prefix of bounded length.
pub fn search_prefix<'a>(text: &'a str, field: &str) -> ApiResult<&'a str> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::bad_input(field, "the search text is empty"));
    }
    if text.chars().count() > MAX_SEARCH_CHARS {
        return Err(ApiError::bad_input(
            field,
            format!("the search text may be at most {MAX_SEARCH_CHARS} characters"),
        ));
    }
    Ok(text)
}

/// A trimmed text that must not be empty and has at most `max_chars` characters.
pub fn required_text(text: &str, field: &str, max_chars: usize) -> ApiResult<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::bad_input(
            field,
            format!("`{field}` may not be empty"),
        ));
    }
    bounded_text(text, field, max_chars)
}

/// A trimmed optional text of at most `max_chars` characters; blank is none.
pub fn optional_text(
    text: Option<&str>,
    field: &str,
    max_chars: usize,
) -> ApiResult<Option<String>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => bounded_text(text, field, max_chars).map(Some),
        None => Ok(None),
    }
}

fn bounded_text(text: &str, field: &str, max_chars: usize) -> ApiResult<String> {
    if text.chars().count() > max_chars {
        return Err(ApiError::bad_input(
            field,
            format!("`{field}` may be at most {max_chars} characters"),
        ));
    }
    Ok(text.to_owned())
}

/// A contact phone: 7 to 20 characters of digits and hyphens; blank is none.
pub fn phone(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let digits = value.chars().filter(char::is_ascii_digit).count();
    if !(7..=20).contains(&value.len())
        || digits < 7
        || !value.chars().all(|c| c.is_ascii_digit() || c == '-')
    {
        return Err(ApiError::bad_input(
            field,
            "a phone number is 7 to 20 digits, with hyphens allowed",
        ));
    }
    Ok(Some(value.to_owned()))
}

/// A kind of personal number found in free text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    /// 18 characters (17 digits and a digit or X) or the old 15 digits, with a birth date inside.
    IdNumber,
    /// A mobile number (1[3-9] and 9 digits, `+86` allowed) or a landline with its area code.
    Phone,
    /// 16 to 19 digits, grouped or not.
    BankCard,
    /// Any other unbroken run of 11 or more digits: an account, a card, a number of a person.
    LongNumber,
}

impl NumberKind {
    /// What the number is, as a refusal names it.
    pub fn description(self) -> &'static str {
        match self {
            NumberKind::IdNumber => "an ID number (身份证号)",
            NumberKind::Phone => "a phone number (电话号码)",
            NumberKind::BankCard => "a bank card number (银行卡号)",
            NumberKind::LongNumber => "a long number such as an account number (账号)",
        }
    }
}

/// A personal number in a text: its kind, and the character positions of its
/// digits (and an ID number's check X), so that a mask can hide them in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundNumber {
    pub kind: NumberKind,
    pub positions: Vec<usize>,
}

/// What joins two runs of digits into one number: `6222 0210`, `0851-1234567`.
const SEPARATORS: [char; 4] = [' ', '-', '\u{3000}', '－'];
/// Runs shorter than this are never joined, so that dates (`2020-03-15`) and
/// counts (`3 户 5 人`) stay apart, while numbers written in groups of three
/// or more (`138 1234 5678`) are read whole.
const MIN_JOINED_RUN: usize = 3;

/// The ID, phone and bank card numbers in `text`, in order. Amounts, dates,
/// years and counts are not numbers of a person: `2019年收入 3500 元`,
/// `2020-03-15` and `5 户` hold none.
pub fn personal_numbers(text: &str) -> Vec<FoundNumber> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut group: Vec<Range<usize>> = Vec::new();
    for run in digit_runs(&chars) {
        let joins = group.last().is_some_and(|last| {
            run.start == last.end + 1
                && SEPARATORS.contains(&chars[last.end])
                && last.len() >= MIN_JOINED_RUN
                && run.len() >= MIN_JOINED_RUN
        });
        if !joins {
            found.extend(classify(&chars, &group));
            group.clear();
        }
        group.push(run);
    }
    found.extend(classify(&chars, &group));
    found
}

/// Why `text` may not be kept as the free text `field`, if it holds a
/// personal number: the field and the kind of number, never the number.
pub fn personal_number_refusal(field: &str, text: &str) -> Option<String> {
    personal_numbers(text).first().map(|number| {
        format!(
            "`{field}` is read by others and may not hold {}: leave the number out",
            number.kind.description()
        )
    })
}

/// Refuses a text that holds a personal number (see [`personal_number_refusal`]).
pub fn refuse_personal_numbers(field: &str, text: &str) -> ApiResult<()> {
    match personal_number_refusal(field, text) {
        Some(refusal) => Err(ApiError::bad_input(field, refusal)),
        None => Ok(()),
    }
}

/// Free text that other roles or the public read: trimmed, not empty, at most
/// `max_chars` characters, and without a personal number.
pub fn free_text(field: &str, text: &str, max_chars: usize) -> ApiResult<String> {
    let text = required_text(text, field, max_chars)?;
    refuse_personal_numbers(field, &text)?;
    Ok(text)
}

/// Optional free text, as [`free_text`]; blank is none.
pub fn optional_free_text(
    field: &str,
    text: Option<&str>,
    max_chars: usize,
) -> ApiResult<Option<String>> {
    let text = optional_text(text, field, max_chars)?;
    if let Some(text) = &text {
        refuse_personal_numbers(field, text)?;
    }
    Ok(text)
}

fn digit(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        // Full-width digits, as Chinese input methods type them.
        '０'..='９' => char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')),
        _ => None,
    }
}

fn digit_runs(chars: &[char]) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && digit(chars[i]).is_some() {
            i += 1;
        }
        if i > start {
            runs.push(start..i);
        } else {
            i += 1;
        }
    }
    runs
}

fn classify(chars: &[char], group: &[Range<usize>]) -> Option<FoundNumber> {
    let mut positions: Vec<usize> = group.iter().flat_map(Clone::clone).collect();
    let digits: String = positions.iter().filter_map(|&i| digit(chars[i])).collect();
    let after = group.last().map(|run| run.end)?;
    let check_x = chars
        .get(after)
        .is_some_and(|c| matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ'));
    let n = digits.len();
    let kind = if n == 17 && check_x {
        positions.push(after);
        NumberKind::IdNumber
    } else if (n == 18 && is_date(&digits[6..14]))
        || (n == 15 && is_date(&format!("19{}", &digits[6..12])))
    {
        NumberKind::IdNumber
    } else if (16..=19).contains(&n) {
        NumberKind::BankCard
    } else if is_mobile(&digits)
        || digits.strip_prefix("86").is_some_and(is_mobile)
        || (digits.starts_with('0') && (10..=12).contains(&n))
    {
        NumberKind::Phone
    } else if group.len() == 1 && n >= 11 {
        NumberKind::LongNumber
    } else {
        return None;
    };
    Some(FoundNumber { kind, positions })
}

fn is_mobile(digits: &str) -> bool {
    let bytes = digits.as_bytes();
    bytes.len() == 11 && bytes[0] == b'1' && (b'3'..=b'9').contains(&bytes[1])
}

fn is_date(yyyymmdd: &str) -> bool {
    NaiveDate::parse_from_str(yyyymmdd, "%Y%m%d").is_ok_and(|d| d.year() >= 1900)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<NumberKind> {
        personal_numbers(text).into_iter().map(|n| n.kind).collect()
    }

    #[test]
    fn id_numbers_old_and_new_are_found() {
        assert_eq!(
            kinds("身份证号520102198001011234。"),
            [NumberKind::IdNumber]
        );
        assert_eq!(kinds("证件 52010219800101123X"), [NumberKind::IdNumber]);
        assert_eq!(kinds("520102 19800101 1234"), [NumberKind::IdNumber]);
        assert_eq!(kinds("老证 520102800101123"), [NumberKind::IdNumber]);
    }

    #[test]
    fn phones_with_or_without_groups_are_found() {
        assert_eq!(kinds("电话13812345678"), [NumberKind::Phone]);
        assert_eq!(kinds("138 1234 5678"), [NumberKind::Phone]);
        assert_eq!(kinds("+86 138-1234-5678"), [NumberKind::Phone]);
        assert_eq!(kinds("座机0851-1234567"), [NumberKind::Phone]);
        assert_eq!(kinds("１３８１２３４５６７８"), [NumberKind::Phone]);
    }

    #[test]
    fn bank_cards_are_found_however_they_are_grouped() {
        assert_eq!(
            kinds("卡号 6222 0210 0112 3456 789"),
            [NumberKind::BankCard]
        );
        assert_eq!(kinds("6222-0210-0112-3456"), [NumberKind::BankCard]);
        assert_eq!(kinds("6222021001123456789"), [NumberKind::BankCard]);
        assert_eq!(kinds("账号 622202100112"), [NumberKind::LongNumber]);
    }

    #[test]
    fn amounts_dates_years_and_counts_are_not_numbers_of_a_person() {
        for text in [
            "2019年收入 3500 元",
            "2020-03-15",
            "5 户",
            "2019-2020 年度，3 户 12 人，补助 1500.00 元",
            "2020-03-15 至 2020-04-15",
            "2020-03-15 2020-04-15",
            "第 3 组 15 号",
        ] {
            assert_eq!(kinds(text), [], "{text}");
        }
    }

    #[test]
    fn a_refusal_names_the_field_and_the_kind_but_not_the_number() {
        let refused = free_text("note", " 卡号 6222 0210 0112 3456 789 ", 100);
        let Err(ApiError::BadUserInput { field, message }) = refused else {
            panic!("refused: {refused:?}");
        };
        assert_eq!(field.as_deref(), Some("note"));
        assert!(message.contains("bank card"), "{message}");
        assert!(!message.contains("6222"), "{message}");
        assert_eq!(
            free_text("note", " 2019年收入 3500 元 ", 100)
                .ok()
                .as_deref(),
            Some("2019年收入 3500 元")
        );
    }
}
