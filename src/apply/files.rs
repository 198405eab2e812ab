//! The run tree in the state directory, bind-mounted read-only at `/deploy` in both
//! containers: written atomically (a running component never reads half a file), readable by
//! the containers' user, the private key by that user alone.

use super::ApplyError;
use crate::certs::store::{KEY_MODE, PUBLIC_MODE, ensure_dir, write_atomic};
use crate::desired::File;
use crate::images::XMPPD_UID;
use std::path::Path;

const DIR_MODE: u32 = 0o755;

fn io(what: String) -> impl FnOnce(std::io::Error) -> ApplyError {
    move |source| ApplyError::Io { what, source }
}

/// Writes one file of the tree rooted at `root`.
pub fn write(root: &Path, rel: &str, file: &File) -> Result<(), ApplyError> {
    let path = root.join(rel);
    ensure_dir(root, DIR_MODE)?;
    if let Some(dir) = path.parent() {
        ensure_dir(dir, DIR_MODE)?;
    }
    let mode = if file.private { KEY_MODE } else { PUBLIC_MODE };
    write_atomic(&path, &file.content, mode)?;
    if file.private {
        // The key belongs to the containers' user: nobody else can read it.
        std::os::unix::fs::chown(&path, Some(XMPPD_UID as u32), Some(XMPPD_UID as u32))
            .map_err(io(format!("handing {} to uid {XMPPD_UID}", path.display())))?;
    }
    Ok(())
}

/// Removes a file that is no longer rendered.
pub fn remove(root: &Path, rel: &str) -> Result<(), ApplyError> {
    let path = root.join(rel);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(io(format!("removing {}", path.display()))(e))
        }
        _ => Ok(()),
    }
}

/// Creates an empty folder of the tree (a mount point, e.g. `acme`).
pub fn dir(root: &Path, rel: &str) -> Result<(), ApplyError> {
    ensure_dir(&root.join(rel), DIR_MODE)?;
    Ok(())
}
