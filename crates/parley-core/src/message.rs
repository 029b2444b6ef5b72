//! Message bodies: what the edge accepts before a text reaches a chat.

/// The longest body we accept, in characters (Twilio's limit; about ten concatenated segments).
pub const MAX_BODY_CHARS: usize = 1600;

/// Why a message body is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the message is empty: send a body or at least one media item")]
    Empty,
    #[error("the message has {0} characters; the limit is 1600")]
    TooLong(usize),
}

/// Checks a body: at most [`MAX_BODY_CHARS`] characters, and not blank unless media come with it.
pub fn check_body(body: &str, media: usize) -> Result<(), BodyError> {
    let chars = body.chars().count();
    if chars > MAX_BODY_CHARS {
        return Err(BodyError::TooLong(chars));
    }
    if body.trim().is_empty() && media == 0 {
        return Err(BodyError::Empty);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(check_body("", 0), Err(BodyError::Empty));
        assert_eq!(check_body("  ", 0), Err(BodyError::Empty));
        assert_eq!(check_body("", 1), Ok(()));
        assert_eq!(check_body(&"a".repeat(1600), 0), Ok(()));
        assert_eq!(check_body(&"é".repeat(1601), 0), Err(BodyError::TooLong(1601)));
    }
}
