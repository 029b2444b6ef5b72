//! Which agent a queued chat is offered to, and when.

use expect_test::expect;

use crate::check;

#[test]
fn a_queued_chat_is_offered_to_an_available_agent_of_its_queue() {
    check(
        r#"
        phone +14155550100> billing
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
        "#]],
    );
}

#[test]
fn capacity_is_respected_until_the_agent_ends_a_chat() {
    // Alice has capacity 1 and is the only billing agent.
    check(
        r#"
        phone +14155550100> billing
        phone +14155550101> billing
        agent alice> accept
        agent alice @chat-2> accept
        clock +5m
        agent alice> end
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
            phone +14155550101> billing
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued billing
              system> Thanks! You are number 1 in the Billing queue. Estimated wait: about 5 min. Reply EXIT to leave.
              consent: NoticeSent
              status: chat-2 queued (billing, agent -, en)
            agent alice> accept
              event: Connected alice
              system> You are now chatting with Alice Smith.
              status: chat-1 connected (billing, agent alice, en)
            agent alice @chat-2> accept
              refused: AtCapacity (chat-2)
            clock +5m
            agent alice> end
              event: Ended ended_by_agent by alice
              system> This chat has ended. Text us any time to start a new one.
              status: chat-1 finished (billing, agent alice, en, ended_by_agent by alice)
              route chat-2:
                event: Offered alice
                status: chat-2 offered (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn an_away_agent_gets_nothing_until_available_then_the_oldest_chat_first() {
    check(
        r#"
        agent alice> away
        phone +14155550100> billing
        clock +1m
        phone +14155550101> billing
        clock +1m
        agent alice> available
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
            clock +1m
            phone +14155550101> billing
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued billing
              system> Thanks! You are number 2 in the Billing queue. Estimated wait: about 10 min. Reply EXIT to leave.
              consent: NoticeSent
              status: chat-2 queued (billing, agent -, en)
            clock +1m
            agent alice> available
              route chat-1:
                event: Offered alice
                status: chat-1 offered (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn an_away_agent_may_still_take_a_queued_chat_by_hand() {
    check(
        r#"
        agent alice> away
        phone +14155550100> billing
        agent alice> accept
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
            agent alice> accept
              event: Connected alice
              system> You are now chatting with Alice Smith.
              status: chat-1 connected (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn auto_answer_connects_directly() {
    // Only the tech queue answers automatically; billing still waits for an accept.
    check(
        r#"
        setup auto-answer
        phone +14155550100> tech
        agent bob> say Hi, Bob here. What is broken?
        phone +14155550101> billing
        "#,
        expect![[r#"
            setup auto-answer
            phone +14155550100> tech
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued tech
              system> Thanks! You are in the Technical support queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered bob
              event: Connected bob (auto-answered)
              system> You are now chatting with Bob Jones.
              consent: NoticeSent
              status: chat-1 connected (tech, agent bob, en)
            agent bob> say Hi, Bob here. What is broken?
              bob> Hi, Bob here. What is broken?
              event: AgentMessage bob
              status: chat-1 connected (tech, agent bob, en)
            phone +14155550101> billing
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued billing
              system> Thanks! You are in the Billing queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered alice
              consent: NoticeSent
              status: chat-2 offered (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn the_least_busy_agent_wins_then_the_one_idle_longest() {
    // Bob and Carol both serve tech with capacity 2; ties between equals go to Bob by id.
    check(
        r#"
        phone +14155550100> tech
        clock +10s
        phone +14155550101> tech
        clock +10s
        agent bob> accept
        agent bob> end
        clock +10s
        phone +14155550102> tech
        clock +10s
        phone +14155550103> tech
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
            clock +10s
            phone +14155550101> tech
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued tech
              system> Thanks! You are in the Technical support queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered carol
              consent: NoticeSent
              status: chat-2 offered (tech, agent carol, en)
            clock +10s
            agent bob> accept
              event: Connected bob
              system> You are now chatting with Bob Jones.
              status: chat-1 connected (tech, agent bob, en)
            agent bob> end
              event: Ended ended_by_agent by bob
              system> This chat has ended. Text us any time to start a new one.
              status: chat-1 finished (tech, agent bob, en, ended_by_agent by bob)
            clock +10s
            phone +14155550102> tech
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued tech
              system> Thanks! You are in the Technical support queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered bob
              consent: NoticeSent
              status: chat-3 offered (tech, agent bob, en)
            clock +10s
            phone +14155550103> tech
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued tech
              system> Thanks! You are in the Technical support queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered carol
              consent: NoticeSent
              status: chat-4 offered (tech, agent carol, en)
        "#]],
    );
}

#[test]
fn an_agent_going_away_loses_unaccepted_offers_to_a_colleague() {
    check(
        r#"
        phone +14155550100> tech
        agent bob> away
        agent carol> accept
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
            agent bob> away
              event: OfferWithdrawn bob
              status: chat-1 queued (tech, agent -, en)
              route chat-1:
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
fn an_agent_who_disconnects_loses_offers_keeps_chats_and_is_routed_to_again_on_return() {
    // Carol is away. Bob holds a chat and has an offer when his console closes: the offer goes back to
    // the queue at once (nobody else can take it), his chat stays his, and nothing new is offered to
    // him. Back, he is available again (as he chose) and the waiting chats are his.
    check(
        r#"
        agent carol> away
        phone +14155550100> tech
        agent bob> accept
        phone +14155550101> tech
        agent bob> disconnected
        phone +14155550102> tech
        agent bob> connected
        "#,
        expect![[r#"
            agent carol> away
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
            phone +14155550101> tech
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued tech
              system> Thanks! You are in the Technical support queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered bob
              consent: NoticeSent
              status: chat-2 offered (tech, agent bob, en)
            agent bob> disconnected
              event: OfferWithdrawn bob
              status: chat-2 queued (tech, agent -, en)
            phone +14155550102> tech
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued tech
              system> Thanks! You are number 2 in the Technical support queue. Estimated wait: about 10 min. Reply EXIT to leave.
              consent: NoticeSent
              status: chat-3 queued (tech, agent -, en)
            agent bob> connected
              route chat-2:
                event: Offered bob
                status: chat-2 offered (tech, agent bob, en)
        "#]],
    );
}

#[test]
fn a_longest_idle_queue_gives_the_next_chat_to_whoever_waited_longest_even_if_busier() {
    // Bob takes the first chat, Carol the second and ends it: she is free, Bob is busy, but Bob's last
    // chat is older. Least busy would pick Carol; longest idle picks Bob.
    check(
        r#"
        setup tech-longest-idle
        phone +14155550100> tech
        agent bob> accept
        clock +10s
        phone +14155550101> tech
        agent carol> accept
        agent carol> end
        clock +10s
        phone +14155550102> tech
        "#,
        expect![[r#"
            setup tech-longest-idle
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
            clock +10s
            phone +14155550101> tech
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued tech
              system> Thanks! You are in the Technical support queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered carol
              consent: NoticeSent
              status: chat-2 offered (tech, agent carol, en)
            agent carol> accept
              event: Connected carol
              system> You are now chatting with Carol White.
              status: chat-2 connected (tech, agent carol, en)
            agent carol> end
              event: Ended ended_by_agent by carol
              system> This chat has ended. Text us any time to start a new one.
              status: chat-2 finished (tech, agent carol, en, ended_by_agent by carol)
            clock +10s
            phone +14155550102> tech
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued tech
              system> Thanks! You are in the Technical support queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered bob
              consent: NoticeSent
              status: chat-3 offered (tech, agent bob, en)
        "#]],
    );
}
