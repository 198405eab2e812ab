//! The semantic checks of [`super::Model::build`], one function per spec area; each pushes
//! every problem it finds, with the spec path it is about.

use super::images::{ImageReference, ImageSource, Images, Upstream};
use super::names::{bare_jid_parts, is_dns_label, is_domain, is_public_domain};
use super::{CertSource, Storage, resolve};
use crate::diag::Diagnostic;
use crate::spec::{self, Challenge, Module, Spec, StorageBackend, Upload};
use std::collections::BTreeSet;
use std::path::Path;

pub(super) fn identity(spec: &Spec, d: &mut Vec<Diagnostic>) {
    if !is_dns_label(&spec.name) {
        d.push(
            Diagnostic::error("name", format!("`{}` is not a DNS label", spec.name))
                .with_hint("use lower-case letters, digits and `-`, at most 63"),
        );
    }
    if !is_domain(&spec.domain) {
        let hint = if spec.domain != spec.domain.to_ascii_lowercase() {
            format!(
                "write it in lower case: `{}`",
                spec.domain.to_ascii_lowercase()
            )
        } else {
            "labels of a-z, 0-9 and `-`, separated by dots".to_owned()
        };
        d.push(
            Diagnostic::error(
                "domain",
                format!("`{}` is not a valid domain name", spec.domain),
            )
            .with_hint(hint),
        );
    }
    let mut seen = BTreeSet::new();
    for (i, admin) in spec.admins.iter().enumerate() {
        let path = format!("admins[{i}]");
        match bare_jid_parts(admin) {
            Err(why) => d.push(Diagnostic::error(path, format!("`{admin}` {why}"))),
            Ok((_, domain)) if !domain.eq_ignore_ascii_case(&spec.domain) => d.push(
                Diagnostic::error(path, format!("`{admin}` is not a JID of `{}`", spec.domain))
                    .with_hint("admins must have accounts on this server"),
            ),
            Ok(_) if !seen.insert(admin.to_ascii_lowercase()) => {
                d.push(Diagnostic::warning(
                    path,
                    format!("`{admin}` is listed twice"),
                ));
            }
            Ok(_) => {}
        }
    }
}

pub(super) fn upload(u: &Upload, d: &mut Vec<Diagnostic>) {
    if u.max_file_size.0 == 0 {
        d.push(Diagnostic::error(
            "services.upload.max_file_size",
            "must be more than 0 B",
        ));
    }
    if let Some(e) = u.expire_after
        && e.seconds % 86_400 != 0
    {
        d.push(Diagnostic::warning(
            "services.upload.expire_after",
            format!("{e} is rounded up to whole days"),
        ));
    }
    if let Some(quota) = u.quota_per_user
        && quota < u.max_file_size
    {
        d.push(Diagnostic::warning(
            "services.upload.quota_per_user",
            format!(
                "{quota} is less than max_file_size ({}): large files never fit",
                u.max_file_size
            ),
        ));
    }
}

pub(super) fn modules(spec: &Spec, d: &mut Vec<Diagnostic>) -> BTreeSet<Module> {
    let mut set = BTreeSet::new();
    for (i, m) in spec.modules.iter().enumerate() {
        if !set.insert(*m) {
            d.push(Diagnostic::warning(format!("modules[{i}]"), "listed twice"));
        }
    }
    if spec.motd.is_some() && !set.contains(&Module::Motd) {
        d.push(Diagnostic::warning(
            "motd",
            "set, but the `motd` module is not in `modules`",
        ));
    }
    if spec.welcome_message.is_some() && !set.contains(&Module::Welcome) {
        d.push(Diagnostic::warning(
            "welcome_message",
            "set, but `welcome` is not in `modules`",
        ));
    }
    set
}

pub(super) fn certificates(spec: &Spec, base: &Path, d: &mut Vec<Diagnostic>) -> CertSource {
    let c = &spec.tls.certificates;
    let public = is_public_domain(&spec.domain);
    match c.source {
        spec::CertSource::Acme => {
            let Some(acme) = &c.acme else {
                d.push(
                    Diagnostic::error("tls.certificates", "`source: acme` needs an `acme` section")
                        .with_hint("add `acme: {email: you@example.org}`"),
                );
                return CertSource::LocalCa;
            };
            if !public && acme.ca_bundle.is_none() {
                d.push(
                    Diagnostic::error(
                        "domain",
                        format!("ACME needs a public domain; `{}` is not one", spec.domain),
                    )
                    .with_hint("use `source: local-ca` for development, or `acme.ca_bundle` for a test ACME server"),
                );
            }
            match acme.email.split_once('@') {
                Some((user, host)) if !user.is_empty() && host.contains('.') => {}
                _ => d.push(Diagnostic::error(
                    "tls.certificates.acme.email",
                    format!("`{}` is not an email address", acme.email),
                )),
            }
            if !acme.directory.starts_with("https://") {
                d.push(Diagnostic::error(
                    "tls.certificates.acme.directory",
                    "the ACME directory must be an https:// URL (RFC 8555)",
                ));
            }
            let (port, wanted, key) = match acme.challenge {
                Challenge::Http01 => (spec.ports.http, 80, "ports.http"),
                Challenge::TlsAlpn01 => (spec.ports.https, 443, "ports.https"),
            };
            if port != Some(wanted) && acme.ca_bundle.is_none() {
                d.push(Diagnostic::error(
                    key,
                    format!("the ACME server checks the challenge on port {wanted}"),
                ));
            }
            if c.files.is_some() {
                d.push(Diagnostic::warning(
                    "tls.certificates.files",
                    "ignored with `source: acme`",
                ));
            }
            CertSource::Acme {
                directory: acme.directory.clone(),
                email: acme.email.clone(),
                challenge: acme.challenge,
                ca_bundle: acme.ca_bundle.as_deref().map(|p| resolve(base, p)),
            }
        }
        spec::CertSource::LocalCa => {
            if public {
                d.push(Diagnostic::warning(
                    "tls.certificates.source",
                    "a local CA on a public domain: other servers and clients will not trust it",
                ));
            }
            CertSource::LocalCa
        }
        spec::CertSource::Files => match &c.files {
            Some(f) => CertSource::Files {
                certificate: resolve(base, &f.certificate),
                key: resolve(base, &f.key),
            },
            None => {
                d.push(
                    Diagnostic::error(
                        "tls.certificates",
                        "`source: files` needs a `files` section",
                    )
                    .with_hint("add `files: {certificate: fullchain.pem, key: privkey.pem}`"),
                );
                CertSource::LocalCa
            }
        },
    }
}

pub(super) fn auth(spec: &Spec, d: &mut Vec<Diagnostic>) {
    if spec.auth.mechanisms.is_empty() && !spec.auth.allow_plain {
        d.push(Diagnostic::error(
            "auth.mechanisms",
            "no way to log in: list a SCRAM mechanism",
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, m) in spec.auth.mechanisms.iter().enumerate() {
        if !seen.insert(*m) {
            d.push(Diagnostic::warning(
                format!("auth.mechanisms[{i}]"),
                "listed twice",
            ));
        }
    }
}

pub(super) fn storage(spec: &Spec, base: &Path, d: &mut Vec<Diagnostic>) -> Storage {
    let s = &spec.storage;
    match (s.backend, &s.postgres) {
        (StorageBackend::Sqlite, None) => Storage::Sqlite,
        (StorageBackend::Sqlite, Some(_)) => {
            d.push(Diagnostic::warning(
                "storage.postgres",
                "ignored with `backend: sqlite`",
            ));
            Storage::Sqlite
        }
        (StorageBackend::Postgres, None) => {
            d.push(
                Diagnostic::error("storage", "`backend: postgres` needs a `postgres` section")
                    .with_hint("add `postgres: {url_env: XMPPD_DATABASE_URL}`"),
            );
            Storage::Sqlite
        }
        (StorageBackend::Postgres, Some(pg)) => match (&pg.url_file, &pg.url_env) {
            (Some(file), None) => Storage::PostgresUrlFile(resolve(base, file)),
            (None, Some(var)) => {
                let ok = var
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                    && var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !ok {
                    d.push(Diagnostic::error(
                        "storage.postgres.url_env",
                        format!("`{var}` is not an environment variable name"),
                    ));
                }
                Storage::PostgresUrlEnv(var.clone())
            }
            _ => {
                d.push(Diagnostic::error(
                    "storage.postgres",
                    "give exactly one of `url_file` and `url_env`",
                ));
                Storage::Sqlite
            }
        },
    }
}

pub(super) fn runtime(spec: &Spec, d: &mut Vec<Diagnostic>) -> Images {
    let source = |key: &str, image: &spec::Image, d: &mut Vec<Diagnostic>| {
        let path = |field: &str| format!("runtime.images.{key}.{field}");
        let Some(reference) = &image.reference else {
            if let Some(pull) = image.pull {
                d.push(
                    Diagnostic::error(
                        path("pull"),
                        format!("`pull: {}` needs an upstream `reference`", pull.as_str()),
                    )
                    .with_hint("without `reference` the image is built here and never pulled"),
                );
            }
            return ImageSource::Local;
        };
        match ImageReference::parse(reference) {
            Ok(parsed) => {
                if parsed.tag.is_none() && parsed.digest.is_none() {
                    d.push(
                        Diagnostic::warning(
                            path("reference"),
                            format!("`{reference}` has no tag: `latest` is used"),
                        )
                        .with_hint("pin a tag or a digest so every machine runs the same image"),
                    );
                }
                ImageSource::Upstream(Upstream {
                    reference: reference.clone(),
                    parsed,
                    pull: image.pull.unwrap_or_default(),
                })
            }
            Err(why) => {
                d.push(Diagnostic::error(
                    path("reference"),
                    format!("`{reference}` is not an image reference: {why}"),
                ));
                ImageSource::Local
            }
        }
    };
    let images = Images {
        xmppd: source("xmppd", &spec.runtime.images.xmppd, d),
        nginx: source("nginx", &spec.runtime.images.nginx, d),
    };
    // RFC 6120 section 13.12: servers must accept stanzas of at least 10000 bytes.
    if spec.runtime.limits.max_stanza_size.0 < 10_000 {
        d.push(Diagnostic::error(
            "runtime.limits.max_stanza_size",
            "RFC 6120 requires at least 10000 bytes",
        ));
    }
    images
}
