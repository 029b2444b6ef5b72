//! A chat's language: from the detector, a menu choice or LANG; texts per language with fallback, and
//! routing that prefers agents who write it.

use expect_test::expect;

use crate::check;

#[test]
fn a_first_text_detected_as_spanish_gets_spanish_texts_and_a_spanish_speaking_agent() {
    // Bob and carol both serve tech and are equally free; carol writes Spanish.
    check(
        r#"
        setup languages
        phone +14155550100 (es)> Hola, tengo un problema con mi router
        phone +14155550100> soporte
        agent carol> accept
        "#,
        expect![[r#"
            setup languages
            phone +14155550100 (es)> Hola, tengo un problema con mi router
              event: Opened
              event: ConsumerMessage
              event: LanguageChanged es
              system> Parley: Gracias por escribirnos. Responda AYUDA para ayuda, ALTO para no recibir más.
              system> ¿Cómo podemos ayudarle? Responda FACTURAS para Facturación, SOPORTE para Soporte técnico.
              event: MenuSent
              consent: NoticeSent
              status: chat-1 selecting (-, agent -, es)
            phone +14155550100> soporte
              event: ConsumerMessage
              event: Queued tech
              system> Thanks! You are in the Soporte técnico queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered carol
              status: chat-1 offered (tech, agent carol, es)
            agent carol> accept
              event: Connected carol
              system> Le atiende Carol.
              status: chat-1 connected (tech, agent carol, es)
        "#]],
    );
}

#[test]
fn a_menu_word_of_another_language_switches_the_chat_to_it() {
    // Spanish has no text of its own for "queued": the deployment's English one stands in.
    check(
        r#"
        setup languages
        phone +14155550100> hi
        phone +14155550100> Facturas
        "#,
        expect![[r#"
            setup languages
            phone +14155550100> hi
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              consent: NoticeSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> Facturas
              event: ConsumerMessage
              event: LanguageChanged es
              event: Queued billing
              system> Thanks! You are in the Facturación queue. An agent will answer shortly. Reply EXIT to leave.
              event: Offered alice
              status: chat-1 offered (billing, agent alice, es)
        "#]],
    );
}

#[test]
fn lang_switches_the_language_and_an_unknown_one_lists_those_there_are() {
    check(
        r#"
        setup languages
        phone +14155550100> hi
        phone +14155550100> lang es
        phone +14155550100> LANG fr
        phone +14155550100> LANG
        phone +14155550100> lang en
        "#,
        expect![[r#"
            setup languages
            phone +14155550100> hi
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              consent: NoticeSent
              status: chat-1 selecting (-, agent -, en)
            phone +14155550100> lang es
              event: ConsumerMessage
              event: LanguageChanged es
              system> De acuerdo, le escribiremos en español.
              system> ¿Cómo podemos ayudarle? Responda FACTURAS para Facturación, SOPORTE para Soporte técnico.
              event: MenuSent
              status: chat-1 selecting (-, agent -, es)
            phone +14155550100> LANG fr
              event: ConsumerMessage
              system> Sorry, we cannot write in that language. Reply LANG and one of: en, es.
              status: chat-1 selecting (-, agent -, es)
            phone +14155550100> LANG
              event: ConsumerMessage
              system> Sorry, we cannot write in that language. Reply LANG and one of: en, es.
              status: chat-1 selecting (-, agent -, es)
            phone +14155550100> lang en
              event: ConsumerMessage
              event: LanguageChanged en
              system> OK, we will write to you in English.
              system> How can we help? Reply 1 or BILLING for Billing, 2 or TECH for Technical support.
              event: MenuSent
              status: chat-1 selecting (-, agent -, en)
        "#]],
    );
}

#[test]
fn a_detected_language_the_setup_lacks_keeps_the_numbers_language() {
    check(
        r#"
        setup languages
        phone +14155550100 (fr)> Bonjour, j'ai besoin d'aide
        "#,
        expect![[r#"
            setup languages
            phone +14155550100 (fr)> Bonjour, j'ai besoin d'aide
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
fn a_queue_has_its_own_waiting_message_per_language() {
    check(
        r#"
        setup languages
        agent bob> away
        agent carol> away
        phone +14155550100 (es)> soporte
        phone +14155550101> tech
        "#,
        expect![[r#"
            setup languages
            agent bob> away
            agent carol> away
            phone +14155550100 (es)> soporte
              event: Opened
              event: ConsumerMessage
              event: LanguageChanged es
              system> Parley: Gracias por escribirnos. Responda AYUDA para ayuda, ALTO para no recibir más.
              event: Queued tech
              system> Es el número 1 en Soporte técnico; espera: 5 min.
              consent: NoticeSent
              status: chat-1 queued (tech, agent -, es)
            phone +14155550101> tech
              event: Opened
              event: ConsumerMessage
              system> Parley: Thanks for texting us. Msg frequency varies (recurring msgs). Msg & data rates may apply. Reply HELP for help, STOP to opt out.
              event: Queued tech
              system> Thanks! You are number 2 in the Technical support queue. Estimated wait: about 10 min. Reply EXIT to leave.
              consent: NoticeSent
              status: chat-2 queued (tech, agent -, en)
        "#]],
    );
}
