//! Inbound concatenated messages, held until every part has arrived.
//!
//! `parley_core::text::reassembly` removes a text the moment it completes. Over SMPP that loses it when
//! the engine then fails to store it: the session answers the last part with a temporary error so the
//! SMSC delivers it again, but the earlier parts were acknowledged long ago and will not come back. So
//! here a complete text stays until the session calls [`Reassembly::done`] after the sink took it, and a
//! redelivered last part completes it again.
//!
//! The parts are acknowledged as they are buffered, as every ESME does: holding them unacknowledged could
//! stall an SMSC that sends one part at a time. A restart therefore loses incomplete texts, and so does
//! [`Reassembly::expire`] after the configured time.
//!
//! The provider id of a whole text is a digest of who sent it to whom, the reference, and the parts, so a
//! redelivery of the same text gets the same id and the engine stores it once.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use parley_core::phone::{BusinessNumber, E164};
use parley_core::text::segment::Concat;
use sha1::{Digest, Sha1};
use tokio::time::Instant;

use super::inbound::{Mo, decode_text};

/// Identifies one concatenated text: the sender picks the reference, per recipient.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) from: E164,
    pub(crate) to: BusinessNumber,
    pub(crate) reference: u16,
    pub(crate) total: u8,
}

/// A text whose parts have all arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Whole {
    pub(crate) key: Key,
    /// Stable across redeliveries of the same parts.
    pub(crate) provider_id: String,
    pub(crate) text: String,
}

/// Parts waiting for the rest of their text.
#[derive(Debug)]
pub(crate) struct Reassembly {
    sets: HashMap<Key, Set>,
}

#[derive(Debug)]
struct Set {
    /// By part number; the first copy of a part wins.
    parts: BTreeMap<u8, (u8, Vec<u8>)>,
    /// When the latest part arrived; the set expires relative to it.
    last: Instant,
}

impl Reassembly {
    pub(crate) fn new() -> Reassembly {
        Reassembly { sets: HashMap::new() }
    }

    /// Adds part `concat` of a text. Returns the text once all its parts are there, and again every time
    /// a part of a complete text arrives, until [`Reassembly::done`].
    pub(crate) fn add(&mut self, mo: Mo, concat: Concat, now: Instant) -> Option<Whole> {
        let key = Key { from: mo.from, to: mo.to, reference: concat.reference, total: concat.total };
        let set = self.sets.entry(key.clone()).or_insert_with(|| Set { parts: BTreeMap::new(), last: now });
        set.last = now;
        set.parts.entry(concat.seq).or_insert((mo.data_coding, mo.payload));
        if set.parts.len() < usize::from(concat.total) {
            return None;
        }
        let text = join(&set.parts);
        let provider_id = digest(&key, &set.parts);
        Some(Whole { key, provider_id, text })
    }

    /// Forgets a text the sink has taken.
    pub(crate) fn done(&mut self, key: &Key) {
        self.sets.remove(key);
    }

    /// Drops texts whose latest part is older than `max_age`; returns them with how many parts arrived.
    pub(crate) fn expire(&mut self, now: Instant, max_age: Duration) -> Vec<(Key, usize)> {
        let expired: Vec<Key> = self
            .sets
            .iter()
            .filter(|(_, set)| now.duration_since(set.last) > max_age)
            .map(|(k, _)| k.clone())
            .collect();
        expired.into_iter().filter_map(|key| self.sets.remove(&key).map(|set| (key, set.parts.len()))).collect()
    }

    /// How many texts are incomplete or waiting for the sink.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.sets.len()
    }
}

/// The text, decoding runs of parts with the same data_coding together, so a character cut between two
/// parts by a careless sender still reads.
fn join(parts: &BTreeMap<u8, (u8, Vec<u8>)>) -> String {
    let mut text = String::new();
    let mut run: Option<(u8, Vec<u8>)> = None;
    for (data_coding, payload) in parts.values() {
        match &mut run {
            Some((coding, bytes)) if coding == data_coding => bytes.extend_from_slice(payload),
            _ => {
                if let Some((coding, bytes)) = run.take() {
                    text.push_str(&decode_text(coding, &bytes));
                }
                run = Some((*data_coding, payload.clone()));
            }
        }
    }
    if let Some((coding, bytes)) = run {
        text.push_str(&decode_text(coding, &bytes));
    }
    text
}

fn digest(key: &Key, parts: &BTreeMap<u8, (u8, Vec<u8>)>) -> String {
    let mut hasher = Sha1::new();
    for field in [key.from.as_str(), key.to.as_str()] {
        hasher.update(field.as_bytes());
        hasher.update([0]);
    }
    hasher.update(key.reference.to_be_bytes());
    hasher.update([key.total]);
    for (seq, (data_coding, payload)) in parts {
        hasher.update([*seq, *data_coding]);
        hasher.update(u32::try_from(payload.len()).unwrap_or(u32::MAX).to_be_bytes());
        hasher.update(payload);
    }
    let hash = hasher.finalize();
    let hex: String = hash.iter().take(10).map(|b| format!("{b:02x}")).collect();
    format!("smpp-mo-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(reference: u16, total: u8, seq: u8, data_coding: u8, payload: &[u8]) -> (Mo, Concat) {
        let concat = Concat { reference, total, seq };
        let mo = Mo {
            from: E164::parse("+15550100").unwrap(),
            to: parley_core::phone::BusinessNumber::parse("+15550199").unwrap(),
            data_coding,
            payload: payload.to_vec(),
            concat: Some(concat),
        };
        (mo, concat)
    }

    fn add(buffer: &mut Reassembly, (mo, concat): (Mo, Concat), now: Instant) -> Option<Whole> {
        buffer.add(mo, concat, now)
    }

    #[test]
    fn joins_parts_in_any_order_and_keeps_them_until_done() {
        let now = Instant::now();
        let mut buffer = Reassembly::new();
        assert_eq!(add(&mut buffer, part(7, 3, 3, 0, b"!"), now), None);
        assert_eq!(add(&mut buffer, part(7, 3, 1, 0, b"Hello, "), now), None);
        // A duplicate part is ignored.
        assert_eq!(add(&mut buffer, part(7, 3, 1, 0, b"XXXXX"), now), None);
        let whole = add(&mut buffer, part(7, 3, 2, 0, b"world"), now).unwrap();
        assert_eq!(whole.text, "Hello, world!");
        assert!(whole.provider_id.starts_with("smpp-mo-"), "{}", whole.provider_id);

        // The sink failed, the SMSC delivers the last part again: the same text with the same id.
        let again = add(&mut buffer, part(7, 3, 2, 0, b"world"), now).unwrap();
        assert_eq!(again, whole);
        buffer.done(&whole.key);
        assert_eq!(buffer.len(), 0);
    }

    #[test]
    fn another_text_on_the_same_reference_gets_another_id() {
        let now = Instant::now();
        let mut buffer = Reassembly::new();
        add(&mut buffer, part(7, 2, 1, 0, b"a"), now);
        let first = add(&mut buffer, part(7, 2, 2, 0, b"b"), now).unwrap();
        buffer.done(&first.key);
        add(&mut buffer, part(7, 2, 1, 0, b"c"), now);
        let second = add(&mut buffer, part(7, 2, 2, 0, b"d"), now).unwrap();
        assert_ne!(first.provider_id, second.provider_id);
    }

    #[test]
    fn a_character_cut_between_parts_still_reads() {
        let now = Instant::now();
        let mut buffer = Reassembly::new();
        add(&mut buffer, part(1, 2, 1, 8, &[0x00, 0x41, 0xD8, 0x3D]), now);
        assert_eq!(add(&mut buffer, part(1, 2, 2, 8, &[0xDE, 0x00]), now).unwrap().text, "A😀");
    }

    #[test]
    fn expires_incomplete_texts() {
        let start = Instant::now();
        let mut buffer = Reassembly::new();
        add(&mut buffer, part(1, 3, 1, 0, b"a"), start);
        add(&mut buffer, part(2, 2, 1, 0, b"b"), start + Duration::from_secs(50));
        let expired = buffer.expire(start + Duration::from_secs(61), Duration::from_secs(60));
        assert_eq!(expired.len(), 1);
        assert_eq!((expired[0].0.reference, expired[0].1), (1, 1));
        assert_eq!(buffer.len(), 1);
    }
}
