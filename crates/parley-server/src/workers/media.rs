//! The media worker: downloads the media consumers sent (MMS) from their carrier and stores it, so
//! agents see it inline. The text was committed before; a failed download is retried and never costs
//! the message.

use std::sync::Arc;
use std::time::Duration;

use parley_carriers::MediaError;
use parley_store::Store;
use parley_store::media::MediaResult;
use tokio::sync::{Notify, watch};

use crate::clock::Clock;
use crate::workers::outbox::Carriers;

/// The largest piece of media stored (MMS carriers cap messages far lower).
pub const MAX_MEDIA_BYTES: usize = 5 * 1024 * 1024;
const LEASE_MS: i64 = 120_000;
const CLAIM: i64 = 16;
const MAX_ATTEMPTS: i64 = 6;
const IDLE_POLL: Duration = Duration::from_secs(1);

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
        loop {
            match self.round().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = format!("{e:#}"), "media round failed"),
            }
            if *shutdown.borrow() {
                break;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// One round: claims due media and fetches it. Returns how many it claimed.
    pub async fn round(&self) -> anyhow::Result<usize> {
        let now = self.clock.now().0;
        let claimed = self.store.claim_media(now, LEASE_MS, CLAIM).await?;
        for media in &claimed {
            let result = match self.carriers.get(&media.carrier) {
                None => MediaResult::Retry {
                    retry_at: now + 60_000,
                    error: format!("carrier account \"{}\" is not configured", media.carrier),
                },
                Some(carrier) => match carrier.fetch_media(&media.source_url).await {
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
                },
            };
            if let MediaResult::Failed { error } = &result {
                tracing::warn!(media = media.id, message = media.message_id, error, "media could not be stored");
            }
            self.store.finish_media(&media.id, &result, self.clock.now().0).await?;
        }
        Ok(claimed.len())
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
