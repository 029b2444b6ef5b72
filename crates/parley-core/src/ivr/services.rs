//! The seed platform's services that combine SMS with a call, and what each allows (its feature
//! table, docs/ivr.md "The services"). The API and the engine ask [`may_send`] before a message of a
//! service goes out; the table's other rows say what a service is linked to and how it starts.

use super::call::CallStatus;

/// A service that sends SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// An SMS to a caller waiting in an over-capacity voice queue, whose replies wait for the agent.
    WaitTimeSms,
    /// Texts between the agent on a call and the caller, on an `in_call` number.
    SmsDuringCall,
    /// The SMS chat.
    SmsChannel,
    /// The caller leaves the voice queue for an SMS chat.
    PreSessionDeflection,
    /// `POST /api/v1/outbound/chats`.
    OutboundSmsApi,
    /// `POST /api/v1/outbound/messages`: a notification, no chat.
    SessionlessSmsApi,
}

/// Who sends what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// A predefined message the platform sends by itself (system messages, the first SMS).
    Platform,
    /// An agent writing their own text.
    AgentCustom,
    /// An agent sending a predefined reply.
    AgentPredefined,
}

/// What a service's messages are linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Session {
    Call,
    Chat,
    /// The chat the service starts.
    NewChat,
    None,
}

/// Why a message of a service may not go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotAllowed {
    #[error("this service sends no predefined messages of the platform's (the API's text is sent)")]
    NoPlatformMessages,
    #[error("agents send nothing in this service (it has no chat)")]
    NoAgentMessages,
    #[error("the call is not with an agent yet")]
    NotConnected,
    #[error("the call has ended")]
    CallEnded,
}

impl Service {
    /// Row 1: the platform sends predefined messages.
    pub fn platform_sends_predefined(self) -> bool {
        !matches!(self, Service::OutboundSmsApi | Service::SessionlessSmsApi)
    }

    /// Row 2: the agent can send custom messages (for the wait-time SMS once the call is with them).
    pub fn agent_sends_custom(self) -> bool {
        self != Service::SessionlessSmsApi
    }

    /// Row 3: the agent can send predefined messages.
    pub fn agent_sends_predefined(self) -> bool {
        self != Service::SessionlessSmsApi
    }

    /// Row 4: needs an active IVR call.
    pub fn needs_active_call(self) -> bool {
        matches!(self, Service::WaitTimeSms | Service::SmsDuringCall)
    }

    /// Row 5: starts in the IVR and moves to SMS.
    pub fn moves_from_ivr_to_sms(self) -> bool {
        self == Service::PreSessionDeflection
    }

    /// Row 6: has an EWT threshold (the wait-time SMS is offered on the queue being over capacity).
    pub fn has_ewt_threshold(self) -> bool {
        self == Service::PreSessionDeflection
    }

    /// Row 7: what it is linked to.
    pub fn session(self) -> Session {
        match self {
            Service::WaitTimeSms | Service::SmsDuringCall => Session::Call,
            Service::SmsChannel | Service::OutboundSmsApi => Session::Chat,
            Service::PreSessionDeflection => Session::NewChat,
            Service::SessionlessSmsApi => Session::None,
        }
    }
}

/// Whether `sender` may send a message of `service` now; `call` is the call's state for the services
/// that need one.
pub fn may_send(service: Service, sender: Sender, call: Option<CallStatus>) -> Result<(), NotAllowed> {
    let allowed = match sender {
        Sender::Platform => service.platform_sends_predefined(),
        Sender::AgentCustom => service.agent_sends_custom(),
        Sender::AgentPredefined => service.agent_sends_predefined(),
    };
    if !allowed {
        return Err(if sender == Sender::Platform {
            NotAllowed::NoPlatformMessages
        } else {
            NotAllowed::NoAgentMessages
        });
    }
    if service.needs_active_call() {
        match call {
            None | Some(CallStatus::Ended) => return Err(NotAllowed::CallEnded),
            // An agent writes once the call is with them; the platform's wait-time SMS goes to a
            // caller still waiting.
            Some(status) if sender != Sender::Platform && status != CallStatus::Connected => {
                return Err(NotAllowed::NotConnected);
            }
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Service::*;

    /// One test per cell of the seed's table.
    macro_rules! cells {
        ($($name:ident: $value:expr => $expected:expr;)*) => {
            $(#[test] fn $name() { assert_eq!($value, $expected); })*
        };
    }

    cells! {
        table_platform_predefined_wait_time_sms: WaitTimeSms.platform_sends_predefined() => true;
        table_platform_predefined_sms_during_call: SmsDuringCall.platform_sends_predefined() => true;
        table_platform_predefined_sms_channel: SmsChannel.platform_sends_predefined() => true;
        table_platform_predefined_deflection: PreSessionDeflection.platform_sends_predefined() => true;
        table_platform_predefined_outbound_api: OutboundSmsApi.platform_sends_predefined() => false;
        table_platform_predefined_sessionless_api: SessionlessSmsApi.platform_sends_predefined() => false;

        table_agent_custom_wait_time_sms_once_connected: may_send(WaitTimeSms, Sender::AgentCustom, Some(CallStatus::Connected)) => Ok(());
        table_agent_custom_wait_time_sms_not_while_waiting: may_send(WaitTimeSms, Sender::AgentCustom, Some(CallStatus::OverCapacity)) => Err(NotAllowed::NotConnected);
        table_agent_custom_sms_during_call: may_send(SmsDuringCall, Sender::AgentCustom, Some(CallStatus::Connected)) => Ok(());
        table_agent_custom_sms_channel: may_send(SmsChannel, Sender::AgentCustom, None) => Ok(());
        table_agent_custom_deflection: may_send(PreSessionDeflection, Sender::AgentCustom, None) => Ok(());
        table_agent_custom_outbound_api: may_send(OutboundSmsApi, Sender::AgentCustom, None) => Ok(());
        table_agent_custom_sessionless_api: may_send(SessionlessSmsApi, Sender::AgentCustom, None) => Err(NotAllowed::NoAgentMessages);

        table_agent_predefined_wait_time_sms: may_send(WaitTimeSms, Sender::AgentPredefined, Some(CallStatus::Connected)) => Ok(());
        table_agent_predefined_sms_during_call: may_send(SmsDuringCall, Sender::AgentPredefined, Some(CallStatus::Connected)) => Ok(());
        table_agent_predefined_sms_channel: may_send(SmsChannel, Sender::AgentPredefined, None) => Ok(());
        table_agent_predefined_deflection: may_send(PreSessionDeflection, Sender::AgentPredefined, None) => Ok(());
        table_agent_predefined_outbound_api: may_send(OutboundSmsApi, Sender::AgentPredefined, None) => Ok(());
        table_agent_predefined_sessionless_api: may_send(SessionlessSmsApi, Sender::AgentPredefined, None) => Err(NotAllowed::NoAgentMessages);

        table_needs_call_wait_time_sms: WaitTimeSms.needs_active_call() => true;
        table_needs_call_wait_time_sms_refused_after_the_call: may_send(WaitTimeSms, Sender::Platform, Some(CallStatus::Ended)) => Err(NotAllowed::CallEnded);
        table_needs_call_sms_during_call: SmsDuringCall.needs_active_call() => true;
        table_needs_call_sms_during_call_refused_without_one: may_send(SmsDuringCall, Sender::AgentCustom, None) => Err(NotAllowed::CallEnded);
        table_needs_call_sms_channel: SmsChannel.needs_active_call() => false;
        table_needs_call_deflection: PreSessionDeflection.needs_active_call() => false;
        table_needs_call_outbound_api: OutboundSmsApi.needs_active_call() => false;
        table_needs_call_sessionless_api: SessionlessSmsApi.needs_active_call() => false;

        table_moves_wait_time_sms: WaitTimeSms.moves_from_ivr_to_sms() => false;
        table_moves_sms_during_call: SmsDuringCall.moves_from_ivr_to_sms() => false;
        table_moves_sms_channel: SmsChannel.moves_from_ivr_to_sms() => false;
        table_moves_deflection: PreSessionDeflection.moves_from_ivr_to_sms() => true;
        table_moves_outbound_api: OutboundSmsApi.moves_from_ivr_to_sms() => false;
        table_moves_sessionless_api: SessionlessSmsApi.moves_from_ivr_to_sms() => false;

        table_ewt_wait_time_sms: WaitTimeSms.has_ewt_threshold() => false;
        table_ewt_sms_during_call: SmsDuringCall.has_ewt_threshold() => false;
        table_ewt_sms_channel: SmsChannel.has_ewt_threshold() => false;
        table_ewt_deflection: PreSessionDeflection.has_ewt_threshold() => true;
        table_ewt_outbound_api: OutboundSmsApi.has_ewt_threshold() => false;
        table_ewt_sessionless_api: SessionlessSmsApi.has_ewt_threshold() => false;

        table_session_wait_time_sms: WaitTimeSms.session() => Session::Call;
        table_session_sms_during_call: SmsDuringCall.session() => Session::Call;
        table_session_sms_channel: SmsChannel.session() => Session::Chat;
        table_session_deflection: PreSessionDeflection.session() => Session::NewChat;
        table_session_outbound_api: OutboundSmsApi.session() => Session::Chat;
        table_session_sessionless_api: SessionlessSmsApi.session() => Session::None;
    }

    #[test]
    fn table_the_platforms_wait_time_sms_goes_to_a_caller_still_waiting() {
        assert_eq!(may_send(WaitTimeSms, Sender::Platform, Some(CallStatus::OverCapacity)), Ok(()));
        assert_eq!(may_send(OutboundSmsApi, Sender::Platform, None), Err(NotAllowed::NoPlatformMessages));
    }
}
