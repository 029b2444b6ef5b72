//! Multi-level menus: a queue with child queues opens a submenu, BACK goes up one level, a level with
//! one visible choice is skipped, hidden queues are never offered, and teams serve queues for their
//! members.

use expect_test::expect;

use crate::check;

#[test]
fn a_submenu_opens_under_its_queue_and_back_goes_up_one_level() {
    check(
        r#"
        setup billing-submenu
        phone +14155550100> hi
        phone +14155550100> billing
        phone +14155550100> 3
        phone +14155550100> back
        phone +14155550100> 1
        phone +14155550100> refunds
        phone +14155550100> BACK
        "#,
        expect![[r#"
            setup billing-submenu
            phone +14155550100> hi
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              consent: NoticeSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> billing
              event: ConsumerMessage
              system> How can we help? Reply 1 or INVOICES for Invoices, 2 or REFUNDS for Refunds.
              event: MenuSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> 3
              event: ConsumerMessage
              system> Sorry, we did not understand "3". Reply 1 or INVOICES for Invoices, 2 or REFUNDS for Refunds.
              event: MenuSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> back
              event: ConsumerMessage
              event: BackToMenu
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> 1
              event: ConsumerMessage
              system> How can we help? Reply 1 or INVOICES for Invoices, 2 or REFUNDS for Refunds.
              event: MenuSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> refunds
              event: ConsumerMessage
              event: Queued refunds
              system> Thanks! You are in the Refunds queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered alice
              status: chat-1 offered (refunds, agent alice, en)
            phone +14155550100> BACK
              event: ConsumerMessage
              event: BackToMenu
              system> How can we help? Reply 1 or INVOICES for Invoices, 2 or REFUNDS for Refunds.
              event: MenuSent
              status: chat-1 selecting (-, agent -, en)
        "#]],
    );
}

#[test]
fn hidden_queues_are_not_offered_nor_picked_and_a_first_text_may_name_a_submenu() {
    check(
        r#"
        setup billing-submenu
        phone +14155550100> vip
        phone +14155550101> billing
        phone +14155550101> invoices
        agent alice> accept
        "#,
        expect![[r#"
            setup billing-submenu
            phone +14155550100> vip
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              consent: NoticeSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550101> billing
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or INVOICES for Invoices, 2 or REFUNDS for Refunds.
              event: MenuSent
              consent: NoticeSent
              status: chat-2 selecting (-, agent -, en)
            phone +14155550101> invoices
              event: ConsumerMessage
              event: Queued invoices
              system> Thanks! You are in the Invoices queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered alice
              status: chat-2 offered (invoices, agent alice, en)
            agent alice> accept
              event: Connected alice
              system> You are now chatting with Alice Smith.
              status: chat-2 connected (invoices, agent alice, en)
        "#]],
    );
}

#[test]
fn a_number_whose_menu_has_one_visible_choice_opens_that_choice() {
    check(
        r#"
        setup billing-submenu
        phone +14155550100 to +15550002000> hello
        "#,
        expect![[r#"
            setup billing-submenu
            phone +14155550100 to +15550002000> hello
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or INVOICES for Invoices, 2 or REFUNDS for Refunds.
              event: MenuSent
              consent: NoticeSent
              status: chat-1 selecting (-, agent -, en)
        "#]],
    );
}

#[test]
fn a_queue_without_sms_chat_leaves_the_menu_and_refuses_transfers() {
    // The support menu keeps billing alone, so a first text goes straight there.
    check(
        r#"
        setup tech-without-sms
        phone +14155550100> hi
        agent alice> accept
        agent alice> transfer-queue tech Router trouble
        "#,
        expect![[r#"
            setup tech-without-sms
            phone +14155550100> hi
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
            agent alice> transfer-queue tech Router trouble
              refused: BadTransferTarget (chat-1)
        "#]],
    );
}
