//! Spec -> validated [`Model`]: every semantic check, all problems at once, each with its spec
//! path. No IO: relative paths are resolved against the spec's folder but never opened.

mod checks;
pub mod images;
pub mod names;
mod network;
pub mod suites;
pub mod tls;

use crate::diag::Diagnostic;
use crate::spec::{
    self, Auth, ByteSize, Challenge, Duration, FfdheGroup, Http, Limits, Logging, Module,
    Registration, RoomCreation, Spec,
};
pub use images::{ImageReference, ImageSource, Images, Upstream};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
pub use tls::TlsPolicy;

/// A DNS name that passed [`names::is_domain`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Domain(String);

impl Domain {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validated deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Deployment name (a DNS label).
    pub name: String,
    pub domain: Domain,
    /// Bare JIDs of `domain`.
    pub admins: Vec<String>,
    pub ports: Ports,
    pub muc: Option<Muc>,
    pub upload: Option<Upload>,
    pub proxy65: Option<Proxy65>,
    pub modules: BTreeSet<Module>,
    pub registration: Registration,
    pub tls: Tls,
    pub http: Http,
    pub auth: Auth,
    pub logging: Logging,
    pub motd: Option<String>,
    pub welcome_message: Option<String>,
    pub storage: Storage,
    pub runtime: Runtime,
}

/// Enabled public ports (unique, non-zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub c2s: Option<u16>,
    pub c2s_direct_tls: Option<u16>,
    pub s2s: Option<u16>,
    pub s2s_direct_tls: Option<u16>,
    pub http: Option<u16>,
    pub https: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Muc {
    pub domain: Domain,
    pub name: String,
    pub room_creation: RoomCreation,
    pub history_length: u32,
    pub lock_new_rooms: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub domain: Domain,
    pub max_file_size: ByteSize,
    pub quota_per_user: Option<ByteSize>,
    pub expire_after: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy65 {
    pub domain: Domain,
    pub port: u16,
}

/// Where certificates come from, with resolved paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertSource {
    Acme {
        directory: String,
        email: String,
        challenge: Challenge,
        ca_bundle: Option<PathBuf>,
    },
    LocalCa,
    Files {
        certificate: PathBuf,
        key: PathBuf,
    },
}

/// DH parameters: a fixed RFC 7919 group or one generated once and cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dh {
    Ffdhe(FfdheGroup),
    Generate { bits: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub certificates: CertSource,
    pub policy: TlsPolicy,
    pub dh: Dh,
    pub c2s_require_encryption: bool,
    pub s2s_require_encryption: bool,
    pub s2s_require_valid_certificates: bool,
}

/// Storage backend with the secret's source (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    Sqlite,
    PostgresUrlFile(PathBuf),
    PostgresUrlEnv(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Runtime {
    pub images: Images,
    /// Absolute, or relative to the current folder when the spec came from stdin.
    pub state_dir: PathBuf,
    pub limits: Limits,
    pub worker_threads: Option<u32>,
}

/// Resolves a spec path against the spec file's folder.
fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

impl Model {
    /// Checks `spec` and builds the model. `base` is the spec file's folder.
    /// Returns the model with its warnings, or every diagnostic (errors and warnings).
    pub fn build(spec: &Spec, base: &Path) -> Result<(Model, Vec<Diagnostic>), Vec<Diagnostic>> {
        let mut d = Vec::new();
        checks::identity(spec, &mut d);
        let ports = network::ports(spec, &mut d);
        let domain = Domain(spec.domain.clone());
        let sub = |label: &str| Domain(format!("{label}.{}", spec.domain));
        network::subdomains(spec, &mut d);
        let muc = spec.services.muc.as_ref().map(|m| Muc {
            domain: sub(&m.subdomain),
            name: m.name.clone(),
            room_creation: m.room_creation,
            history_length: m.history_length,
            lock_new_rooms: m.lock_new_rooms,
        });
        let upload = spec.services.upload.as_ref().map(|u| {
            checks::upload(u, &mut d);
            Upload {
                domain: sub(&u.subdomain),
                max_file_size: u.max_file_size,
                quota_per_user: u.quota_per_user,
                expire_after: u.expire_after,
            }
        });
        let proxy65 = spec.services.proxy65.as_ref().map(|p| Proxy65 {
            domain: sub(&p.subdomain),
            port: spec.ports.proxy65.unwrap_or_default(),
        });
        let modules = checks::modules(spec, &mut d);
        network::web(spec, &mut d);
        let policy = tls::resolve(
            tls::PolicyInput {
                profile: spec.tls.profile,
                ciphers: spec.tls.ciphers.as_deref(),
                curves: spec.tls.curves.as_deref(),
                min_version: spec.tls.min_version,
            },
            &mut d,
        );
        let certificates = checks::certificates(spec, base, &mut d);
        let dh = match spec.tls.dhparam {
            spec::DhParam::Named(g) => Dh::Ffdhe(g),
            spec::DhParam::Generate { generate } => {
                if !(2048..=8192).contains(&generate.bits) || generate.bits % 1024 != 0 {
                    d.push(
                        Diagnostic::error(
                            "tls.dhparam.generate.bits",
                            format!("{} bits is not a DH size we generate", generate.bits),
                        )
                        .with_hint("use 2048, 3072, 4096, ... up to 8192"),
                    );
                }
                Dh::Generate {
                    bits: generate.bits,
                }
            }
        };
        checks::auth(spec, &mut d);
        let storage = checks::storage(spec, base, &mut d);
        let images = checks::runtime(spec, &mut d);
        if d.iter().any(Diagnostic::is_error) {
            return Err(d);
        }
        let model = Model {
            name: spec.name.clone(),
            domain,
            admins: spec.admins.clone(),
            ports,
            muc,
            upload,
            proxy65,
            modules,
            registration: spec.registration.clone(),
            tls: Tls {
                certificates,
                policy,
                dh,
                c2s_require_encryption: spec.tls.c2s_require_encryption,
                s2s_require_encryption: spec.tls.s2s_require_encryption,
                s2s_require_valid_certificates: spec.tls.s2s_require_valid_certificates,
            },
            http: spec.http.clone(),
            auth: spec.auth.clone(),
            logging: spec.logging.clone(),
            motd: spec.motd.clone(),
            welcome_message: spec.welcome_message.clone(),
            storage,
            runtime: Runtime {
                images,
                state_dir: resolve(base, &spec.runtime.state_dir),
                limits: spec.runtime.limits.clone(),
                worker_threads: spec.runtime.worker_threads,
            },
        };
        Ok((model, d))
    }

    /// Every domain served: the XMPP domain first, then service subdomains.
    pub fn all_domains(&self) -> Vec<&Domain> {
        let mut out = vec![&self.domain];
        out.extend(self.muc.iter().map(|m| &m.domain));
        out.extend(self.upload.iter().map(|u| &u.domain));
        out.extend(self.proxy65.iter().map(|p| &p.domain));
        out
    }

    /// Whether the HTTPS front (nginx) is part of the deployment.
    pub fn has_web(&self) -> bool {
        self.ports.https.is_some()
    }
}
