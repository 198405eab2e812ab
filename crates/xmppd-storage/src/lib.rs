//! xmppd-storage
