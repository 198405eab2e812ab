//! RFC 6120 §8.2.3: IQ semantics. Every `get`/`set` gets exactly one `result` or `error`,
//! addressed back to the requester with the same id; responses are never answered.

use minidom::Element;
use xmpp_parsers::iq::Iq;

/// The `result` for a request, with an optional payload. `None` if `request` is a response.
pub fn result(request: &Iq, payload: Option<Element>) -> Option<Iq> {
    match request {
        Iq::Get { from, to, id, .. } | Iq::Set { from, to, id, .. } => Some(Iq::Result {
            from: to.clone(),
            to: from.clone(),
            id: id.clone(),
            payload,
        }),
        Iq::Result { .. } | Iq::Error { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_swaps_addresses_and_keeps_id() {
        let request: Element = "<iq xmlns='jabber:client' type='get' id='p' from='a@b/c' to='b'>\
                                <ping xmlns='urn:xmpp:ping'/></iq>"
            .parse()
            .unwrap();
        let reply = result(&Iq::try_from(request).unwrap(), None).unwrap();
        assert_eq!(
            String::from(&Element::from(reply)),
            "<iq xmlns='jabber:client' from='b' id='p' to='a@b/c' type='result'/>"
        );
    }

    #[test]
    fn responses_get_no_result() {
        let response: Element = "<iq xmlns='jabber:client' type='result' id='p'/>"
            .parse()
            .unwrap();
        assert_eq!(result(&Iq::try_from(response).unwrap(), None), None);
    }

    #[test]
    fn an_iq_without_id_does_not_parse() {
        let bad: Element = "<iq xmlns='jabber:client' type='get'><x xmlns='y'/></iq>"
            .parse()
            .unwrap();
        assert_eq!(
            Iq::try_from(bad).unwrap_err().to_string(),
            "Required attribute field 'id' on Iq::Get element missing."
        );
    }
}
