//! The xmppd image: the static binary alone in an empty root (`FROM scratch` equivalent), with
//! a passwd/group naming the unprivileged user it runs as and data folders owned by that user.
//!
//! No CA roots are shipped as files: xmppd has webpki-roots compiled in for s2s (plus the
//! config's `s2s.ca_file`). Docker writes `/etc/resolv.conf`, which the SRV lookups read.

use super::rootfs::{Rootfs, XMPPD_UID};
use super::{ImagesError, LABEL_COMPONENT};
use std::path::Path;

/// Where the binary lives inside the image.
pub const BINARY: &str = "/usr/local/bin/xmppd";
/// Where the rendered config is mounted (render's default `--root` is `/deploy`).
pub const CONFIG: &str = "/deploy/xmppd/xmppd.toml";
/// Folders owned by the xmppd user: `/var/lib/xmppd` is the rendered config's `data_dir`, and
/// `uploads` in it xmppd's default upload folder; deploy mounts a named volume on each. Such a
/// volume starts with this owner, because the engine copies the image folder's owner into an
/// empty volume.
pub const DATA_DIRS: [&str; 2] = ["/var/lib/xmppd", "/var/lib/xmppd/uploads"];

/// The dynamic loader's path appears in every dynamically linked x86-64 executable
/// (`PT_INTERP`); a static-pie has none.
const INTERPRETER: &[u8] = b"/lib64/ld-linux-x86-64.so.2";

/// The root filesystem of the xmppd image, from the binary at `binary`.
pub fn rootfs(binary: &Path) -> Result<Rootfs, ImagesError> {
    let bytes = std::fs::read(binary).map_err(|source| ImagesError::ReadFile {
        path: binary.to_path_buf(),
        source,
    })?;
    // The interpreter string sits in the first page of the file, right after the headers.
    let head = &bytes[..bytes.len().min(4096)];
    if head.windows(INTERPRETER.len()).any(|w| w == INTERPRETER) {
        return Err(ImagesError::NotStatic {
            path: binary.to_path_buf(),
        });
    }
    let uid = XMPPD_UID;
    let mut root = Rootfs::new();
    root.file(BINARY, 0o755, bytes)
        .file(
            "/etc/passwd",
            0o644,
            format!("root:x:0:0:root:/root:/sbin/nologin\nxmppd:x:{uid}:{uid}:xmppd:/var/lib/xmppd:/sbin/nologin\n"),
        )
        .file(
            "/etc/group",
            0o644,
            format!("root:x:0:\nxmppd:x:{uid}:\n"),
        )
        .dir("/tmp", 0o1777, 0, 0)
        .dir("/deploy", 0o755, 0, 0);
    for dir in DATA_DIRS {
        root.dir(dir, 0o700, uid, uid);
    }
    Ok(root)
}

/// Image settings applied on import.
pub fn changes() -> Vec<String> {
    vec![
        format!("USER {XMPPD_UID}:{XMPPD_UID}"),
        format!("ENTRYPOINT [\"{BINARY}\"]"),
        format!("CMD [\"run\", \"--config\", \"{CONFIG}\"]"),
        "WORKDIR /var/lib/xmppd".to_owned(),
        format!("LABEL {LABEL_COMPONENT}=xmppd"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamically_linked_binary_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("xmppd");
        let mut elf = b"\x7fELF".to_vec();
        elf.extend_from_slice(&[0; 60]);
        elf.extend_from_slice(INTERPRETER);
        std::fs::write(&path, &elf).expect("write");
        assert!(matches!(rootfs(&path), Err(ImagesError::NotStatic { .. })));
    }

    #[test]
    fn a_static_binary_gets_users_and_owned_data_folders() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("xmppd");
        std::fs::write(&path, b"\x7fELF static").expect("write");
        let tar = rootfs(&path).expect("rootfs").tar().expect("tar");
        let mut archive = tar::Archive::new(tar.as_slice());
        let mut seen = Vec::new();
        for entry in archive.entries().expect("entries") {
            let mut entry = entry.expect("entry");
            let name = entry.path().expect("path").display().to_string();
            let uid = entry.header().uid().expect("uid");
            let mut text = String::new();
            if name == "etc/passwd" {
                std::io::Read::read_to_string(&mut entry, &mut text).expect("passwd");
                assert!(text.contains("xmppd:x:10000:10000:"), "{text}");
            }
            seen.push((name, uid));
        }
        for dir in DATA_DIRS {
            let name = format!("{}/", dir.trim_start_matches('/'));
            assert!(seen.contains(&(name, XMPPD_UID)), "{seen:?}");
        }
        assert!(seen.contains(&("usr/local/bin/xmppd".to_owned(), 0)));
    }
}
