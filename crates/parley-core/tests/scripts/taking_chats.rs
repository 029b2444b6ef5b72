//! Agents accept chats and reply in them; the state machine refuses what the chat's state does not allow.

use expect_test::expect;

use crate::check;

#[test]
fn accept_by_the_offered_agent_connects() {
    check(
        r#"
        phone +14155550100> billing
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
            agent alice> accept
              event: Connected alice
              system> You are now chatting with Alice Smith.
              status: chat-1 connected (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn accept_by_an_agent_of_another_queue_is_refused() {
    check(
        r#"
        phone +14155550100> billing
        agent bob> accept
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
            agent bob> accept
              refused: NotYourQueue (chat-1)
        "#]],
    );
}

#[test]
fn accept_of_a_chat_offered_to_another_agent_of_the_queue_is_refused() {
    check(
        r#"
        phone +14155550100> tech
        agent carol @chat-1> accept
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
            agent carol @chat-1> accept
              refused: TakenByAnother (chat-1)
        "#]],
    );
}

#[test]
fn accepting_twice_is_harmless() {
    check(
        r#"
        phone +14155550100> billing
        agent alice> accept
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
            agent alice> accept
              event: Connected alice
              system> You are now chatting with Alice Smith.
              status: chat-1 connected (billing, agent alice, en)
            agent alice> accept
              status: chat-1 connected (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn a_reply_before_connecting_is_refused() {
    check(
        r#"
        phone +14155550100> billing
        agent alice> say Hello?
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
            agent alice> say Hello?
              refused: NotConnected (chat-1)
        "#]],
    );
}

#[test]
fn a_reply_by_another_agent_is_refused() {
    check(
        r#"
        phone +14155550100> tech
        agent bob> accept
        agent carol @chat-1> say I can help too
        agent alice @chat-1> say Me too
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
            agent carol @chat-1> say I can help too
              refused: TakenByAnother (chat-1)
            agent alice @chat-1> say Me too
              refused: TakenByAnother (chat-1)
        "#]],
    );
}
