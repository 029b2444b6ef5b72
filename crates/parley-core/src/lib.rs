//! Parley's domain core: pure types and decisions, no I/O, no clock, no randomness.
//!
//! - [`phone`]: E.164 phone numbers, parsed at the edge.
//! - [`ids`]: queue, agent, team and chat ids.
//! - [`keyword`]: carrier keywords (STOP, START, HELP) and the normalization all keywords share.
//! - [`number`]: number kinds (10DLC, toll-free, ...) and registration states.
//! - [`registration`]: 10DLC brands and campaigns, toll-free verification, checked field by field.
//! - [`setup`]: numbers, queues, agents, teams, settings and predefined replies, validated as a whole
//!   (drafts, validation and the model, one child module each); it reads no chat, timer or reply use.
//! - [`replies`]: using a predefined reply in a chat: who may send it, filling its placeholders.
//! - [`timers`] (in `chat/`): the deadlines a live chat runs against.
//! - [`texts`]: system messages and their placeholders.
//! - [`commands`]: SMS commands consumers steer their chat with (EXIT, MENU, LANG es, ...).
//! - [`hours`]: business hours of a queue.
//! - [`routing`]: which agent gets a waiting chat.
//! - [`chat`]: the chat state machine, [`chat::decide`].
//! - [`desk`]: the state a batch of inputs works on and the rules that span chats (the engine and the
//!   conversation scripts both drive it).
//! - [`event`]: the events recorded in the event log, one variant per kind.
//! - [`media`]: which files may be sent as MMS (type, size, signature bytes).
//! - [`message`]: message bodies and their limits; a stored message's direction and status.
//! - [`ticket`]: the ticket id and context an integration attaches to a chat it starts.
//! - [`text`]: SMS text: GSM-7 and UCS-2, segment counting and splitting, reassembly of inbound parts.

pub mod chat;
pub mod commands;
pub mod crm;
pub mod desk;
pub mod event;
pub mod ewt;
pub mod hours;
pub mod ids;
pub mod ivr;
pub mod keyword;
pub mod media;
pub mod message;
pub mod number;
pub mod phone;
pub mod quiet_hours;
pub mod registration;
pub mod replies;
pub mod report;
pub mod routing;
pub mod scheduled;
pub mod setup;
pub mod text;
pub mod texts;
pub mod ticket;
pub mod time;
/// The deadlines live in the chat module (they are part of a chat); this is their short path.
pub use chat::timers;
