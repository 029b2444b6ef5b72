//! The settings tree: deployment defaults, overridden by a top queue, inherited by its sub-queues
//! (through `parent`) unless they override again.
//!
//! Timers (each on its own), texts (each on its own), business hours, dismissal, what agents see of
//! the consumer's number and the switches `sms_chat` and `agent_outbound` are inherited: a queue has
//! the value of the nearest queue up its parent chain that sets it (itself first), else the
//! deployment's. Everything that reads one of them asks here (or through [`Setup::timers_for`] and
//! [`Setup::texts_for`], which walk the same chain), so a setting means the same in routing, timers,
//! masking and the settings API. "Not set" stays apart from "set to the default" in the model, so an
//! export writes back what the admin wrote.

use crate::hours::BusinessHours;
use crate::ids::QueueId;
use crate::texts::TextKey;

use super::model::{ConsumerNumber, Queue, Setup};
use super::settings::DismissalSettings;

/// Where an effective setting comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The deployment's settings (or the built-in default).
    Deployment,
    /// A queue that sets it: the queue itself or one of its parents.
    Queue(QueueId),
}

impl Source {
    /// As the settings API shows it: `deployment` or `queue:<id>`.
    pub fn label(&self) -> String {
        match self {
            Source::Deployment => "deployment".to_owned(),
            Source::Queue(id) => format!("queue:{id}"),
        }
    }
}

/// An effective value and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

/// Every inherited setting of one queue, as it applies to the queue's chats.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSettings {
    /// Each timer by its setup name; 0 is off.
    pub timers: Vec<(&'static str, Sourced<u32>)>,
    pub consumer_number: Sourced<ConsumerNumber>,
    /// `None`: always open.
    pub hours: Sourced<Option<BusinessHours>>,
    /// `None`: no dismissal (also when the nearest setting turns it off).
    pub dismissal: Sourced<Option<DismissalSettings>>,
    pub sms_chat: Sourced<bool>,
    pub agent_outbound: Sourced<bool>,
    /// Each system message as the queue's chats get it in the deployment's language, with the queue
    /// that wrote it (number layers and translations aside).
    pub texts: Vec<(TextKey, Sourced<String>)>,
}

impl Setup {
    /// `queue` and its parents, nearest first; empty for no queue or an unknown one. Validation refuses
    /// loops; the walk stops after as many steps as there are queues anyway.
    pub fn lineage(&self, queue: Option<&QueueId>) -> Vec<&Queue> {
        let mut out: Vec<&Queue> = Vec::new();
        let mut at = queue.and_then(|q| self.queue(q));
        while let Some(q) = at {
            if out.len() >= self.queues.len() || out.iter().any(|seen| seen.id == q.id) {
                break;
            }
            out.push(q);
            at = q.parent.as_ref().and_then(|p| self.queue(p));
        }
        out
    }

    /// The nearest value up `queue`'s chain that `own` finds, else `deployment`.
    fn inherited<T>(&self, queue: Option<&QueueId>, own: impl Fn(&Queue) -> Option<T>, deployment: T) -> Sourced<T> {
        self.lineage(queue)
            .into_iter()
            .find_map(|q| own(q).map(|value| Sourced { value, source: Source::Queue(q.id.clone()) }))
            .unwrap_or(Sourced { value: deployment, source: Source::Deployment })
    }

    /// The business hours of `queue`'s chats: its own, else its nearest parent's; `None`: always open.
    pub fn hours_of(&self, queue: &QueueId) -> Option<&BusinessHours> {
        self.lineage(Some(queue)).into_iter().find_map(|q| q.hours.as_ref())
    }

    /// The dismissal rule of `queue`'s chats, if they are dismissed rather than closed when quiet.
    pub fn dismissal_of(&self, queue: Option<&QueueId>) -> Option<DismissalSettings> {
        self.inherited(queue, |q| q.dismissal.map(Some), self.settings.dismissal).value.filter(|d| d.enabled)
    }

    /// What agents of `queue` see of a consumer's number.
    pub fn consumer_number_of(&self, queue: &QueueId) -> ConsumerNumber {
        self.inherited(Some(queue), |q| q.consumer_number, self.settings.consumer_number).value
    }

    /// Whether agents may start outbound chats in `queue`.
    pub fn agent_outbound(&self, queue: &QueueId) -> bool {
        self.inherited(Some(queue), |q| q.agent_outbound, self.settings.agent_outbound).value
    }

    /// Every inherited setting of `queue`, with where each comes from.
    pub fn queue_settings(&self, queue: &QueueId) -> QueueSettings {
        let at = Some(queue);
        let deployment = self.settings.timers.named();
        let timers = deployment
            .iter()
            .enumerate()
            .map(|(i, (name, default))| {
                let value = self.inherited(at, |q| q.timers.named()[i].1, default.unwrap_or(0));
                (*name, value)
            })
            .collect();
        let texts = TextKey::ALL
            .into_iter()
            .map(|key| {
                let deployment = self.settings.texts.get(key).to_owned();
                (key, self.inherited(at, |q| q.messages.get(key).map(str::to_owned), deployment))
            })
            .collect();
        let dismissal = self.inherited(at, |q| q.dismissal.map(Some), self.settings.dismissal);
        QueueSettings {
            timers,
            consumer_number: self.inherited(at, |q| q.consumer_number, self.settings.consumer_number),
            hours: self.inherited(at, |q| q.hours.clone().map(Some), None),
            dismissal: Sourced { value: dismissal.value.filter(|d| d.enabled), source: dismissal.source },
            sms_chat: self.inherited(at, |q| q.sms_chat, self.settings.sms_chat),
            agent_outbound: self.inherited(at, |q| q.agent_outbound, self.settings.agent_outbound),
            texts,
        }
    }
}
