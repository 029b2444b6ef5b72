//! The engine: the writer that turns inputs (inbound SMS, agent actions, presence, setup) into
//! committed state. It batches whatever inputs are waiting, takes a write turn, runs each input
//! through the pure core's [`parley_core::desk::Desk`] (which calls `chat::decide`), writes every
//! resulting change in one transaction (group commit), and only then answers the callers, hands the
//! events to the bus and wakes the outbox sender.
//!
//! Inputs of one chat are handled strictly in order: on one node because one task handles them all,
//! across nodes because every node's turns take the same PostgreSQL advisory lock from before they
//! load until they commit (see `parley_store::batch::WriteTurn` and ARCHITECTURE.md).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use parley_core::chat::{Input, Refusal};
use parley_core::ids::{AgentId, ChatId, QueueId};
use parley_core::message::MessageStatus;
use parley_core::phone::{BusinessNumber, E164};
use parley_core::routing::Presence;
use parley_core::setup::{Blocked, Setup};
use parley_store::erasure::ErasureReport;
use parley_store::rows::{ChatRow, EventRow};
use parley_store::{Store, StoreError};
use tokio::sync::{Notify, mpsc, oneshot};

use crate::bus::Bus;
use crate::clock::Clock;
use crate::config::Secret;
use crate::language::Detector;
use crate::outbound_media::OutMedia;

pub(crate) mod rows;
mod working;

pub use working::live_roster;

pub use rows::{chat_from_row, chat_to_row};
use working::Working;

/// The kind of the event a text from a blocked phone leaves, counted in `parley_blocked_texts_total`.
const BLOCKED_KIND: &str = "phone.inbound_blocked";

/// Most inputs handled in one transaction.
const MAX_BATCH: usize = 512;

pub use parley_carriers::{InboundSms, Receipt};

/// What the engine did with an inbound SMS.
#[derive(Debug, Clone)]
pub struct InboundAck {
    pub message_id: String,
    pub chat_id: Option<ChatId>,
    /// The same provider id was already stored; nothing new was written.
    pub duplicate: bool,
}

/// The chat after a business-side action.
#[derive(Debug, Clone)]
pub struct ChatAck {
    pub chat: ChatRow,
    /// The message the action sent, for replies.
    pub message_id: Option<String>,
}

/// A message the business sends first: an agent starting a chat, the outbound API, or a sessionless
/// notification ([`Input::Outbound`] or [`Input::Sessionless`]).
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    pub number: BusinessNumber,
    pub consumer: E164,
    pub input: Input,
    /// Uploads the message carries (checked by the caller: they exist and are the caller's).
    pub media: OutMedia,
    /// Who asked, for the consent ledger and logs: "agent:ID" or "api".
    pub source: String,
    /// A send through the Twilio-compatible API: its row (`message_id` left empty, the engine fills
    /// it in), written in the same batch as the message.
    pub twilio: Option<parley_store::twilio::NewTwilioMessage>,
}

/// What became of an outbound request.
#[derive(Debug, Clone)]
pub struct OutboundAck {
    /// The chat the message opened or joined; none for a sessionless message.
    pub chat: Option<ChatRow>,
    pub message_id: String,
    /// Queued, or scheduled when quiet hours hold it until `send_at` (epoch ms).
    pub status: MessageStatus,
    pub send_at: Option<i64>,
}

/// A consent change recorded for a phone through the API, with where the consent was given.
#[derive(Debug, Clone)]
pub struct ConsentRequest {
    pub phone: E164,
    /// The sender number the consent was given for (the ledger records it; the do-not-contact list
    /// holds for every number).
    pub number: BusinessNumber,
    pub opted_in: bool,
    /// Where it was given: "web form https://…", "paper form 2026-11-02", "call recording 123"…
    pub source: String,
}

/// Why the engine did not carry out an input.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0} is not a number of this deployment: add it to the setup first")]
    NumberNotSetUp(String),
    #[error(
        "number {number} is {state}: it sends nothing until an admin enables it (PUT /api/v1/numbers/{number}/state)"
    )]
    NumberNotEnabled { number: String, state: &'static str },
    #[error("no chat with id {0}")]
    ChatNotFound(ChatId),
    #[error("refused: {0:?}")]
    Refused(Refusal),
    /// The request conflicts with stored state (erasing a phone that has a live chat).
    #[error("{0}")]
    Conflict(String),
    /// The phone to block is on the blocklist already: the entry there.
    #[error("{} is blocked already (by {}: {})", .0.number, .0.added_by, .0.reason)]
    AlreadyBlocked(Blocked),
    /// The phone to unblock is not on the blocklist.
    #[error("{0} is not on the blocklist")]
    NotBlocked(E164),
    /// The business may not write to this phone: it is on the blocklist.
    #[error("{} is on the blocklist ({}): the business sends it nothing", .0.number, .0.reason)]
    Blocked(Blocked),
    #[error("no message with id {0}")]
    MessageNotFound(String),
    /// Canceling a message that has left (409 `already_sent`).
    #[error("{0}")]
    AlreadySent(String),
    /// Resending a message that is on its way, delivered, or resent already (409 `not_resendable`).
    #[error("{0}")]
    NotResendable(String),
    #[error("the engine is shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

enum Command {
    Inbound(InboundSms),
    Chat {
        chat_id: ChatId,
        input: Input,
        /// Uploads an agent's reply carries.
        media: OutMedia,
    },
    Outbound(OutboundRequest),
    Consent(ConsentRequest),
    Status {
        agent: AgentId,
        presence: Presence,
    },
    /// Finds out again which agents are connected (see `parley_store::presence`).
    Presence,
    /// A private note on a chat, by `author` ("agent:ID", "admin", a supervisor's "user:NAME").
    Note {
        chat_id: ChatId,
        author: String,
        body: String,
    },
    Setup {
        setup: Arc<Setup>,
        document: String,
    },
    Erase {
        phone: E164,
        by: String,
    },
    /// Puts a phone on the blocklist: a new setup version, then its live chats end.
    Block(Blocked),
    /// Takes a phone off the blocklist: a new setup version.
    Unblock(E164),
    /// Ends the live chats of phones just blocked (by the API or a saved setup), as the entry's admin.
    EndBlocked(Vec<Blocked>),
    Receipt(Receipt),
    Sent(Vec<SendOutcome>),
    /// A message to send later (see `working::later`).
    Schedule(ScheduleRequest),
    /// Held messages due at `now` (the scheduled-message worker's clock) are looked at.
    ReleaseDue {
        now: i64,
    },
    Cancel {
        message_id: String,
    },
    /// `by`: who asked, "agent:ID" or "admin" (the author of a resend of a system message).
    Resend {
        message_id: String,
        by: String,
    },
}

/// A message to send later: into a chat (`HeldKind::Reply`), as a chat the business starts when it is
/// due, or as a sessionless notification. Nothing but the chat (for a reply) is checked now.
#[derive(Debug, Clone)]
pub struct ScheduleRequest {
    pub number: BusinessNumber,
    pub consumer: E164,
    pub text: String,
    pub kind: parley_core::scheduled::HeldKind,
    pub send_at: parley_core::time::Timestamp,
    /// "agent:ID" or "api".
    pub author: String,
    /// Uploads the message carries; attached to the held message now, sent with it when due.
    pub media: OutMedia,
}

/// Whether the writer's queue has a job, or another node saved a setup.
enum Wake {
    /// Boxed: a job is far larger than the other wakes.
    Job(Box<Job>),
    SetupChanged,
    Closed,
}

/// What the outbox sender did with one message, for the agents watching and for receipts that came
/// before the carrier named the message.
#[derive(Debug, Clone)]
pub struct SendOutcome {
    pub seq: i64,
    pub message_id: String,
    pub chat_id: Option<String>,
    pub carrier: String,
    /// sent, delivered, queued (a retry), failed or suppressed.
    pub status: MessageStatus,
    pub provider_id: Option<String>,
    pub error: Option<String>,
}

enum Answer {
    Inbound(InboundAck),
    Chat(Box<ChatAck>),
    Outbound(Box<OutboundAck>),
    Erased(ErasureReport),
    /// The blocklist entry a change removed.
    Unblocked(Blocked),
    Message(Box<parley_store::rows::MessageRow>),
    Done,
}

struct Job {
    command: Command,
    reply: oneshot::Sender<Result<Answer, EngineError>>,
    /// The `Idempotency-Key` claim of the request that submitted it, marked committed with the batch.
    request: Option<IdempotentRequest>,
}

/// An `Idempotency-Key` claim: the caller (owner) and the key, as `parley_store::keys` stores them.
pub type IdempotentRequest = (String, String);

tokio::task_local! {
    /// The claim of the request being served on this task (set by the HTTP layer).
    static REQUEST: IdempotentRequest;
}

/// Runs `work` (a request's handler) with the `Idempotency-Key` claim it carries out: every input it
/// submits to the engine marks the claim committed in the same transaction as its effects, so a
/// crash before the answer is stored never leads to doing it twice.
pub async fn on_behalf_of<F: std::future::Future>(request: IdempotentRequest, work: F) -> F::Output {
    REQUEST.scope(request, work).await
}

/// How the engine wakes the workers after a commit that gave them work.
#[derive(Clone, Default)]
pub struct Workers {
    pub outbox: Arc<Notify>,
    pub media: Arc<Notify>,
}

/// A handle to the engine; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    jobs: mpsc::Sender<Job>,
    setup: Arc<RwLock<Arc<Setup>>>,
}

impl Engine {
    /// Starts the writer task. `setup` is the setup at start (version `setup_version`);
    /// `privacy_secret` salts the hashes of erased phones' tombstones.
    #[expect(clippy::too_many_arguments, reason = "called once, from serve; a struct would only rename them")]
    pub fn start(
        store: Store,
        clock: Clock,
        bus: Bus,
        wake: Workers,
        setup: Arc<Setup>,
        setup_version: i64,
        carriers: Vec<String>,
        privacy_secret: Secret,
    ) -> (Engine, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(8192);
        let shared = Arc::new(RwLock::new(setup));
        let setup_changes = bus.setup_changes();
        let writer = Writer {
            store,
            clock,
            bus,
            outbox: wake.outbox,
            media: wake.media,
            setup: shared.clone(),
            setup_version,
            carriers,
            privacy_secret,
            detector: None,
            handle_times: (None, QueueHistory::default()),
            waiting: (None, BTreeMap::new()),
            epoch: None,
        };
        let task = tokio::spawn(writer.run(rx, setup_changes));
        (Engine { jobs: tx, setup: shared }, task)
    }

    /// The setup in force.
    pub fn setup(&self) -> Arc<Setup> {
        match self.setup.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    async fn submit(&self, command: Command) -> Result<Answer, EngineError> {
        let (reply, answer) = oneshot::channel();
        let request = REQUEST.try_with(Clone::clone).ok();
        self.jobs.send(Job { command, reply, request }).await.map_err(|_| EngineError::ShuttingDown)?;
        answer.await.map_err(|_| EngineError::ShuttingDown)?
    }

    /// Handles an inbound SMS; returns once it and everything it caused are committed.
    pub async fn inbound(&self, sms: InboundSms) -> Result<InboundAck, EngineError> {
        match self.submit(Command::Inbound(sms)).await? {
            Answer::Inbound(ack) => Ok(ack),
            _ => Err(EngineError::Internal(anyhow::anyhow!("unexpected answer to an inbound message"))),
        }
    }

    /// Carries out an agent's or admin's action on a chat.
    pub async fn chat_action(&self, chat_id: &ChatId, input: Input) -> Result<ChatAck, EngineError> {
        self.chat_action_with_media(chat_id, input, OutMedia::default()).await
    }

    /// [`Engine::chat_action`] for a reply that carries uploads (checked by the caller).
    pub async fn chat_action_with_media(
        &self,
        chat_id: &ChatId,
        input: Input,
        media: OutMedia,
    ) -> Result<ChatAck, EngineError> {
        match self.submit(Command::Chat { chat_id: chat_id.clone(), input, media }).await? {
            Answer::Chat(ack) => Ok(*ack),
            _ => Err(EngineError::Internal(anyhow::anyhow!("unexpected answer to a chat action"))),
        }
    }

    /// Sends a message the business writes first; returns once it is committed to the outbox.
    pub async fn outbound(&self, request: OutboundRequest) -> Result<OutboundAck, EngineError> {
        match self.submit(Command::Outbound(request)).await? {
            Answer::Outbound(ack) => Ok(*ack),
            _ => Err(EngineError::Internal(anyhow::anyhow!("unexpected answer to an outbound message"))),
        }
    }

    /// Records an opt-in or opt-out the consumer gave outside SMS.
    pub async fn record_consent(&self, request: ConsentRequest) -> Result<(), EngineError> {
        self.submit(Command::Consent(request)).await.map(|_| ())
    }

    /// Sets an agent available (takes new chats), away or offline.
    pub async fn set_status(&self, agent: AgentId, presence: Presence) -> Result<(), EngineError> {
        self.submit(Command::Status { agent, presence }).await.map(|_| ())
    }

    /// Adds a private note to a chat's transcript: agents and supervisors read it, it is never sent.
    pub async fn add_note(&self, chat_id: ChatId, author: String, body: String) -> Result<ChatAck, EngineError> {
        match self.submit(Command::Note { chat_id, author, body }).await? {
            Answer::Chat(ack) => Ok(*ack),
            _ => Err(EngineError::Internal(anyhow::anyhow!("unexpected answer to a note"))),
        }
    }

    /// Marks each agent connected or not, from the console streams and heartbeats the store knows of:
    /// an agent who dropped out has their offers withdrawn; one who came back is routed to again.
    pub async fn sweep_presence(&self) -> Result<(), EngineError> {
        self.submit(Command::Presence).await.map(|_| ())
    }

    /// Records a carrier's delivery receipt; returns once it is committed.
    pub async fn receipt(&self, receipt: Receipt) -> Result<(), EngineError> {
        self.submit(Command::Receipt(receipt)).await.map(|_| ())
    }

    /// Tells the agents what became of sent messages, and applies receipts that were waiting for them.
    pub async fn sent(&self, outcomes: Vec<SendOutcome>) -> Result<(), EngineError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        self.submit(Command::Sent(outcomes)).await.map(|_| ())
    }

    /// Stores a message to send later; returns once it is committed.
    pub async fn schedule(&self, request: ScheduleRequest) -> Result<OutboundAck, EngineError> {
        match self.submit(Command::Schedule(request)).await? {
            Answer::Outbound(ack) => Ok(*ack),
            _ => Err(EngineError::Internal(anyhow::anyhow!("unexpected answer to a scheduled message"))),
        }
    }

    /// Looks at the held messages due at `now`: sends them, lets them wait out quiet hours, or gives
    /// them up.
    pub async fn release_due(&self, now: i64) -> Result<(), EngineError> {
        self.submit(Command::ReleaseDue { now }).await.map(|_| ())
    }

    /// Cancels a message that waits to be sent later; returns it as canceled.
    pub async fn cancel(&self, message_id: &str) -> Result<parley_store::rows::MessageRow, EngineError> {
        match self.submit(Command::Cancel { message_id: message_id.to_owned() }).await? {
            Answer::Message(row) => Ok(*row),
            _ => Err(EngineError::Internal(anyhow::anyhow!("unexpected answer to a cancel"))),
        }
    }

    /// Sends a failed or undelivered message again, as a new message linked to it.
    pub async fn resend(&self, message_id: &str, by: &str) -> Result<OutboundAck, EngineError> {
        match self.submit(Command::Resend { message_id: message_id.to_owned(), by: by.to_owned() }).await? {
            Answer::Outbound(ack) => Ok(*ack),
            _ => Err(EngineError::Internal(anyhow::anyhow!("unexpected answer to a resend"))),
        }
    }

    /// Erases everything stored about `phone` (see [`Store::erase_phone`]) after every input submitted
    /// before it, so no batch in flight writes the phone back. A phone with a live chat is refused with
    /// [`EngineError::Conflict`]: the chat must be ended first.
    pub async fn erase_phone(&self, phone: E164, by: &str) -> Result<ErasureReport, EngineError> {
        match self.submit(Command::Erase { phone, by: by.to_owned() }).await? {
            Answer::Erased(report) => Ok(report),
            _ => Err(EngineError::Internal(anyhow::anyhow!("unexpected answer to an erasure"))),
        }
    }

    /// Stores a validated setup and puts it in force, after every input submitted before it. Phones
    /// it blocks that were not blocked before have their live chats ended.
    pub async fn apply_setup(&self, setup: Setup, document: String) -> Result<(), EngineError> {
        self.submit(Command::Setup { setup: Arc::new(setup), document }).await.map(|_| ())
    }

    /// Puts a phone on the blocklist as a new setup version (made from the setup in force when the
    /// writer gets to it, so two admins' changes never undo each other), then ends its live chats.
    /// [`EngineError::AlreadyBlocked`] when it is blocked already.
    pub async fn block(&self, entry: Blocked) -> Result<(), EngineError> {
        self.submit(Command::Block(entry)).await.map(|_| ())
    }

    /// Takes a phone off the blocklist as a new setup version; answers the entry removed, or
    /// [`EngineError::NotBlocked`].
    pub async fn unblock(&self, phone: E164) -> Result<Blocked, EngineError> {
        match self.submit(Command::Unblock(phone)).await? {
            Answer::Unblocked(entry) => Ok(entry),
            _ => Err(EngineError::Internal(anyhow::anyhow!("unexpected answer to an unblock"))),
        }
    }
}

struct Writer {
    store: Store,
    clock: Clock,
    bus: Bus,
    outbox: Arc<Notify>,
    media: Arc<Notify>,
    setup: Arc<RwLock<Arc<Setup>>>,
    setup_version: i64,
    carriers: Vec<String>,
    privacy_secret: Secret,
    /// The language detector of the setup in force (built again when the setup changes); `None` when
    /// the setup has one language or turns detection off.
    detector: Option<(Arc<Setup>, Option<Arc<Detector>>)>,
    /// Each queue's recent handle time and abandonment, for waiting consumers' estimates, and when
    /// they were computed.
    handle_times: (Option<Instant>, QueueHistory),
    /// How many chats wait in each queue: counted in the database now and then, and kept current in
    /// between by this engine's own batches (another node's chats show at the next count).
    waiting: (Option<Instant>, BTreeMap<QueueId, u32>),
    /// The write epoch after this engine's last committed batch; another value at the next turn means
    /// another node or process wrote in between (see `parley_store::batch::WriteTurn`).
    epoch: Option<i64>,
}

/// A queue's recent history the wait estimate uses (docs/ewt.md).
#[derive(Debug, Clone, Default)]
pub struct QueueHistory {
    /// The recent average handle time, seconds.
    pub handle_seconds: BTreeMap<QueueId, u32>,
    /// Of the recent chats that waited, the share (per mille) that ended before an agent took them.
    pub abandonment_permille: BTreeMap<QueueId, u32>,
}

/// How often the queues' handle times are computed again, and over how long a past.
const HANDLE_TIMES_EVERY: Duration = Duration::from_secs(60);
const HANDLE_TIMES_OVER_MS: i64 = 24 * 3600 * 1000;
/// How often the waiting chats are counted again in the database.
const WAITING_EVERY: Duration = Duration::from_secs(5);

impl Writer {
    fn detector(&mut self, setup: &Arc<Setup>) -> Option<Arc<Detector>> {
        if let Some((built_for, detector)) = &self.detector
            && Arc::ptr_eq(built_for, setup)
        {
            return detector.clone();
        }
        let settings = &setup.settings;
        let tags: Vec<String> = settings.language_tags().into_iter().map(str::to_owned).collect();
        let detector = (settings.language_detection.enabled && tags.len() > 1)
            .then(|| Arc::new(Detector::new(&tags, settings.language_detection.min_confidence)));
        self.detector = Some((setup.clone(), detector.clone()));
        detector
    }

    /// Counts the queues' waiting chats and computes their handle times again when it is time, and
    /// the waiting chats at once when another writer wrote since this engine's previous batch.
    async fn refresh_queue_figures(&mut self, foreign_writes: bool) -> anyhow::Result<()> {
        if self.handle_times.0.is_none_or(|at| at.elapsed() >= HANDLE_TIMES_EVERY) {
            let history = working::queue_history(&self.store, self.clock.now()).await?;
            self.handle_times = (Some(Instant::now()), history);
        }
        if foreign_writes || self.waiting.0.is_none_or(|at| at.elapsed() >= WAITING_EVERY) {
            let mut waiting = BTreeMap::new();
            for (queue, n) in self.store.waiting_counts().await? {
                if let Ok(queue) = QueueId::parse(&queue) {
                    waiting.insert(queue, u32::try_from(n).unwrap_or(u32::MAX));
                }
            }
            self.waiting = (Some(Instant::now()), waiting);
        }
        Ok(())
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Job>, mut setup_changes: tokio::sync::watch::Receiver<u64>) {
        loop {
            let wake = tokio::select! {
                job = rx.recv() => job.map_or(Wake::Closed, |job| Wake::Job(Box::new(job))),
                changed = setup_changes.changed() => match changed {
                    Ok(()) => Wake::SetupChanged,
                    // The bus is gone (shutting down): only jobs wake the writer from now on.
                    Err(_) => match rx.recv().await {
                        Some(job) => Wake::Job(Box::new(job)),
                        None => Wake::Closed,
                    },
                },
            };
            let first = match wake {
                Wake::Job(job) => *job,
                Wake::Closed => break,
                Wake::SetupChanged => {
                    // Another node saved a setup: the API of this node uses it from now on, not only
                    // from this engine's next batch.
                    if let Err(e) = self.refresh_setup().await {
                        tracing::warn!(error = format!("{e:#}"), "reloading the setup another node saved failed");
                    }
                    continue;
                }
            };
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            // A setup change or an erasure takes effect exactly between the inputs before and after it.
            let mut pending = Vec::new();
            for job in jobs {
                if matches!(job.command, Command::Setup { .. } | Command::Block(_) | Command::Unblock(_)) {
                    self.process(std::mem::take(&mut pending)).await;
                    let result = self.change_setup(&job.command).await;
                    let _ = job.reply.send(result);
                } else if let Command::Erase { phone, by } = &job.command {
                    self.process(std::mem::take(&mut pending)).await;
                    let result = self.erase(phone, by).await.map(Answer::Erased);
                    let _ = job.reply.send(result);
                } else {
                    pending.push(job);
                }
            }
            self.process(pending).await;
        }
        tracing::info!("engine stopped");
    }

    /// A new setup version: the document given (`PUT /api/v1/setup`), or the setup in force with one
    /// blocklist change. Then the phones it newly blocks have their live chats ended, in a batch of
    /// their own: a crash between the two commits leaves such a chat live, and the phone's next text
    /// ends it (`Desk::inbound`), so a blocked phone is never served.
    async fn change_setup(&mut self, command: &Command) -> Result<Answer, EngineError> {
        let before = self.current_setup();
        let (setup, document, answer) = match command {
            Command::Setup { setup, document } => (setup.clone(), document.clone(), Answer::Done),
            Command::Block(entry) => {
                self.refresh_setup().await?;
                let next = self.current_setup().with_block(entry.clone()).map_err(EngineError::AlreadyBlocked)?;
                let document = crate::setup_doc::SetupDocument::stored(&next)?;
                (Arc::new(next), document, Answer::Done)
            }
            Command::Unblock(phone) => {
                self.refresh_setup().await?;
                let (next, removed) =
                    self.current_setup().without_block(phone).ok_or_else(|| EngineError::NotBlocked(phone.clone()))?;
                let document = crate::setup_doc::SetupDocument::stored(&next)?;
                (Arc::new(next), document, Answer::Unblocked(removed))
            }
            _ => return Err(EngineError::Internal(anyhow::anyhow!("not a setup change"))),
        };
        self.save_setup(setup.clone(), &document).await?;
        let newly: Vec<Blocked> =
            setup.blocklist.iter().filter(|b| before.blocked(&b.number).is_none()).cloned().collect();
        if !newly.is_empty() {
            let (reply, answer) = oneshot::channel();
            self.process(vec![Job { command: Command::EndBlocked(newly), reply, request: None }]).await;
            if let Ok(Err(e)) = answer.await {
                tracing::warn!(error = %e, "ending the chats of blocked phones failed; their next texts end them");
            }
        }
        Ok(answer)
    }

    async fn save_setup(&mut self, setup: Arc<Setup>, document: &str) -> Result<(), EngineError> {
        let version = self
            .store
            .save_setup_document(document, self.clock.now().0)
            .await
            .map_err(|e| EngineError::Internal(e.into()))?;
        self.setup_version = version;
        self.put_setup(setup);
        tracing::info!(version, "setup applied");
        Ok(())
    }

    async fn erase(&self, phone: &E164, by: &str) -> Result<ErasureReport, EngineError> {
        let hash = crate::privacy::phone_hash(self.privacy_secret.expose(), phone);
        let now = self.clock.now();
        let erased = crate::privacy::contact_erased(now);
        match self.store.erase_phone(phone.as_str(), &hash, by, now.0, &erased).await {
            Ok(report) => {
                if !report.is_empty() {
                    // The number itself is not logged: the point of the erasure is that it is gone.
                    tracing::info!(
                        erased_by = by,
                        messages = report.messages,
                        chats = report.chats,
                        contacts = report.contacts_changed,
                        "a phone was erased"
                    );
                }
                Ok(report)
            }
            Err(StoreError::Conflict(message)) => Err(EngineError::Conflict(message)),
            Err(e) => Err(EngineError::Internal(e.into())),
        }
    }

    fn put_setup(&self, setup: Arc<Setup>) {
        match self.setup.write() {
            Ok(mut guard) => *guard = setup,
            Err(poisoned) => *poisoned.into_inner() = setup,
        }
    }

    fn current_setup(&self) -> Arc<Setup> {
        match self.setup.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Picks up a setup saved by another process or node.
    async fn refresh_setup(&mut self) -> anyhow::Result<()> {
        let version = self.store.setup_version().await?;
        if version != self.setup_version {
            let carriers: Vec<&str> = self.carriers.iter().map(String::as_str).collect();
            let (version, setup) = crate::load_setup(&self.store, &carriers).await?;
            self.setup_version = version;
            self.put_setup(Arc::new(setup));
            tracing::info!(version, "setup reloaded from the database");
        }
        Ok(())
    }

    async fn process(&mut self, jobs: Vec<Job>) {
        if jobs.is_empty() {
            return;
        }
        let commands: Vec<&Command> = jobs.iter().map(|j| &j.command).collect();
        let requests: Vec<Option<&IdempotentRequest>> = jobs.iter().map(|j| j.request.as_ref()).collect();
        let started = Instant::now();
        match self.try_process(&commands, &requests).await {
            Ok(answers) => {
                metrics::histogram!("parley_engine_batch_size").record(jobs.len() as f64);
                metrics::histogram!("parley_engine_batch_seconds").record(started.elapsed().as_secs_f64());
                for (job, answer) in jobs.into_iter().zip(answers) {
                    let _ = job.reply.send(answer);
                }
            }
            // One bad input must not fail the others: retry each alone. Nothing was committed. When the
            // database is out of reach, retrying alone would only make each caller wait longer.
            Err(e) if jobs.len() > 1 && !parley_store::outage::is_unavailable(&e) => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    size = jobs.len(),
                    "batch failed; retrying its inputs one by one"
                );
                for job in jobs {
                    Box::pin(self.process(vec![job])).await;
                }
            }
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), size = jobs.len(), "input failed; nothing was committed");
                // The caller learns whether to retry later (503 unavailable) or that the input failed.
                let unavailable = parley_store::outage::is_unavailable(&e);
                for job in jobs {
                    let cause = if unavailable {
                        anyhow::Error::new(parley_store::outage::Unavailable)
                    } else {
                        anyhow::anyhow!("storing the input failed")
                    };
                    let _ = job.reply.send(Err(EngineError::Internal(cause)));
                }
            }
        }
    }

    async fn try_process(
        &mut self,
        commands: &[&Command],
        requests: &[Option<&IdempotentRequest>],
    ) -> anyhow::Result<Vec<Result<Answer, EngineError>>> {
        // Everything below is loaded and decided inside the turn: on PostgreSQL no other node's batch
        // commits until this one has.
        let turn = self.store.begin_turn().await?;
        let previous_epoch = turn.previous_epoch();
        let foreign_writes = self.epoch != Some(previous_epoch);
        self.refresh_setup().await?;
        let setup = self.current_setup();
        let now = self.clock.now();
        self.refresh_queue_figures(foreign_writes).await?;
        let detector = self.detector(&setup);
        let mut w = Working::load(&self.store, &setup, self.privacy_secret.expose(), commands).await?;
        w.load_notifications(&self.store, &setup, commands, now).await?;
        w.set_queue_figures(&self.handle_times.1, self.waiting.1.clone());
        let mut answers = Vec::with_capacity(commands.len());
        for command in commands {
            let answer = match command {
                Command::Inbound(sms) => w.inbound(&setup, sms, detector.as_deref(), now),
                Command::Chat { chat_id, input, media } => w.chat_action(&setup, chat_id, input, media, now),
                Command::Outbound(request) => w.outbound(&setup, request, now),
                Command::Consent(request) => w.consent(&setup, request, now),
                Command::Status { agent, presence } => w.status(&setup, agent, *presence, now),
                Command::Presence => {
                    w.connections(&setup, now);
                    Ok(Answer::Done)
                }
                Command::Note { chat_id, author, body } => w.note(&setup, chat_id, author, body, now),
                Command::EndBlocked(entries) => {
                    w.end_blocked(&setup, entries, now);
                    Ok(Answer::Done)
                }
                Command::Setup { .. } | Command::Erase { .. } | Command::Block(_) | Command::Unblock(_) => {
                    Ok(Answer::Done)
                }
                Command::Receipt(receipt) => {
                    w.receipt(receipt, now);
                    Ok(Answer::Done)
                }
                Command::Sent(outcomes) => {
                    w.sent(outcomes, now);
                    Ok(Answer::Done)
                }
                Command::Schedule(request) => w.schedule(&setup, request, now),
                Command::ReleaseDue { .. } => {
                    w.release_due(&setup, now);
                    Ok(Answer::Done)
                }
                Command::Cancel { message_id } => w.cancel(message_id, now),
                Command::Resend { message_id, by } => w.resend(&setup, message_id, by, now),
            };
            answers.push(answer);
        }
        w.dispatch(&self.store, &setup, now).await?;
        let waiting = w.waiting().clone();
        let (mut batch, wakes_outbox) = w.into_batch(&setup, now);
        batch.idempotent_requests = requests
            .iter()
            .zip(&answers)
            .filter_map(|(request, answer)| request.filter(|_| answer.is_ok()).cloned())
            .collect();
        let has_media = !batch.media.is_empty();
        let committed_blocked = batch.events.iter().filter(|e| e.kind == BLOCKED_KIND).count() as u64;
        let committed = self.store.commit_turn(turn, &batch).await?;
        // Only what was committed counts. The counts are this engine's to trust only while nobody else
        // wrote: on SQLite another process (the CLI) may have written between the turn and the commit.
        self.waiting.1 = waiting;
        self.epoch = (committed.epoch <= previous_epoch + 1).then_some(committed.epoch);
        self.bus
            .committed(batch.events.into_iter().zip(committed.event_ids).map(|(e, id)| EventRow { id, ..e }).collect());
        if wakes_outbox {
            self.outbox.notify_one();
        }
        if has_media {
            self.media.notify_one();
        }
        let inbound = commands.iter().filter(|c| matches!(c, Command::Inbound(_))).count();
        metrics::counter!("parley_inbound_messages_total").increment(inbound as u64);
        // Counted from what was committed, so a batch retried input by input counts each text once.
        let blocked = committed_blocked;
        if blocked > 0 {
            metrics::counter!("parley_blocked_texts_total").increment(blocked);
        }
        Ok(answers)
    }
}
