//! Any webhook body: parsing and signature checks never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_carriers::twilio::{signature, webhook};

fuzz_target!(|data: &[u8]| {
    let _ = webhook::parse_inbound("tw", data);
    let _ = webhook::parse_status("tw", data);
    let _ = signature::verify_form("token", "https://parley.example.com/webhooks/twilio/tw", data, "AAAA");
});
