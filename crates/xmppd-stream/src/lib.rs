//! xmppd-stream
