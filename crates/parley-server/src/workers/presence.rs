//! Presence that is true: an agent is offered chats only while available *and* connected, that is with
//! a console event stream open (on any node) or an API heartbeat within the setup's
//! `presence_timeout_seconds`.
//!
//! Each node counts the event streams its agents hold ([`Streams`]) and keeps a row per agent in
//! `agent_links` fresh while it holds one (see `parley_store::presence`). The worker here, on every
//! node, refreshes those rows, deletes them when an agent's last stream on the node closes (a closed
//! tab, a logout, an expired session) and asks the engine to look again whenever what the rows say
//! differs from what the agents' states say. The engine decides under its write turn, from the rows as
//! they are then, so two nodes never disagree: an agent who dropped out loses their unaccepted offers
//! to colleagues at once (a closed tab is noticed within two of the stream's keep-alives, about 8 s),
//! and one whose node died drops out when that node's rows grow older than the
//! timeout (their browser reconnects to another node long before).
//!
//! Presence is measured in wall-clock time ([`Clock::System`]), whatever clock the chats run on: it
//! watches connections and heartbeats, which live in real time (tests that move a manual clock through
//! a chat's timers do not make its agents drop out).
//!
//! A network that drops without closing the connection is noticed by the kernel: the stream's
//! keep-alive comments go unacknowledged, and the listener's TCP user timeout
//! ([`STREAM_USER_TIMEOUT`]) ends the connection.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use parley_core::ids::AgentId;
use parley_store::Store;
use tokio::sync::{Notify, watch};

use crate::clock::Clock;
use crate::engine::Engine;
use crate::workers::Backoff;

/// How long the kernel lets sent data go unacknowledged before it drops a connection. With the event
/// stream's keep-alive every 4 s (`api::events::KEEP_ALIVE`), a console whose network vanished is
/// disconnected within about 25 s, inside the default presence timeout of 60 s.
pub const STREAM_USER_TIMEOUT: Duration = Duration::from_secs(20);

/// The longest wait between two rounds: rows are refreshed at least this often, whatever the timeout.
const MAX_ROUND: Duration = Duration::from_secs(10);
/// The longest wait between rounds while they keep failing.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// The agents' event streams open on this node.
pub struct Streams {
    /// This node, as the holder of its rows.
    node: String,
    inner: Mutex<Open>,
    wake: Notify,
}

#[derive(Default)]
struct Open {
    /// Open streams per agent.
    count: HashMap<AgentId, usize>,
    /// Agents whose last stream here closed since the last round.
    closed: BTreeSet<AgentId>,
}

/// Held while an agent's stream is open; dropping it closes it.
pub struct StreamGuard {
    streams: Arc<Streams>,
    agent: AgentId,
}

impl Streams {
    /// No streams yet, for a holder name unique to this process.
    pub fn new() -> Arc<Streams> {
        Arc::new(Streams {
            node: format!("node-{}", uuid::Uuid::new_v4().simple()),
            inner: Mutex::new(Open::default()),
            wake: Notify::new(),
        })
    }

    /// Counts a stream of `agent` until the guard is dropped.
    pub fn open(self: &Arc<Self>, agent: &AgentId) -> StreamGuard {
        let first = {
            let mut open = self.lock();
            open.closed.remove(agent);
            let n = open.count.entry(agent.clone()).or_default();
            *n += 1;
            *n == 1
        };
        if first {
            self.wake.notify_one();
        }
        StreamGuard { streams: Arc::clone(self), agent: agent.clone() }
    }

    fn close(&self, agent: &AgentId) {
        let last = {
            let mut open = self.lock();
            let last = match open.count.get_mut(agent) {
                Some(n) if *n > 1 => {
                    *n -= 1;
                    false
                }
                Some(_) => {
                    open.count.remove(agent);
                    true
                }
                None => false,
            };
            if last {
                open.closed.insert(agent.clone());
            }
            last
        };
        if last {
            self.wake.notify_one();
        }
    }

    /// The agents with a stream open here, and those whose last one closed since the last call.
    fn take(&self) -> (Vec<String>, Vec<String>) {
        let mut open = self.lock();
        let holding = open.count.keys().map(ToString::to_string).collect();
        let closed = std::mem::take(&mut open.closed).iter().map(ToString::to_string).collect();
        (holding, closed)
    }

    /// Puts back closings a failed round could not store, unless the agent reopened meanwhile.
    fn restore(&self, closed: &[String]) {
        let mut open = self.lock();
        for agent in closed.iter().filter_map(|a| AgentId::parse(a).ok()) {
            if !open.count.contains_key(&agent) {
                open.closed.insert(agent);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        // The counts stay consistent even if a holder panicked: every change is one statement.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.streams.close(&self.agent);
    }
}

/// Keeps this node's rows of `agent_links` true and has the engine act on changes.
pub struct PresenceWorker {
    pub store: Store,
    pub engine: Engine,
    pub streams: Arc<Streams>,
}

impl PresenceWorker {
    /// Runs rounds until `shutdown` turns true; then gives up this node's rows, so its agents drop out
    /// at once instead of after the timeout (unless their consoles reconnect to another node).
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = Backoff::new(Duration::from_secs(1), MAX_BACKOFF);
        loop {
            let wait = match self.round().await {
                Ok(()) => {
                    backoff.succeeded();
                    self.round_every()
                }
                Err(e) => {
                    let wait = backoff.failed();
                    tracing::error!(error = format!("{e:#}"), retry_in = ?wait, "presence round failed");
                    wait
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.streams.wake.notified() => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                break;
            }
        }
        let (holding, _) = self.streams.take();
        if let Err(e) = self.store.refresh_links(&self.streams.node, &[], &holding, Clock::System.now().0).await {
            tracing::warn!(error = %e, "giving up this node's presence rows failed; they lapse after the timeout");
        }
        tracing::info!("presence worker stopped");
    }

    /// A quarter of the presence timeout (at most [`MAX_ROUND`]): a row is refreshed several times
    /// before it could lapse.
    fn round_every(&self) -> Duration {
        let timeout = self.engine.setup().settings.presence.timeout_seconds;
        (Duration::from_secs(u64::from(timeout)) / 4).clamp(Duration::from_secs(1), MAX_ROUND)
    }

    /// Refreshes this node's rows, then asks the engine to look again if some agent's stored
    /// connection is not what the rows say.
    pub async fn round(&self) -> anyhow::Result<()> {
        let now = Clock::System.now().0;
        let (holding, closed) = self.streams.take();
        if let Err(e) = self.store.refresh_links(&self.streams.node, &holding, &closed, now).await {
            self.streams.restore(&closed);
            return Err(e.into());
        }
        let setup = self.engine.setup();
        let since = now - i64::from(setup.settings.presence.timeout_seconds) * 1_000;
        let linked: BTreeSet<String> = self.store.linked_agents(since).await?.into_iter().collect();
        let connected: BTreeSet<String> =
            self.store.agent_states().await?.into_iter().filter(|s| s.connected).map(|s| s.agent).collect();
        let differs = setup.agents.iter().any(|a| linked.contains(a.id.as_str()) != connected.contains(a.id.as_str()));
        if differs {
            self.engine.sweep_presence().await?;
        }
        Ok(())
    }
}
