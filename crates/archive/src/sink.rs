//! Where files go: a one-method trait, with a local-folder implementation (`dmd archive
//! --out`) and an in-memory one for tests. The S3 implementation lives beside it in the
//! same shape.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bytes::Bytes;

/// A file that could not be stored.
#[derive(Debug, thiserror::Error)]
#[error("could not write {key}: {message}")]
pub struct SinkError {
    pub key: String,
    pub message: String,
    /// Whether retrying later may succeed (a throttle, a timeout), as opposed to a
    /// refusal such as AccessDenied.
    pub transient: bool,
}

impl SinkError {
    /// A failure that retrying later may mend.
    pub fn transient(key: &str, message: impl Into<String>) -> SinkError {
        SinkError { key: key.to_owned(), message: message.into(), transient: true }
    }
}

/// Stores whole objects under keys. Implementations retry transient failures
/// themselves; an error is final for this invocation.
pub trait ObjectSink: Send + Sync {
    fn put(
        &self,
        key: &str,
        body: Bytes,
        content_type: &'static str,
    ) -> impl Future<Output = Result<(), SinkError>> + Send;
}

/// Writes each key as a file below a folder, atomically (a temporary file renamed into
/// place), so a reader never sees half a file and a rerun overwrites its own files.
#[derive(Debug, Clone)]
pub struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn write(&self, key: &str, body: &[u8]) -> std::io::Result<()> {
        let path = self.root.join(key);
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir)?;
        let mut tmp = path.clone().into_os_string();
        tmp.push(format!(".tmp-{}", std::process::id()));
        std::fs::write(&tmp, body)?;
        std::fs::rename(&tmp, &path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }
}

impl ObjectSink for LocalDir {
    async fn put(&self, key: &str, body: Bytes, _content_type: &'static str) -> Result<(), SinkError> {
        if key.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
            return Err(SinkError { key: key.into(), message: "not a relative key".into(), transient: false });
        }
        self.write(key, &body).map_err(|e| SinkError { key: key.into(), message: e.to_string(), transient: false })
    }
}

/// Which keys a [`Memory`] sink refuses.
type KeyFilter = Box<dyn Fn(&str) -> bool + Send + Sync>;

/// Keeps objects in memory; can be told to refuse chosen keys.
#[derive(Default)]
pub struct Memory {
    objects: Mutex<BTreeMap<String, (Bytes, &'static str)>>,
    refuse: Option<KeyFilter>,
}

impl Memory {
    pub fn new() -> Self {
        Memory::default()
    }

    /// A sink that fails every put whose key matches `refuse`.
    pub fn refusing(refuse: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        Memory { objects: Mutex::default(), refuse: Some(Box::new(refuse)) }
    }

    /// A copy of what is stored, by key.
    pub fn objects(&self) -> BTreeMap<String, Bytes> {
        self.lock().iter().map(|(k, (b, _))| (k.clone(), b.clone())).collect()
    }

    /// Removes the object; `false` when there was none.
    pub fn remove(&self, key: &str) -> bool {
        self.lock().remove(key).is_some()
    }

    pub fn content_type(&self, key: &str) -> Option<&'static str> {
        self.lock().get(key).map(|(_, ct)| *ct)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, (Bytes, &'static str)>> {
        // A poisoned map is still a consistent map: every insert is a single call.
        self.objects.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ObjectSink for Memory {
    async fn put(&self, key: &str, body: Bytes, content_type: &'static str) -> Result<(), SinkError> {
        if self.refuse.as_ref().is_some_and(|f| f(key)) {
            return Err(SinkError { key: key.into(), message: "refused".into(), transient: false });
        }
        self.lock().insert(key.to_string(), (body, content_type));
        Ok(())
    }
}
