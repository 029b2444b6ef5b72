//! Scopes: what an API key that is not a role's whole reach may do.
//!
//! A key either has a role's whole reach (the admin and agent tokens, as before scopes existed) or a
//! list of scopes. The scope an operation needs is written once, in its OpenAPI annotation
//! (`security(("bearer" = ["sms:send"]))`; several requirements are alternatives). The [`Gate`] is
//! built from the served document itself, so what the document says and what the server enforces
//! cannot part. An operation whose requirements name no scope (`("bearer" = [])`) is for role tokens
//! and console sessions only: no scope grants it (minting keys, users, erasure, the audit log, an
//! agent's own status). A route the document does not know is refused to scoped keys too.
//!
//! After the gate, a scoped key acts with its role's reach: an admin key sees every queue, an agent
//! key that agent's queues. The handlers' role checks apply as for any token.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use axum::http::Method;
use utoipa::openapi::OpenApi;
use utoipa::openapi::path::Operation;

/// One scope. Stored and served by [`Scope::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Send SMS through the outbound API and the Twilio-compatible Messages API.
    SmsSend,
    /// Read chats, transcripts, events, media, predefined replies.
    ChatsRead,
    /// Act in chats: accept, write, transfer, end, dismiss, notes.
    ChatsWrite,
    /// Read the setup, numbers, the blocklist and queue settings.
    SetupRead,
    /// Change the setup, number states and the blocklist.
    SetupWrite,
    /// Record consent (opt-in, opt-out) for a phone.
    ConsentWrite,
    /// Manage the event webhooks.
    WebhooksManage,
    /// Read contacts (the CRM).
    ContactsRead,
    /// Change contacts.
    ContactsWrite,
    /// Read reports and live statistics.
    ReportsRead,
    /// The IVR integration.
    Ivr,
}

impl Scope {
    /// Every scope, in the order the documentation lists them.
    pub const ALL: [Scope; 11] = [
        Scope::SmsSend,
        Scope::ChatsRead,
        Scope::ChatsWrite,
        Scope::SetupRead,
        Scope::SetupWrite,
        Scope::ConsentWrite,
        Scope::WebhooksManage,
        Scope::ContactsRead,
        Scope::ContactsWrite,
        Scope::ReportsRead,
        Scope::Ivr,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::SmsSend => "sms:send",
            Scope::ChatsRead => "chats:read",
            Scope::ChatsWrite => "chats:write",
            Scope::SetupRead => "setup:read",
            Scope::SetupWrite => "setup:write",
            Scope::ConsentWrite => "consent:write",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::ContactsRead => "contacts:read",
            Scope::ContactsWrite => "contacts:write",
            Scope::ReportsRead => "reports:read",
            Scope::Ivr => "ivr",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The known scopes as a comma-separated list, for error messages.
    pub fn known() -> String {
        Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The security schemes a key authenticates with; a requirement of another scheme (the console's
/// session) says nothing about keys.
const KEY_SCHEMES: [&str; 2] = ["bearer", "basic"];

/// What an operation asks of a scoped key: alternatives, each a set of scopes that must all be held.
/// Empty: no scope grants it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs(pub Vec<Vec<Scope>>);

impl Needs {
    /// Whether a key with `held` may call the operation.
    pub fn allow(&self, held: &[Scope]) -> bool {
        self.0.iter().any(|alternative| alternative.iter().all(|s| held.contains(s)))
    }

    /// How the refusal names what is needed: "sms:send", "chats:write or sms:send".
    pub fn describe(&self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        Some(
            self.0
                .iter()
                .map(|alt| alt.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" and "))
                .collect::<Vec<_>>()
                .join(" or "),
        )
    }
}

/// The scopes an operation's `security` requirements name, as [`Needs`].
pub fn needs_of(op: &Operation) -> Needs {
    let mut needs = Vec::new();
    for requirement in op.security.iter().flatten() {
        let value = serde_json::to_value(requirement).unwrap_or_default();
        let Some(schemes) = value.as_object() else { continue };
        for (scheme, scopes) in schemes {
            if !KEY_SCHEMES.contains(&scheme.as_str()) {
                continue;
            }
            let scopes: Vec<Scope> =
                scopes.as_array().into_iter().flatten().filter_map(|s| s.as_str().and_then(Scope::parse)).collect();
            if !scopes.is_empty() && !needs.contains(&scopes) {
                needs.push(scopes);
            }
        }
    }
    Needs(needs)
}

/// Every operation's [`Needs`], by method and path template (`/api/v1/chats/{id}`, as axum matches it).
#[derive(Debug, Default)]
pub struct Gate {
    routes: HashMap<(Method, String), Needs>,
}

impl Gate {
    /// The gate of a document.
    pub fn of(doc: &OpenApi) -> Gate {
        let mut routes = HashMap::new();
        for (path, item) in &doc.paths.paths {
            let operations = [
                (Method::GET, &item.get),
                (Method::PUT, &item.put),
                (Method::POST, &item.post),
                (Method::DELETE, &item.delete),
                (Method::PATCH, &item.patch),
            ];
            for (method, op) in operations {
                if let Some(op) = op {
                    routes.insert((method, path.clone()), needs_of(op));
                }
            }
        }
        Gate { routes }
    }

    /// The gate of the document this server serves (built once).
    pub fn served() -> &'static Gate {
        static GATE: OnceLock<Gate> = OnceLock::new();
        GATE.get_or_init(|| Gate::of(&crate::http::openapi_document(true)))
    }

    /// What the operation at `method` and `path` (a route template) asks of a scoped key; `None` when
    /// the document has no such operation.
    pub fn needs(&self, method: &Method, path: &str) -> Option<&Needs> {
        // HEAD is answered by the GET route.
        let method = if method == Method::HEAD { &Method::GET } else { method };
        self.routes.get(&(method.clone(), path.to_owned()))
    }
}

/// The requests that send (or create) a message: each key's rate limit counts them.
pub const SENDING: [(&str, &str); 7] = [
    ("POST", "/api/v1/outbound/chats"),
    ("POST", "/api/v1/outbound/messages"),
    ("POST", "/api/v1/chats/{id}/messages"),
    ("POST", "/api/v1/chats/{id}/replies/{reply_id}"),
    ("POST", "/api/v1/messages/{id}/resend"),
    ("POST", "/api/v1/media"),
    ("POST", "/2010-04-01/Accounts/{AccountSid}/Messages.json"),
];

/// Whether a request to the route `path` with `method` is one of [`SENDING`].
pub fn is_sending(method: &Method, path: &str) -> bool {
    SENDING.iter().any(|(m, p)| method.as_str() == *m && *p == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_unknown_names_are_refused() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("sms:write"), None);
        assert!(Scope::known().starts_with("sms:send, chats:read"));
    }

    #[test]
    fn a_key_needs_every_scope_of_one_alternative() {
        let needs = Needs(vec![vec![Scope::ChatsWrite], vec![Scope::SmsSend, Scope::ChatsRead]]);
        assert!(needs.allow(&[Scope::ChatsWrite]));
        assert!(needs.allow(&[Scope::ChatsRead, Scope::SmsSend]));
        assert!(!needs.allow(&[Scope::SmsSend]), "half of an alternative is not enough");
        assert!(!Needs::default().allow(&Scope::ALL), "no scope grants a role-only operation");
        assert_eq!(needs.describe().unwrap(), "chats:write or sms:send and chats:read");
    }

    #[test]
    fn every_operation_of_the_served_document_is_in_the_gate_with_the_scopes_it_names() {
        let gate = Gate::served();
        let send = gate.needs(&Method::POST, "/api/v1/outbound/messages").unwrap();
        assert_eq!(send, &Needs(vec![vec![Scope::SmsSend]]));
        let tokens = gate.needs(&Method::POST, "/api/v1/tokens").unwrap();
        assert_eq!(tokens, &Needs::default(), "minting keys is for admins only");
        assert_eq!(gate.needs(&Method::HEAD, "/api/v1/chats"), gate.needs(&Method::GET, "/api/v1/chats"));
        assert!(gate.needs(&Method::GET, "/api/v1/nothing").is_none());
    }
}
