//! STOP and its synonyms, START, and the opt-in notice: after an opt-out, only the one confirmation
//! reaches the phone.

use expect_test::expect;

use crate::check;

#[test]
fn stop_before_any_chat_confirms_once_and_then_nothing_reaches_the_phone() {
    check(
        r#"
        phone +14155550100> STOP
        phone +14155550100> stop
        phone +14155550100> hi
        phone +14155550100> billing
        phone +14155550100> HELP
        "#,
        expect![[r#"
            phone +14155550100> STOP
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut STOP
              status: no chat
            phone +14155550100> stop
              status: no chat
            phone +14155550100> hi
              status: no chat
            phone +14155550100> billing
              status: no chat
            phone +14155550100> HELP
              status: no chat
        "#]],
    );
}

#[test]
fn every_opt_out_word_opts_out() {
    check(
        r#"
        phone +14155550101> END
        phone +14155550102> STOP ALL
        phone +14155550103> Stop.
        phone +14155550104> opt-out
        phone +14155550105> REVOKE
        phone +14155550106> unsubscribe
        "#,
        expect![[r#"
            phone +14155550101> END
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut END
              status: no chat
            phone +14155550102> STOP ALL
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut STOPALL
              status: no chat
            phone +14155550103> Stop.
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut STOP
              status: no chat
            phone +14155550104> opt-out
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut OPTOUT
              status: no chat
            phone +14155550105> REVOKE
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut REVOKE
              status: no chat
            phone +14155550106> unsubscribe
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut UNSUBSCRIBE
              status: no chat
        "#]],
    );
}

#[test]
fn stop_while_in_the_menu_ends_the_chat() {
    check(
        r#"
        phone +14155550100> hi
        phone +14155550100> END
        phone +14155550100> 1
        "#,
        expect![[r#"
            phone +14155550100> hi
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              consent: NoticeSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> END
              event: ConsumerMessage
              event: OptedOut
              event: Ended opted_out by consumer
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut END
              status: chat-1 finished (-, agent -, en, opted_out by consumer)
            phone +14155550100> 1
              status: no chat
        "#]],
    );
}

#[test]
fn stop_while_queued_ends_the_chat() {
    check(
        r#"
        agent alice> away
        phone +14155550100> billing
        phone +14155550100> STOP ALL
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
            phone +14155550100> STOP ALL
              event: ConsumerMessage
              event: OptedOut
              event: Ended opted_out by consumer
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut STOPALL
              status: chat-1 finished (billing, agent -, en, opted_out by consumer)
            agent alice> available
        "#]],
    );
}

#[test]
fn stop_while_offered_ends_the_chat_and_frees_the_agent() {
    check(
        r#"
        phone +14155550100> billing
        phone +14155550101> billing
        phone +14155550100> Stop.
        agent alice @chat-1> accept
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
            phone +14155550100> Stop.
              event: ConsumerMessage
              event: OptedOut
              event: Ended opted_out by consumer
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut STOP
              status: chat-1 finished (billing, agent alice, en, opted_out by consumer)
              route chat-2:
                event: Offered alice
                status: chat-2 offered (billing, agent alice, en)
            agent alice @chat-1> accept
              refused: Ended (chat-1)
        "#]],
    );
}

#[test]
fn stop_while_connected_ends_the_chat_and_nothing_more_reaches_the_phone() {
    check(
        r#"
        phone +14155550100> billing
        agent alice> accept
        phone +14155550100> opt-out
        agent alice> say Are you sure?
        admin> end +14155550100
        phone +14155550100> REVOKE
        phone +14155550100> hello again
        phone +14155550100> info
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
            phone +14155550100> opt-out
              event: ConsumerMessage
              event: OptedOut
              event: Ended opted_out by consumer
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut OPTOUT
              status: chat-1 finished (billing, agent alice, en, opted_out by consumer)
            agent alice> say Are you sure?
              refused: OptedOut (chat-1)
            admin> end +14155550100
              refused: Ended (chat-1)
            phone +14155550100> REVOKE
              status: no chat
            phone +14155550100> hello again
              status: no chat
            phone +14155550100> info
              status: no chat
        "#]],
    );
}

#[test]
fn an_opt_out_through_another_number_ends_the_chat_there_and_refuses_agent_replies() {
    // Consent belongs to the phone, so a STOP to the billing line also ends the live chat on the
    // support number (no agent keeps waiting on a phone that may not be texted): the agent's reply is
    // refused, and the phone's next text there opens nothing while it is opted out.
    check(
        r#"
        phone +14155550100> billing
        agent alice> accept
        phone +14155550100 to +15550002000> STOP
        agent alice> say Hello?
        phone +14155550100> still there?
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
            phone +14155550100 to +15550002000> STOP
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut STOP
              status: no chat
              opt-out chat-1:
                event: Ended opted_out by consumer
                status: chat-1 finished (billing, agent alice, en, opted_out by consumer)
            agent alice> say Hello?
              refused: OptedOut (chat-1)
            phone +14155550100> still there?
              status: no chat
            agent alice> end
              refused: Ended (chat-1)
        "#]],
    );
}

#[test]
fn start_resubscribes_with_one_confirmation_and_the_next_text_opens_a_new_chat() {
    check(
        r#"
        phone +14155550100> billing
        phone +14155550100> STOP
        phone +14155550100> hello?
        phone +14155550100> start
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
            phone +14155550100> STOP
              event: ConsumerMessage
              event: OptedOut
              event: Ended opted_out by consumer
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut STOP
              status: chat-1 finished (billing, agent alice, en, opted_out by consumer)
            phone +14155550100> hello?
              status: no chat
            phone +14155550100> start
              system> Parley: You are subscribed again. Reply HELP for help, STOP to opt out.
              consent: OptedIn START
              status: no chat
            phone +14155550100> tech
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued tech
              system> Thanks! You are in the Technical support queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered bob
              consent: NoticeSent
              status: chat-2 offered (tech, agent bob, en)
        "#]],
    );
}

#[test]
fn yes_from_a_subscribed_phone_is_an_ordinary_message() {
    check(
        r#"
        phone +14155550100> billing
        agent alice> accept
        agent alice> say Shall I refund the second charge?
        phone +14155550100> Yes
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
            agent alice> say Shall I refund the second charge?
              alice> Shall I refund the second charge?
              event: AgentMessage alice
              status: chat-1 connected (billing, agent alice, en)
            phone +14155550100> Yes
              event: ConsumerMessage
              status: chat-1 connected (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn the_opt_in_notice_can_be_sent_on_first_contact_only() {
    check(
        r#"
        setup notice-once
        phone +14155550100> billing
        phone +14155550100> exit
        phone +14155550100> billing
        "#,
        expect![[r#"
            setup notice-once
            phone +14155550100> billing
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued billing
              system> Thanks! You are in the Billing queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered alice
              consent: NoticeSent
              status: chat-1 offered (billing, agent alice, en)
            phone +14155550100> exit
              event: ConsumerMessage
              event: Ended consumer_command by consumer
              system> This chat has ended. Text us any time to start a new one.
              status: chat-1 finished (billing, agent alice, en, consumer_command by consumer)
            phone +14155550100> billing
              event: Opened
              event: ConsumerMessage
              event: Queued billing
              system> Thanks! You are in the Billing queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered alice
              status: chat-2 offered (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn a_number_speaks_its_language_and_every_languages_keywords_count_everywhere() {
    check(
        r#"
        setup spanish
        phone +14155550100 to +15550002000> hola
        phone +14155550100 to +15550002000> AYUDA
        phone +14155550101> hi
        # ALTO is a Spanish opt-out word: it counts on the English support number too, answered in English.
        phone +14155550101> alto
        phone +14155550100 to +15550002000> Parar.
        phone +14155550100 to +15550002000> comenzar
        "#,
        expect![[r#"
            setup spanish
            phone +14155550100 to +15550002000> hola
              event: Opened
              event: ConsumerMessage
              system> Parley: Gracias por escribirnos. Responda AYUDA para ayuda, ALTO para no recibir más.
              event: Queued billing
              system> Está en la cola de Billing.
              event: Offered alice
              consent: NoticeSent
              status: chat-1 offered (billing, agent alice, es)
            phone +14155550100 to +15550002000> AYUDA
              system> Parley: ayuda por SMS. Responda ALTO para no recibir más.
              status: chat-1 offered (billing, agent alice, es)
            phone +14155550101> hi
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              consent: NoticeSent
              status: chat-2 selecting (-, agent -, en)
            phone +14155550101> alto
              event: ConsumerMessage
              event: OptedOut
              event: Ended opted_out by consumer
              system (opt-out confirmation)> Parley: You are unsubscribed and will receive no more messages. Reply START to resubscribe.
              consent: OptedOut ALTO
              status: chat-2 finished (-, agent -, en, opted_out by consumer)
            phone +14155550100 to +15550002000> Parar.
              event: ConsumerMessage
              event: OptedOut
              event: Ended opted_out by consumer
              system (opt-out confirmation)> Parley: No recibirá más mensajes. Responda COMENZAR para volver.
              consent: OptedOut PARAR
              status: chat-1 finished (billing, agent alice, es, opted_out by consumer)
            phone +14155550100 to +15550002000> comenzar
              system> Parley: You are subscribed again. Reply HELP for help, STOP to opt out.
              consent: OptedIn COMENZAR
              status: no chat
        "#]],
    );
}

#[test]
fn an_opt_out_given_through_the_api_ends_the_phones_chats_on_every_number() {
    // As STOP does: the do-not-contact list holds for every number, and a repeat changes nothing.
    check(
        r#"
        phone +14155550100> billing
        phone +14155550100 to +15550002000> hi
        api> opt-out +14155550100
        api> opt-out +14155550100
        phone +14155550100> hello?
        api> opt-in +14155550100
        phone +14155550100> hello?
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
            phone +14155550100 to +15550002000> hi
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued billing
              system> Thanks! You are number 1 in the Billing queue. Estimated wait: about 5 min. Reply EXIT to leave.
              consent: NoticeSent
              status: chat-2 queued (billing, agent -, en)
            api> opt-out +14155550100
              consent: OptedOut (outside SMS)
              opt-out chat-1:
                event: Ended opted_out by consumer
                status: chat-1 finished (billing, agent alice, en, opted_out by consumer)
              opt-out chat-2:
                event: Ended opted_out by consumer
                status: chat-2 finished (billing, agent -, en, opted_out by consumer)
            api> opt-out +14155550100
            phone +14155550100> hello?
              status: no chat
            api> opt-in +14155550100
              consent: OptedIn (outside SMS)
            phone +14155550100> hello?
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              consent: NoticeSent
              status: chat-3 selecting (-, agent -, en)
        "#]],
    );
}

#[test]
fn a_text_to_a_number_that_is_not_enabled_opens_no_chat_but_its_keywords_count() {
    // A suspended number answers nothing, but consent is the consumer's: STOP and START still count.
    check(
        r#"
        admin> number +15550002000 suspended
        phone +14155550100 to +15550002000> hi
        phone +14155550100 to +15550002000> STOP
        phone +14155550100 to +15550002000> STOP
        phone +14155550100> hi
        phone +14155550100 to +15550002000> START
        admin> number +15550002000 enabled
        phone +14155550100 to +15550002000> hi
        "#,
        expect![[r#"
            admin> number +15550002000 suspended
            phone +14155550100 to +15550002000> hi
              not enabled: +15550002000 is suspended; the text opens no chat
            phone +14155550100 to +15550002000> STOP
              consent: OptedOut STOP
              not enabled: +15550002000 is suspended; the text opens no chat
            phone +14155550100 to +15550002000> STOP
              not enabled: +15550002000 is suspended; the text opens no chat
            phone +14155550100> hi
              status: no chat
            phone +14155550100 to +15550002000> START
              consent: OptedIn START
              not enabled: +15550002000 is suspended; the text opens no chat
            admin> number +15550002000 enabled
            phone +14155550100 to +15550002000> hi
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
