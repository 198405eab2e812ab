//! Server side of SCRAM (RFC 5802), SCRAM-SHA-256 (RFC 7677), SCRAM-SHA-512, and their -PLUS
//! variants with `tls-exporter` (RFC 9266) and `tls-server-end-point` (RFC 5929) channel
//! binding.
//!
//! The exchange is a chain of types, so steps cannot be skipped or repeated:
//! [`ScramServer::client_first`] -> [`ScramNeedCredentials::with_credentials`] ->
//! [`ScramAwaitingFinal::client_final`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq;

use super::credentials::{ScramCredentials, ScramHash};
use super::scram_messages::{self, CbindFlag};
use super::{SaslError, parse_error};

/// One SCRAM mechanism: a hash family, with or without channel binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScramMechanism {
    /// The hash family.
    pub hash: ScramHash,
    /// Whether this is the -PLUS (channel binding) variant.
    pub plus: bool,
}

impl ScramMechanism {
    /// Every SCRAM mechanism we implement, strongest first.
    pub const ALL: [Self; 6] = [
        Self::new(ScramHash::Sha512, true),
        Self::new(ScramHash::Sha256, true),
        Self::new(ScramHash::Sha1, true),
        Self::new(ScramHash::Sha512, false),
        Self::new(ScramHash::Sha256, false),
        Self::new(ScramHash::Sha1, false),
    ];

    /// A mechanism from its parts.
    #[must_use]
    pub const fn new(hash: ScramHash, plus: bool) -> Self {
        Self { hash, plus }
    }

    /// The IANA name, e.g. `SCRAM-SHA-256-PLUS`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match (self.hash, self.plus) {
            (ScramHash::Sha1, false) => "SCRAM-SHA-1",
            (ScramHash::Sha1, true) => "SCRAM-SHA-1-PLUS",
            (ScramHash::Sha256, false) => "SCRAM-SHA-256",
            (ScramHash::Sha256, true) => "SCRAM-SHA-256-PLUS",
            (ScramHash::Sha512, false) => "SCRAM-SHA-512",
            (ScramHash::Sha512, true) => "SCRAM-SHA-512-PLUS",
        }
    }

    /// Parse an IANA name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// A channel binding type we can support (the IANA names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChannelBindingType {
    /// `tls-exporter` (RFC 9266): the right one for TLS 1.3.
    TlsExporter,
    /// `tls-server-end-point` (RFC 5929 §4): hash of our certificate.
    TlsServerEndPoint,
}

impl ChannelBindingType {
    /// The IANA name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::TlsExporter => "tls-exporter",
            Self::TlsServerEndPoint => "tls-server-end-point",
        }
    }
}

/// The channel binding data this TLS connection offers; empty without TLS.
///
/// `tls_exporter`: 32 bytes of keying material exported with label
/// `EXPORTER-Channel-Binding` and no context (RFC 9266 §2). `tls_server_end_point`: our
/// certificate hashed as RFC 5929 §4.1 says (SHA-256 for SHA-1/MD5 signed certificates).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ChannelBindingData {
    /// RFC 9266 exporter bytes.
    pub tls_exporter: Option<Vec<u8>>,
    /// RFC 5929 certificate hash.
    pub tls_server_end_point: Option<Vec<u8>>,
}

impl std::fmt::Debug for ChannelBindingData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.types()).finish()
    }
}

impl ChannelBindingData {
    /// No channel binding (plain TCP, or -PLUS not offered).
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// The data for `kind`, if offered.
    #[must_use]
    pub fn get(&self, kind: ChannelBindingType) -> Option<&[u8]> {
        match kind {
            ChannelBindingType::TlsExporter => self.tls_exporter.as_deref(),
            ChannelBindingType::TlsServerEndPoint => self.tls_server_end_point.as_deref(),
        }
    }

    /// The offered types, preferred first.
    #[must_use]
    pub fn types(&self) -> Vec<ChannelBindingType> {
        [
            ChannelBindingType::TlsExporter,
            ChannelBindingType::TlsServerEndPoint,
        ]
        .into_iter()
        .filter(|t| self.get(*t).is_some())
        .collect()
    }

    /// Whether any type is offered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tls_exporter.is_none() && self.tls_server_end_point.is_none()
    }

    fn by_name(&self, name: &str) -> Option<&[u8]> {
        [
            ChannelBindingType::TlsExporter,
            ChannelBindingType::TlsServerEndPoint,
        ]
        .into_iter()
        .find(|t| t.name() == name)
        .and_then(|t| self.get(t))
    }
}

/// What to pretend when a user does not exist: a server-wide secret (so fake salts are
/// stable per username) and the iteration count real users get.
#[derive(Clone, PartialEq, Eq)]
pub struct UnknownUserKey {
    /// Random, generated once per server start (or stored, so salts stay stable across
    /// restarts).
    pub secret: [u8; 32],
    /// The iteration count to announce.
    pub iterations: u32,
}

impl std::fmt::Debug for UnknownUserKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnknownUserKey")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl UnknownUserKey {
    /// A key with a fresh random secret.
    pub fn generate(iterations: u32) -> Result<Self, getrandom::Error> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)?;
        Ok(Self { secret, iterations })
    }
}

/// A SCRAM exchange waiting for client-first.
#[derive(Debug)]
pub struct ScramServer {
    mechanism: ScramMechanism,
    channel_binding: ChannelBindingData,
    server_nonce: Option<String>,
}

impl ScramServer {
    /// Start an exchange. `channel_binding` is what this connection offers; pass
    /// [`ChannelBindingData::none`] when no -PLUS mechanism was advertised, else a `y` client
    /// would be refused as a downgrade.
    #[must_use]
    pub fn new(mechanism: ScramMechanism, channel_binding: ChannelBindingData) -> Self {
        Self {
            mechanism,
            channel_binding,
            server_nonce: None,
        }
    }

    /// Like [`ScramServer::new`] with a fixed server nonce: only for known-answer tests.
    #[must_use]
    pub fn new_with_nonce(
        mechanism: ScramMechanism,
        channel_binding: ChannelBindingData,
        server_nonce: String,
    ) -> Self {
        Self {
            mechanism,
            channel_binding,
            server_nonce: Some(server_nonce),
        }
    }

    /// Read client-first-message.
    pub fn client_first(self, msg: &[u8]) -> Result<ScramNeedCredentials, SaslError> {
        let msg = std::str::from_utf8(msg).map_err(|_| parse_error("client-first", "not UTF-8"))?;
        let first = scram_messages::parse_client_first(msg)?;
        let cbind_data: &[u8] = match (&first.flag, self.mechanism.plus) {
            (CbindFlag::Bind(name), true) => self
                .channel_binding
                .by_name(name)
                .ok_or_else(|| SaslError::ChannelBindingType(name.clone()))?,
            (CbindFlag::Bind(_), false) => {
                return Err(parse_error("client-first", "channel binding without -PLUS"));
            }
            (_, true) => {
                return Err(parse_error("client-first", "-PLUS without channel binding"));
            }
            (CbindFlag::ClientOnly, false) if !self.channel_binding.is_empty() => {
                return Err(SaslError::ChannelBindingDowngrade);
            }
            (CbindFlag::No | CbindFlag::ClientOnly, false) => &[],
        };
        let mut expected_cbind = first.gs2_header.as_bytes().to_vec();
        expected_cbind.extend_from_slice(cbind_data);
        let server_nonce = match self.server_nonce {
            Some(n) => n,
            None => random_nonce()?,
        };
        Ok(ScramNeedCredentials {
            username: first.username,
            authzid: first.authzid,
            mechanism: self.mechanism,
            expected_cbind,
            client_first_bare: first.bare.to_owned(),
            nonce: format!("{}{server_nonce}", first.nonce),
        })
    }
}

fn random_nonce() -> Result<String, SaslError> {
    let mut bytes = [0u8; 18];
    getrandom::fill(&mut bytes).map_err(|_| SaslError::Lookup)?;
    Ok(STANDARD.encode(bytes))
}

/// Client-first was fine; the caller now looks up `username`'s credentials.
#[derive(Debug)]
pub struct ScramNeedCredentials {
    /// The SASLname-decoded username (not yet normalised as a JID localpart).
    pub username: String,
    /// The authorization identity, if the client asked for one.
    pub authzid: Option<String>,
    mechanism: ScramMechanism,
    expected_cbind: Vec<u8>,
    client_first_bare: String,
    nonce: String,
}

impl ScramNeedCredentials {
    /// The mechanism in use (the lookup needs its hash family).
    #[must_use]
    pub fn mechanism(&self) -> ScramMechanism {
        self.mechanism
    }

    /// Continue with the looked-up credentials (`None` for an unknown user, or credentials of
    /// another hash family) and get server-first-message to send.
    #[must_use]
    pub fn with_credentials(
        self,
        found: Option<ScramCredentials>,
        unknown: &UnknownUserKey,
    ) -> (ScramAwaitingFinal, Vec<u8>) {
        let hash = self.mechanism.hash;
        let (credentials, known) = match found {
            Some(c) if c.hash == hash => (c, true),
            _ => (
                ScramCredentials::fake(hash, &unknown.secret, &self.username, unknown.iterations),
                false,
            ),
        };
        let server_first =
            scram_messages::server_first(&self.nonce, &credentials.salt, credentials.iterations);
        let auth_message_prefix = format!("{},{server_first}", self.client_first_bare);
        let next = ScramAwaitingFinal {
            username: self.username,
            authzid: self.authzid,
            credentials,
            known,
            expected_cbind: self.expected_cbind,
            nonce: self.nonce,
            auth_message_prefix,
        };
        (next, server_first.into_bytes())
    }
}

/// Server-first was sent; waiting for client-final.
#[derive(Debug)]
pub struct ScramAwaitingFinal {
    username: String,
    authzid: Option<String>,
    credentials: ScramCredentials,
    known: bool,
    expected_cbind: Vec<u8>,
    nonce: String,
    auth_message_prefix: String,
}

/// A successful exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramSuccess {
    /// server-final-message, to send in `<success/>`.
    pub server_final: Vec<u8>,
    /// Who authenticated.
    pub username: String,
    /// Who they asked to act as, if anyone (the caller decides if that is allowed).
    pub authzid: Option<String>,
}

impl ScramAwaitingFinal {
    /// Read client-final-message and verify the proof.
    pub fn client_final(self, msg: &[u8]) -> Result<ScramSuccess, SaslError> {
        let msg = std::str::from_utf8(msg).map_err(|_| parse_error("client-final", "not UTF-8"))?;
        let fin = scram_messages::parse_client_final(msg)?;
        if fin.nonce != self.nonce {
            return Err(SaslError::Nonce);
        }
        if !bool::from(fin.channel_binding.ct_eq(&self.expected_cbind)) {
            return Err(SaslError::ChannelBindingMismatch);
        }
        let hash = self.credentials.hash;
        let auth_message = format!("{},{}", self.auth_message_prefix, fin.without_proof);
        let client_signature = hash.hmac(&self.credentials.stored_key, auth_message.as_bytes());
        if fin.proof.len() != client_signature.len() {
            return Err(parse_error("client-final", "proof has the wrong length"));
        }
        let client_key: Vec<u8> = fin
            .proof
            .iter()
            .zip(&client_signature)
            .map(|(p, s)| p ^ s)
            .collect();
        let matches = hash.hash(&client_key).ct_eq(&self.credentials.stored_key);
        // Unknown users take the same path and fail here, like a wrong password.
        if !(bool::from(matches) && self.known) {
            return Err(SaslError::Verify);
        }
        let server_signature = hash.hmac(&self.credentials.server_key, auth_message.as_bytes());
        Ok(ScramSuccess {
            server_final: scram_messages::server_final(&server_signature).into_bytes(),
            username: self.username,
            authzid: self.authzid,
        })
    }
}
