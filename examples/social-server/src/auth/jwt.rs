//! JWT access tokens, HS256 only, verified strictly.
//!
//! The header must say `"alg":"HS256"`: `none`, any other HMAC, and asymmetric algorithms
//! (the RS256/HS256 confusion attack) are rejected before the signature is even looked at.
//! The signature is checked in constant time, then the expiry against the injected clock.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use keel_storage::{Clock, UserId};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The only algorithm accepted.
pub const ALGORITHM: &str = "HS256";

/// A user's rate-limit tier, carried in the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Ordinary users.
    Free,
    /// Verified users: higher limits.
    Verified,
}

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: UserId,
    /// Their tier.
    pub tier: Tier,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// Token id.
    pub jti: uuid::Uuid,
}

/// Why a token was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// Not three base64url parts of JSON: send the `access_token` from `/auth/login`.
    #[error("malformed token; send the access_token from /auth/login")]
    Malformed,
    /// The header names another algorithm (`none`, RS256...): only HS256 is accepted.
    #[error("token algorithm {0:?} is not accepted; only HS256 tokens from this server are")]
    Algorithm(String),
    /// The signature does not match: the token was forged or signed with another key.
    #[error("bad token signature; log in again")]
    Signature,
    /// The token expired: refresh it with `/auth/refresh`.
    #[error("token expired; refresh it with /auth/refresh")]
    Expired,
}

#[derive(Debug, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
}

/// Signs and verifies access tokens with one secret and lifetime.
#[derive(Clone)]
pub struct JwtSigner {
    key: Arc<Vec<u8>>,
    ttl_secs: i64,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for JwtSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSigner")
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

fn now_secs(clock: &dyn Clock) -> i64 {
    clock.now().as_micros() / 1_000_000
}

impl JwtSigner {
    /// A signer with this secret, token lifetime and clock.
    pub fn new(key: &[u8], ttl_secs: u64, clock: Arc<dyn Clock>) -> Self {
        Self {
            key: Arc::new(key.to_vec()),
            ttl_secs: i64::try_from(ttl_secs).unwrap_or(i64::MAX / 2),
            clock,
        }
    }

    /// Token lifetime in seconds.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length, so this never fails; the fallback keeps it total.
        HmacSha256::new_from_slice(&self.key)
            .unwrap_or_else(|_| <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default()))
    }

    /// A fresh access token for `user`.
    pub fn issue(&self, user: UserId, tier: Tier) -> String {
        let iat = now_secs(self.clock.as_ref());
        let claims = Claims {
            sub: user,
            tier,
            iat,
            exp: iat.saturating_add(self.ttl_secs),
            jti: uuid::Uuid::now_v7(),
        };
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let signing_input = format!("{header}.{payload}");
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{sig}")
    }

    /// Verifies `token` strictly and returns its claims.
    ///
    /// # Errors
    /// A [`JwtError`] saying why the token is not accepted.
    pub fn verify(&self, token: &str) -> Result<Claims, JwtError> {
        if token.len() > 4096 {
            return Err(JwtError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let header: Header = URL_SAFE_NO_PAD
            .decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(JwtError::Malformed)?;
        if header.alg != ALGORITHM {
            return Err(JwtError::Algorithm(header.alg));
        }
        if header.typ.as_deref().is_some_and(|t| t != "JWT") {
            return Err(JwtError::Malformed);
        }
        let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| JwtError::Malformed)?;
        let mut mac = self.mac();
        mac.update(h.as_bytes());
        mac.update(b".");
        mac.update(p.as_bytes());
        mac.verify_slice(&sig).map_err(|_| JwtError::Signature)?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(JwtError::Malformed)?;
        if now_secs(self.clock.as_ref()) >= claims.exp {
            return Err(JwtError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use keel_storage::{ManualClock, Timestamp};

    use super::*;

    fn signer() -> (JwtSigner, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(Timestamp::from_millis(1_767_225_600_000)));
        (JwtSigner::new(&[9u8; 32], 60, clock.clone()), clock)
    }

    fn forge(header: &str, payload_from: &str, key: &[u8]) -> String {
        let p = payload_from.split('.').nth(1).unwrap();
        let h = URL_SAFE_NO_PAD.encode(header);
        let mut mac = HmacSha256::new_from_slice(key).unwrap();
        mac.update(format!("{h}.{p}").as_bytes());
        format!(
            "{h}.{p}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    #[test]
    fn round_trip_then_expiry_by_the_clock() {
        let (s, clock) = signer();
        let user = UserId(uuid::Uuid::now_v7());
        let t = s.issue(user, Tier::Free);
        assert_eq!(s.verify(&t).unwrap().sub, user);
        clock.advance_micros(60_000_000);
        assert_eq!(s.verify(&t), Err(JwtError::Expired));
    }

    #[test]
    fn alg_none_and_algorithm_confusion_are_rejected() {
        let (s, _) = signer();
        let t = s.issue(UserId(uuid::Uuid::now_v7()), Tier::Free);
        let p = t.split('.').nth(1).unwrap();
        let none = format!(
            "{}.{p}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
        );
        assert_eq!(s.verify(&none), Err(JwtError::Algorithm("none".into())));
        // RS256 header signed with the HMAC secret (the confusion attack): rejected by alg.
        let rs = forge(r#"{"alg":"RS256","typ":"JWT"}"#, &t, &[9u8; 32]);
        assert_eq!(s.verify(&rs), Err(JwtError::Algorithm("RS256".into())));
        let hs512 = forge(r#"{"alg":"HS512"}"#, &t, &[9u8; 32]);
        assert!(matches!(s.verify(&hs512), Err(JwtError::Algorithm(_))));
        let other_key = forge(r#"{"alg":"HS256","typ":"JWT"}"#, &t, &[1u8; 32]);
        assert_eq!(s.verify(&other_key), Err(JwtError::Signature));
        assert_eq!(s.verify("a.b"), Err(JwtError::Malformed));
        assert_eq!(s.verify(""), Err(JwtError::Malformed));
    }
}
