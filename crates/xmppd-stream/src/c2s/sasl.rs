//! The SASL part of c2s negotiation (RFC 6120 §6.4): `<auth/>`, `<challenge/>`,
//! `<response/>`, `<success/>`, `<failure/>`, `<abort/>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use minidom::Element;
use xmpp_parsers::sasl::{Challenge, Failure, Success};

use super::{
    Action, C2s, CallerStep, CredentialsRequest, LookupFailed, PlainRequest, Stage, Waiting,
};
use crate::sasl::credentials::ScramCredentials;
use crate::sasl::mechanisms::Mechanism;
use crate::sasl::scram::{ScramAwaitingFinal, ScramServer};
use crate::sasl::{SaslError, plain};
use crate::stream_error::{DefinedCondition, StreamError};

/// Decode the base64 text of `<auth/>` or `<response/>`; `=` is an empty response
/// (RFC 6120 §6.4.2).
fn payload(el: &Element) -> Result<Vec<u8>, SaslError> {
    let text: String = el
        .text()
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if text == "=" {
        return Ok(Vec::new());
    }
    STANDARD.decode(text).map_err(|_| SaslError::DecodeBase64)
}

fn normalise_username(name: &str) -> Option<String> {
    jid::NodePart::new(name).ok().map(|n| n.as_str().to_owned())
}

impl C2s {
    pub(super) fn on_auth(&mut self, el: &Element, out: &mut Vec<Action>) {
        if self.stage >= Stage::Authenticated {
            // RFC 6120 §6.4.1: no second authentication on a stream.
            self.fail(StreamError::new(DefinedCondition::PolicyViolation), out);
            return;
        }
        if self.tls_required_first() {
            self.sasl_failure(SaslError::EncryptionRequired, out);
            return;
        }
        let name = el.attr("mechanism").unwrap_or_default();
        let offered = self.offer().mechanisms();
        let Some(mechanism) = Mechanism::from_name(name).filter(|m| offered.contains(m)) else {
            self.sasl_failure(SaslError::SelectMechanism(name.to_owned()), out);
            return;
        };
        if el.text().is_empty() {
            // No initial response: ask for it with an empty challenge.
            self.waiting = Waiting::InitialResponse(mechanism);
            self.send(Challenge { data: Vec::new() }.into(), out);
            return;
        }
        match payload(el) {
            Ok(data) => self.start(mechanism, &data, out),
            Err(e) => self.sasl_failure(e, out),
        }
    }

    pub(super) fn on_initial_response(
        &mut self,
        mechanism: Mechanism,
        el: &Element,
        out: &mut Vec<Action>,
    ) {
        match response(el) {
            Ok(data) => self.start(mechanism, &data, out),
            Err(e) => self.sasl_failure(e, out),
        }
    }

    pub(super) fn on_scram_final(
        &mut self,
        exchange: ScramAwaitingFinal,
        el: &Element,
        out: &mut Vec<Action>,
    ) {
        let verdict = response(el).and_then(|data| exchange.client_final(&data));
        match verdict {
            Ok(ok) => self.succeed(ok.username, ok.server_final, out),
            Err(e) => self.sasl_failure(e, out),
        }
    }

    fn start(&mut self, mechanism: Mechanism, data: &[u8], out: &mut Vec<Action>) {
        match mechanism {
            Mechanism::Plain => match plain::parse(data) {
                Err(e) => self.sasl_failure(e, out),
                Ok(msg) => {
                    let Some(username) = normalise_username(&msg.authcid) else {
                        self.sasl_failure(SaslError::Verify, out);
                        return;
                    };
                    if !self.authzid_ok(msg.authzid.as_deref(), &username) {
                        self.sasl_failure(SaslError::Authzid, out);
                        return;
                    }
                    self.waiting = Waiting::Caller(CallerStep::Plain);
                    out.push(Action::VerifyPlain(PlainRequest {
                        username,
                        password: msg.password,
                    }));
                }
            },
            Mechanism::Scram(m) => {
                let binding = self.offer().binding_for_scram();
                let need = match ScramServer::new(m, binding).client_first(data) {
                    Ok(need) => need,
                    Err(e) => return self.sasl_failure(e, out),
                };
                let Some(username) = normalise_username(&need.username) else {
                    // Not a possible account: answer like for an unknown user.
                    let (exchange, server_first) =
                        need.with_credentials(None, &self.config.unknown_user);
                    return self.challenge(exchange, server_first, out);
                };
                if !self.authzid_ok(need.authzid.as_deref(), &username) {
                    self.sasl_failure(SaslError::Authzid, out);
                    return;
                }
                self.waiting = Waiting::Caller(CallerStep::Credentials);
                out.push(Action::LookupCredentials(CredentialsRequest {
                    username,
                    mechanism: m,
                    exchange: need,
                }));
            }
        }
    }

    /// We only let users act as themselves: an authzid must be their own bare JID.
    fn authzid_ok(&self, authzid: Option<&str>, username: &str) -> bool {
        let Some(authzid) = authzid else { return true };
        let Some(host) = self.host.as_deref() else {
            return false;
        };
        jid::BareJid::new(authzid).ok().is_some_and(|j| {
            j.node().map(|n| n.as_str()) == Some(username) && j.domain().as_str() == host
        })
    }

    fn challenge(
        &mut self,
        exchange: ScramAwaitingFinal,
        server_first: Vec<u8>,
        out: &mut Vec<Action>,
    ) {
        self.waiting = Waiting::ScramFinal(Box::new(exchange));
        self.send(Challenge { data: server_first }.into(), out);
    }

    /// The caller's answer to [`Action::LookupCredentials`].
    pub fn credentials(
        &mut self,
        request: CredentialsRequest,
        found: Result<Option<ScramCredentials>, LookupFailed>,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        if !self.awaits(CallerStep::Credentials) {
            return out;
        }
        self.waiting = Waiting::Element;
        match found {
            Ok(found) => {
                let (exchange, server_first) = request
                    .exchange
                    .with_credentials(found, &self.config.unknown_user);
                self.challenge(exchange, server_first, &mut out);
            }
            Err(LookupFailed) => self.sasl_failure(SaslError::Lookup, &mut out),
        }
        self.resume(&mut out);
        out
    }

    /// The caller's answer to [`Action::VerifyPlain`]: whether the password was right.
    pub fn plain_verified(
        &mut self,
        request: PlainRequest,
        verdict: Result<bool, LookupFailed>,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        if !self.awaits(CallerStep::Plain) {
            return out;
        }
        self.waiting = Waiting::Element;
        match verdict {
            Ok(true) => self.succeed(request.username, Vec::new(), &mut out),
            Ok(false) => self.sasl_failure(SaslError::Verify, &mut out),
            Err(LookupFailed) => self.sasl_failure(SaslError::Lookup, &mut out),
        }
        self.resume(&mut out);
        out
    }

    fn succeed(&mut self, username: String, additional: Vec<u8>, out: &mut Vec<Action>) {
        self.send(Success { data: additional }.into(), out);
        self.stage = Stage::Authenticated;
        self.username = Some(username.clone());
        out.push(Action::Authenticated { username });
        // RFC 6120 §6.4.6: the client restarts the stream.
        self.restart();
    }

    /// Send `<failure/>`; too many of them close the stream.
    pub(super) fn sasl_failure(&mut self, error: SaslError, out: &mut Vec<Action>) {
        self.waiting = Waiting::Element;
        let failure = Failure {
            defined_condition: error.condition(),
            texts: Default::default(),
        };
        self.send(failure.into(), out);
        self.auth_failures += 1;
        if self.auth_failures >= self.config.max_auth_failures {
            let e = StreamError::new(DefinedCondition::PolicyViolation)
                .with_text("too many failed authentication attempts");
            self.fail(e, out);
        }
    }
}

/// A `<response/>` payload (anything else during an exchange is malformed).
fn response(el: &Element) -> Result<Vec<u8>, SaslError> {
    if el.is("abort", crate::ns::SASL) {
        return Err(SaslError::Aborted);
    }
    if !el.is("response", crate::ns::SASL) {
        return Err(crate::sasl::parse_error("SASL", "expected <response/>"));
    }
    if el.text().is_empty() {
        return Ok(Vec::new());
    }
    payload(el)
}
