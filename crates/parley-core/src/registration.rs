//! What carriers want to know before a number may send: the brand and campaign of a US 10DLC number
//! (registered with The Campaign Registry, TCR) and the verification of a toll-free number.
//!
//! Everything here is data as an admin wrote it, checked at two levels:
//!
//! - [`check_brand`], [`check_campaign`], [`check_toll_free`]: every field that is given must be valid.
//!   They run whenever a setup is saved, and every bad field is reported on its own.
//! - [`missing_brand`], [`missing_campaign`], [`missing_toll_free`]: every field a submission needs
//!   must be given. A registration may be incomplete while it is drafted; these run when a number is
//!   put in review or enabled.
//!
//! An empty text (or list, or `None`) means "not given". The rules follow what TCR and the toll-free
//! verification forms of the large US aggregators accept, so that a registration Parley takes is not
//! bounced by the registry for its shape; content (is the sample honest?) is left to the reviewers.

use crate::phone::E164;

/// The industries TCR files a brand under, lower case (TCR writes them in capitals: `REAL_ESTATE`).
pub const VERTICALS: &[&str] = &[
    "agriculture",
    "communication",
    "construction",
    "education",
    "energy",
    "entertainment",
    "financial",
    "gambling",
    "government",
    "healthcare",
    "hospitality",
    "insurance",
    "manufacturing",
    "ngo",
    "real_estate",
    "retail",
    "technology",
];

/// TCR's standard campaign use cases, lower case. Special use cases (political, charity, sweepstakes,
/// ...) need carrier vetting outside any API, so a setup cannot claim them.
pub const USE_CASES: &[&str] = &[
    "2fa",
    "account_notification",
    "customer_care",
    "delivery_notification",
    "fraud_alert",
    "higher_education",
    "low_volume",
    "marketing",
    "mixed",
    "polling_voting",
    "public_service_announcement",
    "security_alert",
];

/// How a consumer of a toll-free number gave consent, as the toll-free verification form names it.
pub const OPT_IN_TYPES: &[&str] = &["verbal", "web_form", "paper_form", "via_text", "mobile_qr_code"];

/// The most messages a month a registration may announce: far above any single program, so only a
/// typing slip (a phone number in the volume field) is caught.
pub const MAX_MONTHLY_VOLUME: i64 = 1_000_000_000;

/// A postal address. For the US, `region` is the state's two-letter code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Address {
    pub street: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. "US".
    pub country: String,
}

/// Who the registry or the carriers contact about a registration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contact {
    pub name: String,
    pub email: String,
    /// E.164.
    pub phone: String,
}

/// A brand: the business that sends, as TCR registers it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Brand {
    /// The setup's own id for the brand (campaigns name it).
    pub id: String,
    pub legal_name: String,
    /// The business's tax number; for a US company its EIN, written NN-NNNNNNN.
    pub tax_id: String,
    /// The country that issued `tax_id` (ISO 3166-1 alpha-2).
    pub tax_id_country: String,
    /// One of [`VERTICALS`].
    pub vertical: String,
    /// `https://...`
    pub website: String,
    pub address: Address,
    pub contact: Contact,
}

/// The registration fields of a 10DLC campaign (its brand is named beside them, on the campaign).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CampaignRegistration {
    /// One of [`USE_CASES`].
    pub use_case: String,
    /// What the campaign sends and why.
    pub description: String,
    /// One to five messages as consumers will see them.
    pub sample_messages: Vec<String>,
    /// How consumers consent to the messages (TCR's "message flow").
    pub opt_in_flow: String,
    pub opt_in_keywords: Vec<String>,
    pub opt_in_message: String,
    pub opt_out_keywords: Vec<String>,
    pub opt_out_message: String,
    pub help_keywords: Vec<String>,
    pub help_message: String,
    /// Messages a month the campaign expects to send.
    pub expected_volume: Option<i64>,
}

impl CampaignRegistration {
    /// Whether any registration field is given.
    pub fn is_empty(&self) -> bool {
        self == &CampaignRegistration::default()
    }
}

/// What toll-free verification asks about a toll-free number.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TollFreeVerification {
    pub business_name: String,
    /// `https://...`
    pub website: String,
    pub contact: Contact,
    /// One of [`USE_CASES`] (the verification form's categories map onto them).
    pub use_case: String,
    /// What the number is used for, in the business's words.
    pub use_case_summary: String,
    /// A message as consumers will see it.
    pub sample_message: String,
    /// One of [`OPT_IN_TYPES`].
    pub opt_in_type: String,
    /// A public page (or image) showing how consumers opt in.
    pub opt_in_evidence_url: String,
    /// Messages a month the number expects to send.
    pub monthly_volume: Option<i64>,
}

/// One bad field: `field` names it (with its value or index where that helps), `reason` says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub reason: String,
}

fn problem(out: &mut Vec<FieldProblem>, field: impl Into<String>, reason: impl Into<String>) {
    out.push(FieldProblem { field: field.into(), reason: reason.into() });
}

/// Checks a text given for `field`: between `min` and `max` characters, no control characters.
fn check_text(out: &mut Vec<FieldProblem>, field: &str, value: &str, min: usize, max: usize) {
    if value.is_empty() {
        return;
    }
    let chars = value.chars().count();
    if value.chars().any(|c| c.is_control() && c != '\n') {
        problem(out, field, "must not contain control characters");
    } else if chars < min {
        problem(out, field, format!("has {chars} characters: write at least {min}"));
    } else if chars > max {
        problem(out, field, format!("has {chars} characters: write at most {max}"));
    }
}

fn check_choice(out: &mut Vec<FieldProblem>, field: &str, value: &str, allowed: &[&str]) {
    if !value.is_empty() && !allowed.contains(&value) {
        problem(out, format!("{field} \"{value}\""), format!("use one of {}", allowed.join(", ")));
    }
}

/// An https URL with a host that has a dot. Registries reject plain http and bare host names, and
/// reviewers must be able to open the page.
fn check_https_url(out: &mut Vec<FieldProblem>, field: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    let host = value.strip_prefix("https://").map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""));
    let ok = match host {
        Some(host) => {
            value.len() <= 255
                && !value.chars().any(char::is_whitespace)
                && host.contains('.')
                && !host.starts_with('.')
                && !host.ends_with('.')
                && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b))
        }
        None => false,
    };
    if !ok {
        problem(out, format!("{field} \"{value}\""), "use an https URL such as https://www.example.com");
    }
}

/// A plausible address: one @, something before it, a domain with a dot after it, no spaces. Whether
/// the mailbox exists only a mail can tell.
fn check_email(out: &mut Vec<FieldProblem>, field: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    let ok = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.chars().any(char::is_whitespace)
                && value.len() <= 254
        }
        None => false,
    };
    if !ok {
        problem(out, format!("{field} \"{value}\""), "use an email address such as name@example.com");
    }
}

fn is_two_capitals(text: &str) -> bool {
    text.len() == 2 && text.bytes().all(|b| b.is_ascii_uppercase())
}

/// ISO 3166-1 alpha-2 is two capital letters; that a pair is assigned is not checked here (the list
/// changes, and the registry checks it).
fn check_country(out: &mut Vec<FieldProblem>, field: &str, value: &str) {
    if !value.is_empty() && !is_two_capitals(value) {
        problem(out, format!("{field} \"{value}\""), "use the two-letter ISO 3166 country code, e.g. US");
    }
}

fn check_volume(out: &mut Vec<FieldProblem>, field: &str, value: Option<i64>) {
    if let Some(v) = value
        && !(1..=MAX_MONTHLY_VOLUME).contains(&v)
    {
        problem(out, format!("{field} {v}"), format!("use 1 to {MAX_MONTHLY_VOLUME} messages a month"));
    }
}

fn check_contact(out: &mut Vec<FieldProblem>, contact: &Contact) {
    check_text(out, "contact.name", &contact.name, 1, 100);
    check_email(out, "contact.email", &contact.email);
    if !contact.phone.is_empty()
        && let Err(e) = E164::parse(&contact.phone)
    {
        problem(out, "contact.phone", e.to_string());
    }
}

/// A keyword is texted as one word: letters and digits only (carriers match it ignoring case). TCR
/// takes the list as one comma-separated text, so a comma or space inside a keyword would split it.
fn check_keywords(out: &mut Vec<FieldProblem>, field: &str, words: &[String]) {
    let mut seen = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let at = format!("{field}[{}] \"{word}\"", i + 1);
        if word.is_empty() || word.chars().count() > 30 || !word.chars().all(char::is_alphanumeric) {
            problem(out, at, "a keyword is one word of 1 to 30 letters or digits");
        } else if seen.contains(&word.to_uppercase()) {
            problem(out, at, "is listed twice");
        } else {
            seen.push(word.to_uppercase());
        }
    }
}

/// A US EIN: two digits, a hyphen, seven digits (as the IRS writes it and TCR expects it).
fn is_us_ein(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10 && b[2] == b'-' && b.iter().enumerate().all(|(i, c)| i == 2 || c.is_ascii_digit())
}

/// Every bad field of a brand (fields not given are not checked).
pub fn check_brand(brand: &Brand) -> Vec<FieldProblem> {
    let mut out = Vec::new();
    // TCR takes company names up to 255 characters.
    check_text(&mut out, "legal_name", &brand.legal_name, 1, 255);
    check_country(&mut out, "tax_id_country", &brand.tax_id_country);
    if !brand.tax_id.is_empty() {
        let field = format!("tax_id \"{}\"", brand.tax_id);
        if brand.tax_id_country == "US" || brand.tax_id_country.is_empty() && brand.address.country == "US" {
            if !is_us_ein(&brand.tax_id) {
                problem(&mut out, field, "a US EIN has 9 digits (NN-NNNNNNN)");
            }
        } else if brand.tax_id.chars().count() > 21
            || !brand.tax_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ')
        {
            // TCR's tax id field holds up to 21 characters; other countries' formats vary too much
            // to check further.
            problem(&mut out, field, "use up to 21 letters, digits, spaces or hyphens");
        }
    }
    check_choice(&mut out, "vertical", &brand.vertical, VERTICALS);
    check_https_url(&mut out, "website", &brand.website);
    let a = &brand.address;
    check_text(&mut out, "address.street", &a.street, 1, 100);
    check_text(&mut out, "address.city", &a.city, 1, 100);
    check_country(&mut out, "address.country", &a.country);
    if a.country == "US" {
        // USPS: two-letter state codes, ZIP or ZIP+4.
        if !a.region.is_empty() && !is_two_capitals(&a.region) {
            problem(&mut out, format!("address.region \"{}\"", a.region), "use the state's two-letter code, e.g. CA");
        }
        let zip = |s: &str| s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit());
        let postal_ok = match a.postal_code.split_once('-') {
            Some((five, four)) => zip(five) && four.len() == 4 && four.bytes().all(|b| b.is_ascii_digit()),
            None => zip(&a.postal_code),
        };
        if !a.postal_code.is_empty() && !postal_ok {
            problem(
                &mut out,
                format!("address.postal_code \"{}\"", a.postal_code),
                "a US ZIP code is 5 digits (or ZIP+4: NNNNN-NNNN)",
            );
        }
    } else {
        check_text(&mut out, "address.region", &a.region, 1, 20);
        check_text(&mut out, "address.postal_code", &a.postal_code, 1, 10);
    }
    check_contact(&mut out, &brand.contact);
    out
}

/// Every bad registration field of a campaign.
pub fn check_campaign(c: &CampaignRegistration) -> Vec<FieldProblem> {
    let mut out = Vec::new();
    check_choice(&mut out, "use_case", &c.use_case, USE_CASES);
    // TCR: a description of at least 40 characters (one that says something), at most 4,096.
    check_text(&mut out, "description", &c.description, 40, 4096);
    if c.sample_messages.len() > 5 {
        problem(&mut out, "sample_messages", format!("has {}: TCR takes 1 to 5", c.sample_messages.len()));
    }
    for (i, sample) in c.sample_messages.iter().enumerate() {
        let field = format!("sample_messages[{}]", i + 1);
        if sample.is_empty() {
            problem(&mut out, field, "is empty: write the message as consumers will see it (20 to 1024 characters)");
        } else {
            // TCR's sample fields: 20 to 1,024 characters each.
            check_text(&mut out, &field, sample, 20, 1024);
        }
    }
    // TCR's message flow: at least 40 characters, so it can say where and how consent is given.
    check_text(&mut out, "opt_in_flow", &c.opt_in_flow, 40, 2048);
    check_keywords(&mut out, "opt_in_keywords", &c.opt_in_keywords);
    check_keywords(&mut out, "opt_out_keywords", &c.opt_out_keywords);
    check_keywords(&mut out, "help_keywords", &c.help_keywords);
    // TCR's auto-response fields hold 20 to 255 characters: room for the brand, what was done and how
    // to reach a person, and still one SMS segment or two.
    check_text(&mut out, "opt_in_message", &c.opt_in_message, 20, 255);
    check_text(&mut out, "opt_out_message", &c.opt_out_message, 20, 255);
    check_text(&mut out, "help_message", &c.help_message, 20, 255);
    check_volume(&mut out, "expected_volume", c.expected_volume);
    out
}

/// Every bad field of a toll-free verification.
pub fn check_toll_free(v: &TollFreeVerification) -> Vec<FieldProblem> {
    let mut out = Vec::new();
    check_text(&mut out, "business_name", &v.business_name, 1, 255);
    check_https_url(&mut out, "website", &v.website);
    check_contact(&mut out, &v.contact);
    check_choice(&mut out, "use_case", &v.use_case, USE_CASES);
    check_text(&mut out, "use_case_summary", &v.use_case_summary, 1, 1024);
    // The same bounds as a 10DLC sample: long enough to be a real message, at most 1,024 characters.
    check_text(&mut out, "sample_message", &v.sample_message, 20, 1024);
    check_choice(&mut out, "opt_in_type", &v.opt_in_type, OPT_IN_TYPES);
    check_https_url(&mut out, "opt_in_evidence_url", &v.opt_in_evidence_url);
    check_volume(&mut out, "monthly_volume", v.monthly_volume);
    out
}

fn need(out: &mut Vec<String>, field: &str, given: bool) {
    if !given {
        out.push(field.to_owned());
    }
}

fn missing_contact(out: &mut Vec<String>, c: &Contact) {
    need(out, "contact.name", !c.name.is_empty());
    need(out, "contact.email", !c.email.is_empty());
    need(out, "contact.phone", !c.phone.is_empty());
}

/// The fields a brand submission needs that are not given.
pub fn missing_brand(b: &Brand) -> Vec<String> {
    let mut out = Vec::new();
    need(&mut out, "legal_name", !b.legal_name.is_empty());
    need(&mut out, "tax_id", !b.tax_id.is_empty());
    need(&mut out, "tax_id_country", !b.tax_id_country.is_empty());
    need(&mut out, "vertical", !b.vertical.is_empty());
    need(&mut out, "website", !b.website.is_empty());
    need(&mut out, "address.street", !b.address.street.is_empty());
    need(&mut out, "address.city", !b.address.city.is_empty());
    need(&mut out, "address.region", !b.address.region.is_empty());
    need(&mut out, "address.postal_code", !b.address.postal_code.is_empty());
    need(&mut out, "address.country", !b.address.country.is_empty());
    missing_contact(&mut out, &b.contact);
    out
}

/// The fields a campaign submission needs that are not given (its brand is checked on its own).
pub fn missing_campaign(c: &CampaignRegistration) -> Vec<String> {
    let mut out = Vec::new();
    need(&mut out, "use_case", !c.use_case.is_empty());
    need(&mut out, "description", !c.description.is_empty());
    need(&mut out, "sample_messages", !c.sample_messages.is_empty());
    need(&mut out, "opt_in_flow", !c.opt_in_flow.is_empty());
    need(&mut out, "opt_in_keywords", !c.opt_in_keywords.is_empty());
    need(&mut out, "opt_in_message", !c.opt_in_message.is_empty());
    need(&mut out, "opt_out_keywords", !c.opt_out_keywords.is_empty());
    need(&mut out, "opt_out_message", !c.opt_out_message.is_empty());
    need(&mut out, "help_keywords", !c.help_keywords.is_empty());
    need(&mut out, "help_message", !c.help_message.is_empty());
    need(&mut out, "expected_volume", c.expected_volume.is_some());
    out
}

/// The fields a toll-free verification needs that are not given.
pub fn missing_toll_free(v: &TollFreeVerification) -> Vec<String> {
    let mut out = Vec::new();
    need(&mut out, "business_name", !v.business_name.is_empty());
    need(&mut out, "website", !v.website.is_empty());
    missing_contact(&mut out, &v.contact);
    need(&mut out, "use_case", !v.use_case.is_empty());
    need(&mut out, "use_case_summary", !v.use_case_summary.is_empty());
    need(&mut out, "sample_message", !v.sample_message.is_empty());
    need(&mut out, "opt_in_type", !v.opt_in_type.is_empty());
    need(&mut out, "opt_in_evidence_url", !v.opt_in_evidence_url.is_empty());
    need(&mut out, "monthly_volume", v.monthly_volume.is_some());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brand() -> Brand {
        Brand {
            id: "acme".into(),
            legal_name: "Acme Corporation".into(),
            tax_id: "12-3456789".into(),
            tax_id_country: "US".into(),
            vertical: "retail".into(),
            website: "https://www.acme.example".into(),
            address: Address {
                street: "1 Main Street".into(),
                city: "Springfield".into(),
                region: "IL".into(),
                postal_code: "62701".into(),
                country: "US".into(),
            },
            contact: Contact {
                name: "Jane Doe".into(),
                email: "jane@acme.example".into(),
                phone: "+15550100100".into(),
            },
        }
    }

    fn campaign() -> CampaignRegistration {
        CampaignRegistration {
            use_case: "customer_care".into(),
            description: "Answers to questions customers text to Acme's support line.".into(),
            sample_messages: vec!["Acme: your order 1234 shipped today. Reply STOP to opt out.".into()],
            opt_in_flow: "Customers text our support number first; the first reply confirms the opt-in.".into(),
            opt_in_keywords: vec!["START".into()],
            opt_in_message: "Acme support: you are subscribed. Reply HELP for help, STOP to opt out.".into(),
            opt_out_keywords: vec!["STOP".into()],
            opt_out_message: "Acme support: you are unsubscribed and will get no more messages.".into(),
            help_keywords: vec!["HELP".into()],
            help_message: "Acme support: call 1-555-010-0100 or write to help@acme.example.".into(),
            expected_volume: Some(5000),
        }
    }

    fn toll_free() -> TollFreeVerification {
        TollFreeVerification {
            business_name: "Acme Corporation".into(),
            website: "https://www.acme.example".into(),
            contact: brand().contact,
            use_case: "customer_care".into(),
            use_case_summary: "Support conversations customers start by texting us.".into(),
            sample_message: "Acme: thanks for texting, an agent will answer shortly.".into(),
            opt_in_type: "via_text".into(),
            opt_in_evidence_url: "https://www.acme.example/sms".into(),
            monthly_volume: Some(1000),
        }
    }

    fn fields(problems: &[FieldProblem]) -> Vec<String> {
        problems.iter().map(|p| format!("{}: {}", p.field, p.reason)).collect()
    }

    #[test]
    fn complete_registrations_pass_both_levels() {
        assert_eq!(check_brand(&brand()), vec![]);
        assert_eq!(missing_brand(&brand()), Vec::<String>::new());
        assert_eq!(check_campaign(&campaign()), vec![]);
        assert_eq!(missing_campaign(&campaign()), Vec::<String>::new());
        assert_eq!(check_toll_free(&toll_free()), vec![]);
        assert_eq!(missing_toll_free(&toll_free()), Vec::<String>::new());
    }

    #[test]
    fn nothing_given_is_valid_but_incomplete() {
        assert_eq!(check_brand(&Brand::default()), vec![]);
        assert_eq!(check_campaign(&CampaignRegistration::default()), vec![]);
        assert_eq!(check_toll_free(&TollFreeVerification::default()), vec![]);
        assert!(CampaignRegistration::default().is_empty() && !campaign().is_empty());
        assert_eq!(missing_brand(&Brand::default()).len(), 13);
        assert_eq!(missing_campaign(&CampaignRegistration::default()).len(), 11);
        assert_eq!(missing_toll_free(&TollFreeVerification::default()).len(), 11);
        let mut partial = brand();
        partial.legal_name.clear();
        partial.contact.email.clear();
        assert_eq!(missing_brand(&partial), ["legal_name", "contact.email"]);
    }

    #[test]
    fn a_us_ein_is_nn_dash_seven_digits() {
        for bad in ["12-34", "123456789", "12-345678a", "1-23456789", "12 3456789"] {
            let mut b = brand();
            b.tax_id = bad.into();
            assert_eq!(fields(&check_brand(&b)), [format!("tax_id \"{bad}\": a US EIN has 9 digits (NN-NNNNNNN)")]);
        }
        let mut foreign = brand();
        foreign.tax_id_country = "DE".into();
        foreign.tax_id = "DE123456789".into();
        assert_eq!(check_brand(&foreign), vec![]);
        foreign.tax_id = "DE 1234 5678 9012 3456 789".into();
        assert_eq!(check_brand(&foreign)[0].reason, "use up to 21 letters, digits, spaces or hyphens");
        foreign.tax_id_country = "de".into();
        assert!(fields(&check_brand(&foreign)).iter().any(|p| p.starts_with("tax_id_country \"de\": use the two")));
    }

    #[test]
    fn vertical_use_case_and_opt_in_type_come_from_fixed_lists() {
        let mut b = brand();
        b.vertical = "RETAIL".into();
        assert!(fields(&check_brand(&b))[0].starts_with("vertical \"RETAIL\": use one of agriculture, "));
        let mut c = campaign();
        c.use_case = "sweepstake".into();
        assert!(fields(&check_campaign(&c))[0].starts_with("use_case \"sweepstake\": use one of 2fa, "));
        let mut v = toll_free();
        v.opt_in_type = "email".into();
        assert_eq!(
            fields(&check_toll_free(&v)),
            ["opt_in_type \"email\": use one of verbal, web_form, paper_form, via_text, mobile_qr_code"]
        );
    }

    #[test]
    fn urls_must_be_https_with_a_real_host() {
        for bad in ["http://acme.example", "acme.example", "https://localhost", "https://acme .example", "https://"] {
            let mut b = brand();
            b.website = bad.into();
            assert_eq!(
                fields(&check_brand(&b)),
                [format!("website \"{bad}\": use an https URL such as https://www.example.com")]
            );
        }
        let mut v = toll_free();
        v.opt_in_evidence_url = "ftp://acme.example/x".into();
        assert_eq!(check_toll_free(&v)[0].field, "opt_in_evidence_url \"ftp://acme.example/x\"");
    }

    #[test]
    fn addresses_follow_the_country() {
        let mut b = brand();
        b.address.region = "Illinois".into();
        b.address.postal_code = "627".into();
        b.address.country = "USA".into();
        let all = fields(&check_brand(&b));
        // "USA" is not a code, so the US rules for region and postal code do not apply.
        assert_eq!(all, ["address.country \"USA\": use the two-letter ISO 3166 country code, e.g. US"]);
        b.address.country = "US".into();
        assert_eq!(
            fields(&check_brand(&b)),
            [
                "address.region \"Illinois\": use the state's two-letter code, e.g. CA",
                "address.postal_code \"627\": a US ZIP code is 5 digits (or ZIP+4: NNNNN-NNNN)",
            ]
        );
        b.address.region = "IL".into();
        b.address.postal_code = "62701-1234".into();
        assert_eq!(check_brand(&b), vec![]);
        b.address.street = "x".repeat(101);
        assert_eq!(fields(&check_brand(&b)), ["address.street: has 101 characters: write at most 100"]);
    }

    #[test]
    fn contacts_need_an_email_and_an_e164_phone() {
        let mut b = brand();
        b.contact.email = "jane at acme".into();
        b.contact.phone = "555-0100".into();
        let all = fields(&check_brand(&b));
        assert_eq!(all[0], "contact.email \"jane at acme\": use an email address such as name@example.com");
        assert!(all[1].starts_with("contact.phone: "), "{all:?}");
        assert_eq!(all.len(), 2);
    }

    #[test]
    fn samples_are_one_to_five_of_20_to_1024_characters() {
        let mut c = campaign();
        c.sample_messages = vec!["x".repeat(25), "too short".into(), "y".repeat(1025), String::new()];
        assert_eq!(
            fields(&check_campaign(&c)),
            [
                "sample_messages[2]: has 9 characters: write at least 20",
                "sample_messages[3]: has 1025 characters: write at most 1024",
                "sample_messages[4]: is empty: write the message as consumers will see it (20 to 1024 characters)",
            ]
        );
        c.sample_messages = vec!["z".repeat(20); 6];
        assert_eq!(fields(&check_campaign(&c)), ["sample_messages: has 6: TCR takes 1 to 5"]);
    }

    #[test]
    fn description_and_opt_in_flow_need_40_characters() {
        let mut c = campaign();
        c.description = "Support.".into();
        c.opt_in_flow = "They text us.".into();
        assert_eq!(
            fields(&check_campaign(&c)),
            ["description: has 8 characters: write at least 40", "opt_in_flow: has 13 characters: write at least 40"]
        );
    }

    #[test]
    fn keywords_are_single_words_listed_once_and_messages_fit() {
        let mut c = campaign();
        c.opt_out_keywords = vec!["STOP".into(), "stop".into(), "opt out".into()];
        c.help_message = "Call us.".into();
        c.opt_in_message = "\u{7}".repeat(30);
        assert_eq!(
            fields(&check_campaign(&c)),
            [
                "opt_out_keywords[2] \"stop\": is listed twice",
                "opt_out_keywords[3] \"opt out\": a keyword is one word of 1 to 30 letters or digits",
                "opt_in_message: must not contain control characters",
                "help_message: has 8 characters: write at least 20",
            ]
        );
    }

    #[test]
    fn volumes_are_positive_and_sane() {
        let mut c = campaign();
        c.expected_volume = Some(0);
        assert_eq!(fields(&check_campaign(&c)), ["expected_volume 0: use 1 to 1000000000 messages a month"]);
        let mut v = toll_free();
        v.monthly_volume = Some(15_550_100_100);
        assert_eq!(check_toll_free(&v)[0].field, "monthly_volume 15550100100");
    }
}
