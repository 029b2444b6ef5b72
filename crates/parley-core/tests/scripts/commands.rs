//! SMS commands: end, back, menu, agent and language, and their words.

use expect_test::expect;

use crate::check;

#[test]
fn menu_from_the_queue_gives_up_the_offer_and_shows_the_top_menu() {
    check(
        r#"
        phone +14155550100> billing
        phone +14155550100> Menu
        phone +14155550101> billing
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
            phone +14155550100> Menu
              event: ConsumerMessage
              event: BackToMenu
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              status: chat-1 selecting (-, agent -, en)
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
fn agent_in_the_menu_joins_the_first_queue_and_in_line_tells_the_place() {
    // Alice (billing) takes one chat at a time.
    check(
        r#"
        phone +14155550100> billing
        phone +14155550101> hi
        phone +14155550101> agent
        phone +14155550102> AGENT
        phone +14155550102> agent
        agent alice> accept
        agent alice> end
        phone +14155550102> agent
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
            phone +14155550101> hi
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              consent: NoticeSent
              status: chat-2 selecting (-, agent -, en)
            phone +14155550101> agent
              event: ConsumerMessage
              event: Queued billing
              system> Thanks! You are number 1 in the Billing queue. Estimated wait: about 5 min. Reply EXIT to leave.
              status: chat-2 queued (billing, agent -, en)
            phone +14155550102> AGENT
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued billing
              system> Thanks! You are number 2 in the Billing queue. Estimated wait: about 10 min. Reply EXIT to leave.
              consent: NoticeSent
              status: chat-3 queued (billing, agent -, en)
            phone +14155550102> agent
              event: ConsumerMessage
              system> Thanks! You are number 2 in the Billing queue. Estimated wait: about 10 min. Reply EXIT to leave.
              status: chat-3 queued (billing, agent -, en)
            agent alice> accept
              event: Connected alice
              system> You are now chatting with Alice Smith.
              status: chat-1 connected (billing, agent alice, en)
            agent alice> end
              event: Ended ended_by_agent by alice
              system> This chat has ended. Text us any time to start a new one.
              status: chat-1 finished (billing, agent alice, en, ended_by_agent by alice)
              route chat-2:
                event: Offered alice
                status: chat-2 offered (billing, agent alice, en)
            phone +14155550102> agent
              event: ConsumerMessage
              system> Thanks! You are number 1 in the Billing queue. Estimated wait: about 5 min. Reply EXIT to leave.
              status: chat-3 queued (billing, agent -, en)
        "#]],
    );
}

#[test]
fn close_ends_a_chat_like_exit() {
    check(
        r#"
        phone +14155550100> billing
        phone +14155550100> close
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
            phone +14155550100> close
              event: ConsumerMessage
              event: Ended consumer_command by consumer
              system> This chat has ended. Text us any time to start a new one.
              status: chat-1 finished (billing, agent alice, en, consumer_command by consumer)
        "#]],
    );
}

#[test]
fn the_words_are_the_setups_own() {
    // BYE ends and START OVER goes to the menu; EXIT is now an ordinary answer.
    check(
        r#"
        setup commands-bye
        phone +14155550100> hi
        phone +14155550100> exit
        phone +14155550100> billing
        phone +14155550100> start over
        phone +14155550100> bye
        "#,
        expect![[r#"
            setup commands-bye
            phone +14155550100> hi
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              consent: NoticeSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> exit
              event: ConsumerMessage
              system> Sorry, we did not understand "exit". Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> billing
              event: ConsumerMessage
              event: Queued billing
              system> Thanks! You are in the Billing queue. An agent will answer shortly. Reply BYE to leave.
              event: Offered alice
              status: chat-1 offered (billing, agent alice, en)
            phone +14155550100> start over
              event: ConsumerMessage
              event: BackToMenu
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> bye
              event: ConsumerMessage
              event: Ended consumer_command by consumer
              system> This chat has ended. Text us any time to start a new one.
              status: chat-1 finished (-, agent -, en, consumer_command by consumer)
        "#]],
    );
}

#[test]
fn with_sms_chat_off_a_text_opens_no_chat_but_keywords_still_work() {
    check(
        r#"
        setup sms-chat-off
        phone +14155550100> hi
        phone +14155550100> help
        phone +14155550100> stop
        "#,
        expect![[r#"
            setup sms-chat-off
            phone +14155550100> hi
              system> Parley does not take chats by text right now. Please try again later.
              status: no chat
            phone +14155550100> help
              system> Parley support by text. Reply to chat with us, EXIT to end a chat, STOP to opt out. Msg & data rates may apply.
              status: no chat
            phone +14155550100> stop
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut STOP
              status: no chat
        "#]],
    );
}
