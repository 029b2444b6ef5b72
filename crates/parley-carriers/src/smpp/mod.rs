//! SMPP 3.4: Parley as an ESME holding a transceiver bind to an SMSC or aggregator.
//!
//! - [`pdu`]: the wire format, a pure incremental codec (`check`/`parse`/`encode`).
//! - `session.rs`: one connection. It alone owns the socket: it binds, keeps the link alive
//!   (enquire_link both ways), matches responses to requests, answers `deliver_sm` once the sink has
//!   committed what it carried, and unbinds on shutdown.
//! - `submit.rs`: outbound messages as `submit_sm` parts (GSM-7 or UCS-2, UDH concatenation) and what the
//!   SMSC's answer means for the outbox.
//! - `inbound.rs`, `concat.rs`: consumers' messages, and their parts held until the text is whole.
//! - `receipt.rs`: delivery receipts, from TLVs or the Appendix B text.
//! - [`slots`]: a deployment-wide limit on binds, shared by several nodes (`max_binds`).
//!
//! This file holds the configuration and [`Smpp`], which reconnects with backoff for as long as
//! [`Carrier::run`] runs and hands `send` calls to whichever session is bound.
//!
//! Delivery guarantees. Inbound messages and receipts are acknowledged only after the sink returned, and
//! answered ESME_RX_T_APPN otherwise, so the SMSC delivers them again. A single-part message gets a fresh
//! provider id each time it arrives: SMPP gives an ESME nothing to recognize a redelivery by, and a digest
//! of the text would merge a consumer's two identical "1"s in a menu. So a crash between the sink's
//! commit and the answer can store it twice. A concatenated text has a stable id (see `concat.rs`).
//! Outbound, a `submit_sm` whose answer never came is reported `Transient`, and the outbox's retry may
//! send it twice; the concatenation reference repeats with it, so a handset shows one text.

pub mod pdu;

mod concat;
mod inbound;
mod receipt;
mod session;
pub mod slots;
mod submit;

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, oneshot, watch};

use crate::{Accepted, BoxFuture, Carrier, OutboundSms, SendError, Sink};
use pdu::{Body, Message, MessageId};
use session::{Ended, Link, Request};
use slots::BindSlots;

/// How Parley binds to one SMSC.
#[derive(Clone)]
pub struct SmppConfig {
    /// The carrier account's name in Parley; inbound messages and receipts carry it.
    pub name: String,
    pub host: String,
    pub port: u16,
    /// The ESME's login; at most 15 characters by the spec.
    pub system_id: String,
    /// At most 8 characters by the spec. Never logged.
    pub password: String,
    /// Often empty; some SMSCs route or bill by it. At most 12 characters.
    pub system_type: String,
    /// How many `submit_sm` may await their response at once.
    pub window: usize,
    /// How often to send enquire_link to keep the bind (and NAT and firewalls) alive.
    pub enquire_link_interval: Duration,
    /// How long to wait for any response, for the TCP connect and for the bind.
    pub response_timeout: Duration,
    /// The first pause before reconnecting; it doubles after each failed attempt.
    pub reconnect_min: Duration,
    /// The longest pause between attempts.
    pub reconnect_max: Duration,
    /// TON and NPI of our numbers in `source_addr`: 1/1 (international, E.164) by default.
    pub source_ton: u8,
    pub source_npi: u8,
    /// TON and NPI of consumers' numbers in `destination_addr`: 1/1 by default.
    pub dest_ton: u8,
    pub dest_npi: u8,
    /// How long the parts of an inbound concatenated text wait for the rest before they are dropped.
    pub reassembly_timeout: Duration,
    /// How a text longer than one SMS goes to the SMSC.
    pub long_messages: LongMessages,
}

/// How long texts are sent: SMSCs differ in what they accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LongMessages {
    /// Parts with a concatenation header in the user data (esm_class 0x40): what every handset joins.
    #[default]
    Udh,
    /// Parts with the `sar_*` TLVs; the SMSC adds the headers.
    Sar,
    /// The whole text in one `submit_sm`, in the `message_payload` TLV; the SMSC splits it.
    Payload,
}

impl SmppConfig {
    /// A configuration with the defaults: window 10, enquire_link every 30 s, responses within 10 s,
    /// reconnecting after 1 s doubling up to 30 s, numbers as international E.164 (TON 1, NPI 1, sent
    /// without `+`), inbound parts kept for 10 minutes.
    pub fn new(
        name: impl Into<String>,
        host: impl Into<String>,
        port: u16,
        system_id: impl Into<String>,
        password: impl Into<String>,
    ) -> SmppConfig {
        SmppConfig {
            name: name.into(),
            host: host.into(),
            port,
            system_id: system_id.into(),
            password: password.into(),
            system_type: String::new(),
            window: 10,
            enquire_link_interval: Duration::from_secs(30),
            response_timeout: Duration::from_secs(10),
            reconnect_min: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(30),
            source_ton: 1,
            source_npi: 1,
            dest_ton: 1,
            dest_npi: 1,
            reassembly_timeout: Duration::from_secs(600),
            long_messages: LongMessages::Udh,
        }
    }
}

impl fmt::Debug for SmppConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmppConfig")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("system_id", &self.system_id)
            .field("password", &"[redacted]")
            .field("system_type", &self.system_type)
            .field("window", &self.window)
            .field("enquire_link_interval", &self.enquire_link_interval)
            .field("response_timeout", &self.response_timeout)
            .field("reconnect_min", &self.reconnect_min)
            .field("reconnect_max", &self.reconnect_max)
            .field("source_ton", &self.source_ton)
            .field("source_npi", &self.source_npi)
            .field("dest_ton", &self.dest_ton)
            .field("dest_npi", &self.dest_npi)
            .field("reassembly_timeout", &self.reassembly_timeout)
            .field("long_messages", &self.long_messages)
            .finish()
    }
}

/// An SMPP carrier account. [`Carrier::run`] keeps it bound; [`Carrier::send`] fails fast with
/// [`SendError::Transient`] while it is not.
pub struct Smpp {
    config: SmppConfig,
    /// To the session that is bound, through the run loop. Capacity `window`: a sender holds a window
    /// permit while its request is queued or in flight, so the channel never fills.
    requests: mpsc::Sender<Request>,
    /// The receiving end, taken by [`Carrier::run`] while it runs.
    inbox: Mutex<Option<mpsc::Receiver<Request>>>,
    /// Whether a session is bound and taking requests.
    bound: watch::Sender<bool>,
    /// Permits for `submit_sm` awaiting their response.
    window: Semaphore,
    /// When set, the carrier binds only while it holds one of these slots.
    slots: Option<Arc<dyn BindSlots>>,
}

/// Waits for `until` while failing every send at once (nothing is bound); `None` on shutdown.
async fn refusing<T>(
    requests: &mut mpsc::Receiver<Request>,
    shutdown: &mut watch::Receiver<bool>,
    until: impl std::future::Future<Output = T>,
) -> Option<T> {
    tokio::pin!(until);
    loop {
        tokio::select! {
            value = &mut until => return Some(value),
            _ = shutdown.wait_for(|stop| *stop) => return None,
            Some(request) = requests.recv() => {
                let _ = request.reply.send(Err(session::LinkError::NotBound));
            }
        }
    }
}

/// How many times a part after the first is tried again when throttled: its earlier parts are already
/// out, so waiting a little beats making the outbox send them all again.
const LATER_PART_RETRIES: u32 = 3;

impl Smpp {
    /// A carrier for `config`; nothing connects until [`Carrier::run`].
    pub fn new(config: SmppConfig) -> Smpp {
        let window = config.window.max(1);
        let (requests, inbox) = mpsc::channel(window);
        Smpp {
            config,
            requests,
            inbox: Mutex::new(Some(inbox)),
            bound: watch::Sender::new(false),
            window: Semaphore::new(window),
            slots: None,
        }
    }

    /// The same carrier, binding only while it holds one of `slots` (see [`slots`]).
    pub fn with_bind_slots(mut self, slots: Arc<dyn BindSlots>) -> Smpp {
        self.slots = Some(slots);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &SmppConfig {
        &self.config
    }

    /// Whether the carrier is bound, now and as it changes (for health checks and tests).
    pub fn bound(&self) -> watch::Receiver<bool> {
        self.bound.subscribe()
    }

    async fn send_one(&self, sms: &OutboundSms) -> Result<Accepted, SendError> {
        let parts = submit::parts(&self.config, sms)?;
        let mut provider_id = String::new();
        for (i, part) in parts.into_iter().enumerate() {
            let mut retries = 0;
            provider_id = loop {
                match self.submit(part.clone()).await {
                    Err(SendError::Throttled { retry_after_ms }) if i > 0 && retries < LATER_PART_RETRIES => {
                        retries += 1;
                        let pause = u64::try_from(retry_after_ms).unwrap_or(0);
                        tokio::time::sleep(Duration::from_millis(pause)).await;
                    }
                    result => break result?,
                }
            };
        }
        if provider_id.is_empty() {
            tracing::warn!(carrier = %self.config.name, id = %sms.id, "the SMSC accepted the message with an empty message_id; receipts cannot match it");
        }
        Ok(Accepted { provider_id, delivered: false })
    }

    /// Submits one part and waits for its response; the message id on success.
    async fn submit(&self, message: Message) -> Result<String, SendError> {
        if !*self.bound.borrow() {
            return Err(SendError::Transient(format!("not bound to the SMSC {}", self.config.name)));
        }
        let wait = self.config.response_timeout;
        let _permit = match tokio::time::timeout(wait, self.window.acquire()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(SendError::Transient("the SMPP carrier is closed".into())),
            Err(_) => {
                let window = self.config.window;
                return Err(SendError::Transient(format!(
                    "all {window} submits of the window stayed busy for {wait:?}"
                )));
            }
        };
        let (reply, answer) = oneshot::channel();
        let request = Request { body: Body::SubmitSm(message), reply };
        let exchange = async {
            self.requests.send(request).await.map_err(|_| session::LinkError::NotBound)?;
            answer.await.map_err(|_| session::LinkError::Closed)?
        };
        let command = match tokio::time::timeout(wait, exchange).await {
            Err(_) => return Err(SendError::Transient(format!("no submit_sm_resp within {wait:?}"))),
            Ok(Err(link)) => return Err(SendError::Transient(link.to_string())),
            Ok(Ok(command)) => command,
        };
        match command.body {
            Body::SubmitSmResp(MessageId { message_id }) => submit::outcome(command.status, message_id),
            // Some SMSCs throttle with a generic_nack; without a status it means it could not read our PDU.
            Body::GenericNack if command.status != pdu::status::OK => submit::outcome(command.status, String::new()),
            other => Err(SendError::Transient(format!(
                "the SMSC answered the submit_sm with command {:#010x}",
                other.command_id()
            ))),
        }
    }

    /// Keeps a session going until `shutdown`, reconnecting with backoff.
    async fn run_sessions(&self, sink: Arc<dyn Sink>, mut shutdown: watch::Receiver<bool>) {
        let taken = self.inbox.lock().unwrap_or_else(PoisonError::into_inner).take();
        let Some(mut requests) = taken else {
            tracing::error!(carrier = %self.config.name, "the SMPP carrier is already running");
            return;
        };
        let mut reassembly = concat::Reassembly::new();
        let mut backoff = self.config.reconnect_min;
        while !*shutdown.borrow() {
            // With a deployment-wide limit, bind only while holding a slot; sends fail at once meanwhile.
            let mut slot = match &self.slots {
                None => None,
                Some(slots) => match refusing(&mut requests, &mut shutdown, slots.acquire()).await {
                    Some(slot) => Some(slot),
                    None => break,
                },
            };
            if let Some(slot) = &slot {
                tracing::info!(carrier = %self.config.name, slot = slot.number, "holding a bind slot; binding");
            }
            // The session stops (and unbinds) on shutdown, or when the slot is lost.
            let (stop, mut session_stop) = watch::channel(*shutdown.borrow());
            let mut outer = shutdown.clone();
            let stopper = async {
                tokio::select! {
                    _ = outer.wait_for(|stop| *stop) => {}
                    () = async {
                        match slot.as_mut() {
                            Some(slot) => slot.lost().await,
                            None => std::future::pending().await,
                        }
                    } => {}
                }
                stop.send_replace(true);
                std::future::pending::<std::convert::Infallible>().await
            };
            let link = Link {
                config: &self.config,
                sink: &sink,
                bound: &self.bound,
                reassembly: &mut reassembly,
                requests: &mut requests,
                shutdown: &mut session_stop,
            };
            let ended = tokio::select! {
                ended = session::run(link) => ended,
                never = stopper => match never {},
            };
            self.bound.send_replace(false);
            // The slot goes back as the bind ends: another node may bind while this one reconnects.
            drop(slot);
            match ended {
                Ended::Shutdown if *shutdown.borrow() => break,
                Ended::Shutdown => {
                    tracing::warn!(carrier = %self.config.name, "lost the bind slot; unbound until one is free again");
                    continue;
                }
                Ended::Lost { was_bound, reason } => {
                    if was_bound {
                        backoff = self.config.reconnect_min;
                    }
                    tracing::warn!(carrier = %self.config.name, %reason, retry_in = ?backoff, "SMPP session ended");
                }
            }
            // Wait before the next attempt, failing whatever is sent meanwhile at once.
            let until = tokio::time::Instant::now() + backoff;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(until) => break,
                    _ = shutdown.wait_for(|stop| *stop) => break,
                    Some(request) = requests.recv() => {
                        let _ = request.reply.send(Err(session::LinkError::NotBound));
                    }
                }
            }
            backoff = (backoff * 2).min(self.config.reconnect_max.max(self.config.reconnect_min));
        }
        // Whatever is still queued will not be sent; then leave the channel for a later run.
        while let Ok(request) = requests.try_recv() {
            let _ = request.reply.send(Err(session::LinkError::NotBound));
        }
        *self.inbox.lock().unwrap_or_else(PoisonError::into_inner) = Some(requests);
        tracing::info!(carrier = %self.config.name, "SMPP carrier stopped");
    }
}

impl Carrier for Smpp {
    fn ready(&self) -> bool {
        *self.bound.borrow()
    }

    fn sends_elsewhere(&self) -> bool {
        self.slots.is_some() && !*self.bound.borrow()
    }

    fn carries_media(&self) -> bool {
        false
    }

    fn send<'a>(&'a self, messages: &'a [OutboundSms]) -> BoxFuture<'a, Vec<Result<Accepted, SendError>>> {
        Box::pin(futures::future::join_all(messages.iter().map(|sms| self.send_one(sms))))
    }

    fn run(self: Arc<Self>, sink: Arc<dyn Sink>, shutdown: watch::Receiver<bool>) -> BoxFuture<'static, ()> {
        Box::pin(async move { self.run_sessions(sink, shutdown).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_stays_out_of_logs() {
        let config = SmppConfig::new("smsc", "127.0.0.1", 2775, "parley", "hunter2");
        let shown = format!("{config:?}");
        assert!(shown.contains("parley") && !shown.contains("hunter2"), "{shown}");
    }

    #[tokio::test]
    async fn sending_while_not_bound_fails_fast_and_transiently() {
        let smpp = Smpp::new(SmppConfig::new("smsc", "127.0.0.1", 9, "parley", "secret"));
        let sms = OutboundSms {
            id: "m1".into(),
            from: parley_core::phone::BusinessNumber::parse("+15550100").unwrap(),
            to: parley_core::phone::E164::parse("+15550199").unwrap(),
            body: "hi".into(),
            media: vec![],
        };
        let results = smpp.send(std::slice::from_ref(&sms)).await;
        assert!(matches!(results.as_slice(), [Err(SendError::Transient(_))]), "{results:?}");
    }
}
