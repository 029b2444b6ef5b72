//! HELP and INFO: answered with the help text in every state, without changing the state.

use expect_test::expect;

use crate::check;

#[test]
fn help_and_info_are_answered_in_every_state() {
    check(
        r#"
        agent alice> away
        phone +14155550100> HELP
        phone +14155550100> hi
        phone +14155550100> info?
        phone +14155550100> 1
        phone +14155550100> help
        agent alice> available
        phone +14155550100> Help!
        agent alice> accept
        phone +14155550100> INFO
        agent alice> end
        phone +14155550100> help
        "#,
        expect![[r#"
            agent alice> away
            phone +14155550100> HELP
              system> Parley support by text. Reply to chat with us, EXIT to end a chat, STOP to opt out. Msg & data rates may apply.
              status: no chat
            phone +14155550100> hi
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              consent: NoticeSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> info?
              system> Parley support by text. Reply to chat with us, EXIT to end a chat, STOP to opt out. Msg & data rates may apply.
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> 1
              event: ConsumerMessage
              event: Queued billing
              system> Thanks! You are number 1 in the Billing queue. Estimated wait: about 5 min. Reply EXIT to leave.
              status: chat-1 queued (billing, agent -, en)
            phone +14155550100> help
              system> Parley support by text. Reply to chat with us, EXIT to end a chat, STOP to opt out. Msg & data rates may apply.
              status: chat-1 queued (billing, agent -, en)
            agent alice> available
              route chat-1:
                event: Offered alice
                status: chat-1 offered (billing, agent alice, en)
            phone +14155550100> Help!
              system> Parley support by text. Reply to chat with us, EXIT to end a chat, STOP to opt out. Msg & data rates may apply.
              status: chat-1 offered (billing, agent alice, en)
            agent alice> accept
              event: Connected alice
              system> You are now chatting with Alice Smith.
              status: chat-1 connected (billing, agent alice, en)
            phone +14155550100> INFO
              system> Parley support by text. Reply to chat with us, EXIT to end a chat, STOP to opt out. Msg & data rates may apply.
              status: chat-1 connected (billing, agent alice, en)
            agent alice> end
              event: Ended ended_by_agent by alice
              system> This chat has ended. Text us any time to start a new one.
              status: chat-1 finished (billing, agent alice, en, ended_by_agent by alice)
            phone +14155550100> help
              system> Parley support by text. Reply to chat with us, EXIT to end a chat, STOP to opt out. Msg & data rates may apply.
              status: no chat
        "#]],
    );
}
