//! The DNS records the operator must create: RFC 6120 / XEP-0368 SRV records and names for every
//! service subdomain (RFC 2782 "no service" records for listeners that are off).

use crate::model::Model;
use std::fmt::Write as _;

const TTL: u32 = 3600;

pub fn render(model: &Model) -> String {
    let d = &model.domain;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "; DNS records for {d} (deployment `{}`), rendered by deploy.",
        model.name
    );
    let _ = writeln!(
        out,
        "; {d} itself needs A and/or AAAA records for this host."
    );
    let p = &model.ports;
    let srv = [
        ("_xmpp-client", p.c2s),
        ("_xmpps-client", p.c2s_direct_tls),
        ("_xmpp-server", p.s2s),
        ("_xmpps-server", p.s2s_direct_tls),
    ];
    for (service, port) in srv {
        match port {
            Some(port) => {
                let _ = writeln!(out, "{service}._tcp.{d}. {TTL} IN SRV 5 0 {port} {d}.");
            }
            None => {
                let _ = writeln!(out, "{service}._tcp.{d}. {TTL} IN SRV 0 0 0 .");
            }
        }
    }
    for sub in model.all_domains().into_iter().skip(1) {
        let _ = writeln!(out, "{sub}. {TTL} IN CNAME {d}.");
    }
    // Other servers reach the MUC service over s2s by its own name.
    if let (Some(muc), Some(port)) = (&model.muc, p.s2s) {
        let _ = writeln!(
            out,
            "_xmpp-server._tcp.{}. {TTL} IN SRV 5 0 {port} {d}.",
            muc.domain
        );
    }
    out
}
