//! Resource binding (RFC 6120 §7) and the legacy session request (RFC 3921 §3, which
//! RFC 6121 appendix E keeps as an optional no-op), plus what flows after binding.

use minidom::Element;
use xmpp_parsers::bind::{BindQuery, BindResponse};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::stanza_error::{DefinedCondition as StanzaCondition, ErrorType, StanzaError};

use super::{Action, BindRefusal, BindRequest, C2s, CallerStep, Stage, Waiting};
use crate::ns;
use crate::stream_error::{DefinedCondition, StreamError};

/// The id of an `<iq type='set'>` whose payload is `{payload_ns}payload_name`.
fn iq_set_with<'a>(el: &'a Element, payload_name: &str, payload_ns: &str) -> Option<&'a str> {
    let is_set = el.is("iq", ns::JABBER_CLIENT) && el.attr("type") == Some("set");
    if is_set && el.has_child(payload_name, payload_ns) {
        el.attr("id")
    } else {
        None
    }
}

fn iq_error(id: &str, condition: StanzaCondition, type_: ErrorType) -> Element {
    let error = StanzaError {
        type_,
        by: None,
        defined_condition: condition,
        texts: Default::default(),
        other: None,
    };
    Iq::from_error(id, error).into()
}

impl C2s {
    pub(super) fn on_authenticated_element(&mut self, el: Element, out: &mut Vec<Action>) {
        if let Some(id) = iq_set_with(&el, "bind", ns::BIND) {
            let id = id.to_owned();
            return self.on_bind(&el, id, out);
        }
        if el.ns() == ns::JABBER_CLIENT {
            // RFC 6120 §7.2: nothing is routed before a resource is bound.
            self.fail(StreamError::new(DefinedCondition::NotAuthorized), out);
        } else {
            out.push(Action::Nonza(el));
        }
    }

    fn on_bind(&mut self, el: &Element, id: String, out: &mut Vec<Action>) {
        let query = el
            .get_child("bind", ns::BIND)
            .cloned()
            .and_then(|b| BindQuery::try_from(b).ok());
        let Some(query) = query else {
            let reply = iq_error(&id, StanzaCondition::BadRequest, ErrorType::Modify);
            return self.send(reply, out);
        };
        let resource = match query.resource.as_deref().map(jid::ResourcePart::new) {
            None => None,
            Some(Ok(r)) => Some(r.as_str().to_owned()),
            Some(Err(_)) => {
                let reply = iq_error(&id, StanzaCondition::BadRequest, ErrorType::Modify);
                return self.send(reply, out);
            }
        };
        self.waiting = Waiting::Caller(CallerStep::Bind);
        out.push(Action::BindRequested(BindRequest {
            resource,
            iq_id: id,
        }));
    }

    /// The caller's answer to [`Action::BindRequested`].
    pub fn bind_result(
        &mut self,
        request: BindRequest,
        result: Result<jid::FullJid, BindRefusal>,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        if !self.awaits(CallerStep::Bind) {
            return out;
        }
        self.waiting = Waiting::Element;
        match result {
            Ok(jid) => {
                let reply = Iq::from_result(request.iq_id, Some(BindResponse { jid: jid.clone() }));
                self.send(reply.into(), &mut out);
                self.stage = Stage::Bound;
                out.push(Action::Bound(jid));
            }
            Err(refusal) => {
                let (condition, type_) = match refusal {
                    BindRefusal::Conflict => (StanzaCondition::Conflict, ErrorType::Cancel),
                    BindRefusal::NotAllowed => (StanzaCondition::NotAllowed, ErrorType::Cancel),
                    BindRefusal::ResourceConstraint => {
                        (StanzaCondition::ResourceConstraint, ErrorType::Wait)
                    }
                };
                self.send(iq_error(&request.iq_id, condition, type_), &mut out);
            }
        }
        self.resume(&mut out);
        out
    }

    pub(super) fn on_bound_element(&mut self, el: Element, out: &mut Vec<Action>) {
        if let Some(id) = iq_set_with(&el, "session", ns::SESSION) {
            // Nothing to establish any more; old clients still ask.
            let reply = Iq::Result {
                from: None,
                to: None,
                id: id.to_owned(),
                payload: None,
            };
            return self.send(reply.into(), out);
        }
        if let Some(id) = iq_set_with(&el, "bind", ns::BIND) {
            // One resource per stream.
            let reply = iq_error(id, StanzaCondition::NotAllowed, ErrorType::Cancel);
            return self.send(reply, out);
        }
        if el.ns() == ns::JABBER_CLIENT {
            out.push(Action::Stanza(el));
        } else {
            out.push(Action::Nonza(el));
        }
    }
}
