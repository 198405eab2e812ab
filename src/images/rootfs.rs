//! A root filesystem assembled in memory as a deterministic tar stream (POSIX ustar/GNU
//! headers), and its content hash. Same entries give the same bytes: entries are sorted,
//! times are zero and owners are numeric, so the hash names the content, not the moment.

use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;

/// The unprivileged user the xmppd image runs as.
pub const XMPPD_UID: u64 = 10000;

/// One entry of the root filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Dir { mode: u32, uid: u64, gid: u64 },
    File { mode: u32, data: Vec<u8> },
}

/// A root filesystem being assembled. Paths are absolute (`/etc/passwd`); parent folders are
/// added as `0755 root` unless added explicitly.
#[derive(Debug, Default, Clone)]
pub struct Rootfs {
    entries: BTreeMap<String, Entry>,
}

impl Rootfs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a folder with its mode and owner.
    pub fn dir(&mut self, path: &str, mode: u32, uid: u64, gid: u64) -> &mut Self {
        self.parents(path);
        self.entries
            .insert(key(path), Entry::Dir { mode, uid, gid });
        self
    }

    /// Adds a file owned by root.
    pub fn file(&mut self, path: &str, mode: u32, data: impl Into<Vec<u8>>) -> &mut Self {
        self.parents(path);
        self.entries.insert(
            key(path),
            Entry::File {
                mode,
                data: data.into(),
            },
        );
        self
    }

    fn parents(&mut self, path: &str) {
        let rel = key(path);
        let mut prefix = String::new();
        let mut parts = rel.split('/').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                break;
            }
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            self.entries.entry(prefix.clone()).or_insert(Entry::Dir {
                mode: 0o755,
                uid: 0,
                gid: 0,
            });
        }
    }

    /// The tar stream: folders before their contents (sorted paths), every time zero.
    pub fn tar(&self) -> std::io::Result<Vec<u8>> {
        let mut builder = tar::Builder::new(Vec::new());
        builder.mode(tar::HeaderMode::Deterministic);
        for (path, entry) in &self.entries {
            let mut header = tar::Header::new_gnu();
            header.set_mtime(0);
            match entry {
                Entry::Dir { mode, uid, gid } => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_mode(*mode);
                    header.set_uid(*uid);
                    header.set_gid(*gid);
                    header.set_size(0);
                    builder.append_data(&mut header, format!("{path}/"), std::io::empty())?;
                }
                Entry::File { mode, data } => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_mode(*mode);
                    header.set_uid(0);
                    header.set_gid(0);
                    header.set_size(data.len() as u64);
                    builder.append_data(&mut header, path, data.as_slice())?;
                }
            }
        }
        builder.into_inner()
    }
}

/// Tar paths are relative (`etc/passwd`).
fn key(path: &str) -> String {
    path.trim_matches('/').to_owned()
}

/// The hex SHA-256 of the root tarball and the image settings applied on import, so a change
/// to either gives a new tag.
pub fn content_hash(tar: &[u8], changes: &[String]) -> String {
    let mut h = Sha256::new();
    h.update(tar);
    for c in changes {
        h.update([0u8]);
        h.update(c.as_bytes());
    }
    h.finalize()
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(tar: &[u8]) -> Vec<(String, u64, u32)> {
        let mut archive = tar::Archive::new(tar);
        archive
            .entries()
            .expect("entries")
            .map(|e| {
                let e = e.expect("entry");
                let h = e.header();
                (
                    e.path().expect("path").display().to_string(),
                    h.uid().expect("uid"),
                    h.mode().expect("mode"),
                )
            })
            .collect()
    }

    #[test]
    fn same_entries_give_same_bytes_and_hash() {
        let build = || {
            let mut r = Rootfs::new();
            r.file("/etc/passwd", 0o644, "root:x:0:0::/:/x\n");
            r.dir("/data", 0o700, XMPPD_UID, XMPPD_UID);
            r.tar().expect("tar")
        };
        let (a, b) = (build(), build());
        assert_eq!(a, b);
        assert_eq!(content_hash(&a, &[]), content_hash(&b, &[]));
        assert_ne!(
            content_hash(&a, &[]),
            content_hash(&a, &["USER 1".to_owned()])
        );
        assert_eq!(content_hash(&a, &[]).len(), 64);
    }

    #[test]
    fn parents_come_first_with_owners_kept() {
        let mut r = Rootfs::new();
        r.file("/usr/sbin/nginx", 0o755, vec![1, 2, 3]);
        r.dir("/var/lib/xmppd", 0o700, XMPPD_UID, XMPPD_UID);
        let got = entries(&r.tar().expect("tar"));
        assert_eq!(
            got,
            vec![
                ("usr/".to_owned(), 0, 0o755),
                ("usr/sbin/".to_owned(), 0, 0o755),
                ("usr/sbin/nginx".to_owned(), 0, 0o755),
                ("var/".to_owned(), 0, 0o755),
                ("var/lib/".to_owned(), 0, 0o755),
                ("var/lib/xmppd/".to_owned(), XMPPD_UID, 0o700),
            ]
        );
    }
}
