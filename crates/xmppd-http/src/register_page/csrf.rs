//! CSRF tokens for the registration form: each form gets its own token, signed with a secret of
//! this process, valid for a limited time and for one submission.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Mutex;

/// How long a form may be open before it is submitted.
pub const TOKEN_LIFETIME_SECS: u64 = 3600;
/// Used tokens remembered (until they expire) to refuse replays; bounds memory.
const MAX_USED: usize = 20_000;

/// Issues and checks tokens `<issued>.<nonce>.<mac>` (hex), the MAC over issued and nonce.
#[derive(Debug)]
pub struct Csrf {
    secret: [u8; 32],
    used: Mutex<HashMap<String, u64>>,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    BadSignature,
    Expired,
    Replayed,
    Busy,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Csrf {
    pub fn new() -> Result<Self, getrandom::Error> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)?;
        Ok(Self {
            secret,
            used: Mutex::default(),
        })
    }

    fn mac(&self, issued: &str, nonce: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret)
            .expect("HMAC takes keys of any length");
        mac.update(b"xmppd register form\0");
        mac.update(issued.as_bytes());
        mac.update(b"\0");
        mac.update(nonce.as_bytes());
        mac
    }

    /// A fresh token for a form shown at `now` (Unix seconds).
    pub fn issue(&self, now: u64) -> Result<String, getrandom::Error> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce)?;
        let (issued, nonce) = (now.to_string(), hex(&nonce));
        let tag = hex(&self.mac(&issued, &nonce).finalize().into_bytes());
        Ok(format!("{issued}.{nonce}.{tag}"))
    }

    /// Checks a submitted token and spends it.
    pub fn redeem(&self, token: &str, now: u64) -> Result<(), TokenError> {
        let mut parts = token.split('.');
        let (Some(issued), Some(nonce), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let tag = unhex(tag).ok_or(TokenError::Malformed)?;
        self.mac(issued, nonce)
            .verify_slice(&tag)
            .map_err(|_| TokenError::BadSignature)?;
        let issued: u64 = issued.parse().map_err(|_| TokenError::Malformed)?;
        if now.saturating_sub(issued) > TOKEN_LIFETIME_SECS || issued > now + 60 {
            return Err(TokenError::Expired);
        }
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.retain(|_, at| now.saturating_sub(*at) <= TOKEN_LIFETIME_SECS);
        if used.contains_key(nonce) {
            return Err(TokenError::Replayed);
        }
        if used.len() >= MAX_USED {
            return Err(TokenError::Busy);
        }
        used.insert(nonce.to_owned(), issued);
        Ok(())
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_good_once() {
        let csrf = Csrf::new().unwrap();
        let token = csrf.issue(1000).unwrap();
        assert_eq!(csrf.redeem(&token, 1010), Ok(()));
        assert_eq!(csrf.redeem(&token, 1011), Err(TokenError::Replayed));
    }

    #[test]
    fn forged_old_and_garbled_tokens_are_refused() {
        let csrf = Csrf::new().unwrap();
        let other = Csrf::new().unwrap();
        assert_eq!(
            csrf.redeem(&other.issue(1000).unwrap(), 1000),
            Err(TokenError::BadSignature)
        );
        let token = csrf.issue(1000).unwrap();
        let changed = token.replacen("1000", "1999", 1);
        assert_eq!(csrf.redeem(&changed, 2000), Err(TokenError::BadSignature));
        assert_eq!(
            csrf.redeem(&token, 1000 + TOKEN_LIFETIME_SECS + 1),
            Err(TokenError::Expired)
        );
        assert_eq!(csrf.redeem("", 1000), Err(TokenError::Malformed));
        assert_eq!(csrf.redeem("1.2.zz", 1000), Err(TokenError::Malformed));
    }
}
