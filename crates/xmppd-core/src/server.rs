//! The shared server state every session task holds an `Arc` of: config, storage, router,
//! service discovery. Shared once, never copied per session.

use crate::router::Router;
use chrono::{DateTime, Utc};
use jid::{BareJid, Jid};
use std::collections::BTreeSet;
use std::sync::{Mutex, RwLock};
use xmppd_config::{Config, Module};
use xmppd_modules::xep0050_adhoc::Sessions;
use xmppd_modules::xep0133_admin::AdminCommand;

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
    (Some(Module::Blocking), "urn:xmpp:blocking"),
    (Some(Module::Privacy), "jabber:iq:privacy"),
    (None, "urn:xmpp:delay"),
    (Some(Module::AdminAdhoc), xmppd_modules::xep0050_adhoc::NS),
    (Some(Module::Search), xmppd_modules::xep0055_search::NS),
    (
        Some(Module::ExtendedAddressing),
        xmppd_modules::xep0033_addresses::NS,
    ),
];

/// Features announced for every account's bare JID.
const ACCOUNT_FEATURES: &[(Option<Module>, &str)] = &[
    (Some(Module::Vcard), "vcard-temp"),
    (Some(Module::Uptime), "jabber:iq:last"),
    (
        Some(Module::Pep),
        "http://jabber.org/protocol/pubsub#access-open",
    ),
    (
        Some(Module::Pep),
        "http://jabber.org/protocol/pubsub#access-presence",
    ),
    (
        Some(Module::Pep),
        "http://jabber.org/protocol/pubsub#access-whitelist",
    ),
    (
        Some(Module::Pep),
        "http://jabber.org/protocol/pubsub#auto-create",
    ),
    (
        Some(Module::Pep),
        "http://jabber.org/protocol/pubsub#config-node",
    ),
    (
        Some(Module::Pep),
        "http://jabber.org/protocol/pubsub#create-nodes",
    ),
    (
        Some(Module::Pep),
        "http://jabber.org/protocol/pubsub#delete-items",
    ),
    (
        Some(Module::Pep),
        "http://jabber.org/protocol/pubsub#delete-nodes",
    ),
    (
        Some(Module::Pep),
        "http://jabber.org/protocol/pubsub#item-ids",
    ),
    (
        Some(Module::Pep),
        "http://jabber.org/protocol/pubsub#last-published",
    ),
    (
        Some(Module::Pep),
        "http://jabber.org/protocol/pubsub#persistent-items",
    ),
    (
        Some(Module::Pep),
        "http://jabber.org/protocol/pubsub#presence-notifications",
    ),
    (
        Some(Module::Pep),
        "http://jabber.org/protocol/pubsub#publish",
    ),
    (
        Some(Module::Pep),
        "http://jabber.org/protocol/pubsub#publish-options",
    ),
    (
        Some(Module::Pep),
        "http://jabber.org/protocol/pubsub#purge-nodes",
    ),
    (
        Some(Module::Pep),
        "http://jabber.org/protocol/pubsub#retract-items",
    ),
    (
        Some(Module::Pep),
        "http://jabber.org/protocol/pubsub#retrieve-default",
    ),
    (
        Some(Module::Pep),
        "http://jabber.org/protocol/pubsub#retrieve-items",
    ),
    (Some(Module::Bookmarks), "urn:xmpp:bookmarks:1#compat"),
    (Some(Module::Pep), "urn:xmpp:pep-vcard-conversion:0"),
    (Some(Module::Mam), "urn:xmpp:mam:2"),
    (Some(Module::Push), "urn:xmpp:push:0"),
];

fn add_item(disco: &mut Registry, domain: &str, name: &str) {
    if let Ok(jid) = Jid::new(domain) {
        disco.add_server_item(jid, Some(name));
    }
}

/// Everything sessions share.
#[derive(Debug)]
pub struct Server {
    pub config: Config,
    pub storage: Storage,
    pub router: Router,
    pub disco: Registry,
    pub started: DateTime<Utc>,
    /// PEP's caps cache and photo hashes (XEP-0163, XEP-0398).
    pub pep: crate::im::pep::PepState,
    /// Services on their own domains (upload, proxy), see [`crate::components`].
    pub components: crate::components::Components,
    /// XEP-0313 archive writer queue and preferences cache.
    pub mam: crate::im::mam::Archiver,
    /// XEP-0191/XEP-0016 rules of accounts, cached.
    pub blocks: crate::im::blocking::Blocks,
    /// XEP-0198 sessions that may be resumed.
    pub sm: crate::sm::Registry,
    /// XEP-0357 notifications sent lately, per registration.
    pub push: crate::im::PushThrottle,
    hosts: BTreeSet<String>,
    /// Orders offline stores against offline fetches per account.
    pub offline_gate: crate::im::OfflineGate,
    /// The XEP-0045 service, when `[muc]` is configured.
    pub muc: Option<crate::muc::Service>,
    /// Federation, once the runtime has set up its TLS (see [`crate::s2s`]).
    pub s2s: std::sync::OnceLock<std::sync::Arc<crate::s2s::S2s>>,
    /// XEP-0050 sessions of admin commands in progress.
    pub adhoc: Mutex<Sessions<AdminCommand>>,
    /// The MOTD set by an admin command: `None` while the config's `motd` applies,
    /// `Some(None)` once deleted. Kept in memory only, see ARCHITECTURE.md.
    motd_override: RwLock<Option<Option<String>>>,
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
        if let Some(form) = config.contact.as_ref().and_then(contact_form) {
            disco.add_server_form(form);
        }
        for (_, feature) in ACCOUNT_FEATURES.iter().filter(|(m, _)| enabled(m)) {
            disco.add_account_feature(feature);
        }
        if module_enabled(&config, Module::Pep) {
            // XEP-0163 §6: every account is a PEP service.
            disco.add_account_identity(xmpp_parsers::disco::Identity {
                category: "pubsub".into(),
                type_: "pep".into(),
                lang: None,
                name: None,
            });
        }
        if let Some(muc) = &config.muc
            && let Ok(jid) = Jid::new(&muc.domain)
        {
            disco.add_server_item(jid, Some(&muc.name));
        }
        let muc = config.muc.clone().map(crate::muc::Service::new);
        // Clients find the upload service and the proxy in the server's disco#items.
        for domain in config.upload.iter().map(|u| &u.domain) {
            add_item(&mut disco, domain, "HTTP file upload");
        }
        for domain in config.proxy65.iter().map(|p| &p.domain) {
            add_item(&mut disco, domain, "SOCKS5 bytestreams proxy");
        }
        Self {
            config,
            storage,
            muc,
            router: Router::new(),
            disco,
            started: Utc::now(),
            pep: Default::default(),
            components: Default::default(),
            mam: Default::default(),
            blocks: Default::default(),
            sm: Default::default(),
            push: Default::default(),
            hosts,
            offline_gate: Default::default(),
            adhoc: Mutex::new(crate::im::adhoc_sessions()),
            s2s: std::sync::OnceLock::new(),
            motd_override: RwLock::new(None),
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

    /// The message of the day now: an admin's override, else the config's.
    pub fn motd(&self) -> Option<String> {
        let over = self.motd_override.read().unwrap_or_else(|e| e.into_inner());
        match &*over {
            Some(set) => set.clone(),
            None => self.config.motd.clone(),
        }
    }

    /// Sets (or with `None` deletes) the message of the day until the server restarts.
    pub fn set_motd(&self, text: Option<String>) {
        *self
            .motd_override
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(text);
    }

    /// Is `jid` an admin of this server?
    pub fn is_admin(&self, jid: &Jid) -> bool {
        let bare = jid.to_bare();
        self.config.admins.iter().any(|a| a == bare.as_str())
    }
}

/// XEP-0157: the configured contact addresses as the serverinfo form.
fn contact_form(contact: &xmppd_config::Contact) -> Option<xmpp_parsers::data_forms::DataForm> {
    xmppd_modules::xep0157_contact::form(xmppd_modules::xep0157_contact::Addresses {
        admin: contact.admin.clone(),
        abuse: contact.abuse.clone(),
        support: contact.support.clone(),
        security: contact.security.clone(),
        feedback: contact.feedback.clone(),
        sales: contact.sales.clone(),
    })
}
