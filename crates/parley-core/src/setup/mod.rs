//! The contact-center setup: numbers, queues (the menu), agents and teams, and the deployment settings.
//!
//! A [`SetupDraft`] holds what an admin wrote (plain strings); [`Setup::validate`] checks it as a whole
//! and returns either a typed [`Setup`] or every problem found, each naming what is wrong.
//!
//! One idea per child, each re-exported here, so every name is `parley_core::setup::X`:
//! - `draft.rs`: the document as written ([`SetupDraft`] and its parts), and [`Setup::to_draft`].
//! - `settings.rs`: [`Settings`] and [`TimerSettings`], which draft and model share as written.
//! - `validate.rs`: [`Setup::validate`] and [`SetupError`], every check that spans the document.
//! - `model.rs`: the validated [`Setup`] and the questions asked of it.
//! - `tree.rs`: the settings tree: what a queue inherits from its parents and the deployment
//!   ([`Setup::queue_settings`]), the one place every inherited setting is resolved.
//! - `replies.rs`: predefined replies as the setup holds them: draft, validated form, validation.
//! - `blocklist.rs`: the phones the business does not serve: draft, the validated map, validation.
//! - `email.rs`: agents' e-mail addresses (plausible, unique ignoring case), as integrations name agents.
//! - `apps.rs`: the business's mobile apps, whose launch links `app_launch` replies send.
//! - `roles.rs`: what a number is for (its role, a direct agent, sessionless replies) and the checks
//!   that span numbers and agents.
//!
//! The setup depends on the leaf modules of its fields (ids, phone, hours, registration, texts,
//! commands, ...) and on nothing that depends on it: the chat, its timers and the use of replies read
//! the setup, never the other way round.

pub mod apps;
mod blocklist;
mod draft;
mod email;
pub mod ivr;
mod model;
mod replies;
mod roles;
mod settings;
#[cfg(test)]
mod tests;
mod tree;
mod validate;

pub use blocklist::{BlockDraft, Blocked, Blocklist, MAX_REASON_CHARS, reason_problem};
pub use draft::{
    AgentDraft, CampaignDraft, ContactFieldDraft, NumberDraft, QueueDraft, QueueTranslation, QuietHoursDraft,
    SetupDraft, TeamDraft,
};
pub use email::{MAX_EMAIL_CHARS, email_problem};
pub use model::{Agent, Campaign, ConsumerNumber, Number, NumberRegistration, Queue, Setup, Team, mask};
pub use replies::{APP_PLACEHOLDERS as REPLY_APP_PLACEHOLDERS, PLACEHOLDERS as REPLY_PLACEHOLDERS, Reply, ReplyDraft};
pub use roles::{
    DEFAULT_SESSIONLESS_WINDOW_HOURS, DirectNumbers, NumberRole, SESSIONLESS_WINDOW_HOURS, SessionlessReply,
};
pub use settings::{DismissalSettings, Language, LanguageDetection, PresenceSettings, Settings, TimerSettings};
pub use tree::{QueueSettings, Source, Sourced};
pub use validate::{MAX_CAPACITY, MAX_PER_DAY, MAX_PER_MINUTE, SetupError};
