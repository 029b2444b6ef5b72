//! Identifier newtypes, so that a queue id can never be passed where an agent id is meant.

use std::fmt;

/// Why a text is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a valid id: use 1 to 64 characters of a-z, 0-9, '-', '_' or '.'")]
pub struct IdError(pub String);

fn parse_slug(text: &str) -> Result<String, IdError> {
    let ok = !text.is_empty()
        && text.len() <= 64
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
    if ok { Ok(text.to_owned()) } else { Err(IdError(text.to_owned())) }
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses an id chosen by an admin (lower-case letters, digits, `-`, `_`, `.`).
            pub fn parse(text: &str) -> Result<Self, IdError> {
                parse_slug(text).map(Self)
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_id!(
    /// A queue, as named in the setup document.
    QueueId
);
slug_id!(
    /// An agent, as named in the setup document.
    AgentId
);
slug_id!(
    /// A team of agents, as named in the setup document.
    TeamId
);
slug_id!(
    /// A messaging campaign (a 10DLC registration, say) several numbers send under.
    CampaignId
);
slug_id!(
    /// A predefined reply agents send, as named in the setup document.
    ReplyId
);

/// A chat. Chat ids are minted outside the core (the engine passes a fresh one in), so the core
/// stays free of randomness.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChatId(String);

impl ChatId {
    /// Wraps an id minted by the engine or read back from the store.
    pub fn new(id: impl Into<String>) -> ChatId {
        ChatId(id.into())
    }

    /// Parses a chat id that came from outside (a URL path): the engine mints UUIDs, so anything but
    /// 1 to 64 characters of a-z, 0-9, '-', '_' or '.' names no chat.
    pub fn parse(text: &str) -> Result<ChatId, IdError> {
        parse_slug(text).map(ChatId)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_ids_from_outside_are_checked() {
        let minted = "0194403a-6f1e-7c52-9d0e-2b8f0a3c4d5e";
        assert_eq!(ChatId::parse(minted).map(|id| id.to_string()), Ok(minted.to_owned()));
        assert_eq!(ChatId::parse("chat-1"), Ok(ChatId::new("chat-1")));
        for bad in ["", "../x", "a b", "Chat", &"a".repeat(65)] {
            assert_eq!(ChatId::parse(bad), Err(IdError(bad.to_owned())), "{bad:?}");
        }
    }
}
