//! The TLS policy in one place: profile -> concrete suites, curves and minimum version, for
//! nginx (OpenSSL names) and xmppd (rustls names). Mozilla's server-side TLS guidelines
//! (intermediate, modern) and RFC 8446 (TLS 1.3 suites) are the references.

use super::suites::{DEFAULT_GROUPS, GROUPS, INTERMEDIATE, SUITES, TLS13_RUSTLS, group, suite};
use crate::diag::Diagnostic;
use crate::spec::{TlsProfile, TlsVersion};

/// The concrete policy every TLS endpoint uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPolicy {
    pub min_version: TlsVersion,
    /// TLS 1.2 suites for nginx, OpenSSL names, in preference order (empty for TLS 1.3 only).
    pub openssl_ciphers: Vec<&'static str>,
    /// Groups for nginx, OpenSSL names.
    pub openssl_groups: Vec<&'static str>,
    /// Suites for xmppd, rustls names (TLS 1.3 first).
    pub rustls_suites: Vec<&'static str>,
    /// Groups for xmppd, rustls names.
    pub rustls_groups: Vec<&'static str>,
    /// Server picks the suite (custom lists are ordered by preference; Mozilla says off otherwise).
    pub prefer_server_ciphers: bool,
}

/// What the spec says about TLS, by field.
#[derive(Debug, Clone, Copy)]
pub struct PolicyInput<'a> {
    pub profile: TlsProfile,
    pub ciphers: Option<&'a [String]>,
    pub curves: Option<&'a [String]>,
    pub min_version: Option<TlsVersion>,
}

/// Resolves the policy; every problem is a diagnostic on `tls.*`, nothing is dropped silently.
pub fn resolve(input: PolicyInput<'_>, diags: &mut Vec<Diagnostic>) -> TlsPolicy {
    if input.profile != TlsProfile::Custom {
        for (set, key) in [
            (input.ciphers.is_some(), "ciphers"),
            (input.curves.is_some(), "curves"),
            (input.min_version.is_some(), "min_version"),
        ] {
            if set {
                diags.push(
                    Diagnostic::error(format!("tls.{key}"), "only used with `profile: custom`")
                        .with_hint("set `tls.profile: custom` or remove it"),
                );
            }
        }
    }
    let groups = |names: Vec<&'static str>| -> (Vec<&'static str>, Vec<&'static str>) {
        let rustls = names
            .iter()
            .filter_map(|n| group(n).and_then(|g| g.rustls))
            .collect();
        (names, rustls)
    };
    match input.profile {
        TlsProfile::Modern => {
            let (openssl_groups, rustls_groups) = groups(DEFAULT_GROUPS.to_vec());
            TlsPolicy {
                min_version: TlsVersion::Tls13,
                openssl_ciphers: Vec::new(),
                openssl_groups,
                rustls_suites: TLS13_RUSTLS.to_vec(),
                rustls_groups,
                prefer_server_ciphers: false,
            }
        }
        TlsProfile::Intermediate => {
            let (openssl_groups, rustls_groups) = groups(DEFAULT_GROUPS.to_vec());
            let mut rustls_suites = TLS13_RUSTLS.to_vec();
            rustls_suites.extend(INTERMEDIATE.iter().filter_map(|n| suite(n)).map(|s| s.iana));
            TlsPolicy {
                min_version: TlsVersion::Tls12,
                openssl_ciphers: INTERMEDIATE.to_vec(),
                openssl_groups,
                rustls_suites,
                rustls_groups,
                prefer_server_ciphers: false,
            }
        }
        TlsProfile::Custom => custom(input, diags),
    }
}

fn custom(input: PolicyInput<'_>, diags: &mut Vec<Diagnostic>) -> TlsPolicy {
    let min_version = input.min_version.unwrap_or(TlsVersion::Tls12);
    let mut openssl_ciphers = Vec::new();
    let mut rustls_suites = TLS13_RUSTLS.to_vec();
    for (i, name) in input.ciphers.unwrap_or_default().iter().enumerate() {
        let path = format!("tls.ciphers[{i}]");
        let Some(found) = suite(name) else {
            diags.push(unknown_suite(path, name));
            continue;
        };
        openssl_ciphers.push(found.openssl);
        if !found.aead {
            diags.push(Diagnostic::warning(
                path.clone(),
                format!("`{name}` is a CBC suite: a Mozilla intermediate check will fail"),
            ));
        }
        if !found.pfs {
            diags.push(Diagnostic::warning(
                path.clone(),
                format!("`{name}` has no forward secrecy"),
            ));
        }
        if found.rustls {
            rustls_suites.push(found.iana);
        } else {
            diags.push(Diagnostic::warning(
                path,
                format!(
                    "rustls cannot do `{name}` (it offers ECDHE with AEAD only): left out of \
                     xmppd's list, nginx keeps it"
                ),
            ));
        }
    }
    if min_version == TlsVersion::Tls12 && openssl_ciphers.is_empty() {
        diags.push(
            Diagnostic::error("tls.ciphers", "no usable TLS 1.2 cipher suite")
                .with_hint("list OpenSSL suite names, or set `min_version: \"1.3\"`"),
        );
    }
    if min_version == TlsVersion::Tls12 && rustls_suites.len() == TLS13_RUSTLS.len() {
        diags.push(Diagnostic::warning(
            "tls.ciphers",
            "no suite rustls can do for TLS 1.2: xmppd will speak TLS 1.3 only",
        ));
    }
    let mut openssl_groups = Vec::new();
    let mut rustls_groups = Vec::new();
    let curves: Vec<String> = match input.curves {
        Some(c) => c.to_vec(),
        None => DEFAULT_GROUPS.iter().map(|s| (*s).to_owned()).collect(),
    };
    for (i, name) in curves.iter().enumerate() {
        let path = format!("tls.curves[{i}]");
        match group(name) {
            None => {
                let known: Vec<String> = GROUPS.iter().map(|g| g.openssl.to_owned()).collect();
                diags.push(
                    Diagnostic::error(path, format!("`{name}` is not a key-exchange group"))
                        .with_hint(
                            crate::schema_check::suggest(name, &known).replace("keys", "groups"),
                        ),
                );
            }
            Some(g) => {
                openssl_groups.push(g.openssl);
                match g.rustls {
                    Some(r) => rustls_groups.push(r),
                    None => diags.push(Diagnostic::warning(
                        path,
                        format!("rustls cannot do `{name}`: left out of xmppd's list"),
                    )),
                }
            }
        }
    }
    if input.curves.is_some() && rustls_groups.is_empty() {
        diags.push(Diagnostic::error(
            "tls.curves",
            "no group that xmppd (rustls) can use",
        ));
    }
    TlsPolicy {
        min_version,
        openssl_ciphers,
        openssl_groups,
        rustls_suites,
        rustls_groups,
        prefer_server_ciphers: true,
    }
}

fn unknown_suite(path: String, name: &str) -> Diagnostic {
    if let Some(by_iana) = SUITES.iter().find(|s| s.iana == name) {
        return Diagnostic::error(
            path,
            format!("`{name}` is an IANA name; use the OpenSSL name"),
        )
        .with_hint(format!("did you mean `{}`?", by_iana.openssl));
    }
    let openssl_like = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if openssl_like {
        // The seed's `...-GCM-SHA512` names: OpenSSL skips them without a word. Say so.
        Diagnostic::warning(
            path,
            format!("OpenSSL knows no suite `{name}` (it would ignore it silently): left out"),
        )
    } else {
        let known: Vec<String> = SUITES.iter().map(|s| s.openssl.to_owned()).collect();
        Diagnostic::error(path, format!("`{name}` is not a cipher suite name"))
            .with_hint(crate::schema_check::suggest(name, &known).replace("keys", "suites"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom_policy(ciphers: &[&str], curves: &[&str]) -> (TlsPolicy, Vec<Diagnostic>) {
        let ciphers: Vec<String> = ciphers.iter().map(|s| (*s).to_owned()).collect();
        let curves: Vec<String> = curves.iter().map(|s| (*s).to_owned()).collect();
        let mut diags = Vec::new();
        let input = PolicyInput {
            profile: TlsProfile::Custom,
            ciphers: Some(&ciphers),
            curves: Some(&curves),
            min_version: None,
        };
        (resolve(input, &mut diags), diags)
    }

    #[test]
    fn intermediate_is_ecdhe_aead_with_tls13() {
        let mut diags = Vec::new();
        let input = PolicyInput {
            profile: TlsProfile::Intermediate,
            ciphers: None,
            curves: None,
            min_version: None,
        };
        let p = resolve(input, &mut diags);
        assert!(diags.is_empty());
        assert_eq!(p.min_version, TlsVersion::Tls12);
        assert_eq!(p.openssl_groups, ["X25519", "prime256v1", "secp384r1"]);
        assert_eq!(p.rustls_suites.len(), 9);
        assert!(p.openssl_ciphers.iter().all(|n| n.starts_with("ECDHE-")));
    }

    #[test]
    fn the_seed_list_is_expressible_with_a_warning_for_each_oddity() {
        let seed = "ECDHE-RSA-AES256-GCM-SHA512:DHE-RSA-AES256-GCM-SHA512:ECDHE-RSA-AES256-GCM-SHA384:\
DHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES256-SHA:DHE-RSA-AES256-SHA:\
ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256";
        let names: Vec<&str> = seed.split(':').collect();
        let (p, diags) = custom_policy(&names, &["secp384r1", "secp521r1"]);
        assert!(diags.iter().all(|d| !d.is_error()), "{diags:#?}");
        let unknown = diags
            .iter()
            .filter(|d| d.message.contains("OpenSSL knows no suite"))
            .count();
        assert_eq!(unknown, 2);
        let cbc = diags.iter().filter(|d| d.message.contains("CBC")).count();
        assert_eq!(cbc, 4);
        assert_eq!(p.openssl_ciphers.len(), 7);
        assert_eq!(
            p.rustls_suites[3..],
            [
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
            ]
        );
        // rustls (aws-lc-rs) has no secp521r1: dropped for xmppd with a warning.
        assert_eq!(p.rustls_groups, ["secp384r1"]);
        assert!(diags.iter().any(|d| d.path == "tls.curves[1]"));
        assert!(p.prefer_server_ciphers);
    }

    #[test]
    fn iana_names_and_garbage_are_errors_with_hints() {
        let names = [
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "rc4-md5",
            "ECDHE-RSA-AES128-GCM-SHA256",
        ];
        let (_, diags) = custom_policy(&names, &["X25519"]);
        assert_eq!(diags.len(), 2, "{diags:#?}");
        assert!(diags.iter().all(Diagnostic::is_error));
        assert_eq!(
            diags[0].hint.as_deref(),
            Some("did you mean `ECDHE-RSA-AES128-GCM-SHA256`?")
        );
        assert_eq!(diags[1].path, "tls.ciphers[1]");
    }

    #[test]
    fn custom_fields_need_the_custom_profile() {
        let ciphers = vec!["ECDHE-RSA-AES128-GCM-SHA256".to_owned()];
        let mut diags = Vec::new();
        let input = PolicyInput {
            profile: TlsProfile::Modern,
            ciphers: Some(&ciphers),
            curves: None,
            min_version: None,
        };
        let p = resolve(input, &mut diags);
        assert_eq!(p.min_version, TlsVersion::Tls13);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].path, "tls.ciphers");
    }

    #[test]
    fn unknown_curves_are_errors() {
        let (_, diags) = custom_policy(&["ECDHE-RSA-AES128-GCM-SHA256"], &["secp384r2"]);
        assert!(
            diags
                .iter()
                .any(|d| d.is_error() && d.path == "tls.curves[0]")
        );
    }
}
