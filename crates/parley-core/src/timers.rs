//! Chat timers: the deadlines a live chat runs against, from the deployment's settings and its queue's
//! overrides. A chat stores the moments they count from (opened, offered, queued, last message,
//! warned); [`due`] turns those into the next moment something must happen, which the engine stores
//! with the chat so that a timer survives a restart and fires once: firing changes the chat, and with
//! it the next deadline.

use crate::chat::{Chat, ChatStatus};
use crate::time::Timestamp;

/// Timer settings as written: `None` inherits (from the deployment, for a queue), `Some(0)` turns the
/// timer off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimerSettings {
    /// An offer not accepted within this many seconds moves on to the next agent.
    pub offer_timeout_seconds: Option<u32>,
    /// Minutes without a message either way before the consumer is asked whether they are still there.
    pub inactivity_warning_minutes: Option<u32>,
    /// Minutes after that warning before the chat closes.
    pub inactivity_close_minutes: Option<u32>,
    /// The longest an SMS session lasts: a text after it starts a new chat.
    pub session_expiration_minutes: Option<u32>,
    /// The longest a chat waits in its queue before it closes with a message (or moves to the queue's
    /// overflow queue).
    pub queue_wait_minutes: Option<u32>,
    /// Minutes a connected agent may leave the consumer's message unanswered before the chat is
    /// offered to another agent.
    pub agent_response_minutes: Option<u32>,
}

impl TimerSettings {
    /// The deployment's defaults: offers ring for a minute; a quiet chat is warned after 15 minutes and
    /// closed 5 later; a session lasts a day; waiting in a queue and for an agent's answer have no limit.
    pub fn deployment_defaults() -> TimerSettings {
        TimerSettings {
            offer_timeout_seconds: Some(60),
            inactivity_warning_minutes: Some(15),
            inactivity_close_minutes: Some(5),
            session_expiration_minutes: Some(24 * 60),
            queue_wait_minutes: Some(0),
            agent_response_minutes: Some(0),
        }
    }

    /// These settings with `over` put over them (a queue's over the deployment's).
    pub fn with(self, over: &TimerSettings) -> TimerSettings {
        TimerSettings {
            offer_timeout_seconds: over.offer_timeout_seconds.or(self.offer_timeout_seconds),
            inactivity_warning_minutes: over.inactivity_warning_minutes.or(self.inactivity_warning_minutes),
            inactivity_close_minutes: over.inactivity_close_minutes.or(self.inactivity_close_minutes),
            session_expiration_minutes: over.session_expiration_minutes.or(self.session_expiration_minutes),
            queue_wait_minutes: over.queue_wait_minutes.or(self.queue_wait_minutes),
            agent_response_minutes: over.agent_response_minutes.or(self.agent_response_minutes),
        }
    }

    /// Each setting with its name, for checking and for the setup document.
    pub fn named(&self) -> [(&'static str, Option<u32>); 6] {
        [
            ("offer_timeout_seconds", self.offer_timeout_seconds),
            ("inactivity_warning_minutes", self.inactivity_warning_minutes),
            ("inactivity_close_minutes", self.inactivity_close_minutes),
            ("session_expiration_minutes", self.session_expiration_minutes),
            ("queue_wait_minutes", self.queue_wait_minutes),
            ("agent_response_minutes", self.agent_response_minutes),
        ]
    }

    /// The largest value a setting may have: a week (in its unit).
    pub fn max(name: &str) -> u32 {
        if name.ends_with("_seconds") { 7 * 24 * 3600 } else { 7 * 24 * 60 }
    }
}

/// What a due deadline asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// The session is older than its expiration: close it.
    Expired,
    /// The offer was not accepted in time: move it on.
    OfferTimeout,
    /// The agent a transfer was offered to did not answer in time: the transfer fails.
    TransferTimeout,
    /// The chat waited too long in its queue: close it, or move it to the overflow queue.
    QueueTimeout,
    /// The chat's queue opens: route it.
    Opens,
    /// The connected agent left the consumer unanswered too long: offer the chat to someone else.
    ReplyTimeout,
    /// The consumer has been silent: warn them.
    InactivityWarning,
    /// Still silent after the warning: close it.
    InactivityClose,
}

fn after(from: Timestamp, amount: Option<u32>, unit_ms: i64) -> Option<Timestamp> {
    amount.filter(|a| *a > 0).map(|a| Timestamp(from.0 + i64::from(a) * unit_ms))
}

/// Every deadline the chat runs against under `timers`, with what each asks for.
pub fn deadlines(chat: &Chat, timers: &TimerSettings) -> Vec<(Timestamp, Due)> {
    if !chat.is_live() {
        return vec![];
    }
    let mut out = Vec::new();
    out.extend(after(chat.opened_at, timers.session_expiration_minutes, 60_000).map(|t| (t, Due::Expired)));
    // A transfer waits for its answer as long as an offer does.
    if let Some(transfer) = &chat.transfer {
        out.extend(after(transfer.started_at, timers.offer_timeout_seconds, 1_000).map(|t| (t, Due::TransferTimeout)));
    }
    match chat.status {
        ChatStatus::Offered => {
            let since = chat.offered_at.unwrap_or(chat.opened_at);
            out.extend(after(since, timers.offer_timeout_seconds, 1_000).map(|t| (t, Due::OfferTimeout)));
        }
        // After hours the chat waits for the opening; its wait limit starts then.
        ChatStatus::Queued => match chat.after_hours_until {
            Some(opens) => out.push((opens, Due::Opens)),
            None => {
                let since = chat.wait_since.or(chat.queued_at).unwrap_or(chat.opened_at);
                out.extend(after(since, timers.queue_wait_minutes, 60_000).map(|t| (t, Due::QueueTimeout)));
            }
        },
        ChatStatus::Connected if chat.transfer.is_some() => {}
        ChatStatus::Selecting | ChatStatus::Connected => match chat.warned_at {
            None => out.extend(
                after(chat.last_message_at, timers.inactivity_warning_minutes, 60_000)
                    .map(|t| (t, Due::InactivityWarning)),
            ),
            Some(warned) => {
                out.extend(after(warned, timers.inactivity_close_minutes, 60_000).map(|t| (t, Due::InactivityClose)))
            }
        },
        ChatStatus::Finished => {}
    }
    if chat.status == ChatStatus::Connected
        && chat.transfer.is_none()
        && let Some(since) = chat.awaiting_reply_since
    {
        out.extend(after(since, timers.agent_response_minutes, 60_000).map(|t| (t, Due::ReplyTimeout)));
    }
    out
}

/// The next moment something is due for the chat, if any.
pub fn next_due(chat: &Chat, timers: &TimerSettings) -> Option<Timestamp> {
    deadlines(chat, timers).into_iter().map(|(t, _)| t).min()
}

/// What is due at `now`, most important first (an expired session closes whatever else is due).
pub fn due_at(chat: &Chat, timers: &TimerSettings, now: Timestamp) -> Option<Due> {
    let mut due: Vec<Due> = deadlines(chat, timers).into_iter().filter(|(t, _)| *t <= now).map(|(_, d)| d).collect();
    due.sort_by_key(|d| match d {
        Due::Expired => 0,
        Due::QueueTimeout => 1,
        Due::InactivityClose => 2,
        Due::OfferTimeout | Due::TransferTimeout | Due::ReplyTimeout | Due::Opens => 3,
        Due::InactivityWarning => 4,
    });
    due.first().copied()
}
