//! Outbound messages as `submit_sm` PDUs, and what the SMSC's answer means for the outbox.
//!
//! A text goes as GSM-7, unpacked (data_coding 0), when every character fits, else as UTF-16 (data_coding
//! 8, "UCS-2"). A text longer than one SMS goes as parts, each with a concatenation header (esm_class
//! 0x40, UDH `05 00 03 ref total seq`), cut by `parley_core::text::segment`.
//!
//! The reference is derived from Parley's message id, not drawn at random: when the outbox sends a
//! message again after a failure half-way through its parts, the handset gets the repeated parts with
//! the same reference and keeps one copy of each, instead of a broken text and a whole one.
//!
//! Where the SMSC wants it (`long_messages`), the parts carry `sar_*` TLVs instead of the header, or
//! the whole text goes in one `submit_sm` as `message_payload` and the SMSC cuts it.
//!
//! Only the last part asks for a delivery receipt (registered_delivery 1), and the message's provider id
//! is the message id the SMSC gave that part. Receipts for earlier parts would carry ids no message in
//! Parley has: they could only be parked and expire.

use parley_core::phone::BusinessNumber;
use parley_core::text::segment::{self, Encoding};
use parley_core::text::{gsm7, ucs2};

use crate::{OutboundSms, SendError};

use super::pdu::{Address, Message, Tlv, status, tag};
use super::{LongMessages, SmppConfig};

/// esm_class for a part with a user data header.
const UDHI: u8 = 0x40;
/// registered_delivery: a receipt on success or failure.
const RECEIPT: u8 = 0x01;
/// How long the outbox waits after ESME_RTHROTTLED or ESME_RMSGQFUL.
pub(crate) const THROTTLE_PAUSE_MS: i64 = 1000;

/// The `submit_sm` bodies for one message, in order.
pub(crate) fn parts(config: &SmppConfig, sms: &OutboundSms) -> Result<Vec<Message>, SendError> {
    if !sms.media.is_empty() {
        return Err(SendError::Permanent {
            code: "smpp_no_media".into(),
            message: "SMPP carries text only; this message has media".into(),
        });
    }
    let source = match &sms.from {
        // Short codes are national: TON 3 (network specific), NPI 0 (unknown), as SMSCs expect them.
        BusinessNumber::ShortCode(code) => address(3, 0, code),
        BusinessNumber::Number(number) => address(config.source_ton, config.source_npi, number.as_str()),
    };
    let dest = address(config.dest_ton, config.dest_npi, sms.to.as_str());
    if config.long_messages == LongMessages::Payload && segment::count(&sms.body).segments > 1 {
        // One submit_sm with the whole text; the SMSC cuts it into parts.
        let encoding = segment::encoding_for(&sms.body);
        let bytes = match encoding {
            Encoding::Gsm7 => gsm7::encode_unpacked(&sms.body).unwrap_or_default(),
            Encoding::Ucs2 => ucs2::encode(&sms.body),
        };
        if bytes.len() > usize::from(u16::MAX) {
            return Err(SendError::Permanent {
                code: "smpp_too_long".into(),
                message: "the text exceeds message_payload".into(),
            });
        }
        return Ok(vec![Message {
            source,
            dest,
            registered_delivery: RECEIPT,
            data_coding: data_coding(encoding),
            tlvs: vec![Tlv { tag: tag::MESSAGE_PAYLOAD, value: bytes }],
            ..Message::default()
        }]);
    }
    let parts = segment::split(&sms.body)
        .map_err(|e| SendError::Permanent { code: "smpp_too_long".into(), message: e.to_string() })?;
    let reference = reference(&sms.id);
    let last = parts.len();
    let submits = parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let registered_delivery = if i + 1 == last { RECEIPT } else { 0 };
            let data_coding = data_coding(part.encoding);
            if config.long_messages == LongMessages::Sar && last > 1 {
                // The same parts, numbered in TLVs instead of a user data header.
                let tlvs = vec![
                    Tlv { tag: tag::SAR_MSG_REF_NUM, value: u16::from(reference).to_be_bytes().to_vec() },
                    Tlv { tag: tag::SAR_TOTAL_SEGMENTS, value: vec![part.total] },
                    Tlv { tag: tag::SAR_SEGMENT_SEQNUM, value: vec![part.seq] },
                ];
                return Message {
                    source: source.clone(),
                    dest: dest.clone(),
                    registered_delivery,
                    data_coding,
                    short_message: part.payload,
                    tlvs,
                    ..Message::default()
                };
            }
            let udh = part.udh(reference);
            let mut short_message = Vec::with_capacity(part.payload.len() + 6);
            short_message.extend(udh.iter().flatten());
            short_message.extend(&part.payload);
            Message {
                source: source.clone(),
                dest: dest.clone(),
                esm_class: if udh.is_some() { UDHI } else { 0 },
                registered_delivery,
                data_coding,
                short_message,
                ..Message::default()
            }
        })
        .collect();
    Ok(submits)
}

fn data_coding(encoding: Encoding) -> u8 {
    match encoding {
        Encoding::Gsm7 => 0x00,
        Encoding::Ucs2 => 0x08,
    }
}

fn address(ton: u8, npi: u8, e164: &str) -> Address {
    Address { ton, npi, addr: e164.trim_start_matches('+').to_owned() }
}

/// The concatenation reference for a message: a hash of its id (FNV-1a, folded to 8 bits).
fn reference(id: &str) -> u8 {
    let hash = id.bytes().fold(0x811C_9DC5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    hash.to_be_bytes().into_iter().fold(0, |acc, b| acc ^ b)
}

/// What a `submit_sm_resp` (or a `generic_nack` in its place) means: the SMSC's message id, or why not.
pub(crate) fn outcome(command_status: u32, message_id: String) -> Result<String, SendError> {
    match command_status {
        status::OK => Ok(message_id),
        status::THROTTLED | status::MESSAGE_QUEUE_FULL => {
            Err(SendError::Throttled { retry_after_ms: THROTTLE_PAUSE_MS })
        }
        // The SMSC's own trouble or a session in the wrong state: worth another try later.
        status::SYSTEM_ERROR | status::INVALID_BIND_STATUS | status::ALREADY_BOUND | status::RX_TEMPORARY_APP_ERROR => {
            Err(SendError::Transient(format!("the SMSC answered {}", describe(command_status))))
        }
        other => Err(SendError::Permanent {
            code: format!("0x{other:08X}"),
            message: format!("the SMSC refused the message: {}", describe(other)),
        }),
    }
}

/// A command status with its name, for messages people read.
pub(crate) fn describe(command_status: u32) -> String {
    let name = match command_status {
        0x00 => "ESME_ROK",
        0x01 => "ESME_RINVMSGLEN (invalid message length)",
        0x02 => "ESME_RINVCMDLEN (invalid command length)",
        0x03 => "ESME_RINVCMDID (invalid command id)",
        0x04 => "ESME_RINVBNDSTS (wrong bind state)",
        0x05 => "ESME_RALYBND (already bound)",
        0x08 => "ESME_RSYSERR (system error)",
        0x0A => "ESME_RINVSRCADR (invalid source address)",
        0x0B => "ESME_RINVDSTADR (invalid destination address)",
        0x0C => "ESME_RINVMSGID (invalid message id)",
        0x0D => "ESME_RBINDFAIL (bind failed)",
        0x0E => "ESME_RINVPASWD (invalid password)",
        0x0F => "ESME_RINVSYSID (invalid system id)",
        0x14 => "ESME_RMSGQFUL (message queue full)",
        0x45 => "ESME_RSUBMITFAIL (submit failed)",
        0x48 => "ESME_RINVSRCTON (invalid source TON)",
        0x49 => "ESME_RINVSRCNPI (invalid source NPI)",
        0x50 => "ESME_RINVDSTTON (invalid destination TON)",
        0x51 => "ESME_RINVDSTNPI (invalid destination NPI)",
        0x58 => "ESME_RTHROTTLED (throttled)",
        0x61 => "ESME_RINVSCHED (invalid scheduled delivery time)",
        0x62 => "ESME_RINVEXPIRY (invalid validity period)",
        0x64 => "ESME_RX_T_APPN (temporary application error)",
        0x65 => "ESME_RX_P_APPN (permanent application error)",
        0x66 => "ESME_RX_R_APPN (application rejected the message)",
        0xFF => "ESME_RUNKNOWNERR (unknown error)",
        _ => "",
    };
    if name.is_empty() { format!("0x{command_status:08X}") } else { format!("0x{command_status:08X} {name}") }
}

#[cfg(test)]
mod tests {
    use parley_core::phone::E164;

    use super::*;

    fn sms(body: &str) -> OutboundSms {
        OutboundSms {
            id: "msg-1".into(),
            from: parley_core::phone::BusinessNumber::parse("+15550100").unwrap(),
            to: E164::parse("+447700900123").unwrap(),
            body: body.into(),
            media: vec![],
        }
    }

    fn config() -> SmppConfig {
        SmppConfig::new("smsc", "127.0.0.1", 2775, "parley", "secret")
    }

    #[test]
    fn a_short_code_sends_as_a_national_address() {
        let from_code = OutboundSms { from: parley_core::phone::BusinessNumber::parse("24273").unwrap(), ..sms("Hi") };
        let parts = parts(&config(), &from_code).unwrap();
        assert_eq!((parts[0].source.ton, parts[0].source.npi, parts[0].source.addr.as_str()), (3, 0, "24273"));
        assert_eq!((parts[0].dest.ton, parts[0].dest.npi), (1, 1), "the consumer stays international");
    }

    #[test]
    fn a_short_gsm7_text_is_one_plain_submit() {
        let parts = parts(&config(), &sms("Hi €")).unwrap();
        assert_eq!(parts.len(), 1);
        let part = &parts[0];
        assert_eq!((part.source.ton, part.source.npi, part.source.addr.as_str()), (1, 1, "15550100"));
        assert_eq!((part.dest.ton, part.dest.npi, part.dest.addr.as_str()), (1, 1, "447700900123"));
        assert_eq!((part.esm_class, part.data_coding, part.registered_delivery), (0, 0, 1));
        assert_eq!(part.short_message, [b'H', b'i', b' ', 0x1B, 0x65]);
    }

    #[test]
    fn a_long_text_is_numbered_parts_with_one_reference() {
        let parts = parts(&config(), &sms(&"a".repeat(400))).unwrap();
        assert_eq!(parts.len(), 3);
        let reference = parts[0].short_message[3];
        for (i, part) in parts.iter().enumerate() {
            let seq = u8::try_from(i + 1).unwrap();
            assert_eq!(part.short_message[..6], [5, 0, 3, reference, 3, seq]);
            assert_eq!(part.esm_class, 0x40);
            assert_eq!(part.registered_delivery, u8::from(i == 2), "only the last part asks for a receipt");
        }
        assert_eq!(parts.iter().map(|p| p.short_message.len() - 6).sum::<usize>(), 400);
        // The same message id gives the same reference when the message is sent again.
        assert_eq!(super::parts(&config(), &sms(&"a".repeat(400))).unwrap()[0].short_message[3], reference);
    }

    #[test]
    fn unicode_goes_as_utf16() {
        let parts = parts(&config(), &sms("Olá 😀")).unwrap();
        assert_eq!(parts[0].data_coding, 8);
        assert_eq!(parts[0].short_message, [0, b'O', 0, b'l', 0, 0xE1, 0, b' ', 0xD8, 0x3D, 0xDE, 0x00]);
    }

    #[test]
    fn maps_statuses_for_the_outbox() {
        assert_eq!(outcome(0, "abc".into()), Ok("abc".into()));
        assert_eq!(outcome(0x58, String::new()), Err(SendError::Throttled { retry_after_ms: 1000 }));
        assert_eq!(outcome(0x14, String::new()), Err(SendError::Throttled { retry_after_ms: 1000 }));
        assert!(matches!(outcome(0x08, String::new()), Err(SendError::Transient(_))));
        assert!(matches!(outcome(0x04, String::new()), Err(SendError::Transient(_))));
        let Err(SendError::Permanent { code, message }) = outcome(0x0B, String::new()) else { panic!() };
        assert_eq!(code, "0x0000000B");
        assert!(message.contains("ESME_RINVDSTADR"), "{message}");
    }

    #[test]
    fn refuses_media_and_texts_beyond_255_parts() {
        let mut with_media = sms("see");
        with_media.media = vec!["https://example.invalid/a.png".into()];
        assert!(matches!(parts(&config(), &with_media), Err(SendError::Permanent { .. })));
        assert!(matches!(parts(&config(), &sms(&"a".repeat(153 * 256))), Err(SendError::Permanent { .. })));
    }
}
