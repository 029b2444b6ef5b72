//! Any user data a phone sends: headers and both encodings decode or fail cleanly; any text we send
//! splits into parts within their limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_core::text::{gsm7, segment, ucs2};

fuzz_target!(|data: &[u8]| {
    let _ = segment::parse_udh(data);
    let _ = gsm7::decode_unpacked(data);
    let _ = ucs2::decode(data);
    let _ = gsm7::unpack(data, 0, data.len() * 8 / 7);
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(parts) = segment::split(text)
    {
        let joined: String = parts.iter().map(|p| p.encoding.decode(&p.payload).unwrap_or_default()).collect();
        assert_eq!(joined, text);
    }
});
