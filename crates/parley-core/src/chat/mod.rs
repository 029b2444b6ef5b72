//! The chat state machine: one pure function, [`decide`], that turns a chat's state and one input into
//! its next state and the effects to carry out (messages to send, consent changes, events to record).
//!
//! ```text
//! first contact ─► opt-in notice ─► selecting (menu) ─► queued ─► offered ─► connected ─► finished
//!                                   └─ one queue: straight to queued ─┘   └─ auto-answer ─┘
//! STOP / START / HELP work in every state; EXIT ends, BACK returns to the menu before connection.
//! connected ─► dismissed (quiet consumer, queues with dismissal) ─► queued (the consumer's next text, or a resume)
//! ```
//!
//! One idea a file: `model` (the chat kept between inputs), `input` and `outcome` (what goes into and
//! comes out of `decide`), `decide` (the consumer's texts and the dispatch of every input), and the
//! parts of a decision: `menu`, `queue`, `agent`, `outbound`, `consent`, `dismissal` (putting quiet chats aside and back), `tick` (timers firing),
//! `timers` (the deadlines a live chat runs against, which `tick` fires), `direct` (numbers nobody
//! reads, and agents' direct numbers), and `call` (a voice call's SMS thread).

mod agent;
mod call;
mod consent;
mod decide;
mod direct;
mod dismissal;
mod input;
mod menu;
mod model;
mod outbound;
mod outcome;
mod queue;
mod tick;
pub mod timers;

pub use decide::{Context, decide};
pub use input::{Actor, Input};
pub use menu::{FirstTexts, first_texts, menu_text};
pub use model::{
    Chat, ChatStatus, Consent, ConsentChange, EndReason, Origin, StartType, Transfer, TransferFailure, TransferTarget,
};
pub use outcome::{Author, ChatEvent, Decision, DismissReason, Effect, Outcome, Purpose, Refusal};
