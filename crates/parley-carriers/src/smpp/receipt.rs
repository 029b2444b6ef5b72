//! Delivery receipts: a `deliver_sm` whose esm_class says "SMSC delivery receipt" (or "intermediate
//! notification"), read into a [`Receipt`].
//!
//! The `receipted_message_id` and `message_state` TLVs win when present; otherwise the id and the state
//! come from the text the spec's Appendix B suggests, which nearly every SMSC sends:
//! `id:IIII sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000 text:…`.
//!
//! How states map to [`DeliveryStatus`]:
//!
//! | SMPP state | status | why |
//! |---|---|---|
//! | DELIVRD / DELIVERED (2) | Delivered | |
//! | ENROUTE (1) | Sent | on its way in the network |
//! | ACCEPTD / ACCEPTED (6) | Sent | the spec's "accepted" is an operator's manual action, not a handset's acknowledgement, so we claim no more than that the network has the message |
//! | UNDELIV (5), EXPIRED (3), DELETED (4) | Undelivered | the network gave up |
//! | REJECTD (8), UNKNOWN (7) | Failed | refused, or lost track of |
//! | SCHEDULED (0, SMPP 5) | Queued | |
//! | SKIPPED (9, SMPP 5) | Failed | |
//!
//! The error code is the text's `err:` (or the `network_error_code` TLV) and is kept only for
//! undelivered and failed messages, and not when it is all zeros.

use crate::{DeliveryStatus, Receipt};

use super::pdu::{self, Message, tag};

/// esm_class bits 2-5: the message type.
const MESSAGE_TYPE: u8 = 0x3C;
/// Message type: SMSC delivery receipt.
const DELIVERY_RECEIPT: u8 = 0x04;
/// Message type: intermediate delivery notification.
const INTERMEDIATE_NOTIFICATION: u8 = 0x20;

/// Whether a `deliver_sm` is a receipt rather than a consumer's message.
pub(crate) fn is_receipt(esm_class: u8) -> bool {
    matches!(esm_class & MESSAGE_TYPE, DELIVERY_RECEIPT | INTERMEDIATE_NOTIFICATION)
}

/// Why a receipt cannot be read; the session acknowledges it anyway (it would never read better) and logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ReceiptError {
    #[error("the receipt names no message id")]
    NoId,
    #[error("the receipt for {id} has no state")]
    NoState { id: String },
    #[error("the receipt for {id} has a state we do not know: {state}")]
    UnknownState { id: String, state: String },
}

/// Reads a receipt for carrier account `carrier`.
pub(crate) fn parse(carrier: &str, message: &Message) -> Result<Receipt, ReceiptError> {
    let text = Fields::new(&message.short_message);
    let id = message
        .tlv(tag::RECEIPTED_MESSAGE_ID)
        .map(|value| pdu::tlv_c_string(value).trim().to_owned())
        .filter(|id| !id.is_empty())
        .or_else(|| text.get("id"))
        .ok_or(ReceiptError::NoId)?;
    let status = match (message.tlv(tag::MESSAGE_STATE), text.get("stat")) {
        (Some(&[state]), _) => {
            state_status(state).ok_or(ReceiptError::UnknownState { id: id.clone(), state: state.to_string() })?
        }
        (_, Some(stat)) => stat_status(&stat).ok_or(ReceiptError::UnknownState { id: id.clone(), state: stat })?,
        (_, None) => return Err(ReceiptError::NoState { id }),
    };
    let error_code = match status {
        DeliveryStatus::Undelivered | DeliveryStatus::Failed => {
            text.get("err").or_else(|| message.tlv(tag::NETWORK_ERROR_CODE).and_then(network_error))
        }
        _ => None,
    }
    .filter(|code| !code.bytes().all(|b| b == b'0'));
    Ok(Receipt { carrier: carrier.to_owned(), provider_id: id, status, error_code })
}

/// `message_state` values (SMPP 3.4 §5.2.28, plus SMPP 5's 0 and 9).
fn state_status(state: u8) -> Option<DeliveryStatus> {
    Some(match state {
        0 => DeliveryStatus::Queued,
        1 | 6 => DeliveryStatus::Sent,
        2 => DeliveryStatus::Delivered,
        3..=5 => DeliveryStatus::Undelivered,
        7..=9 => DeliveryStatus::Failed,
        _ => return None,
    })
}

/// The `stat:` words of the text form (SMPP 3.4 Appendix B).
fn stat_status(stat: &str) -> Option<DeliveryStatus> {
    Some(match stat.to_ascii_uppercase().as_str() {
        "DELIVRD" | "DELIVERED" => DeliveryStatus::Delivered,
        "ENROUTE" | "ACCEPTD" | "ACCEPTED" => DeliveryStatus::Sent,
        "UNDELIV" | "UNDELIVERABLE" | "EXPIRED" | "DELETED" => DeliveryStatus::Undelivered,
        "REJECTD" | "REJECTED" | "UNKNOWN" | "SKIPPED" => DeliveryStatus::Failed,
        "SCHEDULED" => DeliveryStatus::Queued,
        _ => return None,
    })
}

/// `network_error_code`: one octet of network type, two of error code.
fn network_error(value: &[u8]) -> Option<String> {
    match *value {
        [network, high, low] => Some(format!("{network}:{}", u16::from_be_bytes([high, low]))),
        _ => None,
    }
}

/// The `key:value` fields of a receipt's text, before its free `text:` field.
struct Fields {
    /// The text up to ` text:`, as Latin-1 (receipts are ASCII in practice).
    head: String,
}

impl Fields {
    fn new(short_message: &[u8]) -> Fields {
        let text: String = short_message.iter().map(|&b| char::from(b)).collect();
        // The free text comes last and may itself contain "id:" or "stat:"; cut it off first.
        let end = find_key(&text, "text").unwrap_or(text.len());
        Fields { head: text[..end].to_owned() }
    }

    /// The value of `key` (case-insensitive): the word after `key:`.
    fn get(&self, key: &str) -> Option<String> {
        let start = find_key(&self.head, key)? + key.len() + 1;
        let value: String = self.head[start..].chars().take_while(|c| !c.is_whitespace()).collect();
        (!value.is_empty()).then_some(value)
    }
}

/// Where `key:` starts in `text`, at the start or after whitespace, ignoring case.
fn find_key(text: &str, key: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let needle = format!("{key}:");
    lower
        .match_indices(&needle)
        .map(|(at, _)| at)
        .find(|&at| at == 0 || lower[..at].ends_with(|c: char| c.is_whitespace()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smpp::pdu::Tlv;

    fn receipt_text(text: &str) -> Message {
        Message { esm_class: 0x04, short_message: text.as_bytes().to_vec(), ..Message::default() }
    }

    fn read(message: &Message) -> Result<(String, DeliveryStatus, Option<String>), ReceiptError> {
        parse("smsc", message).map(|r| (r.provider_id, r.status, r.error_code))
    }

    #[test]
    fn reads_the_appendix_b_text() {
        let text = "id:0123456789 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD \
                    err:000 text:Hello id:zzz stat:REJECTD";
        assert_eq!(read(&receipt_text(text)), Ok(("0123456789".into(), DeliveryStatus::Delivered, None)));
        let undelivered =
            "id:77 sub:001 dlvrd:000 submit date:2401011200 done date:2401011300 stat:UNDELIV err:012 text:";
        assert_eq!(
            read(&receipt_text(undelivered)),
            Ok(("77".into(), DeliveryStatus::Undelivered, Some("012".into())))
        );
        // Case and spacing vary between SMSCs.
        assert_eq!(
            read(&receipt_text("ID:ab12 SUB:001 Stat:expired ERR:5")),
            Ok(("ab12".into(), DeliveryStatus::Undelivered, Some("5".into())))
        );
    }

    #[test]
    fn maps_every_stat() {
        let cases = [
            ("DELIVRD", DeliveryStatus::Delivered),
            ("ACCEPTD", DeliveryStatus::Sent),
            ("ENROUTE", DeliveryStatus::Sent),
            ("UNDELIV", DeliveryStatus::Undelivered),
            ("EXPIRED", DeliveryStatus::Undelivered),
            ("DELETED", DeliveryStatus::Undelivered),
            ("REJECTD", DeliveryStatus::Failed),
            ("UNKNOWN", DeliveryStatus::Failed),
        ];
        for (stat, status) in cases {
            let got = read(&receipt_text(&format!("id:1 stat:{stat} err:000")));
            assert_eq!(got.map(|r| r.1), Ok(status), "{stat}");
        }
        assert_eq!(
            read(&receipt_text("id:1 stat:WEIRD")),
            Err(ReceiptError::UnknownState { id: "1".into(), state: "WEIRD".into() })
        );
    }

    #[test]
    fn tlvs_win_over_the_text() {
        let mut message = receipt_text("id:text-id stat:DELIVRD err:000");
        message.tlvs = vec![
            Tlv { tag: tag::RECEIPTED_MESSAGE_ID, value: b"tlv-id\0".to_vec() },
            Tlv { tag: tag::MESSAGE_STATE, value: vec![5] },
            Tlv { tag: tag::NETWORK_ERROR_CODE, value: vec![3, 0, 27] },
        ];
        // The text's err:000 wins over the TLV and, being all zeros, means no code.
        assert_eq!(read(&message), Ok(("tlv-id".into(), DeliveryStatus::Undelivered, None)));
        message.short_message.clear();
        assert_eq!(read(&message), Ok(("tlv-id".into(), DeliveryStatus::Undelivered, Some("3:27".into()))));
    }

    #[test]
    fn says_what_is_missing() {
        assert_eq!(read(&receipt_text("sub:001 stat:DELIVRD")), Err(ReceiptError::NoId));
        assert_eq!(read(&receipt_text("id:9 sub:001")), Err(ReceiptError::NoState { id: "9".into() }));
        assert!(is_receipt(0x04) && is_receipt(0x44) && is_receipt(0x07) && is_receipt(0x20));
        assert!(!is_receipt(0x00) && !is_receipt(0x40) && !is_receipt(0x08));
    }
}
