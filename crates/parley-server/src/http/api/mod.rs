//! The `/api/v1` resources, one file each.

pub mod audit;
pub mod blocklist;
pub mod chat_export;
pub mod chats;
pub mod contacts;
pub mod crm;
pub mod dismissal;
pub mod event_webhooks;
pub mod events;
pub mod me;
pub mod media;
pub mod messages;
pub mod monitor;
pub mod my_numbers;
pub mod notes;
pub mod numbers;
pub mod outbound;
pub mod phones;
pub mod queue_settings;
pub mod replies;
pub mod setup;
pub mod sms;
pub mod threads;
pub mod tokens;
pub mod transfers;
pub mod users;
