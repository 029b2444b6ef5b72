//! Messages: what the edge accepts as a body before a text reaches a chat, and the words a stored
//! message is described in (its direction and status), each with its stored name in one place.

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

/// Which way a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the consumer.
    In,
    /// To the consumer, through the outbox.
    Out,
    /// An internal line of the transcript: agents read it, the consumer never gets it.
    Note,
}

impl Direction {
    const ALL: [Direction; 3] = [Direction::In, Direction::Out, Direction::Note];

    /// The direction as stored and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
            Direction::Note => "note",
        }
    }

    /// Parses a stored direction.
    pub fn parse(text: &str) -> Option<Direction> {
        Direction::ALL.into_iter().find(|d| d.as_str() == text)
    }
}

/// Where a message stands. An inbound message is received; a note is internal; an outbound one moves
/// scheduled/queued → sending → sent → delivered, or ends undelivered, failed, suppressed or (a
/// scheduled one, before it left) canceled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    /// An inbound message, stored.
    Received,
    /// A note of the transcript; never sent.
    Internal,
    /// Held until the end of the consumer's quiet hours.
    Scheduled,
    /// Waiting in the outbox.
    Queued,
    /// Claimed by a sender.
    Sending,
    /// Accepted by the carrier.
    Sent,
    /// On the phone.
    Delivered,
    /// The network gave up.
    Undelivered,
    /// Refused, or given up on by the outbox.
    Failed,
    /// Not sent: the consumer opted out.
    Suppressed,
    /// Not sent: canceled while it was scheduled.
    Canceled,
}

impl MessageStatus {
    /// Every status, in the order of [`MessageStatus::rank`] (ties in declaration order).
    pub const ALL: [MessageStatus; 11] = [
        MessageStatus::Received,
        MessageStatus::Internal,
        MessageStatus::Scheduled,
        MessageStatus::Queued,
        MessageStatus::Sending,
        MessageStatus::Sent,
        MessageStatus::Delivered,
        MessageStatus::Undelivered,
        MessageStatus::Failed,
        MessageStatus::Suppressed,
        MessageStatus::Canceled,
    ];

    /// The status as stored and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Received => "received",
            MessageStatus::Internal => "internal",
            MessageStatus::Scheduled => "scheduled",
            MessageStatus::Queued => "queued",
            MessageStatus::Sending => "sending",
            MessageStatus::Sent => "sent",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Undelivered => "undelivered",
            MessageStatus::Failed => "failed",
            MessageStatus::Suppressed => "suppressed",
            MessageStatus::Canceled => "canceled",
        }
    }

    /// Parses a stored status.
    pub fn parse(text: &str) -> Option<MessageStatus> {
        MessageStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// How far along an outbound message is: not sent yet 1, sent 2, final 3 (inbound and notes 0). A
    /// delivery status may only raise it, so late or repeated receipts never undo a later state.
    pub fn rank(self) -> i64 {
        match self {
            MessageStatus::Received | MessageStatus::Internal => 0,
            MessageStatus::Scheduled | MessageStatus::Queued | MessageStatus::Sending => 1,
            MessageStatus::Sent => 2,
            MessageStatus::Delivered
            | MessageStatus::Undelivered
            | MessageStatus::Failed
            | MessageStatus::Suppressed
            | MessageStatus::Canceled => 3,
        }
    }

    /// Whether an outbound message in this status may be sent again as a new attempt (`resend`): only
    /// one the carrier or the outbox gave up on. A message on its way or delivered is not resent, and
    /// one that was suppressed or canceled was not sent on purpose.
    pub fn resendable(self) -> bool {
        matches!(self, MessageStatus::Failed | MessageStatus::Undelivered)
    }
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

    #[test]
    fn stored_names_round_trip() {
        for d in Direction::ALL {
            assert_eq!(Direction::parse(d.as_str()), Some(d));
        }
        for s in MessageStatus::ALL {
            assert_eq!(MessageStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(MessageStatus::parse("Sent"), None);
        assert_eq!(MessageStatus::parse("canceled"), Some(MessageStatus::Canceled));
        assert_eq!(Direction::parse("mo"), None);
    }

    #[test]
    fn ranks_never_fall_along_all() {
        let ranks: Vec<i64> = MessageStatus::ALL.iter().map(|s| s.rank()).collect();
        assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
        assert!(MessageStatus::Sent.rank() < MessageStatus::Delivered.rank());
        assert_eq!(
            MessageStatus::Delivered.rank(),
            MessageStatus::Failed.rank(),
            "final states do not replace each other"
        );
    }

    #[test]
    fn only_given_up_messages_are_resendable() {
        let resendable: Vec<MessageStatus> = MessageStatus::ALL.into_iter().filter(|s| s.resendable()).collect();
        assert_eq!(resendable, vec![MessageStatus::Undelivered, MessageStatus::Failed]);
    }
}
