//! The blocklist: consumer phones the business will not serve, as the setup document holds them (the
//! draft, the validated [`Blocklist`], their validation), and the two changes the API makes to a setup
//! ([`Setup::with_block`], [`Setup::without_block`]).
//!
//! Rule: the blocklist is part of the setup, its one source of truth. Why: it is then saved, exported
//! (`parley setup export`) and reloaded by every node with the setup version, as every other setup
//! change is; an entry added through `POST /api/v1/blocklist` is a new setup version like
//! `PUT /api/v1/setup`, not a table beside it that could disagree with the document.
//!
//! What a block does to texts and chats is the desk's (`crate::desk`); here is only what an entry is
//! and how it is looked up: by phone, in a map (O(log n) per text, never a scan of the list).

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::phone::E164;
use crate::time::Timestamp;

use super::model::Setup;
use super::validate::SetupError;

/// The longest reason an entry may give: it is shown to admins beside every blocked text.
pub const MAX_REASON_CHARS: usize = 500;

/// A blocklist entry as written in the setup document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockDraft {
    /// The consumer's phone, E.164.
    pub number: String,
    /// Why it is blocked, in words an admin reads beside its texts.
    pub reason: String,
    /// Who blocked it (the admin's name); empty: "admin".
    pub added_by: String,
    /// When it was blocked, RFC 3339; `None` for an entry written by hand without one.
    pub added_at: Option<String>,
}

/// A blocked phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    pub number: E164,
    pub reason: String,
    pub added_by: String,
    pub added_at: Option<Timestamp>,
}

impl Blocked {
    /// The entry as the setup document writes it.
    pub fn to_draft(&self) -> BlockDraft {
        BlockDraft {
            number: self.number.to_string(),
            reason: self.reason.clone(),
            added_by: self.added_by.clone(),
            added_at: self.added_at.and_then(rfc3339),
        }
    }
}

/// The blocked phones, by number: one entry per phone, looked up in O(log n), listed in number order
/// (so a prefix is one range of the map).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blocklist {
    /// Keyed by the number's canonical text (`E164::as_str`), so that a prefix is a range.
    entries: BTreeMap<String, Blocked>,
}

impl Blocklist {
    /// The entry of `phone`, if it is blocked.
    pub fn get(&self, phone: &E164) -> Option<&Blocked> {
        self.entries.get(phone.as_str())
    }

    /// How many phones are blocked.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no phone is blocked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry, in number order.
    pub fn iter(&self) -> impl Iterator<Item = &Blocked> {
        self.entries.values()
    }

    /// The entries whose number starts with `prefix` (all of them for an empty one), in number order,
    /// after the number `after` when given (the last one of the previous page). One range of the map,
    /// not a scan.
    pub fn matching<'a>(&'a self, prefix: &'a str, after: Option<&'a str>) -> impl Iterator<Item = &'a Blocked> + 'a {
        let start = match after {
            Some(after) if after >= prefix => Bound::Excluded(after),
            _ => Bound::Included(prefix),
        };
        self.entries
            .range::<str, _>((start, Bound::Unbounded))
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v)
    }
}

/// Why a reason is not acceptable, if it is not.
pub fn reason_problem(reason: &str) -> Option<String> {
    let chars = reason.trim().chars().count();
    if chars == 0 {
        Some("must not be empty: say why the phone is blocked".to_owned())
    } else if chars > MAX_REASON_CHARS {
        Some(format!("has {chars} characters: write at most {MAX_REASON_CHARS}"))
    } else if reason.chars().any(char::is_control) {
        Some("must be one line without control characters".to_owned())
    } else {
        None
    }
}

/// Checks every entry, listing each problem with the entry's place (counted from 1) and number.
pub(super) fn validate_blocklist(drafts: &[BlockDraft], errors: &mut Vec<SetupError>) -> Blocklist {
    let mut list = Blocklist::default();
    let mut first_at: BTreeMap<E164, usize> = BTreeMap::new();
    for (i, b) in drafts.iter().enumerate() {
        let index = i + 1;
        let mut bad = |field: &'static str, reason: String| {
            errors.push(SetupError::InvalidBlock { index, number: b.number.clone(), field, reason });
        };
        let number = match E164::parse(&b.number) {
            Ok(number) => Some(number),
            Err(e) => {
                bad("number", format!("not an E.164 phone number: {e}"));
                None
            }
        };
        if let Some(problem) = reason_problem(&b.reason) {
            bad("reason", problem);
        }
        let added_at = match b.added_at.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            None => None,
            Some(text) => match chrono::DateTime::parse_from_rfc3339(text) {
                Ok(at) => Some(Timestamp(at.timestamp_millis())),
                Err(_) => {
                    bad("added_at", format!("\"{text}\" is not an RFC 3339 time (e.g. 2026-12-02T06:00:00Z)"));
                    None
                }
            },
        };
        let Some(number) = number else { continue };
        if let Some(first) = first_at.get(&number) {
            bad("number", format!("{number} is listed twice (also entry {first}): a phone is blocked once"));
            continue;
        }
        first_at.insert(number.clone(), index);
        let added_by = if b.added_by.trim().is_empty() { "admin".to_owned() } else { b.added_by.trim().to_owned() };
        let entry = Blocked { number: number.clone(), reason: b.reason.trim().to_owned(), added_by, added_at };
        list.entries.insert(number.to_string(), entry);
    }
    list
}

/// A time as RFC 3339 in UTC, to the second.
fn rfc3339(at: Timestamp) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(at.0).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

impl Setup {
    /// The blocklist entry of `phone`, if it is blocked.
    pub fn blocked(&self, phone: &E164) -> Option<&Blocked> {
        self.blocklist.get(phone)
    }

    /// This setup with `entry` added; the entry already there when its phone is blocked. The rest of
    /// the setup is valid already and an entry refers to nothing, so nothing else needs checking.
    pub fn with_block(&self, entry: Blocked) -> Result<Setup, Blocked> {
        if let Some(existing) = self.blocked(&entry.number) {
            return Err(existing.clone());
        }
        let mut setup = self.clone();
        setup.blocklist.entries.insert(entry.number.to_string(), entry);
        Ok(setup)
    }

    /// This setup without `phone`'s entry, and the entry; `None` when the phone is not blocked.
    pub fn without_block(&self, phone: &E164) -> Option<(Setup, Blocked)> {
        let mut setup = self.clone();
        let removed = setup.blocklist.entries.remove(phone.as_str())?;
        Some((setup, removed))
    }
}
