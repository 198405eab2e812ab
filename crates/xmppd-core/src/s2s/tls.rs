//! TLS between servers: the same policy and certificate store as c2s (a reload reaches s2s),
//! peers' certificates checked against the public roots plus an optional CA file, and a
//! verdict per domain instead of a failed handshake, because an unverifiable certificate may
//! still federate through dialback when the config allows it.

use crate::CoreError;
use crate::tls::{CertStore, versions};
use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::sync::Arc;
use xmppd_config::Config;

/// What every s2s connection shares for TLS.
#[derive(Debug)]
pub struct S2sTls {
    provider: Arc<CryptoProvider>,
    certs: Arc<CertStore>,
    /// Checks a peer's chain and name once the handshake is done.
    verifier: Arc<WebPkiServerVerifier>,
    policy: xmppd_config::Tls,
    /// Incoming STARTTLS and direct TLS (ALPN `xmpp-server`): a client certificate is asked
    /// for but optional.
    pub(crate) starttls: Arc<ServerConfig>,
    pub(crate) direct_tls: Arc<ServerConfig>,
}

impl S2sTls {
    pub fn new(
        config: &Config,
        provider: Arc<CryptoProvider>,
        certs: Arc<CertStore>,
    ) -> Result<Self, CoreError> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = &config.s2s.ca_file {
            for cert in crate::certs::load_chain(path)? {
                roots.add(cert).map_err(|e| CoreError::ReadCertificate {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            }
        }
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| CoreError::TlsPolicy(format!("s2s certificate verifier: {e}")))?;
        let server = |alpn: &[&[u8]]| -> Result<Arc<ServerConfig>, CoreError> {
            let mut server = ServerConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(versions(&config.tls))
                .map_err(|e| CoreError::TlsPolicy(e.to_string()))?
                .with_client_cert_verifier(Arc::new(AnyPeer(provider.clone())))
                .with_cert_resolver(certs.clone());
            server.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
            server.ignore_client_order = true;
            Ok(Arc::new(server))
        };
        Ok(Self {
            starttls: server(&[])?,
            direct_tls: server(&[crate::tls::ALPN_XMPP_SERVER])?,
            provider: provider.clone(),
            certs,
            verifier,
            policy: config.tls.clone(),
        })
    }

    /// The client side for a link from `local`: our certificate for `local` is presented
    /// (XEP-0178), looked up at each handshake so a reload reaches it.
    pub fn client(&self, local: &str, direct: bool) -> Result<Arc<ClientConfig>, CoreError> {
        let mut config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(versions(&self.policy))
            .map_err(|e| CoreError::TlsPolicy(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyPeer(self.provider.clone())))
            .with_client_cert_resolver(Arc::new(OurCertificate {
                certs: self.certs.clone(),
                domain: local.to_owned(),
            }));
        if direct {
            config.alpn_protocols = vec![crate::tls::ALPN_XMPP_SERVER.to_vec()];
        }
        Ok(Arc::new(config))
    }

    /// Is the peer's chain trusted and valid for `domain`?
    pub fn valid_for(&self, chain: Option<&[CertificateDer<'static>]>, domain: &str) -> bool {
        let Some((leaf, intermediates)) = chain.and_then(|c| c.split_first()) else {
            return false;
        };
        let Ok(name) = ServerName::try_from(domain.to_owned()) else {
            return false;
        };
        self.verifier
            .verify_server_cert(leaf, intermediates, &name, &[], UnixTime::now())
            .is_ok()
    }
}

/// Our certificate for one local domain, as a TLS client.
#[derive(Debug)]
struct OurCertificate {
    certs: Arc<CertStore>,
    domain: String,
}

impl ResolvesClientCert for OurCertificate {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.certs.lookup(Some(&self.domain)).map(|c| c.key.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// Accepts any certificate at handshake time (its signatures over the handshake are still
/// checked); whether it is valid for the peer's domain is decided afterwards by
/// [`S2sTls::valid_for`], once the domain is known.
#[derive(Debug)]
struct AnyPeer(Arc<CryptoProvider>);

impl AnyPeer {
    fn tls12(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
}

impl ServerCertVerifier for AnyPeer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

impl ClientCertVerifier for AnyPeer {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    };
    use std::path::Path;

    /// A CA (PEM file) and a leaf for `names` signed by it, as DER.
    fn ca_and_leaf(dir: &Path, stem: &str, names: &[&str]) -> Vec<CertificateDer<'static>> {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        std::fs::write(dir.join(format!("{stem}-ca.pem")), ca.pem()).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let leaf = params.signed_by(&leaf_key, &issuer).unwrap();
        vec![leaf.der().clone(), ca.der().clone()]
    }

    /// Our side: a config for us.test with its own certificate, and `ca_file` if given.
    fn build(dir: &Path, ca_file: Option<&str>) -> Result<S2sTls, CoreError> {
        let key = KeyPair::generate().unwrap();
        let own = CertificateParams::new(vec!["us.test".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        std::fs::write(dir.join("us.pem"), own.pem()).unwrap();
        std::fs::write(dir.join("us.key"), key.serialize_pem()).unwrap();
        let mut config = Config::from_toml(
            "data_dir = \"d\"\n[[vhost]]\ndomain = \"us.test\"\ncertificate = \"us.pem\"\n\
             key = \"us.key\"\n[listeners]\nc2s_starttls = [\"127.0.0.1:1\"]\n",
        )
        .unwrap();
        config.vhosts[0].certificate = dir.join("us.pem");
        config.vhosts[0].key = dir.join("us.key");
        config.s2s.ca_file = ca_file.map(|f| dir.join(f));
        let provider = Arc::new(crate::tls::provider(&config.tls).unwrap());
        let certs = Arc::new(CertStore::load(&config.vhosts, provider.clone()).unwrap());
        S2sTls::new(&config, provider, certs)
    }

    #[test]
    fn peer_certificate_is_valid_only_for_its_names_and_trusted_cas() {
        let dir = tempfile::tempdir().unwrap();
        let peer = ca_and_leaf(dir.path(), "peer", &["peer.test", "*.peer.test"]);
        let stranger = ca_and_leaf(dir.path(), "stranger", &["peer.test"]);
        let tls = build(dir.path(), Some("peer-ca.pem")).unwrap();
        assert!(tls.valid_for(Some(&peer), "peer.test"));
        assert!(tls.valid_for(Some(&peer), "conference.peer.test"));
        assert!(!tls.valid_for(Some(&peer), "other.test"));
        // Right name, but from a CA nobody configured.
        assert!(!tls.valid_for(Some(&stranger), "peer.test"));
        assert!(!tls.valid_for(None, "peer.test"));
        assert!(!tls.valid_for(Some(&[]), "peer.test"));
        // Without the CA file only public roots count.
        let public_only = build(dir.path(), None).unwrap();
        assert!(!public_only.valid_for(Some(&peer), "peer.test"));
    }

    #[test]
    fn a_bad_ca_file_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.pem"), "not a certificate").unwrap();
        let err = build(dir.path(), Some("bad.pem")).unwrap_err();
        assert!(err.to_string().contains("bad.pem"), "{err}");
    }
}
