//! Server configuration: defaults in code < `parley.toml` < environment < command-line flags. The
//! contact-center setup is data in the database, never configuration.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::Context as _;
use serde::Deserialize;

/// The example configuration, every setting commented; `parley config example` prints it.
pub const EXAMPLE: &str = include_str!("../../../parley.example.toml");

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://parley.db";
/// Default minutes a console session may stay unused before it ends.
pub const DEFAULT_SESSION_IDLE_MINUTES: u32 = 30;

/// A value that must never reach a log.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The contents of `parley.toml`. Unknown keys are refused, so a typo stops start-up.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    /// The URL carriers and browsers reach this server at.
    pub public_url: Option<String>,
    /// Run the built-in carrier simulator.
    pub sim: Option<bool>,
    /// Delete transcripts, media and events of chats that ended more than this many days ago.
    pub retention_days: Option<u32>,
    /// Salts the hash that keys an erased phone's tombstone (see [`crate::privacy`]).
    pub privacy_secret: Option<Secret>,
    /// Minutes a console session may stay unused before it ends (default 30).
    pub session_idle_minutes: Option<u32>,
    /// Whether the session cookie carries `Secure` (default: when `public_url` is https).
    pub secure_cookies: Option<bool>,
    /// The request header a reverse proxy puts the client's address in (`X-Forwarded-For`,
    /// `X-Real-IP`); failed logins are counted per client address. Unset: the connection's peer.
    pub client_ip_header: Option<String>,
    /// Outgoing event webhooks (`[webhooks]`).
    #[serde(default)]
    pub webhooks: WebhooksConfig,
    #[serde(default)]
    pub carriers: BTreeMap<String, CarrierConfig>,
    /// CRM connectors (`[crm.NAME]`, several at once; docs/crm.md "Connectors").
    #[serde(default)]
    pub crm: BTreeMap<String, CrmConfig>,
}

/// One CRM connector (`[crm.NAME]`): where the record changes of the built-in CRM go.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum CrmConfig {
    /// Signed JSON of each record change to a URL (Standard Webhooks signatures).
    Webhook {
        url: String,
        /// `whsec_` + base64; required (start-up refuses a connector without one and prints a new
        /// one to paste).
        secret: Option<Secret>,
        /// The change types to send (`crm.record.opened`, ...); unset: all.
        events: Option<Vec<String>>,
    },
    /// HubSpot's CRM v3 API with a private app's token.
    Hubspot {
        token: Secret,
        /// Default `https://api.hubapi.com`; a test server or a proxy otherwise.
        api_base: Option<String>,
    },
}

impl CrmConfig {
    /// The `kind` as written in `parley.toml`.
    pub fn kind(&self) -> &'static str {
        match self {
            CrmConfig::Webhook { .. } => "webhook",
            CrmConfig::Hubspot { .. } => "hubspot",
        }
    }

    /// Where it sends to: the webhook's URL or HubSpot's API base (no secret in either).
    pub fn target(&self) -> &str {
        match self {
            CrmConfig::Webhook { url, .. } => url,
            CrmConfig::Hubspot { api_base, .. } => api_base.as_deref().unwrap_or(HUBSPOT_API_BASE),
        }
    }
}

/// HubSpot's API, the `api_base` of a `kind = "hubspot"` connector by default.
pub const HUBSPOT_API_BASE: &str = "https://api.hubapi.com";

/// Whether `name` may name a connector: a slug (lower-case letters, digits, `-`, `_`; 1 to 40, a
/// letter first), because it is a label of metrics and a key in the database.
pub fn is_connector_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// `[webhooks]`: where outgoing event webhooks may point.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Allow `http://` URLs and private, loopback and link-local addresses: the switch for a CRM on
    /// the internal network. Off, a webhook must be `https://` to a public address.
    #[serde(default)]
    pub allow_private: bool,
}

/// One carrier account.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum CarrierConfig {
    /// A Twilio-compatible HTTP provider.
    Twilio {
        account_sid: String,
        auth_token: Secret,
        /// Default `https://api.twilio.com`; another provider with the same API, or a test server.
        api_base: Option<String>,
        /// The most segments per second to send through this account.
        segments_per_second: Option<f64>,
        /// Requests in flight at once (default 8).
        concurrency: Option<usize>,
    },
    /// An SMSC or aggregator over SMPP 3.4.
    Smpp {
        host: String,
        port: u16,
        system_id: String,
        password: Secret,
        system_type: Option<String>,
        /// The most segments per second to send through this bind.
        segments_per_second: Option<f64>,
        /// `submit_sm` awaiting their response at once (default 10).
        window: Option<usize>,
        /// Seconds between enquire_link keep-alives (default 30).
        enquire_link_seconds: Option<u64>,
        /// Seconds to wait for a response (default 10).
        response_timeout_seconds: Option<u64>,
        /// TON/NPI of our numbers and of consumers' numbers (default 1/1: international E.164).
        source_ton: Option<u8>,
        source_npi: Option<u8>,
        dest_ton: Option<u8>,
        dest_npi: Option<u8>,
        /// How long texts go: "udh" (parts with a header, the default), "sar" (parts with sar_* TLVs) or
        /// "payload" (the whole text in message_payload).
        long_messages: Option<LongMessages>,
        /// The most binds the whole deployment holds for this account at once (the SMSC's limit per
        /// system_id). Each node holds one bind; with this set, a node binds only while it holds one
        /// of the account's slots (leases in the database), so N nodes never exceed it. Unset: every
        /// node binds.
        max_binds: Option<std::num::NonZeroU32>,
    },
}

impl CarrierConfig {
    /// An SMPP account with every optional setting at its default.
    pub fn smpp(
        host: impl Into<String>,
        port: u16,
        system_id: impl Into<String>,
        password: impl Into<String>,
    ) -> CarrierConfig {
        CarrierConfig::Smpp {
            host: host.into(),
            port,
            system_id: system_id.into(),
            password: Secret::new(password),
            system_type: None,
            segments_per_second: None,
            window: None,
            enquire_link_seconds: None,
            response_timeout_seconds: None,
            source_ton: None,
            source_npi: None,
            dest_ton: None,
            dest_npi: None,
            long_messages: None,
            max_binds: None,
        }
    }
}

/// How an SMPP account sends texts longer than one SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LongMessages {
    Udh,
    Sar,
    Payload,
}

/// The resolved configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub database_url: String,
    pub public_url: Option<String>,
    pub sim: bool,
    pub admin_token: Option<Secret>,
    /// `None`: the documented [`crate::privacy::DEFAULT_SECRET`], with a warning at start-up.
    pub privacy_secret: Option<Secret>,
    /// Days a finished chat's transcript, media and events are kept; `None`: kept forever.
    pub retention_days: Option<u32>,
    pub carriers: BTreeMap<String, CarrierConfig>,
    /// Minutes a console session may stay unused before it ends (at least 1).
    pub session_idle_minutes: u32,
    /// `Secure` on the session cookie: `None` follows [`Config::public_url`] (https: yes).
    pub secure_cookies: Option<bool>,
    /// The header a trusted reverse proxy writes the client's address into; `None`: the peer address.
    pub client_ip_header: Option<String>,
    /// Whether webhooks may use `http://` and private addresses (`[webhooks] allow_private`).
    pub webhooks_allow_private: bool,
    /// CRM connectors by name (`[crm.NAME]`).
    pub crm: BTreeMap<String, CrmConfig>,
}

impl FileConfig {
    /// Reads `parley.toml` (or another file).
    pub fn load(path: &Path) -> anyhow::Result<FileConfig> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        FileConfig::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    /// Parses configuration text.
    pub fn parse(text: &str) -> anyhow::Result<FileConfig> {
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.to_string().trim_end()))
    }
}

impl Config {
    /// A configuration for tests and the demo: the given database, the simulator on.
    pub fn with_database(database_url: impl Into<String>) -> Config {
        Config {
            listen: DEFAULT_LISTEN.to_owned(),
            database_url: database_url.into(),
            public_url: None,
            sim: true,
            admin_token: None,
            privacy_secret: None,
            retention_days: None,
            carriers: BTreeMap::new(),
            session_idle_minutes: DEFAULT_SESSION_IDLE_MINUTES,
            secure_cookies: None,
            client_ip_header: None,
            webhooks_allow_private: false,
            crm: BTreeMap::new(),
        }
    }

    /// Whether the session cookie is marked `Secure` (sent over https only). Explicit
    /// `secure_cookies` wins; otherwise it follows `public_url`: an https public URL means the browser
    /// reaches Parley over TLS (a proxy in front), anything else (unset, or plain http as in the demo and
    /// on a loopback address) sends the cookie without `Secure`, which browsers accept over http.
    pub fn cookies_secure(&self) -> bool {
        self.secure_cookies.unwrap_or_else(|| {
            self.public_url.as_deref().is_some_and(|url| url.trim().to_ascii_lowercase().starts_with("https://"))
        })
    }

    /// The secret that salts erased phones' hashes: the configured one, or the documented default.
    pub fn privacy_secret_or_default(&self) -> Secret {
        self.privacy_secret.clone().unwrap_or_else(|| Secret::new(crate::privacy::DEFAULT_SECRET))
    }

    /// The carrier accounts numbers may name.
    pub fn carrier_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.carriers.keys().cloned().collect();
        if self.sim {
            names.push("sim".to_owned());
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses() {
        let config = FileConfig::parse(EXAMPLE).unwrap();
        assert_eq!(config.listen.as_deref(), Some(DEFAULT_LISTEN));
    }

    #[test]
    fn the_example_carrier_accounts_parse_when_uncommented() {
        let start = EXAMPLE.find("# [carriers.tw]").unwrap();
        let text: String = EXAMPLE[start..]
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| l.starts_with('[') || l.contains(" = "))
            .map(|l| format!("{}\n", l.split("  #").next().unwrap_or(l).trim_end()))
            .collect();
        let config = FileConfig::parse(&text).unwrap();
        assert!(matches!(config.carriers["tw"], CarrierConfig::Twilio { segments_per_second: Some(10.0), .. }));
        assert!(matches!(
            config.carriers["smsc"],
            CarrierConfig::Smpp { port: 2775, window: Some(10), long_messages: Some(LongMessages::Udh), .. }
        ));
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let err = FileConfig::parse("lisen = \"x\"").unwrap_err().to_string();
        assert!(err.contains("lisen"), "{err}");
    }

    #[test]
    fn session_cookies_are_secure_exactly_when_the_public_url_is_https_unless_configured() {
        let mut config = Config::with_database("sqlite://x.db");
        assert!(!config.cookies_secure(), "no public URL: plain http (demo, tests)");
        config.public_url = Some("http://127.0.0.1:8080".to_owned());
        assert!(!config.cookies_secure());
        config.public_url = Some("HTTPS://sms.example.com".to_owned());
        assert!(config.cookies_secure());
        config.secure_cookies = Some(false);
        assert!(!config.cookies_secure(), "explicitly off");
        config.public_url = None;
        config.secure_cookies = Some(true);
        assert!(config.cookies_secure(), "explicitly on");
    }

    #[test]
    fn crm_connectors_parse_by_kind_and_their_names_are_slugs() {
        let text = "[crm.hs]\nkind = \"hubspot\"\ntoken = \"pat-na1-secret\"\n\n[crm.hook]\nkind = \"webhook\"\n\
                    url = \"https://crm.example/in\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n";
        let config = FileConfig::parse(text).unwrap();
        assert_eq!(config.crm["hs"].target(), HUBSPOT_API_BASE);
        assert_eq!((config.crm["hook"].kind(), config.crm["hook"].target()), ("webhook", "https://crm.example/in"));
        assert!(!format!("{config:?}").contains("pat-na1-secret"));
        assert!(FileConfig::parse("[crm.x]\nkind = \"salesforce\"\n").is_err());
        assert!(is_connector_name("hubspot-eu_2"));
        for bad in ["", "HubSpot", "2hs", "a b", &"a".repeat(41)] {
            assert!(!is_connector_name(bad), "{bad}");
        }
    }

    #[test]
    fn secrets_are_redacted() {
        let config =
            FileConfig::parse("[carriers.t]\nkind = \"twilio\"\naccount_sid = \"AC1\"\nauth_token = \"hunter2\"\n")
                .unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
