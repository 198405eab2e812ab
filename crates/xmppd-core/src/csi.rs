//! What a session holds back while its client is inactive (XEP-0352): presence updates wait;
//! a message releases them first, in order, then goes out; everything else passes.

use bytes::Bytes;

/// Presence stanzas held at most; more release the whole batch (memory stays bounded).
const HELD_MAX: usize = 256;

/// One session's client state and held stanzas.
#[derive(Debug, Default)]
pub struct Csi {
    inactive: bool,
    held: Vec<Bytes>,
}

impl Csi {
    /// The client went inactive.
    pub fn inactive(&mut self) {
        self.inactive = true;
    }

    /// The client is active again: everything held, to write now.
    pub fn active(&mut self) -> Vec<Bytes> {
        self.inactive = false;
        std::mem::take(&mut self.held)
    }

    /// One serialised stanza on its way out: what to write now, in order.
    pub fn outgoing(&mut self, stanza: Bytes) -> Vec<Bytes> {
        if !self.inactive {
            return vec![stanza];
        }
        if stanza.starts_with(b"<presence") && self.held.len() < HELD_MAX {
            self.held.push(stanza);
            return Vec::new();
        }
        if stanza.starts_with(b"<message") || stanza.starts_with(b"<presence") {
            let mut out = std::mem::take(&mut self.held);
            out.push(stanza);
            return out;
        }
        vec![stanza]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    #[test]
    fn active_sessions_get_everything_at_once() {
        let mut csi = Csi::default();
        assert_eq!(csi.outgoing(b("<presence/>")), [b("<presence/>")]);
    }

    #[test]
    fn inactive_holds_presence_until_a_message_or_active() {
        let mut csi = Csi::default();
        csi.inactive();
        assert!(csi.outgoing(b("<presence from='a'/>")).is_empty());
        assert_eq!(
            csi.outgoing(b("<iq type='result'/>")),
            [b("<iq type='result'/>")]
        );
        assert_eq!(
            csi.outgoing(b("<message><body>x</body></message>")),
            [
                b("<presence from='a'/>"),
                b("<message><body>x</body></message>")
            ]
        );
        assert!(csi.outgoing(b("<presence from='b'/>")).is_empty());
        assert_eq!(csi.active(), [b("<presence from='b'/>")]);
        assert_eq!(
            csi.outgoing(b("<presence from='c'/>")),
            [b("<presence from='c'/>")]
        );
    }

    #[test]
    fn held_presence_is_bounded() {
        let mut csi = Csi::default();
        csi.inactive();
        for _ in 0..HELD_MAX {
            assert!(csi.outgoing(b("<presence/>")).is_empty());
        }
        assert_eq!(csi.outgoing(b("<presence/>")).len(), HELD_MAX + 1);
    }
}
