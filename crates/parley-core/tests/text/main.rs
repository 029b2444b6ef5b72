#![allow(clippy::unwrap_used, clippy::expect_used)]
//! SMS text, from the outside: the segment table checked with Twilio's calculator, property round trips
//! of every codec and of split → reassemble, and our GSM-7 tables cross-checked with Perl's
//! `Encode::GSM0338`.

mod perl;
mod round_trips;
mod twilio_table;

use parley_core::text::gsm7;

/// Every character GSM-7 carries, default table first, as `septets` reports them. Both tables lie in
/// the Basic Multilingual Plane.
fn gsm_chars() -> Vec<char> {
    (0..=0xFFFF).filter_map(char::from_u32).filter(|&c| gsm7::septets(c).is_some()).collect()
}

/// The characters of the extension table, which cost two septets.
fn extension_chars() -> Vec<char> {
    gsm_chars().into_iter().filter(|&c| gsm7::septets(c) == Some(2)).collect()
}
