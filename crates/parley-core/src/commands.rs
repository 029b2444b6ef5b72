//! SMS commands: words a consumer texts to steer their chat (end it, go back, see the menu again, ask
//! for an agent, change the language). The words are the deployment's to choose; they match like
//! keywords (whole message, any case, punctuation ignored) and may never be a carrier keyword, so
//! STOP always opts out.

use crate::keyword;

/// What a command does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// End the chat.
    End,
    /// Up one menu level, or back to the menu from the queue before an agent answers.
    Back,
    /// The top menu again, before an agent answers.
    Menu,
    /// Straight to an agent: from the menu into the number's first queue; in a queue, the place in line.
    Agent,
    /// Change the chat's language: the tag as written after the word (normalized), empty when none.
    Language(String),
}

/// The words of each command, as written in the setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commands {
    pub end: Vec<String>,
    pub back: Vec<String>,
    pub menu: Vec<String>,
    pub agent: Vec<String>,
    /// Followed by a language tag: "LANG es".
    pub language: Vec<String>,
}

impl Default for Commands {
    fn default() -> Commands {
        let words = |w: &[&str]| w.iter().map(|w| (*w).to_owned()).collect();
        Commands {
            end: words(&["EXIT", "CLOSE"]),
            back: words(&["BACK"]),
            menu: words(&["MENU"]),
            agent: words(&["AGENT"]),
            language: words(&["LANG"]),
        }
    }
}

impl Commands {
    /// Each command's name in the setup document with its words.
    pub fn named(&self) -> [(&'static str, &[String]); 5] {
        [
            ("end", &self.end),
            ("back", &self.back),
            ("menu", &self.menu),
            ("agent", &self.agent),
            ("language", &self.language),
        ]
    }

    /// Every command word, normalized.
    pub fn words(&self) -> Vec<String> {
        self.named().iter().flat_map(|(_, words)| words.iter().map(|w| keyword::normalize(w))).collect()
    }

    /// The command a whole message is, if any. A language command is its word, then optionally a
    /// space and a tag ("LANG es"); "LANGUAGE" is not "LANG" followed by "UAGE".
    pub fn parse(&self, text: &str) -> Option<Command> {
        let word = keyword::normalize(text);
        if word.is_empty() {
            return None;
        }
        let is = |words: &[String]| words.iter().any(|w| keyword::normalize(w) == word);
        if is(&self.end) {
            return Some(Command::End);
        }
        if is(&self.back) {
            return Some(Command::Back);
        }
        if is(&self.menu) {
            return Some(Command::Menu);
        }
        if is(&self.agent) {
            return Some(Command::Agent);
        }
        let mut parts = text.split_whitespace();
        let first = keyword::normalize(parts.next().unwrap_or_default());
        let rest: Vec<&str> = parts.collect();
        if rest.len() <= 1 && self.language.iter().any(|w| keyword::normalize(w) == first) {
            return Some(Command::Language(rest.first().map(|t| keyword::normalize(t)).unwrap_or_default()));
        }
        None
    }

    /// Every problem with the words, as (field, reason): empty words, carrier keywords (`reserved`
    /// says whether a normalized word is one on some number), and a word used by two commands.
    pub fn problems(&self, reserved: impl Fn(&str) -> bool) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut owner: Vec<(String, &str)> = Vec::new();
        for (name, words) in self.named() {
            if words.is_empty() && name == "end" {
                out.push((
                    format!("commands.{name}"),
                    "needs at least one word: consumers must be able to end a chat".to_owned(),
                ));
            }
            for w in words {
                let word = keyword::normalize(w);
                let field = format!("commands.{name} \"{w}\"");
                if word.is_empty() {
                    out.push((field, "has no letters or digits".to_owned()));
                } else if reserved(&word) {
                    out.push((
                        field,
                        "is a carrier keyword (opt-out, opt-in or help): it keeps that meaning".to_owned(),
                    ));
                } else if let Some((_, other)) = owner.iter().find(|(w, _)| w == &word) {
                    out.push((field, format!("is also a word of the {other} command")));
                } else {
                    owner.push((word, name));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_match_like_keywords_and_lang_takes_a_tag() {
        let c = Commands::default();
        assert_eq!(c.parse(" exit! "), Some(Command::End));
        assert_eq!(c.parse("Close"), Some(Command::End));
        assert_eq!(c.parse("menu"), Some(Command::Menu));
        assert_eq!(c.parse("agent."), Some(Command::Agent));
        assert_eq!(c.parse("LANG es"), Some(Command::Language("ES".into())));
        assert_eq!(c.parse("lang pt-BR"), Some(Command::Language("PTBR".into())));
        assert_eq!(c.parse("lang"), Some(Command::Language(String::new())));
        assert_eq!(c.parse("language"), None);
        assert_eq!(c.parse("lang es please"), None);
        assert_eq!(c.parse("I want an agent"), None);
    }

    #[test]
    fn carrier_keywords_and_shared_words_are_refused() {
        let c = Commands {
            end: vec!["END".into(), "bye".into()],
            menu: vec!["Bye".into(), "?".into()],
            ..Commands::default()
        };
        let problems = c.problems(|w| keyword::classify(w).is_some());
        assert_eq!(
            problems,
            vec![
                (
                    "commands.end \"END\"".to_owned(),
                    "is a carrier keyword (opt-out, opt-in or help): it keeps that meaning".to_owned()
                ),
                ("commands.menu \"Bye\"".to_owned(), "is also a word of the end command".to_owned()),
                ("commands.menu \"?\"".to_owned(), "has no letters or digits".to_owned()),
            ]
        );
        assert!(Commands::default().problems(|w| keyword::classify(w).is_some()).is_empty());
    }
}
