//! Properties: every codec round-trips, and split → join (or split → reassemble) gives back the text,
//! with no part over its limit and no pair cut between parts.

use parley_core::text::reassembly::Reassembly;
use parley_core::text::segment::{self, Encoding};
use parley_core::text::{gsm7, ucs2};
use parley_core::time::Timestamp;
use proptest::prelude::*;
use proptest::sample::select;

use super::{extension_chars, gsm_chars};

/// GSM-7 texts from empty to about four parts, rich in extension characters so that escape pairs land
/// on part boundaries.
fn gsm_text() -> impl Strategy<Value = String> {
    let any_gsm = select(gsm_chars());
    let extension = select(extension_chars());
    prop::collection::vec(prop_oneof![3 => any_gsm, 1 => extension], 0..700).prop_map(String::from_iter)
}

/// Any Unicode text, rich in emoji (surrogate pairs) and with GSM-7 characters mixed in.
fn unicode_text() -> impl Strategy<Value = String> {
    let emoji = select(vec!['😀', '👍', '🇺', '🇸', '\u{1F9D1}', '\u{10FFFF}']);
    let char = prop_oneof![2 => any::<char>(), 2 => emoji, 1 => select(gsm_chars()), 1 => Just('á')];
    prop::collection::vec(char, 0..400).prop_map(String::from_iter)
}

/// Septet values, as a packer sees them.
fn septets() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(0u8..0x80, 0..400)
}

/// Header lengths before packed septets: none, the 8-bit and 16-bit concatenation headers, others.
fn udh_octets() -> impl Strategy<Value = usize> {
    prop_oneof![Just(0), Just(6), Just(7), 0usize..40]
}

/// Splits `text` and checks everything a carrier relies on; returns the parts.
fn check_split(text: &str) -> Vec<segment::Part> {
    let info = segment::count(text);
    let parts = segment::split(text).unwrap();
    let total = parts.len();
    assert_eq!(total, info.segments);
    assert_eq!(info.encoding, segment::encoding_for(text));
    assert_eq!(total == 1, info.units <= info.encoding.single_limit());
    assert_eq!(parts.iter().map(|p| p.units).sum::<usize>(), info.units);

    let mut joined = Vec::new();
    let mut each = String::new();
    for (index, part) in parts.iter().enumerate() {
        assert_eq!(part.encoding, info.encoding);
        assert_eq!((usize::from(part.seq), usize::from(part.total)), (index + 1, total));
        assert!(part.units <= info.per_segment_limit, "part {} has {} units", part.seq, part.units);
        match part.encoding {
            Encoding::Gsm7 => {
                assert_eq!(part.payload.len(), part.units);
                assert_ne!(part.payload.last(), Some(&gsm7::ESC), "part {} ends with an escape", part.seq);
            }
            Encoding::Ucs2 => {
                assert_eq!(part.payload.len(), 2 * part.units);
                let units: Vec<u16> = part.payload.chunks(2).map(|b| u16::from_be_bytes([b[0], b[1]])).collect();
                let low = |u: &u16| (0xDC00..0xE000).contains(u);
                let high = |u: &u16| (0xD800..0xDC00).contains(u);
                assert!(!units.first().is_some_and(low), "part {} starts with a low surrogate", part.seq);
                assert!(!units.last().is_some_and(high), "part {} ends with a high surrogate", part.seq);
            }
        }
        // Greedy: a part other than the last is full, or one short because a pair moved on.
        if index + 1 < total {
            assert!(part.units + 1 >= info.per_segment_limit, "part {} holds only {}", part.seq, part.units);
        }
        joined.extend_from_slice(&part.payload);
        each.push_str(&part.encoding.decode(&part.payload).unwrap());
    }
    assert_eq!(info.encoding.decode(&joined).unwrap(), text);
    assert_eq!(each, text, "every part decodes on its own");
    parts
}

proptest! {
    #[test]
    fn gsm7_round_trips(text in gsm_text()) {
        let septets = gsm7::encode_unpacked(&text).unwrap();
        let cost: usize = text.chars().map(|c| usize::from(gsm7::septets(c).unwrap())).sum();
        prop_assert_eq!(septets.len(), cost);
        prop_assert_eq!(gsm7::decode_unpacked(&septets).unwrap(), text);
    }

    #[test]
    fn gsm7_encodes_exactly_the_texts_it_can(text in unicode_text()) {
        let encoded = gsm7::encode_unpacked(&text);
        prop_assert_eq!(encoded.is_some(), segment::encoding_for(&text) == Encoding::Gsm7);
        if let Some(septets) = encoded {
            prop_assert_eq!(gsm7::decode_unpacked(&septets).unwrap(), text);
        }
    }

    #[test]
    fn ucs2_round_trips(text in unicode_text()) {
        let bytes = ucs2::encode(&text);
        prop_assert_eq!(bytes.len(), 2 * text.encode_utf16().count());
        prop_assert_eq!(ucs2::decode(&bytes).unwrap(), text);
    }

    #[test]
    fn pack_round_trips(septets in septets(), udh in udh_octets()) {
        let packed = gsm7::pack(&septets, udh).unwrap();
        prop_assert_eq!(packed.len(), (gsm7::fill_bits(udh) + 7 * septets.len()).div_ceil(8));
        prop_assert_eq!(gsm7::unpack(&packed, udh, septets.len()).unwrap(), septets);
    }

    #[test]
    fn decoding_any_septets_fails_only_on_a_cut_escape(septets in septets()) {
        // Escapes pair up from the start; only an unpaired one at the very end is an error.
        let mut escape_open = false;
        for &s in &septets {
            escape_open = !escape_open && s == gsm7::ESC;
        }
        let decoded = gsm7::decode_unpacked(&septets);
        prop_assert_eq!(decoded.is_err(), escape_open, "{:?}", decoded);
    }

    #[test]
    fn gsm7_texts_split_and_join(text in gsm_text()) {
        check_split(&text);
    }

    #[test]
    fn any_text_splits_and_joins(text in unicode_text()) {
        check_split(&text);
    }

    #[test]
    fn split_parts_reassemble_in_any_order(
        text in prop_oneof![gsm_text(), unicode_text()],
        order in Just((0..64usize).collect::<Vec<_>>()).prop_shuffle(),
        reference in any::<u8>(),
    ) {
        let parts = check_split(&text);
        prop_assert!(parts.len() <= order.len());
        // Every part arrives, in a shuffled order, and some arrive twice before the last one does.
        let mut arrivals: Vec<&segment::Part> = order.iter().filter(|&&i| i < parts.len()).map(|&i| &parts[i]).collect();
        let last = arrivals.pop().unwrap();
        let again: Vec<&segment::Part> = arrivals.iter().step_by(2).copied().collect();
        arrivals.extend(again);
        arrivals.push(last);
        let mut buffer = Reassembly::new();
        let mut whole = None;
        for (at, part) in (0i64..).zip(arrivals) {
            // The header a carrier would send, read back the way an inbound part is.
            let concat = match part.udh(reference) {
                Some(udh) => segment::parse_udh(&udh).unwrap().concat.unwrap(),
                None => segment::Concat::new(u16::from(reference), 1, 1).unwrap(),
            };
            if let Some(text) = buffer.feed("+15550100", concat, part.encoding, &part.payload, Timestamp(at)).unwrap() {
                prop_assert!(whole.is_none(), "completed twice");
                whole = Some(text);
            }
        }
        prop_assert_eq!(whole, Some(text));
    }
}
