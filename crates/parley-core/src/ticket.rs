//! What an integration attaches to a chat it starts through the outbound API: the id of its own ticket
//! (a case in a helpdesk, an order) and a few key-values of context for the agent.
//!
//! Both are the seed platform's (`ticket_id`, `context`) and are kept on the chat as given, for the
//! agent to read and for the integration to find its chat again: the ticket id is in the envelope of
//! every event of the chat, so a consumer of events needs no lookup table of chat ids. The limits keep
//! them what they are for (a reference and a short list an agent reads at a glance), not a store of
//! documents: [`MAX_TICKET_ID_CHARS`], [`MAX_CONTEXT_ENTRIES`], [`MAX_CONTEXT_KEY_CHARS`],
//! [`MAX_CONTEXT_VALUE_CHARS`].

/// The longest ticket id.
pub const MAX_TICKET_ID_CHARS: usize = 100;
/// The most context entries a chat keeps.
pub const MAX_CONTEXT_ENTRIES: usize = 20;
/// The longest context key.
pub const MAX_CONTEXT_KEY_CHARS: usize = 40;
/// The longest context value.
pub const MAX_CONTEXT_VALUE_CHARS: usize = 500;

/// The integration's reference of a chat: its ticket id (if any) and context entries, in the order
/// given. Empty for chats nobody attached anything to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ticket {
    pub id: Option<String>,
    pub context: Vec<(String, String)>,
}

/// Why a ticket id or context was refused, with the JSON Pointer of the value at fault (relative to
/// the request: `/ticket_id`, `/context`, `/context/<key>`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pointer}: {reason}")]
pub struct TicketProblem {
    pub pointer: String,
    pub reason: String,
}

impl Ticket {
    /// Checks a ticket id and context entries against the limits.
    pub fn parse(id: Option<&str>, context: Vec<(String, String)>) -> Result<Ticket, TicketProblem> {
        let problem = |pointer: String, reason: String| TicketProblem { pointer, reason };
        if let Some(id) = id {
            let chars = id.chars().count();
            if id.trim().is_empty() {
                return Err(problem("/ticket_id".to_owned(), "must not be empty (leave it out instead)".to_owned()));
            }
            if chars > MAX_TICKET_ID_CHARS {
                let reason = format!("has {chars} characters; the limit is {MAX_TICKET_ID_CHARS}");
                return Err(problem("/ticket_id".to_owned(), reason));
            }
            if id.chars().any(char::is_control) {
                return Err(problem("/ticket_id".to_owned(), "must not contain control characters".to_owned()));
            }
        }
        if context.len() > MAX_CONTEXT_ENTRIES {
            let reason = format!("has {} entries; the limit is {MAX_CONTEXT_ENTRIES}", context.len());
            return Err(problem("/context".to_owned(), reason));
        }
        for (key, value) in &context {
            let pointer = format!("/context/{}", pointer_token(key));
            let key_chars = key.chars().count();
            if key.trim().is_empty() {
                return Err(problem(pointer, "a key must not be empty".to_owned()));
            }
            if key_chars > MAX_CONTEXT_KEY_CHARS {
                let reason = format!("the key has {key_chars} characters; the limit is {MAX_CONTEXT_KEY_CHARS}");
                return Err(problem(pointer, reason));
            }
            let value_chars = value.chars().count();
            if value_chars > MAX_CONTEXT_VALUE_CHARS {
                let reason = format!("the value has {value_chars} characters; the limit is {MAX_CONTEXT_VALUE_CHARS}");
                return Err(problem(pointer, reason));
            }
        }
        Ok(Ticket { id: id.map(str::to_owned), context })
    }

    /// Whether nothing is attached.
    pub fn is_empty(&self) -> bool {
        self.id.is_none() && self.context.is_empty()
    }
}

/// A key as one reference token of a JSON Pointer (RFC 6901: `~` is `~0`, `/` is `~1`).
fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn ticket_within_the_limits_is_kept_as_given() {
        let t = Ticket::parse(Some("T-1"), entries(&[("order", "42"), ("tier", "gold")])).unwrap();
        assert_eq!(t.id.as_deref(), Some("T-1"));
        assert_eq!(t.context, entries(&[("order", "42"), ("tier", "gold")]));
        assert!(Ticket::parse(None, vec![]).unwrap().is_empty());
    }

    #[test]
    fn each_limit_names_the_value_at_fault() {
        let long_id = "x".repeat(101);
        assert_eq!(Ticket::parse(Some(&long_id), vec![]).unwrap_err().pointer, "/ticket_id");
        assert_eq!(Ticket::parse(Some(" "), vec![]).unwrap_err().pointer, "/ticket_id");
        let many: Vec<(String, String)> = (0..21).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert_eq!(Ticket::parse(None, many).unwrap_err().pointer, "/context");
        let long_key = "k".repeat(41);
        let e = Ticket::parse(None, entries(&[(&long_key, "v")])).unwrap_err();
        assert_eq!(e.pointer, format!("/context/{long_key}"));
        let e = Ticket::parse(None, entries(&[("a/b~c", &"v".repeat(501))])).unwrap_err();
        assert_eq!(e.to_string(), "/context/a~1b~0c: the value has 501 characters; the limit is 500");
    }
}
