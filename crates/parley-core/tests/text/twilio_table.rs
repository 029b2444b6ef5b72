//! The segment counts of PROTOCOLS.md §3, verified there with Twilio's segment calculator.

use parley_core::text::segment::{self, Encoding};

#[test]
fn counts_like_twilios_calculator() {
    use Encoding::{Gsm7, Ucs2};
    // (what, text, encoding, units, segments)
    let table = [
        ("160×a", "a".repeat(160), Gsm7, 160, 1),
        ("161×a", "a".repeat(161), Gsm7, 161, 2),
        ("306×a", "a".repeat(306), Gsm7, 306, 2),
        ("307×a", "a".repeat(307), Gsm7, 307, 3),
        ("80×€", "€".repeat(80), Gsm7, 160, 1),
        ("159×a+€", format!("{}€", "a".repeat(159)), Gsm7, 161, 2),
        ("70×é", "é".repeat(70), Gsm7, 70, 1),
        ("70×ç", "ç".repeat(70), Ucs2, 70, 1),
        ("70×á", "á".repeat(70), Ucs2, 70, 1),
        ("71×á", "á".repeat(71), Ucs2, 71, 2),
        ("35×😀", "😀".repeat(35), Ucs2, 70, 1),
        ("36×😀", "😀".repeat(36), Ucs2, 72, 2),
        ("smart quotes", "Hello “smart” quotes".to_string(), Ucs2, 20, 1),
    ];
    for (what, text, encoding, units, segments) in table {
        let info = segment::count(&text);
        assert_eq!((info.encoding, info.units, info.segments), (encoding, units, segments), "{what}");
        assert_eq!(segment::encoding_for(&text), encoding, "{what}");
        let parts = segment::split(&text).unwrap();
        assert_eq!(parts.len(), segments, "{what}");
        assert!(parts.iter().all(|p| p.units <= info.per_segment_limit), "{what}");
    }
}

#[test]
fn kannel_sent_these_as_gsm7_and_ucs2() {
    // PROTOCOLS.md §3, "Observed on the wire": data_coding 0 and data_coding 8.
    assert_eq!(segment::encoding_for("Price 5€ [ok] {x}"), Encoding::Gsm7);
    assert_eq!(segment::encoding_for("Olá ça va? € ✓ 😀"), Encoding::Ucs2);
}
