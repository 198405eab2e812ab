//! The shared server state every session task holds an `Arc` of: config, storage, router,
//! service discovery. Shared once, never copied per session.

use crate::router::Router;
use chrono::{DateTime, Utc};
use jid::{BareJid, Jid};
use std::collections::BTreeSet;
use xmppd_config::{Config, Module};

fn module_enabled(config: &Config, module: Module) -> bool {
    config.modules.is_empty() || config.modules.contains(&module)
}
use xmppd_modules::xep0030_disco::Registry;
use xmppd_storage::{Storage, User};

/// Features of the server in disco#info, each with the module that provides it (`None`: always).
const SERVER_FEATURES: &[(Option<Module>, &str)] = &[
    (None, "jabber:iq:roster"),
    (
        Some(Module::RosterVersioning),
        "urn:xmpp:features:rosterver",
    ),
    (Some(Module::Ping), "urn:xmpp:ping"),
    (Some(Module::Version), "jabber:iq:version"),
    (Some(Module::Time), "urn:xmpp:time"),
    (Some(Module::Uptime), "jabber:iq:last"),
    (Some(Module::Private), "jabber:iq:private"),
    (Some(Module::Vcard), "vcard-temp"),
    (Some(Module::Offline), "msgoffline"),
    (Some(Module::Carbons), "urn:xmpp:carbons:2"),
    (None, "urn:xmpp:delay"),
];

/// Features announced for every account's bare JID.
const ACCOUNT_FEATURES: &[(Option<Module>, &str)] = &[
    (Some(Module::Vcard), "vcard-temp"),
    (Some(Module::Uptime), "jabber:iq:last"),
    (Some(Module::Push), "urn:xmpp:push:0"),
];

/// Everything sessions share.
#[derive(Debug)]
pub struct Server {
    pub config: Config,
    pub storage: Storage,
    pub router: Router,
    pub disco: Registry,
    pub started: DateTime<Utc>,
    /// XEP-0198 sessions that may be resumed.
    pub sm: crate::sm::Registry,
    /// XEP-0357 notifications sent lately, per registration.
    pub push: crate::im::PushThrottle,
    hosts: BTreeSet<String>,
}

impl Server {
    pub fn new(config: Config, storage: Storage) -> Self {
        let hosts = config
            .vhosts
            .iter()
            .map(|v| v.domain.to_ascii_lowercase())
            .collect();
        let enabled = |m: &Option<Module>| m.is_none_or(|m| module_enabled(&config, m));
        let mut disco = Registry::new("xmppd");
        for (_, feature) in SERVER_FEATURES.iter().filter(|(m, _)| enabled(m)) {
            disco.add_server_feature(feature);
        }
        if config.vhosts.iter().any(|v| v.registration.in_band) {
            disco.add_server_feature("jabber:iq:register");
        }
        for (_, feature) in ACCOUNT_FEATURES.iter().filter(|(m, _)| enabled(m)) {
            disco.add_account_feature(feature);
        }
        Self {
            config,
            storage,
            router: Router::new(),
            disco,
            started: Utc::now(),
            sm: Default::default(),
            push: Default::default(),
            hosts,
        }
    }

    /// Is `domain` one of our virtual hosts?
    pub fn serves(&self, domain: &str) -> bool {
        self.hosts.contains(&domain.to_ascii_lowercase())
    }

    /// The virtual host of `domain`, if we serve it.
    pub fn vhost(&self, domain: &str) -> Option<&xmppd_config::VirtualHost> {
        self.config
            .vhosts
            .iter()
            .find(|v| v.domain.eq_ignore_ascii_case(domain))
    }

    /// The local account a bare JID names, if its domain is ours.
    pub fn local_user<'a>(&self, bare: &'a BareJid) -> Option<User<'a>> {
        let node = bare.node()?;
        self.serves(bare.domain().as_str())
            .then(|| User::new(node.as_str(), bare.domain().as_str()))
    }

    /// Is this optional feature switched on? An empty module list means every module.
    pub fn enabled(&self, module: Module) -> bool {
        module_enabled(&self.config, module)
    }

    /// XEP-0115 `<c/>` for our stream features and presence.
    pub fn caps(&self) -> Option<minidom::Element> {
        self.disco.caps().ok().map(Into::into)
    }

    /// Is `jid` an admin of this server?
    pub fn is_admin(&self, jid: &Jid) -> bool {
        let bare = jid.to_bare();
        self.config.admins.iter().any(|a| a == bare.as_str())
    }
}
