//! The built-in CRM (docs/crm.md): contacts, how a chat comes to be linked to one, and what changes a
//! contact went through. The words here are the event log's (`contact.linked`, `contact.changed`), so
//! the console, webhooks and CRM connectors read one vocabulary.

pub mod contact;
pub mod csv;
pub mod fields;
pub mod matching;
pub mod record;

/// How a chat came to be linked to its contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactLink {
    /// Exactly one contact has the chat's phone: it was linked when the chat connected.
    Matched,
    /// No contact had the chat's phone: a new one was created for it.
    Created,
    /// Several contacts had the phone; the agent picked this one.
    Picked,
    /// Several contacts had the phone; the agent created a new one instead.
    CreatedByAgent,
    /// The agent linked a contact that does not have the chat's phone.
    Manual,
}

impl ContactLink {
    pub const ALL: [ContactLink; 5] = [
        ContactLink::Matched,
        ContactLink::Created,
        ContactLink::Picked,
        ContactLink::CreatedByAgent,
        ContactLink::Manual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContactLink::Matched => "matched",
            ContactLink::Created => "created",
            ContactLink::Picked => "picked",
            ContactLink::CreatedByAgent => "created_by_agent",
            ContactLink::Manual => "manual",
        }
    }

    pub fn parse(text: &str) -> Option<ContactLink> {
        ContactLink::ALL.into_iter().find(|l| l.as_str() == text)
    }
}

/// What happened to a contact, outside erasure (which is `contact.erased`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactChange {
    Created,
    Updated,
    /// Its phones, tags, notes and chats moved to `into`, and it was deleted.
    Merged {
        into: String,
    },
    Deleted,
}

impl ContactChange {
    pub fn as_str(&self) -> &'static str {
        match self {
            ContactChange::Created => "created",
            ContactChange::Updated => "updated",
            ContactChange::Merged { .. } => "merged",
            ContactChange::Deleted => "deleted",
        }
    }
}
