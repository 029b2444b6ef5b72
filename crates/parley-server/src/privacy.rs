//! Privacy: erasing a phone's data on request leaves a tombstone in the store, keyed by
//! [`phone_hash`] rather than by the number, so the opt-out of an erased phone is still honored when it
//! texts again while the number itself is no longer stored.
//!
//! The hash is salted with the deployment's `privacy_secret`: without it, the few billion possible
//! numbers of a country could be hashed in minutes and a tombstone read back as the number. The same
//! secret must be used by every server and by `parley privacy erase`, and it must never change, or
//! earlier tombstones are no longer found and the opt-outs they keep are lost.

use parley_core::event::Event;
use parley_core::phone::E164;
use parley_core::time::Timestamp;
use parley_store::rows::EventRow;
use sha2::{Digest, Sha256};

/// The secret used when `privacy_secret` is not configured. Documented (README, parley.example.toml)
/// and warned about at start-up: it keeps tombstones working, but anyone can recompute its hashes.
pub const DEFAULT_SECRET: &str = "parley-default-privacy-secret";

/// The tombstone key of a phone: hex SHA-256 of the secret followed by the E.164 number.
pub fn phone_hash(secret: &str, phone: &E164) -> String {
    let mut hasher = Sha256::new();
    hasher.update(secret.as_bytes());
    hasher.update(phone.as_str().as_bytes());
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The `contact.erased` event of a contact an erasure at `now` took the phone from (what
/// `Store::erase_phone` writes for each), for the engine and `parley privacy erase` alike.
pub fn contact_erased(now: Timestamp) -> impl Fn(&str, bool, Vec<String>) -> EventRow + Send + Sync {
    move |contact_id, deleted, external_ids| {
        let event = Event::ContactErased { contact_id: contact_id.to_owned(), deleted, external_ids };
        crate::http::event_json::row(&event, None, None, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_sha256_of_the_secret_then_the_number() {
        let phone = E164::parse("+14155550100").unwrap();
        // printf '%s' 'secret+14155550100' | sha256sum
        assert_eq!(phone_hash("secret", &phone), "41577e79abb19645b3a1e45ead5a5a5fcdda351cdf532ef94325c91e31d62dd7");
        assert_ne!(phone_hash("other", &phone), phone_hash("secret", &phone), "the secret salts the hash");
        assert_ne!(phone_hash("secret", &E164::parse("+14155550101").unwrap()), phone_hash("secret", &phone));
    }
}
