//! The certificate step of `deploy`: the names a deployment needs, the renewal decision
//! ([`policy`], pure), and issuing from a local CA, an ACME server (RFC 8555) or checked files,
//! written atomically into the state directory ([`store`]).
//!
//! Consumers read `tls/fullchain.pem` and `tls/privkey.pem` from the state directory; after a
//! new certificate they must reload it (see [`reload_hints`]).

pub mod acme;
pub mod command;
pub mod error;
pub mod files;
pub mod inspect;
pub mod local_ca;
pub mod policy;
pub mod responder;
pub mod store;

pub use error::CertsError;
pub use inspect::CertInfo;
pub use policy::{Decision, Reason};
pub use store::{StateDir, layout};

use crate::model::{CertSource, Model};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

/// A freshly obtained certificate and key, PEM.
#[derive(Clone)]
pub struct Issued {
    pub fullchain_pem: String,
    pub key_pem: String,
    /// The local CA was created for it (tell the user how to trust it).
    pub ca_created: bool,
}

impl std::fmt::Debug for Issued {
    // Never print the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("fullchain_pem", &self.fullchain_pem.len())
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// Settings of `deploy certs renew` that are not in the spec.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Overrides the spec's `runtime.state_dir` (global `--state-dir`).
    pub state_dir: Option<PathBuf>,
    /// Renew even when the certificate is good.
    pub force: bool,
    /// Show progress spinners (on a terminal).
    pub progress: bool,
    /// How long to wait for the ACME server to validate and issue.
    pub acme_timeout: Option<Duration>,
    /// The clock for the renewal decision (Unix seconds); `None` is now. A seam for tests that
    /// renew a real certificate without waiting for it to age.
    pub now: Option<i64>,
}

/// What the step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The existing certificate is kept.
    Kept { days_left: i64 },
    /// A new certificate was written.
    Issued { reason: Reason },
}

/// Outcome of [`renew`].
#[derive(Debug, Clone)]
pub struct Outcome {
    pub action: Action,
    /// The certificate now in place.
    pub info: CertInfo,
    /// Things to tell the user (how to trust a new CA, how challenges were answered).
    pub notes: Vec<String>,
}

impl Outcome {
    /// Consumers must reload: a new certificate was written.
    pub fn changed(&self) -> bool {
        matches!(self.action, Action::Issued { .. })
    }
}

/// The DNS names a certificate must cover: the domain and every enabled subdomain, lower case.
pub fn wanted_names(model: &Model) -> Vec<String> {
    model
        .all_domains()
        .iter()
        .map(|d| d.as_str().to_ascii_lowercase())
        .collect()
}

/// The state directory in use: `--state-dir` or the spec's.
pub fn state_dir(model: &Model, override_dir: Option<&PathBuf>) -> PathBuf {
    override_dir
        .cloned()
        .unwrap_or_else(|| model.runtime.state_dir.clone())
}

/// The certificate in the state directory, if any.
pub fn current(state: &StateDir) -> Result<Option<CertInfo>, CertsError> {
    match state.read(layout::FULLCHAIN)? {
        None => Ok(None),
        Some(pem) => inspect::leaf_info(&pem, layout::FULLCHAIN).map(Some),
    }
}

/// Obtains or renews the deployment's certificate when [`policy::decide`] says so. On any
/// failure nothing in the state directory's `tls/` changes, so a valid certificate stays in use.
pub fn renew(model: &Model, options: &Options) -> Result<Outcome, CertsError> {
    let state = StateDir::open(&state_dir(model, options.state_dir.as_ref()))?;
    let names = wanted_names(model);
    let wanted: BTreeSet<String> = names.iter().cloned().collect();
    let now = options.now.unwrap_or_else(inspect::now);
    // An unreadable certificate counts as missing: it is replaced, not trusted.
    let existing = current(&state).ok().flatten();
    let mut notes = Vec::new();
    if let CertSource::Files { certificate, key } = &model.tls.certificates {
        // The user's files are the truth: check them every run and install them if they differ.
        let (issued, info) = files::check(certificate, key, &wanted, now)?;
        let same = state.read(layout::FULLCHAIN)?.as_deref()
            == Some(issued.fullchain_pem.as_bytes())
            && state.read(layout::PRIVKEY)?.as_deref() == Some(issued.key_pem.as_bytes());
        if same && !options.force {
            return Ok(Outcome {
                action: Action::Kept {
                    days_left: info.days_left(now),
                },
                info,
                notes,
            });
        }
        install(&state, &issued)?;
        let reason = if existing.is_none() {
            Reason::Missing
        } else {
            Reason::Forced
        };
        return Ok(Outcome {
            action: Action::Issued { reason },
            info,
            notes,
        });
    }
    let reason = match policy::decide(
        &wanted,
        existing.as_ref().map(CertInfo::existing).as_ref(),
        now,
        options.force,
    ) {
        Decision::Keep { days_left } => {
            let info = existing.ok_or_else(|| CertsError::LocalCa("lost certificate".into()))?;
            return Ok(Outcome {
                action: Action::Kept { days_left },
                info,
                notes,
            });
        }
        Decision::Issue(reason) => reason,
    };
    let issued = match &model.tls.certificates {
        CertSource::LocalCa => {
            let issued = local_ca::issue(&state, &model.name, &names, local_ca::LEAF_DAYS)?;
            if issued.ca_created {
                notes.push(local_ca::trust_hint(&state));
            }
            issued
        }
        CertSource::Acme {
            directory,
            email,
            challenge,
            ca_bundle,
        } => {
            let request = acme::Request {
                directory: directory.clone(),
                email: email.clone(),
                challenge: *challenge,
                ca_bundle: ca_bundle.clone(),
                names: names.clone(),
                http_port: model.ports.http,
                tls_port: model.ports.https,
                timeout: options.acme_timeout.unwrap_or(Duration::from_secs(90)),
                progress: options.progress,
            };
            let (issued, acme_notes) = acme::obtain(&state, &request)?;
            notes.extend(acme_notes);
            issued
        }
        // Handled above; checking again keeps this arm honest should that ever change.
        CertSource::Files { certificate, key } => files::check(certificate, key, &wanted, now)?.0,
    };
    let info = inspect::leaf_info(issued.fullchain_pem.as_bytes(), "the new certificate")?;
    install(&state, &issued)?;
    Ok(Outcome {
        action: Action::Issued { reason },
        info,
        notes,
    })
}

/// Writes the key, then the chain; each atomically. A reader that catches the moment between
/// the two renames sees a new key with the old chain: xmppd's reload checks the pair and keeps
/// the old set on a mismatch, and the next reload (after the second rename) picks both up.
fn install(state: &StateDir, issued: &Issued) -> Result<(), CertsError> {
    state.write(layout::PRIVKEY, issued.key_pem.as_bytes(), store::KEY_MODE)?;
    state.write(
        layout::FULLCHAIN,
        issued.fullchain_pem.as_bytes(),
        store::PUBLIC_MODE,
    )?;
    Ok(())
}

/// How a consumer picks up a renewed certificate without a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReloadHint {
    pub consumer: &'static str,
    /// Signal to send to the process (or `docker kill --signal`).
    pub signal: &'static str,
    /// Command that does it inside the consumer's container or host.
    pub command: &'static [&'static str],
}

/// Every consumer of `tls/` and how to reload it: xmppd re-reads certificates on SIGHUP (c2s,
/// direct TLS and s2s share one store; open sessions stay), nginx on `nginx -s reload`.
pub fn reload_hints() -> &'static [ReloadHint] {
    &[
        ReloadHint {
            consumer: "xmppd",
            signal: "HUP",
            command: &["kill", "-HUP", "1"],
        },
        ReloadHint {
            consumer: "nginx",
            signal: "HUP",
            command: &["nginx", "-s", "reload"],
        },
    ]
}
