//! Tests of the PDU codec: fixed vectors from the spec, properties (round trips, any split of a stream,
//! garbage), and `rusmpp` as an independent decoder and encoder.

use bytes::BytesMut;
use proptest::collection::vec;
use proptest::prelude::*;

use super::*;

/// What a reader of a byte stream gets out of it, the way the session reads: whole commands, malformed
/// PDUs skipped by their length, and the end when the stream cannot be framed.
#[derive(Debug, PartialEq, Eq)]
enum Item {
    Command(Command),
    Malformed(Malformed),
    Unframeable(u32),
}

/// Takes every whole PDU off the front of `buf`, as `session.rs` does after each read.
fn drain(buf: &mut BytesMut, out: &mut Vec<Item>) -> bool {
    loop {
        match check(buf) {
            Ok(len) => {
                let frame = buf.split_to(len);
                out.push(match parse(&frame) {
                    Ok(command) => Item::Command(command),
                    Err(malformed) => Item::Malformed(malformed),
                });
            }
            Err(CheckError::Incomplete) => return true,
            Err(CheckError::BadLength(len)) => {
                out.push(Item::Unframeable(len));
                return false;
            }
        }
    }
}

/// Feeds `bytes` in chunks cut at `cuts` (positions, any order, out of range ones clamped).
fn decode_in_chunks(bytes: &[u8], cuts: &[usize]) -> Vec<Item> {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(bytes.len())).collect();
    cuts.push(bytes.len());
    cuts.sort_unstable();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut start = 0;
    for cut in cuts {
        buf.extend_from_slice(&bytes[start..cut]);
        start = cut;
        if !drain(&mut buf, &mut out) {
            break;
        }
    }
    out
}

fn encoded(commands: &[Command]) -> Vec<u8> {
    let mut buf = BytesMut::new();
    for command in commands {
        encode(command, &mut buf).unwrap();
    }
    buf.to_vec()
}

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits.chunks(2).map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap()).collect()
}

#[test]
fn decodes_the_specs_bind_example() {
    // SMPP 3.4 §3.3 / rusmpp's doc example: bind_transmitter "SMPP3TEST" / "secret08" / "SUBMIT1".
    let bytes = hex("00 00 00 2F 00 00 00 02 00 00 00 00 00 00 00 01
         53 4D 50 50 33 54 45 53 54 00 73 65 63 72 65 74
         30 38 00 53 55 42 4D 49 54 31 00 50 01 01 00");
    assert_eq!(check(&bytes), Ok(0x2F));
    let command = parse(&bytes).unwrap();
    let expected = Command {
        status: 0,
        sequence: 1,
        body: Body::Bind(
            BindKind::Transmitter,
            Bind {
                system_id: "SMPP3TEST".into(),
                password: "secret08".into(),
                system_type: "SUBMIT1".into(),
                interface_version: 0x50,
                addr_ton: 1,
                addr_npi: 1,
                address_range: String::new(),
            },
        ),
    };
    assert_eq!(command, expected);
    assert_eq!(encoded(&[expected]), bytes);
}

#[test]
fn incomplete_until_the_last_byte() {
    let bytes = encoded(&[Command { status: 0, sequence: 7, body: Body::EnquireLink }]);
    for len in 0..bytes.len() {
        assert_eq!(check(&bytes[..len]), Err(CheckError::Incomplete), "{len} bytes");
    }
    assert_eq!(check(&bytes), Ok(16));
    assert_eq!(check(&[0, 0, 0, 15]), Err(CheckError::BadLength(15)));
    assert_eq!(check(&[0xFF, 0, 0, 0]), Err(CheckError::BadLength(0xFF00_0000)));
}

#[test]
fn reads_what_sloppy_smscs_send() {
    // submit_sm_resp with an error status and no body at all.
    let throttled = hex("00000010 80000004 00000058 00000003");
    let command = parse(&throttled).unwrap();
    assert_eq!(command.status, status::THROTTLED);
    assert_eq!(command.body, Body::SubmitSmResp(MessageId::default()));

    // bind_transceiver_resp with an sc_interface_version TLV.
    let bind_resp = hex("0000001A 80000009 00000000 00000001 534D534300 0210 0001 34");
    let Body::BindResp(BindKind::Transceiver, resp) = parse(&bind_resp).unwrap().body else { panic!() };
    assert_eq!(resp.system_id, "SMSC");
    assert_eq!(resp.tlvs, [Tlv { tag: tag::SC_INTERFACE_VERSION, value: vec![0x34] }]);

    // enquire_link with a stray body octet.
    let enquire = hex("00000011 00000015 00000000 00000009 00");
    assert_eq!(parse(&enquire).unwrap().body, Body::EnquireLink);
}

#[test]
fn a_receipt_with_unterminated_id_and_latin1_sender_still_reads() {
    let mut body = Vec::new();
    body.push(0); // service_type
    body.extend([5, 0]);
    body.extend(b"Caf\xE9\0"); // an alphanumeric sender in Latin-1
    body.extend([1, 1]);
    body.extend(b"15550100\0");
    body.extend([0x04, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    body.extend(b"hi");
    body.extend([0x00, 0x1E, 0x00, 0x03]);
    body.extend(b"A1F"); // receipted_message_id without its NUL
    body.extend([0x04, 0x27, 0x00, 0x01, 0x02]);
    let mut frame = Vec::new();
    frame.extend(u32::try_from(16 + body.len()).unwrap().to_be_bytes());
    frame.extend(command_id::DELIVER_SM.to_be_bytes());
    frame.extend([0, 0, 0, 0, 0, 0, 0, 1]);
    frame.extend(body);

    let Body::DeliverSm(message) = parse(&frame).unwrap().body else { panic!() };
    assert_eq!(message.source.addr, "Café");
    assert_eq!(message.tlv(tag::RECEIPTED_MESSAGE_ID).map(tlv_c_string), Some("A1F".into()));
    assert_eq!(message.tlv(tag::MESSAGE_STATE), Some(&[2][..]));
}

#[test]
fn a_malformed_pdu_is_skipped_and_the_next_one_decodes() {
    // deliver_sm whose sm_length (9) runs past its body, then an enquire_link.
    let mut bytes = hex("00000022 00000005 00000000 0000002A 00 0101 00 0101 00 000000 00 00 00000000 09 41");
    assert_eq!(bytes.len(), 0x22);
    bytes.extend(encoded(&[Command { status: 0, sequence: 43, body: Body::EnquireLink }]));
    let items = decode_in_chunks(&bytes, &[]);
    assert_eq!(items.len(), 2, "{items:?}");
    let Item::Malformed(malformed) = &items[0] else { panic!("{items:?}") };
    assert_eq!((malformed.command_id, malformed.sequence), (command_id::DELIVER_SM, 42));
    assert_eq!(items[1], Item::Command(Command { status: 0, sequence: 43, body: Body::EnquireLink }));
}

#[test]
fn refuses_to_write_what_does_not_fit() {
    let long = Message { short_message: vec![0; 256], ..Message::default() };
    let mut buf = BytesMut::new();
    let submit = Command { status: 0, sequence: 1, body: Body::SubmitSm(long) };
    assert_eq!(encode(&submit, &mut buf), Err(EncodeError::ShortMessageTooLong(256)));
    let nul = Message { source: Address { addr: "1\u{0}2".into(), ..Address::default() }, ..Message::default() };
    let submit = Command { status: 0, sequence: 1, body: Body::SubmitSm(nul) };
    assert_eq!(encode(&submit, &mut buf), Err(EncodeError::CString { field: "source_addr" }));
    let euro = Bind { password: "€".into(), ..Bind::default() };
    let bind = Command { status: 0, sequence: 1, body: Body::Bind(BindKind::Transceiver, euro) };
    assert_eq!(encode(&bind, &mut buf), Err(EncodeError::CString { field: "password" }));
    assert!(buf.is_empty());
}

#[test]
fn the_password_stays_out_of_logs() {
    let bind = Bind { system_id: "parley".into(), password: "hunter2".into(), ..Bind::default() };
    let shown = format!("{bind:?}");
    assert!(shown.contains("parley") && !shown.contains("hunter2"), "{shown}");
}

// ---- properties ----

fn c_string(max: usize) -> impl Strategy<Value = String> {
    vec(1u8..=255, 0..=max).prop_map(|bytes| latin1(&bytes))
}

fn ascii(max: usize) -> impl Strategy<Value = String> {
    vec(0x21u8..=0x7E, 0..=max).prop_map(|bytes| latin1(&bytes))
}

fn address() -> impl Strategy<Value = Address> {
    (any::<u8>(), any::<u8>(), c_string(24)).prop_map(|(ton, npi, addr)| Address { ton, npi, addr })
}

fn tlv() -> impl Strategy<Value = Tlv> {
    (any::<u16>(), vec(any::<u8>(), 0..40)).prop_map(|(tag, value)| Tlv { tag, value })
}

fn message() -> impl Strategy<Value = Message> {
    (
        (c_string(6), address(), address(), any::<[u8; 3]>(), c_string(17), c_string(17)),
        (any::<[u8; 4]>(), vec(any::<u8>(), 0..=255), vec(tlv(), 0..4)),
    )
        .prop_map(
            |((service_type, source, dest, [esm_class, protocol_id, priority_flag], schedule, validity), rest)| {
                let (
                    [registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id],
                    short_message,
                    tlvs,
                ) = rest;
                Message {
                    service_type,
                    source,
                    dest,
                    esm_class,
                    protocol_id,
                    priority_flag,
                    schedule_delivery_time: schedule,
                    validity_period: validity,
                    registered_delivery,
                    replace_if_present_flag,
                    data_coding,
                    sm_default_msg_id,
                    short_message,
                    tlvs,
                }
            },
        )
}

fn is_known(id: u32) -> bool {
    use command_id::*;
    let request = id & !RESPONSE;
    id == GENERIC_NACK
        || matches!(request, BIND_RECEIVER | BIND_TRANSMITTER | BIND_TRANSCEIVER | SUBMIT_SM | DELIVER_SM)
        || matches!(request, ENQUIRE_LINK | UNBIND)
}

fn bind_kind_strategy() -> impl Strategy<Value = BindKind> {
    prop_oneof![Just(BindKind::Receiver), Just(BindKind::Transmitter), Just(BindKind::Transceiver)]
}

fn body() -> impl Strategy<Value = Body> {
    let bind = (bind_kind_strategy(), c_string(16), c_string(9), c_string(13), any::<[u8; 3]>(), c_string(41))
        .prop_map(
            |(kind, system_id, password, system_type, [interface_version, addr_ton, addr_npi], address_range)| {
                Body::Bind(
                    kind,
                    Bind { system_id, password, system_type, interface_version, addr_ton, addr_npi, address_range },
                )
            },
        );
    let bind_resp = (bind_kind_strategy(), c_string(16), vec(tlv(), 0..3))
        .prop_map(|(kind, system_id, tlvs)| Body::BindResp(kind, BindResp { system_id, tlvs }));
    let other = (any::<u32>().prop_filter("unknown command", |id| !is_known(*id)), vec(any::<u8>(), 0..40))
        .prop_map(|(command_id, body)| Body::Other { command_id, body });
    prop_oneof![
        bind,
        bind_resp,
        message().prop_map(Body::SubmitSm),
        message().prop_map(Body::DeliverSm),
        c_string(65).prop_map(|message_id| Body::SubmitSmResp(MessageId { message_id })),
        c_string(65).prop_map(|message_id| Body::DeliverSmResp(MessageId { message_id })),
        Just(Body::EnquireLink),
        Just(Body::EnquireLinkResp),
        Just(Body::Unbind),
        Just(Body::UnbindResp),
        Just(Body::GenericNack),
        other,
    ]
}

fn command() -> impl Strategy<Value = Command> {
    (any::<u32>(), 1u32..=0x7FFF_FFFF, body()).prop_map(|(status, sequence, body)| Command { status, sequence, body })
}

proptest! {
    #[test]
    fn encode_then_parse_gives_the_command_back(command in command()) {
        let bytes = encoded(std::slice::from_ref(&command));
        prop_assert_eq!(check(&bytes), Ok(bytes.len()));
        prop_assert_eq!(parse(&bytes), Ok(command));
    }

    #[test]
    fn any_split_of_a_stream_decodes_to_the_same_commands(
        commands in vec(command(), 1..6),
        cuts in vec(any::<usize>(), 0..12),
    ) {
        let bytes = encoded(&commands);
        let cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        let expected: Vec<Item> = commands.into_iter().map(Item::Command).collect();
        prop_assert_eq!(decode_in_chunks(&bytes, &cuts), expected);
    }

    #[test]
    fn garbage_never_panics(bytes in vec(any::<u8>(), 0..400), cuts in vec(any::<usize>(), 0..6)) {
        let _ = parse(&bytes);
        let _ = decode_in_chunks(&bytes, &cuts);
    }

    #[test]
    fn garbage_bodies_behind_valid_headers_never_panic(
        id in prop_oneof![
            Just(command_id::BIND_TRANSCEIVER),
            Just(command_id::BIND_TRANSCEIVER | command_id::RESPONSE),
            Just(command_id::SUBMIT_SM),
            Just(command_id::SUBMIT_SM | command_id::RESPONSE),
            Just(command_id::DELIVER_SM),
            Just(command_id::DELIVER_SM | command_id::RESPONSE),
            Just(command_id::ENQUIRE_LINK),
            Just(command_id::GENERIC_NACK),
            any::<u32>(),
        ],
        body in vec(any::<u8>(), 0..300),
    ) {
        let mut frame = Vec::new();
        frame.extend(u32::try_from(HEADER_LEN + body.len()).unwrap().to_be_bytes());
        frame.extend(id.to_be_bytes());
        frame.extend([0, 0, 0, 0, 0, 0, 0, 1]);
        frame.extend(&body);
        let items = decode_in_chunks(&frame, &[]);
        prop_assert_eq!(items.len(), 1);
    }
}

// ---- rusmpp as an independent implementation ----

mod oracle {
    use rusmpp::tokio_codec::CommandCodec;
    use tokio_util::codec::{Decoder, Encoder};

    use super::*;

    /// Messages within what rusmpp (SMPP v5, strict) accepts: ASCII strings within the spec's lengths,
    /// times empty or of the full 16 characters, and TLVs whose values it reads as raw octets.
    fn strict_message() -> impl Strategy<Value = Message> {
        let time = prop_oneof![Just(String::new()), "[0-9]{12}000[+-R]"];
        let known_tlv = prop_oneof![
            vec(any::<u8>(), 0..60).prop_map(|value| Tlv { tag: tag::MESSAGE_PAYLOAD, value }),
            any::<u16>().prop_map(|n| Tlv { tag: tag::SAR_MSG_REF_NUM, value: n.to_be_bytes().to_vec() }),
            any::<u8>().prop_map(|n| Tlv { tag: tag::SAR_TOTAL_SEGMENTS, value: vec![n] }),
            any::<u8>().prop_map(|n| Tlv { tag: tag::SAR_SEGMENT_SEQNUM, value: vec![n] }),
            // Vendor-specific tags, which rusmpp keeps as raw octets.
            (0x1400u16..0x3FFF, vec(any::<u8>(), 0..20)).prop_map(|(tag, value)| Tlv { tag, value }),
        ];
        let address = || (any::<u8>(), any::<u8>(), ascii(20)).prop_map(|(ton, npi, addr)| Address { ton, npi, addr });
        (
            (ascii(5), address(), address(), any::<[u8; 3]>(), time.clone(), time),
            (any::<[u8; 4]>(), vec(any::<u8>(), 0..=254), vec(known_tlv, 0..4)),
        )
            .prop_map(|((service_type, source, dest, [esm, pid, priority], schedule, validity), rest)| {
                let ([registered, replace, data_coding, default_id], short_message, tlvs) = rest;
                Message {
                    service_type,
                    source,
                    dest,
                    esm_class: esm,
                    protocol_id: pid,
                    priority_flag: priority,
                    schedule_delivery_time: schedule,
                    validity_period: validity,
                    registered_delivery: registered,
                    replace_if_present_flag: replace,
                    data_coding,
                    sm_default_msg_id: default_id,
                    short_message,
                    tlvs,
                }
            })
    }

    fn rusmpp_round_trip(bytes: &[u8]) -> Vec<u8> {
        let mut codec = CommandCodec::new().with_max_length(MAX_LEN);
        let mut src = BytesMut::from(bytes);
        let decoded = codec.decode(&mut src).unwrap().unwrap();
        assert!(src.is_empty());
        let mut out = BytesMut::new();
        codec.encode(&decoded, &mut out).unwrap();
        out.to_vec()
    }

    proptest! {
        /// What we write, rusmpp reads and writes back byte for byte: the layout agrees field by field.
        #[test]
        fn rusmpp_reads_what_we_write(
            message in strict_message(),
            deliver in any::<bool>(),
            sequence in 1u32..0x7FFF_FFFF,
        ) {
            let body = if deliver { Body::DeliverSm(message) } else { Body::SubmitSm(message) };
            let bytes = encoded(&[Command { status: 0, sequence, body }]);
            prop_assert_eq!(rusmpp_round_trip(&bytes), bytes);
        }

        #[test]
        fn rusmpp_reads_our_responses_and_binds(
            message_id in ascii(64),
            system_id in ascii(15),
            password in ascii(8),
            sequence in 1u32..0x7FFF_FFFF,
        ) {
            let commands = [
                Command { status: 0, sequence, body: Body::SubmitSmResp(MessageId { message_id: message_id.clone() }) },
                Command { status: 0, sequence, body: Body::DeliverSmResp(MessageId { message_id }) },
                Command {
                    status: 0,
                    sequence,
                    body: Body::Bind(BindKind::Transceiver, Bind {
                        system_id,
                        password,
                        system_type: String::new(),
                        interface_version: 0x34,
                        addr_ton: 1,
                        addr_npi: 1,
                        address_range: String::new(),
                    }),
                },
                Command { status: status::THROTTLED, sequence, body: Body::GenericNack },
                Command { status: 0, sequence, body: Body::EnquireLink },
                Command { status: 0, sequence, body: Body::UnbindResp },
            ];
            for command in commands {
                let bytes = encoded(&[command]);
                prop_assert_eq!(rusmpp_round_trip(&bytes), bytes);
            }
        }
    }

    /// A receipt as rusmpp writes it reads back with the fields Parley uses.
    #[test]
    fn we_read_what_rusmpp_writes() {
        use rusmpp::pdus::DeliverSm;
        use rusmpp::tlvs::MessageDeliveryRequestTlvValue;
        use rusmpp::types::{COctetString, OctetString};
        use rusmpp::values::{DataCoding, EsmClass, MessageState, Npi, Ton};
        use rusmpp::{Command as RCommand, CommandStatus};

        let deliver = DeliverSm::builder()
            .source_addr_ton(Ton::International)
            .source_addr_npi(Npi::Isdn)
            .source_addr(COctetString::from_static_slice(b"15550100\0").unwrap())
            .dest_addr_ton(Ton::International)
            .dest_addr_npi(Npi::Isdn)
            .destination_addr(COctetString::from_static_slice(b"15550199\0").unwrap())
            .esm_class(EsmClass::from(0x04))
            .data_coding(DataCoding::from(0x00))
            .short_message(OctetString::from_static_slice(b"id:A1 stat:DELIVRD").unwrap())
            .tlvs(vec![
                MessageDeliveryRequestTlvValue::ReceiptedMessageId(COctetString::from_static_slice(b"A1\0").unwrap()),
                MessageDeliveryRequestTlvValue::MessageState(MessageState::Delivered),
            ])
            .build();
        let command = RCommand::new(CommandStatus::EsmeRok, 9, deliver);
        let mut bytes = BytesMut::new();
        CommandCodec::new().encode(&command, &mut bytes).unwrap();

        let parsed = parse(&bytes).unwrap();
        assert_eq!(parsed.sequence, 9);
        let Body::DeliverSm(message) = parsed.body else { panic!("{parsed:?}") };
        assert_eq!((message.source.ton, message.source.npi, message.source.addr.as_str()), (1, 1, "15550100"));
        assert_eq!(message.dest.addr, "15550199");
        assert_eq!(message.esm_class, 0x04);
        assert_eq!(message.short_message, b"id:A1 stat:DELIVRD");
        assert_eq!(message.tlv(tag::RECEIPTED_MESSAGE_ID).map(tlv_c_string), Some("A1".into()));
        assert_eq!(message.tlv(tag::MESSAGE_STATE), Some(&[2][..]));
    }
}
