//! Dismissal and resume: a quiet chat is put aside (by its timer, the agent or an admin) instead of
//! closed; it leaves the agent's list and keeps its session, and the consumer's next text (or a
//! resume) puts it back in its queue with no menu. The `tree` setup shows the settings tree: europe
//! sets nothing and inherits from invoices and billing.

use expect_test::expect;

use crate::check;

#[test]
fn dismissal_by_timer_with_notice_then_the_consumer_comes_back() {
    check(
        r#"
        setup billing-dismisses
        phone +14155550100> billing
        agent alice> accept
        phone +14155550100> my invoice is wrong
        agent alice> say Fixed it. Anything else?
        clock +25m
        clock +5m
        phone +14155550100> one more thing
        agent alice> accept
        "#,
        expect![[r#"
            setup billing-dismisses
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
            phone +14155550100> my invoice is wrong
              event: ConsumerMessage
              status: chat-1 connected (billing, agent alice, en)
            agent alice> say Fixed it. Anything else?
              alice> Fixed it. Anything else?
              event: AgentMessage alice
              status: chat-1 connected (billing, agent alice, en)
            clock +25m
              tick chat-1:
                system> We will set this chat aside in 5 minutes unless you reply. Text us any time to pick it up again.
                status: chat-1 connected (billing, agent alice, en)
            clock +5m
              tick chat-1:
                event: Dismissed by system (consumer_silent)
                status: chat-1 dismissed (billing, agent alice, en)
            phone +14155550100> one more thing
              event: ConsumerMessage
              event: Resumed by consumer
              event: Queued billing
              system> Welcome back! Your chat is back in the Billing queue; an agent will answer shortly.
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
fn an_agent_dismisses_and_gets_the_capacity_back() {
    check(
        r#"
        setup billing-dismisses
        phone +14155550100> billing
        agent alice> accept
        agent alice> say Done, bye for now
        agent alice> dismiss
        phone +14155550199> billing
        agent alice @chat-2> accept
        phone +14155550100> hello again
        "#,
        expect![[r#"
            setup billing-dismisses
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
            agent alice> say Done, bye for now
              alice> Done, bye for now
              event: AgentMessage alice
              status: chat-1 connected (billing, agent alice, en)
            agent alice> dismiss
              event: Dismissed by alice (by_agent)
              status: chat-1 dismissed (billing, agent alice, en)
            phone +14155550199> billing
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued billing
              system> Thanks! You are in the Billing queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered alice
              consent: NoticeSent
              status: chat-2 offered (billing, agent alice, en)
            agent alice @chat-2> accept
              event: Connected alice
              system> You are now chatting with Alice Smith.
              status: chat-2 connected (billing, agent alice, en)
            phone +14155550100> hello again
              event: ConsumerMessage
              event: Resumed by consumer
              event: Queued billing
              system> Welcome back! Your chat is back in the Billing queue; an agent will answer shortly.
              status: chat-1 queued (billing, agent -, en)
        "#]],
    );
}

#[test]
fn dismissal_is_refused_until_both_sides_wrote_and_where_the_queue_has_none() {
    check(
        r#"
        setup billing-dismisses-no-click
        phone +14155550100> billing
        agent alice> accept
        admin> dismiss chat-1
        agent alice> say Hello
        agent alice> dismiss
        admin> resume chat-1
        admin> dismiss chat-1
        phone +14155550199> tech
        agent bob> accept
        agent bob> say Hi
        agent bob> dismiss
        "#,
        expect![[r#"
            setup billing-dismisses-no-click
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
            admin> dismiss chat-1
              refused: NotDismissable (chat-1)
            agent alice> say Hello
              alice> Hello
              event: AgentMessage alice
              status: chat-1 connected (billing, agent alice, en)
            agent alice> dismiss
              refused: DismissByAgentOff (chat-1)
            admin> resume chat-1
              refused: NotDismissed (chat-1)
            admin> dismiss chat-1
              event: Dismissed by admin (by_admin)
              status: chat-1 dismissed (billing, agent alice, en)
            phone +14155550199> tech
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued tech
              system> Thanks! You are in the Technical support queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered bob
              consent: NoticeSent
              status: chat-2 offered (tech, agent bob, en)
            agent bob> accept
              event: Connected bob
              system> You are now chatting with Bob Jones.
              status: chat-2 connected (tech, agent bob, en)
            agent bob> say Hi
              bob> Hi
              event: AgentMessage bob
              status: chat-2 connected (tech, agent bob, en)
            agent bob> dismiss
              refused: DismissalOff (chat-2)
        "#]],
    );
}

#[test]
fn resume_by_the_business_puts_the_chat_back_with_the_agent_it_had() {
    check(
        r#"
        setup billing-dismisses
        phone +14155550100> billing
        agent alice> accept
        agent alice> say Let me know
        agent alice> dismiss
        agent bob @chat-1> resume
        agent alice> resume
        agent alice> accept
        "#,
        expect![[r#"
            setup billing-dismisses
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
            agent alice> say Let me know
              alice> Let me know
              event: AgentMessage alice
              status: chat-1 connected (billing, agent alice, en)
            agent alice> dismiss
              event: Dismissed by alice (by_agent)
              status: chat-1 dismissed (billing, agent alice, en)
            agent bob @chat-1> resume
              refused: NotYourQueue (chat-1)
            agent alice> resume
              event: Resumed by alice
              event: Queued billing
              system> Welcome back! Your chat is back in the Billing queue; an agent will answer shortly.
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
fn three_levels_inherit_timers_texts_hours_dismissal_and_the_outbound_switch() {
    check(
        r#"
        setup tree
        clock +14h
        # billing's only child is invoices, and invoices' only child is europe: no submenu to choose from.
        phone +14155550100> billing
        clock +30s
        agent alice> accept
        agent alice> say Your invoice is on its way
        clock +15m
        clock +5m
        phone +14155550100> thanks, one more
        agent alice> accept
        agent alice> say Sure
        # A jump past the notice and the dismissal: the dismissal wins, the notice is not sent late.
        clock +20m
        clock +8h
        phone +14155550100> are you there?
        admin> resume chat-1
        agent alice> start +14155550177 Hello from billing
        "#,
        expect![[r#"
            setup tree
            clock +14h
            phone +14155550100> billing
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued europe
              system> Billing here: you are in the Europe line.
              event: Offered alice
              consent: NoticeSent
              status: chat-1 offered (europe, agent alice, en)
            clock +30s
              tick chat-1:
                event: OfferTimedOut alice
                event: Offered alice
                status: chat-1 offered (europe, agent alice, en)
            agent alice> accept
              event: Connected alice
              system> You are now chatting with Alice Smith.
              status: chat-1 connected (europe, agent alice, en)
            agent alice> say Your invoice is on its way
              alice> Your invoice is on its way
              event: AgentMessage alice
              status: chat-1 connected (europe, agent alice, en)
            clock +15m
              tick chat-1:
                system> We will set this chat aside in 5 minutes unless you reply. Text us any time to pick it up again.
                status: chat-1 connected (europe, agent alice, en)
            clock +5m
              tick chat-1:
                event: Dismissed by system (consumer_silent)
                status: chat-1 dismissed (europe, agent alice, en)
            phone +14155550100> thanks, one more
              event: ConsumerMessage
              event: Resumed by consumer
              event: Queued europe
              system> Invoices again: back in the Europe line.
              event: Offered alice
              status: chat-1 offered (europe, agent alice, en)
            agent alice> accept
              event: Connected alice
              system> You are now chatting with Alice Smith.
              status: chat-1 connected (europe, agent alice, en)
            agent alice> say Sure
              alice> Sure
              event: AgentMessage alice
              status: chat-1 connected (europe, agent alice, en)
            clock +20m
              tick chat-1:
                event: Dismissed by system (consumer_silent)
                status: chat-1 dismissed (europe, agent alice, en)
            clock +8h
            phone +14155550100> are you there?
              event: ConsumerMessage
              event: Resumed by consumer
              event: Queued europe
              event: AfterHours until 2026-01-02 14:00 UTC
              system> Europe is closed now and opens Fri 09:00. Your chat stays in line and an agent will answer then. Reply EXIT to leave.
              status: chat-1 queued (europe, agent -, en)
            admin> resume chat-1
              refused: NotDismissed (chat-1)
            agent alice> start +14155550177 Hello from billing
              refused: AgentOutboundOff
        "#]],
    );
}

#[test]
fn a_dismissed_chat_keeps_its_session_until_it_expires() {
    check(
        r#"
        setup billing-dismisses
        phone +14155550100> billing
        agent alice> accept
        agent alice> say All set
        agent alice> dismiss
        clock +23h
        clock +1h
        phone +14155550100> hi again
        "#,
        expect![[r#"
            setup billing-dismisses
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
            agent alice> say All set
              alice> All set
              event: AgentMessage alice
              status: chat-1 connected (billing, agent alice, en)
            agent alice> dismiss
              event: Dismissed by alice (by_agent)
              status: chat-1 dismissed (billing, agent alice, en)
            clock +23h
            clock +1h
              tick chat-1:
                event: Ended expired by system
                system> This chat has expired. Text us any time to start a new one.
                status: chat-1 finished (billing, agent alice, en, expired by system)
            phone +14155550100> hi again
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
