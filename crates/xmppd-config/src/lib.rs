//! xmppd-config
