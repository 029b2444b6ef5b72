//! Whether a caller is offered to leave the voice queue for an SMS chat (pre-session deflection): the
//! queue has it on, the call is still waiting, nobody answered an offer on this call yet, the caller
//! can receive SMS (not opted out, not blocked, a mobile phone where that is known), and the
//! estimated wait is over the queue's threshold.

use crate::setup::ivr::Deflection;

use super::call::CallStatus;

/// What is known about the caller's phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Caller {
    pub opted_out: bool,
    pub blocked: bool,
    /// `Some(false)`: a landline or another phone that takes no SMS, as the IVR or the carrier says;
    /// `None`: not known (offered).
    pub mobile: Option<bool>,
}

/// Why no offer is made; the API answers it as `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoOffer {
    /// The queue has no `deflection`.
    NotConfigured,
    /// `enabled = false`.
    Disabled,
    /// The call is with an agent or has ended.
    CallNotWaiting,
    /// An offer on this call was accepted or declined already.
    Answered,
    OptedOut,
    Blocked,
    NotMobile,
    /// The estimated wait is not over the threshold.
    UnderThreshold,
}

impl NoOffer {
    pub fn as_str(self) -> &'static str {
        match self {
            NoOffer::NotConfigured => "not_configured",
            NoOffer::Disabled => "disabled",
            NoOffer::CallNotWaiting => "call_not_waiting",
            NoOffer::Answered => "answered",
            NoOffer::OptedOut => "opted_out",
            NoOffer::Blocked => "blocked",
            NoOffer::NotMobile => "not_mobile",
            NoOffer::UnderThreshold => "under_threshold",
        }
    }
}

/// The decision for a call in `status` whose caller is `caller`, facing `ewt_seconds`; `answered`
/// when an offer on the call was accepted or declined.
pub fn decide(
    deflection: Option<&Deflection>,
    status: CallStatus,
    answered: bool,
    caller: Caller,
    ewt_seconds: u32,
) -> Result<(), NoOffer> {
    let d = deflection.ok_or(NoOffer::NotConfigured)?;
    if !d.enabled {
        return Err(NoOffer::Disabled);
    }
    if !status.waiting() {
        return Err(NoOffer::CallNotWaiting);
    }
    if answered {
        return Err(NoOffer::Answered);
    }
    if caller.opted_out {
        return Err(NoOffer::OptedOut);
    }
    if caller.blocked {
        return Err(NoOffer::Blocked);
    }
    if caller.mobile == Some(false) {
        return Err(NoOffer::NotMobile);
    }
    if ewt_seconds <= d.ewt_threshold_seconds {
        return Err(NoOffer::UnderThreshold);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::QueueId;
    use crate::phone::BusinessNumber;

    fn on(threshold: u32) -> Deflection {
        Deflection {
            enabled: true,
            ewt_threshold_seconds: threshold,
            prompt: "Press 1 to continue by SMS".into(),
            sms_number: BusinessNumber::parse("+15550001000").unwrap(),
            sms_queue: QueueId::parse("billing").unwrap(),
            first_message: "Hi, this is Acme".into(),
        }
    }

    #[test]
    fn deflection_is_offered_over_the_threshold_to_a_caller_who_can_text() {
        let d = on(120);
        assert_eq!(decide(Some(&d), CallStatus::Queued, false, Caller::default(), 121), Ok(()));
        assert_eq!(
            decide(Some(&d), CallStatus::Started, false, Caller { mobile: Some(true), ..Caller::default() }, 600),
            Ok(())
        );
        assert_eq!(
            decide(Some(&d), CallStatus::Queued, false, Caller::default(), 120),
            Err(NoOffer::UnderThreshold),
            "over, not at"
        );
    }

    #[test]
    fn deflection_names_why_it_is_not_offered() {
        let d = on(0);
        let any = Caller::default();
        assert_eq!(decide(None, CallStatus::Queued, false, any, 999), Err(NoOffer::NotConfigured));
        assert_eq!(
            decide(Some(&Deflection { enabled: false, ..d.clone() }), CallStatus::Queued, false, any, 999),
            Err(NoOffer::Disabled)
        );
        assert_eq!(decide(Some(&d), CallStatus::Connected, false, any, 999), Err(NoOffer::CallNotWaiting));
        assert_eq!(decide(Some(&d), CallStatus::Ended, false, any, 999), Err(NoOffer::CallNotWaiting));
        assert_eq!(decide(Some(&d), CallStatus::OverCapacity, true, any, 999), Err(NoOffer::Answered));
        assert_eq!(
            decide(Some(&d), CallStatus::Queued, false, Caller { opted_out: true, ..any }, 999),
            Err(NoOffer::OptedOut)
        );
        assert_eq!(
            decide(Some(&d), CallStatus::Queued, false, Caller { blocked: true, ..any }, 999),
            Err(NoOffer::Blocked)
        );
        assert_eq!(
            decide(Some(&d), CallStatus::Queued, false, Caller { mobile: Some(false), ..any }, 999),
            Err(NoOffer::NotMobile)
        );
    }
}
