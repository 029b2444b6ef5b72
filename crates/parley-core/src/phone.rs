//! Phone numbers: consumers' phones are E.164 numbers, the only form in which they enter the core;
//! business numbers may also be short codes.

use std::fmt;

/// A phone number in canonical E.164 form: `+`, a country code that does not start with 0, and at most
/// fifteen digits in all.
///
/// Syntax only: we deliberately do not check numbering plans, because test and fictional ranges
/// (such as +1 555 01XX) must work, and carriers reject unassigned numbers themselves.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

/// Why a text is not an E.164 phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the phone number is empty")]
    Empty,
    #[error("\"{0}\" does not start with + and a country code (E.164, e.g. +14155550100)")]
    MissingPlus(String),
    #[error("\"{0}\" contains something other than digits after the + (E.164, e.g. +14155550100)")]
    NotDigits(String),
    #[error("\"{0}\" has a country code starting with 0")]
    CountryCodeZero(String),
    #[error("\"{0}\" is too short for an E.164 number (at least 8 digits)")]
    TooShort(String),
    #[error("\"{0}\" is too long for an E.164 number (at most 15 digits)")]
    TooLong(String),
}

impl E164 {
    /// Shortest number we accept: a country code plus a subscriber number of at least six digits.
    const MIN_DIGITS: usize = 8;
    const MAX_DIGITS: usize = 15;

    /// Parses a number written in E.164 form; surrounding whitespace is ignored, nothing else is.
    pub fn parse(text: &str) -> Result<E164, PhoneError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(PhoneError::Empty);
        }
        let Some(digits) = text.strip_prefix('+') else {
            return Err(PhoneError::MissingPlus(text.to_owned()));
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneError::NotDigits(text.to_owned()));
        }
        if digits.starts_with('0') {
            return Err(PhoneError::CountryCodeZero(text.to_owned()));
        }
        if digits.len() < Self::MIN_DIGITS {
            return Err(PhoneError::TooShort(text.to_owned()));
        }
        if digits.len() > Self::MAX_DIGITS {
            return Err(PhoneError::TooLong(text.to_owned()));
        }
        Ok(E164(text.to_owned()))
    }

    /// The canonical text, `+` and digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A business number as carriers address it: an E.164 number (long code or toll-free), or a short code
/// (3 to 8 digits, reachable only inside its country's networks).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BusinessNumber {
    Number(E164),
    ShortCode(String),
}

/// Why a text is not a business number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusinessNumberError {
    #[error("{0}")]
    Number(PhoneError),
    #[error("\"{0}\" is neither an E.164 number (+14155550100) nor a short code (3 to 8 digits, e.g. 24273)")]
    Neither(String),
}

impl BusinessNumber {
    const SHORT_CODE_DIGITS: std::ops::RangeInclusive<usize> = 3..=8;

    /// Parses `+` and digits as E.164, and 3 to 8 digits alone as a short code.
    pub fn parse(text: &str) -> Result<BusinessNumber, BusinessNumberError> {
        let text = text.trim();
        if text.starts_with('+') {
            return E164::parse(text).map(BusinessNumber::Number).map_err(BusinessNumberError::Number);
        }
        if Self::SHORT_CODE_DIGITS.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(BusinessNumber::ShortCode(text.to_owned()));
        }
        Err(BusinessNumberError::Neither(text.to_owned()))
    }

    /// The number as carriers and the API write it: `+14155550100` or `24273`.
    pub fn as_str(&self) -> &str {
        match self {
            BusinessNumber::Number(n) => n.as_str(),
            BusinessNumber::ShortCode(code) => code,
        }
    }

    pub fn is_short_code(&self) -> bool {
        matches!(self, BusinessNumber::ShortCode(_))
    }
}

impl From<E164> for BusinessNumber {
    fn from(number: E164) -> BusinessNumber {
        BusinessNumber::Number(number)
    }
}

impl fmt::Display for BusinessNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for BusinessNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_numbers_are_e164_numbers_or_short_codes() {
        assert_eq!(
            BusinessNumber::parse("+15550001000").unwrap(),
            BusinessNumber::Number(E164::parse("+15550001000").unwrap())
        );
        assert_eq!(BusinessNumber::parse(" 24273 ").unwrap(), BusinessNumber::ShortCode("24273".into()));
        assert!(BusinessNumber::parse("242").unwrap().is_short_code());
        assert!(matches!(BusinessNumber::parse("24"), Err(BusinessNumberError::Neither(_))));
        assert!(matches!(BusinessNumber::parse("123456789"), Err(BusinessNumberError::Neither(_))));
        assert!(matches!(BusinessNumber::parse("2427a"), Err(BusinessNumberError::Neither(_))));
        assert!(matches!(BusinessNumber::parse("+1234"), Err(BusinessNumberError::Number(PhoneError::TooShort(_)))));
    }

    #[test]
    fn accepts_canonical_numbers() {
        assert_eq!(E164::parse(" +14155550100 ").unwrap().as_str(), "+14155550100");
        assert_eq!(E164::parse("+4930123456").unwrap().as_str(), "+4930123456");
    }

    #[test]
    fn rejects_with_a_reason() {
        assert_eq!(E164::parse(""), Err(PhoneError::Empty));
        assert!(matches!(E164::parse("12345"), Err(PhoneError::MissingPlus(_))));
        assert!(matches!(E164::parse("+1 415 555 0100"), Err(PhoneError::NotDigits(_))));
        assert!(matches!(E164::parse("+"), Err(PhoneError::NotDigits(_))));
        assert!(matches!(E164::parse("+0123456789"), Err(PhoneError::CountryCodeZero(_))));
        assert!(matches!(E164::parse("+1234567"), Err(PhoneError::TooShort(_))));
        assert!(matches!(E164::parse("+1234567890123456"), Err(PhoneError::TooLong(_))));
    }
}
