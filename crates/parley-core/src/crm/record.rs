//! Records (docs/crm.md "Records", "Record policies"): the CRM activity a contact's chats are kept
//! in. Which record a newly linked chat joins is the queue's record policy (setup key
//! `record_policy`); this module parses it and decides, without I/O or a clock (`now` is a parameter).
//!
//! The rule for "open": a record is open while at least one of its chats has not ended; it closes
//! when its last chat ends, at that chat's end. So two chats of one contact that overlap in a queue
//! share a record under `append_open`, and a chat that comes after the last one ended starts a new
//! record (or reopens the closed one under `reopen_within_days`).

use crate::time::Timestamp;

/// A day in milliseconds.
const DAY_MS: i64 = 24 * 3600 * 1000;

/// How a queue groups a contact's chats into records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecordPolicy {
    /// No key: every chat is a record of its own.
    #[default]
    NewPerChat,
    /// `"append_open"`: a chat joins the contact's open record of the same queue, if any.
    AppendOpen,
    /// `"reopen_within_days = N"`: a chat joins the contact's open record of the same queue, or
    /// reopens its most recently closed one when that closed less than N days ago.
    ReopenWithinDays(u32),
    /// `"create_after_messages = N"`: nothing is matched or recorded until the consumer's Nth message
    /// in the chat; then a record of its own, as [`RecordPolicy::NewPerChat`]. One-off texts make no
    /// contacts.
    CreateAfterMessages(u32),
}

/// Why a `record_policy` value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecordPolicy(pub String);

impl std::fmt::Display for BadRecordPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "\"{}\" is not a record policy: use \"append_open\", \"reopen_within_days = N\" or \
             \"create_after_messages = N\" (N from 1)",
            self.0
        )
    }
}

impl std::error::Error for BadRecordPolicy {}

impl RecordPolicy {
    /// Parses the setup's value. Spaces around `=` are optional; N is a whole number from 1.
    pub fn parse(text: &str) -> Result<RecordPolicy, BadRecordPolicy> {
        let bad = || BadRecordPolicy(text.to_owned());
        let text_trimmed = text.trim();
        if text_trimmed == "append_open" {
            return Ok(RecordPolicy::AppendOpen);
        }
        let (key, value) = text_trimmed.split_once('=').ok_or_else(bad)?;
        let n: u32 = value.trim().parse().map_err(|_| bad())?;
        if n == 0 {
            return Err(bad());
        }
        match key.trim() {
            "reopen_within_days" => Ok(RecordPolicy::ReopenWithinDays(n)),
            "create_after_messages" => Ok(RecordPolicy::CreateAfterMessages(n)),
            _ => Err(bad()),
        }
    }

    /// The setup's spelling (`None` for the default, which has no key).
    pub fn as_setup(self) -> Option<String> {
        match self {
            RecordPolicy::NewPerChat => None,
            RecordPolicy::AppendOpen => Some("append_open".to_owned()),
            RecordPolicy::ReopenWithinDays(n) => Some(format!("reopen_within_days = {n}")),
            RecordPolicy::CreateAfterMessages(n) => Some(format!("create_after_messages = {n}")),
        }
    }

    /// The consumer message whose arrival triggers matching (0: the chat's connection does).
    pub fn match_after_messages(self) -> u32 {
        match self {
            RecordPolicy::CreateAfterMessages(n) => n,
            _ => 0,
        }
    }
}

/// A record of the contact, as the decision needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSummary {
    pub id: String,
    pub queue: Option<String>,
    /// When its last chat ended; `None` while one of its chats is live (the record is open).
    pub closed_at: Option<Timestamp>,
}

/// Which record a newly linked chat goes into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordChoice {
    /// A new record.
    New,
    /// The open record `id`.
    Join(String),
    /// The closed record `id`, which opens again.
    Reopen(String),
}

/// The record a chat of `queue` joins, under `policy`, among the contact's `records`, at `now`. Only
/// records of the same queue count. Of several open ones (possible after merges) the one with the
/// greatest id; of closed ones the most recently closed.
pub fn choose(policy: RecordPolicy, queue: Option<&str>, records: &[RecordSummary], now: Timestamp) -> RecordChoice {
    let same_queue = || records.iter().filter(|r| r.queue.as_deref() == queue);
    let open = || same_queue().filter(|r| r.closed_at.is_none()).max_by(|a, b| a.id.cmp(&b.id));
    match policy {
        RecordPolicy::NewPerChat | RecordPolicy::CreateAfterMessages(_) => RecordChoice::New,
        RecordPolicy::AppendOpen => open().map_or(RecordChoice::New, |r| RecordChoice::Join(r.id.clone())),
        RecordPolicy::ReopenWithinDays(days) => {
            if let Some(r) = open() {
                return RecordChoice::Join(r.id.clone());
            }
            let window = i64::from(days) * DAY_MS;
            same_queue()
                .filter_map(|r| r.closed_at.map(|at| (at, r)))
                .max_by(|(a, ra), (b, rb)| a.cmp(b).then_with(|| ra.id.cmp(&rb.id)))
                .filter(|(at, _)| now.0 - at.0 < window)
                .map_or(RecordChoice::New, |(_, r)| RecordChoice::Reopen(r.id.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, queue: &str, closed_at: Option<i64>) -> RecordSummary {
        RecordSummary { id: id.to_owned(), queue: Some(queue.to_owned()), closed_at: closed_at.map(Timestamp) }
    }

    #[test]
    fn policies_parse_and_print_back() {
        for text in ["append_open", "reopen_within_days = 7", "create_after_messages = 2"] {
            let policy = RecordPolicy::parse(text).unwrap();
            assert_eq!(policy.as_setup().as_deref(), Some(text));
        }
        assert_eq!(RecordPolicy::parse("reopen_within_days=3"), Ok(RecordPolicy::ReopenWithinDays(3)));
        for bad in ["", "append", "reopen_within_days = 0", "reopen_within_days = x", "other = 3"] {
            assert!(RecordPolicy::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(RecordPolicy::default().as_setup(), None);
    }

    #[test]
    fn the_default_makes_a_record_per_chat() {
        let records = [rec("R1", "sales", None)];
        assert_eq!(choose(RecordPolicy::NewPerChat, Some("sales"), &records, Timestamp(0)), RecordChoice::New);
        assert_eq!(
            choose(RecordPolicy::CreateAfterMessages(2), Some("sales"), &records, Timestamp(0)),
            RecordChoice::New
        );
    }

    #[test]
    fn append_open_joins_the_open_record_of_the_same_queue_only() {
        let records = [rec("R1", "sales", None), rec("R2", "support", None), rec("R3", "sales", Some(10))];
        let p = RecordPolicy::AppendOpen;
        assert_eq!(choose(p, Some("sales"), &records, Timestamp(20)), RecordChoice::Join("R1".to_owned()));
        assert_eq!(choose(p, Some("billing"), &records, Timestamp(20)), RecordChoice::New);
        assert_eq!(choose(p, Some("sales"), &records[2..], Timestamp(20)), RecordChoice::New);
    }

    #[test]
    fn reopen_within_days_reopens_the_last_closed_record_inside_the_window() {
        let p = RecordPolicy::ReopenWithinDays(2);
        let records = [rec("R1", "sales", Some(0)), rec("R2", "sales", Some(DAY_MS))];
        let just_inside = Timestamp(DAY_MS + 2 * DAY_MS - 1);
        assert_eq!(choose(p, Some("sales"), &records, just_inside), RecordChoice::Reopen("R2".to_owned()));
        assert_eq!(choose(p, Some("sales"), &records, Timestamp(3 * DAY_MS)), RecordChoice::New);
        let with_open = [rec("R1", "sales", Some(0)), rec("R9", "sales", None)];
        assert_eq!(choose(p, Some("sales"), &with_open, Timestamp(1)), RecordChoice::Join("R9".to_owned()));
    }

    #[test]
    fn create_after_messages_waits_for_the_nth_message() {
        assert_eq!(RecordPolicy::CreateAfterMessages(3).match_after_messages(), 3);
        assert_eq!(RecordPolicy::AppendOpen.match_after_messages(), 0);
    }
}
