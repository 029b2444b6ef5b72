//! Timers firing: the one deadline of the chat that is due (see [`crate::timers`]) and what it does.

use super::timers::{self, Due};
use crate::texts::TextKey;

use super::decide::Decider;
use super::{Chat, ChatEvent, ChatStatus, DismissReason, EndReason, TransferFailure};

impl Decider<'_> {
    /// Fires the chat's timer that is due, if any.
    pub(super) fn tick(&mut self, chat: &mut Chat) {
        let rules = timers::for_chat(self.ctx.setup, chat);
        let timers = rules.timers;
        let Some(due) = timers::due_at(chat, &rules, self.ctx.now) else {
            return;
        };
        match due {
            Due::Expired => self.end(chat, EndReason::Expired, "system".to_owned()),
            // The wait limit does not run while the queue is closed.
            Due::QueueTimeout if self.hold_until_opening(chat) => {}
            // A direct chat whose agent did not come in time goes to the number's fallback queue.
            Due::QueueTimeout if self.direct_timed_out(chat) => {}
            Due::QueueTimeout => {
                let from = chat.queue.clone();
                let overflow = from.as_ref().and_then(|q| self.ctx.setup.queue(q)).and_then(|q| q.overflow.clone());
                match (from, overflow) {
                    (Some(from), Some(to)) => {
                        self.event(ChatEvent::Overflowed { from, to: to.clone() });
                        self.enqueue(chat, to, true);
                    }
                    _ => self.end(chat, EndReason::QueueTimeout, "system".to_owned()),
                }
            }
            Due::Opens => {
                chat.after_hours_until = None;
                chat.wait_since = Some(self.ctx.now);
                self.route(chat);
            }
            Due::ReplyTimeout => {
                let Some(agent) = chat.agent.take() else { return };
                self.ctx.roster.release(&agent);
                chat.status = ChatStatus::Queued;
                chat.offered_at = None;
                chat.awaiting_reply_since = None;
                self.event(ChatEvent::ReplyTimedOut { agent: agent.clone() });
                self.route_except(chat, Some(&agent));
            }
            Due::InactivityClose => self.end(chat, EndReason::ConsumerSilent, "system".to_owned()),
            Due::DismissalNotice => {
                let minutes = rules.dismissal.and_then(|d| d.notice_minutes_before).unwrap_or(0).to_string();
                self.system(TextKey::DismissalNotice, &[("minutes", &minutes)]);
                chat.warned_at = Some(self.ctx.now);
            }
            Due::Dismiss => self.dismiss(chat, DismissReason::ConsumerSilent, "system".to_owned()),
            Due::InactivityWarning => {
                let minutes = timers.inactivity_close_minutes.unwrap_or(0).to_string();
                self.system(TextKey::InactivityWarning, &[("minutes", &minutes)]);
                chat.warned_at = Some(self.ctx.now);
                self.event(ChatEvent::InactivityWarning);
            }
            Due::TransferTimeout => {
                if let Some(transfer) = chat.transfer.take() {
                    self.ctx.roster.release(&transfer.offered_to);
                    self.event(ChatEvent::TransferFailed {
                        from: transfer.from,
                        to: Some(transfer.offered_to),
                        reason: TransferFailure::TimedOut,
                    });
                }
            }
            Due::OfferTimeout => {
                let Some(agent) = chat.agent.take() else { return };
                self.ctx.roster.release(&agent);
                chat.status = ChatStatus::Queued;
                chat.offered_at = None;
                self.event(ChatEvent::OfferTimedOut { agent: agent.clone() });
                self.route_except(chat, Some(&agent));
            }
        }
    }
}
