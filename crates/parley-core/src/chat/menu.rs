//! The menu: opening a chat on a first text, choosing a queue (and submenus), going back, and the
//! chat's language.

use crate::commands::Command;
use crate::ids::QueueId;
use crate::keyword;
use crate::setup::Queue;
use crate::texts::{TextKey, Texts, render};

use super::decide::Decider;
use super::{Chat, ChatEvent, ChatStatus, Origin};

impl Decider<'_> {
    /// Back to a menu level before an agent answered: the queue (and any offer) is given up.
    pub(super) fn leave_queue(&mut self, chat: &mut Chat, level: Option<QueueId>) {
        if chat.status == ChatStatus::Offered
            && let Some(agent) = chat.agent.take()
        {
            self.ctx.roster.release(&agent);
        }
        chat.agent = None;
        chat.menu_level = level;
        chat.status = ChatStatus::Selecting;
        chat.queue = None;
        chat.queued_at = None;
        chat.wait_since = None;
        chat.after_hours_until = None;
        self.retext(chat);
        self.event(ChatEvent::BackToMenu);
        self.menu(chat.menu_level.as_ref(), None);
    }

    /// LANG xx: the chat's messages from now on are in that language, if the setup has it (true).
    pub(super) fn change_language(&mut self, chat: &mut Chat, tag: &str) -> bool {
        let tags = self.ctx.setup.settings.language_tags();
        match tags.iter().find(|t| !tag.is_empty() && keyword::normalize(t) == tag) {
            Some(language) => {
                let language = (*language).to_owned();
                self.set_language(chat, &language);
                let name = self.ctx.setup.settings.language_name(&language);
                self.system(TextKey::LanguageChanged, &[("language", &name)]);
                true
            }
            None => {
                let list = tags.join(", ");
                self.system(TextKey::LanguageUnknown, &[("languages", &list)]);
                false
            }
        }
    }

    fn set_language(&mut self, chat: &mut Chat, language: &str) {
        if chat.language != language {
            chat.language = language.to_owned();
            self.event(ChatEvent::LanguageChanged { language: language.to_owned() });
        }
        self.retext(chat);
    }

    pub(super) fn open(&mut self, text: &str, command: Option<Command>, detected: Option<&str>) {
        // SMS chat is off for every queue of the number (or the deployment): nothing to choose from.
        // A direct number has no menu: its chats go to its agent.
        if self.ctx.number.agent.is_none() && self.ctx.setup.menu_options(self.ctx.number, None).is_empty() {
            self.system(TextKey::Unavailable, &[]);
            return;
        }
        let ctx = &self.ctx;
        let tags = ctx.setup.settings.language_tags();
        // A LANG command as the first text decides; then what the detector heard, if the setup has it.
        let chosen = match &command {
            Some(Command::Language(tag)) => tags.iter().find(|t| !tag.is_empty() && keyword::normalize(t) == *tag),
            _ => None,
        };
        let language = chosen
            .copied()
            .or_else(|| detected.filter(|d| tags.contains(d)))
            .unwrap_or_else(|| ctx.setup.language_of(ctx.number))
            .to_owned();
        let mut chat = Chat {
            id: ctx.new_chat_id.clone(),
            number: ctx.number.number.clone(),
            consumer: ctx.consumer.clone(),
            origin: Origin::Inbound,
            start_type: None,
            status: ChatStatus::Selecting,
            queue: None,
            menu_level: None,
            agent: None,
            opened_at: ctx.now,
            queued_at: None,
            offered_at: None,
            last_message_at: ctx.now,
            warned_at: None,
            transfer: None,
            language,
            answered_at: None,
            awaiting_reply_since: None,
            agent_message_at: None,
            dismissed_at: None,
            wait_since: None,
            after_hours_until: None,
            ended_at: None,
            end_reason: None,
            ended_by: None,
            ticket: Default::default(),
        };
        self.event(ChatEvent::Opened);
        self.event(ChatEvent::ConsumerMessage);
        if chat.language != self.ctx.setup.language_of(self.ctx.number) {
            self.event(ChatEvent::LanguageChanged { language: chat.language.clone() });
        }
        self.retext(&chat);
        self.opt_in_notice(self.ctx.setup.settings.opt_in_notice_every_chat);
        if let Some(agent) = self.ctx.number.agent.clone() {
            self.open_direct(&mut chat, agent);
            self.decision.chat = Some(chat);
            return;
        }
        // A first text that already names a queue skips the menu; so does a menu of one choice, and
        // asking for an agent (the number's first queue).
        let first = self.ctx.setup.menu_options(self.ctx.number, None).first().map(|q| q.id.clone());
        match (self.only_or_named(None, text), command) {
            (Some((queue, language)), _) => self.choose(&mut chat, queue, language),
            (None, Some(Command::Agent)) if first.is_some() => {
                if let Some(first) = first {
                    self.choose(&mut chat, first, None);
                }
            }
            _ => self.menu(None, None),
        }
        self.decision.chat = Some(chat);
    }

    /// The visible choices of a menu level.
    pub(super) fn choices_at(&self, level: Option<&QueueId>) -> usize {
        self.ctx.setup.menu_options(self.ctx.number, level).len()
    }

    /// The menu level a queued chat's queue was picked from: its parent (`None`: the number's menu).
    pub(super) fn picked_from(&self, chat: &Chat) -> Option<QueueId> {
        chat.queue.as_ref().and_then(|q| self.ctx.setup.queue(q)).and_then(|q| q.parent.clone())
    }

    /// The choice at `level` that `text` names (with the language of the words that named it), or the
    /// only one there is.
    fn only_or_named(&self, level: Option<&QueueId>, text: &str) -> Option<(QueueId, Option<String>)> {
        match self.ctx.setup.menu_options(self.ctx.number, level).as_slice() {
            [only] => Some((only.id.clone(), None)),
            _ => self.ctx.setup.menu_choice(self.ctx.number, level, text),
        }
    }

    /// A choice was made (in `language`, when its words were of one): a queue with visible children
    /// opens its submenu (or, with one child, goes straight on); any other queue is joined. A queue
    /// that serves one language sets the chat's.
    pub(super) fn choose(&mut self, chat: &mut Chat, queue: QueueId, language: Option<String>) {
        let serves = self.ctx.setup.queue(&queue).and_then(|q| q.language.clone());
        if let Some(language) = serves.or(language) {
            self.set_language(chat, &language);
        }
        match self.ctx.setup.menu_options(self.ctx.number, Some(&queue)).as_slice() {
            [] => {
                chat.menu_level = None;
                self.enqueue(chat, queue, false);
            }
            [only] => {
                let only = only.id.clone();
                self.choose(chat, only, None);
            }
            _ => {
                chat.menu_level = Some(queue);
                self.menu(chat.menu_level.as_ref(), None);
            }
        }
    }

    pub(super) fn menu(&mut self, level: Option<&QueueId>, unknown_answer: Option<&str>) {
        let choices = menu_text(&self.ctx.setup.menu_options(self.ctx.number, level), &self.language, &self.texts);
        let key = if unknown_answer.is_some() { TextKey::MenuRetry } else { TextKey::Menu };
        let answer = quote(unknown_answer.unwrap_or_default());
        self.system(key, &[("menu", &choices), ("answer", &answer)]);
        self.event(ChatEvent::MenuSent);
    }

    pub(super) fn select(&mut self, chat: &mut Chat, text: &str) {
        let level = chat.menu_level.clone();
        match self.ctx.setup.menu_choice(self.ctx.number, level.as_ref(), text) {
            Some((queue, language)) => self.choose(chat, queue, language),
            // The answer to a message the business sent first: a menu of one choice takes it there;
            // otherwise the consumer has not seen the menu yet, so it is sent as it is.
            None if chat.origin == Origin::Outbound => match self.only_or_named(level.as_ref(), "") {
                Some((only, _)) => self.choose(chat, only, None),
                None => self.menu(level.as_ref(), None),
            },
            // A blank answer (a photo without text), or BACK at the top, has nothing to quote: the menu
            // goes as it is.
            None if text.trim().is_empty() || self.ctx.setup.settings.commands.parse(text).is_some() => {
                self.menu(level.as_ref(), None)
            }
            None => self.menu(level.as_ref(), Some(text)),
        }
    }
}

/// The consumer's answer as the menu quotes it back: trimmed, and cut short so a long text does not
/// turn the reply into several segments.
fn quote(answer: &str) -> String {
    const MAX: usize = 24;
    let answer = answer.trim();
    if answer.chars().count() <= MAX {
        answer.to_owned()
    } else {
        format!("{}...", answer.chars().take(MAX).collect::<String>().trim_end())
    }
}

/// A menu's choices in `language`, with its texts: "1 or BILLING for Billing, 2 or TECH for Technical
/// support".
pub fn menu_text(options: &[&Queue], language: &str, texts: &Texts) -> String {
    let or = format!(" {} ", texts.get(TextKey::MenuOr).trim());
    let choices: Vec<String> = options
        .iter()
        .map(|q| {
            let (name, keywords) = q.menu_entry(language);
            let words = if keywords.is_empty() { vec![name.to_uppercase()] } else { keywords.to_vec() };
            render(texts.get(TextKey::MenuChoice), &[("keywords", &words.join(&or)), ("queue", name)])
        })
        .collect();
    choices.join(", ")
}

/// What a consumer reads after their first text to a number (the opt-in notice, the menu, or what a
/// menu of one choice leads to), as [`decide`](super::decide) builds it: the preview an admin sees
/// while editing the setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstTexts {
    /// Every message, in order.
    pub messages: Vec<String>,
    /// The menu among them (`None`: the number's menu has one choice, taken at once).
    pub menu: Option<String>,
}

/// The texts a new consumer (no consent history, nobody available) reads after a first text that names
/// no queue, in `language` (`None`: the number's), at `now` (business hours may matter).
pub fn first_texts(
    setup: &crate::setup::Setup,
    number: &crate::setup::Number,
    language: Option<&str>,
    now: crate::time::Timestamp,
) -> FirstTexts {
    use super::{Author, ChatEvent, Context, Effect, Input, Outcome, decide};
    // A placeholder consumer: the texts do not depend on who writes.
    let Ok(consumer) = crate::phone::E164::parse("+15005550006") else {
        return FirstTexts { messages: vec![], menu: None };
    };
    let mut roster = crate::routing::Roster::default();
    let input = Input::Inbound { text: String::new(), media: 0, language: language.map(str::to_owned) };
    let id = crate::ids::ChatId::new("preview");
    let ctx = Context {
        setup,
        number,
        consumer: &consumer,
        consent: super::Consent::default(),
        roster: &mut roster,
        now,
        new_chat_id: &id,
        last_notification: None,
    };
    let Outcome::Done(decision) = decide(None, &input, ctx) else {
        return FirstTexts { messages: vec![], menu: None };
    };
    let mut texts = FirstTexts { messages: vec![], menu: None };
    for effect in decision.effects {
        match effect {
            Effect::Send { text, author: Author::System, .. } => texts.messages.push(text),
            Effect::Event(ChatEvent::MenuSent) => texts.menu = texts.messages.last().cloned(),
            _ => {}
        }
    }
    texts
}
