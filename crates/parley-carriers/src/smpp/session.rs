//! One SMPP session: the only code that touches the socket.
//!
//! It connects, binds as a transceiver (interface_version 0x34), and then serves until the connection
//! is lost or shutdown is asked for:
//! - `submit_sm` requests from [`super::Smpp`] are numbered and written; their responses are matched by
//!   sequence number and handed back.
//! - An enquire_link goes out every `enquire_link_interval`; one unanswered within `response_timeout`
//!   means the link is dead. The SMSC's enquire_link is answered at once.
//! - Each `deliver_sm` is read (receipt, message, or part of one); what it carries goes to the sink in a
//!   task of its own, so a slow commit never stalls the link, and the `deliver_sm_resp` is written when
//!   the sink returns: ESME_ROK after it committed, ESME_RX_T_APPN (deliver again later) if it failed,
//!   ESME_RX_P_APPN for what can never become a message.
//! - On shutdown, the session stops taking requests, lets sink calls and submits in flight finish (for at
//!   most `response_timeout`), then unbinds and waits for unbind_resp (as long again). `deliver_sm`
//!   arriving meanwhile is answered ESME_RX_T_APPN, so the SMSC keeps it for the next bind.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

use super::SmppConfig;
use super::concat::{Key, Reassembly};
use super::inbound;
use super::pdu::{
    self, Bind, BindKind, Body, CheckError, Command, EncodeError, Malformed, Message, MessageId, command_id, status,
};
use super::receipt;
use super::submit::describe;
use crate::{InboundSms, Sink};

/// A request for the bound session, with where to send the SMSC's response.
pub(crate) struct Request {
    pub(crate) body: Body,
    pub(crate) reply: oneshot::Sender<Result<Command, LinkError>>,
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LinkError {
    #[error("not bound to the SMSC")]
    NotBound,
    #[error("the connection to the SMSC closed before it answered")]
    Closed,
    #[error("the SMSC did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the PDU cannot be written: {0}")]
    Encode(#[from] EncodeError),
    #[error("the SMSC's answer is malformed: {0}")]
    Malformed(Malformed),
}

/// What a session needs from [`super::Smpp`]; the parts buffer and the request queue outlive sessions.
pub(crate) struct Link<'a> {
    pub(crate) config: &'a SmppConfig,
    pub(crate) sink: &'a Arc<dyn Sink>,
    pub(crate) bound: &'a watch::Sender<bool>,
    pub(crate) reassembly: &'a mut Reassembly,
    pub(crate) requests: &'a mut mpsc::Receiver<Request>,
    pub(crate) shutdown: &'a mut watch::Receiver<bool>,
}

/// How a session ended.
#[derive(Debug)]
pub(crate) enum Ended {
    /// Shutdown was asked for; the session unbound (or tried to).
    Shutdown,
    /// The connection failed or was closed; `was_bound` says whether the bind had succeeded.
    Lost { was_bound: bool, reason: String },
}

/// Runs one session from connect to close.
pub(crate) async fn run(link: Link<'_>) -> Ended {
    let config = link.config;
    let connection = match connect_and_bind(config).await {
        Ok(connection) => connection,
        Err(reason) => return Ended::Lost { was_bound: false, reason },
    };
    tracing::info!(carrier = %config.name, host = %config.host, port = config.port, "SMPP transceiver bound");
    link.bound.send_replace(true);
    let mut session = Session {
        connection,
        next_sequence: FIRST_SEQUENCE_AFTER_BIND,
        waiting: HashMap::new(),
        enquire_link_sent: Instant::now(),
        sink_calls: JoinSet::new(),
        phase: Phase::Bound,
        link,
    };
    let ended = session.serve().await;
    session.link.bound.send_replace(false);
    // Sink calls still running finish on their own: cutting a commit short helps nobody, and the SMSC
    // delivers again what it got no answer for.
    session.sink_calls.detach_all();
    for (_, waiter) in session.waiting.drain() {
        if let Waiter::Caller { reply, .. } = waiter {
            let _ = reply.send(Err(LinkError::Closed));
        }
    }
    ended
}

/// The bind goes out as sequence 1.
const BIND_SEQUENCE: u32 = 1;
const FIRST_SEQUENCE_AFTER_BIND: u32 = 2;
/// Sequence numbers run from 1 to this, then wrap.
const MAX_SEQUENCE: u32 = 0x7FFF_FFFF;

async fn connect_and_bind(config: &SmppConfig) -> Result<Connection, String> {
    let wait = config.response_timeout;
    let address = (config.host.as_str(), config.port);
    let stream = match tokio::time::timeout(wait, TcpStream::connect(address)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return Err(format!("cannot connect to {}:{}: {e}", config.host, config.port)),
        Err(_) => return Err(format!("no TCP connection to {}:{} within {wait:?}", config.host, config.port)),
    };
    stream.set_nodelay(true).map_err(|e| format!("cannot set TCP_NODELAY: {e}"))?;
    let mut connection = Connection::new(stream);
    let bind = Bind {
        system_id: config.system_id.clone(),
        password: config.password.clone(),
        system_type: config.system_type.clone(),
        interface_version: 0x34,
        addr_ton: 0,
        addr_npi: 0,
        address_range: String::new(),
    };
    let bind = Command { status: status::OK, sequence: BIND_SEQUENCE, body: Body::Bind(BindKind::Transceiver, bind) };
    connection.queue(&bind).map_err(|e| format!("cannot write the bind: {e}"))?;
    let answer = async {
        connection.flush().await.map_err(|e| format!("cannot send the bind: {e}"))?;
        loop {
            let command = match connection.read().await {
                Ok(Some(Ok(command))) => command,
                Ok(Some(Err(malformed))) => return Err(format!("the SMSC answered the bind with {malformed}")),
                Ok(None) => return Err("the SMSC closed the connection during the bind".to_owned()),
                Err(e) => return Err(format!("reading the bind response: {e}")),
            };
            match command.body {
                Body::BindResp(BindKind::Transceiver, _) | Body::GenericNack if command.sequence == BIND_SEQUENCE => {
                    return if command.status == status::OK {
                        Ok(())
                    } else {
                        Err(format!("the SMSC refused the bind: {}", describe(command.status)))
                    };
                }
                Body::EnquireLink => {
                    let resp = Command { status: status::OK, sequence: command.sequence, body: Body::EnquireLinkResp };
                    connection.queue(&resp).map_err(|e| e.to_string())?;
                    connection.flush().await.map_err(|e| format!("answering enquire_link: {e}"))?;
                }
                other => {
                    tracing::debug!(carrier = %config.name, command_id = other.command_id(), "ignored while binding");
                }
            }
        }
    };
    match tokio::time::timeout(wait, answer).await {
        Ok(Ok(())) => Ok(connection),
        Ok(Err(reason)) => Err(reason),
        Err(_) => Err(format!("no bind_transceiver_resp within {wait:?}")),
    }
}

/// The socket, with its read buffer and the PDUs queued for writing.
struct Connection {
    stream: TcpStream,
    input: BytesMut,
    output: BytesMut,
}

impl Connection {
    fn new(stream: TcpStream) -> Connection {
        Connection { stream, input: BytesMut::with_capacity(8 * 1024), output: BytesMut::with_capacity(8 * 1024) }
    }

    /// Reads the next PDU: a command, or a malformed one (already skipped). `None` when the SMSC closed
    /// the connection between PDUs. Cancel-safe: bytes read stay in the buffer for the next call.
    async fn read(&mut self) -> io::Result<Option<Result<Command, Malformed>>> {
        loop {
            match pdu::check(&self.input) {
                Ok(len) => {
                    let frame = self.input.split_to(len);
                    return Ok(Some(pdu::parse(&frame)));
                }
                Err(CheckError::Incomplete) => {}
                Err(e @ CheckError::BadLength(_)) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
            if self.stream.read_buf(&mut self.input).await? == 0 {
                return if self.input.is_empty() {
                    Ok(None)
                } else {
                    Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the SMSC closed the connection mid-PDU"))
                };
            }
        }
    }

    fn queue(&mut self, command: &Command) -> Result<(), EncodeError> {
        tracing::trace!(?command, "SMPP out");
        pdu::encode(command, &mut self.output)
    }

    async fn flush(&mut self) -> io::Result<()> {
        if !self.output.is_empty() {
            self.stream.write_all(&self.output).await?;
            self.output.clear();
        }
        Ok(())
    }
}

/// Who waits for the response to a request we sent.
enum Waiter {
    /// A `send` call.
    Caller { reply: oneshot::Sender<Result<Command, LinkError>>, sent: Instant },
    /// Our keep-alive.
    EnquireLink { sent: Instant },
    /// Our unbind, on shutdown.
    Unbind,
}

/// A sink call that returned: the `deliver_sm` to answer, how, and a whole text to forget once taken.
struct Answer {
    sequence: u32,
    status: u32,
    taken: Option<Key>,
}

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Serving requests and deliveries.
    Bound,
    /// Shutting down: finishing what is in flight, until the deadline at the latest.
    Draining { until: Instant },
    /// Unbind sent; waiting for its response until the deadline.
    Unbinding { until: Instant },
}

struct Session<'a> {
    link: Link<'a>,
    connection: Connection,
    /// The next sequence number to use; 1 to 0x7FFFFFFF.
    next_sequence: u32,
    /// Our requests that await a response, by sequence number.
    waiting: HashMap<u32, Waiter>,
    /// When the last enquire_link went out.
    enquire_link_sent: Instant,
    sink_calls: JoinSet<Answer>,
    phase: Phase,
}

/// What woke the session up.
enum Event {
    Shutdown,
    Read(io::Result<Option<Result<Command, Malformed>>>),
    Request(Request),
    Answer(Result<Answer, tokio::task::JoinError>),
    Tick,
    Deadline,
}

impl Session<'_> {
    async fn serve(&mut self) -> Ended {
        let mut tick = tokio::time::interval(self.tick_period());
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let bound = self.phase == Phase::Bound;
            let deadline = match self.phase {
                Phase::Bound => None,
                Phase::Draining { until } | Phase::Unbinding { until } => Some(until),
            };
            let event = tokio::select! {
                _ = self.link.shutdown.wait_for(|stop| *stop), if bound => Event::Shutdown,
                Some(answer) = self.sink_calls.join_next() => Event::Answer(answer),
                read = self.connection.read() => Event::Read(read),
                Some(request) = self.link.requests.recv(), if bound => Event::Request(request),
                _ = tick.tick() => Event::Tick,
                _ = sleep_until_some(deadline), if deadline.is_some() => Event::Deadline,
            };
            if let Err(ended) = self.handle(event) {
                let _ = self.flush().await;
                return ended;
            }
            if let Err(ended) = self.flush().await {
                return ended;
            }
            if let Some(ended) = self.advance_shutdown() {
                let _ = self.flush().await;
                return ended;
            }
        }
    }

    fn tick_period(&self) -> Duration {
        let config = self.link.config;
        let period = Duration::from_secs(1).min(config.response_timeout / 2).min(config.enquire_link_interval / 2);
        period.max(Duration::from_millis(10))
    }

    fn lost(&self, reason: impl Into<String>) -> Ended {
        Ended::Lost { was_bound: true, reason: reason.into() }
    }

    async fn flush(&mut self) -> Result<(), Ended> {
        let wait = self.link.config.response_timeout;
        match tokio::time::timeout(wait, self.connection.flush()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(self.lost(format!("writing to the SMSC: {e}"))),
            Err(_) => Err(self.lost(format!("the SMSC took no data for {wait:?}"))),
        }
    }

    fn handle(&mut self, event: Event) -> Result<(), Ended> {
        match event {
            Event::Shutdown => {
                tracing::info!(carrier = %self.link.config.name, "SMPP shutting down");
                // New sends fail fast from now on; those in flight get their answers.
                self.link.bound.send_replace(false);
                self.phase = Phase::Draining { until: Instant::now() + self.link.config.response_timeout };
                Ok(())
            }
            Event::Read(Ok(Some(Ok(command)))) => self.received(command),
            Event::Read(Ok(Some(Err(malformed)))) => {
                self.malformed(malformed);
                Ok(())
            }
            Event::Read(Ok(None)) => Err(self.lost("the SMSC closed the connection")),
            Event::Read(Err(e)) => Err(self.lost(format!("reading from the SMSC: {e}"))),
            Event::Request(request) => {
                self.request(request);
                Ok(())
            }
            Event::Answer(Ok(answer)) => {
                if let Some(key) = &answer.taken
                    && answer.status == status::OK
                {
                    self.link.reassembly.done(key);
                }
                self.respond(answer.sequence, Body::DeliverSmResp(MessageId::default()), answer.status);
                Ok(())
            }
            Event::Answer(Err(e)) => {
                // The deliver_sm stays unanswered; the SMSC times it out and delivers it again.
                tracing::error!(carrier = %self.link.config.name, error = %e, "a sink call failed to complete");
                Ok(())
            }
            Event::Tick => self.tick(),
            Event::Deadline => Ok(()),
        }
    }

    /// Moves the shutdown along once what it waits for is done (or its time is up).
    fn advance_shutdown(&mut self) -> Option<Ended> {
        let now = Instant::now();
        match self.phase {
            Phase::Bound => None,
            Phase::Draining { until } => {
                let callers = self.waiting.values().any(|w| matches!(w, Waiter::Caller { .. }));
                if (self.sink_calls.is_empty() && !callers) || now >= until {
                    let sequence = self.sequence();
                    self.waiting.insert(sequence, Waiter::Unbind);
                    self.queue(&Command { status: status::OK, sequence, body: Body::Unbind });
                    self.phase = Phase::Unbinding { until: now + self.link.config.response_timeout };
                }
                None
            }
            Phase::Unbinding { until } => {
                let unbound = !self.waiting.values().any(|w| matches!(w, Waiter::Unbind));
                if !unbound && now < until {
                    return None;
                }
                if unbound {
                    tracing::info!(carrier = %self.link.config.name, "SMPP unbound");
                } else {
                    tracing::warn!(carrier = %self.link.config.name, "no unbind_resp; closing anyway");
                }
                Some(Ended::Shutdown)
            }
        }
    }

    fn sequence(&mut self) -> u32 {
        loop {
            let sequence = self.next_sequence;
            self.next_sequence = if sequence >= MAX_SEQUENCE { 1 } else { sequence + 1 };
            // After a wrap, skip numbers still waiting for their response.
            if !self.waiting.contains_key(&sequence) {
                return sequence;
            }
        }
    }

    fn queue(&mut self, command: &Command) {
        if let Err(e) = self.connection.queue(command) {
            tracing::error!(carrier = %self.link.config.name, error = %e, "cannot write a PDU");
        }
    }

    fn respond(&mut self, sequence: u32, body: Body, status: u32) {
        self.queue(&Command { status, sequence, body });
    }

    fn request(&mut self, request: Request) {
        let sequence = self.sequence();
        let command = Command { status: status::OK, sequence, body: request.body };
        match self.connection.queue(&command) {
            Ok(()) => {
                self.waiting.insert(sequence, Waiter::Caller { reply: request.reply, sent: Instant::now() });
            }
            Err(e) => {
                let _ = request.reply.send(Err(LinkError::Encode(e)));
            }
        }
    }

    fn received(&mut self, command: Command) -> Result<(), Ended> {
        tracing::trace!(?command, "SMPP in");
        let sequence = command.sequence;
        match command.body {
            Body::EnquireLink => self.respond(sequence, Body::EnquireLinkResp, status::OK),
            Body::Unbind => {
                self.respond(sequence, Body::UnbindResp, status::OK);
                return Err(self.lost("the SMSC unbound"));
            }
            Body::DeliverSm(message) => self.deliver(sequence, message),
            Body::Other { command_id, .. } if command_id & command_id::RESPONSE == 0 => {
                tracing::warn!(carrier = %self.link.config.name, command_id, "the SMSC sent a command we do not speak");
                self.respond(sequence, Body::GenericNack, status::INVALID_COMMAND_ID);
            }
            Body::Bind(..) | Body::SubmitSm(_) => {
                self.respond(sequence, Body::GenericNack, status::INVALID_COMMAND_ID);
            }
            _ => self.response(command),
        }
        Ok(())
    }

    /// A response (or generic_nack) to one of our requests.
    fn response(&mut self, command: Command) {
        match self.waiting.remove(&command.sequence) {
            Some(Waiter::Caller { reply, .. }) => {
                let _ = reply.send(Ok(command));
            }
            Some(Waiter::EnquireLink { .. } | Waiter::Unbind) => {}
            None => tracing::debug!(
                carrier = %self.link.config.name,
                sequence = command.sequence,
                command_id = command.body.command_id(),
                "a response nobody waits for (too late?)"
            ),
        }
    }

    fn malformed(&mut self, malformed: Malformed) {
        tracing::error!(carrier = %self.link.config.name, %malformed, "skipped a PDU");
        match malformed.command_id {
            // It will not read better next time: refuse it for good rather than have it redelivered forever.
            command_id::DELIVER_SM => {
                let sequence = malformed.sequence;
                self.respond(sequence, Body::DeliverSmResp(MessageId::default()), status::RX_PERMANENT_APP_ERROR);
            }
            id if id & command_id::RESPONSE == 0 => {
                self.respond(malformed.sequence, Body::GenericNack, status::INVALID_COMMAND_LENGTH);
            }
            _ => {
                if let Some(Waiter::Caller { reply, .. }) = self.waiting.remove(&malformed.sequence) {
                    let _ = reply.send(Err(LinkError::Malformed(malformed)));
                }
            }
        }
    }

    /// A `deliver_sm`: a receipt, a consumer's message, or a part of one.
    fn deliver(&mut self, sequence: u32, message: Message) {
        let config = self.link.config;
        if self.phase != Phase::Bound {
            // Keep it at the SMSC for the next bind.
            self.respond(sequence, Body::DeliverSmResp(MessageId::default()), status::RX_TEMPORARY_APP_ERROR);
            return;
        }
        let ok = |this: &mut Self| this.respond(sequence, Body::DeliverSmResp(MessageId::default()), status::OK);
        if receipt::is_receipt(message.esm_class) {
            match receipt::parse(&config.name, &message) {
                Ok(receipt) => {
                    let sink = Arc::clone(self.link.sink);
                    self.sink_calls.spawn(async move {
                        let result = sink.receipt(receipt).await;
                        Answer { sequence, status: sink_status(result, "receipt"), taken: None }
                    });
                }
                Err(e) => {
                    tracing::warn!(carrier = %config.name, error = %e, "acknowledged a receipt we cannot read");
                    ok(self);
                }
            }
            return;
        }
        if !inbound::is_message(message.esm_class) {
            tracing::debug!(carrier = %config.name, esm_class = message.esm_class, "acknowledged a deliver_sm that is no message");
            ok(self);
            return;
        }
        let mo = match inbound::read(&message) {
            Ok(mo) => mo,
            Err(e) => {
                tracing::warn!(carrier = %config.name, error = %e, "refused an inbound message");
                self.respond(sequence, Body::DeliverSmResp(MessageId::default()), status::RX_PERMANENT_APP_ERROR);
                return;
            }
        };
        let (sms, taken) = match mo.concat {
            None => {
                let body = inbound::decode_text(mo.data_coding, &mo.payload);
                let sms = InboundSms {
                    carrier: config.name.clone(),
                    provider_id: fresh_provider_id(),
                    from: mo.from,
                    to: mo.to,
                    body,
                    media: vec![],
                };
                (sms, None)
            }
            Some(concat) => match self.link.reassembly.add(mo, concat, Instant::now()) {
                // Held until the rest arrives; acknowledged now (see concat.rs).
                None => return ok(self),
                Some(whole) => {
                    let sms = InboundSms {
                        carrier: config.name.clone(),
                        provider_id: whole.provider_id,
                        from: whole.key.from.clone(),
                        to: whole.key.to.clone(),
                        body: whole.text,
                        media: vec![],
                    };
                    (sms, Some(whole.key))
                }
            },
        };
        let sink = Arc::clone(self.link.sink);
        self.sink_calls.spawn(async move {
            let result = sink.inbound(sms).await;
            Answer { sequence, status: sink_status(result, "inbound message"), taken }
        });
    }

    /// Keep-alive, overdue responses, stale parts.
    fn tick(&mut self) -> Result<(), Ended> {
        let now = Instant::now();
        let config = self.link.config;
        let wait = config.response_timeout;
        let mut overdue = Vec::new();
        let mut enquire_link_pending = false;
        for (&sequence, waiter) in &self.waiting {
            match waiter {
                Waiter::EnquireLink { sent } => {
                    if now.duration_since(*sent) > wait {
                        return Err(self.lost(format!("no enquire_link_resp within {wait:?}")));
                    }
                    enquire_link_pending = true;
                }
                Waiter::Caller { sent, .. } if now.duration_since(*sent) > wait => overdue.push(sequence),
                _ => {}
            }
        }
        for sequence in overdue {
            if let Some(Waiter::Caller { reply, .. }) = self.waiting.remove(&sequence) {
                let _ = reply.send(Err(LinkError::Timeout(wait)));
            }
        }
        if self.phase == Phase::Bound
            && !enquire_link_pending
            && now.duration_since(self.enquire_link_sent) >= config.enquire_link_interval
        {
            let sequence = self.sequence();
            self.waiting.insert(sequence, Waiter::EnquireLink { sent: now });
            self.enquire_link_sent = now;
            self.queue(&Command { status: status::OK, sequence, body: Body::EnquireLink });
        }
        for (key, received) in self.link.reassembly.expire(now, config.reassembly_timeout) {
            tracing::warn!(
                carrier = %config.name,
                from = %key.from,
                reference = key.reference,
                received,
                total = key.total,
                "dropped an inbound text whose other parts never arrived"
            );
        }
        Ok(())
    }
}

/// How to answer a `deliver_sm` after the sink returned.
fn sink_status(result: Result<(), crate::SinkError>, what: &str) -> u32 {
    match result {
        Ok(()) => status::OK,
        Err(e) => {
            tracing::warn!(error = %e, "the sink did not take the {what}; the SMSC will deliver it again");
            status::RX_TEMPORARY_APP_ERROR
        }
    }
}

async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// A provider id for a single-part inbound message, unique to this arrival (see the module notes in
/// `mod.rs` for why it is not derived from the message).
fn fresh_provider_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("smpp-mo-{nanos:x}-{count:x}")
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
