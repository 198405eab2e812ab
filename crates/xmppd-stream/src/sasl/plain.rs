//! SASL PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd`. The caller decides whether PLAIN
//! may be used at all (only over TLS, only when configured).

use super::{SaslError, parse_error};

const STEP: &str = "PLAIN";

/// A parsed PLAIN message.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainMessage {
    /// Who to act as, if different from `authcid`.
    pub authzid: Option<String>,
    /// The username.
    pub authcid: String,
    /// The password, as sent.
    pub password: String,
}

impl std::fmt::Debug for PlainMessage {
    // The password stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainMessage")
            .field("authzid", &self.authzid)
            .field("authcid", &self.authcid)
            .finish_non_exhaustive()
    }
}

/// Parse a PLAIN message.
pub fn parse(msg: &[u8]) -> Result<PlainMessage, SaslError> {
    let msg = std::str::from_utf8(msg).map_err(|_| parse_error(STEP, "not UTF-8"))?;
    let mut parts = msg.split('\0');
    let (Some(authzid), Some(authcid), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(parse_error(STEP, "expected exactly two NUL separators"));
    };
    if authcid.is_empty() {
        return Err(parse_error(STEP, "empty username"));
    }
    if password.is_empty() {
        return Err(parse_error(STEP, "empty password"));
    }
    if authcid.chars().chain(authzid.chars()).any(char::is_control) {
        return Err(parse_error(STEP, "control character in name"));
    }
    Ok(PlainMessage {
        authzid: (!authzid.is_empty()).then(|| authzid.to_owned()),
        authcid: authcid.to_owned(),
        password: password.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_with_and_without_authzid() {
        let m = parse(b"\0juliet\0r0m30").unwrap();
        assert_eq!(m.authzid, None);
        assert_eq!(m.authcid, "juliet");
        assert_eq!(m.password, "r0m30");
        let m = parse(b"admin\0juliet\0r0m30").unwrap();
        assert_eq!(m.authzid.as_deref(), Some("admin"));
    }

    #[test]
    fn errors_are_exact() {
        let cases: [(&[u8], &str); 6] = [
            (b"juliet\0pw", "expected exactly two NUL separators"),
            (b"\0juliet\0pw\0", "expected exactly two NUL separators"),
            (b"\0\0pw", "empty username"),
            (b"\0juliet\0", "empty password"),
            (b"\0jul\x01iet\0pw", "control character in name"),
            (b"\0\xff\0pw", "not UTF-8"),
        ];
        for (msg, reason) in cases {
            assert_eq!(parse(msg), Err(SaslError::Parse { step: STEP, reason }));
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let m = parse(b"\0juliet\0secret").unwrap();
        assert!(!format!("{m:?}").contains("secret"));
    }

    proptest! {
        #[test]
        fn round_trip(authzid in "[a-z@.]{0,10}", authcid in "[a-z]{1,10}", pw in "[^\0]{1,20}") {
            let msg = format!("{authzid}\0{authcid}\0{pw}");
            let m = parse(msg.as_bytes()).unwrap();
            prop_assert_eq!(m.authzid.unwrap_or_default(), authzid);
            prop_assert_eq!(m.authcid, authcid);
            prop_assert_eq!(m.password, pw);
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse(&bytes);
        }
    }
}
