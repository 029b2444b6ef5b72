//! Command-line interface: flags, environment and `parley.toml`, resolved into one `Config`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use parley_core::phone::E164;
use parley_server::config::{self, Config, FileConfig, Secret};
use parley_server::privacy::phone_hash;
use parley_server::setup_doc::SetupDocument;
use parley_store::{Store, StoreError};

/// Parley: a self-hosted SMS contact center.
#[derive(Debug, Parser)]
#[command(name = "parley", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    /// Log format: "text" for people, "json" for log collectors.
    #[arg(long, global = true, env = "PARLEY_LOG_FORMAT", default_value = "text")]
    pub(crate) log_format: String,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the server (API, carriers, workers).
    Serve {
        #[command(flatten)]
        server: ServerArgs,
        /// Run the built-in carrier simulator (carrier "sim", /sim endpoints, phone page at /sim/phone).
        #[arg(long)]
        sim: bool,
    },
    /// Start a ready-to-try deployment: SQLite in ./parley-demo.db, the simulator, two numbers, a menu, agents.
    Demo {
        /// Address to listen on.
        #[arg(long, env = "PARLEY_LISTEN", default_value = config::DEFAULT_LISTEN)]
        listen: String,
        /// Database for the demo.
        #[arg(long, default_value = "sqlite://parley-demo.db")]
        database_url: String,
    },
    /// Apply or export the contact-center setup (numbers, queues, agents, teams) as a TOML document.
    Setup {
        #[command(subcommand)]
        action: SetupAction,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Measure Parley.
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Privacy requests of consumers.
    Privacy {
        #[command(subcommand)]
        action: PrivacyAction,
    },
    /// The built-in CRM's contacts as CSV: import a file, export them all.
    Contacts {
        #[command(subcommand)]
        action: crate::contacts::ContactsAction,
    },
    /// The reports' rollups (docs/reports.md "How fast").
    Reports {
        #[command(subcommand)]
        action: ReportsAction,
    },
    /// Console users: the people who log in at /login (admins, supervisors, agents).
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
    /// Print the OpenAPI document of the HTTP API (what a server serves at /api/v1/openapi.json; with
    /// the simulator's endpoints, as `serve --sim` and `demo` serve them).
    Openapi,
}

#[derive(Debug, Subcommand)]
pub(crate) enum UsersAction {
    /// Create a user. The password (at least 10 characters) comes from standard input with
    /// --password-stdin, or from PARLEY_USER_PASSWORD.
    Add {
        /// 1 to 64 characters of a-z, 0-9, '.', '_', '-', '@' (stored in lower case).
        username: String,
        /// admin (everything), supervisor (watches their teams' chats) or agent (acts as one agent).
        #[arg(long, value_parser = ["admin", "supervisor", "agent"])]
        role: String,
        /// Agent users: the agent id of the setup they act as.
        #[arg(long)]
        agent: Option<String>,
        /// Supervisors: a team whose queues they watch (repeat for several).
        #[arg(long = "team", value_name = "TEAM")]
        teams: Vec<String>,
        /// The name the console shows [default: the agent's name in the setup, else the username].
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List the users (never their passwords).
    List {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Stop a user from logging in; their sessions end at once.
    Disable {
        username: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Let a disabled user log in again.
    Enable {
        username: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Give a user a new password (from --password-stdin or PARLEY_USER_PASSWORD); their sessions end.
    SetPassword {
        username: String,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// Where a password comes from; never a command-line argument, which other users can see in `ps`.
#[derive(Debug, Clone, Args)]
pub(crate) struct PasswordArgs {
    /// Read the password from the first line of standard input (else from PARLEY_USER_PASSWORD).
    #[arg(long)]
    pub(crate) password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ReportsAction {
    /// Write every finished chat's rollup rows again from its events (after an upgrade that changes
    /// a figure's definition, or to check them). Safe while nodes run: their follower waits for it.
    Rebuild {
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum PrivacyAction {
    /// Erase everything stored about one phone (messages, media, chats, consent, simulator thread),
    /// keeping only a hashed tombstone so that its opt-out is still honored. A phone with a live chat
    /// is refused: end the chat first.
    Erase {
        /// The phone, E.164 (+14155550100).
        phone: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SetupAction {
    /// Validate a setup document (TOML) as a whole and apply it atomically.
    Apply {
        /// The TOML file (see `parley setup export` for the format).
        file: PathBuf,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Print the setup in force as TOML.
    Export {
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum BenchWhat {
    /// Drive inbound texts from many phones through POST /sim/messages and report msgs/s and ack latency.
    Ingest(crate::bench::IngestArgs),
    /// Send outbound messages through the durable outbox over SMPP to an SMSC and report msgs/s to the
    /// SMSC's acknowledgment and to the recorded delivery receipt.
    Outbound(crate::bench::OutboundArgs),
    /// Time the guess of a first text's language (lingua, as the engine runs it).
    Language(crate::bench_language::LanguageArgs),
    /// Two nodes on one PostgreSQL database: how long an event committed on node A takes to reach an
    /// event stream on node B (p50/p99).
    Fanout(crate::bench_fanout::FanoutArgs),
    /// The accuracy of the estimated wait on simulated queues (Poisson arrivals, varied handle times,
    /// agents joining and leaving, impatient consumers): its mean absolute error against each answered
    /// consumer's actual wait, beside the naive estimate's (docs/ewt.md).
    Ewt(crate::bench_ewt::EwtArgs),
    /// Fill a fresh database with contacts and time prefix searches by name, phone and e-mail
    /// (p50/p95/p99/max per kind).
    Contacts(crate::bench_contacts::ContactsArgs),
    /// Fill a database with months of realistic chat history (menus, waits, offers, transfers,
    /// messages both ways, a day's rhythm) for the reports (docs/reports.md "How fast").
    Seed(crate::bench_seed::SeedArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigAction {
    /// Print an example parley.toml with every setting explained.
    Example,
}

/// Where the server listens and what it stores into.
#[derive(Debug, Clone, Args)]
pub(crate) struct ServerArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "PARLEY_LISTEN")]
    pub(crate) listen: Option<String>,
    /// sqlite://FILE or postgres://USER@HOST/DB [default: sqlite://parley.db].
    #[arg(long, env = "PARLEY_DATABASE_URL")]
    pub(crate) database_url: Option<String>,
    /// Configuration file [default: ./parley.toml when it exists].
    #[arg(long, env = "PARLEY_CONFIG")]
    pub(crate) config: Option<PathBuf>,
}

impl ServerArgs {
    /// Resolves defaults < file < environment/flags.
    pub(crate) fn resolve(&self, sim_flag: bool) -> anyhow::Result<Config> {
        let file = match &self.config {
            Some(path) => FileConfig::load(path)?,
            None if Path::new("parley.toml").exists() => FileConfig::load(Path::new("parley.toml"))?,
            None => FileConfig::default(),
        };
        Ok(Config {
            listen: self.listen.clone().or(file.listen).unwrap_or_else(|| config::DEFAULT_LISTEN.to_owned()),
            database_url: self
                .database_url
                .clone()
                .or(file.database_url)
                .unwrap_or_else(|| config::DEFAULT_DATABASE_URL.to_owned()),
            public_url: file.public_url,
            sim: sim_flag || file.sim.unwrap_or(false),
            admin_token: std::env::var("PARLEY_ADMIN_TOKEN").ok().filter(|t| !t.is_empty()).map(Secret::new),
            privacy_secret: std::env::var("PARLEY_PRIVACY_SECRET")
                .ok()
                .map(Secret::new)
                .or(file.privacy_secret)
                .filter(|s| !s.expose().is_empty()),
            retention_days: file.retention_days,
            carriers: file.carriers,
            session_idle_minutes: file.session_idle_minutes.unwrap_or(config::DEFAULT_SESSION_IDLE_MINUTES).max(1),
            secure_cookies: file.secure_cookies,
            client_ip_header: file.client_ip_header.filter(|h| !h.trim().is_empty()),
            webhooks_allow_private: file.webhooks.allow_private,
            crm: file.crm,
        })
    }
}

/// Sets up structured logging; `RUST_LOG` picks levels (default info).
pub(crate) fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Waits for Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing in-flight work");
}

pub(crate) async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { server, sim } => {
            let config = server.resolve(sim)?;
            let listener = tokio::net::TcpListener::bind(&config.listen)
                .await
                .with_context(|| format!("listening on {}", config.listen))?;
            let addr = listener.local_addr()?;
            tracing::info!(listen = %addr, database = %redact_url(&config.database_url), sim = config.sim, "parley is serving");
            if config.admin_token.is_none() {
                tracing::warn!(
                    "PARLEY_ADMIN_TOKEN is not set: no admin can log in until it is (tokens minted earlier still work)"
                );
            }
            warn_default_privacy_secret(&config);
            if !config.cookies_secure() && !addr.ip().is_loopback() {
                tracing::warn!(
                    "console session cookies are sent without Secure: if browsers reach Parley over https, set \
                     public_url to its https:// address (or secure_cookies = true)"
                );
            }
            parley_server::serve(config, listener, shutdown_signal()).await
        }
        Command::Demo { listen, database_url } => crate::demo::run(&listen, &database_url).await,
        Command::Setup { action: SetupAction::Apply { file, server } } => {
            let config = server.resolve(false)?;
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let doc = SetupDocument::from_toml(&text).with_context(|| format!("in {}", file.display()))?;
            let store = open_store(&config).await?;
            // Validated against the carriers of this config plus "sim", which any server can run.
            let mut carriers = config.carrier_names();
            carriers.push("sim".to_owned());
            let carriers: Vec<&str> = carriers.iter().map(String::as_str).collect();
            let setup = parley_core::setup::Setup::validate(&doc.to_draft(), &carriers).map_err(|problems| {
                let all: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
                anyhow::anyhow!("the setup was not applied:\n{}", all.join("\n"))
            })?;
            let stored = SetupDocument::from_setup(&setup);
            let json = serde_json::to_string(&stored)?;
            let version = store.save_setup_document(&json, chrono_now()).await?;
            println!(
                "applied setup version {version}: {} numbers, {} queues, {} agents, {} teams",
                setup.numbers.len(),
                setup.queues.len(),
                setup.agents.len(),
                setup.teams.len()
            );
            Ok(())
        }
        Command::Setup { action: SetupAction::Export { server } } => {
            let config = server.resolve(false)?;
            let store = open_store(&config).await?;
            let mut names = config.carrier_names();
            names.push("sim".to_owned());
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let (_, setup) = parley_server::load_setup(&store, &names).await?;
            print!("{}", SetupDocument::from_setup(&setup).to_toml()?);
            Ok(())
        }
        Command::Migrate { server } => {
            let config = server.resolve(false)?;
            let store = Store::connect(&config.database_url).await?;
            let applied = store.migrate().await?;
            println!("{} is up to date ({applied} migration(s) applied)", redact_url(&config.database_url));
            Ok(())
        }
        Command::Bench { what: BenchWhat::Ingest(args) } => crate::bench::ingest(args).await,
        Command::Bench { what: BenchWhat::Outbound(args) } => crate::bench::outbound(args).await,
        Command::Bench { what: BenchWhat::Fanout(args) } => crate::bench_fanout::run(args).await,
        Command::Bench { what: BenchWhat::Ewt(args) } => {
            crate::bench_ewt::run(&args);
            Ok(())
        }
        Command::Bench { what: BenchWhat::Language(args) } => {
            crate::bench_language::run(&args);
            Ok(())
        }
        Command::Bench { what: BenchWhat::Contacts(args) } => crate::bench_contacts::run(args).await,
        Command::Bench { what: BenchWhat::Seed(args) } => crate::bench_seed::run(args).await,
        Command::Contacts { action } => crate::contacts::run(action).await,
        Command::Reports { action: ReportsAction::Rebuild { server } } => {
            let config = server.resolve(false)?;
            let store = open_store(&config).await?;
            crate::reports::rebuild(&store, false).await
        }
        Command::Users { action } => crate::users::run(action).await,
        Command::Openapi => {
            let doc = parley_server::http::openapi_document(true);
            println!("{}", doc.to_pretty_json().context("writing the OpenAPI document")?);
            Ok(())
        }
        Command::Config { action: ConfigAction::Example } => {
            print!("{}", config::EXAMPLE);
            Ok(())
        }
        Command::Privacy { action: PrivacyAction::Erase { phone, server } } => {
            let phone = E164::parse(&phone).with_context(|| format!("erasing {phone:?}"))?;
            let config = server.resolve(false)?;
            warn_default_privacy_secret(&config);
            let store = open_store(&config).await?;
            let hash = phone_hash(config.privacy_secret_or_default().expose(), &phone);
            let by =
                std::env::var("USER").ok().filter(|u| !u.is_empty()).map_or("cli".to_owned(), |u| format!("cli:{u}"));
            let now = chrono_now();
            let erased = parley_server::privacy::contact_erased(parley_core::time::Timestamp(now));
            let report = store.erase_phone(phone.as_str(), &hash, &by, now, &erased).await.map_err(|e| match e {
                StoreError::Conflict(message) => anyhow::anyhow!("nothing was erased: {message}"),
                other => anyhow::Error::new(other).context(format!("erasing {phone}")),
            })?;
            if report.is_empty() {
                println!("nothing is stored about {phone}: nothing to erase");
                return Ok(());
            }
            println!(
                "erased {phone}: {} messages, {} media, {} events, {} chats, {} simulator messages, {} consent, \
                 {} consent ledger entries, {} pending receipts; removed from {} contacts ({} deleted)",
                report.messages,
                report.media,
                report.events,
                report.chats,
                report.sim_messages,
                report.consents,
                report.consent_ledger,
                report.pending_receipts,
                report.contacts_changed,
                report.contacts_deleted
            );
            if report.opted_out {
                println!("the phone stays opted out: its texts get no answer until it texts START");
            } else {
                println!("the phone was not opted out: if it texts again it is a new contact");
            }
            Ok(())
        }
    }
}

/// An error that ends the command with its own exit status (`main` prints `message` unless it is
/// empty: the command already reported everything).
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(code: u8, message: String) -> Failure {
        Failure { code, message }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Tombstones hashed with the built-in secret can be recomputed by anyone who knows the number.
fn warn_default_privacy_secret(config: &Config) {
    if config.privacy_secret.is_none() {
        tracing::warn!(
            "privacy_secret is not set: erased phones are remembered under a hash salted with the built-in \
             default; set a deployment-specific secret (privacy_secret in parley.toml or PARLEY_PRIVACY_SECRET) \
             before the first erasure, and never change it"
        );
    }
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    Ok(store)
}

fn chrono_now() -> i64 {
    parley_server::clock::Clock::System.now().0
}

/// A database URL without its password, for logs.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("sqlite://parley.db"), "sqlite://parley.db");
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
