//! The script harness: parses a conversation, plays it through the same [`Desk`] the engine drives
//! (so the rules around `decide`, such as an opt-out ending the phone's chats on every number, are the
//! engine's and not a copy), and renders what the desk reports.
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
//! setup billing-dismisses            billing dismisses quiet chats after 30 min, with a notice 5 min before
//!                                    (`billing-dismisses-no-click`: and agents may not dismiss by hand)
//! setup tree                         billing > invoices > europe, settings inherited (see the variant)
//! phone +14155550100> hi            the phone texts the first number of the setup
//! phone +14155550100 (es)> hola     ... and the language detector heard Spanish
//! phone +14155550100 to +15550002000> hi     ... or the named business number
//! phone +14155550100> " billing! "  surrounding double quotes are removed, to keep spaces visible
//! phone +14155550100> [photo]       a trailing `[photo]` is one media item (here with an empty body)
//! agent alice> accept               Input::Accept
//! agent alice> say Hello there      Input::Reply
//! agent alice> end                  Input::End by the agent (`dismiss`, `resume`: Input::Dismiss, Input::Resume)
//! agent bob> transfer carol Note     Input::Transfer to a colleague (`transfer-queue billing Note`: to a queue)
//! agent carol> take                  Input::AnswerTransfer, accepting (`decline` declines)
//! agent alice> away                 marks the agent away (`available`, `offline` likewise)
//! agent bob @chat-1> accept         names the chat the agent acts on
//! admin> end +14155550100           Input::End by an admin, on the phone's live chat (or `admin> end chat-1`)
//! admin> dismiss chat-1             Input::Dismiss by an admin (`admin> resume chat-1`: Input::Resume)
//! admin> number +15550002000 suspended   the number's registration state from now on (enabled by default)
//! admin> block +14155550100 Abusive     the phone goes on the blocklist, by "admin", for the reason given
//!                                    (a new setup, as the API's block makes), and its live chats end
//! admin> unblock +14155550100        the phone leaves the blocklist
//! agent alice> start +14155550100 Hi    Input::Outbound by the agent, on the support number
//! api> send +14155550100 Hi          Input::Outbound through the API (`send-now`: refuse rather than wait)
//! api> notify +14155550100 Hi        Input::Sessionless (`notify-now`: refuse rather than wait)
//! api> deflect +14155550100 tech 10m Hi   Input::Deflected: a caller who waited 10 minutes in the IVR
//!                                    moves to SMS in the tech queue, keeping their place (the call is
//!                                    named on the chat: `call-<phone>`)
//! ivr> text +14155550100 Hi         Input::CallText from the in_call number (`setup in-call-line`): the
//!                                    wait-time SMS (`agent-text +1415... alice Hi`: the call's agent);
//!                                    `ivr> connect chat-1 alice`, `ivr> end chat-1`: the call connected, ended
//! api> opt-out +14155550100          consent given outside SMS, for the support number (`opt-in` likewise)
//! api from +15550002000> send ...    a business-first input from another number (`agent alice from N> start ...`)
//! clock +10m                        advances the clock (s, m or h) and fires the timers that came due
//!                                    (`tick chat-N:` blocks), as the engine's timer worker does
//! clock +25h (timer worker down)    advances the clock and fires nothing: the next text finds the timer due
//! ```
//!
//! Without `@chat-N`, an agent acts on the live chat offered to or connected with them, or, if they
//! hold none, on the chat opened last. Each line is one engine batch: before it the harness counts the
//! places in line (as the engine loads them), after it the desk dispatches the queues where capacity
//! freed up, oldest chat first; a chat that this changes is shown in a `route chat-N:` block.
//!
//! The transcript echoes each line and indents what it caused: `system> …` and `alice> …` are
//! messages sent to the consumer, `event: …`, `consent: …`, `refused: …`, and the chat's `status: …`
//! (`status: no chat` when the input belongs to no chat). Decisions the desk makes besides the input's
//! own are shown in blocks: `tick chat-N:` (a timer due before the text), `opt-out chat-N:` (a chat an
//! opt-out elsewhere ended), `route chat-N:`; withdrawn offers follow the agent's line unindented.
//! A text that is a sessionless notification's reply shows `reply to: notification-N`. The variants of
//! number roles and direct numbers are listed at `number_roles_variant`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use expect_test::Expect;
use parley_core::chat::{
    Actor, Author, Chat, ChatEvent, ChatStatus, ConsentChange, Effect, Input, Purpose, Refusal, TransferTarget,
};
use parley_core::desk::{Decided, Desk, Notification, Outbound, Recorder, Rejection, Step, Text};
use parley_core::hours::BusinessHoursDraft;
use parley_core::ids::{AgentId, ChatId, QueueId};
use parley_core::number::NumberState;
use parley_core::phone::{BusinessNumber, E164};
use parley_core::routing::{Presence, Roster};
use parley_core::setup::{
    AgentDraft, Blocked, DismissalSettings, Language, Number, NumberDraft, QueueDraft, QueueTranslation,
    QuietHoursDraft, Settings, Setup, SetupDraft, TeamDraft,
};
use parley_core::texts::{TextKey, TextOverrides};
use parley_core::ticket::Ticket;
use parley_core::time::Timestamp;

/// The support number: a menu of two queues.
const SUPPORT: &str = "+15550001000";
/// A number whose only queue is billing: no menu.
const BILLING_LINE: &str = "+15550002000";
/// Alice's direct number, in the `direct-alice` variants.
const DIRECT: &str = "+15550003000";
/// The in_call number of the `in-call-line` variant.
const IN_CALL: &str = "+15550007000";

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
    let transcript = header + &world.map(|w| w.transcript.out).unwrap_or_default();
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
        ..AgentDraft::default()
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
        consumer_number: String::new(),
        replies: vec![],
        contact_fields: vec![],
        ivr_queues: vec![],
        apps: vec![],
        blocklist: vec![],
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
            "billing-dismisses" | "billing-dismisses-no-click" => {
                draft.queues[0].dismissal = Some(DismissalSettings {
                    enabled: true,
                    after_minutes: 30,
                    notice_minutes_before: Some(5),
                    by_agent: *variant == "billing-dismisses",
                });
            }
            "tree" => {
                // Three levels below the deployment: billing (top) > invoices > europe. Billing sets an
                // offer timeout of 30 s, its queued text, dismissal after 20 min with a notice 5 min
                // before, masking and no agent outbound; invoices sets weekday hours (09:00-17:00 New
                // York) and its dismissed_resume text; europe sets nothing. Team "money" (alice) serves
                // invoices and europe.
                let billing = &mut draft.queues[0];
                billing.timers.offer_timeout_seconds = Some(30);
                billing.messages.set(TextKey::Queued, "Billing here: you are in the {queue} line.");
                billing.dismissal = Some(DismissalSettings {
                    enabled: true,
                    after_minutes: 20,
                    notice_minutes_before: Some(5),
                    by_agent: true,
                });
                billing.consumer_number = "last_four".into();
                billing.agent_outbound = Some(false);
                let days = ["mon", "tue", "wed", "thu", "fri"].map(|d| (d.to_owned(), vec!["09:00-17:00".to_owned()]));
                let mut invoices =
                    QueueDraft { parent: Some("billing".into()), ..queue("invoices", "Invoices", &["1"]) };
                invoices.hours = Some(BusinessHoursDraft {
                    time_zone: "America/New_York".into(),
                    days: days.into_iter().collect(),
                    closed_dates: vec![],
                    after_hours: "keep_queued".into(),
                });
                invoices.messages.set(TextKey::DismissedResume, "Invoices again: back in the {queue} line.");
                draft.queues.push(invoices);
                draft.queues.push(QueueDraft { parent: Some("invoices".into()), ..queue("europe", "Europe", &["1"]) });
                draft.teams.push(TeamDraft {
                    id: "money".into(),
                    name: "Money".into(),
                    members: vec!["alice".into()],
                    queues: vec!["invoices".into(), "europe".into()],
                });
            }
            "commands-bye" => {
                draft.settings.commands.end = vec!["BYE".into()];
                draft.settings.commands.menu = vec!["START OVER".into()];
            }
            other if number_roles_variant(&mut draft, other) => {}
            other => {
                panic!(
                    "unknown setup variant `{other}` (known: auto-answer, notice-once, no-quiet-hours, spanish, languages, tech-waits-10m, billing-announces-transfers, billing-submenu, tech-longest-idle, tech-hours, tech-hours-close, tech-overflows-to-billing, reply-within-5m, commands-bye, sms-chat-off, tech-without-sms, billing-dismisses, billing-dismisses-no-click, tree)"
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

/// What the engine keeps between inputs: the desk the engine drives, and the transcript it reports to.
struct World {
    setup: Setup,
    desk: Desk,
    transcript: Transcript,
    now: Timestamp,
    /// The number business-first inputs go out from (the support number unless a line names another).
    from: BusinessNumber,
    /// How many sessionless notifications went out, to name them as the engine's message ids would.
    notifications: usize,
}

/// The desk's reports, rendered.
struct Transcript {
    out: String,
    /// Every chat, in the order opened; chat `n` is `order[n - 1]`.
    order: Vec<ChatId>,
    /// Where the lines of the input being played go.
    indent: String,
}

impl World {
    fn new(variants: &[&str]) -> World {
        let setup = setup(variants);
        let seats =
            setup.agents.iter().map(|a| Desk::seat(&setup, a, Presence::Available, true, 0, Timestamp(0))).collect();
        World {
            desk: Desk::new(Roster { seats, ..Roster::default() }),
            setup,
            transcript: Transcript { out: String::new(), order: Vec::new(), indent: "  ".to_owned() },
            // 2026-01-01T00:00:00Z, a Thursday; any instant after the seats' `last_assigned` works.
            now: Timestamp(1_767_225_600_000),
            from: BusinessNumber::parse(SUPPORT).unwrap(),
            notifications: 0,
        }
    }

    fn line(&mut self, line: &str) {
        writeln!(self.transcript.out, "{}", line.trim_end()).unwrap();
        self.transcript.indent = "  ".to_owned();
        self.count_places();
        if let Some(step) = line.strip_prefix("clock +") {
            let (step, rest) = step.trim().split_once(' ').unwrap_or((step.trim(), ""));
            self.now = Timestamp(self.now.0 + duration_ms(step));
            match rest.trim() {
                "" => self.tick_due(),
                "(timer worker down)" => {}
                other => panic!("`{line}`: unknown clock note `{other}` (known: `(timer worker down)`)"),
            }
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
                ["agent", agent, "from", number] => {
                    self.from = BusinessNumber::parse(number).unwrap();
                    self.agent(agent, None, body);
                    self.from = BusinessNumber::parse(SUPPORT).unwrap();
                }
                ["api", "from", number] => {
                    self.from = BusinessNumber::parse(number).unwrap();
                    self.api(body);
                    self.from = BusinessNumber::parse(SUPPORT).unwrap();
                }
                ["agent", agent, target] if target.starts_with('@') => self.agent(agent, Some(&target[1..]), body),
                ["admin"] => self.admin(body),
                ["api"] => self.api(body),
                ["ivr"] => self.ivr(body),
                _ => panic!("`{line}`: unknown speaker `{head}`"),
            }
        }
        self.dispatch();
    }

    /// As the engine loads them for a batch: how many chats are ahead of each waiting chat in its queue
    /// (the desk keeps the waiting counts itself).
    fn count_places(&mut self) {
        let waiting: Vec<(usize, &Chat)> = (self.transcript.order.iter().enumerate())
            .filter_map(|(i, id)| self.desk.chat(id).map(|c| (i, c)))
            .filter(|(_, c)| c.is_live() && c.status == ChatStatus::Queued)
            .collect();
        let mut ahead = BTreeMap::new();
        for (i, chat) in &waiting {
            let Some(queue) = &chat.queue else { continue };
            let n = waiting
                .iter()
                .filter(|(j, c)| c.queue.as_ref() == Some(queue) && (c.queued_at, *j) < (chat.queued_at, *i))
                .count();
            ahead.insert((chat.id.clone(), queue.clone()), u32::try_from(n).unwrap());
        }
        self.desk.set_ahead(ahead);
    }

    /// The id the next chat opened gets.
    fn next_chat_id(&self) -> ChatId {
        ChatId::new(format!("chat-{}", self.transcript.order.len() + 1))
    }

    fn inbound(&mut self, phone: &str, number: &str, text: &str, detected: Option<&str>) {
        let phone = E164::parse(phone).unwrap();
        let number = BusinessNumber::parse(number).unwrap();
        let (text, media) = match text.strip_suffix("[photo]") {
            Some(rest) => (rest.trim_end(), 1),
            None => (text, 0),
        };
        let text = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
        let new_chat_id = self.next_chat_id();
        let sms = Text { from: &phone, to: &number, body: text, media };
        let detect = |_: &str| detected.map(str::to_owned);
        let result = self.desk.inbound(&self.setup, sms, detect, &new_chat_id, self.now, &mut self.transcript);
        result.expect("a business number of the setup");
    }

    fn agent(&mut self, agent: &str, target: Option<&str>, command: &str) {
        let agent = AgentId::parse(agent).unwrap();
        let (verb, rest) = command.split_once(' ').unwrap_or((command, ""));
        let input = match verb {
            "accept" => Input::Accept { agent: agent.clone() },
            "say" => Input::Reply { agent: agent.clone(), text: rest.to_owned() },
            "end" => Input::End { by: Actor::Agent(agent.clone()) },
            "dismiss" => Input::Dismiss { by: Actor::Agent(agent.clone()) },
            "resume" => Input::Resume { by: Actor::Agent(agent.clone()) },
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
                let input = Input::Outbound {
                    text: text.to_owned(),
                    agent: Some(agent.clone()),
                    queue: None,
                    no_delay: false,
                    ticket: Ticket::default(),
                };
                return self.outbound(phone, &input);
            }
            "available" | "away" | "offline" => {
                let presence = Presence::parse(verb).unwrap();
                let result = self.desk.status(&self.setup, &agent, presence, self.now, &mut self.transcript);
                return result.expect("an agent of the setup");
            }
            // The last console stream closed (or came back): what the engine finds out from the store.
            "disconnected" | "connected" => {
                let connected = verb == "connected";
                return self.desk.connectivity(&self.setup, &agent, connected, self.now, &mut self.transcript);
            }
            _ => panic!(
                "unknown agent command `{command}` (accept, say, end, transfer, transfer-queue, take, decline, available, away, offline, disconnected, connected)"
            ),
        };
        let id = match target {
            Some(id) => self.chat_id(id),
            None => {
                let held: Vec<&ChatId> = (self.transcript.order.iter())
                    .filter(|id| {
                        let c = self.desk.chat(id).unwrap();
                        (c.agent.as_ref() == Some(&agent)
                            && matches!(c.status, ChatStatus::Offered | ChatStatus::Connected))
                            || c.transfer.as_ref().is_some_and(|t| t.offered_to == agent)
                    })
                    .collect();
                match held.as_slice() {
                    [] => self.transcript.order.last().expect("no chat to act on").clone(),
                    [only] => (*only).clone(),
                    _ => panic!("{agent} holds several chats: name one with `agent {agent} @chat-N>`"),
                }
            }
        };
        self.business(&id, &input);
    }

    fn api(&mut self, command: &str) {
        let mut words = command.splitn(3, ' ');
        let (verb, phone, text) = (words.next().unwrap(), words.next().unwrap_or(""), words.next().unwrap_or(""));
        let text = text.to_owned();
        let input = match verb {
            "send" => Input::Outbound { text, agent: None, queue: None, no_delay: false, ticket: Ticket::default() },
            "send-now" => Input::Outbound { text, agent: None, queue: None, no_delay: true, ticket: Ticket::default() },
            "notify" => Input::Sessionless { text, no_delay: false },
            "notify-now" => Input::Sessionless { text, no_delay: true },
            "deflect" => {
                let mut rest = text.splitn(3, ' ');
                let (queue, waited, text) = (rest.next().unwrap(), rest.next().unwrap(), rest.next().unwrap_or(""));
                Input::Deflected {
                    text: text.to_owned(),
                    queue: QueueId::parse(queue).unwrap(),
                    since: Timestamp(self.now.0 - duration_ms(waited)),
                    // The engine names the call on the chat; here each phone has one call.
                    ticket: Ticket { id: None, context: vec![("call_id".to_owned(), format!("call-{phone}"))] },
                }
            }
            "opt-in" | "opt-out" => {
                let phone = E164::parse(phone).unwrap();
                let number = BusinessNumber::parse(SUPPORT).unwrap();
                let opted_in = verb == "opt-in";
                self.desk.consent(&self.setup, &phone, &number, opted_in, self.now, &mut self.transcript);
                return;
            }
            _ => {
                panic!("unknown api command `{command}` (send, send-now, notify, notify-now, deflect, opt-in, opt-out)")
            }
        };
        self.outbound(phone, &input);
    }

    /// A call's SMS thread on the in_call number: `text PHONE TEXT` (the platform's wait-time SMS),
    /// `agent-text PHONE AGENT TEXT`, `connect chat-N AGENT`, `end chat-N` (the call ended).
    fn ivr(&mut self, command: &str) {
        let mut words = command.splitn(3, ' ');
        let (verb, target, rest) = (words.next().unwrap(), words.next().unwrap(), words.next().unwrap_or(""));
        let ticket = Ticket { id: None, context: vec![("call_id".to_owned(), format!("call-{target}"))] };
        let input = match verb {
            "text" => Input::CallText { text: rest.to_owned(), agent: None, ticket },
            "agent-text" => {
                let (agent, text) = rest.split_once(' ').unwrap();
                Input::CallText { text: text.to_owned(), agent: Some(AgentId::parse(agent).unwrap()), ticket }
            }
            "connect" => {
                return self
                    .business(&self.chat_id(target), &Input::CallConnected { agent: AgentId::parse(rest).unwrap() });
            }
            "end" => return self.business(&self.chat_id(target), &Input::CallEnded),
            _ => panic!("unknown ivr command `{command}` (text, agent-text, connect, end)"),
        };
        self.from = BusinessNumber::parse(IN_CALL).unwrap();
        self.outbound(target, &input);
        self.from = BusinessNumber::parse(SUPPORT).unwrap();
    }

    /// Runs a business-first input to `phone` on the support number (or the number the line names).
    fn outbound(&mut self, phone: &str, input: &Input) {
        let phone = E164::parse(phone).unwrap();
        let number = self.from.clone();
        let new_chat_id = self.next_chat_id();
        let request = Outbound { number: &number, consumer: &phone, input };
        match self.desk.outbound(&self.setup, request, &new_chat_id, self.now, &mut self.transcript) {
            Ok(opened) => {
                // A sessionless message belongs to no chat, whatever the phone has open.
                if matches!(input, Input::Sessionless { .. }) {
                    assert!(opened.is_none(), "a sessionless message joins no chat");
                    assert!(self.desk.chat(&new_chat_id).is_none(), "a sessionless message opens no chat");
                    // As the engine does: the desk learns the id the notification's message got.
                    self.notifications += 1;
                    let notification = Notification {
                        message_id: Some(format!("notification-{}", self.notifications)),
                        sent_at: self.now,
                    };
                    self.desk.set_notification(phone.clone(), number.clone(), notification);
                }
            }
            Err(Rejection::Refused(refusal)) => self.transcript.refused(&refusal, None),
            Err(Rejection::Blocked(blocked)) => {
                writeln!(self.transcript.out, "  refused: Blocked ({})", blocked.reason).unwrap();
            }
            Err(other) => panic!("the support number sends: {other:?}"),
        }
    }

    fn admin(&mut self, command: &str) {
        let (verb, rest) = command.split_once(' ').unwrap_or_else(|| panic!("unknown admin command `{command}`"));
        match verb {
            "end" => {
                let target = rest.trim();
                let id = if target.starts_with("chat-") {
                    self.chat_id(target)
                } else {
                    let phone = E164::parse(target).unwrap();
                    let order = &self.transcript.order;
                    let of_phone = |live: bool| {
                        order.iter().rev().find(|id| {
                            let c = self.desk.chat(id).unwrap();
                            c.consumer == phone && (c.is_live() || !live)
                        })
                    };
                    of_phone(true).or_else(|| of_phone(false)).expect("a chat of that phone").clone()
                };
                self.business(&id, &Input::End { by: Actor::Admin });
            }
            "dismiss" | "resume" => {
                let id = self.chat_id(rest.trim());
                let input = if verb == "dismiss" {
                    Input::Dismiss { by: Actor::Admin }
                } else {
                    Input::Resume { by: Actor::Admin }
                };
                self.business(&id, &input);
            }
            "number" => {
                let (number, state) = rest.trim().split_once(' ').expect("`admin> number +1555... suspended`");
                let number = BusinessNumber::parse(number).unwrap();
                let state = NumberState::parse(state.trim()).expect("a number state (enabled, suspended, ...)");
                self.desk.set_number_state(number, state);
            }
            "block" => {
                let (phone, reason) = rest.trim().split_once(' ').expect("`admin> block +1415... reason`");
                let entry = Blocked {
                    number: E164::parse(phone).unwrap(),
                    reason: reason.trim().to_owned(),
                    added_by: "admin".to_owned(),
                    added_at: Some(self.now),
                };
                self.setup = self.setup.with_block(entry.clone()).expect("a phone not blocked yet");
                self.desk.block(&self.setup, &entry, self.now, &mut self.transcript);
            }
            "unblock" => {
                let phone = E164::parse(rest.trim()).unwrap();
                self.setup = self.setup.without_block(&phone).expect("a blocked phone").0;
            }
            _ => panic!("unknown admin command `{command}` (end, dismiss, resume, number, block, unblock)"),
        }
    }

    fn chat_id(&self, id: &str) -> ChatId {
        let id = ChatId::new(id);
        assert!(self.transcript.order.contains(&id), "no chat `{id}`");
        id
    }

    /// Runs a business-side input (or the timer worker's tick) on the chat `id`.
    fn business(&mut self, id: &ChatId, input: &Input) {
        match self.desk.chat_action(&self.setup, id, input, self.now, &mut self.transcript) {
            Ok(_) => {}
            Err(Rejection::Refused(refusal)) => self.transcript.refused(&refusal, Some(id)),
            Err(other) => panic!("{id}: {other:?}"),
        }
    }

    /// As the timer worker does: every live chat whose next deadline has come gets `Input::Tick`,
    /// until none is due (a warning and the close after it may both be due after a long jump).
    fn tick_due(&mut self) {
        loop {
            let due: Vec<ChatId> = (self.transcript.order.iter())
                .filter(|id| {
                    let chat = self.desk.chat(id).unwrap();
                    let timers = parley_core::timers::for_chat(&self.setup, chat);
                    parley_core::timers::next_due(chat, &timers).is_some_and(|t| t <= self.now)
                })
                .cloned()
                .collect();
            if due.is_empty() {
                return;
            }
            for id in due {
                writeln!(self.transcript.out, "  tick {id}:").unwrap();
                self.transcript.indent = "    ".to_owned();
                self.business(&id, &Input::Tick);
            }
            self.dispatch();
        }
    }

    /// As the engine does at the end of every batch: the queued chats of queues where capacity freed
    /// up are offered, oldest first.
    fn dispatch(&mut self) {
        self.transcript.indent = "  ".to_owned();
        self.desk.dispatch(&self.setup, self.now, &mut self.transcript);
    }
}

impl Recorder for Transcript {
    fn decided(&mut self, d: Decided<'_>) {
        let header = match d.step {
            // The agent going away is the input; the withdrawn offers are shown as its own lines.
            Step::Input | Step::Withdrawn => None,
            // A queued chat routing leaves unchanged is not shown.
            Step::Routed if d.effects.is_empty() && d.consent.is_none() && d.chat.is_some() && d.chat == d.before => {
                return;
            }
            Step::Routed => Some("route"),
            Step::DueFirst => Some("tick"),
            Step::OptedOutElsewhere => Some("opt-out"),
            Step::Blocked => Some("block"),
        };
        let outer = self.indent.clone();
        if let (Some(header), Some(before)) = (header, d.before) {
            writeln!(self.out, "{outer}{header} {}:", before.id).unwrap();
            self.indent = format!("{outer}  ");
        }
        let indent = self.indent.clone();
        if let Some(notification) = d.reply_to {
            writeln!(self.out, "{indent}reply to: {notification}").unwrap();
        }
        for effect in &d.effects {
            writeln!(self.out, "{indent}{}", render_effect(effect)).unwrap();
        }
        if let Some(change) = d.consent {
            writeln!(self.out, "{indent}consent: {}", render_consent(change)).unwrap();
        }
        match d.chat {
            None => writeln!(self.out, "{indent}status: no chat").unwrap(),
            Some(chat) => {
                writeln!(self.out, "{indent}status: {}", render_status(chat)).unwrap();
                if !self.order.contains(&chat.id) {
                    assert_eq!(
                        chat.id.as_str(),
                        format!("chat-{}", self.order.len() + 1),
                        "a new chat takes the id minted for it"
                    );
                    self.order.push(chat.id.clone());
                }
            }
        }
        self.indent = outer;
    }

    fn consent(&mut self, _phone: &E164, _number: &BusinessNumber, change: &ConsentChange, _now: Timestamp) {
        writeln!(self.out, "{}consent: {}", self.indent, render_consent(change)).unwrap();
    }

    fn refused_text(&mut self, number: &Number, _consumer: &E164, state: NumberState, _now: Timestamp) {
        writeln!(
            self.out,
            "{}not enabled: {} is {}; the text opens no chat",
            self.indent,
            number.number,
            state.as_str()
        )
        .unwrap();
    }

    fn blocked_text(&mut self, number: &Number, blocked: &Blocked, _now: Timestamp) {
        writeln!(
            self.out,
            "{}blocked: {} is on the blocklist ({}); the text to {} opens no chat",
            self.indent, blocked.number, blocked.reason, number.number
        )
        .unwrap();
    }

    fn presence(&mut self, _agent: &AgentId, _presence: Presence, _connected: bool, _now: Timestamp) {}
}

impl Transcript {
    /// A business-side input the chat's state does not allow (on chat `on`, when it names one).
    fn refused(&mut self, refusal: &Refusal, on: Option<&ChatId>) {
        let on = on.map(|id| format!(" ({id})")).unwrap_or_default();
        let refusal = match refusal {
            Refusal::QuietHours { until, zones } => format!("QuietHours until {} ({zones})", utc(*until)),
            other => format!("{other:?}"),
        };
        writeln!(self.out, "{}refused: {refusal}{on}", self.indent).unwrap();
    }
}

/// `OptedOut STOP`; a change given outside SMS has no keyword: `OptedOut (outside SMS)`.
fn render_consent(change: &ConsentChange) -> String {
    let keyword = |k: &str| if k.is_empty() { "(outside SMS)".to_owned() } else { k.to_owned() };
    match change {
        ConsentChange::NoticeSent => "NoticeSent".to_owned(),
        ConsentChange::OptedOut { keyword: k } => format!("OptedOut {}", keyword(k)),
        ConsentChange::OptedIn { keyword: k } => format!("OptedIn {}", keyword(k)),
    }
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
                Purpose::Internal => format!("{who} (internal){held}> {text}"),
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
        ChatEvent::Dismissed { by, reason } => format!("Dismissed by {by} ({})", reason.as_str()),
        ChatEvent::Resumed { by } => format!("Resumed by {by}"),
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

/// The variants of `numbers_roles.rs`: number roles, direct numbers and sessionless replies. False for
/// a variant that is none of these.
///
/// ```text
/// setup billing-line-outbound-only   the billing line only sends (role = "outbound")
/// setup billing-line-incoming-only   the billing line only takes chats (role = "incoming")
/// setup support-auto-reply           replies within 24 h of the support number's notifications get the
///                                    unmonitored message (sessionless_reply = "auto_reply")
/// setup direct-alice                 +15550003000 is alice's direct number (`direct-alice-fallback`: with
///                                    fallback_queue = "tech"); alice greets "Hi, Alice here ({agent_first_name})."
/// setup alice-hours                  alice answers weekdays 09:00-17:00 New York (closed at the start)
/// setup in-call-line                 +15550007000 carries calls' SMS threads (role = "in_call")
/// ```
fn number_roles_variant(draft: &mut SetupDraft, variant: &str) -> bool {
    match variant {
        "in-call-line" => draft.numbers.push(NumberDraft {
            number: IN_CALL.into(),
            label: "Calls".into(),
            carrier: "sim".into(),
            role: "in_call".into(),
            ..NumberDraft::default()
        }),
        "billing-line-outbound-only" => draft.numbers[1].role = "outbound".into(),
        "billing-line-incoming-only" => draft.numbers[1].role = "incoming".into(),
        "support-auto-reply" => draft.numbers[0].sessionless_reply = "auto_reply".into(),
        "direct-alice" | "direct-alice-fallback" => {
            draft.numbers.push(NumberDraft {
                number: DIRECT.into(),
                label: "Alice direct".into(),
                carrier: "sim".into(),
                agent: Some("alice".into()),
                fallback_queue: (variant == "direct-alice-fallback").then(|| "tech".into()),
                ..NumberDraft::default()
            });
            draft.agents[0].greeting = Some("Hi, Alice here ({agent_first_name}).".into());
        }
        "alice-hours" => {
            let days = ["mon", "tue", "wed", "thu", "fri"].map(|d| (d.to_owned(), vec!["09:00-17:00".to_owned()]));
            draft.agents[0].hours = Some(BusinessHoursDraft {
                time_zone: "America/New_York".into(),
                days: days.into_iter().collect(),
                closed_dates: vec![],
                after_hours: "keep_queued".into(),
            });
        }
        _ => return false,
    }
    true
}
