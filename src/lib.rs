//! `deploy`: declarative deployment of the xmppd XMPP server from one YAML spec.
//!
//! Data flow of `deploy validate` and `deploy render`:
//! YAML text -> [`source`] (JSON value + `spec path -> line:column` index)
//! -> [`schema_check`] (every JSON-schema error at once) -> [`spec::Spec`] (serde)
//! -> [`model::Model`] (semantic checks, all at once) -> [`render`] (files).
//! `deploy certs`: [`certs`] (renewal policy, local CA, ACME, checked files) and [`dh`].
//! `deploy images build`: [`images`] (xmppd and nginx images with no registry).
//! `deploy plan|apply`: [`desired`] (model -> desired state, pure) and [`observe`] (the engine
//! and the state directory, read-only) -> [`plan`] (pure diff) -> [`apply`]; [`ops`] holds the
//! commands, with `status`, `destroy` and `user`.

pub mod apply;
pub mod certs;
pub mod desired;
pub mod dh;
pub mod diag;
pub mod error;
pub mod images;
pub mod model;
pub mod observe;
pub mod ops;
pub mod plan;
pub mod render;
pub mod schema_check;
pub mod source;
pub mod spec;
pub mod validate;

pub use diag::{Diagnostic, Severity};
pub use error::DeployError;
pub use model::Model;
pub use spec::Spec;
pub use validate::{Validated, validate_text};
