//! The media worker: downloads the media consumers sent (MMS) from their carrier and stores it, so
//! agents see it inline. The text was committed before; a failed download is retried and never costs
//! the message.
//!
//! With several nodes, each download is claimed with a lease (`Store::claim_media_downloads`): one
//! node downloads a piece of media at a time. A download is cut off well before its lease runs out, so
//! no other node starts the same download while this one is still running; a node that dies mid-
//! download leaves it to another node after the lease. Should a result come back after another node
//! took the download over anyway, it is dropped (`Store::finish_media_download`), so nothing is
//! stored twice or overwritten.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use parley_carriers::MediaError;
use parley_store::Store;
use parley_store::media::{MediaClaim, MediaResult};
use tokio::sync::{Notify, watch};

use crate::clock::Clock;
use crate::workers::Backoff;
use crate::workers::outbox::Carriers;

/// The largest piece of media stored (MMS carriers cap messages far lower).
pub const MAX_MEDIA_BYTES: usize = 5 * 1024 * 1024;
/// How long a claimed download is this node's alone.
const LEASE_MS: i64 = 120_000;
/// How long one download may take: well inside the lease, so it ends before another node may start it.
const FETCH_TIMEOUT: Duration = Duration::from_secs(90);
const CLAIM: i64 = 16;
const MAX_ATTEMPTS: i64 = 6;
const IDLE_POLL: Duration = Duration::from_secs(1);
/// The longest wait between rounds while they keep failing.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Whether a content type may be stored and shown to agents.
pub fn allowed(content_type: &str) -> bool {
    let base = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    base.starts_with("image/") || base.starts_with("video/") || base.starts_with("audio/") || base == "application/pdf"
}

/// The worker.
pub struct MediaFetcher {
    pub store: Store,
    pub clock: Clock,
    pub carriers: Carriers,
    pub wake: Arc<Notify>,
}

impl MediaFetcher {
    /// Fetches until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = Backoff::new(IDLE_POLL, MAX_BACKOFF);
        loop {
            let wait = match self.round().await {
                Ok(n) if n > 0 => {
                    backoff.succeeded();
                    continue;
                }
                Ok(_) => {
                    backoff.succeeded();
                    IDLE_POLL
                }
                Err(e) => {
                    let wait = backoff.failed();
                    tracing::error!(error = format!("{e:#}"), retry_in = ?wait, "media round failed");
                    wait
                }
            };
            if *shutdown.borrow() {
                break;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// One round: claims due media, fetches it (all claimed pieces at once, so each ends within its
    /// lease) and records each result. Returns how many it claimed.
    pub async fn round(&self) -> anyhow::Result<usize> {
        let now = self.clock.now().0;
        let claims = self.store.claim_media_downloads(now, LEASE_MS, CLAIM).await?;
        let results = join_all(claims.iter().map(|claim| self.fetch(claim, now))).await;
        let mut failure = None;
        for (claim, result) in claims.iter().zip(results) {
            let media = &claim.media;
            if let MediaResult::Failed { error } = &result {
                tracing::warn!(media = media.id, message = media.message_id, error, "media could not be stored");
            }
            // A result that cannot be recorded now is fetched again once the lease has run out; the
            // other pieces are still recorded.
            match self.store.finish_media_download(claim, &result, self.clock.now().0).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(media = media.id, "another node took this download over; its result counts")
                }
                Err(e) => failure = Some(e),
            }
        }
        match failure {
            Some(e) => Err(anyhow::Error::new(e).context("recording a media download")),
            None => Ok(claims.len()),
        }
    }

    /// Downloads one claimed piece of media; what to record.
    async fn fetch(&self, claim: &MediaClaim, now: i64) -> MediaResult {
        let media = &claim.media;
        let Some(carrier) = self.carriers.get(&media.carrier) else {
            return MediaResult::Retry {
                retry_at: now + 60_000,
                error: format!("carrier account \"{}\" is not configured", media.carrier),
            };
        };
        let fetched = match tokio::time::timeout(FETCH_TIMEOUT, carrier.fetch_media(&media.source_url)).await {
            Ok(fetched) => fetched,
            Err(_) => Err(MediaError::Transient(format!("no answer within {FETCH_TIMEOUT:?}"))),
        };
        match fetched {
            Ok(fetched) if fetched.data.len() > MAX_MEDIA_BYTES => {
                MediaResult::Failed { error: format!("larger than {MAX_MEDIA_BYTES} bytes") }
            }
            Ok(fetched) if !allowed(&fetched.content_type) => {
                MediaResult::Failed { error: format!("content type {} is not accepted", fetched.content_type) }
            }
            Ok(fetched) => MediaResult::Stored { content_type: fetched.content_type, data: fetched.data },
            Err(MediaError::Unsupported) => MediaResult::Linked,
            Err(MediaError::Transient(e)) if media.attempts < MAX_ATTEMPTS => {
                MediaResult::Retry { retry_at: now + 2000 * (1 << media.attempts.clamp(0, 10)), error: e }
            }
            Err(MediaError::Transient(e) | MediaError::Permanent(e)) => MediaResult::Failed { error: e },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_media_agents_can_view_is_kept() {
        assert!(allowed("image/jpeg"));
        assert!(allowed("Video/MP4"));
        assert!(allowed("audio/amr; codec=x"));
        assert!(allowed("application/pdf"));
        assert!(!allowed("text/html"));
        assert!(!allowed("application/octet-stream"));
    }
}
