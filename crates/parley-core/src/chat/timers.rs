//! Chat timers: the deadlines a live chat runs against, from the deployment's settings and its queue's
//! overrides. A chat stores the moments they count from (opened, offered, queued, last message,
//! warned); [`due`] turns those into the next moment something must happen, which the engine stores
//! with the chat so that a timer survives a restart and fires once: firing changes the chat, and with
//! it the next deadline.

use super::{Chat, ChatStatus, Origin};
use crate::setup::{DismissalSettings, Setup};
use crate::time::Timestamp;

/// The timer settings live with the setup that holds them (so the setup needs nothing of the chat);
/// they are named here too, beside the deadlines they set.
pub use crate::setup::TimerSettings;

/// What a chat's deadlines are computed from: its queue's timers and dismissal, as inherited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatTimers {
    pub timers: TimerSettings,
    /// Set when the chat's queue dismisses quiet chats instead of closing them.
    pub dismissal: Option<DismissalSettings>,
}

/// The rules the deadlines of `chat` follow under `setup`.
pub fn for_chat(setup: &Setup, chat: &Chat) -> ChatTimers {
    let queue = chat.queue.as_ref();
    ChatTimers { timers: setup.timers_for(queue), dismissal: setup.dismissal_of(queue) }
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
    /// The dismissal is near: tell the consumer.
    DismissalNotice,
    /// The consumer stayed quiet after the agent's last message: dismiss the chat.
    Dismiss,
}

fn after(from: Timestamp, amount: Option<u32>, unit_ms: i64) -> Option<Timestamp> {
    amount.filter(|a| *a > 0).map(|a| Timestamp(from.0 + i64::from(a) * unit_ms))
}

/// Every deadline the chat runs against under `rules`, with what each asks for.
///
/// A connected inbound chat whose queue dismisses quiet chats runs no inactivity warning or close:
/// once the agent has written and the consumer owes the answer, it is dismissed `after_minutes` after
/// the agent's last message (with the notice `notice_minutes_before` that, kept in `warned_at`). A
/// dismissed chat runs only its session expiration.
pub fn deadlines(chat: &Chat, rules: &ChatTimers) -> Vec<(Timestamp, Due)> {
    // A call's thread lives and ends with the call, whatever the chats' timers say.
    if !chat.is_live() || chat.is_call_thread() {
        return vec![];
    }
    let timers = &rules.timers;
    let dismissal = rules.dismissal.filter(|_| chat.origin == Origin::Inbound);
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
        ChatStatus::Connected if dismissal.is_some() => {
            if let (Some(rule), Some(since), None) = (dismissal, chat.agent_message_at, chat.awaiting_reply_since) {
                let at = Timestamp(since.0 + i64::from(rule.after_minutes) * 60_000);
                out.push((at, Due::Dismiss));
                if let Some(notice) = rule.notice_minutes_before.filter(|_| chat.warned_at.is_none()) {
                    out.push((Timestamp(at.0 - i64::from(notice) * 60_000), Due::DismissalNotice));
                }
            }
        }
        ChatStatus::Dismissed => {}
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
pub fn next_due(chat: &Chat, rules: &ChatTimers) -> Option<Timestamp> {
    deadlines(chat, rules).into_iter().map(|(t, _)| t).min()
}

/// What is due at `now`, most important first (an expired session closes whatever else is due).
pub fn due_at(chat: &Chat, rules: &ChatTimers, now: Timestamp) -> Option<Due> {
    let mut due: Vec<Due> = deadlines(chat, rules).into_iter().filter(|(t, _)| *t <= now).map(|(_, d)| d).collect();
    due.sort_by_key(|d| match d {
        Due::Expired => 0,
        Due::QueueTimeout => 1,
        Due::InactivityClose | Due::Dismiss => 2,
        Due::OfferTimeout | Due::TransferTimeout | Due::ReplyTimeout | Due::Opens => 3,
        Due::InactivityWarning | Due::DismissalNotice => 4,
    });
    due.first().copied()
}
