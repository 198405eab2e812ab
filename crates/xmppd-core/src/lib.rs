//! xmppd's runtime: TLS from the config's policy, listeners, sessions and the router.

pub mod accounts;
pub mod c2s;
pub mod certs;
pub mod components;
pub mod csi;
pub mod error;
pub mod im;
pub mod muc;
pub mod outbox;
pub mod proxy65;
pub mod router;
pub mod runtime;
pub mod s2s;
pub mod server;
pub mod sm;
pub mod throttle;
pub mod tls;

pub use error::CoreError;
