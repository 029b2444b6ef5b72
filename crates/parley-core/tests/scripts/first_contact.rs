//! A phone's first text: the opt-in notice, then the menu, until an answer picks a queue.

use expect_test::expect;

use crate::check;

#[test]
fn first_contact_gets_the_opt_in_notice_then_the_menu() {
    check(
        r#"
        phone +14155550100> hi
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
        "#]],
    );
}

#[test]
fn a_keyword_in_any_case_with_spaces_and_punctuation_picks_the_queue() {
    check(
        r#"
        phone +14155550100> hi
        phone +14155550100> " billing! "
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
            phone +14155550100> " billing! "
              event: ConsumerMessage
              event: Queued billing
              system> Thanks! You are in the Billing queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered alice
              status: chat-1 offered (billing, agent alice, en)
        "#]],
    );
}

#[test]
fn an_unknown_answer_repeats_the_menu_quoting_the_answer() {
    check(
        r#"
        phone +14155550100> hi
        phone +14155550100> " my bill is wrong "
        phone +14155550100> 3
        phone +14155550100> my bill is wrong and I have been waiting for a week
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
            phone +14155550100> " my bill is wrong "
              event: ConsumerMessage
              system> Sorry, we did not understand "my bill is wrong". Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> 3
              event: ConsumerMessage
              system> Sorry, we did not understand "3". Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> my bill is wrong and I have been waiting for a week
              event: ConsumerMessage
              system> Sorry, we did not understand "my bill is wrong and I h...". Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              status: chat-1 selecting (-, agent -, en)
        "#]],
    );
}

#[test]
fn a_number_answer_picks_the_queue() {
    check(
        r#"
        phone +14155550100> hello
        phone +14155550100> 2
        "#,
        expect![[r#"
            phone +14155550100> hello
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              consent: NoticeSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> 2
              event: ConsumerMessage
              event: Queued tech
              system> Thanks! You are in the Technical support queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered bob
              status: chat-1 offered (tech, agent bob, en)
        "#]],
    );
}

#[test]
fn a_queue_name_answer_picks_the_queue() {
    check(
        r#"
        phone +14155550100> hello
        phone +14155550100> technical support.
        "#,
        expect![[r#"
            phone +14155550100> hello
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              consent: NoticeSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> technical support.
              event: ConsumerMessage
              event: Queued tech
              system> Thanks! You are in the Technical support queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered bob
              status: chat-1 offered (tech, agent bob, en)
        "#]],
    );
}

#[test]
fn back_in_the_menu_sends_the_menu_again() {
    check(
        r#"
        phone +14155550100> hello
        phone +14155550100> Back
        "#,
        expect![[r#"
            phone +14155550100> hello
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              consent: NoticeSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> Back
              event: ConsumerMessage
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              status: chat-1 selecting (-, agent -, en)
        "#]],
    );
}

#[test]
fn a_first_message_that_is_a_keyword_skips_the_menu() {
    check(
        r#"
        phone +14155550100> Tech
        "#,
        expect![[r#"
            phone +14155550100> Tech
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
fn a_one_queue_number_skips_the_menu() {
    check(
        r#"
        phone +14155550100 to +15550002000> hi, my invoice is wrong
        "#,
        expect![[r#"
            phone +14155550100 to +15550002000> hi, my invoice is wrong
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
fn a_photo_without_text_in_the_menu_gets_the_menu_again() {
    check(
        r#"
        phone +14155550100> hi
        phone +14155550100> [photo]
        phone +14155550100> 1 [photo]
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
            phone +14155550100> [photo]
              event: ConsumerMessage
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> 1 [photo]
              event: ConsumerMessage
              event: Queued billing
              system> Thanks! You are in the Billing queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered alice
              status: chat-1 offered (billing, agent alice, en)
        "#]],
    );
}
