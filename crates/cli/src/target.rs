//! Where a command finds the archive: `--out DIR` or `--bucket NAME`, the same two
//! options for `archive`, `verify`, `replay`, `recover` and `compact`, opened as one store
//! that reads and writes either.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use dmd_archive::config::check_bucket;
use dmd_archive::retire::Retire;
use dmd_archive::sink::{LocalDir, ObjectSink, SinkError};
use dmd_archive::store::{ObjectStore, Page, StoreError};
#[cfg(feature = "aws")]
use dmd_s3::{S3Options, S3Sink};

#[derive(clap::Args)]
pub struct Target {
    /// The archive in this local folder (the same keys as in the bucket; default
    /// ./archive).
    #[arg(long, value_name = "DIR", conflicts_with = "bucket")]
    out: Option<PathBuf>,
    /// The archive in this S3 bucket (AWS_ENDPOINT_URL_S3 selects an S3-compatible server;
    /// the S3_* settings of the function apply).
    #[arg(long, value_name = "NAME")]
    bucket: Option<String>,
}

/// An opened archive.
pub enum Archive {
    Dir(LocalDir),
    #[cfg(feature = "aws")]
    Bucket(S3Sink),
}

impl Target {
    /// `--out DIR` or `--bucket NAME` as a command other than these options names them.
    pub fn new(out: Option<PathBuf>, bucket: Option<String>) -> Target {
        Target { out, bucket }
    }

    /// The bucket, else the folder. `existing`: the folder must already be there (a
    /// command that reads the archive), rather than be created by the first write.
    pub async fn open(&self, existing: bool) -> Result<Archive> {
        if let Some(name) = &self.bucket {
            check_bucket("--bucket", name)?;
            return bucket(name).await;
        }
        let dir = self.out.clone().unwrap_or_else(|| PathBuf::from("archive"));
        if existing && !dir.is_dir() {
            bail!("{} is not a folder", dir.display());
        }
        if !existing {
            writable(&dir)?;
        }
        Ok(Archive::Dir(LocalDir::new(dir)))
    }
}

/// Makes sure a command can write under `dir` before it does any work, without
/// creating it (a run refused later writes nothing): `dir`, or the nearest folder above
/// it that exists, is a folder in which a file can be written (one is, and removed).
fn writable(dir: &Path) -> Result<()> {
    let shown = dir.display();
    let existing = dir.ancestors().find(|a| a.as_os_str().is_empty() || a.exists()).unwrap_or(dir);
    let existing = if existing.as_os_str().is_empty() { Path::new(".") } else { existing };
    if !existing.is_dir() {
        bail!("--out {shown}: {} is not a folder", existing.display());
    }
    let probe = existing.join(format!(".dmd-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"").with_context(|| format!("--out {shown}: cannot write in {}", existing.display()))?;
    // Removing is best effort: the file is empty, and under no archive prefix.
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// The bucket, with the S3 settings of the function.
#[cfg(feature = "aws")]
async fn bucket(name: &str) -> Result<Archive> {
    let sink = S3Sink::new(S3Options::from_env(name)?).await;
    sink.check_reachable().await.map_err(|e| anyhow::anyhow!("--bucket {name}: {e}"))?;
    Ok(Archive::Bucket(sink))
}

#[cfg(not(feature = "aws"))]
async fn bucket(_name: &str) -> Result<Archive> {
    bail!("{WITHOUT_AWS}")
}

/// What a command that needs S3 says in a `dmd` built without it.
#[cfg(not(feature = "aws"))]
const WITHOUT_AWS: &str = "--bucket needs S3, and this dmd was built without it (`make run` builds a dmd for folders \
     only): build the whole one with `cargo build --bin dmd`";

impl ObjectSink for Archive {
    async fn put(&self, key: &str, body: Bytes, content_type: &'static str) -> Result<(), SinkError> {
        match self {
            Archive::Dir(d) => d.put(key, body, content_type).await,
            #[cfg(feature = "aws")]
            Archive::Bucket(b) => b.put(key, body, content_type).await,
        }
    }
}

impl ObjectStore for Archive {
    async fn list(&self, prefix: &str, start_after: Option<&str>) -> Result<Page, StoreError> {
        match self {
            Archive::Dir(d) => d.list(prefix, start_after).await,
            #[cfg(feature = "aws")]
            Archive::Bucket(b) => b.list(prefix, start_after).await,
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        match self {
            Archive::Dir(d) => d.get(key).await,
            #[cfg(feature = "aws")]
            Archive::Bucket(b) => b.get(key).await,
        }
    }
}

impl Retire for Archive {
    fn uri(&self, key: &str) -> String {
        match self {
            Archive::Dir(d) => d.uri(key),
            #[cfg(feature = "aws")]
            Archive::Bucket(b) => b.uri(key),
        }
    }

    fn key_of(&self, uri: &str) -> Option<String> {
        match self {
            Archive::Dir(d) => d.key_of(uri),
            #[cfg(feature = "aws")]
            Archive::Bucket(b) => b.key_of(uri),
        }
    }

    async fn retire(&self, key: &str) -> Result<(), StoreError> {
        match self {
            Archive::Dir(d) => d.retire(key).await,
            #[cfg(feature = "aws")]
            Archive::Bucket(b) => b.retire(key).await,
        }
    }

    async fn sweep(&self, prefix: &str, before_ms: Option<i64>) -> Result<(), StoreError> {
        match self {
            Archive::Dir(d) => d.sweep(prefix, before_ms).await,
            #[cfg(feature = "aws")]
            Archive::Bucket(b) => b.sweep(prefix, before_ms).await,
        }
    }
}
