//! The tables behind the TLS policy: TLS 1.2 suites (OpenSSL and IANA names, RFC 5246 /
//! RFC 8422 / RFC 7905), TLS 1.3 suites (RFC 8446) and key-exchange groups, with what rustls
//! (aws-lc-rs provider) implements.

/// A TLS 1.2 suite: OpenSSL name, IANA name, and what matters about it.
#[derive(Debug, Clone, Copy)]
pub struct Suite {
    pub openssl: &'static str,
    pub iana: &'static str,
    /// Forward secrecy (ECDHE or DHE key exchange).
    pub pfs: bool,
    /// Authenticated encryption (GCM, ChaCha20-Poly1305) rather than CBC.
    pub aead: bool,
    /// rustls (aws-lc-rs) implements it; rustls uses the IANA name.
    pub rustls: bool,
}

const fn s(
    openssl: &'static str,
    iana: &'static str,
    pfs: bool,
    aead: bool,
    rustls: bool,
) -> Suite {
    Suite {
        openssl,
        iana,
        pfs,
        aead,
        rustls,
    }
}

/// Every TLS 1.2 suite a current OpenSSL knows that anyone still configures.
#[rustfmt::skip]
pub const SUITES: &[Suite] = &[
    s("ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", true, true, true),
    s("ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", true, true, true),
    s("ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", true, true, true),
    s("ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", true, true, true),
    s("ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", true, true, true),
    s("ECDHE-RSA-CHACHA20-POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", true, true, true),
    s("DHE-RSA-AES128-GCM-SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", true, true, false),
    s("DHE-RSA-AES256-GCM-SHA384", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", true, true, false),
    s("DHE-RSA-CHACHA20-POLY1305", "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", true, true, false),
    s("ECDHE-ECDSA-AES128-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", true, false, false),
    s("ECDHE-RSA-AES128-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", true, false, false),
    s("ECDHE-ECDSA-AES256-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", true, false, false),
    s("ECDHE-RSA-AES256-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", true, false, false),
    s("ECDHE-ECDSA-AES128-SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", true, false, false),
    s("ECDHE-RSA-AES128-SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", true, false, false),
    s("ECDHE-ECDSA-AES256-SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", true, false, false),
    s("ECDHE-RSA-AES256-SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", true, false, false),
    s("DHE-RSA-AES128-SHA256", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", true, false, false),
    s("DHE-RSA-AES256-SHA256", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", true, false, false),
    s("DHE-RSA-AES128-SHA", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", true, false, false),
    s("DHE-RSA-AES256-SHA", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", true, false, false),
    s("AES128-GCM-SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256", false, true, false),
    s("AES256-GCM-SHA384", "TLS_RSA_WITH_AES_256_GCM_SHA384", false, true, false),
    s("AES128-SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA256", false, false, false),
    s("AES256-SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA256", false, false, false),
    s("AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA", false, false, false),
    s("AES256-SHA", "TLS_RSA_WITH_AES_256_CBC_SHA", false, false, false),
];

/// TLS 1.3 suites as rustls names them; OpenSSL enables all three by default.
pub const TLS13_RUSTLS: &[&str] = &[
    "TLS13_AES_128_GCM_SHA256",
    "TLS13_AES_256_GCM_SHA384",
    "TLS13_CHACHA20_POLY1305_SHA256",
];

/// A key-exchange group: OpenSSL name, other spellings, rustls name if rustls does it.
#[derive(Debug, Clone, Copy)]
pub struct Group {
    pub openssl: &'static str,
    pub aliases: &'static [&'static str],
    pub rustls: Option<&'static str>,
}

#[rustfmt::skip]
pub const GROUPS: &[Group] = &[
    Group { openssl: "X25519", aliases: &["x25519"], rustls: Some("X25519") },
    Group { openssl: "prime256v1", aliases: &["P-256", "secp256r1"], rustls: Some("secp256r1") },
    Group { openssl: "secp384r1", aliases: &["P-384"], rustls: Some("secp384r1") },
    Group { openssl: "secp521r1", aliases: &["P-521"], rustls: None },
    Group { openssl: "X448", aliases: &["x448"], rustls: None },
];

/// Mozilla intermediate: ECDHE with AEAD only.
pub(super) const INTERMEDIATE: &[&str] = &[
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
];
pub(super) const DEFAULT_GROUPS: &[&str] = &["X25519", "prime256v1", "secp384r1"];

pub(super) fn suite(name: &str) -> Option<&'static Suite> {
    SUITES.iter().find(|s| s.openssl == name)
}

pub(super) fn group(name: &str) -> Option<&'static Group> {
    GROUPS
        .iter()
        .find(|g| g.openssl == name || g.aliases.contains(&name))
}
