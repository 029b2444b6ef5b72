//! [`decide`]: one input on one chat. The consumer's texts are read here (carrier keywords first, then
//! SMS commands, then menu answers); each kind of input is carried out by the sibling module of its
//! idea, as methods of the one [`Decider`] that collects the decision.

use crate::commands::Command;
use crate::ids::{ChatId, QueueId};
use crate::keyword::CarrierKeyword;
use crate::phone::E164;
use crate::routing::Roster;
use crate::setup::{Number, Setup};
use crate::texts::{TextKey, Texts, render};
use crate::time::Timestamp;

use super::{
    Author, Chat, ChatEvent, ChatStatus, Consent, Decision, Effect, EndReason, Input, Outcome, Purpose, Refusal,
};

/// Everything besides the chat that a decision reads.
pub struct Context<'a> {
    pub setup: &'a Setup,
    /// The business number the chat belongs to.
    pub number: &'a Number,
    pub consumer: &'a E164,
    pub consent: Consent,
    /// Routing state; decisions that offer or free a chat update it.
    pub roster: &'a mut Roster,
    pub now: Timestamp,
    /// The id a chat opened by this input gets.
    pub new_chat_id: &'a ChatId,
    /// When the number last sent the consumer a sessionless notification, if the desk knows of one.
    pub last_notification: Option<Timestamp>,
}

/// Decides what one input does to a chat. `chat` is the live chat between the consumer and the number,
/// if there is one.
pub fn decide(chat: Option<&Chat>, input: &Input, ctx: Context<'_>) -> Outcome {
    let chat = chat.filter(|c| c.is_live()).cloned();
    let language = chat.as_ref().map_or_else(|| ctx.setup.language_of(ctx.number).to_owned(), |c| c.language.clone());
    let texts = ctx.setup.texts_for(ctx.number, chat.as_ref().and_then(|c| c.queue.as_ref()), &language);
    let mut d = Decider { ctx, texts, language, decision: Decision::default(), not_before: None };
    match input {
        Input::Inbound { text, language, .. } => {
            d.inbound(chat, text, language.as_deref());
            Outcome::Done(d.decision)
        }
        Input::Accept { agent } => d.business(chat, |d, chat| d.accept(chat, agent)),
        // An opted-out consumer is the reason that matters to the agent, even when STOP also ended the chat.
        Input::Reply { .. } if d.ctx.consent.opted_out => Outcome::Refused(Refusal::OptedOut),
        Input::Reply { agent, text } => d.business(chat, |d, chat| d.reply(chat, agent, text)),
        Input::End { by } => d.business(chat, |d, chat| d.end_by(chat, by)),
        Input::Withdraw => d.business(chat, |d, chat| {
            if chat.status == ChatStatus::Offered
                && let Some(agent) = chat.agent.take()
            {
                d.ctx.roster.release(&agent);
                chat.status = ChatStatus::Queued;
                d.event(ChatEvent::OfferWithdrawn { agent });
            }
            Ok(())
        }),
        Input::OptedOutElsewhere => d.business(chat, |d, chat| {
            d.end(chat, EndReason::OptedOut, "consumer".to_owned());
            Ok(())
        }),
        Input::Blocked { by } => d.business(chat, |d, chat| {
            d.end(chat, EndReason::Blocked, by.clone());
            Ok(())
        }),
        Input::Route => d.business(chat, |d, chat| {
            if chat.status == ChatStatus::Queued {
                d.route(chat);
            }
            Ok(())
        }),
        Input::CallText { .. } if !d.ctx.number.role.carries_calls() => Outcome::Refused(Refusal::NotInCallNumber),
        Input::CallText { .. } if d.ctx.consent.opted_out => Outcome::Refused(Refusal::OptedOut),
        Input::CallText { text, agent, ticket } => d.call_text(chat, text, agent.as_ref(), ticket),
        Input::CallConnected { agent } => d.business(chat, |d, chat| d.call_connected(chat, agent)),
        Input::CallEnded => d.business(chat, |d, chat| {
            if !chat.is_call_thread() {
                return Err(Refusal::NotACallThread);
            }
            d.end(chat, EndReason::CallEnded, "ivr".to_owned());
            Ok(())
        }),
        // An in_call number carries calls' threads, nothing else.
        Input::Outbound { .. } | Input::Sessionless { .. } | Input::Deflected { .. }
            if d.ctx.number.role.carries_calls() =>
        {
            Outcome::Refused(Refusal::CallsOnly)
        }
        // An incoming-only number never writes first, whoever asks.
        Input::Outbound { .. } | Input::Sessionless { .. } | Input::Deflected { .. } if !d.ctx.number.role.sends() => {
            Outcome::Refused(Refusal::IncomingOnly)
        }
        // Checked before anything else: the do-not-contact list outranks every other answer.
        Input::Outbound { .. } | Input::Sessionless { .. } | Input::Deflected { .. } if d.ctx.consent.opted_out => {
            Outcome::Refused(Refusal::OptedOut)
        }
        Input::Deflected { text, queue, since, ticket } => d.deflected(chat, text, queue, *since, ticket),
        Input::Outbound { text, agent, queue, no_delay, ticket } => {
            d.outbound(chat, text, agent.as_ref(), queue.as_ref(), *no_delay, ticket)
        }
        Input::Sessionless { text, no_delay } => d.sessionless(text, *no_delay),
        Input::Tick => d.business(chat, |d, chat| {
            d.tick(chat);
            Ok(())
        }),
        Input::Transfer { from, target, note } => d.business(chat, |d, chat| d.transfer(chat, from, target, note)),
        Input::AnswerTransfer { agent, accept } => d.business(chat, |d, chat| d.answer_transfer(chat, agent, *accept)),
        Input::Dismiss { by } => d.business(chat, |d, chat| d.dismiss_by(chat, by)),
        Input::Resume { by } => d.business(chat, |d, chat| d.resume_by(chat, by)),
    }
}

/// One decision in the making: what it reads, and the decision it collects. The sibling modules add
/// its methods, one idea each.
pub(super) struct Decider<'a> {
    pub(super) ctx: Context<'a>,
    /// The chat's system messages, in its language and for its queue.
    pub(super) texts: Texts,
    /// The chat's language.
    pub(super) language: String,
    pub(super) decision: Decision,
    /// Set when quiet hours hold this decision's messages back.
    pub(super) not_before: Option<Timestamp>,
}

impl Decider<'_> {
    /// Sends the system message `key` in the chat's language, with `extra` placeholders.
    pub(super) fn system(&mut self, key: TextKey, extra: &[(&str, &str)]) {
        self.system_for(key, extra, Purpose::Conversation);
    }

    pub(super) fn system_for(&mut self, key: TextKey, extra: &[(&str, &str)], purpose: Purpose) {
        let brand = self.ctx.setup.settings.brand.clone();
        let end = self.ctx.setup.settings.commands.end.first().map(|w| w.to_uppercase()).unwrap_or_default();
        let mut vars: Vec<(&str, &str)> =
            vec![("brand", brand.as_str()), ("business", brand.as_str()), ("end_command", end.as_str())];
        vars.extend_from_slice(extra);
        let text = render(self.texts.get(key), &vars);
        self.send(text, Author::System, purpose);
    }

    /// Picks the texts again after the chat's language or queue changed.
    pub(super) fn retext(&mut self, chat: &Chat) {
        self.language = chat.language.clone();
        self.texts = self.ctx.setup.texts_for(self.ctx.number, chat.queue.as_ref(), &chat.language);
    }

    /// The queue's name as the chat's language shows it.
    pub(super) fn queue_name(&self, queue: &QueueId) -> String {
        self.ctx.setup.queue(queue).map_or_else(|| queue.to_string(), |q| q.menu_entry(&self.language).0.to_owned())
    }

    pub(super) fn send(&mut self, text: String, author: Author, purpose: Purpose) {
        // The last line of defence inside the core: nothing but the one confirmation reaches an
        // opted-out phone. The outbox checks again at send time.
        if self.ctx.consent.opted_out && purpose != Purpose::OptOutConfirmation {
            return;
        }
        self.decision.effects.push(Effect::Send { text, author, purpose, not_before: self.not_before });
    }

    pub(super) fn event(&mut self, event: ChatEvent) {
        self.decision.effects.push(Effect::Event(event));
    }

    fn business(
        mut self,
        chat: Option<Chat>,
        act: impl FnOnce(&mut Self, &mut Chat) -> Result<(), Refusal>,
    ) -> Outcome {
        let Some(mut chat) = chat else {
            return Outcome::Refused(Refusal::Ended);
        };
        match act(&mut self, &mut chat) {
            Ok(()) => {
                self.decision.chat = Some(chat);
                Outcome::Done(self.decision)
            }
            Err(refusal) => Outcome::Refused(refusal),
        }
    }

    fn inbound(&mut self, chat: Option<Chat>, text: &str, detected: Option<&str>) {
        match self.ctx.setup.carrier_keyword(self.ctx.number, text) {
            Some(CarrierKeyword::OptOut) => return self.opt_out(chat, text),
            Some(CarrierKeyword::OptIn) if self.ctx.consent.opted_out => {
                return self.opt_in(chat, text);
            }
            Some(CarrierKeyword::Help) => {
                self.system(TextKey::Help, &[]);
                self.decision.chat = chat;
                return;
            }
            // START/YES/UNSTOP from a subscribed phone change nothing; "yes" is then an ordinary answer.
            Some(CarrierKeyword::OptIn) | None => {}
        }
        if self.ctx.consent.opted_out {
            // Kept (the caller stores the text) but not answered and not routed: we may not reply.
            self.decision.chat = chat;
            return;
        }
        // In a call's thread every text is for the agent: no SMS command applies.
        let in_call = chat.as_ref().is_some_and(Chat::is_call_thread);
        let command = if in_call { None } else { self.ctx.setup.settings.commands.parse(text) };
        let mut chat = match chat {
            Some(mut chat) => {
                self.event(ChatEvent::ConsumerMessage);
                chat.last_message_at = self.ctx.now;
                chat.warned_at = None;
                if chat.status == ChatStatus::Connected {
                    chat.awaiting_reply_since = chat.awaiting_reply_since.or(Some(self.ctx.now));
                }
                chat
            }
            // Ending with no chat open has nothing to end; it must not start a chat either.
            None if command == Some(Command::End) => return,
            // Nobody reads this number (or this reply to a notification): answered, no chat.
            None if self.unmonitored().is_some() => return self.answer_unmonitored(),
            None => return self.open(text, command, detected),
        };
        let before_agent = matches!(chat.status, ChatStatus::Selecting | ChatStatus::Queued | ChatStatus::Offered);
        match command {
            // A dismissed chat's consumer writes again: back to the queue, no menu (EXIT still ends it).
            Some(cmd) if chat.status == ChatStatus::Dismissed && cmd != Command::End => {
                self.resume(&mut chat, "consumer".to_owned())
            }
            None if chat.status == ChatStatus::Dismissed => self.resume(&mut chat, "consumer".to_owned()),
            Some(Command::End) => self.end(&mut chat, EndReason::ConsumerCommand, "consumer".to_owned()),
            Some(Command::Language(tag)) => {
                // The menu again, in the new language, for a consumer who is choosing.
                let changed = self.change_language(&mut chat, &tag);
                if changed && chat.status == ChatStatus::Selecting {
                    self.menu(chat.menu_level.as_ref(), None);
                }
            }
            // In a submenu: up one level.
            Some(Command::Back) if chat.status == ChatStatus::Selecting && chat.menu_level.is_some() => {
                let level =
                    chat.menu_level.as_ref().and_then(|l| self.ctx.setup.queue(l)).and_then(|q| q.parent.clone());
                chat.menu_level = level;
                self.event(ChatEvent::BackToMenu);
                self.menu(chat.menu_level.as_ref(), None);
            }
            // Before an agent answers: to the menu the queue was picked from, if it offers a choice.
            Some(Command::Back)
                if matches!(chat.status, ChatStatus::Queued | ChatStatus::Offered)
                    && self.choices_at(self.picked_from(&chat).as_ref()) > 1 =>
            {
                let level = self.picked_from(&chat);
                self.leave_queue(&mut chat, level);
            }
            Some(Command::Menu) if before_agent && self.choices_at(None) > 1 => self.leave_queue(&mut chat, None),
            Some(Command::Agent) if chat.status == ChatStatus::Selecting => {
                if let Some(first) = self.ctx.setup.menu_options(self.ctx.number, None).first() {
                    let first = first.id.clone();
                    self.choose(&mut chat, first, None);
                }
            }
            Some(Command::Agent) if chat.status == ChatStatus::Queued && chat.after_hours_until.is_none() => {
                self.waiting(&chat);
            }
            _ if chat.status == ChatStatus::Selecting => self.select(&mut chat, text),
            _ => {}
        }
        self.decision.chat = Some(chat);
    }

    /// The chat ends for `reason`, ended `by` the consumer, an agent, an admin or the system: the
    /// agent's capacity is given back and the consumer is told why (unless a message already said).
    pub(super) fn end(&mut self, chat: &mut Chat, reason: EndReason, by: String) {
        // A transfer still waiting ends with the chat, and gives the receiving agent's capacity back.
        if let Some(transfer) = chat.transfer.take() {
            self.ctx.roster.release(&transfer.offered_to);
        }
        // A call's thread took none of the agent's capacity.
        if matches!(chat.status, ChatStatus::Offered | ChatStatus::Connected)
            && !chat.is_call_thread()
            && let Some(agent) = &chat.agent
        {
            self.ctx.roster.release(agent);
        }
        chat.status = ChatStatus::Finished;
        chat.ended_at = Some(self.ctx.now);
        chat.end_reason = Some(reason);
        chat.ended_by = Some(by.clone());
        self.event(ChatEvent::Ended { reason, by });
        let key = match reason {
            // The opt-out confirmation is the last message; the after-hours one was just sent.
            EndReason::OptedOut | EndReason::AfterHours => return,
            // A block is not announced to the consumer; a call's end is the caller's own.
            EndReason::Blocked | EndReason::CallEnded => return,
            EndReason::Expired => TextKey::Expired,
            EndReason::ConsumerSilent => TextKey::InactivityClosed,
            EndReason::QueueTimeout => TextKey::QueueTimeout,
            EndReason::EndedByAgent | EndReason::EndedByAdmin | EndReason::ConsumerCommand => TextKey::ChatEnded,
        };
        let queue = chat.queue.as_ref().map(|q| self.queue_name(q)).unwrap_or_default();
        self.system(key, &[("queue", &queue)]);
    }
}
