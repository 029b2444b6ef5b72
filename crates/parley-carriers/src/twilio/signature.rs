//! The `X-Twilio-Signature` header: base64 of HMAC-SHA1, keyed with the account's auth token, over the
//! URL Twilio requested followed by every form parameter as `name` + `value`, without separators.
//!
//! How parameters are ordered is what Twilio's own helpers do (`twilio` 9.13 `request_validator.py`
//! and twilio-node `webhooks.ts` agree): names sorted ascending, and for a name that appears more than
//! once, its *distinct* values sorted ascending, each appended as `name + value`. So repeated keys are
//! kept (never collapsed into one value, as a map would), identical repeats count once, and the order
//! in which the values arrived does not matter. Sorting compares UTF-8 bytes, which is the code point
//! order Python uses.
//!
//! Signatures are checked in constant time (`Mac::verify_slice`). Like the official helpers, a URL with
//! an explicit port (any port, as they do) also matches the signature made without it, and a URL
//! without a port also matches the one made with the scheme's default port, because Twilio is
//! inconsistent about ports when it signs. Scheme, host, path and query must match exactly.
//!
//! Not handled here, because message webhooks do not use them: JSON webhooks (`bodySHA256` in the
//! query) and HMAC-SHA256 signatures with a shared key (`X-Twilio-Webhooks-Signature-Settings`).

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// The header Twilio signs its requests with.
pub const HEADER: &str = "X-Twilio-Signature";

/// Why a request's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not the base64 text of a 20-byte HMAC-SHA1.
    #[error("the X-Twilio-Signature header is not a base64 HMAC-SHA1")]
    Malformed,
    /// Well-formed, but made with another token or over another URL or other parameters.
    #[error(
        "the X-Twilio-Signature header does not match: the request was changed, or Twilio called another URL \
         than the one checked, or the auth token differs"
    )]
    Mismatch,
}

/// The signature of a request to `url` carrying the form `params`, as Twilio computes it.
pub fn compute<K: AsRef<str>, V: AsRef<str>>(auth_token: &str, url: &str, params: &[(K, V)]) -> String {
    STANDARD.encode(mac(auth_token, url, &sorted(params)).finalize().into_bytes())
}

/// Checks `signature` (the header's value) against a request to `url` carrying the form `params`.
///
/// `url` must be the public URL as the carrier called it (scheme, host, port, path and query), never
/// one rebuilt from the `Host` header, which a proxy may have rewritten.
pub fn verify<K: AsRef<str>, V: AsRef<str>>(
    auth_token: &str,
    url: &str,
    params: &[(K, V)],
    signature: &str,
) -> Result<(), SignatureError> {
    let tag = STANDARD.decode(signature.trim()).map_err(|_| SignatureError::Malformed)?;
    if tag.len() != 20 {
        return Err(SignatureError::Malformed);
    }
    let params = sorted(params);
    let matches = url_variants(url).iter().any(|u| mac(auth_token, u, &params).verify_slice(&tag).is_ok());
    if matches { Ok(()) } else { Err(SignatureError::Mismatch) }
}

/// [`verify`] for a raw `application/x-www-form-urlencoded` body: every pair is kept, repeats included.
pub fn verify_form(auth_token: &str, url: &str, body: &[u8], signature: &str) -> Result<(), SignatureError> {
    let params: Vec<(Cow<'_, str>, Cow<'_, str>)> = form_urlencoded::parse(body).collect();
    verify(auth_token, url, &params, signature)
}

/// The parameters in signing order: by name, then by value, identical pairs once.
fn sorted<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> Vec<(&str, &str)> {
    let mut pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

fn mac(auth_token: &str, url: &str, params: &[(&str, &str)]) -> HmacSha1 {
    #[expect(clippy::expect_used, reason = "HMAC takes keys of any length, so new_from_slice cannot fail")]
    let mut mac = <HmacSha1 as KeyInit>::new_from_slice(auth_token.as_bytes()).expect("HMAC accepts any key length");
    mac.update(url.as_bytes());
    for (name, value) in params {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// `url` as given, and for http(s) URLs the same URL with the port toggled: an explicit port removed,
/// or the scheme's default port added where there was none.
fn url_variants(url: &str) -> Vec<Cow<'_, str>> {
    let mut variants = vec![Cow::Borrowed(url)];
    let Some((scheme, rest)) = url.split_once("://") else {
        return variants;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return variants,
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    // Where the host starts (after any user info) and ends (before any port), as offsets in `authority`.
    let host_start = authority.rfind('@').map_or(0, |at| at + 1);
    let host_and_port = &authority[host_start..];
    let host_len = if host_and_port.starts_with('[') {
        match host_and_port.find(']') {
            Some(close) => close + 1,
            None => return variants,
        }
    } else {
        host_and_port.find(':').unwrap_or(host_and_port.len())
    };
    let host_end = host_start + host_len;
    let port = &authority[host_end..];
    let prefix_len = scheme.len() + 3;
    let (before, after) = (&url[..prefix_len + host_end], &url[prefix_len + authority_end..]);
    match port.strip_prefix(':') {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            variants.push(Cow::Owned(format!("{before}{after}")));
        }
        Some(_) => {}
        None if port.is_empty() => variants.push(Cow::Owned(format!("{before}:{default_port}{after}"))),
        None => {}
    }
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_variants() {
        let v = |u| url_variants(u).into_iter().map(Cow::into_owned).collect::<Vec<_>>();
        assert_eq!(v("https://example.com/a?b=1"), ["https://example.com/a?b=1", "https://example.com:443/a?b=1"]);
        assert_eq!(v("https://example.com:443/a"), ["https://example.com:443/a", "https://example.com/a"]);
        assert_eq!(v("http://example.com"), ["http://example.com", "http://example.com:80"]);
        assert_eq!(v("http://u:p@example.com:8080?x"), ["http://u:p@example.com:8080?x", "http://u:p@example.com?x"]);
        assert_eq!(v("https://[::1]:8443/h"), ["https://[::1]:8443/h", "https://[::1]/h"]);
        assert_eq!(v("https://[::1]/h"), ["https://[::1]/h", "https://[::1]:443/h"]);
        assert_eq!(v("ftp://example.com/"), ["ftp://example.com/"]);
        assert_eq!(v("https://example.com:x/"), ["https://example.com:x/"]);
        assert_eq!(v("not a url"), ["not a url"]);
    }
}
