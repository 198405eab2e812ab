//! Delivering a room's fan-outs: each stanza is serialised once, and each recipient's copy is
//! that serialisation with its own address in `to` (a MUC message to 100 occupants costs one
//! serialisation and 100 copies of bytes, not 100 serialisations).

use std::sync::{Arc, OnceLock};

use bytes::{Bytes, BytesMut};
use jid::Jid;
use minidom::Element;
use xmppd_modules::muc::Fanout;

use crate::im::{Address, route, serialise, set_address};
use crate::server::Server;

/// A `to` value no stanza can contain by chance: unguessable, so a nick cannot forge it.
fn placeholder() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        let mut bytes = [0u8; 12];
        // Without randomness a fixed token still works; it is only less unguessable.
        let _ = getrandom::fill(&mut bytes);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("muc-to-{hex}")
    })
}

/// A stanza serialised once, split around its `to` value.
#[derive(Debug)]
pub struct Template {
    head: Bytes,
    tail: Bytes,
}

impl Template {
    pub fn new(stanza: &Element) -> Option<Self> {
        let mut stanza = stanza.clone();
        set_address(&mut stanza, Address::To, Some(placeholder()));
        let bytes = serialise(&stanza)?;
        let marker = placeholder().as_bytes();
        let at = bytes.windows(marker.len()).position(|w| w == marker)?;
        Some(Self {
            head: bytes.slice(..at),
            tail: bytes.slice(at + marker.len()..),
        })
    }

    /// The copy addressed to `to`.
    pub fn addressed(&self, to: &Jid) -> Bytes {
        let escaped = escape(to.as_str());
        let mut out = BytesMut::with_capacity(self.head.len() + escaped.len() + self.tail.len());
        out.extend_from_slice(&self.head);
        out.extend_from_slice(escaped.as_bytes());
        out.extend_from_slice(&self.tail);
        out.freeze()
    }
}

/// Attribute-value escaping as rxml's encoder writes it (resourceparts may hold `<&'"`), so
/// a spliced copy is byte for byte what serialising the addressed stanza gives.
fn escape(value: &str) -> std::borrow::Cow<'_, str> {
    if !value.contains(['&', '<', '>', '\'', '"']) {
        return value.into();
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("&#34;"),
            c => out.push(c),
        }
    }
    out.into()
}

/// Sends every fan-out: to local sessions straight into their outboxes, anything else (bare
/// JIDs of invitees, other domains) through normal routing.
pub async fn deliver(server: &Arc<Server>, fanouts: Vec<Fanout>) {
    for fanout in fanouts {
        let Some(template) = Template::new(&fanout.stanza) else {
            continue;
        };
        for to in &fanout.to {
            match to
                .try_as_full()
                .ok()
                .and_then(|full| server.router.session(full))
            {
                Some(session) => {
                    session.send(template.addressed(to));
                }
                None => {
                    let mut stanza = fanout.stanza.clone();
                    set_address(&mut stanza, Address::To, Some(to.as_str()));
                    route(server, stanza).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spliced_copies_equal_typed_serialisation() {
        let stanza: Element = "<message xmlns='jabber:client' from='r@c.test/A &amp; B' \
             type='groupchat'><body>to=&apos;x&apos; &lt;hi&gt;</body></message>"
            .parse()
            .unwrap();
        let template = Template::new(&stanza).unwrap();
        for to in ["bob@x.test/phone", "oneil@x.test/<&\"'>"] {
            let to = Jid::new(to).unwrap();
            let mut expected = stanza.clone();
            set_address(&mut expected, Address::To, Some(to.as_str()));
            assert_eq!(template.addressed(&to), serialise(&expected).unwrap());
        }
    }
}
