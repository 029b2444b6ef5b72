//! Outbound media (MMS): how a message names the uploads it carries, and the signed, expiring URLs
//! carriers fetch them from.
//!
//! A message's `media` column holds one URL per line. For media a consumer sent it is the carrier's
//! URL; for an upload it is the upload's API path, `/api/v1/media/{id}` (what agents open with their
//! token), so the transcript, the events and a resend or a release of a held message all carry it
//! unchanged. Only when the outbox hands the message to its carrier does each path become a URL the
//! carrier can fetch without a token: `{public_url}/media/{id}?expires=UNIX&sig=HEX`, where the
//! signature is HMAC-SHA256 over `"{id}.{expires}"` under the deployment's media key.
//!
//! The key lives in the database (`signing_keys`, created by the first node to start and read back
//! by every other), so a URL signed by one node is served by any node, and it survives restarts
//! without a setting to keep in step. It is never logged.

use hmac::{Hmac, KeyInit, Mac};
use parley_store::Store;
use sha2::Sha256;

/// The API path of an upload: where agents open it, and how a message names it.
pub fn media_path(id: &str) -> String {
    format!("{MEDIA_PATH}{id}")
}

pub const MEDIA_PATH: &str = "/api/v1/media/";

/// How long a signed URL stays valid after the outbox hands it to a carrier: carriers fetch at once,
/// and a day covers their retries.
pub const SIGNED_URL_VALID_SECS: i64 = 24 * 3600;

/// The uploads a message carries, by media id, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutMedia(pub Vec<String>);

impl OutMedia {
    /// Whether the message carries no upload.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `messages.media` column of a message carrying these uploads.
    pub fn column(&self) -> String {
        self.0.iter().map(|id| media_path(id)).collect::<Vec<_>>().join("\n")
    }

    /// The uploads a stored `messages.media` column names (lines that are no upload's path are not).
    pub fn from_column(column: &str) -> OutMedia {
        OutMedia(column.lines().filter_map(upload_id).map(str::to_owned).collect())
    }
}

/// The media id of an upload's path, or `None` for any other URL.
pub fn upload_id(url: &str) -> Option<&str> {
    url.strip_prefix(MEDIA_PATH).filter(|id| !id.is_empty() && !id.contains(['/', '?']))
}

/// The signing key's name in `signing_keys`.
const KEY_NAME: &str = "media";

/// Signs and checks the URLs carriers fetch uploads from.
#[derive(Clone)]
pub struct MediaSigner {
    key: Vec<u8>,
    /// `public_url` without its trailing slash; none: the URLs are relative (the simulator).
    base: String,
}

impl std::fmt::Debug for MediaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaSigner").field("key", &"[redacted]").field("base", &self.base).finish()
    }
}

impl MediaSigner {
    /// The deployment's signer: its key from the store (made now if no node made one yet).
    pub async fn load(store: &Store, public_url: Option<&str>, now: i64) -> anyhow::Result<MediaSigner> {
        let mut fresh = [0_u8; 32];
        getrandom::fill(&mut fresh).map_err(|e| anyhow::anyhow!("no randomness for the media key: {e}"))?;
        let stored = store.signing_key(KEY_NAME, &hex(&fresh), now).await?;
        Ok(MediaSigner::new(stored.into_bytes(), public_url))
    }

    /// A signer with `key` (tests; [`MediaSigner::load`] otherwise).
    pub fn new(key: Vec<u8>, public_url: Option<&str>) -> MediaSigner {
        MediaSigner { key, base: public_url.unwrap_or_default().trim_end_matches('/').to_owned() }
    }

    /// The URL a carrier fetches upload `id` from, valid for [`SIGNED_URL_VALID_SECS`] after `now_ms`.
    pub fn url(&self, id: &str, now_ms: i64) -> String {
        let expires = now_ms / 1000 + SIGNED_URL_VALID_SECS;
        format!(
            "{}/media/{id}?expires={expires}&sig={}",
            self.base,
            hex(&self.mac(id, expires).finalize().into_bytes())
        )
    }

    /// Whether `sig` signs upload `id` until `expires` (Unix seconds) and that moment has not passed.
    pub fn verify(&self, id: &str, expires: i64, sig: &str, now_ms: i64) -> bool {
        let Some(sig) = unhex(sig) else { return false };
        expires.saturating_mul(1000) > now_ms && self.mac(id, expires).verify_slice(&sig).is_ok()
    }

    /// The deployment key's MAC of `data` for `purpose` (another use of the key than media URLs, kept
    /// apart by the purpose so one kind of signature never passes for another).
    pub fn sign(&self, purpose: &str, data: &[u8]) -> Vec<u8> {
        self.purpose_mac(purpose, data).finalize().into_bytes().to_vec()
    }

    /// Whether `sig` is [`MediaSigner::sign`] of `data` for `purpose` (compared in constant time).
    pub fn verify_signed(&self, purpose: &str, data: &[u8], sig: &[u8]) -> bool {
        self.purpose_mac(purpose, data).verify_slice(sig).is_ok()
    }

    fn purpose_mac(&self, purpose: &str, data: &[u8]) -> Hmac<Sha256> {
        #[expect(clippy::expect_used, reason = "HMAC takes keys of any length, so new_from_slice cannot fail")]
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(purpose.as_bytes());
        mac.update(b"\n");
        mac.update(data);
        mac
    }

    fn mac(&self, id: &str, expires: i64) -> Hmac<Sha256> {
        #[expect(clippy::expect_used, reason = "HMAC takes keys of any length, so new_from_slice cannot fail")]
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(format!("{id}.{expires}").as_bytes());
        mac
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_names_its_uploads_by_their_api_paths() {
        let media = OutMedia(vec!["a1".into(), "b2".into()]);
        assert_eq!(media.column(), "/api/v1/media/a1\n/api/v1/media/b2");
        assert_eq!(OutMedia::from_column(&media.column()), media);
        assert!(OutMedia::from_column("https://carrier.example/x.jpg").is_empty(), "a consumer's media is no upload");
        assert_eq!(upload_id("/api/v1/media/x/../y"), None);
    }

    #[test]
    fn a_signed_url_is_valid_until_it_expires_and_for_its_media_only() {
        let signer = MediaSigner::new(b"key".to_vec(), Some("https://sms.example.com/"));
        let now = 1_800_000_000_000;
        let url = signer.url("m1", now);
        let expires = now / 1000 + SIGNED_URL_VALID_SECS;
        let prefix = format!("https://sms.example.com/media/m1?expires={expires}&sig=");
        assert!(url.starts_with(&prefix), "{url}");
        let sig = &url[prefix.len()..];
        assert!(signer.verify("m1", expires, sig, now));
        assert!(!signer.verify("m1", expires, sig, expires * 1000), "expired");
        assert!(!signer.verify("m2", expires, sig, now), "another media");
        assert!(!signer.verify("m1", expires + 1, sig, now), "another expiry");
        assert!(!MediaSigner::new(b"other".to_vec(), None).verify("m1", expires, sig, now), "another key");
        assert!(!signer.verify("m1", expires, "zz", now));
    }
}
