//! When to issue or renew a certificate: a pure decision from the names wanted, the existing
//! certificate (if any), the time and `--force`. Renew when less than a third of the lifetime
//! is left (what certbot and Let's Encrypt recommend: day 60 of 90).

use std::collections::BTreeSet;

/// What matters of an existing certificate for the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    /// DNS names of the leaf (subjectAltName), lower case.
    pub names: BTreeSet<String>,
    /// Unix seconds.
    pub not_before: i64,
    /// Unix seconds.
    pub not_after: i64,
}

/// Why a certificate is (re)issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// There is no certificate yet (or it could not be read).
    Missing,
    /// `--force`.
    Forced,
    /// The certificate lacks names the spec now needs.
    NamesMissing(Vec<String>),
    /// It has expired.
    Expired,
    /// Less than a third of its lifetime is left.
    Expiring { seconds_left: i64, lifetime: i64 },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing => f.write_str("no certificate yet"),
            Self::Forced => f.write_str("--force"),
            Self::NamesMissing(names) => write!(f, "it does not cover {}", names.join(", ")),
            Self::Expired => f.write_str("it has expired"),
            Self::Expiring {
                seconds_left,
                lifetime,
            } => write!(
                f,
                "{} of {} days left (renewal at a third)",
                seconds_left / DAY,
                lifetime / DAY
            ),
        }
    }
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The existing certificate is good: keep it.
    Keep { days_left: i64 },
    /// Issue a new certificate.
    Issue(Reason),
}

const DAY: i64 = 86_400;

/// Decides whether to issue. `wanted` are lower-case DNS names; `now` is Unix seconds.
pub fn decide(
    wanted: &BTreeSet<String>,
    existing: Option<&Existing>,
    now: i64,
    force: bool,
) -> Decision {
    let Some(cert) = existing else {
        return Decision::Issue(Reason::Missing);
    };
    if force {
        return Decision::Issue(Reason::Forced);
    }
    let missing: Vec<String> = wanted.difference(&cert.names).cloned().collect();
    if !missing.is_empty() {
        return Decision::Issue(Reason::NamesMissing(missing));
    }
    let seconds_left = cert.not_after - now;
    if seconds_left <= 0 {
        return Decision::Issue(Reason::Expired);
    }
    let lifetime = (cert.not_after - cert.not_before).max(1);
    // seconds_left < lifetime / 3, without rounding loss.
    if seconds_left * 3 < lifetime {
        return Decision::Issue(Reason::Expiring {
            seconds_left,
            lifetime,
        });
    }
    Decision::Keep {
        days_left: seconds_left / DAY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn cert(list: &[&str], not_before: i64, days: i64) -> Existing {
        Existing {
            names: names(list),
            not_before,
            not_after: not_before + days * DAY,
        }
    }

    const T0: i64 = 1_700_000_000;

    #[test]
    fn no_certificate_means_issue() {
        let d = decide(&names(&["a.test"]), None, T0, false);
        assert_eq!(d, Decision::Issue(Reason::Missing));
    }

    #[test]
    fn a_fresh_covering_certificate_is_kept() {
        let c = cert(&["a.test", "muc.a.test"], T0, 90);
        let d = decide(&names(&["a.test", "muc.a.test"]), Some(&c), T0 + DAY, false);
        assert_eq!(d, Decision::Keep { days_left: 89 });
    }

    #[test]
    fn force_renews_a_good_certificate() {
        let c = cert(&["a.test"], T0, 90);
        let d = decide(&names(&["a.test"]), Some(&c), T0, true);
        assert_eq!(d, Decision::Issue(Reason::Forced));
    }

    #[test]
    fn a_missing_subdomain_means_issue() {
        let c = cert(&["a.test"], T0, 90);
        let d = decide(&names(&["a.test", "upload.a.test"]), Some(&c), T0, false);
        assert_eq!(
            d,
            Decision::Issue(Reason::NamesMissing(vec!["upload.a.test".to_owned()]))
        );
    }

    #[test]
    fn extra_names_on_the_certificate_are_fine() {
        let c = cert(&["a.test", "old.a.test"], T0, 90);
        let d = decide(&names(&["a.test"]), Some(&c), T0, false);
        assert!(matches!(d, Decision::Keep { .. }));
    }

    #[test]
    fn renewal_starts_when_less_than_a_third_is_left() {
        let c = cert(&["a.test"], T0, 90);
        let wanted = names(&["a.test"]);
        // Exactly 30 of 90 days left: a third, not less: keep.
        let at_third = T0 + 60 * DAY;
        assert_eq!(
            decide(&wanted, Some(&c), at_third, false),
            Decision::Keep { days_left: 30 }
        );
        let d = decide(&wanted, Some(&c), at_third + 1, false);
        assert!(
            matches!(d, Decision::Issue(Reason::Expiring { .. })),
            "{d:?}"
        );
        assert_eq!(
            d,
            Decision::Issue(Reason::Expiring {
                seconds_left: 30 * DAY - 1,
                lifetime: 90 * DAY
            })
        );
    }

    #[test]
    fn short_lived_certificates_follow_the_same_third() {
        // A 3-hour certificate is renewed in its last hour.
        let c = Existing {
            names: names(&["a.test"]),
            not_before: T0,
            not_after: T0 + 3 * 3600,
        };
        let wanted = names(&["a.test"]);
        assert!(matches!(
            decide(&wanted, Some(&c), T0 + 3600, false),
            Decision::Keep { .. }
        ));
        assert!(matches!(
            decide(&wanted, Some(&c), T0 + 2 * 3600 + 1, false),
            Decision::Issue(Reason::Expiring { .. })
        ));
    }

    #[test]
    fn an_expired_certificate_is_replaced() {
        let c = cert(&["a.test"], T0, 90);
        let d = decide(&names(&["a.test"]), Some(&c), T0 + 91 * DAY, false);
        assert_eq!(d, Decision::Issue(Reason::Expired));
        assert_eq!(Reason::Expired.to_string(), "it has expired");
    }
}
