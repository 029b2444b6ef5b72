//! System messages sent to consumers, with their defaults. Placeholders: `{brand}`, `{queue}`, `{menu}`,
//! `{answer}`.

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
        }
    }
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
    fn fills_known_placeholders_and_keeps_unknown_ones() {
        assert_eq!(render("{brand} says {hi}", &[("brand", "Acme")]), "Acme says {hi}");
    }
}
