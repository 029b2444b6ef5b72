//! The setup document as exchanged: JSON over `PUT/GET /api/v1/setup`, TOML with
//! `parley setup apply/export`. Its own types, so renaming a core field never changes the format.

use parley_core::setup::{AgentDraft, CampaignDraft, NumberDraft, QueueDraft, Settings, Setup, SetupDraft, TeamDraft};
use parley_core::texts::Texts;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Numbers, queues (the menu), agents, teams and settings. Applying it replaces the whole setup.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupDocument {
    #[serde(default)]
    pub numbers: Vec<NumberDoc>,
    #[serde(default)]
    pub queues: Vec<QueueDoc>,
    #[serde(default)]
    pub agents: Vec<AgentDoc>,
    #[serde(default)]
    pub teams: Vec<TeamDoc>,
    /// Campaigns numbers send under, each with a throughput limit all its numbers share.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub campaigns: Vec<CampaignDoc>,
    #[serde(default)]
    pub settings: SettingsDoc,
}

/// A campaign (a 10DLC registration, say): its numbers share one throughput limit.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignDoc {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// The most segments per second all its numbers may send together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments_per_second: Option<f64>,
}

/// A business number; its queues form its menu, in order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NumberDoc {
    /// E.164, e.g. "+15550001000".
    pub number: String,
    #[serde(default)]
    pub label: String,
    /// The carrier account ("sim" for the simulator).
    pub carrier: String,
    #[serde(default)]
    pub queues: Vec<String>,
    /// The most segments per second this number may send; the carrier account's own limit applies too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments_per_second: Option<f64>,
    /// The campaign the number sends under (its limit applies too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    /// "long_code" (the default; enabled at once), "us_10dlc", "toll_free" or "short_code" (these start
    /// "requested" and send nothing until an admin enables them: PUT /api/v1/numbers/{e164}/state).
    #[serde(default, rename = "type")]
    pub kind: String,
    /// Words this number adds to the standard opt-out keywords (STOP, ... always work), e.g. ["ALTO"].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opt_out_keywords: Vec<String>,
    /// Words this number adds to the standard opt-in keywords (START, YES, UNSTOP).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opt_in_keywords: Vec<String>,
    /// Words this number adds to the standard help keywords (HELP, INFO).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub help_keywords: Vec<String>,
}

/// A queue and the menu keywords that pick it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueDoc {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Connect chats to the picked agent without waiting for them to accept.
    #[serde(default)]
    pub auto_answer: bool,
    /// What agents of this queue see of the consumer's number: "full" (the default), "last_four"
    /// ("+*******0100") or "hidden". Admins always see the whole number.
    #[serde(default)]
    pub consumer_number: String,
}

/// An agent, the queues they serve and how many chats they take at once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentDoc {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub queues: Vec<String>,
    #[serde(default = "default_capacity")]
    pub capacity: u32,
}

fn default_capacity() -> u32 {
    3
}

/// A team of agents.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamDoc {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub members: Vec<String>,
}

/// Deployment settings; every key is optional and falls back to the default.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// Send the opt-in notice with every new chat (default) or only on a phone's first contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_in_notice_every_chat: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<MessagesDoc>,
}

/// System message texts; placeholders `{brand}`, `{queue}`, `{menu}`, `{answer}`, `{agent}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessagesDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_in_notice: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu_retry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opted_out: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opted_in: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_ended: Option<String>,
}

impl SetupDocument {
    /// The draft the core validates.
    pub fn to_draft(&self) -> SetupDraft {
        let defaults = Settings::default();
        let m = self.settings.messages.clone().unwrap_or_default();
        let t = defaults.texts;
        SetupDraft {
            numbers: self
                .numbers
                .iter()
                .map(|n| NumberDraft {
                    number: n.number.clone(),
                    label: n.label.clone(),
                    carrier: n.carrier.clone(),
                    queues: n.queues.clone(),
                    segments_per_second: n.segments_per_second,
                    campaign: n.campaign.clone(),
                    kind: n.kind.clone(),
                    opt_out_keywords: n.opt_out_keywords.clone(),
                    opt_in_keywords: n.opt_in_keywords.clone(),
                    help_keywords: n.help_keywords.clone(),
                })
                .collect(),
            campaigns: self
                .campaigns
                .iter()
                .map(|c| CampaignDraft {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    segments_per_second: c.segments_per_second,
                })
                .collect(),
            queues: self
                .queues
                .iter()
                .map(|q| QueueDraft {
                    id: q.id.clone(),
                    name: q.name.clone(),
                    keywords: q.keywords.clone(),
                    auto_answer: q.auto_answer,
                    consumer_number: q.consumer_number.clone(),
                })
                .collect(),
            agents: self
                .agents
                .iter()
                .map(|a| AgentDraft {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    queues: a.queues.clone(),
                    capacity: a.capacity,
                })
                .collect(),
            teams: self
                .teams
                .iter()
                .map(|t| TeamDraft { id: t.id.clone(), name: t.name.clone(), members: t.members.clone() })
                .collect(),
            settings: Settings {
                brand: self.settings.brand.clone().unwrap_or(defaults.brand),
                opt_in_notice_every_chat: self
                    .settings
                    .opt_in_notice_every_chat
                    .unwrap_or(defaults.opt_in_notice_every_chat),
                texts: Texts {
                    opt_in_notice: m.opt_in_notice.unwrap_or(t.opt_in_notice),
                    menu: m.menu.unwrap_or(t.menu),
                    menu_retry: m.menu_retry.unwrap_or(t.menu_retry),
                    queued: m.queued.unwrap_or(t.queued),
                    help: m.help.unwrap_or(t.help),
                    opted_out: m.opted_out.unwrap_or(t.opted_out),
                    opted_in: m.opted_in.unwrap_or(t.opted_in),
                    connected: m.connected.unwrap_or(t.connected),
                    chat_ended: m.chat_ended.unwrap_or(t.chat_ended),
                },
            },
        }
    }

    /// The document of a validated setup, every setting spelled out.
    pub fn from_setup(setup: &Setup) -> SetupDocument {
        let d = setup.to_draft();
        let t = &d.settings.texts;
        SetupDocument {
            numbers: d
                .numbers
                .into_iter()
                .map(|n| NumberDoc {
                    number: n.number,
                    label: n.label,
                    carrier: n.carrier,
                    queues: n.queues,
                    segments_per_second: n.segments_per_second,
                    campaign: n.campaign,
                    kind: n.kind,
                    opt_out_keywords: n.opt_out_keywords,
                    opt_in_keywords: n.opt_in_keywords,
                    help_keywords: n.help_keywords,
                })
                .collect(),
            campaigns: d
                .campaigns
                .into_iter()
                .map(|c| CampaignDoc { id: c.id, name: c.name, segments_per_second: c.segments_per_second })
                .collect(),
            queues: d
                .queues
                .into_iter()
                .map(|q| QueueDoc {
                    id: q.id,
                    name: q.name,
                    keywords: q.keywords,
                    auto_answer: q.auto_answer,
                    consumer_number: q.consumer_number,
                })
                .collect(),
            agents: d
                .agents
                .into_iter()
                .map(|a| AgentDoc { id: a.id, name: a.name, queues: a.queues, capacity: a.capacity })
                .collect(),
            teams: d.teams.into_iter().map(|t| TeamDoc { id: t.id, name: t.name, members: t.members }).collect(),
            settings: SettingsDoc {
                brand: Some(d.settings.brand.clone()),
                opt_in_notice_every_chat: Some(d.settings.opt_in_notice_every_chat),
                messages: Some(MessagesDoc {
                    opt_in_notice: Some(t.opt_in_notice.clone()),
                    menu: Some(t.menu.clone()),
                    menu_retry: Some(t.menu_retry.clone()),
                    queued: Some(t.queued.clone()),
                    help: Some(t.help.clone()),
                    opted_out: Some(t.opted_out.clone()),
                    opted_in: Some(t.opted_in.clone()),
                    connected: Some(t.connected.clone()),
                    chat_ended: Some(t.chat_ended.clone()),
                }),
            },
        }
    }

    /// Parses the TOML form.
    pub fn from_toml(text: &str) -> anyhow::Result<SetupDocument> {
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.to_string().trim_end()))
    }

    /// The TOML form.
    pub fn to_toml(&self) -> anyhow::Result<String> {
        Ok(toml::to_string_pretty(self)?)
    }
}
