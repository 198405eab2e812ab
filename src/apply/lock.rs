//! One apply at a time per deployment: an exclusive `flock` on a file in the state directory.
//! The kernel drops it when the process ends, however it ends, so a killed apply never leaves
//! a stale lock behind.

use super::ApplyError;
use std::fs::File;
use std::path::Path;

pub const LOCK_FILE: &str = "apply.lock";

/// Held while alive.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Takes the lock, or fails at once when another process holds it.
pub fn acquire(state_dir: &Path) -> Result<Lock, ApplyError> {
    let path = state_dir.join(LOCK_FILE);
    let io = |source| ApplyError::Io {
        what: format!("opening {}", path.display()),
        source,
    };
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(Lock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(ApplyError::Locked { path }),
        Err(std::fs::TryLockError::Error(source)) => Err(io(source)),
    }
}

/// Takes the lock when the state directory exists (destroy of a never-applied deployment has
/// nothing to guard).
pub fn acquire_if_exists(state_dir: &Path) -> Result<Option<Lock>, ApplyError> {
    if state_dir.is_dir() {
        acquire(state_dir).map(Some)
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = acquire(dir.path()).expect("first");
        assert!(matches!(
            acquire(dir.path()),
            Err(ApplyError::Locked { .. })
        ));
        drop(first);
        acquire(dir.path()).expect("free again");
    }
}
