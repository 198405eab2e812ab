//! The nginx image: a minimal root made from the host's Debian nginx: `/usr/sbin/nginx`, the
//! shared libraries `ldd` names (at the paths it names), `mime.types`, a passwd/group with
//! `nobody`/`nogroup` (the workers' default user) and the runtime folders Debian's build
//! compiled in. No shell, no package manager: about 10 MB.

use super::rootfs::Rootfs;
use super::{ImagesError, LABEL_COMPONENT};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian puts nginx.
pub const BINARY: &str = "/usr/sbin/nginx";
/// Where the rendered config is mounted (render's default `--root` is `/deploy`).
pub const CONFIG: &str = "/deploy/nginx/nginx.conf";
const MIME_TYPES: &str = "/etc/nginx/mime.types";
const NOBODY: u64 = 65534;

/// Installs `nginx-light` with apt-get when `/usr/sbin/nginx` is missing.
pub fn install_if_missing() -> Result<(), ImagesError> {
    if Path::new(BINARY).exists() {
        return Ok(());
    }
    let run = |args: &[&str]| -> Result<(), ImagesError> {
        let out = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .map_err(|e| ImagesError::InstallNginx {
                message: e.to_string(),
            })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(ImagesError::InstallNginx {
                message: String::from_utf8_lossy(&out.stderr).into_owned(),
            })
        }
    };
    run(&["update"])?;
    run(&["install", "-y", "--no-install-recommends", "nginx-light"])
}

/// The root filesystem of the nginx image, from the host's nginx.
pub fn rootfs() -> Result<Rootfs, ImagesError> {
    let mut root = Rootfs::new();
    root.file(BINARY, 0o755, read(Path::new(BINARY))?)
        .file(MIME_TYPES, 0o644, read(Path::new(MIME_TYPES))?)
        .file(
            "/etc/passwd",
            0o644,
            "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n",
        )
        .file("/etc/group", 0o644, "root:x:0:\nnogroup:x:65534:\n")
        .dir("/tmp", 0o1777, 0, 0)
        .dir("/run", 0o755, 0, 0)
        .dir("/var/log/nginx", 0o755, 0, 0)
        .dir("/deploy", 0o755, 0, 0);
    // Debian's compiled-in temp paths, used when a config does not name its own.
    for dir in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
        root.dir(&format!("/var/lib/nginx/{dir}"), 0o700, NOBODY, NOBODY);
    }
    for lib in libraries(Path::new(BINARY))? {
        let data = read(&lib)?;
        root.file(&lib.to_string_lossy(), 0o755, data);
    }
    Ok(root)
}

/// Image settings applied on import. nginx starts as root to bind ports below 1024, then its
/// workers run as `nobody`.
pub fn changes() -> Vec<String> {
    vec![
        format!("ENTRYPOINT [\"{BINARY}\"]"),
        format!("CMD [\"-g\", \"daemon off;\", \"-c\", \"{CONFIG}\"]"),
        format!("LABEL {LABEL_COMPONENT}=nginx"),
    ]
}

/// The libraries (and the loader) `ldd` names for `binary`, as absolute paths.
fn libraries(binary: &Path) -> Result<Vec<PathBuf>, ImagesError> {
    let err = |message: String| ImagesError::Ldd {
        path: binary.to_path_buf(),
        message,
    };
    let out = Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|e| err(e.to_string()))?;
    if !out.status.success() {
        return Err(err(String::from_utf8_lossy(&out.stderr).into_owned()));
    }
    let libs = parse_ldd(&String::from_utf8_lossy(&out.stdout));
    if libs.is_empty() {
        return Err(err("no libraries listed".to_owned()));
    }
    Ok(libs)
}

/// Paths from `ldd` output: `libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)` and
/// `/lib64/ld-linux-x86-64.so.2 (0x...)`; the vDSO has no file and is skipped.
fn parse_ldd(out: &str) -> Vec<PathBuf> {
    out.lines()
        .filter_map(|line| {
            let path = match line.split_once("=>") {
                Some((_, right)) => right.split_whitespace().next()?,
                None => line.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

fn read(path: &Path) -> Result<Vec<u8>, ImagesError> {
    // Follows symlinks: the image gets the library itself at the path the loader looks up.
    std::fs::read(path).map_err(|source| ImagesError::ReadFile {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_ldd;
    use std::path::PathBuf;

    #[test]
    fn ldd_output_gives_library_paths() {
        let out = "\tlinux-vdso.so.1 (0x00007ffd)\n\
                   \tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f85)\n\
                   \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f85)\n\
                   \t/lib64/ld-linux-x86-64.so.2 (0x00007f85)\n";
        assert_eq!(
            parse_ldd(out),
            vec![
                PathBuf::from("/lib/x86_64-linux-gnu/libz.so.1"),
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2"),
            ]
        );
    }
}
