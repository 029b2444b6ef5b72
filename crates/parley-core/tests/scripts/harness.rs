//! The script harness: parses a conversation, plays it through `decide` with the state an engine would
//! keep between inputs, and renders what happened.
//!
//! Script lines (leading whitespace and blank lines are ignored, `#` starts a comment line):
//!
//! ```text
//! setup auto-answer                 variant of the fixed setup; only before the first input
//! setup notice-once                 (auto-answer: the tech queue; notice-once: opt-in notice on first contact only;
//! setup no-quiet-hours               no-quiet-hours: proactive messages go out at any hour; by default they
//!                                    wait out 21:00-08:00 in the consumer's time zone;
//! setup spanish                      spanish: a language "es" with keywords ALTO, PARAR, COMENZAR, AYUDA and
//!                                    texts; the billing line speaks it and has its own queue message;
//! setup tech-waits-10m               tech-waits-10m: a chat waits at most 10 minutes in the tech queue.
//!                                    Default timers: offers 60 s, inactivity warning 15 min + close 5 min,
//!                                    sessions 24 h;
//! setup billing-announces-transfers  billing tells the consumer who took over a transfer;
//! setup billing-submenu              billing opens a submenu: 1 Invoices, 2 Refunds (team "money": alice);
//!                                    a hidden "vip" queue is listed on the support number;
//! setup tech-longest-idle            tech offers chats to the agent idle longest, before the least busy)
//! setup languages                    languages: Spanish besides English, with Spanish menu words (FACTURAS,
//!                                    SOPORTE), a Spanish waiting message for tech; carol writes es and en;
//! setup tech-hours                   tech answers weekdays 09:00-17:00 New York and keeps chats after hours
//!                                    (`tech-hours-close`: closes them);
//! setup tech-overflows-to-billing    a chat waiting 10 minutes in tech moves to billing;
//! setup reply-within-5m              a connected agent has 5 minutes to answer the consumer;
//! setup commands-bye                 the end command is BYE (not EXIT or CLOSE), the menu command START OVER
//! setup sms-chat-off                 no queue takes SMS chats (`tech-without-sms`: tech does not)
//! phone +14155550100> hi            the phone texts the first number of the setup
//! phone +14155550100 (es)> hola     ... and the language detector heard Spanish
//! phone +14155550100 to +15550002000> hi     ... or the named business number
//! phone +14155550100> " billing! "  surrounding double quotes are removed, to keep spaces visible
//! phone +14155550100> [photo]       a trailing `[photo]` is one media item (here with an empty body)
//! agent alice> accept               Input::Accept
//! agent alice> say Hello there      Input::Reply
//! agent alice> end                  Input::End by the agent
//! agent bob> transfer carol Note     Input::Transfer to a colleague (`transfer-queue billing Note`: to a queue)
//! agent carol> take                  Input::AnswerTransfer, accepting (`decline` declines)
//! agent alice> away                 marks the agent away (`available`, `offline` likewise)
//! agent bob @chat-1> accept         names the chat the agent acts on
//! admin> end +14155550100           Input::End by an admin, on the phone's live chat (or `admin> end chat-1`)
//! agent alice> start +14155550100 Hi    Input::Outbound by the agent, on the support number
//! api> send +14155550100 Hi          Input::Outbound through the API (`send-now`: refuse rather than wait)
//! api> notify +14155550100 Hi        Input::Sessionless (`notify-now`: refuse rather than wait)
//! clock +10m                        advances the clock (s, m or h) and fires the timers that came due
//!                                    (`tick chat-N:` blocks), as the engine's timer worker does
//! ```
//!
//! Without `@chat-N`, an agent acts on the live chat offered to or connected with them, or, if they
//! hold none, on the chat opened last. After every line the harness runs `Input::Route` on the queued
//! chats, oldest first, as the engine does whenever capacity may have freed up; a chat that this
//! changes is shown in a `route chat-N:` block.
//!
//! The transcript echoes each line and indents what it caused: `system> …` and `alice> …` are
//! messages sent to the consumer, `event: …`, `consent: …`, `refused: …`, and the chat's `status: …`
//! (`status: no chat` when the input belongs to no chat).

use std::collections::HashMap;
use std::fmt::Write as _;

use expect_test::Expect;
use parley_core::chat::{
    Actor, Author, Chat, ChatEvent, ChatStatus, Consent, ConsentChange, Context, Effect, Input, Outcome, Purpose,
    Refusal, TransferTarget, decide,
};
use parley_core::hours::BusinessHoursDraft;
use parley_core::ids::{AgentId, ChatId, QueueId};
use parley_core::phone::{BusinessNumber, E164};
use parley_core::routing::{Presence, Roster, Seat};
use parley_core::setup::{
    AgentDraft, Language, NumberDraft, QueueDraft, QueueTranslation, QuietHoursDraft, Settings, Setup, SetupDraft,
    TeamDraft,
};
use parley_core::texts::{TextKey, TextOverrides};
use parley_core::time::Timestamp;

/// The support number: a menu of two queues.
const SUPPORT: &str = "+15550001000";
/// A number whose only queue is billing: no menu.
const BILLING_LINE: &str = "+15550002000";

/// Plays `script` and compares the transcript with `expect`.
pub(crate) fn check(script: &str, expect: Expect) {
    let mut variants: Vec<&str> = Vec::new();
    let mut world: Option<World> = None;
    let mut header = String::new();
    for line in script.lines().map(str::trim_start) {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(variant) = line.strip_prefix("setup ") {
            assert!(world.is_none(), "`{line}`: setup lines come before the first input");
            variants.push(variant.trim());
            header.push_str(line.trim_end());
            header.push('\n');
            continue;
        }
        let world = world.get_or_insert_with(|| World::new(&variants));
        world.line(line);
    }
    let transcript = header + &world.map(|w| w.out).unwrap_or_default();
    expect.assert_eq(&transcript);
}

/// The fixed setup, changed by the `setup` variants named in the script.
fn setup(variants: &[&str]) -> Setup {
    let queue = |id: &str, name: &str, keywords: &[&str]| QueueDraft {
        id: id.into(),
        name: name.into(),
        keywords: keywords.iter().map(|k| (*k).into()).collect(),
        auto_answer: false,
        consumer_number: String::new(),
        timers: Default::default(),
        announce_transfers: false,
        parent: None,
        hidden: false,
        strategy: String::new(),
        ..QueueDraft::default()
    };
    let agent = |id: &str, name: &str, queue: &str, capacity| AgentDraft {
        id: id.into(),
        name: name.into(),
        queues: vec![queue.into()],
        capacity,
        languages: vec![],
    };
    let mut draft = SetupDraft {
        numbers: vec![
            NumberDraft {
                number: SUPPORT.into(),
                label: "Support".into(),
                carrier: "sim".into(),
                queues: vec!["billing".into(), "tech".into()],
                segments_per_second: None,
                campaign: None,
                kind: String::new(),
                ..NumberDraft::default()
            },
            NumberDraft {
                number: BILLING_LINE.into(),
                label: "Billing line".into(),
                carrier: "sim".into(),
                queues: vec!["billing".into()],
                segments_per_second: None,
                campaign: None,
                kind: String::new(),
                ..NumberDraft::default()
            },
        ],
        queues: vec![
            queue("billing", "Billing", &["1", "BILLING"]),
            queue("tech", "Technical support", &["2", "TECH"]),
        ],
        agents: vec![
            agent("alice", "Alice Smith", "billing", 1),
            agent("bob", "Bob Jones", "tech", 2),
            agent("carol", "Carol White", "tech", 2),
        ],
        teams: vec![],
        campaigns: vec![],
        settings: Settings::default(),
        quiet_hours: QuietHoursDraft::default(),
        replies: vec![],
    };
    for variant in variants {
        match *variant {
            "auto-answer" => draft.queues[1].auto_answer = true,
            "notice-once" => draft.settings.opt_in_notice_every_chat = false,
            "no-quiet-hours" => draft.quiet_hours.enabled = false,
            "tech-waits-10m" => draft.queues[1].timers.queue_wait_minutes = Some(10),
            "billing-announces-transfers" => draft.queues[0].announce_transfers = true,
            "tech-longest-idle" => draft.queues[1].strategy = "longest_idle".into(),
            "billing-submenu" => {
                // Billing opens a submenu of invoices and refunds, served by the "money" team (alice);
                // "vip" is on the support number's list but hidden.
                let mut child = |id: &str, name: &str, keywords: &[&str]| {
                    draft.queues.push(QueueDraft { parent: Some("billing".into()), ..queue(id, name, keywords) });
                };
                child("invoices", "Invoices", &["1", "INVOICES"]);
                child("refunds", "Refunds", &["2", "REFUNDS"]);
                draft.queues.push(QueueDraft { hidden: true, ..queue("vip", "VIP", &["VIP"]) });
                draft.numbers[0].queues.push("vip".into());
                draft.teams.push(TeamDraft {
                    id: "money".into(),
                    name: "Money".into(),
                    members: vec!["alice".into()],
                    queues: vec!["invoices".into(), "refunds".into()],
                });
            }
            "spanish" => {
                draft.settings.languages.insert("es".into(), spanish());
                draft.numbers[1].language = Some("es".into());
                draft.numbers[1].messages.set(TextKey::Queued, "Está en la cola de {queue}.");
            }
            "languages" => {
                // Spanish besides English: the menu has Spanish names and keywords, tech has its own
                // Spanish waiting message, and carol writes Spanish.
                draft.settings.languages.insert("es".into(), spanish());
                let translate = |name: &str, keyword: &str| QueueTranslation {
                    name: name.into(),
                    keywords: vec![keyword.into()],
                    ..QueueTranslation::default()
                };
                draft.queues[0].translations.insert("es".into(), translate("Facturación", "FACTURAS"));
                let mut tech = translate("Soporte técnico", "SOPORTE");
                tech.messages.set(TextKey::Waiting, "Es el número {position} en {queue}; espera: {wait_minutes} min.");
                draft.queues[1].translations.insert("es".into(), tech);
                draft.agents[2].languages = vec!["es".into(), "en".into()];
            }
            "tech-hours" | "tech-hours-close" => {
                // Weekdays 09:00 to 17:00 in New York.
                let days = ["mon", "tue", "wed", "thu", "fri"].map(|d| (d.to_owned(), vec!["09:00-17:00".to_owned()]));
                draft.queues[1].hours = Some(BusinessHoursDraft {
                    time_zone: "America/New_York".into(),
                    days: days.into_iter().collect(),
                    closed_dates: vec![],
                    after_hours: if *variant == "tech-hours" { "keep_queued" } else { "close" }.into(),
                });
            }
            "tech-overflows-to-billing" => {
                draft.queues[1].timers.queue_wait_minutes = Some(10);
                draft.queues[1].overflow = Some("billing".into());
            }
            "reply-within-5m" => draft.settings.timers.agent_response_minutes = Some(5),
            "sms-chat-off" => draft.settings.sms_chat = false,
            "tech-without-sms" => draft.queues[1].sms_chat = Some(false),
            "commands-bye" => {
                draft.settings.commands.end = vec!["BYE".into()];
                draft.settings.commands.menu = vec!["START OVER".into()];
            }
            other => {
                panic!(
                    "unknown setup variant `{other}` (known: auto-answer, notice-once, no-quiet-hours, spanish, languages, tech-waits-10m, billing-announces-transfers, billing-submenu, tech-longest-idle, tech-hours, tech-hours-close, tech-overflows-to-billing, reply-within-5m, commands-bye, sms-chat-off, tech-without-sms)"
                )
            }
        }
    }
    Setup::validate(&draft, &["sim"]).expect("the fixed setup is valid")
}

/// The Spanish language of the `spanish` and `languages` variants.
fn spanish() -> Language {
    let texts = TextOverrides::of(&[
        (
            TextKey::OptInNotice,
            "{brand}: Gracias por escribirnos. Responda AYUDA para ayuda, ALTO para no recibir más.",
        ),
        (TextKey::OptedOut, "{brand}: No recibirá más mensajes. Responda COMENZAR para volver."),
        (TextKey::Help, "{brand}: ayuda por SMS. Responda ALTO para no recibir más."),
        (TextKey::Menu, "¿Cómo podemos ayudarle? Responda {menu}."),
        (TextKey::MenuChoice, "{keywords} para {queue}"),
        (TextKey::MenuOr, "o"),
        (TextKey::Connected, "Le atiende {agent_first_name}."),
        (TextKey::LanguageChanged, "De acuerdo, le escribiremos en {language}."),
    ]);
    Language {
        name: String::new(),
        opt_out_keywords: vec!["ALTO".into(), "PARAR".into()],
        opt_in_keywords: vec!["COMENZAR".into()],
        help_keywords: vec!["AYUDA".into()],
        texts,
    }
}

/// What the engine keeps between inputs.
struct World {
    setup: Setup,
    /// Every chat, in the order opened; chat `n` is `chats[n - 1]`.
    chats: Vec<Chat>,
    consent: HashMap<E164, Consent>,
    roster: Roster,
    now: Timestamp,
    out: String,
}

impl World {
    fn new(variants: &[&str]) -> World {
        let setup = setup(variants);
        let seats = setup
            .agents
            .iter()
            .map(|a| Seat {
                agent: a.id.clone(),
                presence: Presence::Available,
                active: 0,
                capacity: a.capacity,
                queues: setup.queues_of(&a.id),
                last_assigned: Timestamp(0),
                languages: if a.languages.is_empty() {
                    vec![setup.settings.language.clone()]
                } else {
                    a.languages.clone()
                },
            })
            .collect();
        World {
            setup,
            chats: Vec::new(),
            consent: HashMap::new(),
            roster: Roster { seats, ..Roster::default() },
            // 2026-01-01T00:00:00Z, a Thursday; any instant after the seats' `last_assigned` works.
            now: Timestamp(1_767_225_600_000),
            out: String::new(),
        }
    }

    fn line(&mut self, line: &str) {
        writeln!(self.out, "{}", line.trim_end()).unwrap();
        if let Some(step) = line.strip_prefix("clock +") {
            self.now = Timestamp(self.now.0 + duration_ms(step.trim()));
            self.tick_due();
        } else {
            let (head, body) = line.split_once('>').unwrap_or_else(|| panic!("`{line}`: expected `who> what`"));
            let body = body.strip_prefix(' ').unwrap_or(body);
            let words: Vec<&str> = head.split_whitespace().collect();
            match words.as_slice() {
                ["phone", phone] => self.inbound(phone, SUPPORT, body, None),
                ["phone", phone, language] if language.starts_with('(') => {
                    self.inbound(phone, SUPPORT, body, Some(language.trim_matches(['(', ')'])))
                }
                ["phone", phone, "to", number] => self.inbound(phone, number, body, None),
                ["agent", agent] => self.agent(agent, None, body),
                ["agent", agent, target] if target.starts_with('@') => self.agent(agent, Some(&target[1..]), body),
                ["admin"] => self.admin(body),
                ["api"] => self.api(body),
                _ => panic!("`{line}`: unknown speaker `{head}`"),
            }
        }
        self.route_queued();
    }

    fn inbound(&mut self, phone: &str, number: &str, text: &str, detected: Option<&str>) {
        let phone = E164::parse(phone).unwrap();
        let number =
            self.setup.number(&BusinessNumber::parse(number).unwrap()).expect("a business number of the setup").clone();
        let (text, media) = match text.strip_suffix("[photo]") {
            Some(rest) => (rest.trim_end(), 1),
            None => (text, 0),
        };
        let text = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
        let live = self.chats.iter().rev().find(|c| c.consumer == phone && c.number == number.number && c.is_live());
        let new_chat_id = ChatId::new(format!("chat-{}", self.chats.len() + 1));
        self.roster = lines(&self.chats, self.roster.clone());
        let outcome = decide(
            live,
            &Input::Inbound { text: text.to_owned(), media, language: detected.map(str::to_owned) },
            Context {
                setup: &self.setup,
                number: &number,
                consumer: &phone,
                consent: self.consent.get(&phone).copied().unwrap_or_default(),
                roster: &mut self.roster,
                now: self.now,
                new_chat_id: &new_chat_id,
            },
        );
        self.apply(&phone, None, outcome, "  ");
    }

    fn agent(&mut self, agent: &str, target: Option<&str>, command: &str) {
        let agent = AgentId::parse(agent).unwrap();
        let (verb, rest) = command.split_once(' ').unwrap_or((command, ""));
        let input = match verb {
            "accept" => Input::Accept { agent: agent.clone() },
            "say" => Input::Reply { agent: agent.clone(), text: rest.to_owned() },
            "end" => Input::End { by: Actor::Agent(agent.clone()) },
            "transfer" | "transfer-queue" => {
                let (to, note) = rest.split_once(' ').unwrap_or((rest, ""));
                let target = if verb == "transfer" {
                    TransferTarget::Agent(AgentId::parse(to).unwrap())
                } else {
                    TransferTarget::Queue(QueueId::parse(to).unwrap())
                };
                Input::Transfer { from: agent.clone(), target, note: note.to_owned() }
            }
            "take" => Input::AnswerTransfer { agent: agent.clone(), accept: true },
            "decline" => Input::AnswerTransfer { agent: agent.clone(), accept: false },
            "start" => {
                let (phone, text) = rest.split_once(' ').unwrap_or((rest, ""));
                let input =
                    Input::Outbound { text: text.to_owned(), agent: Some(agent.clone()), queue: None, no_delay: false };
                return self.outbound(phone, &input);
            }
            "available" | "away" | "offline" => {
                let seat = self.roster.seats.iter_mut().find(|s| s.agent == agent).expect("an agent of the setup");
                seat.presence = Presence::parse(verb).unwrap();
                // As the engine does: an agent who goes away loses the offers they have not accepted.
                if verb != "available" {
                    let offered: Vec<usize> = (0..self.chats.len())
                        .filter(|&i| {
                            self.chats[i].status == ChatStatus::Offered && self.chats[i].agent.as_ref() == Some(&agent)
                        })
                        .collect();
                    for index in offered {
                        self.business(index, &Input::Withdraw);
                    }
                }
                return;
            }
            _ => panic!(
                "unknown agent command `{command}` (accept, say, end, transfer, transfer-queue, take, decline, available, away, offline)"
            ),
        };
        let index = match target {
            Some(id) => self.chat_index(id),
            None => {
                let held: Vec<usize> = (0..self.chats.len())
                    .filter(|&i| {
                        let c = &self.chats[i];
                        (c.agent.as_ref() == Some(&agent)
                            && matches!(c.status, ChatStatus::Offered | ChatStatus::Connected))
                            || c.transfer.as_ref().is_some_and(|t| t.offered_to == agent)
                    })
                    .collect();
                match held.as_slice() {
                    [] => self.chats.len().checked_sub(1).expect("no chat to act on"),
                    [only] => *only,
                    _ => panic!("{agent} holds several chats: name one with `agent {agent} @chat-N>`"),
                }
            }
        };
        self.business(index, &input);
    }

    fn api(&mut self, command: &str) {
        let mut words = command.splitn(3, ' ');
        let (verb, phone, text) = (words.next().unwrap(), words.next().unwrap_or(""), words.next().unwrap_or(""));
        let text = text.to_owned();
        let input = match verb {
            "send" => Input::Outbound { text, agent: None, queue: None, no_delay: false },
            "send-now" => Input::Outbound { text, agent: None, queue: None, no_delay: true },
            "notify" => Input::Sessionless { text, no_delay: false },
            "notify-now" => Input::Sessionless { text, no_delay: true },
            _ => panic!("unknown api command `{command}` (send, send-now, notify, notify-now)"),
        };
        self.outbound(phone, &input);
    }

    /// Runs a business-first input to `phone` on the support number.
    fn outbound(&mut self, phone: &str, input: &Input) {
        let phone = E164::parse(phone).unwrap();
        let number = self.setup.number(&BusinessNumber::parse(SUPPORT).unwrap()).unwrap().clone();
        let live = self.chats.iter().rev().find(|c| c.consumer == phone && c.number == number.number && c.is_live());
        let new_chat_id = ChatId::new(format!("chat-{}", self.chats.len() + 1));
        self.roster = lines(&self.chats, self.roster.clone());
        let outcome = decide(
            live,
            input,
            Context {
                setup: &self.setup,
                number: &number,
                consumer: &phone,
                consent: self.consent.get(&phone).copied().unwrap_or_default(),
                roster: &mut self.roster,
                now: self.now,
                new_chat_id: &new_chat_id,
            },
        );
        // A sessionless message belongs to no chat, whatever the phone has open.
        let sessionless = matches!(input, Input::Sessionless { .. });
        self.apply(&phone, None, outcome, "  ");
        if sessionless {
            assert!(self.chats.iter().all(|c| c.id != new_chat_id), "a sessionless message opens no chat");
        }
    }

    fn admin(&mut self, command: &str) {
        let target = command.strip_prefix("end ").unwrap_or_else(|| panic!("unknown admin command `{command}`"));
        let target = target.trim();
        let index = if target.starts_with("chat-") {
            self.chat_index(target)
        } else {
            let phone = E164::parse(target).unwrap();
            let live = self.chats.iter().rposition(|c| c.consumer == phone && c.is_live());
            live.or_else(|| self.chats.iter().rposition(|c| c.consumer == phone)).expect("a chat of that phone")
        };
        self.business(index, &Input::End { by: Actor::Admin });
    }

    fn chat_index(&self, id: &str) -> usize {
        self.chats.iter().position(|c| c.id.as_str() == id).unwrap_or_else(|| panic!("no chat `{id}`"))
    }

    /// Runs a business-side input on the chat at `index`.
    fn business(&mut self, index: usize, input: &Input) {
        let outcome = self.decide_on(index, input);
        let consumer = self.chats[index].consumer.clone();
        let id = self.chats[index].id.clone();
        self.apply(&consumer, Some(&id), outcome, "  ");
    }

    fn decide_on(&mut self, index: usize, input: &Input) -> Outcome {
        self.roster = lines(&self.chats, self.roster.clone());
        let chat = &self.chats[index];
        let number = self.setup.number(&chat.number).expect("the chat's number").clone();
        let new_chat_id = ChatId::new(format!("chat-{}", self.chats.len() + 1));
        decide(
            Some(chat),
            input,
            Context {
                setup: &self.setup,
                number: &number,
                consumer: &chat.consumer,
                consent: self.consent.get(&chat.consumer).copied().unwrap_or_default(),
                roster: &mut self.roster,
                now: self.now,
                new_chat_id: &new_chat_id,
            },
        )
    }

    /// As the timer worker does: every live chat whose next deadline has come gets `Input::Tick`,
    /// until none is due (a warning and the close after it may both be due after a long jump).
    fn tick_due(&mut self) {
        loop {
            let due: Vec<usize> = (0..self.chats.len())
                .filter(|&i| {
                    let chat = &self.chats[i];
                    let timers = self.setup.timers_for(chat.queue.as_ref());
                    parley_core::timers::next_due(chat, &timers).is_some_and(|t| t <= self.now)
                })
                .collect();
            if due.is_empty() {
                return;
            }
            for index in due {
                let id = self.chats[index].id.clone();
                writeln!(self.out, "  tick {id}:").unwrap();
                let outcome = self.decide_on(index, &Input::Tick);
                let consumer = self.chats[index].consumer.clone();
                self.apply(&consumer, Some(&id), outcome, "    ");
            }
            self.route_queued();
        }
    }

    /// Offers the queued chats, oldest first, to agents who have room now.
    fn route_queued(&mut self) {
        let mut queued: Vec<usize> = (0..self.chats.len())
            .filter(|&i| self.chats[i].is_live() && self.chats[i].status == ChatStatus::Queued)
            .collect();
        queued.sort_by_key(|&i| (self.chats[i].queued_at, i));
        for index in queued {
            let before = self.chats[index].clone();
            let outcome = self.decide_on(index, &Input::Route);
            let unchanged = matches!(&outcome, Outcome::Done(d) if d.effects.is_empty() && d.consent.is_none()
                && d.chat.as_ref() == Some(&before));
            if !unchanged {
                writeln!(self.out, "  route {}:", before.id).unwrap();
                self.apply(&before.consumer, Some(&before.id), outcome, "    ");
            }
        }
    }

    /// Renders an outcome and keeps the state it leads to.
    fn apply(&mut self, consumer: &E164, target: Option<&ChatId>, outcome: Outcome, indent: &str) {
        let decision = match outcome {
            Outcome::Refused(refusal) => {
                let on = target.map(|id| format!(" ({id})")).unwrap_or_default();
                let refusal = match refusal {
                    Refusal::QuietHours { until, zones } => format!("QuietHours until {} ({zones})", utc(until)),
                    other => format!("{other:?}"),
                };
                writeln!(self.out, "{indent}refused: {refusal}{on}").unwrap();
                return;
            }
            Outcome::Done(decision) => decision,
        };
        for effect in &decision.effects {
            writeln!(self.out, "{indent}{}", render_effect(effect)).unwrap();
        }
        if let Some(change) = &decision.consent {
            let consent = self.consent.entry(consumer.clone()).or_default();
            let shown = match change {
                ConsentChange::NoticeSent => {
                    consent.notice_sent = true;
                    "NoticeSent".to_owned()
                }
                ConsentChange::OptedOut { keyword } => {
                    consent.opted_out = true;
                    format!("OptedOut {keyword}")
                }
                ConsentChange::OptedIn { keyword } => {
                    consent.opted_out = false;
                    format!("OptedIn {keyword}")
                }
            };
            writeln!(self.out, "{indent}consent: {shown}").unwrap();
        }
        let Some(chat) = decision.chat else {
            writeln!(self.out, "{indent}status: no chat").unwrap();
            return;
        };
        writeln!(self.out, "{indent}status: {}", render_status(&chat)).unwrap();
        match self.chats.iter_mut().find(|c| c.id == chat.id) {
            Some(known) => *known = chat,
            None => {
                assert_eq!(
                    chat.id.as_str(),
                    format!("chat-{}", self.chats.len() + 1),
                    "a new chat takes the id minted for it"
                );
                self.chats.push(chat);
            }
        }
    }
}

/// The roster with the queues' lines as the engine loads them: how many chats wait in each queue,
/// and how many are ahead of each waiting chat.
fn lines(chats: &[Chat], mut roster: Roster) -> Roster {
    roster.waiting.clear();
    roster.ahead.clear();
    let waiting: Vec<(usize, &Chat)> =
        chats.iter().enumerate().filter(|(_, c)| c.is_live() && c.status == ChatStatus::Queued).collect();
    for (i, chat) in &waiting {
        let Some(queue) = &chat.queue else { continue };
        *roster.waiting.entry(queue.clone()).or_default() += 1;
        let ahead = waiting
            .iter()
            .filter(|(j, c)| c.queue.as_ref() == Some(queue) && (c.queued_at, *j) < (chat.queued_at, *i))
            .count();
        roster.ahead.insert((chat.id.clone(), queue.clone()), u32::try_from(ahead).unwrap());
    }
    roster
}

/// A timestamp as the transcript shows it: `2026-01-01 08:00 UTC`.
fn utc(t: Timestamp) -> String {
    chrono::DateTime::from_timestamp_millis(t.0).unwrap().format("%Y-%m-%d %H:%M UTC").to_string()
}

fn duration_ms(step: &str) -> i64 {
    let (amount, unit) = step.split_at(step.len() - 1);
    let amount: i64 = amount.parse().unwrap_or_else(|_| panic!("`clock +{step}`: expected e.g. `clock +10m`"));
    amount
        * match unit {
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => panic!("`clock +{step}`: use s, m or h"),
        }
}

fn render_effect(effect: &Effect) -> String {
    match effect {
        Effect::Send { text, author, purpose, not_before } => {
            let who = match author {
                Author::System => "system".to_owned(),
                Author::Agent(agent) => agent.to_string(),
                Author::Api => "api".to_owned(),
            };
            let held = not_before.map(|t| format!(" (not before {})", utc(t))).unwrap_or_default();
            match purpose {
                Purpose::Conversation => format!("{who}{held}> {text}"),
                Purpose::OptOutConfirmation => format!("{who} (opt-out confirmation){held}> {text}"),
            }
        }
        Effect::Event(event) => format!("event: {}", render_event(event)),
    }
}

fn render_event(event: &ChatEvent) -> String {
    match event {
        ChatEvent::Opened => "Opened".to_owned(),
        ChatEvent::MenuSent => "MenuSent".to_owned(),
        ChatEvent::Queued { queue } => format!("Queued {queue}"),
        ChatEvent::BackToMenu => "BackToMenu".to_owned(),
        ChatEvent::Offered { agent } => format!("Offered {agent}"),
        ChatEvent::StartedOutbound { agent: Some(agent) } => format!("StartedOutbound by {agent}"),
        ChatEvent::StartedOutbound { agent: None } => "StartedOutbound by api".to_owned(),
        ChatEvent::OfferTimedOut { agent } => format!("OfferTimedOut {agent}"),
        ChatEvent::InactivityWarning => "InactivityWarning".to_owned(),
        ChatEvent::LanguageChanged { language } => format!("LanguageChanged {language}"),
        ChatEvent::AfterHours { opens: Some(opens) } => format!("AfterHours until {}", utc(*opens)),
        ChatEvent::AfterHours { opens: None } => "AfterHours (closing)".to_owned(),
        ChatEvent::ReplyTimedOut { agent } => format!("ReplyTimedOut {agent}"),
        ChatEvent::Overflowed { from, to } => format!("Overflowed {from} -> {to}"),
        ChatEvent::TransferStarted { from, to, queue, note } => {
            let into = queue.as_ref().map(|q| format!(" in {q}")).unwrap_or_default();
            format!("TransferStarted {from} -> {to}{into} (note: {note})")
        }
        ChatEvent::TransferFailed { from, to, reason } => {
            let to = to.as_ref().map_or("-".to_owned(), ToString::to_string);
            format!("TransferFailed {from} -> {to}: {}", reason.as_str())
        }
        ChatEvent::TransferEnded { from, to } => format!("TransferEnded {from} -> {to}"),
        ChatEvent::OfferWithdrawn { agent } => format!("OfferWithdrawn {agent}"),
        ChatEvent::Connected { agent, auto_answered: false } => format!("Connected {agent}"),
        ChatEvent::Connected { agent, auto_answered: true } => format!("Connected {agent} (auto-answered)"),
        ChatEvent::ConsumerMessage => "ConsumerMessage".to_owned(),
        ChatEvent::AgentMessage { agent } => format!("AgentMessage {agent}"),
        ChatEvent::OptedOut => "OptedOut".to_owned(),
        ChatEvent::Ended { reason, by } => format!("Ended {} by {by}", reason.as_str()),
    }
}

/// `chat-1 queued (billing, agent -)`; a finished chat adds why and by whom: `, opted_out by consumer`.
fn render_status(chat: &Chat) -> String {
    let queue = chat.queue.as_ref().map_or("-".to_owned(), ToString::to_string);
    let agent = chat.agent.as_ref().map_or("-".to_owned(), ToString::to_string);
    let ended = match (chat.end_reason, &chat.ended_by) {
        (Some(reason), Some(by)) => format!(", {} by {by}", reason.as_str()),
        _ => String::new(),
    };
    let transfer = chat.transfer.as_ref().map(|t| format!(", transfer to {}", t.offered_to)).unwrap_or_default();
    format!("{} {} ({queue}, agent {agent}, {}{ended}{transfer})", chat.id, chat.status.as_str(), chat.language)
}
