//! SMS text: how a message body becomes what a carrier sends, and how inbound parts become a body again.
//!
//! - [`gsm7`]: the GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1), unpacked
//!   (one septet a byte, as SMPP data_coding 0 carries it) and packed (as some SMSCs and the air interface
//!   carry it).
//! - [`ucs2`]: UTF-16BE, which SMPP data_coding 8 carries (nominally UCS-2, but emoji need surrogate pairs).
//! - [`segment`]: which encoding a text needs, how many segments it costs, how it splits into parts, and
//!   the concatenation header (UDH) that numbers them.
//! - [`reassembly`]: inbound parts collected until the whole text has arrived.
//!
//! Everything here is pure: the reassembly buffer takes the time as a parameter and never reads a clock.

pub mod gsm7;
pub mod reassembly;
pub mod segment;
pub mod ucs2;
