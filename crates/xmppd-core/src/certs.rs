//! Certificate files: loading PEM chains and keys, and reading names and expiry from them.

use crate::CoreError;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;

/// What xmppd needs to know about a leaf certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// DNS names from the subject alternative names (lower case).
    pub dns_names: Vec<String>,
    /// Seconds since the Unix epoch after which the certificate is invalid.
    pub not_after: i64,
    /// Seconds since the Unix epoch before which the certificate is invalid.
    pub not_before: i64,
}

impl CertificateInfo {
    /// Does this certificate cover `domain`, directly or by a one-label wildcard?
    pub fn covers(&self, domain: &str) -> bool {
        let domain = domain.to_ascii_lowercase();
        self.dns_names.iter().any(|name| {
            name == &domain
                || name.strip_prefix("*.").is_some_and(|rest| {
                    domain
                        .split_once('.')
                        .is_some_and(|(label, parent)| !label.is_empty() && parent == rest)
                })
        })
    }
}

/// Reads a PEM certificate chain, leaf first.
pub fn load_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, CoreError> {
    let err = |message: String| CoreError::ReadCertificate {
        path: path.to_path_buf(),
        message,
    };
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(e.to_string()))?;
    if chain.is_empty() {
        return Err(err("no PEM certificate in the file".to_owned()));
    }
    Ok(chain)
}

/// Reads a PEM private key. The error never contains key material.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, CoreError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| CoreError::ReadKey {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Names and validity of a DER certificate.
pub fn inspect(cert: &CertificateDer<'_>) -> Result<CertificateInfo, String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let mut dns_names = Vec::new();
    if let Ok(Some(san)) = parsed.subject_alternative_name() {
        for name in &san.value.general_names {
            if let x509_parser::extensions::GeneralName::DNSName(dns) = name {
                dns_names.push(dns.to_ascii_lowercase());
            }
        }
    }
    Ok(CertificateInfo {
        dns_names,
        not_after: parsed.validity().not_after.timestamp(),
        not_before: parsed.validity().not_before.timestamp(),
    })
}
