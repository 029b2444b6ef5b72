//! SMS combined with the business's phone IVR (docs/ivr.md). Parley carries no voice: the IVR reports
//! its calls (`call`), and Parley carries the SMS half of each service the seed platform names
//! (`services`: wait-time SMS, SMS during a call, pre-session deflection), deciding when a caller is
//! offered to move to SMS (`deflection`).

pub mod call;
pub mod deflection;
pub mod services;
pub mod wait;
