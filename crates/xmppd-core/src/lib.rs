//! xmppd-core
