//! XEP-0030: Service Discovery (disco#info and disco#items for the server and for accounts),
//! with XEP-0128 extended information forms. The lead fills a [`Registry`] at start.

use std::collections::BTreeSet;

use jid::Jid;
use minidom::Element;
use xmpp_parsers::data_forms::DataForm;
use xmpp_parsers::disco::{DiscoInfoQuery, DiscoInfoResult, DiscoItemsQuery, DiscoItemsResult};
use xmpp_parsers::disco::{Identity, Item};
use xmpp_parsers::ns;

use crate::{Error, xep0012_last, xep0115_caps};

/// XEP-0160 §4: the feature a server with offline storage announces.
pub const FEATURE_OFFLINE: &str = "msgoffline";

/// Server features of the protocols this crate implements (registration is separate: it
/// depends on the policy).
pub const BUILTIN_SERVER_FEATURES: &[&str] = &[
    ns::PING,
    ns::VERSION,
    ns::TIME,
    xep0012_last::NS,
    ns::PRIVATE,
    ns::VCARD,
    FEATURE_OFFLINE,
];

/// What the server and its accounts announce. Built once at start, then read-only.
#[derive(Debug, Clone)]
pub struct Registry {
    server_identities: Vec<Identity>,
    server_features: BTreeSet<String>,
    server_forms: Vec<DataForm>,
    server_items: Vec<Item>,
    account_identities: Vec<Identity>,
    account_features: BTreeSet<String>,
    caps_node: String,
}

impl Registry {
    /// A server with identity `server/im` named `name`, and an account identity
    /// `account/registered` (XEP-0030 §3.1, registrar categories). Both announce disco#info and
    /// disco#items.
    pub fn new(name: &str) -> Self {
        let base: BTreeSet<String> = [ns::DISCO_INFO, ns::DISCO_ITEMS]
            .into_iter()
            .map(str::to_owned)
            .collect();
        Registry {
            server_identities: vec![Identity {
                category: "server".into(),
                type_: "im".into(),
                lang: None,
                name: Some(name.to_owned()),
            }],
            server_features: base.clone(),
            server_forms: Vec::new(),
            server_items: Vec::new(),
            account_identities: vec![Identity {
                category: "account".into(),
                type_: "registered".into(),
                lang: None,
                name: None,
            }],
            account_features: base,
            caps_node: xep0115_caps::NODE.to_owned(),
        }
    }

    /// Announce a server feature (a namespace the server handles).
    pub fn add_server_feature(&mut self, var: &str) -> &mut Self {
        self.server_features.insert(var.to_owned());
        self
    }

    /// Announce [`BUILTIN_SERVER_FEATURES`], plus `jabber:iq:register` when in-band
    /// registration is open.
    pub fn add_builtin_features(&mut self, registration_open: bool) -> &mut Self {
        for var in BUILTIN_SERVER_FEATURES {
            self.add_server_feature(var);
        }
        if registration_open {
            self.add_server_feature(ns::REGISTER);
        }
        self
    }

    /// Announce a feature on every account's bare JID (e.g. PEP, MAM).
    pub fn add_account_feature(&mut self, var: &str) -> &mut Self {
        self.account_features.insert(var.to_owned());
        self
    }

    /// Add an identity to the server (e.g. `pubsub/pep`, `store/file`).
    pub fn add_server_identity(&mut self, identity: Identity) -> &mut Self {
        self.server_identities.push(identity);
        self
    }

    /// Add an identity to every account (e.g. `pubsub/pep` per XEP-0163).
    pub fn add_account_identity(&mut self, identity: Identity) -> &mut Self {
        self.account_identities.push(identity);
        self
    }

    /// Add an XEP-0128 form to the server's info (e.g. XEP-0157 contact addresses).
    pub fn add_server_form(&mut self, form: DataForm) -> &mut Self {
        self.server_forms.push(form);
        self
    }

    /// List a service (MUC, upload, proxy) in the server's disco#items.
    pub fn add_server_item(&mut self, jid: Jid, name: Option<&str>) -> &mut Self {
        self.server_items.push(Item {
            jid,
            node: None,
            name: name.map(str::to_owned),
        });
        self
    }

    /// The server's disco#info. `node` may be absent or our caps node `node#ver` (XEP-0115
    /// §6.2: a client asks for the hashed info by that node); anything else is unknown.
    pub fn server_info(&self, node: Option<&str>) -> Result<DiscoInfoResult, Error> {
        let mut info = DiscoInfoResult {
            node: None,
            identities: self.server_identities.clone(),
            features: self.server_features.clone(),
            extensions: self.server_forms.clone(),
        };
        if let Some(node) = node {
            if node != self.caps_node_ver()? {
                return Err(Error::DiscoUnknownNode(node.to_owned()));
            }
            info.node = Some(node.to_owned());
        }
        Ok(info)
    }

    /// The server's disco#items: the services registered at start. No nodes are served.
    pub fn server_items(&self, node: Option<&str>) -> Result<DiscoItemsResult, Error> {
        if let Some(node) = node {
            return Err(Error::DiscoUnknownNode(node.to_owned()));
        }
        Ok(DiscoItemsResult {
            node: None,
            items: self.server_items.clone(),
            rsm: None,
        })
    }

    /// disco#info of an account's bare JID, answered by the server on its behalf.
    pub fn account_info(&self, node: Option<&str>) -> Result<DiscoInfoResult, Error> {
        if let Some(node) = node {
            return Err(Error::DiscoUnknownNode(node.to_owned()));
        }
        Ok(DiscoInfoResult {
            node: None,
            identities: self.account_identities.clone(),
            features: self.account_features.clone(),
            extensions: Vec::new(),
        })
    }

    /// disco#items of an account's bare JID: `items` are what other modules list there (PEP
    /// nodes, for instance); none by default.
    pub fn account_items(&self, node: Option<&str>, items: Vec<Item>) -> DiscoItemsResult {
        DiscoItemsResult {
            node: node.map(str::to_owned),
            items,
            rsm: None,
        }
    }

    /// `node#ver` of the server's caps (XEP-0115 §4).
    pub fn caps_node_ver(&self) -> Result<String, Error> {
        let ver = xep0115_caps::ver(&self.server_info(None)?)?;
        Ok([self.caps_node.as_str(), ver.as_str()].join("#"))
    }

    /// The `<c/>` for stream features and server presence.
    pub fn caps(&self) -> Result<xmpp_parsers::caps::Caps, Error> {
        xep0115_caps::caps(&self.caps_node, &self.server_info(None)?)
    }
}

/// Parse a disco#info request payload.
pub fn parse_info_query(payload: Element) -> Result<DiscoInfoQuery, Error> {
    DiscoInfoQuery::try_from(payload).map_err(|e| Error::ParsePayload {
        what: "disco#info query",
        reason: e.to_string(),
    })
}

/// Parse a disco#items request payload.
pub fn parse_items_query(payload: Element) -> Result<DiscoItemsQuery, Error> {
    DiscoItemsQuery::try_from(payload).map_err(|e| Error::ParsePayload {
        what: "disco#items query",
        reason: e.to_string(),
    })
}

#[cfg(test)]
#[path = "xep0030_disco_tests.rs"]
mod tests;
