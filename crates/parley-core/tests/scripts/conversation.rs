//! A connected chat: messages both ways, and the ways a chat ends or goes back to the menu.

use expect_test::expect;

use crate::check;

#[test]
fn messages_flow_both_ways() {
    check(
        r#"
        phone +14155550100> billing
        agent alice> accept
        phone +14155550100> I was charged twice
        agent alice> say Sorry about that, let me check.
        phone +14155550100> Thanks
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
            phone +14155550100> I was charged twice
              event: ConsumerMessage
              status: chat-1 connected (billing, agent alice, en)
            agent alice> say Sorry about that, let me check.
              alice> Sorry about that, let me check.
              event: AgentMessage alice
              status: chat-1 connected (billing, agent alice, en)
            phone +14155550100> Thanks
              event: ConsumerMessage
              status: chat-1 connected (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn an_agent_ends_the_chat_with_a_closing_message() {
    check(
        r#"
        phone +14155550100> billing
        agent alice> accept
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
            agent alice> accept
              event: Connected alice
              system> You are now chatting with Alice Smith.
              status: chat-1 connected (billing, agent alice, en)
            agent alice> end
              event: Ended ended_by_agent by alice
              system> This chat has ended. Text us any time to start a new one.
              status: chat-1 finished (billing, agent alice, en, ended_by_agent by alice)
        "#]],
    );
}

#[test]
fn only_the_chats_agent_or_an_admin_ends_a_connected_chat() {
    check(
        r#"
        phone +14155550100> tech
        agent bob> accept
        agent alice @chat-1> end
        agent carol @chat-1> end
        admin> end +14155550100
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
            agent alice @chat-1> end
              refused: NotYourQueue (chat-1)
            agent carol @chat-1> end
              refused: TakenByAnother (chat-1)
            admin> end +14155550100
              event: Ended ended_by_admin by admin
              system> This chat has ended. Text us any time to start a new one.
              status: chat-1 finished (tech, agent bob, en, ended_by_admin by admin)
        "#]],
    );
}

#[test]
fn the_consumer_ends_the_chat_with_exit() {
    check(
        r#"
        phone +14155550100> billing
        agent alice> accept
        phone +14155550100> exit.
        agent alice> say Are you still there?
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
            phone +14155550100> exit.
              event: ConsumerMessage
              event: Ended consumer_command by consumer
              system> This chat has ended. Text us any time to start a new one.
              status: chat-1 finished (billing, agent alice, en, consumer_command by consumer)
            agent alice> say Are you still there?
              refused: Ended (chat-1)
        "#]],
    );
}

#[test]
fn back_before_connection_returns_to_the_menu_and_releases_the_agent() {
    // Alice (capacity 1) is offered the first chat; when its consumer goes back to the menu she is
    // free again, and the second chat, waiting in the queue, is offered to her.
    check(
        r#"
        phone +14155550100> billing
        phone +14155550101> billing
        phone +14155550100> back
        phone +14155550100> tech
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
            phone +14155550100> back
              event: ConsumerMessage
              event: BackToMenu
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              status: chat-1 selecting (-, agent -, en)
              route chat-2:
                event: Offered alice
                status: chat-2 offered (billing, agent alice, en)
            phone +14155550100> tech
              event: ConsumerMessage
              event: Queued tech
              system> Thanks! You are in the Technical support queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered bob
              status: chat-1 offered (tech, agent bob, en)
        "#]],
    );
}

#[test]
fn back_while_connected_is_an_ordinary_message() {
    check(
        r#"
        phone +14155550100> billing
        agent alice> accept
        phone +14155550100> BACK
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
            phone +14155550100> BACK
              event: ConsumerMessage
              status: chat-1 connected (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn a_text_after_the_chat_finished_opens_a_new_chat() {
    check(
        r#"
        phone +14155550100> billing
        agent alice> accept
        agent alice> end
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
            agent alice> end
              event: Ended ended_by_agent by alice
              system> This chat has ended. Text us any time to start a new one.
              status: chat-1 finished (billing, agent alice, en, ended_by_agent by alice)
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
fn exit_without_a_chat_opens_none() {
    check(
        r#"
        phone +14155550100> exit
        phone +14155550100> hi
        "#,
        expect![[r#"
            phone +14155550100> exit
              status: no chat
            phone +14155550100> hi
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              consent: NoticeSent
              status: chat-1 selecting (-, agent -, en)
        "#]],
    );
}

#[test]
fn an_admin_end_is_recorded_as_such() {
    check(
        r#"
        phone +14155550100> billing
        admin> end +14155550100
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
            admin> end +14155550100
              event: Ended ended_by_admin by admin
              system> This chat has ended. Text us any time to start a new one.
              status: chat-1 finished (billing, agent alice, en, ended_by_admin by admin)
        "#]],
    );
}
