//! XEP-0198 Stream Management without IO: the nonzas, the handled counters (which wrap at
//! 2^32, §4) and the queue of stanzas the peer has not acknowledged yet.

use std::collections::VecDeque;

use minidom::Element;
use xmpp_parsers::sm::{self, A, Enabled, Failed, R, Resume, Resumed, StreamId};
use xmpp_parsers::stanza_error::DefinedCondition;

/// The stream management namespace.
pub const NS: &str = xmpp_parsers::ns::SM;

/// A stream management request from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `<enable/>`: start counting; `resume` asks for a resumable session.
    Enable {
        /// Whether the client wants to resume later.
        resume: bool,
        /// The client's preferred resumption timeout in seconds.
        max: Option<u32>,
    },
    /// `<r/>`: the client wants our handled count.
    Request,
    /// `<a h=…/>`: the client handled this many of our stanzas.
    Ack(u32),
    /// `<resume previd=… h=…/>`: take over a detached session.
    Resume {
        /// The id from `<enabled/>`.
        previd: String,
        /// How many of our stanzas the client handled.
        h: u32,
    },
}

/// Why an element in the stream management namespace was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmError {
    /// Malformed or not something a client sends (`<enabled/>`, `<failed/>`...).
    #[error("stream management: unexpected or malformed <{0}/>")]
    Unexpected(String),
    /// The client acknowledged more stanzas than we sent (§4).
    #[error("stream management: {h} acknowledged, but only {sent} sent")]
    HandledTooHigh {
        /// What the client claimed.
        h: u32,
        /// What we sent.
        sent: u32,
    },
}

/// The request in `el`; `None` when it is not in the stream management namespace.
pub fn parse(el: &Element) -> Option<Result<Request, SmError>> {
    if el.ns() != NS {
        return None;
    }
    let unexpected = || SmError::Unexpected(el.name().to_owned());
    let request = match sm::Nonza::try_from(el.clone()) {
        Ok(sm::Nonza::Enable(e)) => Ok(Request::Enable {
            resume: e.resume,
            max: e.max,
        }),
        Ok(sm::Nonza::Req(R)) => Ok(Request::Request),
        Ok(sm::Nonza::Ack(A { h })) => Ok(Request::Ack(h)),
        Ok(sm::Nonza::Resume(Resume { h, previd })) => Ok(Request::Resume {
            previd: previd.0,
            h,
        }),
        Ok(_) | Err(_) => Err(unexpected()),
    };
    Some(request)
}

/// The stream feature `<sm xmlns='urn:xmpp:sm:3'/>`.
pub fn feature() -> Element {
    sm::StreamManagement { optional: false }.into()
}

/// `<enabled/>`, with an id and the timeout when the session may be resumed.
pub fn enabled(resume: Option<(&str, u32)>) -> Element {
    Enabled {
        id: resume.map(|(id, _)| StreamId(id.to_owned())),
        location: None,
        max: resume.map(|(_, max)| max),
        resume: resume.is_some(),
    }
    .into()
}

/// `<resumed previd=… h=…/>`.
pub fn resumed(previd: &str, h: u32) -> Element {
    Resumed {
        h,
        previd: StreamId(previd.to_owned()),
    }
    .into()
}

/// `<failed/>` with a stanza error condition (and our count, when we know it).
pub fn failed(condition: DefinedCondition, h: Option<u32>) -> Element {
    Failed {
        h,
        error: Some(condition),
    }
    .into()
}

/// `<a h=…/>`.
pub fn ack(h: u32) -> Element {
    A::new(h).into()
}

/// `<r/>`.
pub fn request() -> Element {
    R.into()
}

/// Stanzas received from the peer and handled (the `h` we report).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Inbound {
    handled: u32,
}

impl Inbound {
    /// One more stanza handled.
    pub fn handled_one(&mut self) {
        self.handled = self.handled.wrapping_add(1);
    }

    /// The count to report in `<a/>` and `<resumed/>`.
    pub fn h(&self) -> u32 {
        self.handled
    }
}

/// Stanzas sent to the peer, and the ones it has not acknowledged yet, oldest first.
#[derive(Debug, Clone)]
pub struct Outbound<T> {
    sent: u32,
    unacked: VecDeque<T>,
}

impl<T> Default for Outbound<T> {
    fn default() -> Self {
        Self {
            sent: 0,
            unacked: VecDeque::new(),
        }
    }
}

impl<T> Outbound<T> {
    /// A stanza went out.
    pub fn sent(&mut self, stanza: T) {
        self.sent = self.sent.wrapping_add(1);
        self.unacked.push_back(stanza);
    }

    /// Stanzas sent so far (mod 2^32).
    pub fn sent_count(&self) -> u32 {
        self.sent
    }

    /// How many stanzas wait for an acknowledgement.
    pub fn unacked_len(&self) -> usize {
        self.unacked.len()
    }

    /// The client handled `h` stanzas in all: forget those. A count below what was already
    /// acknowledged is stale and changes nothing; one above what was sent is an error.
    pub fn ack(&mut self, h: u32) -> Result<(), SmError> {
        // The queue holds the last `len` stanzas sent: everything before was acknowledged.
        let len = u32::try_from(self.unacked.len()).unwrap_or(u32::MAX);
        let acked = self.sent.wrapping_sub(len);
        let newly = h.wrapping_sub(acked);
        if newly > len {
            // Either beyond what we sent, or an old count from before the last ack (which
            // wraps to a huge number); only the first is an error.
            if self.sent.wrapping_sub(h) <= u32::MAX / 2 {
                return Ok(());
            }
            return Err(SmError::HandledTooHigh { h, sent: self.sent });
        }
        self.unacked.drain(..newly as usize);
        Ok(())
    }

    /// On resumption with the client's `h`: what it never got, to send again (and count
    /// again: the caller passes each to [`Outbound::sent`] as it writes it).
    pub fn resume(&mut self, h: u32) -> Result<Vec<T>, SmError> {
        self.ack(h)?;
        self.sent = h;
        Ok(self.unacked.drain(..).collect())
    }

    /// Everything not acknowledged, when the session ends: delivery failed for these.
    pub fn into_unacked(self) -> Vec<T> {
        self.unacked.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(xml: &str) -> Element {
        xml.parse().unwrap()
    }

    #[test]
    fn parses_client_requests() {
        let enable = el("<enable xmlns='urn:xmpp:sm:3' resume='true' max='60'/>");
        assert_eq!(
            parse(&enable),
            Some(Ok(Request::Enable {
                resume: true,
                max: Some(60)
            }))
        );
        assert_eq!(
            parse(&el("<r xmlns='urn:xmpp:sm:3'/>")),
            Some(Ok(Request::Request))
        );
        assert_eq!(
            parse(&el("<a xmlns='urn:xmpp:sm:3' h='4294967295'/>")),
            Some(Ok(Request::Ack(u32::MAX)))
        );
        assert_eq!(
            parse(&el("<resume xmlns='urn:xmpp:sm:3' previd='x1' h='3'/>")),
            Some(Ok(Request::Resume {
                previd: "x1".into(),
                h: 3
            }))
        );
        assert_eq!(parse(&el("<inactive xmlns='urn:xmpp:csi:0'/>")), None);
    }

    #[test]
    fn refuses_bad_input_with_the_element_name() {
        assert_eq!(
            parse(&el("<a xmlns='urn:xmpp:sm:3' h='-1'/>")),
            Some(Err(SmError::Unexpected("a".into())))
        );
        assert_eq!(
            parse(&el("<enabled xmlns='urn:xmpp:sm:3'/>")),
            Some(Err(SmError::Unexpected("enabled".into())))
        );
        assert_eq!(
            parse(&el("<bogus xmlns='urn:xmpp:sm:3'/>")),
            Some(Err(SmError::Unexpected("bogus".into())))
        );
    }

    #[test]
    fn serialises_answers() {
        let enabled = enabled(Some(("abc", 300)));
        assert_eq!(enabled.attr("id"), Some("abc"));
        assert_eq!(enabled.attr("max"), Some("300"));
        assert_eq!(enabled.attr("resume"), Some("true"));
        assert_eq!(super::enabled(None).attr("id"), None);
        assert_eq!(ack(7).attr("h"), Some("7"));
        let r = resumed("abc", 2);
        assert!(r.is("resumed", NS));
        assert_eq!(r.attr("previd"), Some("abc"));
        let f = failed(DefinedCondition::ItemNotFound, None);
        assert!(f.has_child("item-not-found", xmpp_parsers::ns::XMPP_STANZAS));
        assert!(feature().is("sm", NS));
    }

    #[test]
    fn acks_remove_the_oldest_stanzas() {
        let mut out = Outbound::default();
        for i in 0..5 {
            out.sent(i);
        }
        out.ack(2).unwrap();
        assert_eq!(out.unacked_len(), 3);
        // A stale (lower) count changes nothing.
        out.ack(1).unwrap();
        assert_eq!(out.unacked_len(), 3);
        assert_eq!(out.ack(6), Err(SmError::HandledTooHigh { h: 6, sent: 5 }));
        assert_eq!(out.resume(3).unwrap(), vec![3, 4]);
        assert_eq!(out.sent_count(), 3);
        assert_eq!(out.unacked_len(), 0);
    }

    #[test]
    fn counters_wrap_at_two_to_the_32() {
        let mut inbound = Inbound {
            handled: u32::MAX - 1,
        };
        inbound.handled_one();
        inbound.handled_one();
        assert_eq!(inbound.h(), 0);

        let mut out = Outbound {
            sent: u32::MAX - 1,
            unacked: VecDeque::new(),
        };
        out.sent('a');
        out.sent('b');
        out.sent('c');
        assert_eq!(out.sent_count(), 1);
        out.ack(u32::MAX).unwrap();
        assert_eq!(out.unacked_len(), 2);
        out.ack(0).unwrap();
        assert_eq!(out.into_unacked(), vec!['c']);
    }

    #[test]
    fn resume_beyond_what_was_sent_fails() {
        let mut out = Outbound::default();
        out.sent(());
        assert!(out.resume(2).is_err());
    }
}
