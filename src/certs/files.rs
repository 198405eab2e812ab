//! `source: files`: certificates the user brings, checked before they are used: the leaf names
//! cover the domain and every enabled subdomain, the key belongs to the leaf, and it has not
//! expired. A checked pair is copied (atomically, key 0600) to where xmppd and nginx read it.

use super::Issued;
use super::error::CertsError;
use super::inspect::{self, CertInfo};
use std::collections::BTreeSet;
use std::path::Path;

/// Checks the pair and returns it as an issued certificate with its info.
pub fn check(
    certificate: &Path,
    key: &Path,
    wanted: &BTreeSet<String>,
    now: i64,
) -> Result<(Issued, CertInfo), CertsError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| CertsError::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    let cert_pem = read(certificate)?;
    let key_pem = read(key)?;
    let cert_name = certificate.display().to_string();
    let chain = inspect::chain_from_pem(&cert_pem, &cert_name)?;
    let info = inspect::info(&chain[0], &cert_name)?;
    let missing: Vec<&str> = wanted.difference(&info.names).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(CertsError::Files(format!(
            "{cert_name} does not cover {} (it has {})",
            missing.join(", "),
            info.names.iter().cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    if info.not_after <= now {
        return Err(CertsError::Files(format!("{cert_name} has expired")));
    }
    if info.not_before > now {
        return Err(CertsError::Files(format!("{cert_name} is not valid yet")));
    }
    let key_der = inspect::key_from_pem(&key_pem, &key.display().to_string())?;
    inspect::key_matches(&chain, key_der).map_err(|e| {
        CertsError::Files(format!(
            "{} is not the key of {cert_name}: {e}",
            key.display()
        ))
    })?;
    let utf8 = |bytes: Vec<u8>, what: &str| {
        String::from_utf8(bytes).map_err(|_| CertsError::Files(format!("{what} is not PEM text")))
    };
    Ok((
        Issued {
            fullchain_pem: utf8(cert_pem, &cert_name)?,
            key_pem: utf8(key_pem, "the key file")?,
            ca_created: false,
        },
        info,
    ))
}
