//! Optional XMPP features (modules) a server offers, named after their XEP's usual short name.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An optional feature of xmppd: roster (RFC 6121), disco (XEP-0030), private (XEP-0049),
/// vcard (XEP-0054), vcard4 (XEP-0292), search (XEP-0055), privacy (XEP-0016), blocking
/// (XEP-0191), version (XEP-0092), uptime (XEP-0012), time (XEP-0202), ping (XEP-0199), pep
/// (XEP-0163), caps (XEP-0115), bookmarks (XEP-0402), admin-adhoc (XEP-0133), offline
/// (XEP-0160), carbons (XEP-0280), mam (XEP-0313), csi (XEP-0352), push (XEP-0357),
/// stream-management (XEP-0198), roster-versioning (XEP-0237), extended-addressing (XEP-0033),
/// motd, welcome. BOSH and WebSocket are HTTP endpoints, configured under `http`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Module {
    Roster,
    Disco,
    Private,
    Vcard,
    Vcard4,
    Search,
    Privacy,
    Blocking,
    Version,
    Uptime,
    Time,
    Ping,
    Pep,
    Caps,
    Bookmarks,
    AdminAdhoc,
    Offline,
    Carbons,
    Mam,
    Csi,
    Push,
    StreamManagement,
    RosterVersioning,
    ExtendedAddressing,
    Motd,
    Welcome,
}
