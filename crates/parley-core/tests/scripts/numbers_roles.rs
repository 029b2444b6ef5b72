//! Number roles, direct agent numbers and sessionless replies: what a number is for decides whether a
//! text opens a chat, who gets it, and whether the business may write first from it.

use expect_test::expect;

use super::check;

#[test]
fn direct_number_offers_the_chat_to_its_online_agent_with_their_greeting_and_no_menu() {
    check(
        "
        setup direct-alice
        phone +14155550100 to +15550003000> hi, is Alice there?
        agent alice> accept
        agent alice> say Hello!
        ",
        expect![[r#"
            setup direct-alice
            phone +14155550100 to +15550003000> hi, is Alice there?
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> Hi, Alice here (Alice).
              event: Offered alice
              consent: NoticeSent
              status: chat-1 offered (-, agent alice, en)
            agent alice> accept
              event: Connected alice
              system> You are now chatting with Alice Smith.
              status: chat-1 connected (-, agent alice, en)
            agent alice> say Hello!
              alice> Hello!
              event: AgentMessage alice
              status: chat-1 connected (-, agent alice, en)
        "#]],
    );
}

#[test]
fn direct_chat_waits_for_its_offline_agent_and_is_offered_when_they_log_in() {
    check(
        "
        setup direct-alice
        agent alice> offline
        phone +14155550100 to +15550003000> hi
        # Nobody else gets it, even with room in billing or tech.
        agent bob> accept
        agent alice> available
        ",
        expect![[r#"
            setup direct-alice
            agent alice> offline
            phone +14155550100 to +15550003000> hi
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> Hi, Alice here (Alice).
              consent: NoticeSent
              status: chat-1 queued (-, agent -, en)
            agent bob> accept
              refused: NotYourQueue (chat-1)
            agent alice> available
              route chat-1:
                event: Offered alice
                status: chat-1 offered (-, agent alice, en)
        "#]],
    );
}

#[test]
fn direct_chat_outside_the_agents_hours_gets_the_after_hours_text_and_waits() {
    check(
        "
        setup direct-alice
        setup alice-hours
        phone +14155550100 to +15550003000> hi
        # Wednesday 19:00 in New York; alice opens Thursday 09:00 (14:00 UTC), and is offered it then.
        clock +14h
        ",
        expect![[r#"
            setup direct-alice
            setup alice-hours
            phone +14155550100 to +15550003000> hi
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: AfterHours until 2026-01-01 14:00 UTC
              system> Alice Smith is closed now and opens Thu 09:00. Your chat stays in line and an agent will answer then. Reply EXIT to leave.
              consent: NoticeSent
              status: chat-1 queued (-, agent -, en)
            clock +14h
              tick chat-1:
                event: Offered alice
                status: chat-1 offered (-, agent alice, en)
        "#]],
    );
}

#[test]
fn direct_chat_goes_to_the_fallback_queue_when_its_agent_is_away() {
    check(
        "
        setup direct-alice-fallback
        agent alice> away
        phone +14155550100 to +15550003000> hi
        agent bob> accept
        ",
        expect![[r#"
            setup direct-alice-fallback
            agent alice> away
            phone +14155550100 to +15550003000> hi
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued tech
              system> Thanks! You are in the Technical support queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered bob
              consent: NoticeSent
              status: chat-1 offered (tech, agent bob, en)
            agent bob> accept
              event: Connected bob
              system> You are now chatting with Bob Jones.
              status: chat-1 connected (tech, agent bob, en)
        "#]],
    );
}

#[test]
fn direct_chat_after_hours_goes_to_the_fallback_queue() {
    check(
        "
        setup direct-alice-fallback
        setup alice-hours
        phone +14155550100 to +15550003000> hi
        ",
        expect![[r#"
            setup direct-alice-fallback
            setup alice-hours
            phone +14155550100 to +15550003000> hi
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued tech
              system> Thanks! You are in the Technical support queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered bob
              consent: NoticeSent
              status: chat-1 offered (tech, agent bob, en)
        "#]],
    );
}

#[test]
fn outbound_only_number_answers_unmonitored_and_opens_no_chat_but_stop_still_counts() {
    check(
        "
        setup billing-line-outbound-only
        phone +14155550100 to +15550002000> hello?
        phone +14155550100 to +15550002000> HELP
        phone +14155550100 to +15550002000> STOP
        # The opt-out holds on every number.
        api> send +14155550100 Your order shipped
        ",
        expect![[r#"
            setup billing-line-outbound-only
            phone +14155550100 to +15550002000> hello?
              system> Parley: This number does not receive replies. Reply HELP for help, STOP to opt out.
              status: no chat
            phone +14155550100 to +15550002000> HELP
              system> Parley support by text. Reply to chat with us, EXIT to end a chat, STOP to opt out. Msg & data rates may apply.
              status: no chat
            phone +14155550100 to +15550002000> STOP
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut STOP
              status: no chat
            api> send +14155550100 Your order shipped
              refused: OptedOut
        "#]],
    );
}

#[test]
fn outbound_only_number_still_carries_the_chat_an_agent_started_from_it() {
    check(
        "
        setup billing-line-outbound-only
        setup no-quiet-hours
        agent alice from +15550002000> start +14155550100 Hi, about your invoice
        phone +14155550100 to +15550002000> thanks, go ahead
        ",
        expect![[r#"
            setup billing-line-outbound-only
            setup no-quiet-hours
            agent alice from +15550002000> start +14155550100 Hi, about your invoice
              event: Opened
              event: StartedOutbound by alice
              event: Connected alice
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              alice> Hi, about your invoice
              event: AgentMessage alice
              consent: NoticeSent
              status: chat-1 connected (billing, agent alice, en)
            phone +14155550100 to +15550002000> thanks, go ahead
              event: ConsumerMessage
              status: chat-1 connected (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn incoming_only_number_is_refused_as_the_sender() {
    check(
        "
        setup billing-line-incoming-only
        setup no-quiet-hours
        api from +15550002000> send +14155550100 Hi
        api from +15550002000> notify +14155550100 Your code is 1234
        agent alice from +15550002000> start +14155550100 Hi
        # It still takes chats.
        phone +14155550100 to +15550002000> hi
        ",
        expect![[r#"
            setup billing-line-incoming-only
            setup no-quiet-hours
            api from +15550002000> send +14155550100 Hi
              refused: IncomingOnly
            api from +15550002000> notify +14155550100 Your code is 1234
              refused: IncomingOnly
            agent alice from +15550002000> start +14155550100 Hi
              refused: IncomingOnly
            phone +14155550100 to +15550002000> hi
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued billing
              system> Thanks! You are in the Billing queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered alice
              consent: NoticeSent
              status: chat-1 offered (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn sessionless_auto_reply_answers_within_the_window_and_opens_a_chat_after_it() {
    check(
        "
        setup support-auto-reply
        setup no-quiet-hours
        setup notice-once
        api> notify +14155550100 Your order shipped
        clock +2h
        phone +14155550100> where is it?
        phone +14155550100> HELP
        clock +23h
        phone +14155550100> hello?
        ",
        expect![[r#"
            setup support-auto-reply
            setup no-quiet-hours
            setup notice-once
            api> notify +14155550100 Your order shipped
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              api> Your order shipped
              consent: NoticeSent
              status: no chat
            clock +2h
            phone +14155550100> where is it?
              reply to: notification-1
              system> Parley: This number does not receive replies. Reply HELP for help, STOP to opt out.
              status: no chat
            phone +14155550100> HELP
              system> Parley support by text. Reply to chat with us, EXIT to end a chat, STOP to opt out. Msg & data rates may apply.
              status: no chat
            clock +23h
            phone +14155550100> hello?
              event: Opened
              event: ConsumerMessage
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              status: chat-1 selecting (-, agent -, en)
        "#]],
    );
}

#[test]
fn sessionless_reply_opens_a_chat_by_default() {
    check(
        "
        setup no-quiet-hours
        setup notice-once
        api> notify +14155550100 Your order shipped
        phone +14155550100> 1
        ",
        expect![[r#"
            setup no-quiet-hours
            setup notice-once
            api> notify +14155550100 Your order shipped
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              api> Your order shipped
              consent: NoticeSent
              status: no chat
            phone +14155550100> 1
              event: Opened
              event: ConsumerMessage
              event: Queued billing
              system> Thanks! You are in the Billing queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered alice
              status: chat-1 offered (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn with_auto_reply_a_live_chat_on_the_number_takes_the_text() {
    check(
        "
        setup support-auto-reply
        setup no-quiet-hours
        setup notice-once
        phone +14155550100> 1
        api> notify +14155550100 Your order shipped
        phone +14155550100> did it ship?
        ",
        expect![[r#"
            setup support-auto-reply
            setup no-quiet-hours
            setup notice-once
            phone +14155550100> 1
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued billing
              system> Thanks! You are in the Billing queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered alice
              consent: NoticeSent
              status: chat-1 offered (billing, agent alice, en)
            api> notify +14155550100 Your order shipped
              api> Your order shipped
              status: no chat
            phone +14155550100> did it ship?
              event: ConsumerMessage
              status: chat-1 offered (billing, agent alice, en)
        "#]],
    );
}
