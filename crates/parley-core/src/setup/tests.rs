//! Tests of the setup as a whole: drafts validated into the model, every problem named, and the
//! model turned back into the same draft.

use super::*;
use crate::hours::{BusinessHours, BusinessHoursDraft};
use crate::ids::QueueId;
use crate::keyword;
use crate::number::NumberKind;
use crate::phone::{BusinessNumber, E164};
use crate::registration::{Brand, CampaignRegistration, TollFreeVerification};
use crate::texts::{TextKey, TextOverrides, Texts};

fn draft() -> SetupDraft {
    SetupDraft {
        numbers: vec![NumberDraft {
            number: "+15550001000".into(),
            label: "Support".into(),
            carrier: "sim".into(),
            queues: vec!["billing".into(), "tech".into()],
            segments_per_second: Some(10.0),
            campaign: Some("care".into()),
            kind: "us_10dlc".into(),
            opt_out_keywords: vec!["ALTO".into()],
            opt_in_keywords: vec![],
            help_keywords: vec!["AYUDA".into()],
            ..Default::default()
        }],
        queues: vec![
            QueueDraft {
                id: "billing".into(),
                name: "Billing".into(),
                keywords: vec!["1".into(), "BILLING".into()],
                auto_answer: false,
                consumer_number: "last_four".into(),
                timers: TimerSettings::default(),
                announce_transfers: false,
                parent: None,
                hidden: false,
                strategy: String::new(),
                ..QueueDraft::default()
            },
            QueueDraft {
                id: "tech".into(),
                name: "Tech".into(),
                keywords: vec!["2".into()],
                auto_answer: false,
                consumer_number: "full".into(),
                timers: TimerSettings { offer_timeout_seconds: Some(30), ..TimerSettings::default() },
                announce_transfers: true,
                parent: None,
                hidden: false,
                strategy: String::new(),
                ..QueueDraft::default()
            },
        ],
        agents: vec![AgentDraft {
            id: "alice".into(),
            name: "Alice".into(),
            queues: vec!["billing".into()],
            capacity: 3,
            languages: vec![],
            ..AgentDraft::default()
        }],
        teams: vec![TeamDraft {
            id: "blue".into(),
            name: "Blue".into(),
            members: vec!["alice".into()],
            queues: vec![],
        }],
        campaigns: vec![CampaignDraft {
            id: "care".into(),
            name: "Customer care".into(),
            segments_per_second: Some(4.0),
            ..Default::default()
        }],
        settings: Settings::default(),
        quiet_hours: QuietHoursDraft::default(),
        consumer_number: String::new(),
        replies: vec![],
        blocklist: vec![],
        contact_fields: vec![],
        ivr_queues: vec![],
        apps: vec![],
    }
}

#[test]
fn a_short_code_is_a_number_of_type_short_code_and_only_that() {
    let mut d = draft();
    d.numbers[0].number = "24273".into();
    d.numbers[0].kind = "short_code".into();
    let setup = Setup::validate(&d, &["sim"]).unwrap();
    assert!(setup.numbers[0].number.is_short_code());
    assert_eq!(setup.to_draft().numbers[0].number, "24273");

    d.numbers[0].kind = "long_code".into();
    let errors: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        vec![
            "number 24273: type \"long_code\": a number written without + and a country code is a short code: say type = \"short_code\""
        ]
    );
    d.numbers[0].number = "+15550001000".into();
    d.numbers[0].kind = "short_code".into();
    let errors: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
    assert!(errors[0].contains("a short code is written as its digits alone"), "{errors:?}");
    d.numbers[0].number = "12".into();
    let errors: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
    assert!(errors[0].contains("nor a short code (3 to 8 digits"), "{errors:?}");
}

#[test]
fn commands_translations_hours_and_overflow_are_checked_field_by_field() {
    let mut d = draft();
    d.settings.commands.end = vec!["STOP".into(), "BYE".into()];
    d.settings.commands.agent = vec!["bye".into()];
    d.settings.language_detection.min_confidence = 1.5;
    d.queues[0].keywords.push("Menu".into());
    d.queues[0].translations.insert(
        "fr".into(),
        QueueTranslation { name: "Factures".into(), keywords: vec![], messages: TextOverrides::default() },
    );
    d.queues[1].messages.set(TextKey::Waiting, "Number {position}, {wait_minute} min");
    d.queues[1].overflow = Some("tech".into());
    d.queues[0].overflow = Some("No such!".into());
    d.queues[1].hours = Some(BusinessHoursDraft {
        time_zone: "Mars/Olympus".into(),
        after_hours: "later".into(),
        ..BusinessHoursDraft::default()
    });
    d.agents[0].languages = vec!["de".into()];
    let errors: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
    let expected = [
        "settings: commands.end \"STOP\": is a carrier keyword (opt-out, opt-in or help): it keeps that meaning",
        "settings: commands.agent \"bye\": is also a word of the end command",
        "settings: language_detection.min_confidence 1.5: must be between 0 and 1 (0.7 is a good start)",
        "queue \"billing\" uses the reserved word \"Menu\" (carrier keywords and SMS commands cannot be queue names or keywords)",
        "queue \"billing\": languages.fr: not a language of the setup (known: en); add it under settings.languages",
        "queue \"tech\": messages.waiting: unknown placeholder {wait_minute}: this text may use {brand}, {business}, {end_command}, {queue}, {position}, {wait_minutes}",
        "queue \"tech\": hours: time_zone \"Mars/Olympus\": ",
        "queue \"tech\": hours: after_hours \"later\": ",
        "queue \"tech\" (overflow: another queue) refers to unknown queue \"tech\"",
        "queue \"billing\" (overflow: another queue) refers to unknown queue \"No such!\"",
        "agent \"alice\": languages \"de\": not a language of the setup (known: en); add it under settings.languages",
    ];
    for e in expected {
        assert!(errors.iter().any(|x| x.starts_with(e)), "missing {e:?} in {errors:#?}");
    }
    assert_eq!(errors.len(), expected.len(), "{errors:#?}");
}

#[test]
fn languages_numbers_and_texts_are_checked_field_by_field() {
    let mut d = draft();
    d.settings.texts.set(TextKey::Queued, "You are in {qeue}");
    let mut spanish = Language {
        opt_out_keywords: vec!["ALTO".into(), "stop".into(), "".into()],
        opt_in_keywords: vec!["alto".into()],
        texts: TextOverrides::of(&[(TextKey::Connected, "Le atiende {agente}")]),
        ..Language::default()
    };
    spanish.help_keywords = vec!["Billing".into()];
    d.settings.languages.insert("es".into(), spanish);
    d.settings.languages.insert("EN_us".into(), Language::default());
    d.numbers[0].language = Some("fr".into());
    d.numbers[0].messages.set(TextKey::Help, "{menu}");
    let errors: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
    let expected = [
        "settings.messages: messages.queued: unknown placeholder {qeue}: this text may use {brand}, {business}, {end_command}, {queue}",
        "language \"EN_us\": tag: use a language tag (e.g. es, pt-BR) other than the deployment's own (en), whose texts are settings.messages",
        "language \"es\": messages.connected: unknown placeholder {agente}: this text may use {brand}, {business}, {end_command}, {queue}, {agent}, {agent_first_name}",
        "language \"es\": opt_out_keywords \"stop\": is already a standard keyword",
        "language \"es\": opt_out_keywords \"\": has no letters or digits",
        "language \"es\": opt_in_keywords \"alto\": is both an opt_out and an opt_in keyword",
        "number +15550001000: keyword \"BILLING\" is a keyword of one of the setup's languages and also a menu choice of this number",
        "number +15550001000: language \"fr\": not a language of the setup (known: en, EN_us, es); add it under settings.languages",
        "number +15550001000: messages.help: unknown placeholder {menu}: this text may use {brand}, {business}, {end_command}",
    ];
    for e in expected {
        assert!(errors.iter().any(|x| x == e), "missing {e:?} in {errors:#?}");
    }
    assert_eq!(errors.len(), expected.len(), "{errors:#?}");
}

#[test]
fn a_numbers_texts_are_its_own_over_its_languages_over_the_deployments() {
    let mut d = draft();
    let spanish = Language {
        texts: TextOverrides::of(&[(TextKey::Help, "Ayuda"), (TextKey::Menu, "Menú: {menu}")]),
        opt_out_keywords: vec!["ALTO".into()],
        ..Language::default()
    };
    d.settings.languages.insert("es".into(), spanish);
    d.numbers[0].language = Some("es".into());
    d.numbers[0].messages.set(TextKey::Help, "Ayuda del número");
    let setup = Setup::validate(&d, &["sim"]).unwrap();
    let texts = setup.texts_for(&setup.numbers[0], None, "es");
    assert_eq!((texts.get(TextKey::Help), texts.get(TextKey::Menu)), ("Ayuda del número", "Menú: {menu}"));
    assert_eq!(texts.get(TextKey::Queued), Texts::default().get(TextKey::Queued));
    assert_eq!(setup.carrier_keyword(&setup.numbers[0], "alto!"), Some(keyword::CarrierKeyword::OptOut));
    assert_eq!(setup.to_draft().settings.languages, d.settings.languages);
    assert_eq!(setup.to_draft().numbers[0].messages, d.numbers[0].messages);
    // The deployment's own language named on a number is the same as naming none.
    d.numbers[0].language = Some("en".into());
    let setup = Setup::validate(&d, &["sim"]).unwrap();
    let english = setup.texts_for(&setup.numbers[0], None, "en");
    assert_eq!(english.get(TextKey::Help), "Ayuda del número", "the number's own texts are in its language");
    assert_eq!(english.get(TextKey::Menu), Texts::default().get(TextKey::Menu));
}

#[test]
fn quiet_hours_are_checked_and_round_trip() {
    let mut d = draft();
    d.quiet_hours = QuietHoursDraft {
        enabled: true,
        start: "20:30".into(),
        end: "09:00".into(),
        time_zone: "Europe/Berlin".into(),
    };
    let setup = Setup::validate(&d, &["sim"]).unwrap();
    let rule = setup.settings.quiet_hours.unwrap();
    assert_eq!((rule.window.as_strings(), rule.time_zone.name()), (("20:30".into(), "09:00".into()), "Europe/Berlin"));
    assert_eq!(setup.to_draft().quiet_hours, d.quiet_hours);

    d.quiet_hours.enabled = false;
    let off = Setup::validate(&d, &["sim"]).unwrap();
    assert_eq!(off.settings.quiet_hours, None);
    assert_eq!(off.to_draft().quiet_hours, QuietHoursDraft { enabled: false, ..QuietHoursDraft::default() });

    d.quiet_hours =
        QuietHoursDraft { enabled: false, start: "9pm".into(), end: "08:00".into(), time_zone: "Mars/Olympus".into() };
    let errors: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].starts_with("settings.quiet_hours: start/end: quiet hours start \"9pm\""), "{errors:?}");
    assert!(errors[1].contains("\"Mars/Olympus\" is not an IANA time zone"), "{errors:?}");
}

#[test]
fn a_good_draft_validates_and_round_trips() {
    let setup = Setup::validate(&draft(), &["sim"]).unwrap();
    assert_eq!(setup.to_draft(), draft());
    let number = &setup.numbers[0];
    assert_eq!(setup.menu_choice(number, None, " billing! ").unwrap().0.as_str(), "billing");
    assert_eq!(setup.menu_choice(number, None, "2").unwrap().0.as_str(), "tech");
    assert_eq!(setup.menu_choice(number, None, "tech.").unwrap().0.as_str(), "tech");
    assert_eq!(setup.menu_choice(number, None, "3"), None);
}

#[test]
fn every_problem_is_reported_by_name() {
    let mut d = draft();
    d.numbers[0].queues.push("nope".into());
    d.numbers.push(d.numbers[0].clone());
    d.numbers.push(NumberDraft {
        number: "+15550003000".into(),
        carrier: "sim".into(),
        queues: vec!["tech".into(), "tech".into()],
        ..Default::default()
    });
    d.numbers.push(NumberDraft { number: "555-0001".into(), carrier: "sim".into(), ..Default::default() });
    d.queues[1].keywords.push("Billing".into());
    d.queues[0].keywords.push("stop".into());
    d.agents[0].capacity = 0;
    d.numbers[0].segments_per_second = Some(0.0);
    d.numbers[2].campaign = Some("marketing".into());
    d.numbers[2].kind = "landline".into();
    d.numbers[2].opt_out_keywords = vec!["stop".into(), "ALTO".into(), "alto!".into(), "2".into()];
    d.campaigns[0].segments_per_second = Some(5000.0);
    d.teams[0].members.push("bob".into());
    d.queues[1].consumer_number = "partial".into();
    let errors: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
    let all = errors.join("\n");
    assert!(all.contains("unknown queue \"nope\""), "{all}");
    assert!(all.contains("number +15550001000 is listed twice"), "{all}");
    assert!(all.contains("number +15550003000 lists queue \"tech\" twice"), "{all}");
    assert!(all.contains("number 4: \"555-0001\" is neither an E.164 number"), "{all}");
    assert!(all.contains("keyword \"BILLING\" is used by queues \"billing\" and \"tech\""), "{all}");
    assert!(all.contains("reserved word \"stop\""), "{all}");
    assert!(all.contains("agent \"alice\" has capacity 0"), "{all}");
    assert!(all.contains("number +15550001000: segments_per_second must be above 0"), "{all}");
    assert!(all.contains("number +15550003000 refers to unknown campaign \"marketing\""), "{all}");
    assert!(all.contains("number +15550003000 has kind \"landline\": use long_code"), "{all}");
    assert!(all.contains("number +15550003000: keyword \"stop\" is already a standard keyword"), "{all}");
    assert!(all.contains("number +15550003000: keyword \"alto!\" is listed twice"), "{all}");
    assert!(all.contains("number +15550003000: keyword \"2\" is also a menu choice of this number"), "{all}");
    assert!(all.contains("campaign \"care\": segments_per_second must be above 0 and at most 1000, not 5000"), "{all}");
    assert!(all.contains("team \"blue\" refers to unknown agent \"bob\""), "{all}");
    assert!(all.contains("queue \"tech\" has consumer_number \"partial\": use full, last_four or hidden"), "{all}");
}

#[test]
fn consumer_number_defaults_to_full_and_parses_every_value() {
    let mut d = draft();
    d.queues[1].consumer_number = String::new();
    d.queues[0].consumer_number = "hidden".into();
    let setup = Setup::validate(&d, &["sim"]).unwrap();
    assert_eq!(setup.queues[0].consumer_number, Some(ConsumerNumber::Hidden));
    // Empty inherits: from the deployment, whose default is full.
    assert_eq!(setup.queues[1].consumer_number, None);
    assert_eq!(setup.consumer_number_of(&setup.queues[1].id), ConsumerNumber::Full);
    // Exported, "not set" stays not set, so the export round-trips.
    assert_eq!(setup.to_draft().queues[1].consumer_number, "");
    assert_eq!(setup.to_draft().queues[0].consumer_number, "hidden");
    for value in ["full", "last_four", "hidden"] {
        assert_eq!(ConsumerNumber::parse(value).map(ConsumerNumber::as_str), Some(value));
    }
    assert_eq!(ConsumerNumber::parse("Last_Four"), None);
}

#[test]
fn masking_shows_all_the_last_four_or_nothing() {
    let number = E164::parse("+15550000100").unwrap();
    assert_eq!(mask(&number, ConsumerNumber::Full), "+15550000100");
    assert_eq!(mask(&number, ConsumerNumber::LastFour), "+*******0100");
    assert_eq!(mask(&number, ConsumerNumber::Hidden), "hidden");
    // The shortest E.164 number still hides half its digits; the output is ASCII.
    let short = E164::parse("+15550100").unwrap();
    assert_eq!(mask(&short, ConsumerNumber::LastFour), "+****0100");
    let longest = E164::parse("+123456789012345").unwrap();
    let masked = mask(&longest, ConsumerNumber::LastFour);
    assert_eq!(masked, "+***********2345");
    assert!(masked.is_ascii());
    assert!(!masked.contains("1234567"));
}

fn registered_draft() -> SetupDraft {
    let mut d = draft();
    d.settings.brands = vec![Brand {
        id: "acme".into(),
        legal_name: "Acme Corporation".into(),
        tax_id: "12-3456789".into(),
        tax_id_country: "US".into(),
        ..Default::default()
    }];
    d.campaigns[0].brand = Some("acme".into());
    d.campaigns[0].registration.use_case = "customer_care".into();
    d.campaigns[0].segments_per_minute = Some(200);
    d.campaigns[0].segments_per_day = Some(10_000);
    d.numbers[0].segments_per_day = Some(5000);
    d.numbers.push(NumberDraft {
        number: "+18005550100".into(),
        carrier: "sim".into(),
        queues: vec!["tech".into()],
        kind: "toll_free".into(),
        toll_free_verification: Some(TollFreeVerification {
            business_name: "Acme Corporation".into(),
            ..Default::default()
        }),
        ..Default::default()
    });
    d
}

#[test]
fn registrations_and_limits_round_trip() {
    let setup = Setup::validate(&registered_draft(), &["sim"]).unwrap();
    assert_eq!(setup.to_draft(), registered_draft());
    let number = BusinessNumber::parse("+15550001000").unwrap();
    assert_eq!(setup.registration(&number).unwrap().segments_per_day, Some(5000));
    assert_eq!(setup.campaigns[0].segments_per_minute, Some(200));
    assert_eq!(setup.brand("acme").unwrap().legal_name, "Acme Corporation");
}

#[test]
fn bad_fields_and_limits_are_reported_one_by_one() {
    let mut d = registered_draft();
    d.settings.brands[0].tax_id = "12-34".into();
    d.settings.brands[0].website = "http://acme.example".into();
    d.settings.brands.push(Brand { id: "Bad Id".into(), ..Default::default() });
    d.campaigns[0].registration.sample_messages = vec!["long enough to be a sample".into(), "short".into()];
    d.campaigns.push(CampaignDraft {
        id: "promo".into(),
        brand: Some("nope".into()),
        segments_per_minute: Some(0),
        ..Default::default()
    });
    d.campaigns.push(CampaignDraft {
        id: "orphan".into(),
        registration: CampaignRegistration { description: "x".repeat(50), ..Default::default() },
        ..Default::default()
    });
    d.numbers[0].segments_per_second = Some(10.0);
    d.numbers[0].segments_per_minute = Some(5);
    d.numbers[0].segments_per_day = Some(MAX_PER_DAY + 1);
    d.numbers[1].toll_free_verification.as_mut().unwrap().opt_in_type = "email".into();
    d.numbers[0].toll_free_verification = Some(TollFreeVerification::default());
    let errors: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
    let expected = [
        "brand \"acme\": tax_id \"12-34\": a US EIN has 9 digits (NN-NNNNNNN)",
        "brand \"acme\": website \"http://acme.example\": use an https URL such as https://www.example.com",
        "brand: \"Bad Id\" is not a valid id: use 1 to 64 characters of a-z, 0-9, '-', '_' or '.'",
        "campaign \"care\": sample_messages[2]: has 5 characters: write at least 20",
        "campaign \"promo\": segments_per_minute: must be above 0 and at most 60000, not 0",
        "campaign \"promo\" refers to unknown brand \"nope\"",
        "campaign \"orphan\": brand: is missing: a campaign with registration fields names its brand",
        "number +15550001000: segments_per_day: must be above 0 and at most 86400000, not 86400001",
        "number +15550001000: segments_per_minute 5: must be at least segments_per_second (10)",
        "number +15550001000: toll_free_verification: is for toll_free numbers, and this one is us_10dlc",
        "number +18005550100: toll_free_verification: opt_in_type \"email\": use one of verbal, web_form, \
         paper_form, via_text, mobile_qr_code",
    ];
    for e in expected {
        assert!(errors.iter().any(|x| x == e), "missing {e:?} in {errors:#?}");
    }
    assert_eq!(errors.len(), expected.len(), "{errors:#?}");
}

#[test]
fn the_day_limit_must_allow_the_minute_limit() {
    let mut d = draft();
    d.campaigns[0].segments_per_minute = Some(600);
    d.campaigns[0].segments_per_day = Some(500);
    let errors = Setup::validate(&d, &["sim"]).unwrap_err();
    assert_eq!(
        errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["campaign \"care\": segments_per_day 500: must be at least segments_per_minute (600)"]
    );
}

#[test]
fn missing_registration_fields_are_listed_per_owner() {
    let setup = Setup::validate(&registered_draft(), &["sim"]).unwrap();
    let tendlc = setup.numbers[0].clone();
    let missing = setup.missing_registration(&tendlc);
    assert!(missing.contains(&"campaign \"care\": description is missing".to_owned()), "{missing:#?}");
    assert!(missing.contains(&"brand \"acme\": vertical is missing".to_owned()), "{missing:#?}");
    assert!(!missing.iter().any(|m| m.contains("use_case") || m.contains("legal_name")), "{missing:#?}");
    let toll_free = setup.numbers[1].clone();
    let missing = setup.missing_registration(&toll_free);
    assert!(missing.contains(&"number +18005550100: toll_free_verification.website is missing".to_owned()));
    assert!(!missing.iter().any(|m| m.contains("business_name")), "{missing:#?}");

    let mut d = registered_draft();
    d.numbers[0].campaign = None;
    d.numbers[1].toll_free_verification = None;
    let setup = Setup::validate(&d, &["sim"]).unwrap();
    assert_eq!(setup.missing_registration(&setup.numbers[0]), ["number +15550001000: campaign is missing"]);
    assert_eq!(
        setup.missing_registration(&setup.numbers[1]),
        ["number +18005550100: toll_free_verification is missing"]
    );
    // A plain long code needs nothing.
    let mut plain = setup.numbers[0].clone();
    plain.kind = NumberKind::LongCode;
    assert!(setup.missing_registration(&plain).is_empty());
}

#[test]
fn unknown_carrier_is_named() {
    let errors = Setup::validate(&draft(), &["twilio"]).unwrap_err();
    assert_eq!(
        errors[0].to_string(),
        "number +15550001000 names carrier \"sim\", which is not configured (known: twilio)"
    );
}

fn block(number: &str, reason: &str) -> BlockDraft {
    BlockDraft { number: number.into(), reason: reason.into(), added_by: "dana".into(), added_at: None }
}

#[test]
fn blocklist_entries_validate_round_trip_and_are_found_by_number() {
    let mut d = draft();
    d.blocklist = vec![
        BlockDraft { added_at: Some("2026-12-01T10:00:00Z".into()), ..block("+14155550199", "Spam") },
        block("+14155550100", "Abusive messages"),
        block("+4930123456", "Asked never to be contacted"),
    ];
    let setup = Setup::validate(&d, &["sim"]).unwrap();
    let phone = |p: &str| E164::parse(p).unwrap();
    let entry = setup.blocked(&phone("+14155550100")).unwrap();
    assert_eq!((entry.reason.as_str(), entry.added_by.as_str()), ("Abusive messages", "dana"));
    assert_eq!(setup.blocked(&phone("+14155550101")), None);
    assert_eq!(
        setup.blocked(&phone("+14155550199")).unwrap().added_at,
        Some(crate::time::Timestamp(1_796_119_200_000))
    );
    // Exported in number order, each entry as written.
    let exported = setup.to_draft().blocklist;
    let numbers: Vec<&str> = exported.iter().map(|b| b.number.as_str()).collect();
    assert_eq!(numbers, ["+14155550100", "+14155550199", "+4930123456"]);
    assert_eq!(exported[1].added_at.as_deref(), Some("2026-12-01T10:00:00Z"));
    assert_eq!(Setup::validate(&setup.to_draft(), &["sim"]).unwrap(), setup);
    // A prefix is a range of the list, paged after the last number of the previous page.
    let list = &setup.blocklist;
    let of = |prefix: &str, after: Option<&str>| -> Vec<String> {
        list.matching(prefix, after).map(|b| b.number.to_string()).collect()
    };
    assert_eq!(of("+1415", None), ["+14155550100", "+14155550199"]);
    assert_eq!(of("+1415", Some("+14155550100")), ["+14155550199"]);
    assert_eq!(of("", Some("+14155550199")), ["+4930123456"]);
    assert_eq!(of("+44", None), Vec::<String>::new());
}

#[test]
fn blocklist_duplicates_and_numbers_that_are_not_e164_are_each_named_with_the_rest() {
    let mut d = draft();
    d.agents[0].capacity = 0;
    d.blocklist = vec![
        block("+14155550100", "Spam"),
        block("4155550100", "No plus"),
        block("+14155550100", "Again"),
        block("+1 415 555 0101", "Spaces"),
        block("+14155550102", "  "),
        BlockDraft { added_at: Some("yesterday".into()), ..block("+14155550103", "Bad time") },
    ];
    let errors: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
    let all = errors.join("\n");
    assert!(all.contains("agent \"alice\" has capacity 0"), "the other problems are listed too: {all}");
    assert!(all.contains("blocklist entry 2 (\"4155550100\"): number not an E.164 phone number"), "{all}");
    assert!(
        all.contains("blocklist entry 3 (\"+14155550100\"): number +14155550100 is listed twice (also entry 1)"),
        "{all}"
    );
    assert!(all.contains("blocklist entry 4 (\"+1 415 555 0101\"): number not an E.164 phone number"), "{all}");
    assert!(all.contains("blocklist entry 5 (\"+14155550102\"): reason must not be empty"), "{all}");
    assert!(
        all.contains("blocklist entry 6 (\"+14155550103\"): added_at \"yesterday\" is not an RFC 3339 time"),
        "{all}"
    );
    assert_eq!(errors.iter().filter(|e| e.starts_with("blocklist")).count(), 5, "{all}");
}

#[test]
fn blocklist_with_and_without_block_change_only_the_list() {
    let setup = Setup::validate(&draft(), &["sim"]).unwrap();
    let entry = Blocked {
        number: E164::parse("+14155550100").unwrap(),
        reason: "Spam".into(),
        added_by: "dana".into(),
        added_at: None,
    };
    let blocked = setup.with_block(entry.clone()).unwrap();
    assert_eq!(blocked.blocked(&entry.number), Some(&entry));
    assert_eq!(Setup { blocklist: Blocklist::default(), ..blocked.clone() }, setup);
    let again = Blocked { reason: "Other".into(), ..entry.clone() };
    assert_eq!(blocked.with_block(again).unwrap_err(), entry, "a duplicate names the entry there");
    let (unblocked, removed) = blocked.without_block(&entry.number).unwrap();
    assert_eq!((unblocked, removed), (setup.clone(), entry.clone()));
    assert!(setup.without_block(&entry.number).is_none());
}

/// The draft with billing > invoices > europe below the deployment: billing sets masking, the
/// outbound switch, dismissal, a timer and a text; invoices sets hours and another timer; europe
/// nothing.
fn tree_draft() -> SetupDraft {
    let mut d = draft();
    d.settings.timers.inactivity_warning_minutes = Some(12);
    d.settings.dismissal =
        Some(DismissalSettings { enabled: true, after_minutes: 600, notice_minutes_before: None, by_agent: true });
    let billing = &mut d.queues[0];
    billing.consumer_number = "hidden".into();
    billing.agent_outbound = Some(false);
    billing.dismissal =
        Some(DismissalSettings { enabled: true, after_minutes: 30, notice_minutes_before: Some(5), by_agent: false });
    billing.timers.offer_timeout_seconds = Some(20);
    billing.messages.set(TextKey::Queued, "Billing: in line for {queue}.");
    let hours = BusinessHoursDraft {
        time_zone: "UTC".into(),
        days: [("mon".to_owned(), vec!["09:00-17:00".to_owned()])].into_iter().collect(),
        closed_dates: vec![],
        after_hours: "keep_queued".into(),
    };
    d.queues.push(QueueDraft {
        id: "invoices".into(),
        name: "invoices".into(),
        parent: Some("billing".into()),
        hours: Some(hours),
        timers: TimerSettings { queue_wait_minutes: Some(9), ..TimerSettings::default() },
        ..QueueDraft::default()
    });
    d.queues.push(QueueDraft {
        id: "europe".into(),
        name: "europe".into(),
        parent: Some("invoices".into()),
        ..QueueDraft::default()
    });
    d
}

#[test]
fn settings_tree_a_sub_sub_queue_inherits_every_setting_from_the_nearest_that_sets_it() {
    let setup = Setup::validate(&tree_draft(), &["sim"]).unwrap();
    let europe = QueueId::parse("europe").unwrap();
    let billing = Source::Queue(QueueId::parse("billing").unwrap());
    let invoices = Source::Queue(QueueId::parse("invoices").unwrap());
    // Each timer on its own: billing's, invoices', the deployment's.
    let timers = setup.timers_for(Some(&europe));
    assert_eq!(timers.offer_timeout_seconds, Some(20));
    assert_eq!(timers.queue_wait_minutes, Some(9));
    assert_eq!(timers.inactivity_warning_minutes, Some(12));
    let s = setup.queue_settings(&europe);
    let source_of = |name: &str| s.timers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(source_of("offer_timeout_seconds"), Sourced { value: 20, source: billing.clone() });
    assert_eq!(source_of("queue_wait_minutes"), Sourced { value: 9, source: invoices.clone() });
    assert_eq!(source_of("inactivity_warning_minutes"), Sourced { value: 12, source: Source::Deployment });
    // Masking, the switches, hours and dismissal.
    assert_eq!(setup.consumer_number_of(&europe), ConsumerNumber::Hidden);
    assert_eq!(s.consumer_number.source, billing);
    assert!(!setup.agent_outbound(&europe));
    assert_eq!(s.sms_chat, Sourced { value: true, source: Source::Deployment });
    assert_eq!(setup.hours_of(&europe).map(BusinessHours::time_zone), Some("UTC"));
    assert_eq!(s.hours.source, invoices);
    let dismissal = setup.dismissal_of(Some(&europe)).unwrap();
    assert_eq!((dismissal.after_minutes, dismissal.notice_minutes_before, dismissal.by_agent), (30, Some(5), false));
    // Texts: billing's queued text, the deployment's menu.
    let texts = setup.texts_for(&setup.numbers[0], Some(&europe), "en");
    assert_eq!(texts.get(TextKey::Queued), "Billing: in line for {queue}.");
    let queued = s.texts.iter().find(|(k, _)| *k == TextKey::Queued).unwrap();
    assert_eq!(queued.1.source, billing);
    assert_eq!(s.texts.iter().find(|(k, _)| *k == TextKey::Menu).unwrap().1.source, Source::Deployment);
    // Tech sets none of these: the deployment's.
    let tech = QueueId::parse("tech").unwrap();
    assert_eq!(setup.dismissal_of(Some(&tech)).map(|d| d.after_minutes), Some(600));
    assert!(setup.agent_outbound(&tech));
    assert_eq!(setup.queue_settings(&tech).dismissal.source, Source::Deployment);
}

#[test]
fn settings_tree_a_child_turns_an_inherited_dismissal_off_and_exports_what_was_written() {
    let mut d = tree_draft();
    d.queues[3].dismissal = Some(DismissalSettings { enabled: false, ..DismissalSettings::default() });
    let setup = Setup::validate(&d, &["sim"]).unwrap();
    let europe = QueueId::parse("europe").unwrap();
    assert_eq!(setup.dismissal_of(Some(&europe)), None);
    assert_eq!(setup.queue_settings(&europe).dismissal.source, Source::Queue(europe.clone()));
    // "Not set" stays not set: the export is the draft as written.
    assert_eq!(setup.to_draft(), d);
}

#[test]
fn dismissal_minutes_out_of_range_and_a_late_notice_are_refused_naming_the_field() {
    let mut d = draft();
    d.queues[0].dismissal =
        Some(DismissalSettings { enabled: true, after_minutes: 0, notice_minutes_before: None, by_agent: true });
    d.queues[1].dismissal =
        Some(DismissalSettings { enabled: true, after_minutes: 30, notice_minutes_before: Some(30), by_agent: true });
    d.settings.dismissal = Some(DismissalSettings { after_minutes: 10_081, ..DismissalSettings::default() });
    let errors = Setup::validate(&d, &["sim"]).unwrap_err();
    let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(
        all.contains(
            &"queue \"billing\": dismissal.after_minutes 0: must be between 1 and 10080 minutes (a week)".to_owned()
        ),
        "{all:?}"
    );
    assert!(
        all.contains(
            &"settings: dismissal.after_minutes 10081: must be between 1 and 10080 minutes (a week)".to_owned()
        ),
        "{all:?}"
    );
    assert!(
        all.contains(&"queue \"tech\": dismissal.notice_minutes_before 30: must be at least 1 and less than dismissal.after_minutes (30), or left out for no notice".to_owned()),
        "{all:?}"
    );
    assert_eq!(all.len(), 3, "{all:?}");
    // The edges are fine, and a turned-off dismissal needs no minutes.
    d.queues[0].dismissal = Some(DismissalSettings { after_minutes: 1, ..DismissalSettings::default() });
    d.queues[1].dismissal = Some(DismissalSettings { enabled: false, ..DismissalSettings::default() });
    d.settings.dismissal = Some(DismissalSettings {
        after_minutes: 10_080,
        notice_minutes_before: Some(10_079),
        ..DismissalSettings::default()
    });
    assert!(Setup::validate(&d, &["sim"]).is_ok());
}

#[test]
fn a_deployment_consumer_number_that_is_no_choice_is_refused() {
    let mut d = draft();
    d.consumer_number = "most".into();
    let all: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
    assert_eq!(all, vec!["settings: consumer_number \"most\": use full, last_four or hidden".to_owned()]);
    d.consumer_number = "last_four".into();
    let setup = Setup::validate(&d, &["sim"]).unwrap();
    // Tech says full itself; a queue that says nothing would get the deployment's.
    assert_eq!(setup.consumer_number_of(&QueueId::parse("tech").unwrap()), ConsumerNumber::Full);
    assert_eq!(setup.settings.consumer_number, ConsumerNumber::LastFour);
    assert_eq!(setup.to_draft().consumer_number, "last_four");
}

#[test]
fn roles_direct_numbers_and_sessionless_replies_round_trip() {
    let mut d = draft();
    d.numbers[0].role = "outbound".into();
    d.numbers[0].sessionless_reply = "auto_reply".into();
    d.numbers[0].sessionless_window_hours = Some(48);
    d.numbers.push(NumberDraft {
        number: "+15550003000".into(),
        carrier: "sim".into(),
        kind: "long_code".into(),
        role: "incoming".into(),
        agent: Some("alice".into()),
        fallback_queue: Some("billing".into()),
        ..Default::default()
    });
    d.agents[0].greeting = Some("Hi, {agent_first_name} here.".into());
    d.agents[0].hours = Some(BusinessHoursDraft {
        time_zone: "America/New_York".into(),
        days: [("mon".to_owned(), vec!["09:00-17:00".to_owned()])].into_iter().collect(),
        closed_dates: vec![],
        after_hours: "keep_queued".into(),
    });
    let setup = Setup::validate(&d, &["sim"]).unwrap();
    let direct = setup.number(&BusinessNumber::parse("+15550003000").unwrap()).unwrap();
    assert_eq!(direct.role, NumberRole::Incoming);
    assert_eq!(direct.agent.as_ref().map(|a| a.as_str()), Some("alice"));
    assert!(direct.queues.is_empty(), "a direct number has no menu");
    assert_eq!(setup.numbers[0].sessionless_reply, SessionlessReply::AutoReply);
    assert_eq!(setup.numbers[0].sessionless_window_hours, 48);
    assert_eq!(setup.to_draft().numbers, d.numbers, "written as given (defaults as nothing)");
    assert_eq!(setup.to_draft().agents, d.agents);
    // Alice may start outbound chats from the support number only: the direct one does not send.
    let alice = crate::ids::AgentId::parse("alice").unwrap();
    let from: Vec<String> = setup.outbound_numbers_of(&alice).iter().map(|n| n.number.to_string()).collect();
    assert_eq!(from, ["+15550001000"]);
}

#[test]
fn bad_roles_and_direct_numbers_are_all_named_at_once() {
    let mut d = draft();
    d.numbers[0].role = "sometimes".into();
    d.numbers[0].sessionless_reply = "ignore".into();
    d.numbers[0].sessionless_window_hours = Some(721);
    d.numbers[0].fallback_queue = Some("billing".into());
    let direct = |number: &str, agent: &str| NumberDraft {
        number: number.into(),
        carrier: "sim".into(),
        agent: Some(agent.into()),
        ..Default::default()
    };
    // An unknown agent; a direct number with a menu and a fallback queue that does not exist; an
    // outbound-only direct number; and alice with two direct numbers without opting in.
    d.numbers.push(direct("+15550003000", "zed"));
    d.numbers.push(NumberDraft {
        queues: vec!["billing".into()],
        fallback_queue: Some("nowhere".into()),
        ..direct("+15550003001", "alice")
    });
    d.numbers.push(NumberDraft { role: "outbound".into(), ..direct("+15550003002", "alice") });
    d.agents[0].greeting = Some("Hi from {agnet}".into());
    d.agents[0].direct_numbers = "many".into();
    let errors: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
    let expected = [
        "number +15550001000: role \"sometimes\": use incoming, outbound, both or in_call",
        "number +15550001000: sessionless_reply \"ignore\": use chat or auto_reply",
        "number +15550001000: sessionless_window_hours 721: must be between 1 and 720 hours (24 is a good start)",
        "number +15550001000: fallback_queue: is for direct numbers only: name the number's agent, or leave it out",
        "number +15550003000 (agent: a direct number) refers to unknown agent \"zed\"",
        "number +15550003001 (fallback_queue) refers to unknown queue \"nowhere\"",
        "number +15550003001: queues: a direct number (agent = ...) has no menu: leave queues out, and name a fallback_queue for chats its agent cannot take",
        "number +15550003002: role \"outbound\": a direct number takes its agent's chats: use incoming or both",
        "agent \"alice\": greeting: unknown placeholder {agnet}: the greeting may use {brand}, {business}, {end_command}, {agent}, {agent_first_name}",
        "agent \"alice\": direct_numbers \"many\": use one or several",
        "agent \"alice\": direct_numbers: is the agent of 2 direct numbers (+15550003001, +15550003002): set direct_numbers = \"several\" on the agent if that is meant",
    ];
    for e in expected {
        assert!(errors.iter().any(|x| x == e), "missing {e:?} in {errors:#?}");
    }
    // With the opt-in, two direct numbers are fine.
    let mut ok = draft();
    ok.numbers.push(direct("+15550003000", "alice"));
    ok.numbers.push(direct("+15550003001", "alice"));
    assert!(Setup::validate(&ok, &["sim"]).is_err());
    ok.agents[0].direct_numbers = "several".into();
    Setup::validate(&ok, &["sim"]).unwrap();
}

#[test]
fn crm_contact_fields_record_policies_and_default_owners_round_trip() {
    let mut d = draft();
    d.contact_fields = vec![
        ContactFieldDraft {
            key: "plan".into(),
            label: "Plan".into(),
            kind: "choice".into(),
            choices: vec!["gold".into()],
        },
        ContactFieldDraft { key: "since".into(), label: "Customer since".into(), kind: "date".into(), choices: vec![] },
    ];
    d.queues[0].record_policy = "reopen_within_days=7".into();
    d.queues[0].default_owner = Some("alice".into());
    let setup = Setup::validate(&d, &["sim"]).unwrap();
    assert_eq!(setup.contact_fields.len(), 2);
    assert_eq!(setup.contact_fields[1].kind, crate::crm::fields::FieldKind::Date);
    assert_eq!(setup.queues[0].record_policy, crate::crm::record::RecordPolicy::ReopenWithinDays(7));
    assert_eq!(setup.queues[0].default_owner.as_ref().map(|a| a.as_str()), Some("alice"));
    let back = setup.to_draft();
    assert_eq!(back.queues[0].record_policy, "reopen_within_days = 7");
    assert_eq!(back.contact_fields, d.contact_fields);
    assert_eq!(Setup::validate(&back, &["sim"]).unwrap(), setup);
}

#[test]
fn crm_bad_contact_fields_policies_and_owners_are_all_named_at_once() {
    let mut d = draft();
    d.contact_fields = vec![
        ContactFieldDraft { key: "plan".into(), label: "Plan".into(), kind: "colour".into(), choices: vec![] },
        ContactFieldDraft { key: "email".into(), label: "E-mail".into(), kind: "text".into(), choices: vec![] },
        ContactFieldDraft { key: "size".into(), label: "Size".into(), kind: "number".into(), choices: vec![] },
        ContactFieldDraft { key: "size".into(), label: "Size".into(), kind: "number".into(), choices: vec![] },
    ];
    d.queues[0].record_policy = "append_closed".into();
    d.queues[1].default_owner = Some("zed".into());
    let all: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
    assert_eq!(all.len(), 5, "{all:#?}");
    assert!(
        all[0].starts_with("queue \"billing\": record_policy: \"append_closed\" is not a record policy"),
        "{all:#?}"
    );
    assert_eq!(all[1], "queue \"tech\" (default_owner) refers to unknown agent \"zed\"");
    assert_eq!(all[2], "contact field 1 (\"plan\"): type \"colour\": use text, number, date or choice");
    assert_eq!(all[3], "contact field 2 (\"email\"): declaration: key \"email\" is a built-in contact column");
    assert_eq!(all[4], "contact field \"size\" is defined twice");
}

fn ivr_draft() -> SetupDraft {
    let mut d = draft();
    d.replies.push(crate::setup::ReplyDraft {
        id: "wait".into(),
        title: "Wait".into(),
        shortcut: "wait".into(),
        text: "Reply with a photo of the problem while you wait.".into(),
        ..Default::default()
    });
    d.numbers.push(NumberDraft {
        number: "+15550007000".into(),
        carrier: "sim".into(),
        role: "in_call".into(),
        ..Default::default()
    });
    d.ivr_queues.push(ivr::IvrQueueDraft {
        id: "voice-billing".into(),
        name: "Billing calls".into(),
        numbers: vec!["+15550009000".into()],
        agents: vec!["alice".into()],
        teams: vec!["blue".into()],
        voice_destination: Some("+15550009999".into()),
        in_call_number: Some("+15550007000".into()),
        deflection: Some(ivr::DeflectionDraft {
            enabled: true,
            ewt_threshold_seconds: 120,
            prompt: "Press 1 to continue by text message.".into(),
            sms_number: "+15550001000".into(),
            sms_queue: "billing".into(),
            first_message: "Hi, this is Acme billing: how can we help?".into(),
        }),
        wait_sms: Some(ivr::WaitSmsDraft {
            enabled: true,
            consent_prompt: "Press 1 to get a text while you wait.".into(),
            sent_prompt: "We sent you a text.".into(),
            reply_id: "wait".into(),
        }),
    });
    d
}

#[test]
fn ivr_voice_queues_resolve_their_numbers_staff_and_services_and_round_trip() {
    let d = ivr_draft();
    let setup = Setup::validate(&d, &["sim"]).unwrap();
    let q = &setup.ivr_queues[0];
    assert_eq!(q.staff.iter().map(|a| a.as_str()).collect::<Vec<_>>(), ["alice"], "alice once, named and in blue");
    assert_eq!(
        setup.ivr_queue_of_number(&BusinessNumber::parse("+15550009000").unwrap()).map(|q| q.id.as_str()),
        Some("voice-billing")
    );
    assert_eq!(q.deflection.as_ref().unwrap().sms_queue.as_str(), "billing");
    let back = setup.to_draft();
    assert_eq!(back.ivr_queues, d.ivr_queues);
    assert_eq!(Setup::validate(&back, &["sim"]).unwrap(), setup);
}

#[test]
fn ivr_bad_voice_queues_are_all_named_at_once() {
    let mut d = ivr_draft();
    let q = &mut d.ivr_queues[0];
    q.numbers.push("+15550009000".into());
    q.agents.push("zed".into());
    let deflection = q.deflection.as_mut().unwrap();
    deflection.sms_number = "+15559999999".into();
    deflection.sms_queue = "nowhere".into();
    deflection.prompt = String::new();
    q.wait_sms.as_mut().unwrap().reply_id = "gone".into();
    let mut second = d.ivr_queues[0].clone();
    second.agents.clear();
    second.teams.clear();
    second.numbers.clear();
    second.deflection = None;
    second.wait_sms = None;
    d.ivr_queues.push(second);
    let all: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
    assert_eq!(
        all,
        [
            "ivr queue \"voice-billing\": numbers \"+15550009000\": is a voice number of another ivr queue already",
            "ivr queue \"voice-billing\" refers to unknown agent \"zed\"",
            "ivr queue \"voice-billing\" (deflection) refers to unknown SMS chat number \"+15559999999\"",
            "ivr queue \"voice-billing\" (deflection) refers to unknown queue \"nowhere\"",
            "ivr queue \"voice-billing\" (deflection): prompt: must be 1 to 1600 characters, not 0",
            "ivr queue \"voice-billing\" (wait_sms) refers to unknown reply \"gone\"",
            "ivr queue \"voice-billing\" is defined twice",
        ],
        "{all:#?}"
    );
}

#[test]
fn ivr_in_call_numbers_carry_calls_only() {
    let mut d = ivr_draft();
    d.numbers.last_mut().unwrap().queues = vec!["billing".into()];
    let mut second = d.ivr_queues[0].clone();
    second.id = "voice-other".into();
    second.numbers.clear();
    second.deflection = None;
    second.in_call_number = Some("+15550001000".into());
    let mut third = second.clone();
    third.id = "voice-third".into();
    third.in_call_number = None;
    d.ivr_queues.extend([second, third]);
    let all: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
    assert_eq!(all.len(), 3, "{all:#?}");
    assert!(
        all[0].starts_with("number +15550007000: queues: an in_call number carries the SMS of voice calls"),
        "{all:#?}"
    );
    assert!(
        all[1].starts_with("ivr queue \"voice-other\": in_call_number \"+15550001000\": is not an in_call number"),
        "{all:#?}"
    );
    assert!(all[2].starts_with("ivr queue \"voice-third\": in_call_number: the wait-time SMS goes out"), "{all:#?}");
    let setup = Setup::validate(&ivr_draft(), &["sim"]).unwrap();
    let in_call = setup.number(&BusinessNumber::parse("+15550007000").unwrap()).unwrap();
    assert!(in_call.role.carries_calls() && !in_call.role.opens_chats() && !in_call.role.sends());
}

#[test]
fn apps_and_app_launch_replies_are_checked_and_every_problem_named() {
    use crate::setup::apps::AppDraft;
    let mut d = draft();
    let app = AppDraft {
        id: "acme".into(),
        name: "Acme".into(),
        ios: "https://apps.apple.com/app/id1".into(),
        android: "https://play.google.com/store/apps/details?id=a".into(),
        launch: "acme://open/{token}".into(),
        token_minutes: None,
    };
    d.apps = vec![
        app.clone(),
        AppDraft { id: "Bad Id".into(), ..app.clone() },
        AppDraft {
            id: "broken".into(),
            ios: "http://apps.apple.com/x".into(),
            launch: "https://app.example/open".into(),
            token_minutes: Some(0),
            ..app.clone()
        },
    ];
    let reply = |id: &str, kind: &str, app: Option<&str>, text: &str| crate::setup::ReplyDraft {
        id: id.into(),
        title: id.into(),
        shortcut: id.into(),
        text: text.into(),
        kind: kind.into(),
        app: app.map(Into::into),
        ..Default::default()
    };
    d.replies = vec![
        reply("good", "app_launch", Some("acme"), "Open {app_link} or get it at {ios_link}"),
        reply("nolink", "app_launch", Some("acme"), "Open the app"),
        reply("noapp", "app_launch", Some("gone"), "Open {app_link}"),
        reply("plain", "", Some("acme"), "Open {app_link}"),
        reply("odd", "carousel", None, "Hi"),
    ];
    let all: Vec<String> = Setup::validate(&d, &["sim"]).unwrap_err().iter().map(ToString::to_string).collect();
    assert_eq!(all.len(), 9, "{all:#?}");
    assert!(all[0].contains("app") && all[0].contains("Bad Id"), "{all:#?}");
    assert!(all[1].starts_with("app \"broken\": ios: must be the https:// download link"), "{all:#?}");
    assert!(all[2].starts_with("app \"broken\": launch: must be a link"), "{all:#?}");
    assert!(all[3].starts_with("app \"broken\": token_minutes: must be 1 to 10080"), "{all:#?}");
    assert_eq!(all[4], "reply \"nolink\": text: an app_launch reply holds {app_link}, where the link goes");
    assert_eq!(all[5], "reply \"noapp\" refers to unknown app \"gone\"");
    assert!(all[6].starts_with("reply \"plain\": app: is for replies of kind = \"app_launch\""), "{all:#?}");
    assert!(all[7].starts_with("reply \"plain\": text: unknown placeholder {app_link}"), "{all:#?}");
    assert_eq!(all[8], "reply \"odd\": kind \"carousel\": use text or app_launch");
    d.apps.truncate(1);
    d.replies.truncate(1);
    let setup = Setup::validate(&d, &["sim"]).unwrap();
    assert_eq!(setup.replies[0].app.as_deref(), Some("acme"));
    assert_eq!(setup.app("acme").unwrap().launch_link("t0k"), "acme://open/t0k");
    assert_eq!(setup.app("acme").unwrap().token_minutes, 60);
}
