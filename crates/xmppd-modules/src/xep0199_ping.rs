//! XEP-0199: XMPP Ping. A ping to the server (or to an account's bare JID, which the server
//! answers for) gets an empty result.

use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::ping::Ping;

use crate::Error;

/// Parse a ping request payload.
pub fn parse(payload: Element) -> Result<Ping, Error> {
    Ping::try_from(payload).map_err(|e| Error::ParsePayload {
        what: "urn:xmpp:ping ping",
        reason: e.to_string(),
    })
}

/// The answer to a ping IQ: an empty result (§4.2, §4.3). `None` for responses.
pub fn answer(request: &Iq) -> Option<Iq> {
    crate::iq::result(request, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_answers_a_server_ping() {
        let xml = "<iq xmlns='jabber:client' from='juliet@capulet.lit/balcony' to='capulet.lit' \
                   id='c2s1' type='get'><ping xmlns='urn:xmpp:ping'/></iq>";
        let Iq::Get { payload, .. } = Iq::try_from(xml.parse::<Element>().unwrap()).unwrap() else {
            panic!("a get");
        };
        assert_eq!(parse(payload), Ok(Ping));
    }

    #[test]
    fn serialises_the_pong() {
        let request = Iq::from_get("c2s1", Ping)
            .with_from("juliet@capulet.lit/balcony".parse().unwrap())
            .with_to("capulet.lit".parse().unwrap());
        assert_eq!(
            String::from(&Element::from(answer(&request).unwrap())),
            "<iq xmlns='jabber:client' from='capulet.lit' id='c2s1' \
             to='juliet@capulet.lit/balcony' type='result'/>"
        );
    }

    #[test]
    fn refuses_a_ping_in_another_namespace() {
        let bad: Element = "<ping xmlns='urn:xmpp:pong'/>".parse().unwrap();
        assert_eq!(
            parse(bad).unwrap_err().to_string(),
            "malformed urn:xmpp:ping ping payload: \
             expected different XML element (got ping in namespace urn:xmpp:pong)"
        );
    }
}
