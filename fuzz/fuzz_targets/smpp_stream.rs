//! Any byte stream from an SMSC: framing never panics, never loops, and every frame it finds parses or
//! is refused with a reason.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_carriers::smpp::pdu;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while !rest.is_empty() {
        match pdu::check(rest) {
            Ok(len) => {
                assert!(len >= 16 && len <= rest.len(), "check returned {len} for {} bytes", rest.len());
                let _ = pdu::parse(&rest[..len]);
                rest = &rest[len..];
            }
            Err(_) => break,
        }
    }
});
