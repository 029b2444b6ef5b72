//! Chat timers, driven by the clock: offers that time out move on, silent consumers are warned and
//! then closed, sessions expire, and a queue may limit how long a chat waits. Each fires once.

use expect_test::expect;

use crate::check;

#[test]
fn an_offer_nobody_accepts_moves_to_the_next_agent_and_back() {
    check(
        r#"
        phone +14155550100> tech
        clock +59s
        clock +1s
        clock +60s
        agent bob> accept
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
            clock +59s
            clock +1s
              tick chat-1:
                event: OfferTimedOut bob
                event: Offered carol
                status: chat-1 offered (tech, agent carol, en)
            clock +60s
              tick chat-1:
                event: OfferTimedOut carol
                event: Offered bob
                status: chat-1 offered (tech, agent bob, en)
            agent bob> accept
              event: Connected bob
              system> You are now chatting with Bob Jones.
              status: chat-1 connected (tech, agent bob, en)
        "#]],
    );
}

#[test]
fn the_only_agent_of_a_queue_gets_the_offer_again() {
    check(
        r#"
        phone +14155550100> billing
        clock +61s
        agent alice> accept
        "#,
        expect![[r#"
            phone +14155550100> billing
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued billing
              system> Thanks! You are in the Billing queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered alice
              consent: NoticeSent
              status: chat-1 offered (billing, agent alice, en)
            clock +61s
              tick chat-1:
                event: OfferTimedOut alice
                event: Offered alice
                status: chat-1 offered (billing, agent alice, en)
            agent alice> accept
              event: Connected alice
              system> You are now chatting with Alice Smith.
              status: chat-1 connected (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn a_silent_consumer_is_warned_then_the_chat_closes_and_a_message_resets_the_warning() {
    check(
        r#"
        phone +14155550100> tech
        agent bob> accept
        clock +15m
        phone +14155550100> sorry, here
        clock +14m
        agent bob> say Anything else?
        clock +15m
        clock +4m
        clock +1m
        phone +14155550100> hello?
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
            agent bob> accept
              event: Connected bob
              system> You are now chatting with Bob Jones.
              status: chat-1 connected (tech, agent bob, en)
            clock +15m
              tick chat-1:
                system> Are you still there? This chat closes in 5 minutes unless you reply.
                event: InactivityWarning
                status: chat-1 connected (tech, agent bob, en)
            phone +14155550100> sorry, here
              event: ConsumerMessage
              status: chat-1 connected (tech, agent bob, en)
            clock +14m
            agent bob> say Anything else?
              bob> Anything else?
              event: AgentMessage bob
              status: chat-1 connected (tech, agent bob, en)
            clock +15m
              tick chat-1:
                system> Are you still there? This chat closes in 5 minutes unless you reply.
                event: InactivityWarning
                status: chat-1 connected (tech, agent bob, en)
            clock +4m
            clock +1m
              tick chat-1:
                event: Ended consumer_silent by system
                system> We closed this chat because we did not hear back. Text us any time to start a new one.
                status: chat-1 finished (tech, agent bob, en, consumer_silent by system)
            phone +14155550100> hello?
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              consent: NoticeSent
              status: chat-2 selecting (-, agent -, en)
        "#]],
    );
}

#[test]
fn a_session_expires_after_a_day_and_the_next_text_starts_a_new_chat() {
    check(
        r#"
        phone +14155550100> billing
        agent alice> accept
        clock +10m
        agent alice> say Still checking
        clock +10m
        agent alice> say Found it
        clock +14m
        phone +14155550100> thanks
        clock +23h
        clock +26m
        phone +14155550100> one more question
        "#,
        expect![[r#"
            phone +14155550100> billing
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued billing
              system> Thanks! You are in the Billing queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered alice
              consent: NoticeSent
              status: chat-1 offered (billing, agent alice, en)
            agent alice> accept
              event: Connected alice
              system> You are now chatting with Alice Smith.
              status: chat-1 connected (billing, agent alice, en)
            clock +10m
            agent alice> say Still checking
              alice> Still checking
              event: AgentMessage alice
              status: chat-1 connected (billing, agent alice, en)
            clock +10m
            agent alice> say Found it
              alice> Found it
              event: AgentMessage alice
              status: chat-1 connected (billing, agent alice, en)
            clock +14m
            phone +14155550100> thanks
              event: ConsumerMessage
              status: chat-1 connected (billing, agent alice, en)
            clock +23h
              tick chat-1:
                system> Are you still there? This chat closes in 5 minutes unless you reply.
                event: InactivityWarning
                status: chat-1 connected (billing, agent alice, en)
            clock +26m
              tick chat-1:
                event: Ended expired by system
                system> This chat has expired. Text us any time to start a new one.
                status: chat-1 finished (billing, agent alice, en, expired by system)
            phone +14155550100> one more question
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              consent: NoticeSent
              status: chat-2 selecting (-, agent -, en)
        "#]],
    );
}

#[test]
fn a_queue_with_a_wait_limit_closes_chats_nobody_took() {
    check(
        r#"
        setup tech-waits-10m
        agent bob> away
        agent carol> away
        phone +14155550100> tech
        clock +9m
        clock +1m
        phone +14155550101> billing
        clock +10m
        "#,
        expect![[r#"
            setup tech-waits-10m
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
            clock +9m
            clock +1m
              tick chat-1:
                event: Ended queue_timeout by system
                system> Sorry, no agent could take your chat. Please text us again later.
                status: chat-1 finished (tech, agent -, en, queue_timeout by system)
            phone +14155550101> billing
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued billing
              system> Thanks! You are in the Billing queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered alice
              consent: NoticeSent
              status: chat-2 offered (billing, agent alice, en)
            clock +10m
              tick chat-2:
                event: OfferTimedOut alice
                event: Offered alice
                status: chat-2 offered (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn a_chat_that_waited_its_limit_moves_to_the_overflow_queue() {
    check(
        r#"
        setup tech-overflows-to-billing
        agent bob> away
        agent carol> away
        phone +14155550100> tech
        clock +9m
        clock +1m
        "#,
        expect![[r#"
            setup tech-overflows-to-billing
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
            clock +9m
            clock +1m
              tick chat-1:
                event: Overflowed tech -> billing
                event: Queued billing
                system> Sorry for the wait. We moved your chat to Billing; an agent there will answer.
                event: Offered alice
                status: chat-1 offered (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn an_agent_who_leaves_the_consumer_unanswered_loses_the_chat_to_a_colleague() {
    check(
        r#"
        setup reply-within-5m
        phone +14155550100> tech
        agent bob> accept
        agent bob> say Hi, how can I help?
        phone +14155550100> My router blinks red
        clock +4m
        agent bob> say Let me check
        phone +14155550100> Thanks, still blinking
        clock +5m
        agent carol> accept
        "#,
        expect![[r#"
            setup reply-within-5m
            phone +14155550100> tech
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
            agent bob> say Hi, how can I help?
              bob> Hi, how can I help?
              event: AgentMessage bob
              status: chat-1 connected (tech, agent bob, en)
            phone +14155550100> My router blinks red
              event: ConsumerMessage
              status: chat-1 connected (tech, agent bob, en)
            clock +4m
            agent bob> say Let me check
              bob> Let me check
              event: AgentMessage bob
              status: chat-1 connected (tech, agent bob, en)
            phone +14155550100> Thanks, still blinking
              event: ConsumerMessage
              status: chat-1 connected (tech, agent bob, en)
            clock +5m
              tick chat-1:
                event: ReplyTimedOut bob
                event: Offered carol
                status: chat-1 offered (tech, agent carol, en)
            agent carol> accept
              event: Connected carol
              system> You are now chatting with Carol White.
              status: chat-1 connected (tech, agent carol, en)
        "#]],
    );
}

#[test]
fn the_wait_in_line_is_not_silence_inactivity_counts_from_the_agents_arrival() {
    check(
        r#"
        agent alice> away
        phone +14155550100> billing
        clock +20m
        agent alice> available
        agent alice> accept
        clock +14m
        clock +1m
        "#,
        expect![[r#"
            agent alice> away
            phone +14155550100> billing
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued billing
              system> Thanks! You are number 1 in the Billing queue. Estimated wait: about 5 min. Reply EXIT to leave.
              consent: NoticeSent
              status: chat-1 queued (billing, agent -, en)
            clock +20m
            agent alice> available
              route chat-1:
                event: Offered alice
                status: chat-1 offered (billing, agent alice, en)
            agent alice> accept
              event: Connected alice
              system> You are now chatting with Alice Smith.
              status: chat-1 connected (billing, agent alice, en)
            clock +14m
            clock +1m
              tick chat-1:
                system> Are you still there? This chat closes in 5 minutes unless you reply.
                event: InactivityWarning
                status: chat-1 connected (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn a_timer_that_came_due_while_the_worker_was_down_fires_before_the_text() {
    // The session expired while nothing ticked it: the text finds the old chat due, the chat expires
    // first, and the text opens a new one instead of joining it.
    check(
        r#"
        phone +14155550100> billing
        agent alice> accept
        agent alice> say Hi, how can I help?
        clock +25h (timer worker down)
        phone +14155550100> hello again
        "#,
        expect![[r#"
            phone +14155550100> billing
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued billing
              system> Thanks! You are in the Billing queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered alice
              consent: NoticeSent
              status: chat-1 offered (billing, agent alice, en)
            agent alice> accept
              event: Connected alice
              system> You are now chatting with Alice Smith.
              status: chat-1 connected (billing, agent alice, en)
            agent alice> say Hi, how can I help?
              alice> Hi, how can I help?
              event: AgentMessage alice
              status: chat-1 connected (billing, agent alice, en)
            clock +25h (timer worker down)
            phone +14155550100> hello again
              tick chat-1:
                event: Ended expired by system
                system> This chat has expired. Text us any time to start a new one.
                status: chat-1 finished (billing, agent alice, en, expired by system)
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              consent: NoticeSent
              status: chat-2 selecting (-, agent -, en)
        "#]],
    );
}
