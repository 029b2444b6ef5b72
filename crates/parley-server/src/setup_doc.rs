//! The setup document as exchanged: JSON over `PUT/GET /api/v1/setup`, TOML with
//! `parley setup apply/export`. Its own types, so renaming a core field never changes the format.

use std::collections::BTreeMap;

use parley_core::commands::Commands;
use parley_core::hours::BusinessHoursDraft;
use parley_core::registration::{Address, Brand, CampaignRegistration, Contact, TollFreeVerification};
use parley_core::replies::ReplyDraft;
use parley_core::setup::apps::AppDraft;
use parley_core::setup::ivr::{DeflectionDraft, IvrQueueDraft, WaitSmsDraft};
use parley_core::setup::{
    AgentDraft, BlockDraft, CampaignDraft, ContactFieldDraft, DismissalSettings, Language, LanguageDetection,
    NumberDraft, PresenceSettings, QueueDraft, QueueTranslation, QuietHoursDraft, Settings, Setup, SetupDraft,
    TeamDraft,
};
use parley_core::texts::{TextKey, TextOverrides};
use parley_core::timers::TimerSettings;
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
    /// Businesses registered with The Campaign Registry (10DLC), named by campaigns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub brands: Vec<BrandDoc>,
    /// Predefined replies agents send into their chats.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replies: Vec<ReplyDoc>,
    #[serde(default)]
    pub settings: SettingsDoc,
    /// Consumer phones the business does not serve (also managed with `/api/v1/blocklist`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocklist: Vec<BlockDoc>,
    /// The contacts' custom fields (docs/crm.md "Custom fields").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contact_fields: Vec<ContactFieldDoc>,
    /// The IVR's voice queues and their SMS services (docs/ivr.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ivr_queues: Vec<IvrQueueDoc>,
    /// The business's mobile apps, whose launch links `app_launch` replies send (docs/ivr.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<AppDoc>,
}

/// A mobile app of the business.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppDoc {
    /// The id replies name it by (`app` of an `app_launch` reply): a-z, 0-9, `-`, `_`.
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// The https:// download links: the App Store page, and the Google Play page.
    pub ios: String,
    pub android: String,
    /// The launch (deep) link, with `{token}` where the signed token goes.
    pub launch: String,
    /// How long a launch link works, in minutes (default 60, at most 10080).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_minutes: Option<u32>,
}

impl AppDoc {
    fn to_core(&self) -> AppDraft {
        AppDraft {
            id: self.id.clone(),
            name: self.name.clone(),
            ios: self.ios.clone(),
            android: self.android.clone(),
            launch: self.launch.clone(),
            token_minutes: self.token_minutes,
        }
    }

    fn from_core(d: AppDraft) -> AppDoc {
        AppDoc {
            id: d.id,
            name: d.name,
            ios: d.ios,
            android: d.android,
            launch: d.launch,
            token_minutes: d.token_minutes,
        }
    }
}

/// A voice queue of the business's IVR.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IvrQueueDoc {
    /// The id the IVR names it by (`ivr_queue` of a call).
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// The voice numbers (E.164) whose calls enter it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numbers: Vec<String>,
    /// Who answers its calls: agents, and the members of teams.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<String>,
    /// Where the Twilio Voice front sends a call it does not deflect: a phone number, a SIP URI or a
    /// TwiML URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_destination: Option<String>,
    /// The number (role `in_call`) of its calls' SMS threads: the wait-time SMS and SMS during a call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_call_number: Option<String>,
    /// Pre-session deflection: a caller facing a wait over the threshold is offered to continue by SMS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deflection: Option<DeflectionDoc>,
    /// The wait-time SMS for callers waiting while the queue is over capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_sms: Option<WaitSmsDoc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeflectionDoc {
    /// Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Offered only when the estimated wait is over this (0 to 86400).
    #[serde(default)]
    pub ewt_threshold_seconds: u32,
    /// What the IVR says when it offers.
    pub prompt: String,
    /// The SMS chat starts from this number of the setup, in this queue, with this first message.
    pub sms_number: String,
    pub sms_queue: String,
    pub first_message: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitSmsDoc {
    /// Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// What the IVR asks before sending, and says once sent.
    pub consent_prompt: String,
    pub sent_prompt: String,
    /// The predefined reply sent (`[[replies]]`).
    pub reply_id: String,
}

fn yes() -> bool {
    true
}

impl IvrQueueDoc {
    fn to_core(&self) -> IvrQueueDraft {
        IvrQueueDraft {
            id: self.id.clone(),
            name: self.name.clone(),
            numbers: self.numbers.clone(),
            agents: self.agents.clone(),
            teams: self.teams.clone(),
            voice_destination: self.voice_destination.clone(),
            in_call_number: self.in_call_number.clone(),
            deflection: self.deflection.as_ref().map(|d| DeflectionDraft {
                enabled: d.enabled,
                ewt_threshold_seconds: d.ewt_threshold_seconds,
                prompt: d.prompt.clone(),
                sms_number: d.sms_number.clone(),
                sms_queue: d.sms_queue.clone(),
                first_message: d.first_message.clone(),
            }),
            wait_sms: self.wait_sms.as_ref().map(|w| WaitSmsDraft {
                enabled: w.enabled,
                consent_prompt: w.consent_prompt.clone(),
                sent_prompt: w.sent_prompt.clone(),
                reply_id: w.reply_id.clone(),
            }),
        }
    }

    fn from_core(d: IvrQueueDraft) -> IvrQueueDoc {
        IvrQueueDoc {
            id: d.id,
            name: d.name,
            numbers: d.numbers,
            agents: d.agents,
            teams: d.teams,
            voice_destination: d.voice_destination,
            in_call_number: d.in_call_number,
            deflection: d.deflection.map(|x| DeflectionDoc {
                enabled: x.enabled,
                ewt_threshold_seconds: x.ewt_threshold_seconds,
                prompt: x.prompt,
                sms_number: x.sms_number,
                sms_queue: x.sms_queue,
                first_message: x.first_message,
            }),
            wait_sms: d.wait_sms.map(|w| WaitSmsDoc {
                enabled: w.enabled,
                consent_prompt: w.consent_prompt,
                sent_prompt: w.sent_prompt,
                reply_id: w.reply_id,
            }),
        }
    }
}

/// A custom field of the built-in CRM's contacts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactFieldDoc {
    /// The key in a contact's `fields` and its CSV column: a-z, 0-9 and `_`, not a built-in column.
    pub key: String,
    /// What people see.
    pub label: String,
    /// `text`, `number`, `date` (YYYY-MM-DD) or `choice`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The values of a choice field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

/// A blocked consumer phone: its texts are stored with the reason but open no chat and get no answer
/// (STOP still opts out); the business sends it nothing else.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockDoc {
    /// The phone, E.164.
    pub number: String,
    /// Why it is blocked (1–500 characters), shown to admins beside its texts.
    #[serde(default)]
    pub reason: String,
    /// Who blocked it; the API writes the calling admin's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub added_by: String,
    /// When it was blocked, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_at: Option<String>,
}

impl BlockDoc {
    fn to_core(&self) -> BlockDraft {
        BlockDraft {
            number: self.number.clone(),
            reason: self.reason.clone(),
            added_by: self.added_by.clone(),
            added_at: self.added_at.clone(),
        }
    }

    fn from_core(b: BlockDraft) -> BlockDoc {
        BlockDoc { number: b.number, reason: b.reason, added_by: b.added_by, added_at: b.added_at }
    }
}

/// A campaign (a 10DLC registration, say): its numbers share its throughput limits. Every registration
/// field is optional while the registration is drafted; a us_10dlc number goes into review only when
/// its campaign and brand are complete.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignDoc {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// The most segments per second all its numbers may send together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments_per_second: Option<f64>,
    /// The most segments all its numbers may send in one clock minute (a fixed window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments_per_minute: Option<i64>,
    /// The most segments all its numbers may send in one UTC day (a fixed window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments_per_day: Option<i64>,
    /// The id of its brand (`brands`); required once any registration field is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// TCR use case: 2fa, account_notification, customer_care, delivery_notification, fraud_alert,
    /// higher_education, low_volume, marketing, mixed, polling_voting, public_service_announcement,
    /// security_alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_case: Option<String>,
    /// What the campaign sends and why (40 to 4,096 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// 1 to 5 messages as consumers will see them, 20 to 1,024 characters each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sample_messages: Vec<String>,
    /// How consumers consent (40 to 2,048 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_in_flow: Option<String>,
    /// Keywords declared to the registry (one word each); not the words Parley answers to, which are
    /// the standard ones plus the number's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opt_in_keywords: Vec<String>,
    /// 20 to 255 characters, like the other two messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_in_message: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opt_out_keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_out_message: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub help_keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_message: Option<String>,
    /// Messages a month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_volume: Option<i64>,
}

/// A business as registered with The Campaign Registry.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrandDoc {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_name: Option<String>,
    /// For a US company its EIN, NN-NNNNNNN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    /// ISO 3166-1 alpha-2 country that issued the tax id, e.g. "US".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id_country: Option<String>,
    /// agriculture, communication, construction, education, energy, entertainment, financial,
    /// gambling, government, healthcare, hospitality, insurance, manufacturing, ngo, real_estate,
    /// retail or technology.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vertical: Option<String>,
    /// https://...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactDoc>,
}

/// A postal address.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State or province; for the US the two-letter code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// A person the registry or carriers can reach.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// E.164.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// What toll-free verification asks about a toll-free number.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TollFreeVerificationDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactDoc>,
    /// One of the campaign use cases (customer_care, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_case: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_case_summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_message: Option<String>,
    /// verbal, web_form, paper_form, via_text or mobile_qr_code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_in_type: Option<String>,
    /// A public https page or image showing how consumers opt in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_in_evidence_url: Option<String>,
    /// Messages a month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_volume: Option<i64>,
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

fn given(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

impl ContactDoc {
    fn to_core(doc: &Option<ContactDoc>) -> Contact {
        let d = doc.clone().unwrap_or_default();
        Contact { name: text(&d.name), email: text(&d.email), phone: text(&d.phone) }
    }

    fn from_core(c: Contact) -> Option<ContactDoc> {
        let doc = ContactDoc { name: given(c.name), email: given(c.email), phone: given(c.phone) };
        (doc.name.is_some() || doc.email.is_some() || doc.phone.is_some()).then_some(doc)
    }
}

impl BrandDoc {
    /// The core's brand.
    pub fn to_core(&self) -> Brand {
        let a = self.address.clone().unwrap_or_default();
        Brand {
            id: self.id.clone(),
            legal_name: text(&self.legal_name),
            tax_id: text(&self.tax_id),
            tax_id_country: text(&self.tax_id_country),
            vertical: text(&self.vertical),
            website: text(&self.website),
            address: Address {
                street: text(&a.street),
                city: text(&a.city),
                region: text(&a.region),
                postal_code: text(&a.postal_code),
                country: text(&a.country),
            },
            contact: ContactDoc::to_core(&self.contact),
        }
    }

    /// The document's brand, fields not given left out.
    pub fn from_core(b: &Brand) -> BrandDoc {
        let a = b.address.clone();
        let address = AddressDoc {
            street: given(a.street),
            city: given(a.city),
            region: given(a.region),
            postal_code: given(a.postal_code),
            country: given(a.country),
        };
        let any_address = address.street.is_some()
            || address.city.is_some()
            || address.region.is_some()
            || address.postal_code.is_some()
            || address.country.is_some();
        BrandDoc {
            id: b.id.clone(),
            legal_name: given(b.legal_name.clone()),
            tax_id: given(b.tax_id.clone()),
            tax_id_country: given(b.tax_id_country.clone()),
            vertical: given(b.vertical.clone()),
            website: given(b.website.clone()),
            address: any_address.then_some(address),
            contact: ContactDoc::from_core(b.contact.clone()),
        }
    }
}

impl TollFreeVerificationDoc {
    /// The core's verification.
    pub fn to_core(&self) -> TollFreeVerification {
        TollFreeVerification {
            business_name: text(&self.business_name),
            website: text(&self.website),
            contact: ContactDoc::to_core(&self.contact),
            use_case: text(&self.use_case),
            use_case_summary: text(&self.use_case_summary),
            sample_message: text(&self.sample_message),
            opt_in_type: text(&self.opt_in_type),
            opt_in_evidence_url: text(&self.opt_in_evidence_url),
            monthly_volume: self.monthly_volume,
        }
    }

    /// The document's verification, fields not given left out.
    pub fn from_core(v: &TollFreeVerification) -> TollFreeVerificationDoc {
        let v = v.clone();
        TollFreeVerificationDoc {
            business_name: given(v.business_name),
            website: given(v.website),
            contact: ContactDoc::from_core(v.contact),
            use_case: given(v.use_case),
            use_case_summary: given(v.use_case_summary),
            sample_message: given(v.sample_message),
            opt_in_type: given(v.opt_in_type),
            opt_in_evidence_url: given(v.opt_in_evidence_url),
            monthly_volume: v.monthly_volume,
        }
    }
}

impl CampaignDoc {
    fn to_core(&self) -> CampaignDraft {
        CampaignDraft {
            id: self.id.clone(),
            name: self.name.clone(),
            segments_per_second: self.segments_per_second,
            segments_per_minute: self.segments_per_minute,
            segments_per_day: self.segments_per_day,
            brand: self.brand.clone(),
            registration: CampaignRegistration {
                use_case: text(&self.use_case),
                description: text(&self.description),
                sample_messages: self.sample_messages.clone(),
                opt_in_flow: text(&self.opt_in_flow),
                opt_in_keywords: self.opt_in_keywords.clone(),
                opt_in_message: text(&self.opt_in_message),
                opt_out_keywords: self.opt_out_keywords.clone(),
                opt_out_message: text(&self.opt_out_message),
                help_keywords: self.help_keywords.clone(),
                help_message: text(&self.help_message),
                expected_volume: self.expected_volume,
            },
        }
    }

    /// The document's campaign, fields not given left out.
    pub fn from_core(c: CampaignDraft) -> CampaignDoc {
        let r = c.registration;
        CampaignDoc {
            id: c.id,
            name: c.name,
            segments_per_second: c.segments_per_second,
            segments_per_minute: c.segments_per_minute,
            segments_per_day: c.segments_per_day,
            brand: c.brand,
            use_case: given(r.use_case),
            description: given(r.description),
            sample_messages: r.sample_messages,
            opt_in_flow: given(r.opt_in_flow),
            opt_in_keywords: r.opt_in_keywords,
            opt_in_message: given(r.opt_in_message),
            opt_out_keywords: r.opt_out_keywords,
            opt_out_message: given(r.opt_out_message),
            help_keywords: r.help_keywords,
            help_message: given(r.help_message),
            expected_volume: r.expected_volume,
        }
    }
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
    /// The most segments this number may send in one clock minute (a fixed window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments_per_minute: Option<i64>,
    /// The most segments this number may send in one UTC day (a fixed window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments_per_day: Option<i64>,
    /// Toll-free numbers only: what toll-free verification asks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toll_free_verification: Option<TollFreeVerificationDoc>,
    /// The language of the number's system messages (default: `settings.language`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// System messages of this number only (any subset), in its language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<MessagesDoc>,
    /// The number's system messages in other languages of the setup, by tag.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub languages: BTreeMap<String, NumberLanguageDoc>,
    /// "both" (the default), "incoming" (takes chats, never sends first), "outbound" (sends; a text
    /// to it opens no chat and gets the `unmonitored` message) or "in_call" (carries the SMS of voice
    /// calls: an `[[ivr_queues]]` `in_call_number`; no queues).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub role: String,
    /// Makes a direct number: every chat on it goes to this agent, with no menu (leave `queues` out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// A direct number's queue for chats its agent cannot take (offline, busy or outside their hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_queue: Option<String>,
    /// "chat" (the default: a reply to a sessionless notification opens a chat) or "auto_reply" (a
    /// reply within `sessionless_window_hours` gets the `unmonitored` message and no chat).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sessionless_reply: String,
    /// How long after a notification a reply counts as its reply: 1 to 720 hours (default 24).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessionless_window_hours: Option<u32>,
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
    /// This queue's chat timers over the deployment's (0 turns one off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timers: Option<TimersDoc>,
    /// Tell the consumer who took over when a chat is transferred into this queue.
    #[serde(default)]
    pub announce_transfers: bool,
    /// The queue whose menu offers this one (a multi-level menu).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Never offered in a menu; reachable by transfer or the API.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
    /// How the queue picks an agent: "least_busy" (default) or "longest_idle".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub strategy: String,
    /// The language the queue serves in: picking it sets the chat's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The queue's own system messages (in its language, or the deployment's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<MessagesDoc>,
    /// The queue in other languages: menu name, keywords and messages, by tag.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub languages: BTreeMap<String, QueueLanguageDoc>,
    /// Business hours; without them the queue is always open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<HoursDoc>,
    /// The queue a chat moves to when it has waited `timers.queue_wait_minutes` (instead of closing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overflow: Option<String>,
    /// Whether the queue takes SMS chats (default: `settings.sms_chat`); one that does not is left out
    /// of menus and refuses transfers. Inherited by sub-queues, like every setting below.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_chat: Option<bool>,
    /// Whether agents may start outbound chats in this queue (default: the parent's, else
    /// `settings.agent_outbound`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_outbound: Option<bool>,
    /// Dismiss quiet chats instead of closing them (default: the parent's, else `settings.dismissal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dismissal: Option<DismissalDoc>,
    /// A chat the business starts in this queue without naming a number goes out from the number of the
    /// phone's latest chat in the queue (default true), so the consumer's thread stays on one number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticky_sender: Option<bool>,
    /// How the CRM keeps this queue's chats on a contact: absent, a record per chat; `"append_open"`,
    /// `"reopen_within_days = N"` or `"create_after_messages = N"` (docs/crm.md "Record policies").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub record_policy: String,
    /// The agent who owns the contacts matching creates for this queue's chats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_owner: Option<String>,
    /// The wait within which an answered chat meets the queue's service level in reports (default 60
    /// seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_level_seconds: Option<u32>,
}

/// Dismissal of quiet chats: after `after_minutes` without a consumer message, counted from the agent's
/// last message, a connected inbound chat is dismissed (it leaves the agent's list; the consumer's next
/// text puts it back in the queue). `enabled = false` turns an inherited dismissal off.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DismissalDoc {
    /// Default true; false turns a parent's (or the deployment's) dismissal off here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// 1 to 10080 (a week); required unless `enabled = false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_minutes: Option<u32>,
    /// Send the `dismissal_notice` message this many minutes before (less than `after_minutes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_minutes_before: Option<u32>,
    /// Whether the connected agent may dismiss by hand (default true; admins always may).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_agent: Option<bool>,
}

impl DismissalDoc {
    fn into_core(self) -> DismissalSettings {
        let d = DismissalSettings::default();
        DismissalSettings {
            enabled: self.enabled.unwrap_or(d.enabled),
            after_minutes: self.after_minutes.unwrap_or(d.after_minutes),
            notice_minutes_before: self.notice_minutes_before,
            by_agent: self.by_agent.unwrap_or(d.by_agent),
        }
    }

    fn from_core(d: &DismissalSettings) -> DismissalDoc {
        if !d.enabled {
            return DismissalDoc { enabled: Some(false), ..DismissalDoc::default() };
        }
        DismissalDoc {
            enabled: None,
            after_minutes: Some(d.after_minutes),
            notice_minutes_before: d.notice_minutes_before,
            by_agent: Some(d.by_agent),
        }
    }
}

/// Chat timers; every key is optional (a queue inherits the deployment's, the deployment has defaults),
/// and 0 turns a timer off.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimersDoc {
    /// An offer not accepted within this many seconds moves on to the next agent (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_timeout_seconds: Option<u32>,
    /// Minutes without a message either way before the consumer is asked whether they are still there
    /// (default 15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactivity_warning_minutes: Option<u32>,
    /// Minutes after that warning before the chat closes (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactivity_close_minutes: Option<u32>,
    /// The longest an SMS session lasts; a text after it starts a new chat (default 1440, a day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_expiration_minutes: Option<u32>,
    /// The longest a chat waits in its queue before it closes with a message, or moves to the queue's
    /// overflow queue (default 0: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_wait_minutes: Option<u32>,
    /// Minutes a connected agent may leave the consumer unanswered before the chat is offered to
    /// another agent (default 0: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_response_minutes: Option<u32>,
}

impl TimersDoc {
    fn into_core(self) -> TimerSettings {
        TimerSettings {
            offer_timeout_seconds: self.offer_timeout_seconds,
            inactivity_warning_minutes: self.inactivity_warning_minutes,
            inactivity_close_minutes: self.inactivity_close_minutes,
            session_expiration_minutes: self.session_expiration_minutes,
            queue_wait_minutes: self.queue_wait_minutes,
            agent_response_minutes: self.agent_response_minutes,
        }
    }

    fn from_core(t: &TimerSettings) -> Option<TimersDoc> {
        let doc = TimersDoc {
            offer_timeout_seconds: t.offer_timeout_seconds,
            inactivity_warning_minutes: t.inactivity_warning_minutes,
            inactivity_close_minutes: t.inactivity_close_minutes,
            session_expiration_minutes: t.session_expiration_minutes,
            queue_wait_minutes: t.queue_wait_minutes,
            agent_response_minutes: t.agent_response_minutes,
        };
        (t != &TimerSettings::default()).then_some(doc)
    }
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
    /// Language tags the agent writes (default: the deployment's language); chats in those languages
    /// go to them first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// When the agent answers chats of their direct numbers (same shape as a queue's); default: always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<HoursDoc>,
    /// The first answer on the agent's direct numbers (default: the `direct_greeting` message); may
    /// use {agent}, {agent_first_name}, {brand}, {end_command}.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
    /// "one" (the default) or "several": how many direct numbers name this agent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub direct_numbers: String,
    /// The agent's e-mail address (unique ignoring case): integrations name the agent by it, as the
    /// outbound API's `agent_email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
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
    /// Queues every member serves, besides their own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queues: Vec<String>,
}

/// A predefined reply: a text agents send with a click, for the agents of its queues and the members
/// of its teams (neither given: for every agent).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyDoc {
    pub id: String,
    /// What agents see in the list.
    #[serde(default)]
    pub title: String,
    /// A grouping for the list, e.g. "Greetings".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub category: String,
    /// One word agents type to pick the reply (unique, ignoring case).
    #[serde(default)]
    pub shortcut: String,
    /// At most 1,600 characters; placeholders {agent_first_name}, {agent}, {queue}, {brand},
    /// {consumer_last_four}.
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queues: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<String>,
    /// The opt-in message an agent-started chat opens with.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub opt_in: bool,
    /// "text" (the default) or "app_launch": the text holds {app_link} (and may hold {ios_link},
    /// {android_link}), filled with `app`'s links when sent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
}

impl ReplyDoc {
    fn to_core(&self) -> ReplyDraft {
        ReplyDraft {
            id: self.id.clone(),
            title: self.title.clone(),
            category: self.category.clone(),
            shortcut: self.shortcut.clone(),
            text: self.text.clone(),
            queues: self.queues.clone(),
            teams: self.teams.clone(),
            opt_in: self.opt_in,
            kind: self.kind.clone(),
            app: self.app.clone(),
        }
    }

    fn from_core(r: ReplyDraft) -> ReplyDoc {
        ReplyDoc {
            id: r.id,
            title: r.title,
            category: r.category,
            shortcut: r.shortcut,
            text: r.text,
            queues: r.queues,
            teams: r.teams,
            opt_in: r.opt_in,
            kind: r.kind,
            app: r.app,
        }
    }
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
    /// When proactive messages wait for the consumer's morning (default: 21:00 to 08:00, on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHoursDoc>,
    /// Chat timers for every queue that does not set its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timers: Option<TimersDoc>,
    /// The language of `messages` (a BCP 47 tag; default "en").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Other languages, by tag: keywords honored on every number, and texts for chats in the language.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub languages: BTreeMap<String, LanguageDoc>,
    /// Whether queues take SMS chats (default true; each queue may say otherwise); a text to a number
    /// none of whose menu queues does gets the `unavailable` message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_chat: Option<bool>,
    /// The words of the SMS commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commands: Option<CommandsDoc>,
    /// Guessing a new chat's language from its first text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_detection: Option<LanguageDetectionDoc>,
    /// An agent with no console open and no API heartbeat for this long is offline (disconnected)
    /// and offered nothing (10 to 86400; default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_timeout_seconds: Option<u32>,
    /// After this many minutes without keyboard or pointer use the console sets an available agent
    /// away (1 to 1440; absent: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_away_minutes: Option<u32>,
    /// Whether agents may start outbound SMS chats (default true; each queue may say otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_outbound: Option<bool>,
    /// What agents see of consumers' numbers in queues that do not say: "full" (default), "last_four"
    /// or "hidden".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_number: Option<String>,
    /// Dismissal of quiet chats for queues that do not say (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dismissal: Option<DismissalDoc>,
}

/// One more language.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LanguageDoc {
    /// The language's name in itself ("español"), for the LANG confirmation.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opt_out_keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opt_in_keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub help_keywords: Vec<String>,
    /// The language's system messages (any subset; the rest stay the deployment's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<MessagesDoc>,
}

/// Quiet hours for proactive messages, in the consumer's local time; every key is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHoursDoc {
    /// false: proactive messages go out at any hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// HH:MM, when quiet hours begin (default 21:00).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// HH:MM, when they end (default 08:00); the window may wrap midnight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// IANA zone for numbers whose prefix maps to no time zone (default UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// System messages by name (`opt_in_notice`, `menu`, `menu_retry`, `queued`, `waiting`, `after_hours`,
/// `after_hours_closed`, `help`, `opted_out`, `opted_in`, `connected`, `chat_ended`,
/// `inactivity_warning`, `inactivity_closed`, `expired`, `queue_timeout`, `queue_moved`,
/// `language_changed`, `language_unknown`); any subset. Every text may use `{brand}` (or
/// `{business}`); the others per text are in docs/chat-lifecycle.md.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "BTreeMap<String, String>", into = "BTreeMap<String, String>")]
pub struct MessagesDoc(pub BTreeMap<String, String>);

impl TryFrom<BTreeMap<String, String>> for MessagesDoc {
    type Error = String;

    fn try_from(texts: BTreeMap<String, String>) -> Result<MessagesDoc, String> {
        if let Some(unknown) = texts.keys().find(|name| TextKey::parse(name).is_none()) {
            let known: Vec<&str> = TextKey::ALL.iter().map(|k| k.name()).collect();
            return Err(format!("unknown system message `{unknown}`; known: {}", known.join(", ")));
        }
        Ok(MessagesDoc(texts))
    }
}

impl From<MessagesDoc> for BTreeMap<String, String> {
    fn from(doc: MessagesDoc) -> BTreeMap<String, String> {
        doc.0
    }
}

impl MessagesDoc {
    fn into_core(self) -> TextOverrides {
        TextOverrides(self.0)
    }

    fn from_core(t: &TextOverrides) -> Option<MessagesDoc> {
        (!t.is_empty()).then(|| MessagesDoc(t.0.clone()))
    }
}

/// A number's or queue's messages in one more language.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NumberLanguageDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<MessagesDoc>,
}

/// A queue in one more language: what its menu choice says, and its messages.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueLanguageDoc {
    /// The name the menu shows in this language (default: the queue's name).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Menu keywords in this language; picking the queue by one sets the chat's language.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<MessagesDoc>,
}

impl QueueLanguageDoc {
    fn to_core(&self) -> QueueTranslation {
        QueueTranslation {
            name: self.name.clone(),
            keywords: self.keywords.clone(),
            messages: self.messages.clone().map(MessagesDoc::into_core).unwrap_or_default(),
        }
    }

    fn from_core(t: &QueueTranslation) -> QueueLanguageDoc {
        QueueLanguageDoc {
            name: t.name.clone(),
            keywords: t.keywords.clone(),
            messages: MessagesDoc::from_core(&t.messages),
        }
    }
}

/// When a queue's agents answer, in its own time zone. A day not listed is closed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursDoc {
    /// IANA zone, e.g. "America/New_York".
    pub time_zone: String,
    /// Opening ranges "HH:MM-HH:MM" per day; an end before the start runs past midnight.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mon: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tue: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wed: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thu: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fri: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sat: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sun: Vec<String>,
    /// Local dates the queue is closed all day ("2026-12-25").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closed_dates: Vec<String>,
    /// A chat arriving after hours: "keep_queued" (default; it waits for the opening) or "close".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub after_hours: String,
}

impl HoursDoc {
    fn to_core(&self) -> BusinessHoursDraft {
        let days = [
            ("mon", &self.mon),
            ("tue", &self.tue),
            ("wed", &self.wed),
            ("thu", &self.thu),
            ("fri", &self.fri),
            ("sat", &self.sat),
            ("sun", &self.sun),
        ];
        BusinessHoursDraft {
            time_zone: self.time_zone.clone(),
            days: days.into_iter().filter(|(_, r)| !r.is_empty()).map(|(d, r)| (d.to_owned(), r.clone())).collect(),
            closed_dates: self.closed_dates.clone(),
            after_hours: self.after_hours.clone(),
        }
    }

    pub fn from_core(h: &BusinessHoursDraft) -> HoursDoc {
        let day = |name: &str| h.days.get(name).cloned().unwrap_or_default();
        HoursDoc {
            time_zone: h.time_zone.clone(),
            mon: day("mon"),
            tue: day("tue"),
            wed: day("wed"),
            thu: day("thu"),
            fri: day("fri"),
            sat: day("sat"),
            sun: day("sun"),
            closed_dates: h.closed_dates.clone(),
            after_hours: h.after_hours.clone(),
        }
    }
}

/// The words of the SMS commands; each key replaces that command's words (defaults: end EXIT and
/// CLOSE, back BACK, menu MENU, agent AGENT, language LANG).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandsDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Vec<String>>,
    /// Followed by a language tag: "LANG es".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Vec<String>>,
}

/// Guessing a new chat's language from its first text.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LanguageDetectionDoc {
    /// Default true; it only runs when the setup has more than one language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// 0 to 1 (default 0.7): below it, the number's language is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_confidence: Option<f64>,
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
                    segments_per_minute: n.segments_per_minute,
                    segments_per_day: n.segments_per_day,
                    toll_free_verification: n.toll_free_verification.as_ref().map(TollFreeVerificationDoc::to_core),
                    language: n.language.clone(),
                    messages: n.messages.clone().map(MessagesDoc::into_core).unwrap_or_default(),
                    translations: n
                        .languages
                        .iter()
                        .map(|(tag, l)| {
                            (tag.clone(), l.messages.clone().map(MessagesDoc::into_core).unwrap_or_default())
                        })
                        .collect(),
                    role: n.role.clone(),
                    agent: n.agent.clone(),
                    fallback_queue: n.fallback_queue.clone(),
                    sessionless_reply: n.sessionless_reply.clone(),
                    sessionless_window_hours: n.sessionless_window_hours,
                })
                .collect(),
            campaigns: self.campaigns.iter().map(CampaignDoc::to_core).collect(),
            replies: self.replies.iter().map(ReplyDoc::to_core).collect(),
            blocklist: self.blocklist.iter().map(BlockDoc::to_core).collect(),
            queues: self
                .queues
                .iter()
                .map(|q| QueueDraft {
                    id: q.id.clone(),
                    name: q.name.clone(),
                    keywords: q.keywords.clone(),
                    auto_answer: q.auto_answer,
                    consumer_number: q.consumer_number.clone(),
                    timers: q.timers.map(TimersDoc::into_core).unwrap_or_default(),
                    announce_transfers: q.announce_transfers,
                    parent: q.parent.clone(),
                    hidden: q.hidden,
                    strategy: q.strategy.clone(),
                    language: q.language.clone(),
                    messages: q.messages.clone().map(MessagesDoc::into_core).unwrap_or_default(),
                    translations: q.languages.iter().map(|(tag, l)| (tag.clone(), l.to_core())).collect(),
                    hours: q.hours.as_ref().map(HoursDoc::to_core),
                    overflow: q.overflow.clone(),
                    sms_chat: q.sms_chat,
                    sticky_sender: q.sticky_sender,
                    agent_outbound: q.agent_outbound,
                    dismissal: q.dismissal.map(DismissalDoc::into_core),
                    record_policy: q.record_policy.clone(),
                    default_owner: q.default_owner.clone(),
                    service_level_seconds: q.service_level_seconds,
                })
                .collect(),
            ivr_queues: self.ivr_queues.iter().map(IvrQueueDoc::to_core).collect(),
            apps: self.apps.iter().map(AppDoc::to_core).collect(),
            contact_fields: self
                .contact_fields
                .iter()
                .map(|f| ContactFieldDraft {
                    key: f.key.clone(),
                    label: f.label.clone(),
                    kind: f.kind.clone(),
                    choices: f.choices.clone(),
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
                    languages: a.languages.clone(),
                    hours: a.hours.as_ref().map(HoursDoc::to_core),
                    greeting: a.greeting.clone(),
                    direct_numbers: a.direct_numbers.clone(),
                    email: a.email.clone(),
                })
                .collect(),
            teams: self
                .teams
                .iter()
                .map(|t| TeamDraft {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    members: t.members.clone(),
                    queues: t.queues.clone(),
                })
                .collect(),
            settings: Settings {
                brand: self.settings.brand.clone().unwrap_or(defaults.brand),
                opt_in_notice_every_chat: self
                    .settings
                    .opt_in_notice_every_chat
                    .unwrap_or(defaults.opt_in_notice_every_chat),
                texts: t.overridden(&m.into_core()),
                brands: self.brands.iter().map(BrandDoc::to_core).collect(),
                quiet_hours: defaults.quiet_hours,
                timers: defaults.timers.with(&self.settings.timers.map(TimersDoc::into_core).unwrap_or_default()),
                language: self.settings.language.clone().unwrap_or(defaults.language),
                languages: self
                    .settings
                    .languages
                    .iter()
                    .map(|(tag, l)| {
                        let language = Language {
                            name: l.name.clone(),
                            opt_out_keywords: l.opt_out_keywords.clone(),
                            opt_in_keywords: l.opt_in_keywords.clone(),
                            help_keywords: l.help_keywords.clone(),
                            texts: l.messages.clone().map(MessagesDoc::into_core).unwrap_or_default(),
                        };
                        (tag.clone(), language)
                    })
                    .collect(),
                sms_chat: self.settings.sms_chat.unwrap_or(defaults.sms_chat),
                commands: {
                    let c = self.settings.commands.clone().unwrap_or_default();
                    let d = Commands::default();
                    Commands {
                        end: c.end.unwrap_or(d.end),
                        back: c.back.unwrap_or(d.back),
                        menu: c.menu.unwrap_or(d.menu),
                        agent: c.agent.unwrap_or(d.agent),
                        language: c.language.unwrap_or(d.language),
                    }
                },
                language_detection: {
                    let l = self.settings.language_detection.clone().unwrap_or_default();
                    let d = LanguageDetection::default();
                    LanguageDetection {
                        enabled: l.enabled.unwrap_or(d.enabled),
                        min_confidence: l.min_confidence.unwrap_or(d.min_confidence),
                    }
                },
                presence: PresenceSettings {
                    timeout_seconds: self
                        .settings
                        .presence_timeout_seconds
                        .unwrap_or(PresenceSettings::default().timeout_seconds),
                    idle_away_minutes: self.settings.idle_away_minutes,
                },
                agent_outbound: self.settings.agent_outbound.unwrap_or(defaults.agent_outbound),
                consumer_number: defaults.consumer_number,
                dismissal: self.settings.dismissal.map(DismissalDoc::into_core),
            },
            consumer_number: self.settings.consumer_number.clone().unwrap_or_default(),
            quiet_hours: {
                let q = self.settings.quiet_hours.clone().unwrap_or_default();
                let d = QuietHoursDraft::default();
                QuietHoursDraft {
                    enabled: q.enabled.unwrap_or(d.enabled),
                    start: q.start.unwrap_or(d.start),
                    end: q.end.unwrap_or(d.end),
                    time_zone: q.time_zone.unwrap_or(d.time_zone),
                }
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
                    segments_per_minute: n.segments_per_minute,
                    segments_per_day: n.segments_per_day,
                    toll_free_verification: n.toll_free_verification.as_ref().map(TollFreeVerificationDoc::from_core),
                    language: n.language,
                    messages: MessagesDoc::from_core(&n.messages),
                    languages: n
                        .translations
                        .iter()
                        .map(|(tag, t)| (tag.clone(), NumberLanguageDoc { messages: MessagesDoc::from_core(t) }))
                        .collect(),
                    role: n.role,
                    agent: n.agent,
                    fallback_queue: n.fallback_queue,
                    sessionless_reply: n.sessionless_reply,
                    sessionless_window_hours: n.sessionless_window_hours,
                })
                .collect(),
            campaigns: d.campaigns.into_iter().map(CampaignDoc::from_core).collect(),
            brands: d.settings.brands.iter().map(BrandDoc::from_core).collect(),
            replies: d.replies.into_iter().map(ReplyDoc::from_core).collect(),
            blocklist: d.blocklist.into_iter().map(BlockDoc::from_core).collect(),
            queues: d
                .queues
                .into_iter()
                .map(|q| QueueDoc {
                    id: q.id,
                    name: q.name,
                    keywords: q.keywords,
                    auto_answer: q.auto_answer,
                    consumer_number: q.consumer_number,
                    timers: TimersDoc::from_core(&q.timers),
                    announce_transfers: q.announce_transfers,
                    parent: q.parent,
                    hidden: q.hidden,
                    strategy: q.strategy,
                    language: q.language,
                    messages: MessagesDoc::from_core(&q.messages),
                    languages: q
                        .translations
                        .iter()
                        .map(|(tag, t)| (tag.clone(), QueueLanguageDoc::from_core(t)))
                        .collect(),
                    hours: q.hours.as_ref().map(HoursDoc::from_core),
                    overflow: q.overflow,
                    sms_chat: q.sms_chat,
                    sticky_sender: q.sticky_sender,
                    agent_outbound: q.agent_outbound,
                    dismissal: q.dismissal.as_ref().map(DismissalDoc::from_core),
                    record_policy: q.record_policy,
                    default_owner: q.default_owner,
                    service_level_seconds: q.service_level_seconds,
                })
                .collect(),
            ivr_queues: d.ivr_queues.into_iter().map(IvrQueueDoc::from_core).collect(),
            apps: d.apps.into_iter().map(AppDoc::from_core).collect(),
            contact_fields: d
                .contact_fields
                .into_iter()
                .map(|f| ContactFieldDoc { key: f.key, label: f.label, kind: f.kind, choices: f.choices })
                .collect(),
            agents: d
                .agents
                .into_iter()
                .map(|a| AgentDoc {
                    id: a.id,
                    name: a.name,
                    queues: a.queues,
                    capacity: a.capacity,
                    languages: a.languages,
                    hours: a.hours.as_ref().map(HoursDoc::from_core),
                    greeting: a.greeting,
                    direct_numbers: a.direct_numbers,
                    email: a.email,
                })
                .collect(),
            teams: d
                .teams
                .into_iter()
                .map(|t| TeamDoc { id: t.id, name: t.name, members: t.members, queues: t.queues })
                .collect(),
            settings: SettingsDoc {
                brand: Some(d.settings.brand.clone()),
                opt_in_notice_every_chat: Some(d.settings.opt_in_notice_every_chat),
                messages: MessagesDoc::from_core(&t.as_overrides()),
                timers: TimersDoc::from_core(&d.settings.timers),
                language: Some(d.settings.language.clone()),
                languages: d
                    .settings
                    .languages
                    .iter()
                    .map(|(tag, l)| {
                        let doc = LanguageDoc {
                            name: l.name.clone(),
                            opt_out_keywords: l.opt_out_keywords.clone(),
                            opt_in_keywords: l.opt_in_keywords.clone(),
                            help_keywords: l.help_keywords.clone(),
                            messages: MessagesDoc::from_core(&l.texts),
                        };
                        (tag.clone(), doc)
                    })
                    .collect(),
                sms_chat: Some(d.settings.sms_chat),
                commands: {
                    let c = &d.settings.commands;
                    Some(CommandsDoc {
                        end: Some(c.end.clone()),
                        back: Some(c.back.clone()),
                        menu: Some(c.menu.clone()),
                        agent: Some(c.agent.clone()),
                        language: Some(c.language.clone()),
                    })
                },
                language_detection: Some(LanguageDetectionDoc {
                    enabled: Some(d.settings.language_detection.enabled),
                    min_confidence: Some(d.settings.language_detection.min_confidence),
                }),
                presence_timeout_seconds: Some(d.settings.presence.timeout_seconds),
                idle_away_minutes: d.settings.presence.idle_away_minutes,
                agent_outbound: Some(d.settings.agent_outbound),
                consumer_number: Some(setup.settings.consumer_number.as_str().to_owned()),
                dismissal: d.settings.dismissal.as_ref().map(DismissalDoc::from_core),
                quiet_hours: Some(QuietHoursDoc {
                    enabled: Some(d.quiet_hours.enabled),
                    start: Some(d.quiet_hours.start.clone()),
                    end: Some(d.quiet_hours.end.clone()),
                    time_zone: Some(d.quiet_hours.time_zone.clone()),
                }),
            },
        }
    }

    /// The stored (JSON) form of a validated setup's document: what `GET /api/v1/setup` answers.
    pub fn stored(setup: &Setup) -> anyhow::Result<String> {
        Ok(serde_json::to_string(&SetupDocument::from_setup(setup))?)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's example is a whole, valid document, so it cannot drift from the format.
    #[test]
    fn the_readmes_example_document_is_valid() {
        let readme = include_str!("../../../README.md");
        let start = readme.find("```toml\n[[numbers]]").expect("the README has the example") + "```toml\n".len();
        let end = start + readme[start..].find("```").expect("the example ends");
        let doc = SetupDocument::from_toml(&readme[start..end]).expect("the example parses");
        let setup = Setup::validate(&doc.to_draft(), &["sim"]).expect("the example is valid");
        let billing = setup.queues.iter().find(|q| q.id.as_str() == "billing").expect("billing");
        assert!(billing.hours.is_some() && billing.overflow.is_some() && billing.translations.contains_key("es"));
        let again =
            SetupDocument::from_toml(&SetupDocument::from_setup(&setup).to_toml().expect("toml")).expect("parses");
        assert_eq!(Setup::validate(&again.to_draft(), &["sim"]).expect("valid"), setup, "export round-trips");
    }

    #[test]
    fn blocklist_entries_are_written_as_toml_tables_and_read_back() {
        let text = "[[blocklist]]\nnumber = \"+14155550100\"\nreason = \"Spam\"\nadded_by = \"dana\"\nadded_at = \"2026-12-01T10:00:00Z\"\n\n[settings]\nbrand = \"Acme\"\n";
        let doc = SetupDocument::from_toml(text).expect("parses");
        let setup = Setup::validate(&doc.to_draft(), &["sim"]).expect("valid");
        let phone = parley_core::phone::E164::parse("+14155550100").expect("e164");
        assert_eq!(setup.blocked(&phone).map(|b| b.added_by.as_str()), Some("dana"));
        let exported = SetupDocument::from_setup(&setup).to_toml().expect("toml");
        assert!(exported.contains("[[blocklist]]\nnumber = \"+14155550100\"\nreason = \"Spam\""), "{exported}");
        assert!(exported.contains("added_at = \"2026-12-01T10:00:00Z\""), "{exported}");
        let again = SetupDocument::from_toml(&exported).expect("parses");
        assert_eq!(Setup::validate(&again.to_draft(), &["sim"]).expect("valid"), setup, "export round-trips");
    }

    #[test]
    fn an_unknown_system_message_is_refused_when_parsed() {
        let error = SetupDocument::from_toml("[settings.messages]\nqeued = \"x\"\n").unwrap_err().to_string();
        assert!(error.contains("unknown system message `qeued`; known: opt_in_notice"), "{error}");
    }
}
