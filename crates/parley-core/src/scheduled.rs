//! Send later: what a message scheduled for a later moment does once that moment comes.
//!
//! Rule: nothing about a scheduled message is settled when it is scheduled except its text, its sender
//! and its time. Consent, the number's state, the chat it was written into and quiet hours are looked at
//! when it is due ([`gate`]), because days may pass in between: a consumer who opted out meanwhile gets
//! nothing (suppressed), a number that is not enabled then sends nothing (failed, saying why), a reply
//! whose chat ended or moved to someone else is not sent into a chat that is no longer the agent's
//! (failed), and a proactive message that comes due inside the consumer's quiet hours waits for the
//! next allowed moment. A reply inside a chat the consumer started is not proactive and is exempt from
//! quiet hours, as a reply sent at once is. What passes the gate is sent through the same desk input
//! as a message written at that moment (`Desk::release`), so its timers, events and consent rules are
//! those of any other message.

use crate::chat::{Chat, ChatStatus, Origin, Refusal};
use crate::ids::{AgentId, ChatId, QueueId};
use crate::number::NumberState;
use crate::phone::{BusinessNumber, E164};
use crate::quiet_hours::QuietHoursRule;
use crate::time::Timestamp;

/// The longest a message may be scheduled ahead: 30 days, in milliseconds.
pub const MAX_AHEAD_MS: i64 = 30 * 24 * 3600 * 1000;

/// Why a requested send time is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendAtError {
    #[error("send_at is in the past: give a moment after now, or leave send_at out to send at once")]
    Past,
    #[error("send_at is more than 30 days ahead: a message may be scheduled at most 30 days ahead")]
    TooFar,
}

/// Checks a requested send time against `now`: after now, at most [`MAX_AHEAD_MS`] ahead.
pub fn check_send_at(send_at: Timestamp, now: Timestamp) -> Result<(), SendAtError> {
    if send_at.0 <= now.0 {
        return Err(SendAtError::Past);
    }
    if send_at.0 - now.0 > MAX_AHEAD_MS {
        return Err(SendAtError::TooFar);
    }
    Ok(())
}

/// What a scheduled message becomes when it is due: the input it is sent through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeldKind {
    /// An agent's message in a chat they hold (`POST /chats/{id}/messages`).
    Reply { chat: ChatId, agent: AgentId },
    /// A chat the business starts (or a message into the live chat with the phone), opened when due.
    Chat { agent: Option<AgentId>, queue: Option<QueueId> },
    /// A notification that belongs to no chat.
    Sessionless,
}

/// A scheduled message as the desk needs it when it comes due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub number: BusinessNumber,
    pub consumer: E164,
    pub text: String,
    pub kind: HeldKind,
}

/// What a due message faces, as [`gate`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct DueFacts<'a> {
    /// Whether the consumer has opted out now.
    pub opted_out: bool,
    /// The number's registration state now; `None` when the number left the setup.
    pub number_state: Option<NumberState>,
    /// For a reply: its chat as it is now (`None`: not found).
    pub chat: Option<&'a Chat>,
    /// For a message that opens or joins a chat: the live chat with the phone on the number, if any.
    pub live_chat: Option<&'a Chat>,
    pub quiet_hours: Option<&'a QuietHoursRule>,
    pub now: Timestamp,
}

/// What a due message does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Send it now, through the desk input of its kind.
    Send,
    /// It is quiet hours for the consumer: look again at `until`, the next allowed moment.
    Wait { until: Timestamp },
    /// Not sent, on purpose: the consumer opted out before it was due.
    Suppress(String),
    /// Not sent, and never will be; the reason is for the agent.
    Fail(String),
}

/// Decides what the due message `held` does, from the facts as they are at its due time.
pub fn gate(held: &Held, facts: DueFacts<'_>) -> Due {
    let Some(state) = facts.number_state else {
        return Due::Fail(format!("number {} is no longer in the setup: the message was not sent", held.number));
    };
    if facts.opted_out {
        return Due::Suppress("the consumer opted out before the message was due".to_owned());
    }
    if !state.is_enabled() {
        return Due::Fail(format!("number {} is {}: it may not send", held.number, state.as_str()));
    }
    let proactive = match &held.kind {
        HeldKind::Reply { agent, .. } => {
            let Some(chat) = facts.chat.filter(|c| c.status != ChatStatus::Finished) else {
                return Due::Fail("the chat ended before the message was due".to_owned());
            };
            if chat.status != ChatStatus::Connected || chat.agent.as_ref() != Some(agent) {
                return Due::Fail(format!("the chat was no longer connected with {agent} when the message was due"));
            }
            chat.origin == Origin::Outbound
        }
        // Joining a live chat the consumer started is a reply; anything else is the business writing first.
        HeldKind::Chat { .. } => facts.live_chat.is_none_or(|c| c.origin == Origin::Outbound),
        HeldKind::Sessionless => true,
    };
    if proactive
        && let Some(rule) = facts.quiet_hours
        && let Some((until, _zones)) = rule.check(&held.consumer, facts.now)
    {
        return Due::Wait { until };
    }
    Due::Send
}

/// The reason a due message that passed the gate was still refused by its input, for the agent.
pub fn refusal_reason(refusal: &Refusal) -> String {
    match refusal {
        Refusal::OptedOut => "the consumer opted out before the message was due".to_owned(),
        Refusal::Ended => "the chat ended before the message was due".to_owned(),
        Refusal::NotConnected | Refusal::TakenByAnother => {
            "the chat was no longer connected with its agent when the message was due".to_owned()
        }
        Refusal::ChatInProgress => "the consumer had a live chat with someone else when the message was due".to_owned(),
        Refusal::NotYourQueue => "the agent no longer serves the chat's queue".to_owned(),
        other => format!("refused when due: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use chrono_tz::Tz;

    use super::*;
    use crate::chat::StartType;
    use crate::quiet_hours::QuietHours;

    /// 2026-06-01 16:00 UTC: noon in New York.
    const NOON_NY: i64 = 1_780_329_600_000;
    const HOUR: i64 = 3_600_000;

    fn phone() -> E164 {
        E164::parse("+12125550100").unwrap()
    }

    fn held(kind: HeldKind) -> Held {
        Held { number: BusinessNumber::parse("+15550007000").unwrap(), consumer: phone(), text: "Hi".into(), kind }
    }

    fn reply() -> Held {
        held(HeldKind::Reply { chat: ChatId::new("chat-1"), agent: AgentId::parse("alice").unwrap() })
    }

    fn chat(origin: Origin, status: ChatStatus, agent: Option<&str>) -> Chat {
        Chat {
            id: ChatId::new("chat-1"),
            number: BusinessNumber::parse("+15550007000").unwrap(),
            consumer: phone(),
            origin,
            start_type: Some(StartType::Manual),
            status,
            queue: None,
            menu_level: None,
            agent: agent.map(|a| AgentId::parse(a).unwrap()),
            opened_at: Timestamp(0),
            queued_at: None,
            offered_at: None,
            last_message_at: Timestamp(0),
            warned_at: None,
            transfer: None,
            language: "en".into(),
            answered_at: None,
            awaiting_reply_since: None,
            wait_since: None,
            after_hours_until: None,
            ended_at: None,
            end_reason: None,
            ended_by: None,
            ticket: Default::default(),
            agent_message_at: None,
            dismissed_at: None,
        }
    }

    fn rule() -> QuietHoursRule {
        QuietHoursRule { window: QuietHours::parse("21:00", "08:00").unwrap(), time_zone: Tz::UTC }
    }

    fn facts<'a>(rule: &'a QuietHoursRule, at: i64) -> DueFacts<'a> {
        DueFacts {
            opted_out: false,
            number_state: Some(NumberState::Enabled),
            chat: None,
            live_chat: None,
            quiet_hours: Some(rule),
            now: Timestamp(at),
        }
    }

    #[test]
    fn send_at_must_be_ahead_and_within_30_days() {
        let now = Timestamp(NOON_NY);
        assert_eq!(check_send_at(Timestamp(NOON_NY - 1), now), Err(SendAtError::Past));
        assert_eq!(check_send_at(now, now), Err(SendAtError::Past));
        assert_eq!(check_send_at(Timestamp(NOON_NY + MAX_AHEAD_MS), now), Ok(()));
        assert_eq!(check_send_at(Timestamp(NOON_NY + MAX_AHEAD_MS + 1), now), Err(SendAtError::TooFar));
    }

    #[test]
    fn a_proactive_message_due_at_night_waits_for_the_morning() {
        let rule = rule();
        // 23:00 in New York (03:00 UTC the next day): quiet until 08:00 New York, 12:00 UTC.
        let night = NOON_NY + 11 * HOUR;
        let Due::Wait { until } = gate(&held(HeldKind::Sessionless), facts(&rule, night)) else {
            panic!("a notification due at night waits");
        };
        assert_eq!(until.0, NOON_NY + 20 * HOUR);
        assert!(matches!(
            gate(&held(HeldKind::Chat { agent: None, queue: None }), facts(&rule, night)),
            Due::Wait { .. }
        ));
        // When the morning comes it goes.
        assert_eq!(gate(&held(HeldKind::Sessionless), facts(&rule, until.0)), Due::Send);
        assert_eq!(gate(&held(HeldKind::Sessionless), facts(&rule, NOON_NY)), Due::Send);
    }

    #[test]
    fn a_reply_in_a_chat_the_consumer_started_is_exempt_from_quiet_hours() {
        let rule = rule();
        let night = NOON_NY + 11 * HOUR;
        let started_by_consumer = chat(Origin::Inbound, ChatStatus::Connected, Some("alice"));
        let f = DueFacts { chat: Some(&started_by_consumer), ..facts(&rule, night) };
        assert_eq!(gate(&reply(), f), Due::Send);
        let started_by_us = chat(Origin::Outbound, ChatStatus::Connected, Some("alice"));
        let f = DueFacts { chat: Some(&started_by_us), ..facts(&rule, night) };
        assert!(matches!(gate(&reply(), f), Due::Wait { .. }), "a chat the business started is proactive");
        // Joining the live chat the consumer started is a reply too.
        let f = DueFacts { live_chat: Some(&started_by_consumer), ..facts(&rule, night) };
        assert_eq!(gate(&held(HeldKind::Chat { agent: None, queue: None }), f), Due::Send);
    }

    #[test]
    fn an_opt_out_before_it_is_due_suppresses_it() {
        let rule = rule();
        let connected = chat(Origin::Inbound, ChatStatus::Connected, Some("alice"));
        for h in [reply(), held(HeldKind::Sessionless), held(HeldKind::Chat { agent: None, queue: None })] {
            let f = DueFacts { opted_out: true, chat: Some(&connected), ..facts(&rule, NOON_NY) };
            assert_eq!(gate(&h, f), Due::Suppress("the consumer opted out before the message was due".into()));
        }
    }

    #[test]
    fn a_number_not_enabled_at_due_time_fails_it() {
        let rule = rule();
        let f = DueFacts { number_state: Some(NumberState::Suspended), ..facts(&rule, NOON_NY) };
        let Due::Fail(reason) = gate(&held(HeldKind::Sessionless), f) else { panic!("not sent") };
        assert_eq!(reason, "number +15550007000 is suspended: it may not send");
        let f = DueFacts { number_state: None, ..facts(&rule, NOON_NY) };
        assert!(matches!(gate(&held(HeldKind::Sessionless), f), Due::Fail(_)));
    }

    #[test]
    fn a_reply_whose_chat_ended_or_moved_on_fails() {
        let rule = rule();
        let ended = chat(Origin::Inbound, ChatStatus::Finished, Some("alice"));
        let f = DueFacts { chat: Some(&ended), ..facts(&rule, NOON_NY) };
        assert_eq!(gate(&reply(), f), Due::Fail("the chat ended before the message was due".into()));
        assert_eq!(
            gate(&reply(), facts(&rule, NOON_NY)),
            Due::Fail("the chat ended before the message was due".into())
        );
        let bobs = chat(Origin::Inbound, ChatStatus::Connected, Some("bob"));
        let f = DueFacts { chat: Some(&bobs), ..facts(&rule, NOON_NY) };
        assert_eq!(
            gate(&reply(), f),
            Due::Fail("the chat was no longer connected with alice when the message was due".into())
        );
    }
}
