//! Transfers: agent to agent and agent to queue, with a note for the receiving agent; accepted,
//! declined, timed out, or impossible because nobody is available. Until a transfer is accepted the
//! chat stays with the agent who started it; the consumer hears of it only where the queue says so.

use expect_test::expect;

use crate::check;

#[test]
fn a_declined_transfer_leaves_the_chat_with_its_agent_and_an_accepted_one_moves_it() {
    check(
        r#"
        phone +14155550100> tech
        agent bob> accept
        agent bob> transfer carol Wants a refund, see ticket 42
        agent bob> transfer carol Again
        agent carol> decline
        agent bob> say Still with me
        agent bob> transfer carol Please take it
        agent carol> take
        agent bob> say Bob again?
        agent carol> say Carol here
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
            agent bob> transfer carol Wants a refund, see ticket 42
              event: TransferStarted bob -> carol (note: Wants a refund, see ticket 42)
              status: chat-1 connected (tech, agent bob, en, transfer to carol)
            agent bob> transfer carol Again
              refused: TransferPending (chat-1)
            agent carol> decline
              event: TransferFailed bob -> carol: declined
              status: chat-1 connected (tech, agent bob, en)
            agent bob> say Still with me
              bob> Still with me
              event: AgentMessage bob
              status: chat-1 connected (tech, agent bob, en)
            agent bob> transfer carol Please take it
              event: TransferStarted bob -> carol (note: Please take it)
              status: chat-1 connected (tech, agent bob, en, transfer to carol)
            agent carol> take
              event: TransferEnded bob -> carol
              status: chat-1 connected (tech, agent carol, en)
            agent bob> say Bob again?
              refused: TakenByAnother (chat-1)
            agent carol> say Carol here
              carol> Carol here
              event: AgentMessage carol
              status: chat-1 connected (tech, agent carol, en)
        "#]],
    );
}

#[test]
fn a_transfer_to_a_queue_asks_its_best_agent_and_changes_the_queue_when_taken() {
    check(
        r#"
        phone +14155550100> tech
        agent bob> accept
        agent bob> transfer-queue billing It is about an invoice
        agent alice> take
        agent alice> end
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
            agent bob> transfer-queue billing It is about an invoice
              event: TransferStarted bob -> alice in billing (note: It is about an invoice)
              status: chat-1 connected (tech, agent bob, en, transfer to alice)
            agent alice> take
              event: TransferEnded bob -> alice
              status: chat-1 connected (billing, agent alice, en)
            agent alice> end
              event: Ended ended_by_agent by alice
              system> This chat has ended. Text us any time to start a new one.
              status: chat-1 finished (billing, agent alice, en, ended_by_agent by alice)
        "#]],
    );
}

#[test]
fn a_transfer_fails_when_nobody_can_take_it_or_nobody_answers() {
    check(
        r#"
        phone +14155550100> tech
        agent bob> accept
        agent alice> away
        agent bob> transfer-queue billing nobody is there
        agent bob> transfer alice alice does not serve tech
        agent bob> transfer bob myself
        agent bob> transfer carol Are you there?
        clock +61s
        agent carol> take
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
            agent alice> away
            agent bob> transfer-queue billing nobody is there
              event: TransferFailed bob -> -: nobody_available
              status: chat-1 connected (tech, agent bob, en)
            agent bob> transfer alice alice does not serve tech
              refused: BadTransferTarget (chat-1)
            agent bob> transfer bob myself
              refused: BadTransferTarget (chat-1)
            agent bob> transfer carol Are you there?
              event: TransferStarted bob -> carol (note: Are you there?)
              status: chat-1 connected (tech, agent bob, en, transfer to carol)
            clock +61s
              tick chat-1:
                event: TransferFailed bob -> carol: timed_out
                status: chat-1 connected (tech, agent bob, en)
            agent carol> take
              refused: NoTransfer (chat-1)
        "#]],
    );
}

#[test]
fn the_consumer_ending_the_chat_ends_a_pending_transfer() {
    check(
        r#"
        phone +14155550100> tech
        agent bob> accept
        agent bob> transfer carol Over to you
        phone +14155550100> EXIT
        agent carol> take
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
            agent bob> transfer carol Over to you
              event: TransferStarted bob -> carol (note: Over to you)
              status: chat-1 connected (tech, agent bob, en, transfer to carol)
            phone +14155550100> EXIT
              event: ConsumerMessage
              event: Ended consumer_command by consumer
              system> This chat has ended. Text us any time to start a new one.
              status: chat-1 finished (tech, agent bob, en, consumer_command by consumer)
            agent carol> take
              refused: Ended (chat-1)
        "#]],
    );
}

#[test]
fn a_queue_that_announces_transfers_tells_the_consumer_who_took_over() {
    check(
        r#"
        setup billing-announces-transfers
        phone +14155550100> tech
        agent bob> accept
        agent bob> transfer-queue billing Invoice question
        agent alice> take
        "#,
        expect![[r#"
            setup billing-announces-transfers
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
            agent bob> transfer-queue billing Invoice question
              event: TransferStarted bob -> alice in billing (note: Invoice question)
              status: chat-1 connected (tech, agent bob, en, transfer to alice)
            agent alice> take
              event: TransferEnded bob -> alice
              system> Alice Smith has taken over your chat.
              status: chat-1 connected (billing, agent alice, en)
        "#]],
    );
}
