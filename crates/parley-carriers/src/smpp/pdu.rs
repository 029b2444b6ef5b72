//! The SMPP 3.4 wire format for the commands an ESME needs: a pure, incremental codec.
//!
//! [`check`] looks at the front of a buffer and says how long the next PDU is, or that more bytes are
//! needed ([`CheckError::Incomplete`]), so partial and coalesced reads are the caller's loop and never a
//! special case. [`parse`] turns exactly one PDU into a [`Command`]; [`encode`] does the reverse. Nothing
//! here does I/O: `session.rs` owns the socket.
//!
//! Framing is strict and bodies are read leniently, because real SMSCs are sloppy in the body and a
//! stream that loses its framing is lost for good:
//! - A PDU whose body does not parse is still skipped by its `command_length`, so the next one decodes,
//!   and [`Malformed`] keeps its header so the session can answer it.
//! - C-octet strings are read as Latin-1 (every byte is one character), so a stray non-ASCII byte in an
//!   address or message id never rejects a message; an over-long one is accepted as it is.
//! - A C-octet string inside a TLV may lack its NUL (common in `receipted_message_id`).
//! - A response may have no body at all (usual with an error status); it reads as empty fields.
//! - Unknown command ids and TLV tags are kept, not refused.
//!
//! Sources: SMPP v3.4 Issue 1.2 §3 (header), §4 (PDUs), §5.3 (TLVs). Cross-checked against `rusmpp`,
//! which serves as an independent decoder in this module's tests.

use bytes::{BufMut, BytesMut};

/// The header: `command_length`, `command_id`, `command_status`, `sequence_number`, 4 octets each.
pub const HEADER_LEN: usize = 16;

/// The longest PDU we accept: room for a 64 KiB `message_payload` and the rest of a `deliver_sm`. A
/// longer `command_length` is taken as a broken stream rather than a reason to buffer without bound.
pub const MAX_LEN: usize = 70_000;

/// Command ids (SMPP 3.4 §5.1.2.1). A response is its request's id with bit 31 set.
pub mod command_id {
    /// The answer to a PDU that could not be read.
    pub const GENERIC_NACK: u32 = 0x8000_0000;
    /// Bind to receive only.
    pub const BIND_RECEIVER: u32 = 0x0000_0001;
    /// Bind to send only.
    pub const BIND_TRANSMITTER: u32 = 0x0000_0002;
    /// A message from the ESME.
    pub const SUBMIT_SM: u32 = 0x0000_0004;
    /// A message or receipt from the SMSC.
    pub const DELIVER_SM: u32 = 0x0000_0005;
    /// Ends the session.
    pub const UNBIND: u32 = 0x0000_0006;
    /// Bind to send and receive on one connection.
    pub const BIND_TRANSCEIVER: u32 = 0x0000_0009;
    /// Keep-alive.
    pub const ENQUIRE_LINK: u32 = 0x0000_0015;
    /// Bit 31: the command is a response.
    pub const RESPONSE: u32 = 0x8000_0000;
}

/// Command status codes (SMPP 3.4 §5.1.3) that Parley sends or branches on.
pub mod status {
    /// No error.
    pub const OK: u32 = 0x0000_0000;
    /// Message length is invalid.
    pub const INVALID_MESSAGE_LENGTH: u32 = 0x0000_0001;
    /// Command length is invalid.
    pub const INVALID_COMMAND_LENGTH: u32 = 0x0000_0002;
    /// Invalid command id.
    pub const INVALID_COMMAND_ID: u32 = 0x0000_0003;
    /// Incorrect bind status for the command.
    pub const INVALID_BIND_STATUS: u32 = 0x0000_0004;
    /// The ESME is already bound.
    pub const ALREADY_BOUND: u32 = 0x0000_0005;
    /// System error.
    pub const SYSTEM_ERROR: u32 = 0x0000_0008;
    /// Bind failed.
    pub const BIND_FAILED: u32 = 0x0000_000D;
    /// Invalid password.
    pub const INVALID_PASSWORD: u32 = 0x0000_000E;
    /// Invalid system id.
    pub const INVALID_SYSTEM_ID: u32 = 0x0000_000F;
    /// The SMSC's message queue is full.
    pub const MESSAGE_QUEUE_FULL: u32 = 0x0000_0014;
    /// Throttling error: the ESME exceeded its allowed message rate.
    pub const THROTTLED: u32 = 0x0000_0058;
    /// The ESME cannot take the message now; the SMSC should deliver it again later.
    pub const RX_TEMPORARY_APP_ERROR: u32 = 0x0000_0064;
    /// The ESME will never take the message.
    pub const RX_PERMANENT_APP_ERROR: u32 = 0x0000_0065;
}

/// TLV tags (SMPP 3.4 §5.3.2) that Parley reads or writes.
pub mod tag {
    /// The SMSC's id of the message a receipt is about (C-octet string).
    pub const RECEIPTED_MESSAGE_ID: u16 = 0x001E;
    /// The reference shared by the parts of a concatenated message (u16).
    pub const SAR_MSG_REF_NUM: u16 = 0x020C;
    /// How many parts the message has (u8).
    pub const SAR_TOTAL_SEGMENTS: u16 = 0x020E;
    /// This part's number, from 1 (u8).
    pub const SAR_SEGMENT_SEQNUM: u16 = 0x020F;
    /// The SMPP version the SMSC speaks, in a bind response (u8).
    pub const SC_INTERFACE_VERSION: u16 = 0x0210;
    /// Network type (u8) and error code (u16) of a failed delivery.
    pub const NETWORK_ERROR_CODE: u16 = 0x0423;
    /// User data too long for short_message, up to 64 KiB.
    pub const MESSAGE_PAYLOAD: u16 = 0x0424;
    /// The message's state in a receipt (u8: 2 delivered, 5 undeliverable, ...).
    pub const MESSAGE_STATE: u16 = 0x0427;
}

/// One PDU: the header fields other than the length (which [`encode`] computes), and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// `command_status`: 0 in requests; the outcome in responses.
    pub status: u32,
    /// Correlates a response with its request; 1 to 0x7FFFFFFF.
    pub sequence: u32,
    pub body: Body,
}

/// The body of a PDU, by command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// `bind_receiver`, `bind_transmitter` or `bind_transceiver`.
    Bind(BindKind, Bind),
    /// Their responses.
    BindResp(BindKind, BindResp),
    /// `submit_sm`.
    SubmitSm(Message),
    /// `submit_sm_resp`.
    SubmitSmResp(MessageId),
    /// `deliver_sm`.
    DeliverSm(Message),
    /// `deliver_sm_resp`.
    DeliverSmResp(MessageId),
    /// `enquire_link`, which has no body.
    EnquireLink,
    /// `enquire_link_resp`.
    EnquireLinkResp,
    /// `unbind`.
    Unbind,
    /// `unbind_resp`.
    UnbindResp,
    /// `generic_nack`.
    GenericNack,
    /// A command this codec does not speak, kept whole so that the session can answer it.
    Other { command_id: u32, body: Vec<u8> },
}

/// Which of the three binds: they share one layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindKind {
    /// Receives messages and receipts only.
    Receiver,
    /// Sends only.
    Transmitter,
    /// Both, on one connection (SMPP 3.4 and later).
    Transceiver,
}

/// The body of `bind_receiver`, `bind_transmitter` and `bind_transceiver`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Bind {
    pub system_id: String,
    pub password: String,
    pub system_type: String,
    /// 0x34 for SMPP 3.4.
    pub interface_version: u8,
    pub addr_ton: u8,
    pub addr_npi: u8,
    pub address_range: String,
}

impl std::fmt::Debug for Bind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bind")
            .field("system_id", &self.system_id)
            .field("password", &"[redacted]")
            .field("system_type", &self.system_type)
            .field("interface_version", &self.interface_version)
            .field("addr_ton", &self.addr_ton)
            .field("addr_npi", &self.addr_npi)
            .field("address_range", &self.address_range)
            .finish()
    }
}

/// The body of a bind response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BindResp {
    /// The SMSC's own id.
    pub system_id: String,
    /// Optional parameters, such as `sc_interface_version`.
    pub tlvs: Vec<Tlv>,
}

/// The body of `submit_sm_resp` and `deliver_sm_resp`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageId {
    /// The SMSC's id for a submitted message; empty in a `deliver_sm_resp`.
    pub message_id: String,
}

/// An address with its type of number and numbering plan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    /// Type of number: 1 international, 2 national, 5 alphanumeric, ...
    pub ton: u8,
    /// Numbering plan: 1 ISDN (E.164), ...
    pub npi: u8,
    /// Digits without `+` for numbers; at most 20 characters by the spec (longer is read anyway).
    pub addr: String,
}

/// The body of `submit_sm` and `deliver_sm`, which share one layout (SMPP 3.4 §4.4.1 and §4.6.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub service_type: String,
    pub source: Address,
    pub dest: Address,
    /// Message mode and type (0x04: delivery receipt) and features (0x40: the user data starts with a
    /// header).
    pub esm_class: u8,
    pub protocol_id: u8,
    pub priority_flag: u8,
    pub schedule_delivery_time: String,
    pub validity_period: String,
    /// Bits 0-1: 1 asks for a receipt on success or failure.
    pub registered_delivery: u8,
    pub replace_if_present_flag: u8,
    /// How `short_message` is encoded: 0 SMSC default (GSM-7 unpacked), 8 UCS-2, ...
    pub data_coding: u8,
    pub sm_default_msg_id: u8,
    /// The user data, header included; at most 255 octets (longer text goes in `message_payload`).
    pub short_message: Vec<u8>,
    pub tlvs: Vec<Tlv>,
}

impl Message {
    /// The value of the first TLV with `tag`.
    pub fn tlv(&self, tag: u16) -> Option<&[u8]> {
        self.tlvs.iter().find(|t| t.tag == tag).map(|t| t.value.as_slice())
    }
}

/// An optional parameter: tag, and a value of at most 65535 octets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    /// See [`tag`].
    pub tag: u16,
    /// The value as sent; at most 65535 octets.
    pub value: Vec<u8>,
}

/// Why the front of a buffer is not yet a PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// More bytes are needed.
    #[error("incomplete PDU")]
    Incomplete,
    /// The `command_length` is below the header's 16 octets or above [`MAX_LEN`]: the stream cannot be
    /// framed any more, and the connection must be dropped.
    #[error("command_length {0} is out of range (16 to {MAX_LEN})")]
    BadLength(u32),
}

/// Says how long the PDU at the front of `buf` is, once all of it is there.
pub fn check(buf: &[u8]) -> Result<usize, CheckError> {
    let Some(&[a, b, c, d]) = buf.get(..4) else {
        return Err(CheckError::Incomplete);
    };
    let declared = u32::from_be_bytes([a, b, c, d]);
    let len = usize::try_from(declared).map_err(|_| CheckError::BadLength(declared))?;
    if !(HEADER_LEN..=MAX_LEN).contains(&len) {
        return Err(CheckError::BadLength(declared));
    }
    if buf.len() < len { Err(CheckError::Incomplete) } else { Ok(len) }
}

/// A PDU that was framed correctly but whose body does not parse. It has been consumed; its header tells
/// the session what to answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed PDU (command_id {command_id:#010x}, sequence {sequence}): {reason}")]
pub struct Malformed {
    /// From the header, so the session can answer the right command.
    pub command_id: u32,
    /// From the header, so the answer correlates.
    pub sequence: u32,
    /// What is wrong with the body.
    pub reason: &'static str,
}

/// Parses one whole PDU, as [`check`] delimited it. Never panics, whatever the bytes.
pub fn parse(frame: &[u8]) -> Result<Command, Malformed> {
    let mut header = Reader::new(frame);
    let (length, command_id, status, sequence) = match (header.u32(), header.u32(), header.u32(), header.u32()) {
        (Ok(l), Ok(i), Ok(s), Ok(n)) => (l, i, s, n),
        _ => return Err(Malformed { command_id: 0, sequence: 0, reason: "shorter than the 16-octet header" }),
    };
    let malformed = |reason| Malformed { command_id, sequence, reason };
    // The body ends where command_length says, whatever follows in `frame`.
    let end = usize::try_from(length).ok().filter(|&end| end >= HEADER_LEN);
    let body =
        end.and_then(|end| frame.get(HEADER_LEN..end)).ok_or(malformed("command_length disagrees with the frame"))?;
    let body = parse_body(command_id, body).map_err(malformed)?;
    Ok(Command { status, sequence, body })
}

fn parse_body(command_id: u32, body: &[u8]) -> Result<Body, &'static str> {
    use command_id::*;
    let mut r = Reader::new(body);
    let parsed = match command_id {
        BIND_RECEIVER | BIND_TRANSMITTER | BIND_TRANSCEIVER => Body::Bind(bind_kind(command_id), parse_bind(&mut r)?),
        id if id & RESPONSE != 0 && matches!(id & !RESPONSE, BIND_RECEIVER | BIND_TRANSMITTER | BIND_TRANSCEIVER) => {
            // Lenient: an error response often has no body.
            let system_id = r.c_string_or_rest();
            let tlvs = parse_tlvs(&mut r)?;
            Body::BindResp(bind_kind(id & !RESPONSE), BindResp { system_id, tlvs })
        }
        SUBMIT_SM => Body::SubmitSm(parse_message(&mut r)?),
        DELIVER_SM => Body::DeliverSm(parse_message(&mut r)?),
        // The 3.4 responses have the id and nothing else; v5 TLVs or padding after it are ignored.
        id if id == SUBMIT_SM | RESPONSE => Body::SubmitSmResp(MessageId { message_id: r.c_string_or_rest() }),
        id if id == DELIVER_SM | RESPONSE => Body::DeliverSmResp(MessageId { message_id: r.c_string_or_rest() }),
        // Bodies where none belongs are ignored rather than refused.
        ENQUIRE_LINK => Body::EnquireLink,
        id if id == ENQUIRE_LINK | RESPONSE => Body::EnquireLinkResp,
        UNBIND => Body::Unbind,
        id if id == UNBIND | RESPONSE => Body::UnbindResp,
        GENERIC_NACK => Body::GenericNack,
        other => Body::Other { command_id: other, body: body.to_vec() },
    };
    Ok(parsed)
}

fn bind_kind(command_id: u32) -> BindKind {
    match command_id {
        command_id::BIND_RECEIVER => BindKind::Receiver,
        command_id::BIND_TRANSMITTER => BindKind::Transmitter,
        _ => BindKind::Transceiver,
    }
}

fn parse_bind(r: &mut Reader<'_>) -> Result<Bind, &'static str> {
    Ok(Bind {
        system_id: r.c_string()?,
        password: r.c_string()?,
        system_type: r.c_string()?,
        interface_version: r.u8()?,
        addr_ton: r.u8()?,
        addr_npi: r.u8()?,
        address_range: r.c_string()?,
    })
}

fn parse_message(r: &mut Reader<'_>) -> Result<Message, &'static str> {
    let service_type = r.c_string()?;
    let source = Address { ton: r.u8()?, npi: r.u8()?, addr: r.c_string()? };
    let dest = Address { ton: r.u8()?, npi: r.u8()?, addr: r.c_string()? };
    let esm_class = r.u8()?;
    let protocol_id = r.u8()?;
    let priority_flag = r.u8()?;
    let schedule_delivery_time = r.c_string()?;
    let validity_period = r.c_string()?;
    let registered_delivery = r.u8()?;
    let replace_if_present_flag = r.u8()?;
    let data_coding = r.u8()?;
    let sm_default_msg_id = r.u8()?;
    let sm_length = r.u8()?;
    let short_message = r.take(usize::from(sm_length)).ok_or("short_message is longer than the PDU")?.to_vec();
    let tlvs = parse_tlvs(r)?;
    Ok(Message {
        service_type,
        source,
        dest,
        esm_class,
        protocol_id,
        priority_flag,
        schedule_delivery_time,
        validity_period,
        registered_delivery,
        replace_if_present_flag,
        data_coding,
        sm_default_msg_id,
        short_message,
        tlvs,
    })
}

fn parse_tlvs(r: &mut Reader<'_>) -> Result<Vec<Tlv>, &'static str> {
    let mut tlvs = Vec::new();
    while !r.is_empty() {
        let tag = r.u16().map_err(|_| "a TLV header is cut short")?;
        let len = r.u16().map_err(|_| "a TLV header is cut short")?;
        let value = r.take(usize::from(len)).ok_or("a TLV value runs past the end of the PDU")?;
        tlvs.push(Tlv { tag, value: value.to_vec() });
    }
    Ok(tlvs)
}

/// Reads a TLV value that holds a C-octet string, with or without its NUL.
pub fn tlv_c_string(value: &[u8]) -> String {
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    latin1(&value[..end])
}

/// Why a command cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A C-octet string holds a NUL or a character beyond U+00FF.
    #[error("{field} cannot be written as a C-octet string (NUL or a character beyond Latin-1)")]
    CString { field: &'static str },
    /// `short_message` is over 255 octets; use the `message_payload` TLV instead.
    #[error("short_message is {0} octets; at most 255 fit")]
    ShortMessageTooLong(usize),
    /// A TLV value is over 65535 octets.
    #[error("TLV {tag:#06x} has {len} octets; at most 65535 fit")]
    TlvTooLong { tag: u16, len: usize },
    /// The whole PDU would exceed [`MAX_LEN`].
    #[error("the PDU would be {0} octets, over the {MAX_LEN} limit")]
    TooLong(usize),
}

impl Body {
    /// The command id this body is sent with.
    pub fn command_id(&self) -> u32 {
        use command_id::*;
        let bind = |kind: &BindKind| match kind {
            BindKind::Receiver => BIND_RECEIVER,
            BindKind::Transmitter => BIND_TRANSMITTER,
            BindKind::Transceiver => BIND_TRANSCEIVER,
        };
        match self {
            Body::Bind(kind, _) => bind(kind),
            Body::BindResp(kind, _) => bind(kind) | RESPONSE,
            Body::SubmitSm(_) => SUBMIT_SM,
            Body::SubmitSmResp(_) => SUBMIT_SM | RESPONSE,
            Body::DeliverSm(_) => DELIVER_SM,
            Body::DeliverSmResp(_) => DELIVER_SM | RESPONSE,
            Body::EnquireLink => ENQUIRE_LINK,
            Body::EnquireLinkResp => ENQUIRE_LINK | RESPONSE,
            Body::Unbind => UNBIND,
            Body::UnbindResp => UNBIND | RESPONSE,
            Body::GenericNack => GENERIC_NACK,
            Body::Other { command_id, .. } => *command_id,
        }
    }
}

/// Appends `command` to `dst` as one PDU. On error nothing is appended.
pub fn encode(command: &Command, dst: &mut BytesMut) -> Result<(), EncodeError> {
    let mut body = BytesMut::new();
    encode_body(&command.body, &mut body)?;
    let len = HEADER_LEN + body.len();
    let length = u32::try_from(len).ok().filter(|_| len <= MAX_LEN).ok_or(EncodeError::TooLong(len))?;
    dst.reserve(len);
    dst.put_u32(length);
    dst.put_u32(command.body.command_id());
    dst.put_u32(command.status);
    dst.put_u32(command.sequence);
    dst.put_slice(&body);
    Ok(())
}

fn encode_body(body: &Body, dst: &mut BytesMut) -> Result<(), EncodeError> {
    match body {
        Body::Bind(_, bind) => {
            put_c_string(dst, &bind.system_id, "system_id")?;
            put_c_string(dst, &bind.password, "password")?;
            put_c_string(dst, &bind.system_type, "system_type")?;
            dst.put_u8(bind.interface_version);
            dst.put_u8(bind.addr_ton);
            dst.put_u8(bind.addr_npi);
            put_c_string(dst, &bind.address_range, "address_range")?;
        }
        Body::BindResp(_, resp) => {
            put_c_string(dst, &resp.system_id, "system_id")?;
            put_tlvs(dst, &resp.tlvs)?;
        }
        Body::SubmitSm(message) | Body::DeliverSm(message) => put_message(dst, message)?,
        Body::SubmitSmResp(id) | Body::DeliverSmResp(id) => put_c_string(dst, &id.message_id, "message_id")?,
        Body::EnquireLink | Body::EnquireLinkResp | Body::Unbind | Body::UnbindResp | Body::GenericNack => {}
        Body::Other { body, .. } => dst.put_slice(body),
    }
    Ok(())
}

fn put_message(dst: &mut BytesMut, m: &Message) -> Result<(), EncodeError> {
    let sm_length =
        u8::try_from(m.short_message.len()).map_err(|_| EncodeError::ShortMessageTooLong(m.short_message.len()))?;
    put_c_string(dst, &m.service_type, "service_type")?;
    dst.put_u8(m.source.ton);
    dst.put_u8(m.source.npi);
    put_c_string(dst, &m.source.addr, "source_addr")?;
    dst.put_u8(m.dest.ton);
    dst.put_u8(m.dest.npi);
    put_c_string(dst, &m.dest.addr, "destination_addr")?;
    dst.put_u8(m.esm_class);
    dst.put_u8(m.protocol_id);
    dst.put_u8(m.priority_flag);
    put_c_string(dst, &m.schedule_delivery_time, "schedule_delivery_time")?;
    put_c_string(dst, &m.validity_period, "validity_period")?;
    dst.put_u8(m.registered_delivery);
    dst.put_u8(m.replace_if_present_flag);
    dst.put_u8(m.data_coding);
    dst.put_u8(m.sm_default_msg_id);
    dst.put_u8(sm_length);
    dst.put_slice(&m.short_message);
    put_tlvs(dst, &m.tlvs)
}

fn put_tlvs(dst: &mut BytesMut, tlvs: &[Tlv]) -> Result<(), EncodeError> {
    for tlv in tlvs {
        let len = u16::try_from(tlv.value.len())
            .map_err(|_| EncodeError::TlvTooLong { tag: tlv.tag, len: tlv.value.len() })?;
        dst.put_u16(tlv.tag);
        dst.put_u16(len);
        dst.put_slice(&tlv.value);
    }
    Ok(())
}

fn put_c_string(dst: &mut BytesMut, text: &str, field: &'static str) -> Result<(), EncodeError> {
    for c in text.chars() {
        match u8::try_from(c) {
            Ok(byte) if byte != 0 => dst.put_u8(byte),
            _ => return Err(EncodeError::CString { field }),
        }
    }
    dst.put_u8(0);
    Ok(())
}

/// Bytes as Latin-1: one character a byte, so any bytes read and write back unchanged.
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// A cursor over a body; every read checks the bounds.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.rest.len() < n {
            return None;
        }
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some(taken)
    }

    fn u8(&mut self) -> Result<u8, &'static str> {
        match self.take(1) {
            Some(&[b]) => Ok(b),
            _ => Err("the body ends before a mandatory field"),
        }
    }

    fn u16(&mut self) -> Result<u16, &'static str> {
        match self.take(2) {
            Some(&[a, b]) => Ok(u16::from_be_bytes([a, b])),
            _ => Err("the body ends before a mandatory field"),
        }
    }

    fn u32(&mut self) -> Result<u32, &'static str> {
        match self.take(4) {
            Some(&[a, b, c, d]) => Ok(u32::from_be_bytes([a, b, c, d])),
            _ => Err("the body ends before a mandatory field"),
        }
    }

    /// A NUL-terminated string; the NUL must be there.
    fn c_string(&mut self) -> Result<String, &'static str> {
        let end = self.rest.iter().position(|&b| b == 0).ok_or("a C-octet string has no NUL")?;
        let text = latin1(&self.rest[..end]);
        self.rest = &self.rest[end + 1..];
        Ok(text)
    }

    /// A NUL-terminated string, or whatever is left when the NUL (or the whole field) is missing.
    fn c_string_or_rest(&mut self) -> String {
        let end = self.rest.iter().position(|&b| b == 0);
        let text = latin1(&self.rest[..end.unwrap_or(self.rest.len())]);
        self.rest = end.map_or(&[][..], |end| &self.rest[end + 1..]);
        text
    }
}

#[cfg(test)]
#[path = "pdu_tests.rs"]
mod tests;
