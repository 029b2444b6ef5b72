//! Background workers. Each claims its work from the database, so any number of nodes may run them.

pub mod outbox;
pub mod throttle;
