//! A voice call's SMS thread on an in_call number (docs/ivr.md): opened by the platform's wait-time
//! SMS or the call's agent, the caller's texts and media kept in it without SMS commands, the agent's
//! when the call connects (none of their chat capacity), untouched by the chats' timers, and ended
//! silently with the call; without a thread the number answers `unmonitored` and opens no chat.

use expect_test::expect;

use super::check;

#[test]
fn a_wait_time_sms_thread_waits_for_the_call_takes_no_timer_and_ends_with_it() {
    check(
        "
        setup in-call-line
        ivr> text +14155550100 Reply with a photo while you wait.
        phone +14155550100 to +15550007000> [photo]
        phone +14155550100 to +15550007000> menu
        ivr> connect chat-1 alice
        agent alice> say Thanks, I see the photo.
        clock +25h
        ivr> end chat-1
        phone +14155550100 to +15550007000> hello?
        ",
        expect![[r#"
            setup in-call-line
            ivr> text +14155550100 Reply with a photo while you wait.
              event: Opened
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> Reply with a photo while you wait.
              consent: NoticeSent
              status: chat-1 queued (-, agent -, en)
            phone +14155550100 to +15550007000> [photo]
              event: ConsumerMessage
              status: chat-1 queued (-, agent -, en)
            phone +14155550100 to +15550007000> menu
              event: ConsumerMessage
              status: chat-1 queued (-, agent -, en)
            ivr> connect chat-1 alice
              event: Connected alice
              status: chat-1 connected (-, agent alice, en)
            agent alice> say Thanks, I see the photo.
              alice> Thanks, I see the photo.
              event: AgentMessage alice
              status: chat-1 connected (-, agent alice, en)
            clock +25h
            ivr> end chat-1
              event: Ended call_ended by ivr
              status: chat-1 finished (-, agent alice, en, call_ended by ivr)
            phone +14155550100 to +15550007000> hello?
              system> Parley: This number does not receive replies. Reply HELP for help, STOP to opt out.
              status: no chat
        "#]],
    );
}

#[test]
fn the_agent_writes_first_during_a_call_and_the_number_sends_nothing_else() {
    check(
        "
        setup in-call-line
        ivr> agent-text +14155550100 alice Hi, it's Alice from the call: send me a screenshot.
        phone +14155550100 to +15550007000> EXIT
        ivr> agent-text +14155550100 bob I am not on this call.
        api from +15550007000> send +14155550100 A notification
        phone +14155550101 to +15550007000> hi
        phone +14155550100 to +15550007000> STOP
        ivr> agent-text +14155550100 alice Still there?
        ",
        expect![[r#"
            setup in-call-line
            ivr> agent-text +14155550100 alice Hi, it's Alice from the call: send me a screenshot.
              event: Opened
              event: Connected alice
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              alice> Hi, it's Alice from the call: send me a screenshot.
              event: AgentMessage alice
              consent: NoticeSent
              status: chat-1 connected (-, agent alice, en)
            phone +14155550100 to +15550007000> EXIT
              event: ConsumerMessage
              status: chat-1 connected (-, agent alice, en)
            ivr> agent-text +14155550100 bob I am not on this call.
              refused: NotConnected
            api from +15550007000> send +14155550100 A notification
              refused: CallsOnly
            phone +14155550101 to +15550007000> hi
              system> Parley: This number does not receive replies. Reply HELP for help, STOP to opt out.
              status: no chat
            phone +14155550100 to +15550007000> STOP
              event: ConsumerMessage
              event: OptedOut
              event: Ended opted_out by consumer
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut STOP
              status: chat-1 finished (-, agent alice, en, opted_out by consumer)
            ivr> agent-text +14155550100 alice Still there?
              refused: OptedOut
        "#]],
    );
}
