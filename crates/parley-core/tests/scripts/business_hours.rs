//! Business hours per queue: after hours a chat waits for the opening, or ends. The scripts start on
//! Thursday 2026-01-01 00:00 UTC, Wednesday 19:00 in New York, where tech's hours are kept.

use expect_test::expect;

use crate::check;

#[test]
fn after_hours_the_chat_waits_for_the_opening_and_is_offered_then() {
    check(
        r#"
        setup tech-hours
        phone +14155550100> tech
        agent bob> available
        clock +13h
        clock +1h
        "#,
        expect![[r#"
            setup tech-hours
            phone +14155550100> tech
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued tech
              event: AfterHours until 2026-01-01 14:00 UTC
              system> Technical support is closed now and opens Thu 09:00. Your chat stays in line and an agent will answer then. Reply EXIT to leave.
              consent: NoticeSent
              status: chat-1 queued (tech, agent -, en)
            agent bob> available
            clock +13h
            clock +1h
              tick chat-1:
                event: Offered bob
                status: chat-1 offered (tech, agent bob, en)
        "#]],
    );
}

#[test]
fn a_queue_that_closes_after_hours_ends_the_chat_with_its_message() {
    check(
        r#"
        setup tech-hours-close
        phone +14155550100> tech
        phone +14155550100> hello?
        "#,
        expect![[r#"
            setup tech-hours-close
            phone +14155550100> tech
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued tech
              event: AfterHours (closing)
              system> Technical support is closed now and opens Thu 09:00. Please text us again then.
              event: Ended after_hours by system
              consent: NoticeSent
              status: chat-1 finished (tech, agent -, en, after_hours by system)
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
fn during_hours_the_queue_routes_as_usual() {
    check(
        r#"
        setup tech-hours
        clock +15h
        phone +14155550100> tech
        "#,
        expect![[r#"
            setup tech-hours
            clock +15h
            phone +14155550100> tech
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
fn a_chat_waiting_when_the_queue_closes_waits_for_the_opening_instead_of_timing_out() {
    // Thursday 16:55 in New York: tech is open for five more minutes, with a 10-minute wait limit.
    check(
        r#"
        setup tech-hours
        setup tech-waits-10m
        agent bob> away
        agent carol> away
        clock +21h
        clock +55m
        phone +14155550100> tech
        clock +10m
        agent bob> available
        clock +16h
        "#,
        expect![[r#"
            setup tech-hours
            setup tech-waits-10m
            agent bob> away
            agent carol> away
            clock +21h
            clock +55m
            phone +14155550100> tech
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued tech
              system> Thanks! You are number 1 in the Technical support queue. Estimated wait: about 5 min. Reply EXIT to leave.
              consent: NoticeSent
              status: chat-1 queued (tech, agent -, en)
            clock +10m
              tick chat-1:
                event: AfterHours until 2026-01-02 14:00 UTC
                status: chat-1 queued (tech, agent -, en)
            agent bob> available
            clock +16h
              tick chat-1:
                event: Offered bob
                status: chat-1 offered (tech, agent bob, en)
        "#]],
    );
}
