//! Name checks: DNS labels and domains (RFC 1123), public domains, bare JIDs (RFC 7622).

/// A DNS label: 1-63 of `a-z 0-9 -`, not starting or ending with `-`.
pub fn is_dns_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// A lower-case DNS name made of valid labels, at most 253 characters.
pub fn is_domain(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(is_dns_label)
}

/// Names no public CA will certify: single labels and RFC 2606/6761/6762/8375 reserved suffixes.
pub fn is_public_domain(name: &str) -> bool {
    const PRIVATE: &[&str] = &[
        "test",
        "localhost",
        "invalid",
        "example",
        "local",
        "internal",
        "lan",
        "home.arpa",
    ];
    name.contains('.')
        && !PRIVATE
            .iter()
            .any(|suffix| name == *suffix || name.ends_with(&format!(".{suffix}")))
        && !name.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// Checks that `jid` is a bare JID `node@domain` with a node RFC 7622 allows.
pub fn bare_jid_parts(jid: &str) -> Result<(&str, &str), &'static str> {
    let (node, domain) = jid
        .split_once('@')
        .ok_or("is not a JID of the form user@domain")?;
    if node.is_empty() || node.len() > 1023 {
        return Err("has an empty or overlong user part");
    }
    if node
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "\"&'/:<>@".contains(c))
    {
        return Err("has a character that a JID's user part may not contain");
    }
    if domain.contains('/') {
        return Err("is a full JID; give the bare JID (no /resource)");
    }
    Ok((node, domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_domains() {
        assert!(is_dns_label("conference"));
        assert!(!is_dns_label("-x"));
        assert!(!is_dns_label("Upload"));
        assert!(!is_dns_label("a_b"));
        assert!(is_domain("chat.example.org"));
        assert!(!is_domain("chat..example.org"));
    }

    #[test]
    fn public_domains() {
        assert!(is_public_domain("example.org"));
        assert!(!is_public_domain("xmpp.test"));
        assert!(!is_public_domain("localhost"));
        assert!(!is_public_domain("10.0.0.1"));
    }

    #[test]
    fn jids() {
        assert_eq!(
            bare_jid_parts("admin@example.org"),
            Ok(("admin", "example.org"))
        );
        assert!(bare_jid_parts("example.org").is_err());
        assert!(bare_jid_parts("a b@example.org").is_err());
        assert!(bare_jid_parts("a@example.org/res").is_err());
    }
}
