//! Reading the archive back: a two-method trait (list a prefix page by page, read one
//! object) for the tools that check and repair the archive (`dmd verify`, `dmd replay`),
//! with the local-folder and in-memory implementations. The S3 one lives in `dmd-s3`.

use std::future::Future;
use std::path::Path;
use std::time::UNIX_EPOCH;

use bytes::Bytes;

use crate::sink::{LocalDir, Memory};

/// Most objects a listing page holds (S3's own page size).
pub const PAGE: usize = 1000;

/// An object as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub size: u64,
    /// Last modified, epoch milliseconds, when the store knows it.
    pub modified_ms: Option<i64>,
}

/// One page of a listing, in key order; `next` is where the next page starts after.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub objects: Vec<Listed>,
    pub next: Option<String>,
}

/// Why the store could not answer.
#[derive(Debug, thiserror::Error)]
#[error("{operation} {key}: {message}")]
pub struct StoreError {
    pub operation: &'static str,
    pub key: String,
    pub message: String,
}

/// Reads objects by key.
pub trait ObjectStore: Send + Sync {
    /// The objects whose keys start with `prefix` and sort after `start_after`, in key
    /// order, a page at a time (at most [`PAGE`] for a bucket).
    fn list(&self, prefix: &str, start_after: Option<&str>) -> impl Future<Output = Result<Page, StoreError>> + Send;

    /// The object's bytes; `None` when there is no such object.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Bytes>, StoreError>> + Send;
}

/// A folder is listed in one page: walking it again for each page would cost more than
/// the keys take in memory (about 100 bytes each).
impl ObjectStore for LocalDir {
    async fn list(&self, prefix: &str, start_after: Option<&str>) -> Result<Page, StoreError> {
        let err = |e: std::io::Error| StoreError { operation: "list", key: prefix.to_owned(), message: e.to_string() };
        // The folder that holds every key under `prefix`: its part up to the last '/'.
        let dir = prefix.rfind('/').map_or("", |i| &prefix[..=i]);
        let mut keys = Vec::new();
        walk(self.root(), &self.root().join(dir), &mut keys).map_err(err)?;
        let mut objects: Vec<Listed> = keys
            .into_iter()
            .filter(|l| l.key.starts_with(prefix) && start_after.is_none_or(|s| l.key.as_str() > s))
            .collect();
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Page { objects, next: None })
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        if key.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
            return Ok(None);
        }
        match std::fs::read(self.root().join(key)) {
            Ok(b) => Ok(Some(Bytes::from(b))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError { operation: "read", key: key.to_owned(), message: e.to_string() }),
        }
    }
}

/// When a file was last modified, epoch milliseconds, when the system says.
pub(crate) fn modified_ms(meta: &std::fs::Metadata) -> Option<i64> {
    meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).and_then(|d| i64::try_from(d.as_millis()).ok())
}

/// The entries of a folder; none when it does not exist.
pub(crate) fn entries_of(dir: &Path) -> std::io::Result<Vec<std::io::Result<std::fs::DirEntry>>> {
    match std::fs::read_dir(dir) {
        Ok(e) => Ok(e.collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Every regular file below `dir`, as keys relative to `root` (temporary files of a
/// write in progress left out). A missing folder holds nothing.
fn walk(root: &Path, dir: &Path, out: &mut Vec<Listed>) -> std::io::Result<()> {
    for entry in entries_of(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        let path = entry.path();
        if meta.is_dir() {
            walk(root, &path, out)?;
            continue;
        }
        let Ok(rel) = path.strip_prefix(root) else { continue };
        let key = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        if key.contains(".tmp-") {
            continue;
        }
        out.push(Listed { key, size: meta.len(), modified_ms: modified_ms(&meta) });
    }
    Ok(())
}

impl ObjectStore for Memory {
    async fn list(&self, prefix: &str, start_after: Option<&str>) -> Result<Page, StoreError> {
        let mut objects: Vec<Listed> = self
            .objects()
            .into_iter()
            .filter(|(k, _)| k.starts_with(prefix) && start_after.is_none_or(|s| k.as_str() > s))
            .map(|(key, body)| Listed { key, size: body.len() as u64, modified_ms: None })
            .collect();
        let next = (objects.len() > PAGE).then(|| objects[PAGE - 1].key.clone());
        objects.truncate(PAGE);
        Ok(Page { objects, next })
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        Ok(self.objects().remove(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::ObjectSink;

    fn block<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(f)
    }

    #[test]
    fn a_folder_lists_in_key_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalDir::new(dir.path());
        for i in (0..PAGE + 5).rev() {
            block(store.put(&format!("data/sale/dt=2026-11-19/{i:05}.avro"), Bytes::from_static(b"abc"), "x"))
                .expect("put");
        }
        block(store.put("errors/dt=2026-11-19/e.json", Bytes::from_static(b"e"), "x")).expect("put");
        let first = block(store.list("data/", None)).expect("list");
        assert_eq!(first.objects.len(), PAGE + 5);
        assert!(first.next.is_none());
        assert_eq!(first.objects[0].key, "data/sale/dt=2026-11-19/00000.avro");
        assert_eq!(first.objects[0].size, 3);
        assert!(first.objects[0].modified_ms.is_some());
        let after = block(store.list("data/", Some("data/sale/dt=2026-11-19/01000.avro"))).expect("list");
        assert_eq!(after.objects.len(), 4);
        assert_eq!(block(store.list("nothing/", None)).expect("list").objects, []);
        assert_eq!(block(store.get("errors/dt=2026-11-19/e.json")).expect("get"), Some(Bytes::from_static(b"e")));
        assert_eq!(block(store.get("errors/none.json")).expect("get"), None);
        assert_eq!(block(store.get("../x")).expect("get"), None);
    }
}
