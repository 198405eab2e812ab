//! Where a remote domain's server listens (RFC 6120 §3.2, XEP-0368): a static route from
//! `s2s.connect_overrides` first; else SRV `_xmpps-server._tcp` (direct TLS) and
//! `_xmpp-server._tcp` (STARTTLS), by priority; else the domain itself on 5269.

use hickory_resolver::TokioResolver;
use std::collections::BTreeMap;
use tokio::sync::OnceCell;

/// The default s2s port (RFC 6120 §14.7).
const DEFAULT_PORT: u16 = 5269;
/// Targets tried per domain at most, so a hostile zone cannot make us dial forever.
const MAX_TARGETS: usize = 8;

/// One place to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub host: String,
    pub port: u16,
    /// TLS from the first byte (XEP-0368) instead of STARTTLS.
    pub direct_tls: bool,
}

/// The DNS resolver, made at first use (it reads the system's resolver config).
#[derive(Default)]
pub(crate) struct Resolver {
    dns: OnceCell<Option<TokioResolver>>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Resolver")
    }
}

/// The static route of `domain`, parsed.
pub(crate) fn override_for(overrides: &BTreeMap<String, String>, domain: &str) -> Option<Target> {
    let target = overrides
        .iter()
        .find(|(d, _)| d.eq_ignore_ascii_case(domain))
        .map(|(_, t)| t)?;
    let (host, port) = target.rsplit_once(':')?;
    Some(Target {
        host: host.trim_matches(['[', ']']).to_owned(),
        port: port.parse().ok()?,
        direct_tls: false,
    })
}

impl Resolver {
    /// Where to try, in order.
    pub(crate) async fn targets(
        &self,
        overrides: &BTreeMap<String, String>,
        domain: &str,
    ) -> Vec<Target> {
        if let Some(target) = override_for(overrides, domain) {
            return vec![target];
        }
        let mut out = Vec::new();
        if let Some(dns) = self.dns().await {
            for (service, direct_tls) in
                [("_xmpps-server._tcp", true), ("_xmpp-server._tcp", false)]
            {
                let Ok(found) = dns.srv_lookup(format!("{service}.{domain}.")).await else {
                    continue;
                };
                let mut records: Vec<_> = found.iter().collect();
                records.sort_by_key(|r| (r.priority(), u16::MAX - r.weight()));
                for r in records {
                    let host = r.target().to_ascii();
                    let host = host.trim_end_matches('.');
                    // RFC 6120 §3.2.1: a target of "." means the service is not offered.
                    if host.is_empty() {
                        continue;
                    }
                    out.push(Target {
                        host: host.to_owned(),
                        port: r.port(),
                        direct_tls,
                    });
                }
            }
        }
        if out.is_empty() {
            out.push(Target {
                host: domain.to_owned(),
                port: DEFAULT_PORT,
                direct_tls: false,
            });
        }
        out.truncate(MAX_TARGETS);
        out
    }

    async fn dns(&self) -> Option<&TokioResolver> {
        self.dns
            .get_or_init(|| async {
                match TokioResolver::builder_tokio() {
                    Ok(builder) => Some(builder.build()),
                    Err(err) => {
                        tracing::warn!(%err, "no DNS resolver: s2s falls back to A/AAAA");
                        None
                    }
                }
            })
            .await
            .as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_are_case_insensitive_and_parsed() {
        let mut map = BTreeMap::new();
        map.insert("Peer.Test".to_owned(), "127.0.0.21:40001".to_owned());
        map.insert("v6.test".to_owned(), "[::1]:5269".to_owned());
        assert_eq!(
            override_for(&map, "peer.test"),
            Some(Target {
                host: "127.0.0.21".into(),
                port: 40001,
                direct_tls: false
            })
        );
        assert_eq!(
            override_for(&map, "v6.test").map(|t| t.host),
            Some("::1".into())
        );
        assert_eq!(override_for(&map, "other.test"), None);
    }
}
