//! XEP-0033 multicast: a message from a local account to the server with an `<addresses/>`
//! block is copied to each recipient the rules in `xmppd-modules` name, then routed as usual.

use super::{Address, route, set_address};
use crate::server::Server;
use jid::Jid;
use minidom::Element;
use std::sync::Arc;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};
use xmppd_modules::xep0033_addresses::{self, NS};

/// Does this stanza ask the server to multicast it?
pub fn is_multicast(stanza: &Element) -> bool {
    stanza.is("message", xmpp_parsers::ns::DEFAULT_NS)
        && stanza.get_child("addresses", NS).is_some()
}

/// Delivers one copy per address, or bounces the whole message.
pub async fn multicast(server: &Arc<Server>, stanza: Element) {
    // Only our own accounts may use the service: it must not relay for strangers.
    let sender = stanza.attr("from").and_then(|f| Jid::new(f).ok());
    if sender.is_none_or(|s| server.local_user(&s.to_bare()).is_none()) {
        super::deliver::bounce(
            server,
            &stanza,
            ErrorType::Auth,
            DefinedCondition::Forbidden,
        )
        .await;
        return;
    }
    let copies = xep0033_addresses::parse(&stanza)
        .and_then(|a| xep0033_addresses::fan_out(a, |jid| server.serves(jid.domain().as_str())));
    let copies = match copies {
        Ok(copies) => copies,
        Err(err) => {
            let (type_, condition) = err.condition();
            super::deliver::bounce(server, &stanza, type_, condition).await;
            return;
        }
    };
    for copy in copies {
        let mut message = stanza.clone();
        message.remove_child("addresses", NS);
        message.append_child(copy.addresses.into());
        set_address(&mut message, Address::To, Some(&copy.to.to_string()));
        route(server, message).await;
    }
}
