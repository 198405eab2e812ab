//! The shared server state every session task holds an `Arc` of: config, storage, router,
//! service discovery. Shared once, never copied per session.

use crate::router::Router;
use chrono::{DateTime, Utc};
use jid::{BareJid, Jid};
use std::collections::BTreeSet;
use xmppd_config::Config;
use xmppd_modules::xep0030_disco::Registry;
use xmppd_storage::{Storage, User};

/// Features this build implements, announced in disco#info of the server.
const SERVER_FEATURES: &[&str] = &[
    "urn:xmpp:ping",
    "jabber:iq:version",
    "urn:xmpp:time",
    "jabber:iq:last",
    "jabber:iq:private",
    "vcard-temp",
    "jabber:iq:roster",
    "urn:xmpp:delay",
    "msgoffline",
    "jabber:iq:register",
];

/// Features announced for every account's bare JID.
const ACCOUNT_FEATURES: &[&str] = &["vcard-temp", "jabber:iq:last"];

/// Everything sessions share.
#[derive(Debug)]
pub struct Server {
    pub config: Config,
    pub storage: Storage,
    pub router: Router,
    pub disco: Registry,
    pub started: DateTime<Utc>,
    hosts: BTreeSet<String>,
}

impl Server {
    pub fn new(config: Config, storage: Storage) -> Self {
        let hosts = config
            .vhosts
            .iter()
            .map(|v| v.domain.to_ascii_lowercase())
            .collect();
        let mut disco = Registry::new("xmppd");
        for feature in SERVER_FEATURES {
            disco.add_server_feature(feature);
        }
        for feature in ACCOUNT_FEATURES {
            disco.add_account_feature(feature);
        }
        Self {
            config,
            storage,
            router: Router::new(),
            disco,
            started: Utc::now(),
            hosts,
        }
    }

    /// Is `domain` one of our virtual hosts?
    pub fn serves(&self, domain: &str) -> bool {
        self.hosts.contains(&domain.to_ascii_lowercase())
    }

    /// The local account a bare JID names, if its domain is ours.
    pub fn local_user<'a>(&self, bare: &'a BareJid) -> Option<User<'a>> {
        let node = bare.node()?;
        self.serves(bare.domain().as_str())
            .then(|| User::new(node.as_str(), bare.domain().as_str()))
    }

    /// Is `jid` an admin of this server?
    pub fn is_admin(&self, jid: &Jid) -> bool {
        let bare = jid.to_bare();
        self.config.admins.iter().any(|a| a == bare.as_str())
    }
}
