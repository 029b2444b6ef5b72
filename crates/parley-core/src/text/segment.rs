//! Segments: which encoding a text needs, what it costs, how it is cut into parts, and the header that
//! numbers the parts.
//!
//! A text goes as GSM-7 when every character is in the GSM-7 tables, otherwise as UCS-2 (UTF-16). One SMS
//! carries 140 octets: 160 septets or 70 UTF-16 units. A longer text is sent as concatenated parts, each
//! starting with a 6-octet user data header (UDH) with an 8-bit reference, which leaves 153 septets (after
//! one fill bit) or 67 units a part (TS 23.040 §9.2.3.24.1).
//!
//! Parts are never cut inside an escape pair or a surrogate pair, so a part may hold one unit less than
//! its limit. Carriers bill such texts for what is actually sent, so [`count`] counts the parts [`split`]
//! makes rather than dividing by the limit.

use std::ops::Range;

use super::{gsm7, ucs2};

/// How a text is carried. The carrier adapter maps it to its own code (SMPP data_coding 0 or 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Encoding {
    /// The GSM 7-bit default alphabet; payloads are unpacked septets, one a byte.
    Gsm7,
    /// UTF-16BE; payloads are two bytes a unit.
    Ucs2,
}

/// Why a payload does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("GSM-7 payload: {0}")]
    Gsm7(#[from] gsm7::DecodeError),
    #[error("UCS-2 payload: {0}")]
    Ucs2(#[from] ucs2::DecodeError),
}

impl Encoding {
    /// Units that fit one SMS with no header: 160 septets or 70 UTF-16 units.
    pub fn single_limit(self) -> usize {
        match self {
            Encoding::Gsm7 => 160,
            Encoding::Ucs2 => 70,
        }
    }

    /// Units that fit one part of a concatenated text, after the 6-octet header: 153 septets or 67 units.
    pub fn part_limit(self) -> usize {
        match self {
            Encoding::Gsm7 => 153,
            Encoding::Ucs2 => 67,
        }
    }

    /// Decodes a payload in this encoding: unpacked septets ([`gsm7::decode_unpacked`]) or UTF-16BE
    /// ([`ucs2::decode`]).
    pub fn decode(self, payload: &[u8]) -> Result<String, PayloadError> {
        match self {
            Encoding::Gsm7 => Ok(gsm7::decode_unpacked(payload)?),
            Encoding::Ucs2 => Ok(ucs2::decode(payload)?),
        }
    }
}

/// GSM-7 when every character of `text` fits it, otherwise UCS-2. One tab, backtick, curly quote or
/// emoji makes the whole text UCS-2, which more than halves what a segment holds.
pub fn encoding_for(text: &str) -> Encoding {
    if text.chars().all(|c| gsm7::septets(c).is_some()) { Encoding::Gsm7 } else { Encoding::Ucs2 }
}

/// What sending a text costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentInfo {
    /// The encoding the text needs ([`encoding_for`]).
    pub encoding: Encoding,
    /// The text's length in its encoding: septets for GSM-7 (2 for an extension character), UTF-16 units
    /// for UCS-2 (2 for an emoji).
    pub units: usize,
    /// How many SMS the text is sent as: 1 for an empty text. May exceed 255, which [`split`] refuses.
    pub segments: usize,
    /// Units one segment holds: the single-SMS limit when `segments` is 1, else the per-part limit.
    pub per_segment_limit: usize,
}

/// Counts the segments `text` costs; always the number of parts [`split`] makes.
pub fn count(text: &str) -> SegmentInfo {
    let plan = Plan::new(text);
    let per_segment_limit =
        if plan.ranges.len() == 1 { plan.encoding.single_limit() } else { plan.encoding.part_limit() };
    SegmentInfo { encoding: plan.encoding, units: plan.len(), segments: plan.ranges.len(), per_segment_limit }
}

/// The most parts a concatenated text can have: the header numbers them with one octet.
pub const MAX_PARTS: usize = 255;

/// Why a text cannot be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("the text needs {parts} parts; an SMS can be concatenated from at most 255")]
    TooManyParts { parts: usize },
}

/// One SMS of a text, ready for a carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The encoding of `payload`, the same for every part of a text.
    pub encoding: Encoding,
    /// This part's number, from 1 to `total`.
    pub seq: u8,
    /// How many parts the text has; 1 means a plain SMS, sent without a header.
    pub total: u8,
    /// The payload's length in units (septets or UTF-16 units); at most the limit for `total`.
    pub units: usize,
    /// The encoded text: unpacked septets for GSM-7, UTF-16BE for UCS-2. Never ends inside an escape pair
    /// or a surrogate pair.
    pub payload: Vec<u8>,
}

impl Part {
    /// The concatenation header to put before this part's payload, or `None` for a text of one part.
    pub fn udh(&self, reference: u8) -> Option<[u8; 6]> {
        (self.total > 1).then(|| udh_concat(reference, self.total, self.seq))
    }
}

/// Splits `text` into the parts to send, in order. A text that fits one SMS (an empty one too) is one
/// part with no header; a longer one is cut greedily at the per-part limit, never inside an escape pair
/// or a surrogate pair. More than [`MAX_PARTS`] parts is an error.
pub fn split(text: &str) -> Result<Vec<Part>, SplitError> {
    let plan = Plan::new(text);
    let parts = plan.ranges.len();
    let total = u8::try_from(parts).map_err(|_| SplitError::TooManyParts { parts })?;
    let encoding = plan.encoding;
    let split = (1..=total)
        .zip(&plan.ranges)
        .map(|(seq, range)| {
            let payload = match &plan.units {
                Units::Gsm7(septets) => septets[range.clone()].to_vec(),
                Units::Ucs2(units) => units[range.clone()].iter().flat_map(|u| u.to_be_bytes()).collect(),
            };
            Part { encoding, seq, total, units: range.len(), payload }
        })
        .collect();
    Ok(split)
}

/// A text encoded, and where its parts begin and end (in units).
struct Plan {
    encoding: Encoding,
    units: Units,
    /// Consecutive, covering all units; one (possibly empty) range when the text fits one SMS.
    ranges: Vec<Range<usize>>,
}

enum Units {
    Gsm7(Vec<u8>),
    Ucs2(Vec<u16>),
}

impl Plan {
    fn new(text: &str) -> Plan {
        let (encoding, units) = match gsm7::encode_unpacked(text) {
            Some(septets) => (Encoding::Gsm7, Units::Gsm7(septets)),
            None => (Encoding::Ucs2, Units::Ucs2(text.encode_utf16().collect())),
        };
        let ranges = match &units {
            Units::Gsm7(septets) => cut(encoding, septets, |s| s == gsm7::ESC),
            Units::Ucs2(units) => cut(encoding, units, |u| (0xD800..0xDC00).contains(&u)),
        };
        Plan { encoding, units, ranges }
    }

    fn len(&self) -> usize {
        match &self.units {
            Units::Gsm7(septets) => septets.len(),
            Units::Ucs2(units) => units.len(),
        }
    }
}

/// Cuts `units` greedily into ranges of at most the part limit, where `starts_pair(unit)` says that the
/// unit and the next one (an escape pair, a surrogate pair) must stay together.
fn cut<T: Copy>(encoding: Encoding, units: &[T], starts_pair: impl Fn(T) -> bool) -> Vec<Range<usize>> {
    if units.len() <= encoding.single_limit() {
        let whole = 0..units.len();
        return vec![whole];
    }
    let limit = encoding.part_limit();
    let mut ranges = Vec::with_capacity(units.len().div_ceil(limit - 1));
    let mut start = 0;
    let mut end = 0;
    while end < units.len() {
        let atom = if starts_pair(units[end]) { 2.min(units.len() - end) } else { 1 };
        if end + atom - start > limit {
            ranges.push(start..end);
            start = end;
        }
        end += atom;
    }
    ranges.push(start..end);
    ranges
}

/// The 6-octet concatenation header with an 8-bit reference (IEI 0x00): UDHL 5, IEI, IEDL 3, then the
/// reference shared by all parts of a text, the number of parts, and this part's number from 1.
pub fn udh_concat(reference: u8, total: u8, seq: u8) -> [u8; 6] {
    [0x05, 0x00, 0x03, reference, total, seq]
}

/// The concatenation information of an inbound part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Concat {
    /// The reference shared by the parts of one text; 8-bit references are widened, which also suits
    /// the 16-bit `sar_msg_ref_num` of SMPP.
    pub reference: u16,
    /// How many parts the text has, at least 1.
    pub total: u8,
    /// This part's number, from 1 to `total`.
    pub seq: u8,
}

impl Concat {
    /// The information, or `None` when TS 23.040 says to ignore it: no parts, or a number out of range.
    pub fn new(reference: u16, total: u8, seq: u8) -> Option<Concat> {
        (1..=total).contains(&seq).then_some(Concat { reference, total, seq })
    }
}

/// A user data header, read from the start of a message's user data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Udh {
    /// The header's length in octets, its length octet included: the payload starts here, and
    /// [`gsm7::fill_bits`] of it tells the fill bits before packed septets.
    pub len: usize,
    /// The concatenation element, when there is a valid one.
    pub concat: Option<Concat>,
}

/// Why user data does not start with a well-formed header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UdhError {
    #[error("the user data is empty, so it has no header")]
    Empty,
    #[error("the header claims {declared} octets but the user data has only {got}")]
    Truncated { declared: usize, got: usize },
    #[error("the header's element {iei:#04x} runs past the end of the header")]
    ElementOverrun { iei: u8 },
}

/// Reads the header at the start of `user_data` (the caller knows there is one: SMPP esm_class UDHI, or
/// TP-UDHI). Concatenation elements with an 8-bit (IEI 0x00) or a 16-bit (IEI 0x08) reference are read;
/// other elements (ports, national language tables, …) are skipped.
///
/// Following TS 23.040 §9.2.3.24, a concatenation element with no parts, a number out of range or the
/// wrong length is ignored, and of several the last valid one counts.
pub fn parse_udh(user_data: &[u8]) -> Result<Udh, UdhError> {
    let (&udhl, rest) = user_data.split_first().ok_or(UdhError::Empty)?;
    let len = 1 + usize::from(udhl);
    let mut elements =
        rest.get(..usize::from(udhl)).ok_or(UdhError::Truncated { declared: len, got: user_data.len() })?;
    let mut concat = None;
    loop {
        match *elements {
            [] => break,
            [iei] => return Err(UdhError::ElementOverrun { iei }),
            [iei, iedl, ref tail @ ..] => {
                let data = tail.get(..usize::from(iedl)).ok_or(UdhError::ElementOverrun { iei })?;
                let found = match (iei, data) {
                    (0x00, &[reference, total, seq]) => Concat::new(u16::from(reference), total, seq),
                    (0x08, &[high, low, total, seq]) => Concat::new(u16::from_be_bytes([high, low]), total, seq),
                    _ => None,
                };
                concat = found.or(concat);
                elements = &tail[data.len()..];
            }
        }
    }
    Ok(Udh { len, concat })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_switch_when_a_text_needs_parts() {
        let info = count(&"a".repeat(160));
        assert_eq!(info, SegmentInfo { encoding: Encoding::Gsm7, units: 160, segments: 1, per_segment_limit: 160 });
        let info = count(&"a".repeat(161));
        assert_eq!(info, SegmentInfo { encoding: Encoding::Gsm7, units: 161, segments: 2, per_segment_limit: 153 });
        let info = count("");
        assert_eq!(info, SegmentInfo { encoding: Encoding::Gsm7, units: 0, segments: 1, per_segment_limit: 160 });
    }

    #[test]
    fn an_escape_pair_moves_whole_to_the_next_part() {
        // 152 'a' then '€' (ESC 0x65): the pair would straddle septets 153 and 154.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(10));
        let parts = split(&text).unwrap();
        assert_eq!(parts.iter().map(|p| p.units).collect::<Vec<_>>(), [152, 12]);
        assert_eq!(parts[1].payload[..2], [gsm7::ESC, 0x65]);
        assert_eq!(count(&text).segments, 2);
    }

    #[test]
    fn a_surrogate_pair_moves_whole_to_the_next_part() {
        let text = format!("{}😀{}", "á".repeat(66), "á".repeat(5));
        let parts = split(&text).unwrap();
        assert_eq!(parts.iter().map(|p| p.units).collect::<Vec<_>>(), [66, 7]);
        assert_eq!(parts[1].payload[..4], [0xD8, 0x3D, 0xDE, 0x00]);
        assert_eq!(parts[0].udh(7), Some([5, 0, 3, 7, 2, 1]));
        assert_eq!(parts[1].udh(7), Some([5, 0, 3, 7, 2, 2]));
    }

    #[test]
    fn a_single_part_has_no_header() {
        let parts = split("hi").unwrap();
        assert_eq!(parts, [Part { encoding: Encoding::Gsm7, seq: 1, total: 1, units: 2, payload: vec![0x68, 0x69] }]);
        assert_eq!(parts[0].udh(1), None);
        assert_eq!(split("").unwrap()[0].payload, Vec::<u8>::new());
    }

    #[test]
    fn at_most_255_parts() {
        assert_eq!(split(&"a".repeat(153 * 255)).unwrap().len(), 255);
        assert_eq!(split(&"a".repeat(153 * 255 + 1)), Err(SplitError::TooManyParts { parts: 256 }));
        assert_eq!(count(&"a".repeat(153 * 255 + 1)).segments, 256);
    }

    #[test]
    fn reads_concatenation_headers() {
        let eight = parse_udh(&[0x05, 0x00, 0x03, 0x2A, 0x03, 0x02, b'h', b'i']).unwrap();
        assert_eq!(eight, Udh { len: 6, concat: Some(Concat { reference: 0x2A, total: 3, seq: 2 }) });
        let sixteen = parse_udh(&[0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01]).unwrap();
        assert_eq!(sixteen, Udh { len: 7, concat: Some(Concat { reference: 0x1234, total: 2, seq: 1 }) });
        // A port-addressing element first, then the concatenation element.
        let ports = parse_udh(&[0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x00, 0x03, 0x01, 0x02, 0x02]).unwrap();
        assert_eq!(ports, Udh { len: 12, concat: Some(Concat { reference: 1, total: 2, seq: 2 }) });
        // No concatenation element at all.
        assert_eq!(parse_udh(&[0x00]).unwrap(), Udh { len: 1, concat: None });
    }

    #[test]
    fn ignores_what_the_standard_says_to_ignore() {
        // Number 0, number above total, zero parts, wrong length.
        for udh in [[0x05, 0x00, 0x03, 1, 2, 0], [0x05, 0x00, 0x03, 1, 2, 3], [0x05, 0x00, 0x03, 1, 0, 0]] {
            assert_eq!(parse_udh(&udh).unwrap().concat, None, "{udh:02x?}");
        }
        assert_eq!(parse_udh(&[0x04, 0x00, 0x02, 1, 2]).unwrap().concat, None);
        // The last valid element counts; an invalid one after it does not erase it.
        let twice = [0x0A, 0x00, 0x03, 1, 2, 1, 0x00, 0x03, 9, 3, 3];
        assert_eq!(parse_udh(&twice).unwrap().concat, Some(Concat { reference: 9, total: 3, seq: 3 }));
        let then_bad = [0x0A, 0x00, 0x03, 1, 2, 1, 0x00, 0x03, 9, 3, 4];
        assert_eq!(parse_udh(&then_bad).unwrap().concat, Some(Concat { reference: 1, total: 2, seq: 1 }));
    }

    #[test]
    fn refuses_broken_headers() {
        assert_eq!(parse_udh(&[]), Err(UdhError::Empty));
        assert_eq!(parse_udh(&[0x05, 0x00, 0x03]), Err(UdhError::Truncated { declared: 6, got: 3 }));
        assert_eq!(parse_udh(&[0x03, 0x00, 0x03, 0x01]), Err(UdhError::ElementOverrun { iei: 0 }));
        assert_eq!(parse_udh(&[0x01, 0x00]), Err(UdhError::ElementOverrun { iei: 0 }));
    }
}
