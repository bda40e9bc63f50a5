//! Objects that a newer copy supersedes (an old generation of the Parquet copy): where an
//! object is, as a URI a query engine can follow, and retiring it. A folder deletes a
//! retired file; a bucket tags it for its lifecycle rule to expire later, so that
//! queries already reading it finish.

use std::future::Future;
use std::path::Path;

use crate::sink::{LocalDir, Memory};
use crate::store::{entries_of, modified_ms, StoreError};

/// The tag (key and value) a bucket puts on a retired object; the bucket's lifecycle
/// rule `expire-retired-generations` expires what carries it.
pub const RETIRED_TAG: (&str, &str) = ("dmd-retired", "true");

/// Addresses and retires objects by key.
pub trait Retire: Send + Sync {
    /// The object's absolute URI (`s3://bucket/key`, `file:///path`).
    fn uri(&self, key: &str) -> String;

    /// The key of a URI [`Retire::uri`] gave; `None` when it is not one of this store's.
    fn key_of(&self, uri: &str) -> Option<String>;

    /// Marks the object as superseded: a folder deletes it, a bucket tags it
    /// [`RETIRED_TAG`]. Retiring what is gone is not an error.
    fn retire(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes what interrupted writes left below `prefix` (a folder's temporary files,
    /// last modified at or before `before_ms`) and the folders that leaves empty. A
    /// bucket has nothing of the kind: an unfinished upload is never an object.
    fn sweep(&self, _prefix: &str, _before_ms: Option<i64>) -> impl Future<Output = Result<(), StoreError>> + Send {
        async { Ok(()) }
    }
}

/// A key that stays inside its root: no empty, `.` or `..` segment.
fn is_relative_key(key: &str) -> bool {
    !key.split('/').any(|s| s.is_empty() || s == "." || s == "..")
}

impl Retire for LocalDir {
    fn uri(&self, key: &str) -> String {
        let root = std::path::absolute(self.root()).unwrap_or_else(|_| self.root().to_path_buf());
        let root = root.to_string_lossy();
        format!("file://{}/{key}", root.trim_end_matches('/'))
    }

    fn key_of(&self, uri: &str) -> Option<String> {
        let base = self.uri("");
        uri.strip_prefix(&base).filter(|k| is_relative_key(k)).map(str::to_owned)
    }

    async fn retire(&self, key: &str) -> Result<(), StoreError> {
        if !is_relative_key(key) {
            return Ok(());
        }
        let path = self.root().join(key);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError { operation: "delete", key: key.to_owned(), message: e.to_string() }),
        }
        remove_empty_parents(self.root(), &path);
        Ok(())
    }

    async fn sweep(&self, prefix: &str, before_ms: Option<i64>) -> Result<(), StoreError> {
        let dir = prefix.trim_end_matches('/');
        if !is_relative_key(dir) {
            return Ok(());
        }
        sweep_dir(&self.root().join(dir), before_ms).map_err(|e| StoreError {
            operation: "sweep",
            key: prefix.to_owned(),
            message: e.to_string(),
        })
    }
}

/// Deletes the temporary files of interrupted writes below `dir` (modified at or before
/// `before_ms`, when known), then the folders left empty, deepest first.
fn sweep_dir(dir: &Path, before_ms: Option<i64>) -> std::io::Result<()> {
    for entry in entries_of(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            sweep_dir(&entry.path(), before_ms)?;
            // Not empty: something else lives there.
            let _ = std::fs::remove_dir(entry.path());
            continue;
        }
        let old_enough = match (modified_ms(&meta), before_ms) {
            (Some(m), Some(b)) => m <= b,
            _ => true,
        };
        if entry.file_name().to_string_lossy().contains(".tmp-") && old_enough {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Removes the folders above `path` that its removal left empty, up to `root`.
fn remove_empty_parents(root: &Path, path: &Path) {
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

impl Retire for Memory {
    fn uri(&self, key: &str) -> String {
        format!("memory:///{key}")
    }

    fn key_of(&self, uri: &str) -> Option<String> {
        uri.strip_prefix("memory:///").filter(|k| is_relative_key(k)).map(str::to_owned)
    }

    async fn retire(&self, key: &str) -> Result<(), StoreError> {
        self.remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::ObjectSink;
    use bytes::Bytes;

    #[tokio::test]
    async fn a_folder_deletes_a_retired_file_and_the_folders_it_emptied() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = LocalDir::new(dir.path());
        out.put("c/demand/dt=2026-11-20/g1/part-0.parquet", Bytes::from_static(b"x"), "x").await.expect("put");
        out.put("c/demand/dt=2026-11-20/g2/part-0.parquet", Bytes::from_static(b"y"), "x").await.expect("put");
        out.retire("c/demand/dt=2026-11-20/g1/part-0.parquet").await.expect("retire");
        out.retire("c/demand/dt=2026-11-20/g1/part-0.parquet").await.expect("retiring what is gone");
        assert!(!dir.path().join("c/demand/dt=2026-11-20/g1").exists());
        assert!(dir.path().join("c/demand/dt=2026-11-20/g2/part-0.parquet").exists());
        out.retire("../outside").await.expect("refused quietly");
    }

    #[tokio::test]
    async fn a_sweep_removes_leftover_temporary_files_and_empty_folders() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = LocalDir::new(dir.path());
        let old = dir.path().join("c/sale/dt=2026-11-20/g1");
        std::fs::create_dir_all(&old).expect("mkdir");
        std::fs::write(old.join("part-0.parquet.tmp-42"), b"half").expect("write");
        out.put("c/sale/dt=2026-11-20/g2/part-0.parquet", Bytes::from_static(b"y"), "x").await.expect("put");
        out.sweep("c/sale/dt=2026-11-20/", None).await.expect("sweep");
        assert!(!old.exists());
        assert!(dir.path().join("c/sale/dt=2026-11-20/g2/part-0.parquet").exists());
        out.sweep("c/nothing/", None).await.expect("a missing folder holds nothing");
    }

    #[test]
    fn a_uri_gives_its_key_back() {
        let out = LocalDir::new("/tmp/archive");
        let uri = out.uri("compacted/sale/dt=2026-11-20/g/part-0.parquet");
        assert_eq!(uri, "file:///tmp/archive/compacted/sale/dt=2026-11-20/g/part-0.parquet");
        assert_eq!(out.key_of(&uri).as_deref(), Some("compacted/sale/dt=2026-11-20/g/part-0.parquet"));
        assert_eq!(out.key_of("file:///elsewhere/x"), None);
        assert_eq!(out.key_of("file:///tmp/archive/../x"), None);
    }
}
