//! Reassembly of inbound concatenated texts.
//!
//! The parts of a long text arrive as separate messages, in any order, sometimes twice (an SMSC that
//! retries after a lost response), sometimes never. [`Reassembly`] keeps the parts received so far, keyed
//! by sender and reference, and gives back the whole text when the last one arrives. Sets that stay
//! incomplete are dropped by [`Reassembly::expire_before`], with the time passed in: the buffer never reads
//! a clock, and holds only what arrived since the caller last expired it.

use std::collections::BTreeMap;

use super::segment::{Concat, Encoding, PayloadError};
use crate::time::Timestamp;

/// Parts of inbound texts waiting for the rest.
///
/// `K` identifies who sent a part. The pair of sender and our receiving number is a good choice: the
/// reference is chosen by the sending phone, so two of its texts to two of our numbers may share one.
#[derive(Debug)]
pub struct Reassembly<K> {
    /// Incomplete texts by (sender, reference). A set is removed as soon as it completes.
    sets: BTreeMap<(K, u16), Partial>,
}

#[derive(Debug)]
struct Partial {
    total: u8,
    /// When the most recent part arrived; the set expires relative to this.
    last_part_at: Timestamp,
    /// Payloads by part number (1 to `total`), each with its encoding; fewer than `total` while waiting.
    parts: BTreeMap<u8, (Encoding, Vec<u8>)>,
}

/// An incomplete text dropped by [`Reassembly::expire_before`], for the caller to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired<K> {
    pub sender: K,
    pub reference: u16,
    /// How many distinct parts had arrived.
    pub received: u8,
    pub total: u8,
}

impl<K: Ord> Default for Reassembly<K> {
    fn default() -> Self {
        Reassembly { sets: BTreeMap::new() }
    }
}

impl<K: Ord> Reassembly<K> {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one part: its concatenation information (from [`super::segment::parse_udh`] or SMPP's SAR
    /// fields) and its payload as unpacked septets or UTF-16BE. Returns the whole text once every part
    /// has arrived, and `None` before.
    ///
    /// A part whose number already arrived is ignored: the first copy is kept. A part whose total differs
    /// from the set's means the sender reused the reference for a new text, so the old, incomplete set is
    /// discarded in its favour. Payloads are joined before decoding, so a sender that cut an escape pair
    /// or a surrogate pair between parts still reads correctly; if a complete text does not decode, the
    /// set is dropped and the error returned.
    pub fn feed(
        &mut self,
        sender: K,
        concat: Concat,
        encoding: Encoding,
        payload: &[u8],
        now: Timestamp,
    ) -> Result<Option<String>, PayloadError> {
        let key = (sender, concat.reference);
        let complete = match self.sets.get_mut(&key) {
            Some(partial) if partial.total == concat.total => {
                partial.add(concat.seq, encoding, payload, now);
                partial.is_complete()
            }
            _ => {
                let mut partial = Partial { total: concat.total, last_part_at: now, parts: BTreeMap::new() };
                partial.add(concat.seq, encoding, payload, now);
                if partial.is_complete() {
                    self.sets.remove(&key);
                    return partial.join().map(Some);
                }
                self.sets.insert(key, partial);
                return Ok(None);
            }
        };
        if !complete {
            return Ok(None);
        }
        self.sets.remove(&key).map(Partial::join).transpose()
    }

    /// Drops every incomplete text whose latest part arrived before `cutoff`, and says which.
    pub fn expire_before(&mut self, cutoff: Timestamp) -> Vec<Expired<K>> {
        self.sets
            .extract_if(.., |_, partial| partial.last_part_at < cutoff)
            .map(|((sender, reference), partial)| Expired {
                sender,
                reference,
                received: u8::try_from(partial.parts.len()).unwrap_or(u8::MAX),
                total: partial.total,
            })
            .collect()
    }

    /// How many incomplete texts are waiting.
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    /// Whether no text is waiting.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }
}

impl Partial {
    fn add(&mut self, seq: u8, encoding: Encoding, payload: &[u8], now: Timestamp) {
        self.last_part_at = self.last_part_at.max(now);
        self.parts.entry(seq).or_insert_with(|| (encoding, payload.to_vec()));
    }

    fn is_complete(&self) -> bool {
        self.parts.len() == usize::from(self.total)
    }

    fn join(self) -> Result<String, PayloadError> {
        let mut encodings = self.parts.values().map(|(encoding, _)| *encoding);
        let first = encodings.next();
        match first {
            Some(encoding) if encodings.all(|e| e == encoding) => {
                encoding.decode(&self.parts.into_values().flat_map(|(_, payload)| payload).collect::<Vec<u8>>())
            }
            // Parts in different encodings (rare, but each part has its own data coding) decode one by one.
            _ => self.parts.into_values().map(|(encoding, payload)| encoding.decode(&payload)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{gsm7, segment};

    fn part(reference: u16, total: u8, seq: u8) -> Concat {
        Concat::new(reference, total, seq).unwrap()
    }

    #[test]
    fn completes_out_of_order_with_duplicates() {
        let mut buffer = Reassembly::new();
        let t = Timestamp(1_000);
        assert_eq!(buffer.feed("alice", part(7, 3, 3), Encoding::Gsm7, b"c", t), Ok(None));
        assert_eq!(buffer.feed("alice", part(7, 3, 1), Encoding::Gsm7, b"a", t), Ok(None));
        assert_eq!(buffer.feed("alice", part(7, 3, 1), Encoding::Gsm7, b"X", t), Ok(None));
        // Another sender with the same reference is another text.
        assert_eq!(buffer.feed("bob", part(7, 2, 1), Encoding::Gsm7, b"z", t), Ok(None));
        assert_eq!(buffer.len(), 2);
        assert_eq!(buffer.feed("alice", part(7, 3, 2), Encoding::Gsm7, b"b", t), Ok(Some("abc".to_string())));
        assert_eq!(buffer.len(), 1);
        // A late duplicate of a completed text starts a new set, which expires.
        assert_eq!(buffer.feed("alice", part(7, 3, 2), Encoding::Gsm7, b"b", t), Ok(None));
        assert_eq!(buffer.len(), 2);
    }

    #[test]
    fn a_single_part_completes_at_once() {
        let mut buffer = Reassembly::new();
        assert_eq!(buffer.feed(1, part(9, 1, 1), Encoding::Ucs2, &[0, 0x41], Timestamp(0)), Ok(Some("A".into())));
        assert!(buffer.is_empty());
    }

    #[test]
    fn joins_before_decoding() {
        // A careless sender cut '€' between its escape and its code.
        let mut buffer = Reassembly::new();
        let t = Timestamp(0);
        assert_eq!(buffer.feed(1, part(1, 2, 1), Encoding::Gsm7, &[0x35, gsm7::ESC], t), Ok(None));
        assert_eq!(buffer.feed(1, part(1, 2, 2), Encoding::Gsm7, &[0x65], t), Ok(Some("5€".into())));
        // Mixed encodings decode part by part.
        assert_eq!(buffer.feed(1, part(2, 2, 1), Encoding::Gsm7, &[0x35], t), Ok(None));
        assert_eq!(buffer.feed(1, part(2, 2, 2), Encoding::Ucs2, &[0x20, 0xAC], t), Ok(Some("5€".into())));
    }

    #[test]
    fn a_complete_text_that_does_not_decode_is_an_error_and_is_dropped() {
        let mut buffer = Reassembly::new();
        let t = Timestamp(0);
        assert_eq!(buffer.feed(1, part(1, 2, 1), Encoding::Ucs2, &[0xD8, 0x3D], t), Ok(None));
        let whole = buffer.feed(1, part(1, 2, 2), Encoding::Ucs2, &[0x00, 0x41], t);
        assert!(matches!(whole, Err(segment::PayloadError::Ucs2(_))), "{whole:?}");
        assert!(buffer.is_empty());
    }

    #[test]
    fn a_reused_reference_with_another_total_starts_over() {
        let mut buffer = Reassembly::new();
        let t = Timestamp(0);
        assert_eq!(buffer.feed(1, part(5, 3, 1), Encoding::Gsm7, b"old", t), Ok(None));
        assert_eq!(buffer.feed(1, part(5, 2, 2), Encoding::Gsm7, b"w", t), Ok(None));
        assert_eq!(buffer.feed(1, part(5, 2, 1), Encoding::Gsm7, b"ne", t), Ok(Some("new".into())));
        assert!(buffer.is_empty());
    }

    #[test]
    fn expires_by_the_latest_part() {
        let mut buffer = Reassembly::new();
        buffer.feed("a", part(1, 2, 1), Encoding::Gsm7, b"x", Timestamp(100)).unwrap();
        buffer.feed("b", part(1, 3, 1), Encoding::Gsm7, b"x", Timestamp(100)).unwrap();
        buffer.feed("b", part(1, 3, 2), Encoding::Gsm7, b"y", Timestamp(300)).unwrap();
        assert_eq!(buffer.expire_before(Timestamp(100)), []);
        assert_eq!(
            buffer.expire_before(Timestamp(200)),
            [Expired { sender: "a", reference: 1, received: 1, total: 2 }]
        );
        assert_eq!(buffer.len(), 1);
        assert_eq!(buffer.expire_before(Timestamp(301)).len(), 1);
        assert!(buffer.is_empty());
    }
}
