//! Uploaded files on disk: `<dir>/<id>` holds the bytes and `<dir>/<id>.json` what the upload
//! was (owner, name, type, size, time). Paths are built from a [`FileId`] only.

use super::slots::FileId;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tokio::io::AsyncWriteExt;

/// What was uploaded, kept beside the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub owner: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    /// Unix seconds of the upload.
    pub created: u64,
}

/// Why a PUT body was not stored.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the body is longer than the slot allows")]
    TooLong,
    #[error("the body is shorter than the slot says")]
    TooShort,
    #[error("reading the body: {0}")]
    Body(String),
    #[error("writing the file: {0}")]
    Io(#[from] io::Error),
}

/// The uploads folder and the bytes each user stores there.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    usage: Mutex<HashMap<String, u64>>,
}

impl Store {
    /// Opens (creating) the folder, counts what each user stores, and removes leftovers of
    /// interrupted uploads.
    pub fn open(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let store = Self {
            dir: dir.to_owned(),
            usage: Mutex::default(),
        };
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if let Some(id) = name.strip_suffix(".json").and_then(FileId::parse) {
                match store.read_meta(&id) {
                    Some(meta) if store.data(&id).exists() => {
                        store.count(&meta.owner, meta.size, true)
                    }
                    _ => store.remove(&id),
                }
            } else if name.ends_with(".part") {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(store)
    }

    /// Bytes `owner` stores.
    pub fn used(&self, owner: &str) -> u64 {
        let usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
        usage.get(owner).copied().unwrap_or(0)
    }

    fn count(&self, owner: &str, size: u64, add: bool) {
        let mut usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
        let entry = usage.entry(owner.to_owned()).or_insert(0);
        *entry = if add {
            entry.saturating_add(size)
        } else {
            entry.saturating_sub(size)
        };
    }

    /// Path of a file's bytes.
    pub fn data(&self, id: &FileId) -> PathBuf {
        self.dir.join(id.as_str())
    }

    fn meta_path(&self, id: &FileId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    fn read_meta(&self, id: &FileId) -> Option<Meta> {
        let text = std::fs::read(self.meta_path(id)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// What was uploaded under `id`, if it is complete.
    pub async fn meta(&self, id: &FileId) -> Option<Meta> {
        let text = tokio::fs::read(self.meta_path(id)).await.ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Streams a PUT body to disk; exactly `meta.size` bytes or nothing is kept.
    pub async fn write<S, E>(&self, id: &FileId, meta: &Meta, body: S) -> Result<(), WriteError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let part = self.dir.join(format!("{id}.part"));
        let result = self.write_part(&part, meta.size, body).await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&part).await;
            return result;
        }
        tokio::fs::rename(&part, self.data(id)).await?;
        let json = serde_json::to_vec(meta).map_err(io::Error::other)?;
        let meta_part = self.dir.join(format!("{id}.json.part"));
        tokio::fs::write(&meta_part, json).await?;
        tokio::fs::rename(&meta_part, self.meta_path(id)).await?;
        self.count(&meta.owner, meta.size, true);
        Ok(())
    }

    async fn write_part<S, E>(&self, part: &Path, size: u64, mut body: S) -> Result<(), WriteError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut file = tokio::fs::File::create(part).await?;
        let mut written: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| WriteError::Body(e.to_string()))?;
            written = written.saturating_add(chunk.len() as u64);
            if written > size {
                return Err(WriteError::TooLong);
            }
            file.write_all(&chunk).await?;
        }
        if written < size {
            return Err(WriteError::TooShort);
        }
        file.sync_all().await?;
        Ok(())
    }

    fn remove(&self, id: &FileId) {
        let _ = std::fs::remove_file(self.meta_path(id));
        let _ = std::fs::remove_file(self.data(id));
    }

    /// Deletes files uploaded `max_age_secs` or more before `now` (Unix seconds); returns how
    /// many went. Blocking: run it off the async workers.
    pub fn sweep(&self, now: u64, max_age_secs: u64) -> io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let Some(id) = name.strip_suffix(".json").and_then(FileId::parse) else {
                continue;
            };
            let Some(meta) = self.read_meta(&id) else {
                continue;
            };
            if now.saturating_sub(meta.created) >= max_age_secs {
                self.remove(&id);
                self.count(&meta.owner, meta.size, false);
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(owner: &str, size: u64, created: u64) -> Meta {
        Meta {
            owner: owner.into(),
            filename: "f.txt".into(),
            content_type: "text/plain".into(),
            size,
            created,
        }
    }

    fn body(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, String>> + Unpin {
        futures::stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn stores_exactly_the_slot_size_and_counts_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let id = FileId::random().unwrap();
        store
            .write(&id, &meta("a@x", 6, 1), body(&[b"abc", b"def"]))
            .await
            .unwrap();
        assert_eq!(std::fs::read(store.data(&id)).unwrap(), b"abcdef");
        assert_eq!(store.used("a@x"), 6);
        assert_eq!(store.meta(&id).await, Some(meta("a@x", 6, 1)));

        let long = FileId::random().unwrap();
        let err = store
            .write(&long, &meta("a@x", 2, 1), body(&[b"abc"]))
            .await;
        assert!(matches!(err, Err(WriteError::TooLong)));
        let short = FileId::random().unwrap();
        let err = store
            .write(&short, &meta("a@x", 9, 1), body(&[b"abc"]))
            .await;
        assert!(matches!(err, Err(WriteError::TooShort)));
        assert!(!store.data(&long).exists() && !store.data(&short).exists());
        assert_eq!(store.used("a@x"), 6);

        // A restart counts the same usage again.
        drop(store);
        let again = Store::open(dir.path()).unwrap();
        assert_eq!(again.used("a@x"), 6);
    }

    #[tokio::test]
    async fn sweep_deletes_only_old_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let old = FileId::random().unwrap();
        let new = FileId::random().unwrap();
        store
            .write(&old, &meta("a@x", 1, 1_000), body(&[b"o"]))
            .await
            .unwrap();
        store
            .write(&new, &meta("a@x", 1, 5_000), body(&[b"n"]))
            .await
            .unwrap();
        assert_eq!(store.sweep(5_500, 1_000).unwrap(), 1);
        assert!(!store.data(&old).exists());
        assert!(store.meta(&old).await.is_none());
        assert!(store.data(&new).exists());
        assert_eq!(store.used("a@x"), 1);
    }
}
