//! Where a webhook may point: `https://` to a public address by default; `http://` and private,
//! loopback and link-local addresses only with `[webhooks] allow_private = true` (a CRM on the
//! internal network). Checked when a webhook is made or changed (the host is resolved then) and again
//! at every delivery, on the very addresses the client connects to ([`CheckedResolver`]), so a name
//! that later resolves inside the network is refused too. Redirects are never followed.
//!
//! Why: a webhook URL is a request Parley makes on an admin's behalf from inside the deployment; without
//! these rules it would reach the database, the cloud's metadata service or an internal admin page.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::Url;

/// Why a URL is refused, said so that the admin knows what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("the url does not parse: {0}")]
    Unparsable(String),
    #[error("the url must be https:// (http:// only with [webhooks] allow_private = true in parley.toml)")]
    NotHttps,
    #[error("the url must be http:// or https://, not {0}://")]
    NotHttp(String),
    #[error("the url must not carry credentials (user:password@); authenticate the webhook by its signature")]
    Credentials,
    #[error("the url has no host")]
    NoHost,
    #[error(
        "{host} resolves to {addr}, a private, loopback or link-local address: allow it with [webhooks] allow_private = true in parley.toml"
    )]
    Private { host: String, addr: IpAddr },
    #[error("{0} does not resolve")]
    Unresolved(String),
}

/// Parses `url` and checks its form: scheme, credentials, host.
pub fn check_form(url: &str, allow_private: bool) -> Result<Url, TargetError> {
    let parsed = Url::parse(url.trim()).map_err(|e| TargetError::Unparsable(e.to_string()))?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err(TargetError::NotHttps),
        other => return Err(TargetError::NotHttp(other.to_owned())),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(TargetError::Credentials);
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(TargetError::NoHost);
    }
    Ok(parsed)
}

/// [`check_form`], then resolves the host and checks every address it has.
pub async fn check(url: &str, allow_private: bool) -> Result<Url, TargetError> {
    let parsed = check_form(url, allow_private)?;
    let host = parsed.host_str().unwrap_or_default().trim_matches(['[', ']']).to_owned();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|_| TargetError::Unresolved(host.clone()))?
        .collect();
    if addrs.is_empty() {
        return Err(TargetError::Unresolved(host));
    }
    for addr in addrs {
        check_addr(&host, addr.ip(), allow_private)?;
    }
    Ok(parsed)
}

/// Refuses an address inside the network unless private addresses are allowed.
pub fn check_addr(host: &str, addr: IpAddr, allow_private: bool) -> Result<(), TargetError> {
    if allow_private || is_public(addr) { Ok(()) } else { Err(TargetError::Private { host: host.to_owned(), addr }) }
}

/// Whether `addr` is reachable on the internet: not loopback, private, link-local, shared (CGNAT),
/// unspecified, multicast, broadcast or documentation space; IPv4-mapped IPv6 is judged as IPv4.
pub fn is_public(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// The HTTP client's resolver: resolves as the system does and refuses addresses inside the network
/// unless they are allowed, so the check holds for the address the delivery really connects to.
/// (A URL whose host is an address literal is never resolved: the worker checks it itself.)
#[derive(Debug, Clone, Copy)]
pub struct CheckedResolver {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            for addr in &addrs {
                check_addr(&host, addr.ip(), allow_private)
                    .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) })?;
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// The client deliveries go through: no redirects, the checked resolver, no proxy from the
/// environment (it would connect to the proxy instead), `timeout` per request.
pub fn client(allow_private: bool, timeout: std::time::Duration) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(CheckedResolver { allow_private }))
        .no_proxy()
        .timeout(timeout)
        .user_agent(concat!("Parley-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| anyhow::anyhow!("building the webhook client: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_without_credentials_unless_private_targets_are_allowed() {
        assert!(check_form("https://crm.example/hook", false).is_ok());
        assert_eq!(check_form("http://crm.example/hook", false), Err(TargetError::NotHttps));
        assert!(check_form("http://crm.example/hook", true).is_ok());
        assert_eq!(check_form("ftp://crm.example/x", true), Err(TargetError::NotHttp("ftp".to_owned())));
        assert_eq!(check_form("https://u:p@crm.example/x", false), Err(TargetError::Credentials));
        assert!(matches!(check_form("not a url", false), Err(TargetError::Unparsable(_))));
    }

    #[test]
    fn addresses_inside_the_network_are_not_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "2606:2800:220:1::1", "8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn a_loopback_name_is_refused_without_the_switch() {
        let err = check("https://localhost/hook", false).await.unwrap_err();
        assert!(matches!(err, TargetError::Private { .. }), "{err}");
        assert!(check("http://127.0.0.1:9/hook", true).await.is_ok());
    }
}
