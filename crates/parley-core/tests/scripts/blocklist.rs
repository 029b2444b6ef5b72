//! The blocklist: a blocked phone's texts are kept with the reason but open no chat and get no answer;
//! STOP and START from it still change consent (STOP is confirmed once, as carriers require); blocking
//! a phone with a live chat ends the chat, says nothing to the consumer and frees the agent; the
//! business writes first to no blocked phone.

use expect_test::expect;

use crate::check;

#[test]
fn blocklist_a_blocked_phone_opens_no_chat_and_gets_no_answer() {
    check(
        r#"
        admin> block +14155550100 Abusive messages
        phone +14155550100> hi
        phone +14155550100> billing
        phone +14155550100> HELP
        phone +14155550100 to +15550002000> hello?
        # Another phone is served as ever.
        phone +14155550101> hi
        admin> unblock +14155550100
        phone +14155550100> hi again
        "#,
        expect![[r#"
            admin> block +14155550100 Abusive messages
            phone +14155550100> hi
              blocked: +14155550100 is on the blocklist (Abusive messages); the text to +15550001000 opens no chat
            phone +14155550100> billing
              blocked: +14155550100 is on the blocklist (Abusive messages); the text to +15550001000 opens no chat
            phone +14155550100> HELP
              blocked: +14155550100 is on the blocklist (Abusive messages); the text to +15550001000 opens no chat
            phone +14155550100 to +15550002000> hello?
              blocked: +14155550100 is on the blocklist (Abusive messages); the text to +15550002000 opens no chat
            phone +14155550101> hi
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              consent: NoticeSent
              status: chat-1 selecting (-, agent -, en)
            admin> unblock +14155550100
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

#[test]
fn blocklist_stop_from_a_blocked_phone_still_opts_out_and_is_confirmed_once() {
    check(
        r#"
        admin> block +14155550100 Spam
        phone +14155550100> STOP
        phone +14155550100> STOP
        phone +14155550100> START
        "#,
        expect![[r#"
            admin> block +14155550100 Spam
            phone +14155550100> STOP
              blocked: +14155550100 is on the blocklist (Spam); the text to +15550001000 opens no chat
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut STOP
              status: no chat
            phone +14155550100> STOP
              blocked: +14155550100 is on the blocklist (Spam); the text to +15550001000 opens no chat
              status: no chat
            phone +14155550100> START
              blocked: +14155550100 is on the blocklist (Spam); the text to +15550001000 opens no chat
              consent: OptedIn START
        "#]],
    );
}

#[test]
fn blocklist_blocking_a_phone_with_a_live_chat_ends_it_and_frees_the_agent() {
    check(
        r#"
        phone +14155550100 to +15550002000> hi
        agent alice> accept
        agent alice> say Hello, how can I help?
        # Alice has capacity 1: a second consumer waits for her.
        phone +14155550101 to +15550002000> hi
        admin> block +14155550100 Threatened an agent
        phone +14155550100 to +15550002000> are you there?
        "#,
        expect![[r#"
            phone +14155550100 to +15550002000> hi
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
            agent alice> say Hello, how can I help?
              alice> Hello, how can I help?
              event: AgentMessage alice
              status: chat-1 connected (billing, agent alice, en)
            phone +14155550101 to +15550002000> hi
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued billing
              system> Thanks! You are number 1 in the Billing queue. Estimated wait: about 5 min. Reply EXIT to leave.
              consent: NoticeSent
              status: chat-2 queued (billing, agent -, en)
            admin> block +14155550100 Threatened an agent
              block chat-1:
                event: Ended blocked by admin
                status: chat-1 finished (billing, agent alice, en, blocked by admin)
              route chat-2:
                event: Offered alice
                status: chat-2 offered (billing, agent alice, en)
            phone +14155550100 to +15550002000> are you there?
              blocked: +14155550100 is on the blocklist (Threatened an agent); the text to +15550002000 opens no chat
        "#]],
    );
}

#[test]
fn blocklist_the_business_does_not_write_first_to_a_blocked_phone() {
    check(
        r#"
        setup no-quiet-hours
        admin> block +14155550100 Asked never to be contacted
        api> send +14155550100 Your order shipped
        api> notify +14155550100 Your code is 1234
        agent alice> start +14155550100 Hello from Acme
        "#,
        expect![[r#"
            setup no-quiet-hours
            admin> block +14155550100 Asked never to be contacted
            api> send +14155550100 Your order shipped
              refused: Blocked (Asked never to be contacted)
            api> notify +14155550100 Your code is 1234
              refused: Blocked (Asked never to be contacted)
            agent alice> start +14155550100 Hello from Acme
              refused: Blocked (Asked never to be contacted)
        "#]],
    );
}
