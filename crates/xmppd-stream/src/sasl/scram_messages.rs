//! SCRAM message grammar (RFC 5802 §7): parsing what clients send, formatting what we send.
//! These are SASL text messages, not XML.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{SaslError, parse_error};

/// The gs2 channel-binding flag (RFC 5802 §7 `gs2-cbind-flag`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CbindFlag {
    /// `n`: the client does not support channel binding.
    No,
    /// `y`: the client supports it but believes the server does not.
    ClientOnly,
    /// `p=<name>`: the client binds to channel type `name`.
    Bind(String),
}

/// A parsed client-first-message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientFirst<'a> {
    pub flag: CbindFlag,
    pub authzid: Option<String>,
    /// The gs2 header exactly as sent, which the client repeats inside `c=`.
    pub gs2_header: &'a str,
    pub username: String,
    pub nonce: &'a str,
    /// client-first-message-bare, which enters the AuthMessage.
    pub bare: &'a str,
}

/// A parsed client-final-message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientFinal<'a> {
    pub channel_binding: Vec<u8>,
    pub nonce: &'a str,
    pub proof: Vec<u8>,
    /// client-final-message-without-proof, which enters the AuthMessage.
    pub without_proof: &'a str,
}

const FIRST: &str = "client-first";
const FINAL: &str = "client-final";

/// Decode a `saslname` (RFC 5802 §5.1: `=2C` is `,` and `=3D` is `=`).
pub(crate) fn decode_saslname(s: &str, step: &'static str) -> Result<String, SaslError> {
    if s.is_empty() {
        return Err(parse_error(step, "empty name"));
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c.is_control() {
            return Err(parse_error(step, "control character in name"));
        }
        if c == '=' {
            match rest.get(1..3) {
                Some("2C") => out.push(','),
                Some("3D") => out.push('='),
                _ => return Err(parse_error(step, "bad escape in name")),
            }
            rest = &rest[3..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    Ok(out)
}

fn valid_nonce(n: &str) -> bool {
    !n.is_empty() && n.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b',')
}

fn valid_extension(field: &str) -> bool {
    let b = field.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b'='
}

pub(crate) fn parse_client_first(msg: &str) -> Result<ClientFirst<'_>, SaslError> {
    let (flag, rest) = msg
        .split_once(',')
        .ok_or_else(|| parse_error(FIRST, "missing gs2 header"))?;
    let flag = match flag {
        "n" => CbindFlag::No,
        "y" => CbindFlag::ClientOnly,
        _ => match flag.strip_prefix("p=") {
            Some(name)
                if !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') =>
            {
                CbindFlag::Bind(name.to_owned())
            }
            _ => return Err(parse_error(FIRST, "bad channel binding flag")),
        },
    };
    let (authzid, bare) = rest
        .split_once(',')
        .ok_or_else(|| parse_error(FIRST, "missing gs2 header"))?;
    let authzid = match authzid {
        "" => None,
        a => match a.strip_prefix("a=") {
            Some(name) => Some(decode_saslname(name, FIRST)?),
            None => return Err(parse_error(FIRST, "bad authzid")),
        },
    };
    let gs2_header = &msg[..msg.len() - bare.len()];
    let mut fields = bare.split(',');
    let user_field = fields.next().unwrap_or_default();
    if user_field.starts_with("m=") {
        return Err(parse_error(FIRST, "mandatory extension not supported"));
    }
    let username = match user_field.strip_prefix("n=") {
        Some(name) => decode_saslname(name, FIRST)?,
        None => return Err(parse_error(FIRST, "missing username")),
    };
    let nonce = fields
        .next()
        .and_then(|f| f.strip_prefix("r="))
        .filter(|n| valid_nonce(n))
        .ok_or_else(|| parse_error(FIRST, "missing or bad nonce"))?;
    if !fields.all(valid_extension) {
        return Err(parse_error(FIRST, "bad extension"));
    }
    Ok(ClientFirst {
        flag,
        authzid,
        gs2_header,
        username,
        nonce,
        bare,
    })
}

pub(crate) fn parse_client_final(msg: &str) -> Result<ClientFinal<'_>, SaslError> {
    let idx = msg
        .rfind(",p=")
        .ok_or_else(|| parse_error(FINAL, "missing proof"))?;
    let without_proof = &msg[..idx];
    let proof = STANDARD
        .decode(&msg[idx + 3..])
        .map_err(|_| parse_error(FINAL, "proof is not base64"))?;
    let mut fields = without_proof.split(',');
    let channel_binding = fields
        .next()
        .and_then(|f| f.strip_prefix("c="))
        .ok_or_else(|| parse_error(FINAL, "missing channel binding"))?;
    let channel_binding = STANDARD
        .decode(channel_binding)
        .map_err(|_| parse_error(FINAL, "channel binding is not base64"))?;
    let nonce = fields
        .next()
        .and_then(|f| f.strip_prefix("r="))
        .filter(|n| valid_nonce(n))
        .ok_or_else(|| parse_error(FINAL, "missing or bad nonce"))?;
    if !fields.all(valid_extension) {
        return Err(parse_error(FINAL, "bad extension"));
    }
    Ok(ClientFinal {
        channel_binding,
        nonce,
        proof,
        without_proof,
    })
}

/// `r=<nonce>,s=<salt>,i=<iterations>`.
pub(crate) fn server_first(nonce: &str, salt: &[u8], iterations: u32) -> String {
    format!("r={nonce},s={},i={iterations}", STANDARD.encode(salt))
}

/// `v=<server signature>`.
pub(crate) fn server_final(signature: &[u8]) -> String {
    format!("v={}", STANDARD.encode(signature))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn client_first_fields() {
        let m = parse_client_first("p=tls-exporter,a=ad=3Dmin,n=us=2Cer,r=abc,x=ext").unwrap();
        assert_eq!(m.flag, CbindFlag::Bind("tls-exporter".into()));
        assert_eq!(m.authzid.as_deref(), Some("ad=min"));
        assert_eq!(m.gs2_header, "p=tls-exporter,a=ad=3Dmin,");
        assert_eq!(m.username, "us,er");
        assert_eq!(m.nonce, "abc");
        assert_eq!(m.bare, "n=us=2Cer,r=abc,x=ext");
    }

    #[test]
    fn client_first_errors_are_exact() {
        let cases = [
            ("", "missing gs2 header"),
            ("n,", "missing gs2 header"),
            ("x,,n=u,r=a", "bad channel binding flag"),
            ("p=,,n=u,r=a", "bad channel binding flag"),
            ("n,b=x,n=u,r=a", "bad authzid"),
            ("n,,m=x,n=u,r=a", "mandatory extension not supported"),
            ("n,,r=a", "missing username"),
            ("n,,n=,r=a", "empty name"),
            ("n,,n=a=2,r=a", "bad escape in name"),
            ("n,,n=a=41,r=a", "bad escape in name"),
            ("n,,n=a\u{1}b,r=a", "control character in name"),
            ("n,,n=u", "missing or bad nonce"),
            ("n,,n=u,r=", "missing or bad nonce"),
            ("n,,n=u,r=a b", "missing or bad nonce"),
            ("n,,n=u,r=a,,", "bad extension"),
        ];
        for (msg, reason) in cases {
            assert_eq!(
                parse_client_first(msg),
                Err(SaslError::Parse {
                    step: FIRST,
                    reason
                }),
                "{msg:?}"
            );
        }
    }

    #[test]
    fn client_final_errors_are_exact() {
        let cases = [
            ("c=biws,r=a", "missing proof"),
            ("c=biws,r=a,p=!!", "proof is not base64"),
            ("r=a,p=AAAA", "missing channel binding"),
            ("c=%%,r=a,p=AAAA", "channel binding is not base64"),
            ("c=biws,p=AAAA", "missing or bad nonce"),
            ("c=biws,r=a,1,p=AAAA", "bad extension"),
        ];
        for (msg, reason) in cases {
            assert_eq!(
                parse_client_final(msg),
                Err(SaslError::Parse {
                    step: FINAL,
                    reason
                }),
                "{msg:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in ".{0,80}") {
            let _ = parse_client_first(&s);
            let _ = parse_client_final(&s);
        }

        #[test]
        fn saslname_round_trips(name in "[^\\p{Cc}]{1,30}", nonce in "[!-+\\--~]{1,30}") {
            let escaped = name.replace('=', "=3D").replace(',', "=2C");
            let msg = format!("n,,n={escaped},r={nonce}");
            let m = parse_client_first(&msg).unwrap();
            prop_assert_eq!(m.username, name);
            prop_assert_eq!(m.nonce, nonce.as_str());
        }
    }
}
