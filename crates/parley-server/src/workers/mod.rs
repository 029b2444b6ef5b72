//! Background workers. Each claims its work from the database, so any number of nodes may run them.

pub mod media;
pub mod outbox;
pub mod retention;
pub mod throttle;
pub mod timers;
