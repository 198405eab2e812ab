//! `source: local-ca`: a development CA (ECDSA P-256, RFC 5280 profile) created once per state
//! directory, and leaf certificates for the domain and every enabled subdomain signed by it.

use super::Issued;
use super::error::CertsError;
use super::store::{KEY_MODE, PUBLIC_MODE, StateDir, layout};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use time::{Duration, OffsetDateTime};

/// Lifetime of the local CA.
const CA_DAYS: i64 = 3650;
/// Lifetime of a leaf: like Let's Encrypt, so renewal runs the same path in development.
pub const LEAF_DAYS: i64 = 90;

fn err(e: impl std::fmt::Display) -> CertsError {
    CertsError::LocalCa(e.to_string())
}

fn serial() -> Result<SerialNumber, CertsError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(err)?;
    // Positive and non-zero as RFC 5280 section 4.1.2.2 asks.
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    Ok(SerialNumber::from_slice(&bytes))
}

/// The CA certificate PEM and key, created on first use. Returns whether it was created.
pub fn ensure_ca(state: &StateDir, label: &str) -> Result<(String, KeyPair, bool), CertsError> {
    let cert = state.read(layout::CA_CERT)?;
    let key = state.read(layout::CA_KEY)?;
    if let (Some(cert), Some(key)) = (cert, key) {
        let cert = String::from_utf8(cert).map_err(err)?;
        let key = String::from_utf8(key).map_err(err)?;
        let key = KeyPair::from_pem(&key).map_err(|_| err("ca/ca.key is not a private key"))?;
        return Ok((cert, key, false));
    }
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(err)?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "xmppd deploy");
    dn.push(DnType::CommonName, format!("{label} development CA"));
    params.distinguished_name = dn;
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::minutes(5);
    params.not_after = now + Duration::days(CA_DAYS);
    params.serial_number = Some(serial()?);
    let cert = params.self_signed(&key).map_err(err)?;
    // Key first: a CA certificate without its key would be useless on the next run.
    state.write(layout::CA_KEY, key.serialize_pem().as_bytes(), KEY_MODE)?;
    state.write(layout::CA_CERT, cert.pem().as_bytes(), PUBLIC_MODE)?;
    Ok((cert.pem(), key, true))
}

/// Signs a leaf for `names` (the first is the subject CN) valid for `days`.
pub fn issue(
    state: &StateDir,
    label: &str,
    names: &[String],
    days: i64,
) -> Result<Issued, CertsError> {
    let (ca_pem, ca_key, created) = ensure_ca(state, label)?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, &ca_key).map_err(err)?;
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(err)?;
    let mut params = CertificateParams::new(names.to_vec()).map_err(err)?;
    let mut dn = DistinguishedName::new();
    if let Some(first) = names.first() {
        dn.push(DnType::CommonName, first.as_str());
    }
    params.distinguished_name = dn;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    // Server auth for c2s and HTTPS, client auth because s2s presents the same certificate.
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::minutes(5);
    params.not_after = now + Duration::days(days);
    params.serial_number = Some(serial()?);
    let cert = params.signed_by(&key, &issuer).map_err(err)?;
    Ok(Issued {
        fullchain_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        ca_created: created,
    })
}

/// How to make browsers and clients trust the local CA (shown once, when it is created).
pub fn trust_hint(state: &StateDir) -> String {
    let ca = state.path(layout::CA_CERT);
    let ca = ca.display();
    format!(
        "a development CA was created: {ca}\n  trust it on this machine (Debian/Ubuntu): \
         cp {ca} /usr/local/share/ca-certificates/xmppd-dev-ca.crt && update-ca-certificates\n  \
         Firefox: Settings > Certificates > Import; Python/slixmpp: SSL_CERT_FILE={ca}"
    )
}
