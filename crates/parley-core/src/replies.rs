//! Predefined replies (canned responses): texts an admin writes once, for agents to send with a click.
//!
//! A reply belongs to queues and teams (none of either: to everyone), has a category and a shortcut
//! word agents type to find it, and may be marked as the opt-in message an agent-started chat opens
//! with. Its text may use the placeholders in [`PLACEHOLDERS`], filled per chat by [`Reply::render`];
//! any other placeholder is refused when the setup is saved, so a typo never reaches a consumer.
//!
//! The reply as the setup holds it (draft, validated form, the checks) is `setup/replies.rs`, named
//! here too; this module is its use in a chat, and reads the setup, which never reads it.

use crate::ids::AgentId;
use crate::phone::E164;
use crate::setup::Setup;
/// A reply as saved with the setup, its draft, and the placeholders its text may use.
pub use crate::setup::{
    REPLY_APP_PLACEHOLDERS as APP_PLACEHOLDERS, REPLY_PLACEHOLDERS as PLACEHOLDERS, Reply, ReplyDraft,
};
use crate::texts;

/// The values a reply's placeholders take in one chat. A value that is `None` is not known (or not
/// to be shown) for this chat, and its placeholder stays as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyVars {
    pub agent_first_name: Option<String>,
    pub agent: Option<String>,
    pub queue: Option<String>,
    pub brand: Option<String>,
    pub consumer_last_four: Option<String>,
    /// An `app_launch` reply's links: the launch link with its token, the download links.
    pub app_link: Option<String>,
    pub ios_link: Option<String>,
    pub android_link: Option<String>,
}

impl ReplyVars {
    /// The values for a chat: the agent's name (its first word is the first name), the queue's name,
    /// the brand, and the consumer's number when the one who sees the text may see its last digits.
    pub fn for_chat(agent: Option<&str>, queue: Option<&str>, brand: &str, consumer: Option<&E164>) -> ReplyVars {
        ReplyVars {
            agent_first_name: agent.map(|name| first_name(name).to_owned()),
            agent: agent.map(str::to_owned),
            queue: queue.map(str::to_owned),
            brand: Some(brand.to_owned()),
            consumer_last_four: consumer.map(last_four),
            ..ReplyVars::default()
        }
    }

    /// Sets the value of the placeholder `name` (one of [`PLACEHOLDERS`]), replacing what the chat gave;
    /// false when no placeholder has that name. The outbound API's `variables` come in this way.
    pub fn set(&mut self, name: &str, value: &str) -> bool {
        let slot = match name {
            "agent_first_name" => &mut self.agent_first_name,
            "agent" => &mut self.agent,
            "queue" => &mut self.queue,
            "brand" => &mut self.brand,
            "consumer_last_four" => &mut self.consumer_last_four,
            _ => return false,
        };
        *slot = Some(value.to_owned());
        true
    }

    fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("agent_first_name", &self.agent_first_name),
            ("agent", &self.agent),
            ("queue", &self.queue),
            ("brand", &self.brand),
            ("consumer_last_four", &self.consumer_last_four),
            ("app_link", &self.app_link),
            ("ios_link", &self.ios_link),
            ("android_link", &self.android_link),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
        .collect()
    }
}

/// The first word of a name ("Alice" of "Alice Smith"); a name of one word is its own first name.
pub fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

/// The last four digits of a phone number.
pub fn last_four(number: &E164) -> String {
    let digits = number.as_str().trim_start_matches('+');
    digits[digits.len().saturating_sub(4)..].to_owned()
}

impl Reply {
    /// Whether `agent` may use this reply: a reply of no queue and no team is for everyone; otherwise
    /// for the agents serving one of its queues and the members of one of its teams.
    pub fn available_to(&self, agent: &AgentId, setup: &Setup) -> bool {
        if self.queues.is_empty() && self.teams.is_empty() {
            return true;
        }
        let serves = setup.agent(agent).is_some_and(|a| a.queues.iter().any(|q| self.queues.contains(q)));
        let member = setup.teams.iter().any(|t| self.teams.contains(&t.id) && t.members.contains(agent));
        serves || member
    }

    /// The text with the placeholders `vars` knows filled in; the others stay as written.
    pub fn render(&self, vars: &ReplyVars) -> String {
        texts::render(&self.text, &vars.pairs())
    }

    /// The placeholders the text uses that `vars` cannot fill, each once: a reply is sent only whole.
    pub fn unfilled(&self, vars: &ReplyVars) -> Vec<String> {
        let known: Vec<&str> = vars.pairs().into_iter().map(|(name, _)| name).collect();
        let mut unfilled = texts::unknown_placeholders_among(&known, &self.text);
        unfilled.retain(|name| PLACEHOLDERS.contains(&name.as_str()) || APP_PLACEHOLDERS.contains(&name.as_str()));
        unfilled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ReplyId;
    use crate::message::MAX_BODY_CHARS;
    use crate::setup::{AgentDraft, QueueDraft, SetupDraft, TeamDraft};

    fn reply(id: &str, shortcut: &str, text: &str) -> ReplyDraft {
        ReplyDraft {
            id: id.into(),
            title: format!("Title of {id}"),
            category: "General".into(),
            shortcut: shortcut.into(),
            text: text.into(),
            ..ReplyDraft::default()
        }
    }

    /// billing and tech; alice serves billing, bob tech, carol nothing; team red is bob alone.
    fn draft(replies: Vec<ReplyDraft>) -> SetupDraft {
        let queue = |id: &str, name: &str| QueueDraft { id: id.into(), name: name.into(), ..QueueDraft::default() };
        let agent = |id: &str, name: &str, queues: &[&str]| AgentDraft {
            id: id.into(),
            name: name.into(),
            queues: queues.iter().map(|q| (*q).into()).collect(),
            capacity: 2,
            languages: vec![],
            ..AgentDraft::default()
        };
        SetupDraft {
            queues: vec![queue("billing", "Billing"), queue("tech", "Technical support")],
            agents: vec![
                agent("alice", "Alice Smith", &["billing"]),
                agent("bob", "Bob Jones", &["tech"]),
                agent("carol", "Carol", &[]),
            ],
            teams: vec![TeamDraft {
                id: "red".into(),
                name: "Red".into(),
                members: vec!["bob".into()],
                queues: vec![],
            }],
            replies,
            ..SetupDraft::default()
        }
    }

    fn problems(replies: Vec<ReplyDraft>) -> Vec<String> {
        match Setup::validate(&draft(replies), &[]) {
            Ok(_) => vec![],
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn set_fills_every_placeholder_by_name_and_refuses_other_names() {
        let mut vars = ReplyVars::default();
        for name in PLACEHOLDERS {
            assert!(vars.set(name, "x"), "{name}");
        }
        assert_eq!(vars.pairs().len(), PLACEHOLDERS.len(), "set covers every placeholder");
        assert!(!vars.set("order_id", "42"));
    }

    #[test]
    fn a_good_reply_validates_and_round_trips() {
        let mut r = reply("greeting", "hi", "Hi, this is {agent_first_name} of {brand}, {queue}.");
        r.queues = vec!["billing".into()];
        r.teams = vec!["red".into()];
        r.opt_in = true;
        let setup = Setup::validate(&draft(vec![r.clone()]), &[]).unwrap();
        assert_eq!(setup.replies.len(), 1);
        assert_eq!(setup.replies[0].id.as_str(), "greeting");
        assert_eq!(setup.replies[0].to_draft(), r);
        assert_eq!(setup.to_draft().replies, vec![r]);
    }

    #[test]
    fn ids_must_be_valid_and_unique() {
        let all = problems(vec![reply("a", "one", "x"), reply("a", "two", "y"), reply("Not An Id", "three", "z")]);
        assert_eq!(
            all,
            [
                "reply \"a\" is defined twice",
                "reply: \"Not An Id\" is not a valid id: use 1 to 64 characters of a-z, 0-9, '-', '_' or '.'",
            ]
        );
    }

    #[test]
    fn title_and_text_must_not_be_empty() {
        let mut r = reply("blank", "blank", "  ");
        r.title = " ".into();
        assert_eq!(
            problems(vec![r]),
            ["reply \"blank\": title must not be empty", "reply \"blank\": text must not be empty"]
        );
    }

    #[test]
    fn text_is_at_most_one_message_body() {
        assert!(problems(vec![reply("long", "long", &"é".repeat(MAX_BODY_CHARS))]).is_empty());
        assert_eq!(
            problems(vec![reply("long", "long", &"é".repeat(MAX_BODY_CHARS + 1))]),
            ["reply \"long\": text: has 1601 characters; the limit is 1600"]
        );
    }

    #[test]
    fn shortcuts_are_one_word_and_unique_ignoring_case() {
        let all = problems(vec![
            reply("a", "Thanks", "x"),
            reply("b", "thanks", "y"),
            reply("c", "two words", "z"),
            reply("d", "", "w"),
            reply("e", "bye_now-2", "v"),
        ]);
        assert_eq!(
            all,
            [
                "reply \"b\": shortcut \"thanks\": is also the shortcut of reply \"a\" (shortcuts are compared ignoring case)",
                "reply \"c\": shortcut \"two words\": must be one word of letters, digits, '-' or '_', e.g. thanks",
                "reply \"d\": shortcut \"\": must be one word of letters, digits, '-' or '_', e.g. thanks",
            ]
        );
    }

    #[test]
    fn queues_and_teams_must_exist() {
        let mut r = reply("r", "r", "x");
        r.queues = vec!["billing".into(), "sales".into()];
        r.teams = vec!["red".into(), "Blue Team".into()];
        assert_eq!(
            problems(vec![r]),
            ["reply \"r\" refers to unknown queue \"sales\"", "reply \"r\" refers to unknown team \"Blue Team\""]
        );
    }

    #[test]
    fn only_the_reply_placeholders_are_allowed() {
        let every = "{agent_first_name} {agent} {queue} {brand} {consumer_last_four} {} { x }";
        assert!(problems(vec![reply("ok", "ok", every)]).is_empty());
        assert_eq!(
            problems(vec![reply("typo", "typo", "Hi {agent_name}, {menu} and {agent_name} again")]),
            ["reply \"typo\": text: unknown placeholder {agent_name}, {menu}: a reply may use {agent_first_name}, \
                 {agent}, {queue}, {brand}, {consumer_last_four}"]
        );
    }

    #[test]
    fn every_problem_of_every_reply_is_reported() {
        let mut bad = reply("bad", "Hi", "{nope}");
        bad.title = String::new();
        bad.queues = vec!["nowhere".into()];
        let all = problems(vec![reply("hi", "hi", "hello"), bad]);
        assert_eq!(all.len(), 4, "{all:#?}");
        assert!(all.iter().all(|e| e.starts_with("reply \"bad\"")), "{all:#?}");
    }

    #[test]
    fn availability_follows_queues_and_teams() {
        let mut billing = reply("billing", "billing", "x");
        billing.queues = vec!["billing".into()];
        let mut red = reply("red", "red", "x");
        red.teams = vec!["red".into()];
        let mut either = reply("either", "either", "x");
        either.queues = vec!["billing".into()];
        either.teams = vec!["red".into()];
        let everyone = reply("everyone", "everyone", "x");
        let setup = Setup::validate(&draft(vec![billing, red, either, everyone]), &[]).unwrap();
        let mine = |agent: &str| -> Vec<&str> {
            let agent = AgentId::parse(agent).unwrap();
            setup.replies.iter().filter(|r| r.available_to(&agent, &setup)).map(|r| r.id.as_str()).collect()
        };
        assert_eq!(mine("alice"), ["billing", "either", "everyone"]);
        assert_eq!(mine("bob"), ["red", "either", "everyone"]);
        assert_eq!(mine("carol"), ["everyone"]);
        // An agent the setup does not know gets only what is for everyone.
        assert_eq!(mine("dave"), ["everyone"]);
    }

    #[test]
    fn rendering_fills_what_the_chat_knows() {
        let r = Reply {
            id: ReplyId::parse("r").unwrap(),
            title: "R".into(),
            category: String::new(),
            shortcut: "r".into(),
            text: "{agent_first_name} ({agent}) of {brand} {queue}: is {consumer_last_four} yours? {other}".into(),
            queues: vec![],
            teams: vec![],
            opt_in: false,
            app: None,
        };
        let phone = E164::parse("+15550000123").unwrap();
        let vars = ReplyVars::for_chat(Some("Alice  Smith"), Some("Billing"), "Acme", Some(&phone));
        assert_eq!(r.render(&vars), "Alice (Alice  Smith) of Acme Billing: is 0123 yours? {other}");
        assert!(r.unfilled(&vars).is_empty());

        let hidden = ReplyVars::for_chat(Some("Bob"), Some("Tech"), "Acme", None);
        assert_eq!(r.render(&hidden), "Bob (Bob) of Acme Tech: is {consumer_last_four} yours? {other}");
        assert_eq!(r.unfilled(&hidden), ["consumer_last_four"]);
        let nobody = ReplyVars::for_chat(None, None, "Acme", Some(&phone));
        assert_eq!(r.unfilled(&nobody), ["agent_first_name", "agent", "queue"]);
    }

    #[test]
    fn first_names_and_last_four_digits() {
        assert_eq!(first_name("  Alice Smith"), "Alice");
        assert_eq!(first_name("Cher"), "Cher");
        assert_eq!(first_name(""), "");
        assert_eq!(last_four(&E164::parse("+15550100").unwrap()), "0100");
    }
}
