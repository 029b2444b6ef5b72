//! A consumer's `deliver_sm` (not a receipt), read into addresses, concatenation information and user
//! data, and user data decoded into text.
//!
//! Numbers are read as international digits whatever their TON: `15550100` and `+15550100` both become
//! `+15550100`. An address that is not then an E.164 number (an alphanumeric sender, a short code) cannot
//! reach a chat, and the message is refused for good ([`InboundError`]).

use parley_core::phone::{BusinessNumber, E164};
use parley_core::text::segment::{self, Concat};
use parley_core::text::{gsm7, ucs2};

use super::pdu::{Address, Message, tag};

/// esm_class bit 6: the user data starts with a header (UDHI).
pub(crate) const UDHI: u8 = 0x40;

/// esm_class bits 2-5: the message type; 0 for a consumer's message.
const MESSAGE_TYPE: u8 = 0x3C;

/// Whether a `deliver_sm` is a consumer's message, rather than a receipt or an acknowledgement.
pub(crate) fn is_message(esm_class: u8) -> bool {
    esm_class & MESSAGE_TYPE == 0
}

/// A consumer's message or one part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mo {
    pub(crate) from: E164,
    pub(crate) to: BusinessNumber,
    pub(crate) data_coding: u8,
    /// The user data after any header: the text, still encoded.
    pub(crate) payload: Vec<u8>,
    /// Which part this is, from the UDH or the `sar_*` TLVs; `None` for a message of one part.
    pub(crate) concat: Option<Concat>,
}

/// Why a `deliver_sm` cannot become an inbound message. Delivering it again would not help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum InboundError {
    #[error("the {field} \"{addr}\" is not an E.164 number (nor, as a destination, a short code)")]
    NotE164 { field: &'static str, addr: String },
    #[error("the user data header is malformed: {0}")]
    Udh(#[from] segment::UdhError),
}

/// Reads a consumer's `deliver_sm`.
pub(crate) fn read(message: &Message) -> Result<Mo, InboundError> {
    let from = e164(&message.source).ok_or_else(|| not_e164("source_addr", &message.source))?;
    let to = business(&message.dest).ok_or_else(|| not_e164("destination_addr", &message.dest))?;
    // An SMSC puts long user data in message_payload, and then leaves short_message empty.
    let user_data = match message.tlv(tag::MESSAGE_PAYLOAD) {
        Some(payload) if message.short_message.is_empty() => payload,
        _ => &message.short_message,
    };
    let (payload, udh_concat) = if message.esm_class & UDHI != 0 {
        let udh = segment::parse_udh(user_data)?;
        (user_data.get(udh.len..).unwrap_or_default(), udh.concat)
    } else {
        (user_data, None)
    };
    let concat = udh_concat.or_else(|| sar(message)).filter(|c| c.total > 1);
    Ok(Mo { from, to, data_coding: message.data_coding, payload: payload.to_vec(), concat })
}

/// The `sar_*` TLVs, when all three are there and make sense.
fn sar(message: &Message) -> Option<Concat> {
    let reference = match *message.tlv(tag::SAR_MSG_REF_NUM)? {
        [high, low] => u16::from_be_bytes([high, low]),
        [low] => u16::from(low),
        _ => return None,
    };
    let &[total] = message.tlv(tag::SAR_TOTAL_SEGMENTS)? else { return None };
    let &[seq] = message.tlv(tag::SAR_SEGMENT_SEQNUM)? else { return None };
    Concat::new(reference, total, seq)
}

fn not_e164(field: &'static str, address: &Address) -> InboundError {
    InboundError::NotE164 { field, addr: address.addr.clone() }
}

/// An address as E.164: digits with or without `+`, whatever the TON says.
pub(crate) fn e164(address: &Address) -> Option<E164> {
    let digits = address.addr.trim();
    let digits = digits.strip_prefix('+').unwrap_or(digits);
    E164::parse(&format!("+{digits}")).ok()
}

/// A destination as one of our numbers: a short code when it is 3 to 8 digits and not marked
/// international (TON 1), else E.164.
pub(crate) fn business(address: &Address) -> Option<BusinessNumber> {
    let digits = address.addr.trim();
    if address.ton != 1
        && !digits.starts_with('+')
        && let Ok(code @ BusinessNumber::ShortCode(_)) = BusinessNumber::parse(digits)
    {
        return Some(code);
    }
    e164(address).map(BusinessNumber::Number)
}

/// The alphabet a data_coding value stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alphabet {
    /// GSM 7-bit default alphabet, one septet an octet.
    Gsm7,
    /// UTF-16BE.
    Ucs2,
    /// One character an octet (IA5/ASCII and Latin-1; also our best guess for the rare national ones).
    Latin1,
    /// 8-bit data; read as UTF-8, which is what a gateway that sends text this way usually means.
    Octets,
}

/// SMPP 3.4 §5.2.19 for 0x00-0x0F; above that, SMSCs pass the GSM data coding scheme (TS 23.038 §4)
/// through, so its groups are read too.
fn alphabet(data_coding: u8) -> Alphabet {
    match data_coding {
        0x00 => Alphabet::Gsm7,
        0x08 => Alphabet::Ucs2,
        0x02 | 0x04 => Alphabet::Octets,
        0x01..=0x0F => Alphabet::Latin1,
        // General data coding and automatic deletion groups: bits 3-2 give the alphabet.
        0x10..=0x7F => match (data_coding >> 2) & 0x03 {
            0 => Alphabet::Gsm7,
            1 => Alphabet::Octets,
            2 => Alphabet::Ucs2,
            _ => Alphabet::Latin1,
        },
        // Message waiting indication groups.
        0xC0..=0xDF => Alphabet::Gsm7,
        0xE0..=0xEF => Alphabet::Ucs2,
        // Data coding / message class group: bit 2 set means 8-bit data.
        0xF0..=0xFF if data_coding & 0x04 != 0 => Alphabet::Octets,
        0xF0..=0xFF => Alphabet::Gsm7,
        _ => Alphabet::Latin1,
    }
}

/// Decodes user data. Never fails: a consumer's message that is slightly wrong is worth more than none,
/// so what does not decode strictly is read leniently (Latin-1 for bytes that are not septets, U+FFFD for
/// a lone surrogate or bad UTF-8).
pub(crate) fn decode_text(data_coding: u8, payload: &[u8]) -> String {
    match alphabet(data_coding) {
        Alphabet::Gsm7 => gsm7::decode_unpacked(payload).unwrap_or_else(|_| latin1(payload)),
        Alphabet::Ucs2 => ucs2::decode(payload).unwrap_or_else(|_| {
            let units: Vec<u16> = payload
                .chunks(2)
                .map(|pair| match *pair {
                    [high, low] => u16::from_be_bytes([high, low]),
                    _ => 0xFFFD,
                })
                .collect();
            String::from_utf16_lossy(&units)
        }),
        Alphabet::Latin1 => latin1(payload),
        Alphabet::Octets => String::from_utf8_lossy(payload).into_owned(),
    }
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smpp::pdu::Tlv;

    fn mo(esm_class: u8, data_coding: u8, short_message: &[u8]) -> Message {
        Message {
            source: Address { ton: 1, npi: 1, addr: "15550100".into() },
            dest: Address { ton: 1, npi: 1, addr: "+15550199".into() },
            esm_class,
            data_coding,
            short_message: short_message.to_vec(),
            ..Message::default()
        }
    }

    #[test]
    fn reads_a_plain_message() {
        let read = read(&mo(0, 0, b"Hello")).unwrap();
        assert_eq!(read.from.as_str(), "+15550100");
        assert_eq!(read.to.as_str(), "+15550199");
        assert_eq!((read.payload.as_slice(), read.concat), (&b"Hello"[..], None));
        assert_eq!(decode_text(read.data_coding, &read.payload), "Hello");
    }

    #[test]
    fn reads_udh_and_sar_parts() {
        let udh = read(&mo(UDHI, 8, &[5, 0, 3, 0x2A, 2, 1, 0, 0x41])).unwrap();
        assert_eq!(udh.concat, Some(Concat { reference: 0x2A, total: 2, seq: 1 }));
        assert_eq!(decode_text(udh.data_coding, &udh.payload), "A");

        let mut sar = mo(0, 0, b"part");
        sar.tlvs = vec![
            Tlv { tag: tag::SAR_MSG_REF_NUM, value: vec![0x12, 0x34] },
            Tlv { tag: tag::SAR_TOTAL_SEGMENTS, value: vec![3] },
            Tlv { tag: tag::SAR_SEGMENT_SEQNUM, value: vec![3] },
        ];
        assert_eq!(read(&sar).unwrap().concat, Some(Concat { reference: 0x1234, total: 3, seq: 3 }));

        // A header without concatenation (here: a port element) is skipped, and the text is whole.
        let ports = read(&mo(UDHI, 0, &[6, 5, 4, 0x0B, 0x84, 0x23, 0xF0, b'h', b'i'])).unwrap();
        assert_eq!((ports.payload.as_slice(), ports.concat), (&b"hi"[..], None));
        assert!(matches!(read(&mo(UDHI, 0, &[9, 0, 3])), Err(InboundError::Udh(_))));
    }

    #[test]
    fn long_user_data_may_come_in_message_payload() {
        let mut message = mo(0, 0, b"");
        message.tlvs = vec![Tlv { tag: tag::MESSAGE_PAYLOAD, value: b"a long text".to_vec() }];
        assert_eq!(read(&message).unwrap().payload, b"a long text");
    }

    #[test]
    fn a_short_code_destination_is_read_as_one_unless_marked_international() {
        let mut message = mo(0, 0, b"hi");
        message.dest = Address { ton: 3, npi: 0, addr: "24273".into() };
        assert_eq!(read(&message).unwrap().to, BusinessNumber::ShortCode("24273".into()));
        message.dest = Address { ton: 0, npi: 1, addr: "24273".into() };
        assert!(read(&message).unwrap().to.is_short_code());
        message.dest = Address { ton: 1, npi: 1, addr: "24273".into() };
        assert!(matches!(read(&message), Err(InboundError::NotE164 { field: "destination_addr", .. })));
        message.dest = Address { ton: 0, npi: 1, addr: "15550001000".into() };
        assert_eq!(read(&message).unwrap().to.as_str(), "+15550001000", "long digits stay E.164");
        // A sender is a consumer's phone: never a short code.
        message.source = Address { ton: 3, npi: 0, addr: "24273".into() };
        assert!(matches!(read(&message), Err(InboundError::NotE164 { field: "source_addr", .. })));
    }

    #[test]
    fn refuses_senders_that_are_not_numbers() {
        let mut message = mo(0, 0, b"hi");
        message.source = Address { ton: 5, npi: 0, addr: "ACME".into() };
        assert_eq!(read(&message), Err(InboundError::NotE164 { field: "source_addr", addr: "ACME".into() }));
    }

    #[test]
    fn decodes_each_alphabet_leniently() {
        assert_eq!(decode_text(0x00, &[0x48, 0x1B, 0x65]), "H€");
        assert_eq!(decode_text(0x00, b"caf\xE9"), "café", "Latin-1 under data_coding 0");
        assert_eq!(decode_text(0x08, &[0xD8, 0x3D, 0xDE, 0x00]), "😀");
        assert_eq!(decode_text(0x08, &[0xD8, 0x3D, 0x00]), "\u{FFFD}\u{FFFD}");
        assert_eq!(decode_text(0x03, b"\xE9t\xE9"), "été");
        assert_eq!(decode_text(0x04, "ok ✓".as_bytes()), "ok ✓");
        assert_eq!(decode_text(0xF0, b"Hi"), "Hi");
        assert_eq!(decode_text(0x18, &[0, 0x41]), "A");
    }
}
