//! Free text as the register accepts it: trimmed, bounded, and named by the
//! field it came in when it is refused.

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
