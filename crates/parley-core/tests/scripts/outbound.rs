//! The business writes first: an agent starts a chat, the outbound API starts or joins one, or a
//! sessionless notification goes out. An opted-out phone is refused on every path; quiet hours hold
//! proactive messages in the consumer's local time, but never a reply in a chat the consumer started.

use expect_test::expect;

use crate::check;

#[test]
fn an_agent_starts_a_chat_with_the_opt_in_notice_first_and_the_answer_reaches_them() {
    check(
        r#"
        agent bob> start +14155550100 Hi, this is Bob from tech support about your ticket.
        phone +14155550100> Thanks, it works now
        agent bob> say Great, closing the ticket.
        agent bob> end
        "#,
        expect![[r#"
            agent bob> start +14155550100 Hi, this is Bob from tech support about your ticket.
              event: Opened
              event: StartedOutbound by bob
              event: Connected bob
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              bob> Hi, this is Bob from tech support about your ticket.
              event: AgentMessage bob
              consent: NoticeSent
              status: chat-1 connected (tech, agent bob, en)
            phone +14155550100> Thanks, it works now
              event: ConsumerMessage
              status: chat-1 connected (tech, agent bob, en)
            agent bob> say Great, closing the ticket.
              bob> Great, closing the ticket.
              event: AgentMessage bob
              status: chat-1 connected (tech, agent bob, en)
            agent bob> end
              event: Ended ended_by_agent by bob
              system> This chat has ended. Text us any time to start a new one.
              status: chat-1 finished (tech, agent bob, en, ended_by_agent by bob)
        "#]],
    );
}

#[test]
fn an_agent_cannot_start_a_chat_on_a_live_chat_that_is_not_theirs() {
    check(
        r#"
        phone +14155550100> tech
        agent carol> start +14155550100 Hello
        agent bob> accept
        agent bob> start +14155550100 Bob again, one more thing
        "#,
        expect![[r#"
            phone +14155550100> tech
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued tech
              system> Thanks! You are in the Technical support queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered bob
              consent: NoticeSent
              status: chat-1 offered (tech, agent bob, en)
            agent carol> start +14155550100 Hello
              refused: ChatInProgress
            agent bob> accept
              event: Connected bob
              system> You are now chatting with Bob Jones.
              status: chat-1 connected (tech, agent bob, en)
            agent bob> start +14155550100 Bob again, one more thing
              bob> Bob again, one more thing
              event: AgentMessage bob
              status: chat-1 connected (tech, agent bob, en)
        "#]],
    );
}

#[test]
fn an_api_message_opens_a_chat_whose_answer_enters_the_menu() {
    check(
        r#"
        api> send +14155550100 Your order shipped. Reply to talk to us.
        phone +14155550100> where is it?
        phone +14155550100> 1
        api> send +14155550100 Tracking: 1Z999
        "#,
        expect![[r#"
            api> send +14155550100 Your order shipped. Reply to talk to us.
              event: Opened
              event: StartedOutbound by api
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              api> Your order shipped. Reply to talk to us.
              consent: NoticeSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> where is it?
              event: ConsumerMessage
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> 1
              event: ConsumerMessage
              event: Queued billing
              system> Thanks! You are in the Billing queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered alice
              status: chat-1 offered (billing, agent alice, en)
            api> send +14155550100 Tracking: 1Z999
              api> Tracking: 1Z999
              status: chat-1 offered (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn a_sessionless_notification_opens_no_chat_and_the_answer_starts_one() {
    check(
        r#"
        setup notice-once
        api> notify +14155550100 Your code is 123456
        api> notify +14155550100 Your code is 654321
        phone +14155550100> tech
        "#,
        expect![[r#"
            setup notice-once
            api> notify +14155550100 Your code is 123456
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              api> Your code is 123456
              consent: NoticeSent
              status: no chat
            api> notify +14155550100 Your code is 654321
              api> Your code is 654321
              status: no chat
            phone +14155550100> tech
              event: Opened
              event: ConsumerMessage
              event: Queued tech
              system> Thanks! You are in the Technical support queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered bob
              status: chat-1 offered (tech, agent bob, en)
        "#]],
    );
}

#[test]
fn nothing_proactive_reaches_an_opted_out_phone() {
    check(
        r#"
        phone +14155550100> STOP
        api> send +14155550100 Sale today!
        api> notify +14155550100 Your code is 123456
        agent bob> start +14155550100 Hello
        phone +14155550100> START
        api> notify +14155550100 Your code is 123456
        "#,
        expect![[r#"
            phone +14155550100> STOP
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut STOP
              status: no chat
            api> send +14155550100 Sale today!
              refused: OptedOut
            api> notify +14155550100 Your code is 123456
              refused: OptedOut
            agent bob> start +14155550100 Hello
              refused: OptedOut
            phone +14155550100> START
              system> Parley: You are subscribed again. Reply HELP for help, STOP to opt out.
              consent: OptedIn START
              status: no chat
            api> notify +14155550100 Your code is 123456
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              api> Your code is 123456
              consent: NoticeSent
              status: no chat
        "#]],
    );
}

#[test]
fn quiet_hours_hold_proactive_messages_until_morning_in_the_consumers_zone() {
    // The script starts at 2026-01-01 00:00 UTC: 19:00 in New York, 16:00 in San Francisco.
    check(
        r#"
        api> notify +12125550100 Before nine in New York
        clock +3h
        api> notify +12125550100 Ten at night in New York
        api> notify-now +12125550101 Must go now
        api> notify +14155550102 Seven in the evening in San Francisco
        api> send +442079460000 Three in the morning in London
        "#,
        expect![[r#"
            api> notify +12125550100 Before nine in New York
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              api> Before nine in New York
              consent: NoticeSent
              status: no chat
            clock +3h
            api> notify +12125550100 Ten at night in New York
              api (not before 2026-01-01 13:00 UTC)> Ten at night in New York
              status: no chat
            api> notify-now +12125550101 Must go now
              refused: QuietHours until 2026-01-01 13:00 UTC (America/New_York)
            api> notify +14155550102 Seven in the evening in San Francisco
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              api> Seven in the evening in San Francisco
              consent: NoticeSent
              status: no chat
            api> send +442079460000 Three in the morning in London
              event: Opened
              event: StartedOutbound by api
              system (not before 2026-01-01 08:00 UTC)> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              api (not before 2026-01-01 08:00 UTC)> Three in the morning in London
              consent: NoticeSent
              status: chat-1 selecting (-, agent -, en)
        "#]],
    );
}

#[test]
fn without_quiet_hours_proactive_messages_go_out_at_any_hour() {
    check(
        r#"
        setup no-quiet-hours
        clock +5h
        api> notify-now +12125550100 Midnight in New York
        "#,
        expect![[r#"
            setup no-quiet-hours
            clock +5h
            api> notify-now +12125550100 Midnight in New York
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              api> Midnight in New York
              consent: NoticeSent
              status: no chat
        "#]],
    );
}

#[test]
fn quiet_hours_do_not_hold_replies_in_a_chat_the_consumer_started() {
    check(
        r#"
        clock +4h
        phone +12125550100> tech
        agent bob> accept
        agent bob> say Answering at eleven at night is fine: they wrote to us
        api> send +12125550100 The API joins their chat, also fine
        agent bob> end
        agent bob> start +12125550100 A new chat at eleven at night waits
        "#,
        expect![[r#"
            clock +4h
            phone +12125550100> tech
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
            agent bob> say Answering at eleven at night is fine: they wrote to us
              bob> Answering at eleven at night is fine: they wrote to us
              event: AgentMessage bob
              status: chat-1 connected (tech, agent bob, en)
            api> send +12125550100 The API joins their chat, also fine
              api> The API joins their chat, also fine
              status: chat-1 connected (tech, agent bob, en)
            agent bob> end
              event: Ended ended_by_agent by bob
              system> This chat has ended. Text us any time to start a new one.
              status: chat-1 finished (tech, agent bob, en, ended_by_agent by bob)
            agent bob> start +12125550100 A new chat at eleven at night waits
              event: Opened
              event: StartedOutbound by bob
              event: Connected bob
              bob (not before 2026-01-01 13:00 UTC)> A new chat at eleven at night waits
              event: AgentMessage bob
              status: chat-2 connected (tech, agent bob, en)
        "#]],
    );
}

#[test]
fn a_deflected_caller_keeps_the_place_they_had_in_the_voice_queue() {
    check(
        r#"
        agent bob> away
        agent carol> away
        phone +14155550100> tech
        clock +2m
        api> deflect +14155550101 tech 10m Thanks for switching to text. You keep your place in line.
        agent bob> available
        "#,
        expect![[r#"
            agent bob> away
            agent carol> away
            phone +14155550100> tech
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued tech
              system> Thanks! You are number 1 in the Technical support queue. Estimated wait: about 5 min. Reply EXIT to leave.
              consent: NoticeSent
              status: chat-1 queued (tech, agent -, en)
            clock +2m
            api> deflect +14155550101 tech 10m Thanks for switching to text. You keep your place in line.
              event: Opened
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> Thanks for switching to text. You keep your place in line.
              event: Queued tech
              system> Thanks! You are number 2 in the Technical support queue. Estimated wait: about 10 min. Reply EXIT to leave.
              consent: NoticeSent
              status: chat-2 queued (tech, agent -, en)
            agent bob> available
              route chat-2:
                event: Offered bob
                status: chat-2 offered (tech, agent bob, en)
              route chat-1:
                event: Offered bob
                status: chat-1 offered (tech, agent bob, en)
        "#]],
    );
}

#[test]
fn a_deflection_repeated_for_the_same_call_sends_no_second_first_message() {
    check(
        r#"
        api> deflect +14155550101 tech 1m Thanks for switching to text.
        api> deflect +14155550101 tech 1m Thanks for switching to text.
        "#,
        expect![[r#"
            api> deflect +14155550101 tech 1m Thanks for switching to text.
              event: Opened
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> Thanks for switching to text.
              event: Queued tech
              event: Offered bob
              consent: NoticeSent
              status: chat-1 offered (tech, agent bob, en)
            api> deflect +14155550101 tech 1m Thanks for switching to text.
              status: chat-1 offered (tech, agent bob, en)
        "#]],
    );
}

#[test]
fn an_opted_out_caller_is_not_deflected_to_sms() {
    check(
        r#"
        api> opt-out +14155550101
        api> deflect +14155550101 tech 1m Thanks for switching to text.
        "#,
        expect![[r#"
            api> opt-out +14155550101
              consent: OptedOut (outside SMS)
            api> deflect +14155550101 tech 1m Thanks for switching to text.
              refused: OptedOut
        "#]],
    );
}
