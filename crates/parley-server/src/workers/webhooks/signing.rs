//! Signatures of the Standard Webhooks specification: `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `"{webhook-id}.{webhook-timestamp}.{body}"`, keyed with the bytes of the secret after `whsec_`
//! (base64). Pure, so the spec's own example is a unit test.
//!
//! Why this format: receivers verify with the specification's published libraries instead of code of
//! their own, and several `v1,…` entries separated by spaces let a rotated secret sign beside the new
//! one while receivers switch.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit as _, Mac as _};

/// The prefix of every secret.
const PREFIX: &str = "whsec_";
/// Random bytes in a new secret (the specification asks for 24 to 64).
const SECRET_BYTES: usize = 32;

/// A new random secret, `whsec_` + base64 of 32 bytes from the OS.
pub fn new_secret() -> anyhow::Result<String> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a webhook secret: {e}"))?;
    Ok(format!("{PREFIX}{}", STANDARD.encode(bytes)))
}

/// One `v1,…` signature entry of `body` for the message `id` sent at `timestamp` (unix seconds);
/// `None` for a secret that is not `whsec_` + base64 (never one Parley made).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix(PREFIX)?).ok()?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// The `webhook-signature` header: one entry per secret, space separated.
pub fn header(secrets: &[&str], id: &str, timestamp: i64, body: &str) -> String {
    secrets.iter().filter_map(|s| sign(s, id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specifications_example_signs_as_published() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, r#"{"test": 2432232314}"#);
        assert_eq!(signature.as_deref(), Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
    }

    #[test]
    fn new_secrets_are_random_whsec_base64_of_32_bytes() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert_ne!(a, b);
        let bytes = STANDARD.decode(a.strip_prefix("whsec_").unwrap()).unwrap();
        assert_eq!(bytes.len(), 32);
    }

    #[test]
    fn a_rotated_secret_signs_beside_the_new_one() {
        let (old, new) = (new_secret().unwrap(), new_secret().unwrap());
        let both = header(&[&new, &old], "42", 1, "{}");
        let entries: Vec<&str> = both.split(' ').collect();
        assert_eq!(entries, [sign(&new, "42", 1, "{}").unwrap(), sign(&old, "42", 1, "{}").unwrap()]);
        assert_eq!(sign("not-a-secret", "42", 1, "{}"), None);
    }
}
