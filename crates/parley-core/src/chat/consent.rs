//! The consumer's consent inside a chat: the opt-in notice on first contact, STOP, and START from an
//! opted-out phone.

use crate::keyword;
use crate::texts::TextKey;

use super::decide::Decider;
use super::{Chat, ChatEvent, ConsentChange, EndReason, Purpose};

impl Decider<'_> {
    /// The opt-in notice, on the phone's first contact (or on every new chat when `every_chat`).
    pub(super) fn opt_in_notice(&mut self, every_chat: bool) {
        if every_chat || !self.ctx.consent.notice_sent {
            self.system(TextKey::OptInNotice, &[]);
            self.decision.consent = Some(ConsentChange::NoticeSent);
        }
    }

    pub(super) fn opt_out(&mut self, chat: Option<Chat>, text: &str) {
        let already = self.ctx.consent.opted_out;
        let mut chat = chat;
        if let Some(chat) = chat.as_mut() {
            self.event(ChatEvent::ConsumerMessage);
            self.event(ChatEvent::OptedOut);
            self.end(chat, EndReason::OptedOut, "consumer".to_owned());
        }
        if !already {
            self.decision.consent = Some(ConsentChange::OptedOut { keyword: keyword::normalize(text) });
            self.system_for(TextKey::OptedOut, &[], Purpose::OptOutConfirmation);
        }
        self.decision.chat = chat;
    }

    pub(super) fn opt_in(&mut self, chat: Option<Chat>, text: &str) {
        self.decision.consent = Some(ConsentChange::OptedIn { keyword: keyword::normalize(text) });
        self.ctx.consent.opted_out = false;
        self.system(TextKey::OptedIn, &[]);
        self.decision.chat = chat;
    }
}
