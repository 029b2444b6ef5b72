//! System messages sent to consumers: what each is for, its default text and its placeholders, and the
//! overrides that languages, numbers and queues put over the defaults.
//!
//! Every text may use `{brand}`, its alias `{business}` and `{end_command}` (the first word of the end
//! command), but the pieces of a menu; the others are listed per text in [`TextKey::placeholders`]. A placeholder a text does not have is refused when the setup is saved.

use std::collections::BTreeMap;

/// One system message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TextKey {
    /// The opt-in notice: brand, recurring messages, rates, how to get help and to stop.
    OptInNotice,
    /// The menu: `{menu}` is the list of choices.
    Menu,
    /// An answer the menu did not understand (`{answer}`); the menu follows in the same message.
    MenuRetry,
    /// One choice of a menu: `{keywords}` that pick `{queue}`.
    MenuChoice,
    /// The word between a choice's keywords ("1 or BILLING").
    MenuOr,
    /// The consumer is in a queue and an agent is being asked.
    Queued,
    /// The consumer is in a queue and every agent is busy: `{position}` in line, about `{wait_minutes}`.
    Waiting,
    /// The queue is closed; the chat waits until it opens (`{opens}`).
    AfterHours,
    /// The queue is closed and does not keep chats after hours: the chat ends.
    AfterHoursClosed,
    /// The answer to HELP or INFO.
    Help,
    /// The one confirmation of an opt-out.
    OptedOut,
    /// The confirmation of an opt-in after an opt-out.
    OptedIn,
    /// An agent has taken the chat: `{agent}` (full name), `{agent_first_name}`.
    Connected,
    /// A colleague took the chat over (where the queue announces transfers).
    Transferred,
    /// The chat has ended.
    ChatEnded,
    /// The consumer has been silent: `{minutes}` until the chat closes.
    InactivityWarning,
    /// The chat closed because the consumer stayed silent.
    InactivityClosed,
    /// The session reached its maximum age.
    Expired,
    /// No agent took the chat within the queue's wait limit.
    QueueTimeout,
    /// No agent took the chat within the wait limit; it moved to another queue (`{queue}`).
    QueueMoved,
    /// The chat's language changed (LANG xx): written in the new language.
    LanguageChanged,
    /// LANG with a language the deployment does not have: `{languages}` lists those it has.
    LanguageUnknown,
    /// SMS chat is turned off: a text that would open a chat gets this instead.
    Unavailable,
    /// The chat will be dismissed in `{minutes}` minutes unless the consumer replies.
    DismissalNotice,
    /// The first answer to a dismissed chat's consumer when it goes back to its queue.
    DismissedResume,
    /// A text to a number nobody reads: an outbound-only number, or a reply to a sessionless
    /// notification on a number that answers those automatically. No chat opens.
    Unmonitored,
    /// The first answer on an agent's direct number (the agent's own `greeting` replaces it):
    /// `{agent}`, `{agent_first_name}`.
    DirectGreeting,
}

impl TextKey {
    pub const ALL: [TextKey; 27] = [
        TextKey::OptInNotice,
        TextKey::Menu,
        TextKey::MenuRetry,
        TextKey::MenuChoice,
        TextKey::MenuOr,
        TextKey::Queued,
        TextKey::Waiting,
        TextKey::AfterHours,
        TextKey::AfterHoursClosed,
        TextKey::Help,
        TextKey::OptedOut,
        TextKey::OptedIn,
        TextKey::Connected,
        TextKey::Transferred,
        TextKey::ChatEnded,
        TextKey::InactivityWarning,
        TextKey::InactivityClosed,
        TextKey::Expired,
        TextKey::QueueTimeout,
        TextKey::QueueMoved,
        TextKey::LanguageChanged,
        TextKey::LanguageUnknown,
        TextKey::Unavailable,
        TextKey::DismissalNotice,
        TextKey::DismissedResume,
        TextKey::Unmonitored,
        TextKey::DirectGreeting,
    ];

    /// The name in the setup document.
    pub fn name(self) -> &'static str {
        match self {
            TextKey::OptInNotice => "opt_in_notice",
            TextKey::Menu => "menu",
            TextKey::MenuRetry => "menu_retry",
            TextKey::MenuChoice => "menu_choice",
            TextKey::MenuOr => "menu_or",
            TextKey::Queued => "queued",
            TextKey::Waiting => "waiting",
            TextKey::AfterHours => "after_hours",
            TextKey::AfterHoursClosed => "after_hours_closed",
            TextKey::Help => "help",
            TextKey::OptedOut => "opted_out",
            TextKey::OptedIn => "opted_in",
            TextKey::Connected => "connected",
            TextKey::Transferred => "transferred",
            TextKey::ChatEnded => "chat_ended",
            TextKey::InactivityWarning => "inactivity_warning",
            TextKey::InactivityClosed => "inactivity_closed",
            TextKey::Expired => "expired",
            TextKey::QueueTimeout => "queue_timeout",
            TextKey::QueueMoved => "queue_moved",
            TextKey::LanguageChanged => "language_changed",
            TextKey::LanguageUnknown => "language_unknown",
            TextKey::Unavailable => "unavailable",
            TextKey::DismissalNotice => "dismissal_notice",
            TextKey::DismissedResume => "dismissed_resume",
            TextKey::Unmonitored => "unmonitored",
            TextKey::DirectGreeting => "direct_greeting",
        }
    }

    pub fn parse(name: &str) -> Option<TextKey> {
        TextKey::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The placeholders this text may use.
    pub fn placeholders(self) -> &'static [&'static str] {
        match self {
            TextKey::Menu => &["brand", "business", "end_command", "menu"],
            TextKey::MenuRetry => &["brand", "business", "end_command", "menu", "answer"],
            TextKey::MenuChoice => &["keywords", "queue"],
            TextKey::MenuOr => &[],
            TextKey::Queued | TextKey::QueueTimeout | TextKey::QueueMoved => {
                &["brand", "business", "end_command", "queue"]
            }
            TextKey::Waiting => &["brand", "business", "end_command", "queue", "position", "wait_minutes"],
            TextKey::AfterHours | TextKey::AfterHoursClosed => &["brand", "business", "end_command", "queue", "opens"],
            TextKey::Connected | TextKey::Transferred => {
                &["brand", "business", "end_command", "queue", "agent", "agent_first_name"]
            }
            TextKey::InactivityWarning | TextKey::DismissalNotice => &["brand", "business", "end_command", "minutes"],
            TextKey::DismissedResume => &["brand", "business", "end_command", "queue"],
            TextKey::DirectGreeting => &["brand", "business", "end_command", "agent", "agent_first_name"],
            TextKey::LanguageChanged => &["brand", "business", "end_command", "language"],
            TextKey::LanguageUnknown => &["brand", "business", "end_command", "languages"],
            _ => &["brand", "business", "end_command"],
        }
    }

    /// The default text: plain GSM-7, so each stays a cheap single encoding.
    fn default_text(self) -> &'static str {
        match self {
            TextKey::OptInNotice => {
                "{brand}: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out."
            }
            TextKey::Menu => "How can we help? Reply {menu}.",
            TextKey::MenuRetry => "Sorry, we did not understand \"{answer}\". Reply {menu}.",
            TextKey::MenuChoice => "{keywords} for {queue}",
            TextKey::MenuOr => "or",
            TextKey::Queued => {
                "Thanks! You are in the {queue} queue. An agent will answer shortly. Reply {end_command} to leave."
            }
            TextKey::Waiting => {
                "Thanks! You are number {position} in the {queue} queue. Estimated wait: about {wait_minutes} min. Reply {end_command} to leave."
            }
            TextKey::AfterHours => {
                "{queue} is closed now and opens {opens}. Your chat stays in line and an agent will answer then. Reply {end_command} to leave."
            }
            TextKey::AfterHoursClosed => "{queue} is closed now and opens {opens}. Please text us again then.",
            TextKey::Help => {
                "{brand} support by text. Reply to chat with us, {end_command} to end a chat, STOP to opt out. Msg & data rates may apply."
            }
            TextKey::OptedOut => {
                "{brand}: You are unsubscribed and will receive no more messages. Reply START to resubscribe."
            }
            TextKey::OptedIn => "{brand}: You are subscribed again. Reply HELP for help, STOP to opt out.",
            TextKey::Connected => "You are now chatting with {agent}.",
            TextKey::Transferred => "{agent} has taken over your chat.",
            TextKey::ChatEnded => "This chat has ended. Text us any time to start a new one.",
            TextKey::InactivityWarning => {
                "Are you still there? This chat closes in {minutes} minutes unless you reply."
            }
            TextKey::InactivityClosed => {
                "We closed this chat because we did not hear back. Text us any time to start a new one."
            }
            TextKey::Expired => "This chat has expired. Text us any time to start a new one.",
            TextKey::QueueTimeout => "Sorry, no agent could take your chat. Please text us again later.",
            TextKey::QueueMoved => "Sorry for the wait. We moved your chat to {queue}; an agent there will answer.",
            TextKey::LanguageChanged => "OK, we will write to you in {language}.",
            TextKey::LanguageUnknown => "Sorry, we cannot write in that language. Reply LANG and one of: {languages}.",
            TextKey::Unavailable => "{brand} does not take chats by text right now. Please try again later.",
            TextKey::DismissalNotice => {
                "We will set this chat aside in {minutes} minutes unless you reply. Text us any time to pick it up again."
            }
            TextKey::DismissedResume => {
                "Welcome back! Your chat is back in the {queue} queue; an agent will answer shortly."
            }
            TextKey::Unmonitored => {
                "{brand}: This number does not receive replies. Reply HELP for help, STOP to opt out."
            }
            TextKey::DirectGreeting => "Thanks! You have reached {agent}, who will answer you here.",
        }
    }
}

/// The text of every system message: the defaults, and the texts that differ from them (kept apart,
/// so that copying the texts of a chat costs nothing when nobody changed them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Texts {
    changed: BTreeMap<TextKey, String>,
}

impl Texts {
    pub fn get(&self, key: TextKey) -> &str {
        self.changed.get(&key).map_or_else(|| key.default_text(), String::as_str)
    }

    pub fn set(&mut self, key: TextKey, text: impl Into<String>) {
        let text = text.into();
        if text == key.default_text() {
            self.changed.remove(&key);
        } else {
            self.changed.insert(key, text);
        }
    }

    /// These texts with `overrides` put over them; names that are no text are left out (the setup
    /// refuses them before it gets here).
    pub fn overridden(&self, overrides: &TextOverrides) -> Texts {
        let mut texts = self.clone();
        for (name, text) in &overrides.0 {
            if let Some(key) = TextKey::parse(name) {
                texts.set(key, text.clone());
            }
        }
        texts
    }

    /// Every text as an override, for checking them all alike and for export.
    pub fn as_overrides(&self) -> TextOverrides {
        TextOverrides(TextKey::ALL.iter().map(|k| (k.name().to_owned(), self.get(*k).to_owned())).collect())
    }
}

/// Texts a language, a number or a queue replaces, by name as written; the rest stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextOverrides(pub BTreeMap<String, String>);

impl TextOverrides {
    /// Overrides of the texts given.
    pub fn of(texts: &[(TextKey, &str)]) -> TextOverrides {
        TextOverrides(texts.iter().map(|(k, t)| (k.name().to_owned(), (*t).to_owned())).collect())
    }

    pub fn get(&self, key: TextKey) -> Option<&str> {
        self.0.get(key.name()).map(String::as_str)
    }

    pub fn set(&mut self, key: TextKey, text: impl Into<String>) {
        self.0.insert(key.name().to_owned(), text.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every problem of these overrides: names that are no system message, and placeholders a text
    /// does not have; each as (field, reason).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, text) in &self.0 {
            let Some(key) = TextKey::parse(name) else {
                let known: Vec<&str> = TextKey::ALL.iter().map(|k| k.name()).collect();
                out.push((format!("messages.{name}"), format!("not a system message; known: {}", known.join(", "))));
                continue;
            };
            let unknown = unknown_placeholders_among(key.placeholders(), text);
            if !unknown.is_empty() {
                let unknown: Vec<String> = unknown.iter().map(|u| format!("{{{u}}}")).collect();
                let known: Vec<String> = key.placeholders().iter().map(|k| format!("{{{k}}}")).collect();
                out.push((
                    format!("messages.{name}"),
                    format!("unknown placeholder {}: this text may use {}", unknown.join(", "), known.join(", ")),
                ));
            }
        }
        out
    }
}

/// The placeholders of `template` that are not in `known`, each once, in order of appearance. A
/// placeholder is a word of letters, digits and `_` in braces; other braces (`{}`, `{ x }`) are text.
pub fn unknown_placeholders_among(known: &[&str], template: &str) -> Vec<String> {
    let mut unknown: Vec<String> = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let word = &after[..close];
        if !word.is_empty()
            && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !known.contains(&word)
            && !unknown.iter().any(|u| u == word)
        {
            unknown.push(word.to_owned());
        }
        rest = &after[close + 1..];
    }
    unknown
}

/// Fills the placeholders of a template. Unknown placeholders stay as written, so a typo in an
/// operator's text is visible rather than silently dropped.
pub fn render(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in vars {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_and_placeholders_are_named_per_text() {
        let over = TextOverrides::of(&[(TextKey::Queued, "In {qeue}, {qeue} and {agent} for {business}")]);
        assert_eq!(
            over.problems(),
            vec![(
                "messages.queued".to_owned(),
                "unknown placeholder {qeue}, {agent}: this text may use {brand}, {business}, {end_command}, {queue}"
                    .to_owned()
            )]
        );
        let typo = TextOverrides([("qeued".to_owned(), "x".to_owned())].into());
        assert!(typo.problems()[0].1.starts_with("not a system message; known: opt_in_notice, menu"));
        assert!(TextOverrides::of(&[(TextKey::Help, "Use {} or { menu } literally")]).problems().is_empty());
        assert!(Texts::default().as_overrides().problems().is_empty(), "the defaults use only their placeholders");
    }

    #[test]
    fn overrides_replace_only_what_they_give() {
        let over = TextOverrides::of(&[(TextKey::Help, "Ayuda")]);
        let texts = Texts::default().overridden(&over);
        assert_eq!(texts.get(TextKey::Help), "Ayuda");
        assert_eq!(texts.get(TextKey::Menu), Texts::default().get(TextKey::Menu));
        assert_eq!(TextKey::ALL.map(|k| TextKey::parse(k.name())), TextKey::ALL.map(Some));
    }

    #[test]
    fn fills_known_placeholders_and_keeps_unknown_ones() {
        assert_eq!(render("{brand} says {hi}", &[("brand", "Acme")]), "Acme says {hi}");
    }
}
