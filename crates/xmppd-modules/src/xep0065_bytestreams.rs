//! XEP-0065: SOCKS5 Bytestreams, the proxy's side: the `bytestreams` query (streamhost answer,
//! activation), the DST.ADDR hash both parties connect with, and the SOCKS5 (RFC 1928)
//! handshake the proxy accepts, as pure functions over byte buffers.

use sha1::{Digest, Sha1};
use xmpp_parsers::disco::{DiscoInfoResult, Identity};
use xmpp_parsers::ns;
use xso::{AsXml, FromXml};

/// The XEP-0065 namespace.
pub const NS: &str = "http://jabber.org/protocol/bytestreams";

/// One place to connect to.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Eq)]
#[xml(namespace = NS, name = "streamhost")]
pub struct StreamHost {
    /// The proxy's JID.
    #[xml(attribute)]
    pub jid: String,
    /// Host name or address.
    #[xml(attribute)]
    pub host: String,
    /// TCP port.
    #[xml(attribute)]
    pub port: u16,
}

/// `<query/>`: empty to ask a proxy for its address; with `sid` and `<activate/>` to start a
/// transfer.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Eq)]
#[xml(namespace = NS, name = "query")]
pub struct Query {
    /// Stream id chosen by the initiator.
    #[xml(attribute(default))]
    pub sid: Option<String>,
    /// Streamhosts offered (the proxy's answer has one).
    #[xml(child(n = ..))]
    pub streamhosts: Vec<StreamHost>,
    /// The target's full JID, when activating.
    #[xml(extract(default, name = "activate", fields(text(type_ = String))))]
    pub activate: Option<String>,
}

/// §6.3.1: the hash both parties send as DST.ADDR: SHA-1 of sid, initiator and target JIDs,
/// as 40 lower-case hex digits.
pub fn dst_addr(sid: &str, initiator: &str, target: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(sid.as_bytes());
    hasher.update(initiator.as_bytes());
    hasher.update(target.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// §5: the proxy's disco#info: identity `proxy/bytestreams` and the feature.
pub fn disco_info(name: &str) -> DiscoInfoResult {
    DiscoInfoResult {
        node: None,
        identities: vec![Identity {
            category: "proxy".into(),
            type_: "bytestreams".into(),
            lang: None,
            name: Some(name.to_owned()),
        }],
        features: [ns::DISCO_INFO, NS]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        extensions: Vec::new(),
    }
}

/// Why a SOCKS5 handshake was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Socks5Error {
    #[error("not SOCKS version 5")]
    Version,
    #[error("the client offers no \"no authentication\" method")]
    NoAcceptableMethod,
    #[error("only CONNECT to a domain name is supported")]
    Unsupported,
    #[error("the address is not a 40-digit SHA-1 hash")]
    BadAddress,
}

/// RFC 1928 §3: the method selection a client opens with. `Ok(None)` while incomplete, else
/// how many bytes it took.
pub fn parse_greeting(buf: &[u8]) -> Result<Option<usize>, Socks5Error> {
    let Some((&version, rest)) = buf.split_first() else {
        return Ok(None);
    };
    if version != 5 {
        return Err(Socks5Error::Version);
    }
    let Some((&count, methods)) = rest.split_first() else {
        return Ok(None);
    };
    let count = usize::from(count);
    if methods.len() < count {
        return Ok(None);
    }
    if !methods[..count].contains(&0) {
        return Err(Socks5Error::NoAcceptableMethod);
    }
    Ok(Some(2 + count))
}

/// The answer to a greeting: "no authentication", or "no acceptable method".
pub fn greeting_reply(accepted: bool) -> [u8; 2] {
    [5, if accepted { 0 } else { 0xff }]
}

/// RFC 1928 §4 with XEP-0065 §5.3.2: `CONNECT` to a domain name that is the hash, port 0.
/// `Ok(None)` while incomplete, else the hash and how many bytes it took.
pub fn parse_connect(buf: &[u8]) -> Result<Option<(String, usize)>, Socks5Error> {
    if buf.len() < 5 {
        return Ok(None);
    }
    if buf[0] != 5 {
        return Err(Socks5Error::Version);
    }
    if buf[1] != 1 || buf[3] != 3 {
        return Err(Socks5Error::Unsupported);
    }
    let len = usize::from(buf[4]);
    let end = 5 + len + 2;
    if buf.len() < end {
        return Ok(None);
    }
    let addr = &buf[5..5 + len];
    let hex = len == 40 && addr.iter().all(|b| b.is_ascii_hexdigit());
    if !hex {
        return Err(Socks5Error::BadAddress);
    }
    let addr = String::from_utf8_lossy(addr).to_ascii_lowercase();
    Ok(Some((addr, end)))
}

/// The answer to a CONNECT: success echoing the hash, or "general failure" (0x01).
pub fn connect_reply(hash: &str, ok: bool) -> Vec<u8> {
    let mut out = vec![5, if ok { 0 } else { 1 }, 0, 3];
    out.push(u8::try_from(hash.len()).unwrap_or(0));
    out.extend_from_slice(hash.as_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use minidom::Element;

    #[test]
    fn the_hash_is_sha1_of_sid_initiator_target() {
        // sha1("abcr@x/at@y/b"), computed independently with sha1sum.
        assert_eq!(
            dst_addr("abc", "r@x/a", "t@y/b"),
            "f8fed5e8f87076731e3871c56cfcf156cb0dec89"
        );
    }

    #[test]
    fn queries_parse_and_serialise() {
        let xml = "<query xmlns='http://jabber.org/protocol/bytestreams' sid='s1'>\
                   <activate>t@y/b</activate></query>";
        let query = Query::try_from(xml.parse::<Element>().unwrap()).unwrap();
        assert_eq!(query.sid.as_deref(), Some("s1"));
        assert_eq!(query.activate.as_deref(), Some("t@y/b"));
        let empty: Element = "<query xmlns='http://jabber.org/protocol/bytestreams'/>"
            .parse()
            .unwrap();
        assert_eq!(Query::try_from(empty).unwrap().activate, None);
        let answer = Query {
            sid: None,
            streamhosts: vec![StreamHost {
                jid: "proxy.x".into(),
                host: "127.0.0.1".into(),
                port: 7777,
            }],
            activate: None,
        };
        assert_eq!(
            String::from(&Element::from(answer)),
            "<query xmlns='http://jabber.org/protocol/bytestreams'>\
             <streamhost host='127.0.0.1' jid='proxy.x' port='7777'/></query>"
        );
    }

    #[test]
    fn greetings_need_no_auth_offered() {
        assert_eq!(parse_greeting(&[5]), Ok(None));
        assert_eq!(parse_greeting(&[5, 2, 2]), Ok(None));
        assert_eq!(parse_greeting(&[5, 2, 2, 0]), Ok(Some(4)));
        assert_eq!(
            parse_greeting(&[5, 1, 2]),
            Err(Socks5Error::NoAcceptableMethod)
        );
        assert_eq!(parse_greeting(&[4, 1, 0]), Err(Socks5Error::Version));
    }

    #[test]
    fn connect_takes_only_a_hash_domain() {
        let hash = dst_addr("s", "a@x/r", "b@x/r");
        let mut request = vec![5, 1, 0, 3, 40];
        request.extend_from_slice(hash.as_bytes());
        assert_eq!(parse_connect(&request), Ok(None));
        request.extend_from_slice(&[0, 0]);
        assert_eq!(parse_connect(&request), Ok(Some((hash.clone(), 47))));
        let mut ipv4 = request.clone();
        ipv4[3] = 1;
        assert_eq!(parse_connect(&ipv4), Err(Socks5Error::Unsupported));
        let mut bind = request.clone();
        bind[1] = 2;
        assert_eq!(parse_connect(&bind), Err(Socks5Error::Unsupported));
        let mut short = vec![5, 1, 0, 3, 3];
        short.extend_from_slice(b"abc\0\0");
        assert_eq!(parse_connect(&short), Err(Socks5Error::BadAddress));
        let reply = connect_reply(&hash, true);
        assert_eq!(&reply[..5], &[5, 0, 0, 3, 40]);
        assert_eq!(reply.len(), 47);
    }
}
