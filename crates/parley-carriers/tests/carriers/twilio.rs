//! The Twilio adapter: signatures (Twilio's documented vectors, tampering, properties, and a
//! cross-check against Twilio's own Python helper), webhook forms, and the REST client against a
//! wiremock Twilio that scripts success, throttling, errors, timeouts and malformed answers.

use std::time::Duration;

use base64::Engine as _;
use parley_carriers::twilio::signature::{self, SignatureError};
use parley_carriers::twilio::webhook::{self, MAX_MEDIA, WebhookError};
use parley_carriers::twilio::{DownloadError, MAX_MEDIA_BYTES, Twilio, TwilioSettings};
use parley_carriers::{
    Accepted, Carrier, DeliveryStatus, FetchedMedia, InboundMedia, MediaError, OutboundSms, SendError,
};
use parley_core::phone::E164;
use proptest::prelude::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

// ---------------------------------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------------------------------

/// Twilio's documented example ("Secure your app by validating incoming Twilio requests").
const DOC_TOKEN: &str = "12345";
const DOC_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const DOC_PARAMS: [(&str, &str); 5] = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+12349013030"),
    ("Digits", "1234"),
    ("From", "+12349013030"),
    ("To", "+18005551212"),
];
const DOC_SIGNATURE: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

#[test]
fn twilios_documented_example_signs_and_verifies() {
    assert_eq!(signature::compute(DOC_TOKEN, DOC_URL, &DOC_PARAMS), DOC_SIGNATURE);
    assert_eq!(signature::verify(DOC_TOKEN, DOC_URL, &DOC_PARAMS, DOC_SIGNATURE), Ok(()));
    // The order the form arrived in does not matter.
    let mut reversed = DOC_PARAMS;
    reversed.reverse();
    assert_eq!(signature::verify(DOC_TOKEN, DOC_URL, &reversed, DOC_SIGNATURE), Ok(()));
}

/// An inbound-SMS form, checked with the official helper (PROTOCOLS.md 1b), and its raw body.
#[test]
fn an_inbound_message_vector_verifies_from_the_raw_body_and_with_the_default_port() {
    let body = "ToCountry=US&MediaContentType0=image%2Fjpeg&SmsStatus=received&Body=STOP&NumMedia=1\
        &MessageSid=SM0123456789abcdef0123456789abcdef&SmsSid=SM0123456789abcdef0123456789abcdef\
        &AccountSid=AC0123456789abcdef0123456789abcdef&MessagingServiceSid=MG0123456789abcdef0123456789abcdef\
        &From=%2B15551230000&To=%2B15559870000&NumSegments=1&ApiVersion=2010-04-01\
        &MediaUrl0=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC...%2FMessages%2FMM...%2FMedia%2FME...";
    // ToCountry is not in the vector: drop it to get the exact signed form back.
    let body = body.replace("ToCountry=US&", "");
    let sig = "crit8+uIO7z8d3Kg7RxzXm8BCUw=";
    assert_eq!(signature::verify_form("12345", "https://example.com/twilio/sms", body.as_bytes(), sig), Ok(()));
    assert_eq!(signature::verify_form("12345", "https://example.com:443/twilio/sms", body.as_bytes(), sig), Ok(()));
    // A field Twilio added (and signed) but we did not get is a mismatch, as is an added one.
    let added = format!("{body}&ToCountry=US");
    assert_eq!(
        signature::verify_form("12345", "https://example.com/twilio/sms", added.as_bytes(), sig),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn any_tampering_fails() {
    let mismatch = Err(SignatureError::Mismatch);
    let mut changed = DOC_PARAMS;
    changed[2].1 = "1235";
    assert_eq!(signature::verify(DOC_TOKEN, DOC_URL, &changed, DOC_SIGNATURE), mismatch);
    let fewer = &DOC_PARAMS[..4];
    assert_eq!(signature::verify(DOC_TOKEN, DOC_URL, fewer, DOC_SIGNATURE), mismatch);
    let mut more = DOC_PARAMS.to_vec();
    more.push(("Body", ""));
    assert_eq!(signature::verify(DOC_TOKEN, DOC_URL, &more, DOC_SIGNATURE), mismatch);
    for url in [
        "https://mycompany.com/myapp.php?foo=1&bar=3",
        "https://mycompany.com/myapp.php?bar=2&foo=1",
        "https://mycompany.com/myapp.php",
        "http://mycompany.com/myapp.php?foo=1&bar=2",
        "https://evil.example/myapp.php?foo=1&bar=2",
        "https://mycompany.com:80/myapp.php?foo=1&bar=2x",
    ] {
        assert_eq!(signature::verify(DOC_TOKEN, url, &DOC_PARAMS, DOC_SIGNATURE), mismatch, "{url}");
    }
    // Twilio's helpers drop any explicit port before comparing (its signing is inconsistent about
    // ports), so a port is not tampering; the host, path and query still are.
    for url in ["https://mycompany.com:443/myapp.php?foo=1&bar=2", "https://mycompany.com:8443/myapp.php?foo=1&bar=2"] {
        assert_eq!(signature::verify(DOC_TOKEN, url, &DOC_PARAMS, DOC_SIGNATURE), Ok(()), "{url}");
    }
    assert_eq!(signature::verify("12346", DOC_URL, &DOC_PARAMS, DOC_SIGNATURE), mismatch);
    assert_eq!(signature::verify("", DOC_URL, &DOC_PARAMS, DOC_SIGNATURE), mismatch);
    // A signature made for another request, and headers that are not a signature at all.
    let other = signature::compute(DOC_TOKEN, "https://mycompany.com/", &DOC_PARAMS);
    assert_eq!(signature::verify(DOC_TOKEN, DOC_URL, &DOC_PARAMS, &other), mismatch);
    for header in ["", "not base64!", "0/KCTR6DLpKmkAf8muzZqo1nDg", "AAAA", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=AAAA"] {
        assert_eq!(
            signature::verify(DOC_TOKEN, DOC_URL, &DOC_PARAMS, header),
            Err(SignatureError::Malformed),
            "{header:?}"
        );
    }
}

/// Repeated keys, as Twilio's helpers sign them: every distinct value, sorted, each as `name + value`.
#[test]
fn repeated_keys_are_all_signed() {
    let url = "https://parley.example.com/webhooks/twilio/tw";
    let sig = signature::compute("tok", url, &[("MediaUrl", "b"), ("MediaUrl", "a"), ("To", "x")]);
    // The signed string is the URL, then "MediaUrla" "MediaUrlb" "Tox".
    assert_eq!(sig, signature::compute("tok", &format!("{url}MediaUrlaMediaUrlbTox"), &[] as &[(&str, &str)]));
    // The order of the repeats does not matter; a repeat of an identical pair counts once.
    assert_eq!(signature::verify("tok", url, &[("To", "x"), ("MediaUrl", "a"), ("MediaUrl", "b")], &sig), Ok(()));
    let doubled = [("MediaUrl", "a"), ("MediaUrl", "b"), ("MediaUrl", "a"), ("To", "x")];
    assert_eq!(signature::verify("tok", url, &doubled, &sig), Ok(()));
    // Dropping a repeat (what a map would do), or changing one, fails.
    let mismatch = Err(SignatureError::Mismatch);
    assert_eq!(signature::verify("tok", url, &[("MediaUrl", "b"), ("To", "x")], &sig), mismatch);
    assert_eq!(signature::verify("tok", url, &[("MediaUrl", "a"), ("To", "x")], &sig), mismatch);
    assert_eq!(signature::verify("tok", url, &[("MediaUrl", "a"), ("MediaUrl", "c"), ("To", "x")], &sig), mismatch);
    // The raw-body form keeps repeats too.
    assert_eq!(signature::verify_form("tok", url, b"MediaUrl=b&To=x&MediaUrl=a", &sig), Ok(()));
    assert_eq!(signature::verify_form("tok", url, b"MediaUrl=b&To=x", &sig), mismatch);
}

#[test]
fn form_bodies_are_signed_decoded() {
    let url = "https://parley.example.com/webhooks/twilio/tw";
    let params = [("Body", "Hola & adiós = 100% ✓"), ("From", "+15550100")];
    let sig = signature::compute("tok", url, &params);
    let body = "From=%2B15550100&Body=Hola+%26+adi%C3%B3s+%3D+100%25+%E2%9C%93";
    assert_eq!(signature::verify_form("tok", url, body.as_bytes(), &sig), Ok(()));
    // A literal + in the body is a space, not the + of a phone number.
    let body = "From=+15550100&Body=Hola+%26+adi%C3%B3s+%3D+100%25+%E2%9C%93";
    assert_eq!(signature::verify_form("tok", url, body.as_bytes(), &sig), Err(SignatureError::Mismatch));
}

/// Which single-byte change to make to a signed request.
#[derive(Debug, Clone)]
enum Change {
    Token,
    Url,
    Value,
    Signature,
}

fn ascii(min: usize, max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0x20u8..0x7f, min..=max).prop_map(|b| String::from_utf8(b).unwrap())
}

/// A signed request: auth token, URL and form parameters.
type Signed = (String, String, Vec<(String, String)>);

/// A request with distinct parameter names (so a changed value cannot move in the signing order).
fn request() -> impl Strategy<Value = Signed> {
    let url = ("[a-z]{1,12}", "(:[0-9]{2,5})?", "[a-zA-Z0-9/._-]{0,24}", "(\\?[a-z]{1,4}=[0-9]{1,4})?")
        .prop_map(|(host, port, path, query)| format!("https://{host}.example{port}/{path}{query}"));
    let params = proptest::collection::btree_map("[A-Za-z][A-Za-z0-9]{0,11}", ascii(0, 24), 0..8)
        .prop_map(|m| m.into_iter().collect::<Vec<_>>());
    (ascii(1, 40), url, params)
}

/// Replaces the byte at `at` (modulo the length) with a different printable ASCII byte.
fn change_byte(text: &str, at: usize, by: u8) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let i = at % bytes.len();
    let b = bytes[i];
    bytes[i] = 0x20 + (b - 0x20 + 1 + by % 94) % 95;
    assert_ne!(bytes[i], b);
    String::from_utf8(bytes).unwrap()
}

proptest! {
    #[test]
    fn what_we_sign_verifies((token, url, params) in request()) {
        let sig = signature::compute(&token, &url, &params);
        prop_assert_eq!(signature::verify(&token, &url, &params, &sig), Ok(()));
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
        prop_assert_eq!(signature::verify_form(&token, &url, body.as_bytes(), &sig), Ok(()));
    }

    #[test]
    fn any_single_byte_change_fails(
        (token, url, mut params) in request(),
        change in prop_oneof![Just(Change::Token), Just(Change::Url), Just(Change::Value), Just(Change::Signature)],
        at in any::<usize>(),
        by in any::<u8>(),
    ) {
        let mut sig = signature::compute(&token, &url, &params);
        let (mut token, mut url) = (token, url);
        match change {
            Change::Token => token = change_byte(&token, at, by),
            Change::Url => url = change_byte(&url, at, by),
            Change::Value => {
                let Some(i) = (0..params.len()).map(|i| (i + at) % params.len()).find(|&i| !params[i].1.is_empty())
                else {
                    return Ok(());
                };
                params[i].1 = change_byte(&params[i].1, at, by);
            }
            Change::Signature => sig = change_byte(&sig, at, by),
        }
        prop_assert!(signature::verify(&token, &url, &params, &sig).is_err());
    }
}

/// Our signatures equal those of Twilio's official Python helper (`twilio` on PyPI) for the documented
/// vector, edge cases and a few hundred generated requests, Unicode and repeated keys included.
#[test]
fn signatures_match_twilios_python_helper() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let available = std::process::Command::new("python3")
        .args(["-c", "import twilio.request_validator"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must cross-check signatures against Twilio's helper: python3 -m pip install twilio==9.13.0"
        );
        eprintln!("skipping the cross-check: the Python package twilio is not installed (pip install twilio)");
        return;
    }
    let mut cases: Vec<Signed> = vec![
        (
            DOC_TOKEN.into(),
            DOC_URL.into(),
            DOC_PARAMS.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        ),
        ("t".into(), "https://a.example/".into(), vec![]),
        (
            "t".into(),
            "https://a.example/h?x=1&x=2".into(),
            vec![("a".into(), "2".into()), ("a".into(), "1".into()), ("a".into(), "2".into()), ("A".into(), "".into())],
        ),
        (
            "tökén".into(),
            "https://a.example/ünï?q=é".into(),
            vec![
                ("Body".into(), "¿Qué tal? 👋 \u{1F600}".into()),
                ("body".into(), "\u{FF21}".into()),
                ("Ä".into(), "z".into()),
                ("Z".into(), "ä".into()),
            ],
        ),
        (
            "t".into(),
            "https://a.example:443/x".into(),
            vec![("MediaUrl0".into(), "https://m.example/a?b=c&d=e".into())],
        ),
    ];
    let key = prop_oneof![Just("MediaUrl".to_owned()), Just("Body".to_owned()), "[A-Za-z]{1,3}", "\\PC{1,4}"];
    let generated = ("\\PC{1,20}", "[a-z]{1,8}", "\\PC{0,10}", proptest::collection::vec((key, "\\PC{0,12}"), 0..10))
        .prop_map(|(token, host, path, params)| (token, format!("https://{host}.example/{path}"), params));
    let mut runner = TestRunner::deterministic();
    for _ in 0..300 {
        cases.push(generated.new_tree(&mut runner).unwrap().current());
    }
    let input = serde_json::to_vec(
        &cases
            .iter()
            .map(|(token, url, params)| json!({"token": token, "url": url, "params": params}))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/twilio_sign.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "twilio_sign.py failed");
    let theirs: Vec<String> = String::from_utf8(output.stdout).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(theirs.len(), cases.len());
    for ((token, url, params), theirs) in cases.iter().zip(&theirs) {
        assert_eq!(&signature::compute(token, url, params), theirs, "token {token:?} url {url:?} params {params:?}");
        assert_eq!(signature::verify(token, url, params, theirs), Ok(()));
    }
}

// ---------------------------------------------------------------------------------------------------
// Webhook forms
// ---------------------------------------------------------------------------------------------------

const SMS_FORM: &str = "ToCountry=US&SmsMessageSid=SM11&NumMedia=0&SmsSid=SM11&SmsStatus=received\
    &Body=Hola+%C2%BFqu%C3%A9+tal%3F&To=%2B15559870000&NumSegments=1&MessageSid=SM11\
    &AccountSid=AC1&From=%2B15551230000&ApiVersion=2010-04-01&FromCity=SPRINGFIELD";

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish().into_bytes()
}

#[test]
fn an_sms_webhook_becomes_an_inbound_message() {
    let sms = webhook::parse_inbound("tw", SMS_FORM.as_bytes()).unwrap();
    assert_eq!(sms.carrier, "tw");
    assert_eq!(sms.provider_id, "SM11");
    assert_eq!(sms.from.as_str(), "+15551230000");
    assert_eq!(sms.to.as_str(), "+15559870000");
    assert_eq!(sms.body, "Hola ¿qué tal?");
    assert!(sms.media.is_empty());
}

#[test]
fn an_mms_webhook_carries_its_media() {
    let body = form(&[
        ("MessageSid", "MM22"),
        ("From", "+15551230000"),
        ("To", "+15559870000"),
        ("Body", ""),
        ("NumMedia", "2"),
        ("MediaContentType0", "image/jpeg"),
        ("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM22/Media/ME0"),
        ("MediaContentType1", "application/pdf"),
        ("MediaUrl1", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM22/Media/ME1"),
    ]);
    let sms = webhook::parse_inbound("tw", &body).unwrap();
    assert_eq!(sms.provider_id, "MM22");
    assert_eq!(sms.body, "");
    assert_eq!(
        sms.media,
        [
            InboundMedia {
                url: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM22/Media/ME0".into(),
                content_type: "image/jpeg".into(),
            },
            InboundMedia {
                url: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM22/Media/ME1".into(),
                content_type: "application/pdf".into(),
            },
        ]
    );
}

#[test]
fn a_legacy_webhook_with_only_smssid_is_read() {
    let body = form(&[("SmsSid", "SM33"), ("From", "+15551230000"), ("To", "+15559870000"), ("Body", "hi")]);
    assert_eq!(webhook::parse_inbound("tw", &body).unwrap().provider_id, "SM33");
}

#[test]
fn a_bad_inbound_form_says_what_is_wrong() {
    let base = [("MessageSid", "SM1"), ("From", "+15551230000"), ("To", "+15559870000"), ("Body", "hi")];
    let with = |field: &str, value: &str| {
        let mut pairs: Vec<(&str, &str)> = base.iter().copied().filter(|(k, _)| *k != field).collect();
        pairs.push((field, value));
        webhook::parse_inbound("tw", &form(&pairs)).unwrap_err()
    };
    let without = |field: &str| {
        let pairs: Vec<(&str, &str)> = base.iter().copied().filter(|(k, _)| *k != field).collect();
        webhook::parse_inbound("tw", &form(&pairs)).unwrap_err()
    };

    let err = with("From", "5551230000");
    assert!(matches!(&err, WebhookError::BadNumber { field, .. } if field == "From"), "{err:?}");
    assert!(err.to_string().starts_with("From: \"5551230000\" does not start with +"), "{err}");
    // A + sent unencoded arrives as a space, and the number is refused rather than guessed at.
    let err = webhook::parse_inbound("tw", b"MessageSid=SM1&From=+15551230000&To=%2B15559870000").unwrap_err();
    assert!(err.to_string().starts_with("From: \"15551230000\" does not start with +"), "{err}");
    let err = with("To", "+1 555 987");
    assert!(matches!(&err, WebhookError::BadBusinessNumber { field, .. } if field == "To"), "{err:?}");
    assert!(err.to_string().starts_with("To: \"+1 555 987\" contains something other than digits"), "{err}");
    let err = with("To", "ACME");
    assert!(err.to_string().contains("nor a short code (3 to 8 digits"), "{err}");
    // Our number may be a short code; the consumer's never is.
    let mut pairs: Vec<(&str, &str)> = base.iter().copied().filter(|(k, _)| *k != "To").collect();
    pairs.push(("To", "24273"));
    let sms = webhook::parse_inbound("tw", &form(&pairs)).unwrap();
    assert_eq!(sms.to, parley_core::phone::BusinessNumber::ShortCode("24273".into()));
    let err = with("From", "24273");
    assert!(matches!(&err, WebhookError::BadNumber { field, .. } if field == "From"), "{err:?}");

    let err = without("MessageSid");
    assert_eq!(err, WebhookError::Missing("MessageSid (or SmsSid)".into()));
    assert!(err.to_string().contains("no MessageSid (or SmsSid) field"), "{err}");
    assert_eq!(with("MessageSid", ""), WebhookError::Missing("MessageSid (or SmsSid)".into()));
    assert_eq!(without("From"), WebhookError::Missing("From".into()));
    assert!(matches!(with("MessageSid", &"S".repeat(200)), WebhookError::SidTooLong { len: 200, .. }));

    assert_eq!(with("NumMedia", "11"), WebhookError::TooManyMedia(11));
    assert!(with("NumMedia", "11").to_string().contains("more than the 10 media items"));
    assert_eq!(
        with("NumMedia", "99999999999999999999999"),
        WebhookError::BadNumMedia("99999999999999999999999".into())
    );
    assert_eq!(with("NumMedia", "two"), WebhookError::BadNumMedia("two".into()));
    assert_eq!(with("NumMedia", "1"), WebhookError::Missing("MediaUrl0".into()));
    let mut pairs = base.to_vec();
    pairs.extend([("NumMedia", "1"), ("MediaUrl0", "file:///etc/passwd")]);
    assert!(matches!(webhook::parse_inbound("tw", &form(&pairs)), Err(WebhookError::BadMediaUrl { .. })));

    // The same field twice with different values is ambiguous; twice with the same value is fine.
    let mut pairs = base.to_vec();
    pairs.push(("From", "+15550000000"));
    assert_eq!(webhook::parse_inbound("tw", &form(&pairs)).unwrap_err(), WebhookError::Conflicting("From".into()));
    let mut pairs = base.to_vec();
    pairs.push(("From", "+15551230000"));
    assert!(webhook::parse_inbound("tw", &form(&pairs)).is_ok());
}

#[test]
fn exactly_the_media_limit_is_fine() {
    let urls: Vec<(String, String)> =
        (0..MAX_MEDIA).map(|n| (format!("MediaUrl{n}"), format!("https://m.example/{n}"))).collect();
    let mut pairs: Vec<(&str, &str)> =
        vec![("MessageSid", "MM1"), ("From", "+15551230000"), ("To", "+15559870000"), ("NumMedia", "10")];
    pairs.extend(urls.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let sms = webhook::parse_inbound("tw", &form(&pairs)).unwrap();
    assert_eq!(sms.media.len(), MAX_MEDIA);
    assert_eq!(sms.media[9].content_type, "", "an unannounced type is left for the fetch to check");
}

#[test]
fn status_callbacks_become_receipts() {
    let cases = [
        ("accepted", DeliveryStatus::Queued),
        ("scheduled", DeliveryStatus::Queued),
        ("queued", DeliveryStatus::Queued),
        ("sending", DeliveryStatus::Queued),
        ("sent", DeliveryStatus::Sent),
        ("delivered", DeliveryStatus::Delivered),
        ("read", DeliveryStatus::Delivered),
        ("undelivered", DeliveryStatus::Undelivered),
        ("failed", DeliveryStatus::Failed),
        ("canceled", DeliveryStatus::Failed),
    ];
    for (twilio, ours) in cases {
        let body = form(&[("SmsSid", "SM9"), ("SmsStatus", twilio), ("MessageStatus", twilio), ("MessageSid", "SM9")]);
        let receipt = webhook::parse_status("tw", &body).unwrap();
        assert_eq!((receipt.carrier.as_str(), receipt.provider_id.as_str()), ("tw", "SM9"));
        assert_eq!(receipt.status, ours, "{twilio}");
        assert_eq!(receipt.error_code, None);
    }
    let body = form(&[("MessageSid", "SM9"), ("MessageStatus", "undelivered"), ("ErrorCode", "30003")]);
    let receipt = webhook::parse_status("tw", &body).unwrap();
    assert_eq!((receipt.status, receipt.error_code.as_deref()), (DeliveryStatus::Undelivered, Some("30003")));
    // Older callbacks carry only SmsStatus.
    let body = form(&[("SmsSid", "SM9"), ("SmsStatus", "delivered"), ("ErrorCode", "")]);
    let receipt = webhook::parse_status("tw", &body).unwrap();
    assert_eq!((receipt.status, receipt.error_code), (DeliveryStatus::Delivered, None));
}

#[test]
fn a_bad_status_callback_says_what_is_wrong() {
    let err = webhook::parse_status("tw", &form(&[("MessageSid", "SM9")])).unwrap_err();
    assert_eq!(err, WebhookError::Missing("MessageStatus".into()));
    let err = webhook::parse_status("tw", &form(&[("MessageStatus", "sent")])).unwrap_err();
    assert_eq!(err, WebhookError::Missing("MessageSid (or SmsSid)".into()));
    for status in ["receiving", "received", "partially_delivered", "teleported"] {
        let err = webhook::parse_status("tw", &form(&[("MessageSid", "SM9"), ("MessageStatus", status)])).unwrap_err();
        assert_eq!(err, WebhookError::UntrackedStatus(status.into()));
    }
}

// ---------------------------------------------------------------------------------------------------
// REST: sending
// ---------------------------------------------------------------------------------------------------

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "auth-token-123";
const CALLBACK: &str = "https://parley.example.com/webhooks/twilio/tw/status";

fn messages_path() -> String {
    format!("/2010-04-01/Accounts/{SID}/Messages.json")
}

fn settings(server: &MockServer) -> TwilioSettings {
    let mut settings = TwilioSettings::new("tw", SID, TOKEN);
    settings.api_base = format!("{}/", server.uri());
    settings.status_callback = Some(CALLBACK.to_owned());
    settings
}

fn twilio(server: &MockServer) -> Twilio {
    Twilio::new(settings(server)).unwrap()
}

fn sms(id: &str, to: &str, body: &str) -> OutboundSms {
    OutboundSms {
        id: id.to_owned(),
        from: E164::parse("+15559870000").unwrap().into(),
        to: E164::parse(to).unwrap(),
        body: body.to_owned(),
        media: vec![],
    }
}

fn created(sid: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({"sid": sid, "status": "queued", "num_segments": "1"}))
}

async fn send_one(server: &MockServer, answer: ResponseTemplate) -> Result<Accepted, SendError> {
    Mock::given(method("POST")).and(path(messages_path())).respond_with(answer).mount(server).await;
    let mut results = twilio(server).send(&[sms("m1", "+15551230000", "hello")]).await;
    assert_eq!(results.len(), 1);
    results.remove(0)
}

fn form_of(request: &Request) -> Vec<(String, String)> {
    form_urlencoded::parse(&request.body).into_owned().collect()
}

#[tokio::test]
async fn a_send_posts_the_form_with_basic_auth() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(messages_path()))
        .respond_with(created("SM123"))
        .expect(1)
        .mount(&server)
        .await;
    let mut message = sms("m1", "+15551230000", "Hola ¿qué tal? & más");
    message.media =
        vec!["https://parley.example.com/media/a.jpg".into(), "https://parley.example.com/media/b.pdf".into()];
    let results = twilio(&server).send(&[message]).await;
    assert_eq!(results, [Ok(Accepted { provider_id: "SM123".into(), delivered: false })]);

    let requests = server.received_requests().await.unwrap();
    let request = &requests[0];
    let expected_auth = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}")));
    assert_eq!(request.headers.get("authorization").unwrap().to_str().unwrap(), expected_auth);
    assert_eq!(request.headers.get("content-type").unwrap().to_str().unwrap(), "application/x-www-form-urlencoded");
    let pairs = form_of(request);
    let expected: Vec<(String, String)> = [
        ("To", "+15551230000"),
        ("From", "+15559870000"),
        ("Body", "Hola ¿qué tal? & más"),
        ("MediaUrl", "https://parley.example.com/media/a.jpg"),
        ("MediaUrl", "https://parley.example.com/media/b.pdf"),
        ("StatusCallback", CALLBACK),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(pairs, expected);
}

#[tokio::test]
async fn a_media_only_message_has_no_body_and_no_callback_unless_configured() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path(messages_path())).respond_with(created("MM1")).mount(&server).await;
    let mut settings = settings(&server);
    settings.status_callback = None;
    let mut message = sms("m1", "+15551230000", "");
    message.media = vec!["https://parley.example.com/media/a.jpg".into()];
    let results = Twilio::new(settings).unwrap().send(&[message]).await;
    assert!(results[0].is_ok());
    let names: Vec<String> = form_of(&server.received_requests().await.unwrap()[0]).into_iter().map(|p| p.0).collect();
    assert_eq!(names, ["To", "From", "MediaUrl"]);
}

#[tokio::test]
async fn throttling_honours_retry_after() {
    let server = MockServer::start().await;
    let answer = ResponseTemplate::new(429)
        .insert_header("Retry-After", "7")
        .set_body_json(json!({"code": 20429, "message": "Too Many Requests", "status": 429}));
    assert_eq!(send_one(&server, answer).await, Err(SendError::Throttled { retry_after_ms: 7000 }));
}

#[tokio::test]
async fn throttling_without_retry_after_waits_a_second() {
    let server = MockServer::start().await;
    assert_eq!(send_one(&server, ResponseTemplate::new(429)).await, Err(SendError::Throttled { retry_after_ms: 1000 }));
}

#[tokio::test]
async fn a_server_error_is_transient() {
    let server = MockServer::start().await;
    let answer = ResponseTemplate::new(500).set_body_string("upstream exploded");
    let err = send_one(&server, answer).await.unwrap_err();
    let SendError::Transient(message) = err else { panic!("expected Transient, got {err:?}") };
    assert!(message.contains("500") && message.contains("upstream exploded"), "{message}");
}

#[tokio::test]
async fn a_rejection_is_permanent_with_twilios_code() {
    let server = MockServer::start().await;
    let answer = ResponseTemplate::new(400).set_body_json(json!({
        "code": 21610,
        "message": "Attempt to send to unsubscribed recipient",
        "more_info": "https://www.twilio.com/docs/errors/21610",
        "status": 400
    }));
    assert_eq!(
        send_one(&server, answer).await,
        Err(SendError::Permanent { code: "21610".into(), message: "Attempt to send to unsubscribed recipient".into() })
    );
}

#[tokio::test]
async fn a_rejection_without_twilios_json_is_still_permanent() {
    let server = MockServer::start().await;
    let err = send_one(&server, ResponseTemplate::new(404).set_body_string("<html>nope</html>")).await.unwrap_err();
    assert!(matches!(&err, SendError::Permanent { code, .. } if code == "http_404"), "{err:?}");
}

#[tokio::test]
async fn refused_credentials_are_transient_and_say_so() {
    let server = MockServer::start().await;
    let answer = ResponseTemplate::new(401).set_body_json(json!({"code": 20003, "message": "Authenticate"}));
    let err = send_one(&server, answer).await.unwrap_err();
    let SendError::Transient(message) = err else { panic!("expected Transient, got {err:?}") };
    assert!(message.contains("credentials") && message.contains("20003"), "{message}");
}

#[tokio::test]
async fn a_malformed_success_is_transient() {
    for answer in [
        ResponseTemplate::new(201).set_body_string("<xml/>"),
        ResponseTemplate::new(201).set_body_json(json!({"status": "queued"})),
        ResponseTemplate::new(200).set_body_json(json!({"sid": ""})),
        ResponseTemplate::new(201),
    ] {
        let server = MockServer::start().await;
        let err = send_one(&server, answer).await.unwrap_err();
        let SendError::Transient(message) = err else { panic!("expected Transient, got {err:?}") };
        assert!(message.contains("without a message sid"), "{message}");
    }
}

#[tokio::test]
async fn a_slow_answer_times_out_as_transient() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(messages_path()))
        .respond_with(created("SM1").set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;
    let mut settings = settings(&server);
    settings.timeout = Duration::from_millis(200);
    let results = Twilio::new(settings).unwrap().send(&[sms("m1", "+15551230000", "hi")]).await;
    let Err(SendError::Transient(message)) = &results[0] else { panic!("expected Transient, got {results:?}") };
    assert!(message.contains("no answer") && message.contains("200ms"), "{message}");
}

#[tokio::test]
async fn an_unreachable_api_is_transient() {
    // Bind a port, then free it, so nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut settings = TwilioSettings::new("tw", SID, TOKEN);
    settings.api_base = format!("http://127.0.0.1:{port}");
    let results = Twilio::new(settings).unwrap().send(&[sms("m1", "+15551230000", "hi")]).await;
    let Err(SendError::Transient(message)) = &results[0] else { panic!("expected Transient, got {results:?}") };
    assert!(message.contains("could not connect"), "{message}");
}

/// Answers with the recipient's number as the sid; later recipients answer sooner, and one is refused.
struct EchoRecipient;

impl Respond for EchoRecipient {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let to = form_of(request).into_iter().find(|(k, _)| k == "To").unwrap().1;
        let n: u64 = to[to.len() - 2..].parse().unwrap();
        let delay = Duration::from_millis((20 - n) * 15);
        if n == 13 {
            return ResponseTemplate::new(400)
                .set_body_json(json!({"code": 21211, "message": "Invalid 'To' Phone Number"}))
                .set_delay(delay);
        }
        created(&format!("SM{to}")).set_delay(delay)
    }
}

#[tokio::test]
async fn a_batch_keeps_its_order_whatever_order_answers_come_in() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path(messages_path())).respond_with(EchoRecipient).mount(&server).await;
    let messages: Vec<OutboundSms> =
        (0..20).map(|n| sms(&format!("m{n}"), &format!("+155512300{n:02}"), "hi")).collect();
    let results = twilio(&server).send(&messages).await;
    assert_eq!(results.len(), 20);
    for (n, result) in results.iter().enumerate() {
        if n == 13 {
            assert!(matches!(result, Err(SendError::Permanent { code, .. }) if code == "21211"), "{result:?}");
        } else {
            assert_eq!(result.as_ref().unwrap().provider_id, format!("SM+155512300{n:02}"));
        }
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 20);
}

// ---------------------------------------------------------------------------------------------------
// REST: inbound media
// ---------------------------------------------------------------------------------------------------

async fn serve_media(server: &MockServer, at: &str, answer: ResponseTemplate) -> String {
    Mock::given(method("GET")).and(path(at)).respond_with(answer).mount(server).await;
    format!("{}{at}", server.uri())
}

#[tokio::test]
async fn media_is_fetched_with_the_accounts_credentials() {
    let server = MockServer::start().await;
    let png = b"\x89PNG\r\n\x1a\n fake".to_vec();
    let url =
        serve_media(&server, "/media/ME1", ResponseTemplate::new(200).set_body_raw(png.clone(), "image/png")).await;
    let (content_type, bytes) = twilio(&server).download_media(&url).await.unwrap();
    assert_eq!((content_type.as_str(), bytes.as_ref()), ("image/png", png.as_slice()));
    let request = &server.received_requests().await.unwrap()[0];
    assert!(request.headers.get("authorization").unwrap().to_str().unwrap().starts_with("Basic "));
}

#[tokio::test]
async fn media_follows_redirects_and_keeps_credentials_on_its_own_origin() {
    let api = MockServer::start().await;
    let cdn = MockServer::start().await;
    let pdf = b"%PDF-1.7 fake".to_vec();
    let cdn_url =
        serve_media(&cdn, "/blob/1", ResponseTemplate::new(200).set_body_raw(pdf.clone(), "application/pdf")).await;
    let url =
        serve_media(&api, "/media/ME1", ResponseTemplate::new(307).insert_header("Location", cdn_url.as_str())).await;
    let (content_type, bytes) = twilio(&api).download_media(&url).await.unwrap();
    assert_eq!((content_type.as_str(), bytes.as_ref()), ("application/pdf", pdf.as_slice()));
    assert!(api.received_requests().await.unwrap()[0].headers.contains_key("authorization"));
    assert!(!cdn.received_requests().await.unwrap()[0].headers.contains_key("authorization"));

    // Media announced on another host is fetched without the account's credentials.
    let (content_type, _) = twilio(&api).download_media(&cdn_url).await.unwrap();
    assert_eq!(content_type, "application/pdf");
    assert!(cdn.received_requests().await.unwrap().iter().all(|r| !r.headers.contains_key("authorization")));
}

#[tokio::test]
async fn media_types_are_checked() {
    let server = MockServer::start().await;
    let twilio = twilio(&server);
    for (n, (announced, expected)) in [
        ("image/jpeg; charset=binary", Ok("image/jpeg")),
        ("Video/MP4", Ok("video/mp4")),
        ("audio/amr", Ok("audio/amr")),
        ("application/pdf", Ok("application/pdf")),
        ("text/html", Err("text/html")),
        ("application/x-msdownload", Err("application/x-msdownload")),
        ("application/pdfx", Err("application/pdfx")),
    ]
    .into_iter()
    .enumerate()
    {
        let url =
            serve_media(&server, &format!("/m/{n}"), ResponseTemplate::new(200).set_body_raw("x", announced)).await;
        let got = twilio.download_media(&url).await.map(|(ct, _)| ct);
        match expected {
            Ok(ct) => assert_eq!(got.unwrap(), ct),
            Err(ct) => assert_eq!(got.unwrap_err(), DownloadError::ContentType(ct.to_owned())),
        }
    }
    let url = serve_media(&server, "/m/untyped", ResponseTemplate::new(200).set_body_bytes("x")).await;
    assert_eq!(twilio.download_media(&url).await.unwrap_err(), DownloadError::ContentType("(none)".into()));
    assert!(!DownloadError::ContentType("text/html".into()).is_retryable());
}

#[tokio::test]
async fn media_over_the_size_limit_is_refused() {
    let server = MockServer::start().await;
    let twilio = twilio(&server);
    let at_limit = vec![7u8; MAX_MEDIA_BYTES];
    let url = serve_media(&server, "/m/fits", ResponseTemplate::new(200).set_body_raw(at_limit, "image/jpeg")).await;
    assert_eq!(twilio.download_media(&url).await.unwrap().1.len(), MAX_MEDIA_BYTES);
    let over = vec![7u8; MAX_MEDIA_BYTES + 1];
    let url = serve_media(&server, "/m/big", ResponseTemplate::new(200).set_body_raw(over, "image/jpeg")).await;
    let err = twilio.download_media(&url).await.unwrap_err();
    assert_eq!(err, DownloadError::TooLarge { limit: MAX_MEDIA_BYTES });
    assert!(!err.is_retryable());
}

/// A media server that streams `total` bytes without announcing a length (chunked encoding), so the
/// limit must be enforced while reading.
async fn chunked_media_server(total: usize) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "the client hung up before sending its request");
            request.extend_from_slice(&buf[..n]);
        }
        let head = "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nTransfer-Encoding: chunked\r\n\r\n";
        socket.write_all(head.as_bytes()).await.unwrap();
        let chunk = vec![b'v'; 256 * 1024];
        let mut sent = 0;
        while sent < total {
            let n = chunk.len().min(total - sent);
            let frame = [format!("{n:x}\r\n").as_bytes(), &chunk[..n], b"\r\n"].concat();
            // The client may stop reading at the limit and close: that ends the stream.
            if socket.write_all(&frame).await.is_err() {
                return;
            }
            sent += n;
        }
        let _ = socket.write_all(b"0\r\n\r\n").await;
    });
    format!("http://{addr}/media")
}

#[tokio::test]
async fn media_streamed_past_the_limit_is_refused() {
    let server = MockServer::start().await;
    let url = chunked_media_server(MAX_MEDIA_BYTES + 1).await;
    assert_eq!(
        twilio(&server).download_media(&url).await.unwrap_err(),
        DownloadError::TooLarge { limit: MAX_MEDIA_BYTES }
    );
    let url = chunked_media_server(1000).await;
    let (content_type, bytes) = twilio(&server).download_media(&url).await.unwrap();
    assert_eq!((content_type.as_str(), bytes.len()), ("video/mp4", 1000));
}

#[tokio::test]
async fn media_errors_say_whether_to_retry() {
    let server = MockServer::start().await;
    let twilio = twilio(&server);
    let url = serve_media(&server, "/m/gone", ResponseTemplate::new(404)).await;
    let err = twilio.download_media(&url).await.unwrap_err();
    assert_eq!(err, DownloadError::Status { status: 404 });
    assert!(!err.is_retryable());
    let url = serve_media(&server, "/m/busy", ResponseTemplate::new(503)).await;
    let err = twilio.download_media(&url).await.unwrap_err();
    assert_eq!(err, DownloadError::Status { status: 503 });
    assert!(err.is_retryable());
    for bad in ["ftp://m.example/a", "not a url", "file:///etc/passwd"] {
        assert_eq!(twilio.download_media(bad).await.unwrap_err(), DownloadError::BadUrl(bad.into()));
    }
}

/// What the media worker sees through the `Carrier` trait: the bytes, or a failure sorted for retrying.
#[tokio::test]
async fn the_carrier_trait_sorts_media_failures_for_the_worker() {
    let server = MockServer::start().await;
    let twilio = twilio(&server);
    let carrier: &dyn Carrier = &twilio;
    let url = serve_media(&server, "/m/ok", ResponseTemplate::new(200).set_body_raw("GIF89a", "image/gif")).await;
    assert_eq!(
        carrier.fetch_media(&url).await,
        Ok(FetchedMedia { content_type: "image/gif".into(), data: b"GIF89a".to_vec() })
    );
    let url = serve_media(&server, "/m/busy", ResponseTemplate::new(502)).await;
    assert!(matches!(carrier.fetch_media(&url).await, Err(MediaError::Transient(m)) if m.contains("502")));
    let url = serve_media(&server, "/m/html", ResponseTemplate::new(200).set_body_raw("<p>", "text/html")).await;
    assert!(matches!(carrier.fetch_media(&url).await, Err(MediaError::Permanent(m)) if m.contains("text/html")));
}

#[test]
fn the_auth_token_stays_out_of_debug() {
    let settings = TwilioSettings::new("tw", SID, "hunter2-secret");
    assert!(!format!("{settings:?}").contains("hunter2"));
    let twilio = Twilio::new(settings).unwrap();
    let shown = format!("{twilio:?}");
    assert!(!shown.contains("hunter2") && shown.contains(SID), "{shown}");
}
