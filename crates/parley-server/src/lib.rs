//! Parley's runtime: the engine (group-committing single writer), the outbox sender, the event bus and
//! the HTTP server (API, simulator, health and metrics).
//!
//! - [`serve`] runs everything on a bound listener until the shutdown future resolves.
//! - [`config`]: the typed server configuration; [`setup_doc`]: the setup document format.
//! - [`engine`]: inputs → `parley_core::chat::decide` → one transaction → answers and events.
//! - [`privacy`]: the salted phone hash that keys an erased phone's tombstone.
//! - [`users`]: console users' usernames, roles and argon2id password hashes.
//! - [`workers`]: the outbox sender. [`bus`]: live event fan-out. [`http`]: the router.

pub mod app_tokens;
pub mod bus;
pub mod clock;
pub mod config;
pub mod engine;
pub mod http;
pub mod language;
pub mod outbound_media;
pub mod privacy;
pub mod report_facts;
pub mod setup_doc;
pub mod users;
pub mod workers;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use axum::serve::ListenerExt as _;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use parley_carriers::sim::{PhoneBook, Sim};
use parley_carriers::smpp::{Smpp, SmppConfig};
use parley_carriers::twilio::rest::{Twilio, TwilioSettings};
use parley_carriers::{BoxFuture, Carrier, InboundSms, OutboundSms, Receipt, Sink, SinkError};
use parley_core::setup::Setup;
use parley_store::Store;
use parley_store::rows::SimRow;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::bus::Bus;
use crate::clock::Clock;
use crate::config::{CarrierConfig, Config, LongMessages};
use crate::engine::Engine;
use crate::engine::Workers;
use crate::http::webhooks::twilio::{TwilioWebhookAccount, status_callback_url};
use crate::outbound_media::MediaSigner;
use crate::setup_doc::SetupDocument;
use crate::workers::media::MediaFetcher;
use crate::workers::outbox::{Carriers, OutboxSender};
use crate::workers::presence::{PresenceWorker, STREAM_USER_TIMEOUT, Streams};
use crate::workers::retention::RetentionWorker;
use crate::workers::scheduled::ScheduledWorker;
use crate::workers::throttle::Throttle;
use crate::workers::timers::TimerWorker;
use crate::workers::twilio_callbacks::CallbackWorker;

/// Everything a request handler may use.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub engine: Engine,
    pub bus: Bus,
    pub clock: Clock,
    pub config: Arc<Config>,
    pub metrics: PrometheusHandle,
    /// Turns true when the server shuts down; long-lived streams end on it.
    pub shutdown: watch::Receiver<bool>,
    /// The carrier accounts, by name.
    pub carriers: Carriers,
    /// Twilio-compatible accounts whose webhooks this server verifies, by carrier name.
    pub twilio: Arc<BTreeMap<String, TwilioWebhookAccount>>,
    /// The agents' event streams open on this node (their presence).
    pub streams: Arc<Streams>,
    /// Signs and checks the media URLs carriers fetch outbound media from.
    pub media_signer: Arc<MediaSigner>,
}

/// Loads the stored setup (or an empty one). A stored setup that no longer validates against the
/// configured carriers is still loaded, without the carrier check, so its chats keep working; the
/// outbox reports the missing carrier per message.
pub async fn load_setup(store: &Store, carriers: &[&str]) -> anyhow::Result<(i64, Setup)> {
    let Some((version, document)) = store.setup_document().await? else {
        return Ok((0, Setup::empty()));
    };
    let doc: SetupDocument = serde_json::from_str(&document).context("the stored setup document does not parse")?;
    let draft = doc.to_draft();
    match Setup::validate(&draft, carriers) {
        Ok(setup) => Ok((version, setup)),
        Err(problems) => {
            for p in &problems {
                tracing::warn!(problem = %p, "stored setup problem");
            }
            let all: Vec<String> = draft.numbers.iter().map(|n| n.carrier.clone()).collect();
            let all: Vec<&str> = all.iter().map(String::as_str).collect();
            let setup =
                Setup::validate(&draft, &all).map_err(|p| anyhow::anyhow!("the stored setup is invalid: {}", p[0]))?;
            Ok((version, setup))
        }
    }
}

/// The process-wide Prometheus recorder (a global recorder can be installed only once).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 100.0,
                    250.0, 512.0,
                ])
                .unwrap_or_else(|_| PrometheusBuilder::new())
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
            }
            handle
        })
        .clone()
}

/// The engine as carriers see it: what comes in is committed before the carrier acknowledges it.
struct EngineSink(Engine);

impl Sink for EngineSink {
    fn inbound(&self, sms: InboundSms) -> BoxFuture<'_, Result<(), SinkError>> {
        Box::pin(async move { self.0.inbound(sms).await.map(|_| ()).map_err(|e| SinkError(e.to_string())) })
    }

    fn receipt(&self, receipt: Receipt) -> BoxFuture<'_, Result<(), SinkError>> {
        Box::pin(async move { self.0.receipt(receipt).await.map_err(|e| SinkError(e.to_string())) })
    }
}

struct StorePhones(Store);

impl PhoneBook for StorePhones {
    fn deliver<'a>(&'a self, messages: &'a [OutboundSms]) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let at = chrono::Utc::now().timestamp_millis();
            let rows: Vec<SimRow> = messages
                .iter()
                .map(|m| SimRow {
                    seq: 0,
                    phone: m.to.to_string(),
                    business: m.from.to_string(),
                    direction: "mt".to_owned(),
                    body: m.body.clone(),
                    media: m.media.join("\n"),
                    message_id: Some(m.id.clone()),
                    at,
                })
                .collect();
            self.0.sim_deliver(&rows).await.map_err(|e| e.to_string())
        })
    }
}

fn carriers(config: &Config, store: &Store) -> anyhow::Result<Carriers> {
    let mut map: BTreeMap<String, Arc<dyn Carrier>> = BTreeMap::new();
    for (name, carrier) in &config.carriers {
        let built: Arc<dyn Carrier> = match carrier {
            CarrierConfig::Twilio { account_sid, auth_token, api_base, concurrency, .. } => {
                let mut settings = TwilioSettings::new(name, account_sid, auth_token.expose());
                if let Some(base) = api_base {
                    settings.api_base = base.clone();
                }
                if let Some(n) = concurrency {
                    settings.concurrency = (*n).max(1);
                }
                settings.status_callback = config.public_url.as_deref().map(|url| status_callback_url(url, name));
                if settings.status_callback.is_none() {
                    tracing::warn!(
                        carrier = name,
                        "public_url is not set: Twilio cannot send status callbacks or webhooks"
                    );
                }
                Arc::new(Twilio::new(settings).with_context(|| format!("setting up carrier account \"{name}\""))?)
            }
            CarrierConfig::Smpp {
                host,
                port,
                system_id,
                password,
                system_type,
                window,
                enquire_link_seconds,
                response_timeout_seconds,
                source_ton,
                source_npi,
                dest_ton,
                dest_npi,
                long_messages,
                max_binds,
                ..
            } => {
                let mut c = SmppConfig::new(name, host, *port, system_id, password.expose());
                if let Some(v) = system_type {
                    c.system_type = v.clone();
                }
                if let Some(v) = window {
                    c.window = (*v).max(1);
                }
                if let Some(v) = enquire_link_seconds {
                    c.enquire_link_interval = Duration::from_secs((*v).max(1));
                }
                if let Some(v) = response_timeout_seconds {
                    c.response_timeout = Duration::from_secs((*v).max(1));
                }
                c.source_ton = source_ton.unwrap_or(c.source_ton);
                c.source_npi = source_npi.unwrap_or(c.source_npi);
                c.dest_ton = dest_ton.unwrap_or(c.dest_ton);
                c.dest_npi = dest_npi.unwrap_or(c.dest_npi);
                c.long_messages = match long_messages {
                    None | Some(LongMessages::Udh) => parley_carriers::smpp::LongMessages::Udh,
                    Some(LongMessages::Sar) => parley_carriers::smpp::LongMessages::Sar,
                    Some(LongMessages::Payload) => parley_carriers::smpp::LongMessages::Payload,
                };
                let smpp = Smpp::new(c);
                match workers::binds::bind_slots(store, name, max_binds.map(std::num::NonZeroU32::get)) {
                    Some(slots) => Arc::new(smpp.with_bind_slots(slots)),
                    None => Arc::new(smpp),
                }
            }
        };
        map.insert(name.clone(), built);
    }
    if config.sim {
        map.insert("sim".to_owned(), Arc::new(Sim::new(StorePhones(store.clone()))));
    }
    Ok(Arc::new(map))
}

/// The Twilio-compatible accounts, for webhook signatures.
fn twilio_accounts(config: &Config) -> Arc<BTreeMap<String, TwilioWebhookAccount>> {
    Arc::new(
        config
            .carriers
            .iter()
            .filter_map(|(name, c)| match c {
                CarrierConfig::Twilio { auth_token, .. } => {
                    Some((name.clone(), TwilioWebhookAccount { auth_token: auth_token.expose().to_owned() }))
                }
                CarrierConfig::Smpp { .. } => None,
            })
            .collect(),
    )
}

/// Segments per second of each carrier account that has a limit.
fn carrier_rates(config: &Config) -> BTreeMap<String, f64> {
    config
        .carriers
        .iter()
        .filter_map(|(name, c)| {
            let rate = match c {
                CarrierConfig::Twilio { segments_per_second, .. } | CarrierConfig::Smpp { segments_per_second, .. } => {
                    *segments_per_second
                }
            };
            rate.map(|r| (name.clone(), r))
        })
        .collect()
}

/// Makes sure no other `parley serve` uses the same SQLite file: two engines on one file would each
/// believe they are its only writer (chats lost, agents over capacity). The lock is an OS file lock
/// on a file beside the database, held until the returned handle drops (at the end of [`serve`]) and
/// freed by the OS if the process dies. `None` for PostgreSQL, where nodes share the database safely.
fn claim_sqlite_file(url: &str) -> anyhow::Result<Option<std::fs::File>> {
    let Some(rest) = url.strip_prefix("sqlite:") else { return Ok(None) };
    let path = rest.trim_start_matches("//").split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return Ok(None);
    }
    let lock_path = format!("{path}.serve-lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("creating {lock_path}"))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another `parley serve` is already running on {path}: SQLite serves one node only. \
             Stop the other process, or run several nodes on PostgreSQL (docs/deployment.md)"
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {lock_path}")),
    }
}

/// Runs Parley on `listener` until `shutdown` resolves; then stops taking requests, lets the engine
/// and the outbox finish what they hold, and returns.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_with_clock(config, listener, Clock::System, shutdown).await
}

/// [`serve`] with a chosen clock (tests hold time still with [`Clock::Manual`]).
pub async fn serve_with_clock(
    config: Config,
    listener: TcpListener,
    clock: Clock,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    workers::crm::check(&config)?;
    let _serving = claim_sqlite_file(&config.database_url)?;
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await.context("migrating the database")?;
    let carriers = carriers(&config, &store)?;
    let media_signer = Arc::new(
        MediaSigner::load(&store, config.public_url.as_deref(), clock.now().0)
            .await
            .context("loading the media signing key")?,
    );
    let names = config.carrier_names();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (version, setup) = load_setup(&store, &name_refs).await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (bus, bus_task) = Bus::start(store.clone(), 4096, stop_rx.clone()).await.context("starting the event bus")?;
    let wake = Workers::default();
    let privacy_secret = config.privacy_secret_or_default();
    let (engine, engine_task) = Engine::start(
        store.clone(),
        clock.clone(),
        bus.clone(),
        wake.clone(),
        Arc::new(setup),
        version,
        names,
        privacy_secret,
    );
    let sender = OutboxSender {
        store: store.clone(),
        clock: clock.clone(),
        carriers: carriers.clone(),
        carrier_rates: carrier_rates(&config),
        engine: engine.clone(),
        wake: wake.outbox.clone(),
        throttle: Throttle::default(),
        privacy_secret: config.privacy_secret_or_default(),
        media_signer: media_signer.clone(),
    };
    let sink: Arc<dyn Sink> = Arc::new(EngineSink(engine.clone()));
    let carrier_tasks: Vec<_> =
        carriers.values().map(|c| tokio::spawn(c.clone().run(sink.clone(), stop_rx.clone()))).collect();
    drop(sink);
    let fetcher = MediaFetcher {
        store: store.clone(),
        clock: clock.clone(),
        carriers: carriers.clone(),
        wake: wake.media.clone(),
    };
    let fetcher_task = tokio::spawn(fetcher.run(stop_rx.clone()));
    // Chats are purged only where a retention period is configured; uploads never sent are deleted
    // after a day everywhere.
    let retention_task = {
        let worker =
            RetentionWorker { store: store.clone(), clock: clock.clone(), retention_days: config.retention_days };
        Some(tokio::spawn(worker.run(stop_rx.clone())))
    };
    let sender_task = tokio::spawn(sender.run(stop_rx.clone()));
    let timers = TimerWorker { store: store.clone(), clock: clock.clone(), engine: engine.clone() };
    let timer_task = tokio::spawn(timers.run(stop_rx.clone()));
    let scheduled = ScheduledWorker { store: store.clone(), clock: clock.clone(), engine: engine.clone() };
    let scheduled_task = tokio::spawn(scheduled.run(stop_rx.clone()));
    let webhooks = workers::webhooks::WebhookWorker::new(store.clone(), clock.clone(), config.webhooks_allow_private)?;
    let webhooks_task = tokio::spawn(webhooks.run(stop_rx.clone()));
    let matcher = workers::crm_matcher::CrmMatcher::new(store.clone(), clock.clone(), engine.clone(), bus.clone());
    let matcher_task = tokio::spawn(matcher.run(stop_rx.clone()));
    let report_follower = workers::report_follower::ReportFollower::new(store.clone(), clock.clone());
    let report_follower_task = tokio::spawn(report_follower.run(stop_rx.clone()));
    for (name, crm) in &config.crm {
        // Never the token or secret: the kind and where it sends.
        tracing::info!(connector = name, kind = crm.kind(), target = crm.target(), "CRM connector");
    }
    let crm = workers::crm::CrmWorker::new(
        store.clone(),
        clock.clone(),
        workers::crm::connectors(&config, &store, &clock)?,
        media_signer.clone(),
    );
    let crm_task = tokio::spawn(crm.run(stop_rx.clone()));
    let callbacks = CallbackWorker::new(store.clone(), clock.clone(), config.webhooks_allow_private)
        .context("making the status callbacks' client")?;
    let callbacks_task = tokio::spawn(callbacks.run(stop_rx.clone()));
    let streams = Streams::new();
    let presence = PresenceWorker { store: store.clone(), engine: engine.clone(), streams: streams.clone() };
    let presence_task = tokio::spawn(presence.run(stop_rx.clone()));
    let metrics = metrics_handle();
    let upkeep = {
        let metrics = metrics.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(5)) => metrics.run_upkeep(),
                    _ = stop.changed() => break,
                }
            }
        })
    };
    let state = AppState {
        store: store.clone(),
        engine,
        bus,
        clock,
        twilio: twilio_accounts(&config),
        config: Arc::new(config),
        metrics,
        shutdown: stop_rx,
        carriers,
        streams,
        media_signer,
    };
    let app = http::router(state);
    // The peer address reaches handlers (ConnectInfo): failed logins are limited per client address.
    // A connection whose peer vanished (a network drop, no FIN) ends once sent data stays unacknowledged
    // this long, so an agent's event stream closes and they drop out (see workers::presence).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = socket2::SockRef::from(&*tcp).set_tcp_user_timeout(Some(STREAM_USER_TIMEOUT)) {
            tracing::debug!(error = %e, "setting the TCP user timeout failed");
        }
    });
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        })
        .await
        .context("serving HTTP")?;
    // Workers and carrier connections stop on the shutdown signal; the engine then drains its queue
    // and stops once the last handle to it is gone.
    let _ = sender_task.await;
    let _ = timer_task.await;
    let _ = scheduled_task.await;
    let _ = callbacks_task.await;
    let _ = presence_task.await;
    let _ = webhooks_task.await;
    let _ = matcher_task.await;
    let _ = report_follower_task.await;
    let _ = crm_task.await;
    let _ = fetcher_task.await;
    if let Some(task) = retention_task {
        let _ = task.await;
    }
    for task in carrier_tasks {
        let _ = task.await;
    }
    let _ = engine_task.await;
    let _ = bus_task.await;
    let _ = upkeep.await;
    store.close().await;
    Ok(())
}
