//! Check characters of Chinese identity codes: resident ID numbers (GB 11643)
//! and unified social credit codes (GB 32100).

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
    code.len() == 18 && credit_code(&code[..17]).as_deref() == Some(code)
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
    fn known_credit_codes_check_out() {
        // Published codes of two Shenzhen companies.
        assert!(is_valid_credit_code("9144030071526726XG"));
        assert!(is_valid_credit_code("914403001922038216"));
        assert!(!is_valid_credit_code("914403001922038217"));
        assert!(credit_code("9352269IOA6DXXXX1").is_none());
    }
}
