//! System messages sent to consumers, with their defaults, and the overrides languages and numbers
//! put over them. Placeholders: `{brand}` everywhere, `{menu}` (menu, menu_retry), `{answer}`
//! (menu_retry), `{queue}` (queued), `{agent}` (connected).

/// The texts of every system message. Defaults are plain GSM-7 so each stays a cheap single encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Texts {
    /// The opt-in notice: brand, recurring messages, rates, how to get help and to stop.
    pub opt_in_notice: String,
    /// The menu: `{menu}` is the list of choices.
    pub menu: String,
    /// An answer the menu did not understand; the menu follows in the same message.
    pub menu_retry: String,
    /// The consumer is in a queue.
    pub queued: String,
    /// The answer to HELP or INFO.
    pub help: String,
    /// The one confirmation of an opt-out.
    pub opted_out: String,
    /// The confirmation of an opt-in after an opt-out.
    pub opted_in: String,
    /// An agent has taken the chat: `{agent}` is the agent's name.
    pub connected: String,
    /// The chat has ended.
    pub chat_ended: String,
    /// The consumer has been silent: `{minutes}` until the chat closes.
    pub inactivity_warning: String,
    /// The chat closed because the consumer stayed silent.
    pub inactivity_closed: String,
    /// The session reached its maximum age.
    pub expired: String,
    /// No agent took the chat within the queue's wait limit.
    pub queue_timeout: String,
}

impl Default for Texts {
    fn default() -> Texts {
        Texts {
            opt_in_notice: "{brand}: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.".to_owned(),
            menu: "How can we help? {menu}".to_owned(),
            menu_retry: "Sorry, we did not understand \"{answer}\". {menu}".to_owned(),
            queued: "Thanks! You are in the {queue} queue. An agent will answer shortly. Reply EXIT to leave.".to_owned(),
            help: "{brand} support by text. Reply to chat with us, EXIT to end a chat, STOP to opt out. Msg & data rates may apply.".to_owned(),
            opted_out: "{brand}: You are unsubscribed and will receive no more messages. Reply START to resubscribe.".to_owned(),
            opted_in: "{brand}: You are subscribed again. Reply HELP for help, STOP to opt out.".to_owned(),
            connected: "You are now chatting with {agent}.".to_owned(),
            chat_ended: "This chat has ended. Text us any time to start a new one.".to_owned(),
            inactivity_warning: "Are you still there? This chat closes in {minutes} minutes unless you reply.".to_owned(),
            inactivity_closed: "We closed this chat because we did not hear back. Text us any time to start a new one.".to_owned(),
            expired: "This chat has expired. Text us any time to start a new one.".to_owned(),
            queue_timeout: "Sorry, no agent could take your chat. Please text us again later.".to_owned(),
        }
    }
}

/// Texts a language or a number replaces; `None` keeps the text underneath.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextOverrides {
    pub opt_in_notice: Option<String>,
    pub menu: Option<String>,
    pub menu_retry: Option<String>,
    pub queued: Option<String>,
    pub help: Option<String>,
    pub opted_out: Option<String>,
    pub opted_in: Option<String>,
    pub connected: Option<String>,
    pub chat_ended: Option<String>,
    pub inactivity_warning: Option<String>,
    pub inactivity_closed: Option<String>,
    pub expired: Option<String>,
    pub queue_timeout: Option<String>,
}

impl TextOverrides {
    /// Each text that is given, with its name.
    pub fn named(&self) -> Vec<(&'static str, &str)> {
        [
            ("opt_in_notice", &self.opt_in_notice),
            ("menu", &self.menu),
            ("menu_retry", &self.menu_retry),
            ("queued", &self.queued),
            ("help", &self.help),
            ("opted_out", &self.opted_out),
            ("opted_in", &self.opted_in),
            ("connected", &self.connected),
            ("chat_ended", &self.chat_ended),
            ("inactivity_warning", &self.inactivity_warning),
            ("inactivity_closed", &self.inactivity_closed),
            ("expired", &self.expired),
            ("queue_timeout", &self.queue_timeout),
        ]
        .into_iter()
        .filter_map(|(name, text)| text.as_deref().map(|t| (name, t)))
        .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.named().is_empty()
    }
}

impl Texts {
    /// These texts with `overrides` put over them.
    pub fn overridden(&self, overrides: &TextOverrides) -> Texts {
        let pick = |over: &Option<String>, base: &String| over.clone().unwrap_or_else(|| base.clone());
        Texts {
            opt_in_notice: pick(&overrides.opt_in_notice, &self.opt_in_notice),
            menu: pick(&overrides.menu, &self.menu),
            menu_retry: pick(&overrides.menu_retry, &self.menu_retry),
            queued: pick(&overrides.queued, &self.queued),
            help: pick(&overrides.help, &self.help),
            opted_out: pick(&overrides.opted_out, &self.opted_out),
            opted_in: pick(&overrides.opted_in, &self.opted_in),
            connected: pick(&overrides.connected, &self.connected),
            chat_ended: pick(&overrides.chat_ended, &self.chat_ended),
            inactivity_warning: pick(&overrides.inactivity_warning, &self.inactivity_warning),
            inactivity_closed: pick(&overrides.inactivity_closed, &self.inactivity_closed),
            expired: pick(&overrides.expired, &self.expired),
            queue_timeout: pick(&overrides.queue_timeout, &self.queue_timeout),
        }
    }

    /// Every text as an override, for checking them all alike.
    pub fn as_overrides(&self) -> TextOverrides {
        TextOverrides {
            opt_in_notice: Some(self.opt_in_notice.clone()),
            menu: Some(self.menu.clone()),
            menu_retry: Some(self.menu_retry.clone()),
            queued: Some(self.queued.clone()),
            help: Some(self.help.clone()),
            opted_out: Some(self.opted_out.clone()),
            opted_in: Some(self.opted_in.clone()),
            connected: Some(self.connected.clone()),
            chat_ended: Some(self.chat_ended.clone()),
            inactivity_warning: Some(self.inactivity_warning.clone()),
            inactivity_closed: Some(self.inactivity_closed.clone()),
            expired: Some(self.expired.clone()),
            queue_timeout: Some(self.queue_timeout.clone()),
        }
    }
}

/// The placeholders the text called `name` may use.
pub fn placeholders(name: &str) -> &'static [&'static str] {
    match name {
        "menu" => &["brand", "menu"],
        "menu_retry" => &["brand", "menu", "answer"],
        "queued" => &["brand", "queue"],
        "connected" => &["brand", "agent"],
        "inactivity_warning" => &["brand", "minutes"],
        _ => &["brand"],
    }
}

/// The placeholders of `template` that the text called `name` does not have, each once: an operator's
/// typo is refused when the setup is saved instead of reaching consumers as `{qeue}`.
pub fn unknown_placeholders(name: &str, template: &str) -> Vec<String> {
    unknown_placeholders_among(placeholders(name), template)
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
    fn unknown_placeholders_are_named_per_text() {
        assert_eq!(unknown_placeholders("queued", "In {queue} for {brand}"), Vec::<String>::new());
        assert_eq!(unknown_placeholders("queued", "In {qeue}, {qeue} and {agent}"), vec!["qeue", "agent"]);
        assert_eq!(unknown_placeholders("help", "Use {} or { menu } literally"), Vec::<String>::new());
        assert!(Texts::default().as_overrides().named().iter().all(|(n, t)| unknown_placeholders(n, t).is_empty()));
    }

    #[test]
    fn overrides_replace_only_what_they_give() {
        let over = TextOverrides { help: Some("Ayuda".into()), ..TextOverrides::default() };
        let texts = Texts::default().overridden(&over);
        assert_eq!(texts.help, "Ayuda");
        assert_eq!(texts.menu, Texts::default().menu);
        assert_eq!(over.named(), vec![("help", "Ayuda")]);
    }

    #[test]
    fn fills_known_placeholders_and_keeps_unknown_ones() {
        assert_eq!(render("{brand} says {hi}", &[("brand", "Acme")]), "Acme says {hi}");
    }
}
