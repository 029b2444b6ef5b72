//! The tokens of app-launch links (docs/ivr.md "SMS to launch the app"): what a token says (the app,
//! the consumer's phone and the business number of the conversation it was sent in, when it expires,
//! a nonce that makes it single-use), signed with the deployment's key so that only Parley makes
//! them. A token is `base64url(claims JSON) . base64url(HMAC-SHA256)`, short enough for an SMS link.
//!
//! The app reports the token (`POST /api/v1/app-sessions/{token}`); [`open`] tells a forged token
//! from an expired one, and the store tells a reused one (its nonce is kept once opened).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::outbound_media::MediaSigner;

const PURPOSE: &str = "app-launch";

/// What a launch token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub app: String,
    /// E.164 of the consumer, and the business number of the conversation.
    pub consumer: String,
    pub number: String,
    /// Unix seconds after which the link no longer opens.
    pub exp: i64,
    /// 16 random bytes, hex: a token opens once.
    pub nonce: String,
}

/// Why a token does not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("this app link was not made by this deployment (or was changed)")]
    Forged,
    #[error("this app link has expired: ask the agent for a new one")]
    Expired,
}

/// A token for `claims` (its nonce made here).
pub fn mint(signer: &MediaSigner, app: &str, consumer: &str, number: &str, exp: i64) -> anyhow::Result<String> {
    let mut nonce = [0_u8; 16];
    getrandom::fill(&mut nonce).map_err(|e| anyhow::anyhow!("no randomness for an app token: {e}"))?;
    let claims = Claims {
        app: app.to_owned(),
        consumer: consumer.to_owned(),
        number: number.to_owned(),
        exp,
        nonce: nonce.iter().map(|b| format!("{b:02x}")).collect(),
    };
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?);
    let sig = URL_SAFE_NO_PAD.encode(signer.sign(PURPOSE, body.as_bytes()));
    Ok(format!("{body}.{sig}"))
}

/// The claims of `token` if Parley signed it and it has not expired at `now_ms`.
pub fn open(signer: &MediaSigner, token: &str, now_ms: i64) -> Result<Claims, Refused> {
    let (body, sig) = token.split_once('.').ok_or(Refused::Forged)?;
    let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| Refused::Forged)?;
    if !signer.verify_signed(PURPOSE, body.as_bytes(), &sig) {
        return Err(Refused::Forged);
    }
    let json = URL_SAFE_NO_PAD.decode(body).map_err(|_| Refused::Forged)?;
    let claims: Claims = serde_json::from_slice(&json).map_err(|_| Refused::Forged)?;
    if claims.exp.saturating_mul(1000) <= now_ms {
        return Err(Refused::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_opens_until_it_expires_and_never_when_changed_or_signed_by_another_key() {
        let signer = MediaSigner::new(b"key".to_vec(), None);
        let token = mint(&signer, "acme", "+15550100001", "+15550007000", 1_000).unwrap();
        let claims = open(&signer, &token, 999_999).unwrap();
        assert_eq!((claims.app.as_str(), claims.exp, claims.nonce.len()), ("acme", 1_000, 32));
        assert_eq!(open(&signer, &token, 1_000_000), Err(Refused::Expired));
        let other = MediaSigner::new(b"other".to_vec(), None);
        assert_eq!(open(&other, &token, 0), Err(Refused::Forged));
        // Another body under the same signature: a longer expiry, say.
        let (_, sig) = token.split_once('.').unwrap();
        let forged_claims = Claims { exp: 9_999_999_999, ..claims };
        let forged = format!("{}.{sig}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged_claims).unwrap()));
        assert_eq!(open(&signer, &forged, 0), Err(Refused::Forged));
        assert_eq!(open(&signer, "no-dot", 0), Err(Refused::Forged));
        // Two tokens for the same conversation differ (each opens once).
        assert_ne!(mint(&signer, "acme", "+15550100001", "+15550007000", 1_000).unwrap(), token);
    }
}
