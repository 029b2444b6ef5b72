//! Business numbers as carriers see them: what kind of sender each is, and where it stands in its
//! registration. A number that is not enabled neither sends nor opens chats.

/// What kind of sender a number is; US carriers require registration for all but plain long codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NumberKind {
    /// A long code outside the US rules (no registration required).
    #[default]
    LongCode,
    /// A US 10DLC long code: needs a registered brand and campaign.
    Us10dlc,
    /// A US toll-free number: needs toll-free verification.
    TollFree,
    /// A short code: approved by the carriers.
    ShortCode,
}

impl NumberKind {
    /// The kind as written in the setup document.
    pub fn as_str(self) -> &'static str {
        match self {
            NumberKind::LongCode => "long_code",
            NumberKind::Us10dlc => "us_10dlc",
            NumberKind::TollFree => "toll_free",
            NumberKind::ShortCode => "short_code",
        }
    }

    /// Parses a kind; the empty string is a plain long code.
    pub fn parse(text: &str) -> Option<NumberKind> {
        match text {
            "" | "long_code" => Some(NumberKind::LongCode),
            "us_10dlc" => Some(NumberKind::Us10dlc),
            "toll_free" => Some(NumberKind::TollFree),
            "short_code" => Some(NumberKind::ShortCode),
            _ => None,
        }
    }

    /// The state a number of this kind starts in: registered kinds wait for their registration.
    pub fn initial_state(self) -> NumberState {
        match self {
            NumberKind::LongCode => NumberState::Enabled,
            NumberKind::Us10dlc | NumberKind::TollFree | NumberKind::ShortCode => NumberState::Requested,
        }
    }
}

/// Where a number stands in its registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberState {
    Requested,
    InReview,
    Enabled,
    Rejected,
    Suspended,
}

impl NumberState {
    /// The state as stored and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            NumberState::Requested => "requested",
            NumberState::InReview => "in_review",
            NumberState::Enabled => "enabled",
            NumberState::Rejected => "rejected",
            NumberState::Suspended => "suspended",
        }
    }

    /// Parses a stored state.
    pub fn parse(text: &str) -> Option<NumberState> {
        [
            NumberState::Requested,
            NumberState::InReview,
            NumberState::Enabled,
            NumberState::Rejected,
            NumberState::Suspended,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Whether a number in this state may send and open chats.
    pub fn is_enabled(self) -> bool {
        self == NumberState::Enabled
    }

    /// Whether a number may go from this state to `next`: requested → in review → enabled or rejected;
    /// an enabled number may be suspended and a suspended one enabled again; a rejected registration may
    /// be requested again.
    pub fn may_become(self, next: NumberState) -> bool {
        use NumberState::*;
        matches!(
            (self, next),
            (Requested, InReview)
                | (InReview, Enabled)
                | (InReview, Rejected)
                | (Enabled, Suspended)
                | (Suspended, Enabled)
                | (Rejected, Requested)
                | (Requested, Enabled)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_kinds_start_requested() {
        assert_eq!(NumberKind::parse("").map(NumberKind::initial_state), Some(NumberState::Enabled));
        assert_eq!(NumberKind::parse("us_10dlc").map(NumberKind::initial_state), Some(NumberState::Requested));
        assert_eq!(NumberKind::parse("toll_free").map(NumberKind::initial_state), Some(NumberState::Requested));
        assert_eq!(NumberKind::parse("landline"), None);
    }

    #[test]
    fn the_registration_path_is_enforced() {
        use NumberState::*;
        assert!(Requested.may_become(InReview));
        assert!(InReview.may_become(Enabled));
        assert!(InReview.may_become(Rejected));
        assert!(Enabled.may_become(Suspended));
        assert!(Suspended.may_become(Enabled));
        assert!(Rejected.may_become(Requested));
        assert!(!Rejected.may_become(Enabled), "a rejected registration goes through review again");
        assert!(!Enabled.may_become(Requested));
        assert!(!Suspended.may_become(Rejected));
        assert!(Enabled.is_enabled() && !Suspended.is_enabled() && !InReview.is_enabled());
    }
}
