//! Reading certificates (RFC 5280) and keys from PEM: names, issuer, serial, validity, and
//! whether a key belongs to a certificate. Key bytes are never put into errors or logs.

use super::error::CertsError;
use super::policy::Existing;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::collections::BTreeSet;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer as _, X509Certificate};

/// What `deploy certs` shows of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// DNS names of the subjectAltName extension, lower case, sorted.
    pub names: BTreeSet<String>,
    /// Issuer distinguished name (RFC 4514 string).
    pub issuer: String,
    /// Serial number, lower-case hex.
    pub serial: String,
    /// Unix seconds.
    pub not_before: i64,
    /// Unix seconds.
    pub not_after: i64,
}

impl CertInfo {
    /// The part the renewal policy looks at.
    pub fn existing(&self) -> Existing {
        Existing {
            names: self.names.clone(),
            not_before: self.not_before,
            not_after: self.not_after,
        }
    }

    /// Whole days until `not_after` (negative once expired).
    pub fn days_left(&self, now: i64) -> i64 {
        (self.not_after - now).div_euclid(86_400)
    }
}

/// Every certificate of a PEM chain, in order (leaf first).
pub fn chain_from_pem(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, CertsError> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| parse_err(what, e.to_string()))?;
    if chain.is_empty() {
        return Err(parse_err(what, "no CERTIFICATE block".to_owned()));
    }
    Ok(chain)
}

/// The private key in a PEM file (PKCS#8, SEC1 or PKCS#1).
pub fn key_from_pem(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>, CertsError> {
    // The parser's error names the PEM section, never its content.
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| parse_err(what, e.to_string()))
}

/// Names, issuer, serial and validity of one DER certificate.
pub fn info(der: &CertificateDer<'_>, what: &str) -> Result<CertInfo, CertsError> {
    let (_, cert) =
        X509Certificate::from_der(der.as_ref()).map_err(|e| parse_err(what, e.to_string()))?;
    let mut names = BTreeSet::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if let GeneralName::DNSName(dns) = name {
                names.insert(dns.to_ascii_lowercase());
            }
        }
    }
    Ok(CertInfo {
        names,
        issuer: cert.issuer().to_string(),
        serial: cert.raw_serial_as_string().replace(':', ""),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
    })
}

/// Info of the leaf of a PEM chain.
pub fn leaf_info(pem: &[u8], what: &str) -> Result<CertInfo, CertsError> {
    let chain = chain_from_pem(pem, what)?;
    info(&chain[0], what)
}

/// Checks that `key` is the private key of the chain's leaf (rustls compares the public keys).
pub fn key_matches(
    chain: &[CertificateDer<'static>],
    key: PrivateKeyDer<'static>,
) -> Result<(), String> {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    rustls::sign::CertifiedKey::from_der(chain.to_vec(), key, &provider)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Current time in Unix seconds.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn parse_err(what: &str, message: String) -> CertsError {
    CertsError::Parse {
        what: what.to_owned(),
        message,
    }
}
