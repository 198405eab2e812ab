//! xmppd's runtime: TLS from the config's policy, listeners, sessions and the router.

pub mod certs;
pub mod error;
pub mod router;
pub mod tls;

pub use error::CoreError;
