//! The state directory: 0700, keys 0600, and every write atomic (temporary file in the same
//! folder, fsync, rename, fsync of the folder), so an interrupted run never leaves half a key
//! or certificate behind.
//!
//! Layout (relative to the state directory):
//! `ca/ca.pem`, `ca/ca.key` (local CA), `acme/account.json` (ACME account, holds its key),
//! `webroot/.well-known/acme-challenge/TOKEN` (HTTP-01 answers while an order runs),
//! `tls/fullchain.pem`, `tls/privkey.pem` (what xmppd and nginx serve),
//! `dh/dh-BITS.pem` (generated DH groups).

use super::error::CertsError;
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Mode of files holding private keys.
pub const KEY_MODE: u32 = 0o600;
/// Mode of public files (certificates, DH groups).
pub const PUBLIC_MODE: u32 = 0o644;
/// Mode of the state directory and its folders.
pub const DIR_MODE: u32 = 0o700;

/// Paths inside the state directory.
pub mod layout {
    pub const CA_CERT: &str = "ca/ca.pem";
    pub const CA_KEY: &str = "ca/ca.key";
    pub const ACME_ACCOUNT: &str = "acme/account.json";
    pub const WEBROOT: &str = "webroot";
    pub const CHALLENGE_DIR: &str = "webroot/.well-known/acme-challenge";
    /// The webroot's folders, outermost first: nginx must be able to traverse them.
    pub const WEBROOT_DIRS: [&str; 3] = [WEBROOT, "webroot/.well-known", CHALLENGE_DIR];
    pub const FULLCHAIN: &str = "tls/fullchain.pem";
    pub const PRIVKEY: &str = "tls/privkey.pem";
    pub const DH_DIR: &str = "dh";
}

/// An opened state directory (created 0700 if missing).
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// Opens (creating with 0700) the state directory; tightens an existing one to 0700.
    pub fn open(root: &Path) -> Result<Self, CertsError> {
        let err = |source| CertsError::StateDir {
            path: root.to_path_buf(),
            source,
        };
        fs::create_dir_all(root).map_err(err)?;
        fs::set_permissions(root, fs::Permissions::from_mode(DIR_MODE)).map_err(err)?;
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Absolute path of `rel` inside the state directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Reads `rel`, or `None` when it does not exist.
    pub fn read(&self, rel: &str) -> Result<Option<Vec<u8>>, CertsError> {
        read_optional(&self.path(rel))
    }

    /// Atomically writes `rel` with `mode`, creating its folders with 0700.
    pub fn write(&self, rel: &str, bytes: &[u8], mode: u32) -> Result<PathBuf, CertsError> {
        let path = self.path(rel);
        self.ensure_dir_of(&path)?;
        write_atomic(&path, bytes, mode)?;
        Ok(path)
    }

    /// Creates the folders above `path` (inside the state directory) with 0700.
    pub fn ensure_dir_of(&self, path: &Path) -> Result<(), CertsError> {
        let Some(dir) = path.parent() else {
            return Ok(());
        };
        ensure_dir(dir, DIR_MODE)
    }
}

/// Creates `dir` (and parents) and sets `mode` on it.
pub fn ensure_dir(dir: &Path, mode: u32) -> Result<(), CertsError> {
    let err = |source| CertsError::StateDir {
        path: dir.to_path_buf(),
        source,
    };
    fs::create_dir_all(dir).map_err(err)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(mode)).map_err(err)
}

/// Reads a file, or `None` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, CertsError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CertsError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Writes `bytes` to `path` atomically with `mode`: the temporary file is created with `mode`
/// from the start (a key is never readable by others, not even for a moment), synced, then
/// renamed over `path`; the folder is synced so the rename survives a crash.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), CertsError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let err = |source| CertsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        // The umask may have narrowed the mode; public files must stay readable by nginx.
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn state_dir_is_0700_and_keys_0600() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("state");
        let state = StateDir::open(&root).unwrap();
        assert_eq!(mode(&root), 0o700);
        let key = state.write(layout::PRIVKEY, b"secret", KEY_MODE).unwrap();
        assert_eq!(mode(&key), 0o600);
        assert_eq!(mode(key.parent().unwrap()), 0o700);
        let cert = state
            .write(layout::FULLCHAIN, b"cert", PUBLIC_MODE)
            .unwrap();
        assert_eq!(mode(&cert), 0o644);
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary_file() {
        let tmp = tempfile::tempdir().unwrap();
        let state = StateDir::open(tmp.path()).unwrap();
        state.write("tls/privkey.pem", b"one", KEY_MODE).unwrap();
        state.write("tls/privkey.pem", b"two", KEY_MODE).unwrap();
        assert_eq!(state.read("tls/privkey.pem").unwrap().unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(tmp.path().join("tls"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["privkey.pem"]);
        assert!(state.read("tls/missing.pem").unwrap().is_none());
    }

    #[test]
    fn an_existing_state_dir_is_tightened_to_0700() {
        let tmp = tempfile::tempdir().unwrap();
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
        StateDir::open(tmp.path()).unwrap();
        assert_eq!(mode(tmp.path()), 0o700);
    }
}
