//! Where each component's image comes from: built here, or an upstream reference with a pull
//! policy. The reference grammar is the engine's (distribution's `reference` package):
//! `[host[:port]/]path[:tag][@algorithm:hex]`, parsed here so a typo is a spec error with
//! its path instead of an engine error halfway through an apply.

use crate::spec::PullPolicy;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageReference {
    /// Registry host (if any) and repository path: `registry.example/team/xmppd`.
    pub name: String,
    pub tag: Option<String>,
    /// `sha256:<hex>`.
    pub digest: Option<String>,
}

/// The longest repository name the engine accepts.
const NAME_MAX: usize = 255;
/// The longest tag the engine accepts.
const TAG_MAX: usize = 128;

impl ImageReference {
    /// Parses `text`; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (rest, digest) = match text.split_once('@') {
            Some((r, d)) => {
                check_digest(d)?;
                (r, Some(d.to_owned()))
            }
            None => (text, None),
        };
        // A `:` after the last `/` starts the tag; one before it belongs to a registry port.
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[slash..].rfind(':') {
            Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(tag) = tag {
            check_tag(tag)?;
        }
        check_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            tag: tag.map(str::to_owned),
            digest,
        })
    }

    /// `fromImage` and `tag` for the engine's pull: a digest wins over a tag, and a reference
    /// with neither means `latest` (an empty tag would pull every tag of the repository).
    pub fn pull_args(&self) -> (String, String) {
        let tag = self
            .digest
            .clone()
            .or_else(|| self.tag.clone())
            .unwrap_or_else(|| "latest".to_owned());
        (self.name.clone(), tag)
    }
}

fn check_digest(d: &str) -> Result<(), String> {
    let Some((algorithm, hex)) = d.split_once(':') else {
        return Err(format!("digest `{d}` lacks `algorithm:`"));
    };
    let algorithm_ok = !algorithm.is_empty()
        && algorithm.split(['+', '.', '-', '_']).all(|c| {
            c.chars().next().is_some_and(|f| f.is_ascii_alphabetic())
                && c.chars().all(|ch| ch.is_ascii_alphanumeric())
        });
    if !algorithm_ok {
        return Err(format!("`{algorithm}` is not a digest algorithm"));
    }
    if hex.len() < 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err("a digest is at least 32 hex digits".to_owned());
    }
    if algorithm == "sha256" && hex.len() != 64 {
        return Err("a sha256 digest is 64 hex digits".to_owned());
    }
    Ok(())
}

fn check_tag(tag: &str) -> Result<(), String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let ok = tag.len() <= TAG_MAX
        && tag.chars().next().is_some_and(word)
        && tag.chars().all(|c| word(c) || c == '.' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "tag `{tag}`: letters, digits, `_`, `.`, `-`, not starting with `.` or `-`, at most {TAG_MAX}"
        ))
    }
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the repository name is empty".to_owned());
    }
    if name.len() > NAME_MAX {
        return Err(format!("the repository name is longer than {NAME_MAX}"));
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    // Like the engine: the first part is a registry when it looks like a host.
    if parts.len() > 1
        && (parts[0].contains(['.', ':'])
            || parts[0] == "localhost"
            || parts[0].chars().any(|c| c.is_ascii_uppercase()))
    {
        check_registry(parts.remove(0))?;
    }
    for part in parts {
        if !is_path_component(part) {
            return Err(format!(
                "`{part}`: repository names are lower-case letters and digits separated by \
                 `.`, `_`, `__` or dashes"
            ));
        }
    }
    Ok(())
}

fn check_registry(host: &str) -> Result<(), String> {
    let (host_name, port) = match host.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (host, None),
    };
    if let Some(p) = port
        && (p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(format!("registry port `{p}` is not a number"));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if host_name.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(format!("`{host_name}` is not a registry host name"))
    }
}

/// `[a-z0-9]+` runs joined by `.`, `_`, `__` or any number of `-`.
fn is_path_component(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(&bytes[0]) || !alnum(&bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(&bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(&bytes[i]) {
            i += 1;
        }
        let sep = &part[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.chars().all(|c| c == '-');
        if !ok {
            return false;
        }
    }
    true
}

/// An image named in the spec, to be pulled as its policy says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// As written in the spec: what containers are created from.
    pub reference: String,
    pub parsed: ImageReference,
    pub pull: PullPolicy,
}

/// Where a component's image comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ImageSource {
    /// Built here from this workspace (xmppd) or the host's nginx.
    #[default]
    Local,
    Upstream(Upstream),
}

impl ImageSource {
    pub fn upstream(&self) -> Option<&Upstream> {
        match self {
            ImageSource::Local => None,
            ImageSource::Upstream(u) => Some(u),
        }
    }
}

/// The image of each component.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Images {
    pub xmppd: ImageSource,
    pub nginx: ImageSource,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> ImageReference {
        ImageReference::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn references_split_into_name_tag_and_digest() {
        let hex = "a".repeat(64);
        let r = parse("registry.example:5000/team/xmppd:1.2");
        assert_eq!(r.name, "registry.example:5000/team/xmppd");
        assert_eq!(r.tag.as_deref(), Some("1.2"));
        assert_eq!(r.pull_args().1, "1.2");
        let r = parse(&format!("ghcr.io/x/nginx:1.27@sha256:{hex}"));
        assert_eq!(r.name, "ghcr.io/x/nginx");
        assert_eq!(r.pull_args().1, format!("sha256:{hex}"));
        let r = parse("localhost:5000/xmppd");
        assert_eq!(
            (r.name.as_str(), r.tag.as_deref()),
            ("localhost:5000/xmppd", None)
        );
        assert_eq!(
            r.pull_args(),
            ("localhost:5000/xmppd".to_owned(), "latest".to_owned())
        );
        assert_eq!(parse("nginx").name, "nginx");
        assert_eq!(
            parse("my_org/my-app__x.y:v1_2-3").name,
            "my_org/my-app__x.y"
        );
    }

    #[test]
    fn bad_references_say_what_is_wrong() {
        for (bad, why) in [
            ("", "empty"),
            ("Registry/X:1", "repository names"),
            ("xmppd:", "tag ``"),
            ("xmppd:-x", "tag `-x`"),
            ("xmppd: 1", "tag ` 1`"),
            ("reg.example:port/x", "port `port`"),
            ("-bad.example/x", "registry host"),
            ("team//x", "``"),
            ("x@sha256:abc", "hex digits"),
            ("x@sha256", "algorithm"),
            (
                "x@1sha:0123456789abcdef0123456789abcdef",
                "digest algorithm",
            ),
            ("x..y", "repository names"),
        ] {
            let err = ImageReference::parse(bad).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
        let long = format!("{}:1", "a".repeat(256));
        assert!(ImageReference::parse(&long).is_err());
        assert!(ImageReference::parse(&format!("x:{}", "t".repeat(129))).is_err());
    }

    /// The diagnostics and (when valid) the model of a spec with this `runtime.images` block.
    fn validate(images: &str) -> crate::Validated {
        let yaml = format!(
            "name: t\ndomain: xmpp.localhost\ntls:\n  certificates:\n    source: local-ca\n\
             runtime:\n  images:\n{images}"
        );
        crate::validate_text(&yaml, std::path::Path::new("/spec")).expect("readable")
    }

    #[test]
    fn the_spec_names_upstream_images_with_a_pull_policy() {
        let v = validate(
            "    xmppd:\n      reference: ghcr.io/example/xmppd:1.2\n      pull: always\n\
             \x20   nginx:\n      reference: registry.example/nginx:1.27\n",
        );
        let model = v.model.unwrap_or_else(|| panic!("{:?}", v.diagnostics));
        let xmppd = model.runtime.images.xmppd.upstream().expect("upstream");
        assert_eq!(xmppd.reference, "ghcr.io/example/xmppd:1.2");
        assert_eq!(xmppd.pull, PullPolicy::Always);
        let nginx = model.runtime.images.nginx.upstream().expect("upstream");
        assert_eq!(nginx.pull, PullPolicy::IfNotPresent, "the default");
        assert!(v.diagnostics.is_empty(), "{:?}", v.diagnostics);
        let local = validate("    xmppd: {}\n").model.expect("valid");
        assert_eq!(local.runtime.images, Images::default());
    }

    #[test]
    fn bad_image_settings_are_errors_at_their_spec_path() {
        let v = validate(
            "    xmppd:\n      reference: Registry.invalid/XMPPD:1\n\
             \x20   nginx:\n      pull: never\n",
        );
        assert!(v.model.is_none());
        let at = |path: &str| {
            v.diagnostics
                .iter()
                .find(|d| d.path == path)
                .unwrap_or_else(|| panic!("no diagnostic at {path}: {:?}", v.diagnostics))
        };
        let reference = at("runtime.images.xmppd.reference");
        assert!(
            reference.message.contains("is not an image reference"),
            "{}",
            reference.message
        );
        let pull = at("runtime.images.nginx.pull");
        assert!(
            pull.message.contains("needs an upstream `reference`"),
            "{}",
            pull.message
        );
        // An unknown policy is a schema error at the same place.
        let v = validate("    xmppd:\n      reference: x/y:1\n      pull: sometimes\n");
        assert!(v.model.is_none());
        assert!(
            v.diagnostics
                .iter()
                .any(|d| d.path == "runtime.images.xmppd.pull"),
            "{:?}",
            v.diagnostics
        );
    }

    #[test]
    fn a_reference_without_tag_or_digest_is_a_warning() {
        let v = validate("    xmppd:\n      reference: registry.example/xmppd\n");
        assert!(v.model.is_some());
        let w = &v.diagnostics[0];
        assert_eq!(w.path, "runtime.images.xmppd.reference");
        assert!(w.message.contains("`latest` is used"), "{}", w.message);
    }
}
