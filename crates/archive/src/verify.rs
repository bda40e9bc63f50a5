//! The completeness audit (`dmd verify`): every manifest's files exist with their size
//! and checksum, its counts add up, and every data or error file is named by a
//! manifest. It walks the store a page at a time and reads files a few at a time, so a
//! bucket of any size is checked with the named keys in memory and no file contents.

use std::collections::HashMap;

use futures::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::keys::hex;
use crate::manifest::{Manifest, ManifestFile};
use crate::pii;
use crate::store::{Listed, ObjectStore, StoreError};
use crate::time::DAY_MS;

/// What the audit covers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope {
    /// Check manifests of this processing day (epoch day, UTC) and later, and the files
    /// written since; `None` checks everything.
    pub since_day: Option<i64>,
    /// Files read at once.
    pub concurrency: usize,
}

/// One thing that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub key: String,
    pub kind: ProblemKind,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A manifest that is not a manifest (not JSON, or fields missing).
    UnreadableManifest,
    /// A manifest whose `records` is not its files' records plus `retry`.
    CountsDoNotAddUp,
    /// A file a manifest names is not there.
    MissingFile,
    /// A file a manifest names has another size.
    SizeDiffers,
    /// A file a manifest names has other bytes.
    ChecksumDiffers,
    /// A data or error file that no manifest names.
    Unnamed,
    /// The store could not be read.
    ReadFailed,
    /// Nothing under the prefixes: no manifest, no data or error file (a mistyped
    /// folder or bucket, or other prefixes than the archiver's).
    NoArchive,
}

/// The audit's result: what was checked and what does not hold.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub manifests: usize,
    pub files: usize,
    pub records: usize,
    pub bytes: u64,
    /// Data and error files listed (those a manifest names and those it does not).
    pub listed: usize,
    pub problems: Vec<Problem>,
    pub ok: bool,
}

/// Progress, for a caller that shows it (manifests read, files checked).
pub trait Progress: Sync {
    fn update(&self, manifests: usize, files: usize);
}

impl Progress for () {
    fn update(&self, _: usize, _: usize) {}
}

/// Runs the audit over `store` with the prefixes of `settings`.
pub async fn verify<S: ObjectStore>(store: &S, settings: &Settings, scope: Scope, progress: &dyn Progress) -> Report {
    let mut report = Report::default();
    // Each key a manifest names, and whether one of them matched its bytes: a key written
    // again by a later batch (a retry split differently, a recovery, a replay) holds the
    // bytes of its last write, so an older manifest's checksum no longer matches it.
    let mut named: HashMap<String, bool> = HashMap::new();
    let mut mismatches: Vec<Problem> = Vec::new();
    let manifest_prefix = settings.manifest_prefix.as_str();
    // A run that starts just before midnight writes its files after it, under a manifest
    // of the day before: one day of slack.
    let start_after = scope.since_day.map(|d| format!("{manifest_prefix}dt={}", crate::time::Date(d - 1)));
    let mut pages = Pages::new(store, manifest_prefix, start_after);
    while let Some(listed) = pages.next(&mut report.problems).await {
        let manifests: Vec<_> = futures::stream::iter(listed)
            .map(|l| async move { (l.key.clone(), store.get(&l.key).await) })
            .buffered(scope.concurrency.max(1))
            .collect()
            .await;
        for (key, got) in manifests {
            report.manifests += 1;
            match got.map(|b| b.map(|b| serde_json::from_slice::<Manifest>(&b))) {
                Ok(Some(Ok(m))) => {
                    let checked = check_manifest(store, &key, m, scope, &mut report, &mut named).await;
                    mismatches.extend(checked);
                }
                Ok(Some(Err(e))) => report.problems.push(Problem {
                    key,
                    kind: ProblemKind::UnreadableManifest,
                    detail: pii::parser_message(&e),
                }),
                Ok(None) => {}
                Err(e) => report.problems.push(read_failed(e)),
            }
            progress.update(report.manifests, report.files);
        }
    }
    // A size or checksum differs only when no manifest's record of the key matches.
    let mut reported = std::collections::HashSet::new();
    report.problems.extend(
        mismatches
            .into_iter()
            .filter(|p| !named.get(&p.key).copied().unwrap_or(false) && reported.insert((p.key.clone(), p.kind as u8))),
    );
    let since_ms = scope.since_day.map(|d| d * DAY_MS);
    let replayed = format!("{}replayed/", settings.error_prefix);
    for prefix in [settings.data_prefix.as_str(), settings.error_prefix.as_str()] {
        let mut pages = Pages::new(store, prefix, None);
        while let Some(listed) = pages.next(&mut report.problems).await {
            for l in listed {
                if l.key.starts_with(&replayed) || !is_archive_file(&l.key) {
                    continue;
                }
                if since_ms.is_some_and(|s| l.modified_ms.is_some_and(|m| m < s)) {
                    continue;
                }
                report.listed += 1;
                if !named.contains_key(&l.key) {
                    report.problems.push(Problem {
                        key: l.key,
                        kind: ProblemKind::Unnamed,
                        detail: "no manifest names this file".into(),
                    });
                }
            }
        }
    }
    if scope.since_day.is_none() && report.manifests == 0 && report.listed == 0 && report.problems.is_empty() {
        let (data, errors) = (&settings.data_prefix, &settings.error_prefix);
        report.problems.push(Problem {
            key: manifest_prefix.to_owned(),
            kind: ProblemKind::NoArchive,
            detail: format!("no archive here: no manifest under {manifest_prefix}, no file under {data} or {errors}"),
        });
    }
    report.ok = report.problems.is_empty();
    report
}

/// Data files end in `.avro`, error files in `.json`; anything else under the prefixes
/// (a folder marker, a temporary file) is not the archiver's.
fn is_archive_file(key: &str) -> bool {
    key.ends_with(".avro") || key.ends_with(".json")
}

async fn check_manifest<S: ObjectStore>(
    store: &S,
    key: &str,
    m: Manifest,
    scope: Scope,
    report: &mut Report,
    named: &mut HashMap<String, bool>,
) -> Vec<Problem> {
    if !m.counts_add_up() {
        let in_files: usize = m.files.iter().map(|f| f.records).sum();
        report.problems.push(Problem {
            key: key.to_owned(),
            kind: ProblemKind::CountsDoNotAddUp,
            detail: format!("records {} != {in_files} in files + {} to retry", m.records, m.retry.len()),
        });
    }
    report.records += m.records;
    let checks: Vec<(&str, Option<Problem>)> = futures::stream::iter(&m.files)
        .map(|f| async move { (f.key.as_str(), check_file(store, key, f).await) })
        .buffered(scope.concurrency.max(1))
        .collect()
        .await;
    for f in &m.files {
        report.files += 1;
        report.bytes += f.bytes as u64;
    }
    let mut mismatches = Vec::new();
    for (file, problem) in checks {
        let matched = named.entry(file.to_owned()).or_insert(false);
        match problem {
            None => *matched = true,
            Some(p) if matches!(p.kind, ProblemKind::SizeDiffers | ProblemKind::ChecksumDiffers) => mismatches.push(p),
            Some(p) => report.problems.push(p),
        }
    }
    mismatches
}

/// Whether the file `f` of the manifest `manifest` is there with its size and SHA-256.
async fn check_file<S: ObjectStore>(store: &S, manifest: &str, f: &ManifestFile) -> Option<Problem> {
    let body = match store.get(&f.key).await {
        Ok(Some(b)) => b,
        Ok(None) => return Some(problem(&f.key, ProblemKind::MissingFile, format!("named by {manifest}"))),
        Err(e) => return Some(read_failed(e)),
    };
    if body.len() != f.bytes {
        let detail = format!("{} bytes, {manifest} says {}", body.len(), f.bytes);
        return Some(problem(&f.key, ProblemKind::SizeDiffers, detail));
    }
    let sha = hex(&Sha256::digest(&body));
    (sha != f.sha256)
        .then(|| problem(&f.key, ProblemKind::ChecksumDiffers, format!("sha256 {sha}, not that of {manifest}")))
}

fn problem(key: &str, kind: ProblemKind, detail: String) -> Problem {
    Problem { key: key.to_owned(), kind, detail }
}

fn read_failed(e: StoreError) -> Problem {
    Problem { key: e.key.clone(), kind: ProblemKind::ReadFailed, detail: e.to_string() }
}

/// A listing, page by page.
struct Pages<'s, S> {
    store: &'s S,
    prefix: &'s str,
    after: Option<String>,
    done: bool,
}

impl<'s, S: ObjectStore> Pages<'s, S> {
    fn new(store: &'s S, prefix: &'s str, after: Option<String>) -> Self {
        Pages { store, prefix, after, done: false }
    }

    /// The next page; a listing that fails ends the walk, with the failure in `problems`.
    async fn next(&mut self, problems: &mut Vec<Problem>) -> Option<Vec<Listed>> {
        if self.done {
            return None;
        }
        match self.store.list(self.prefix, self.after.as_deref()).await {
            Ok(page) => {
                self.done = page.next.is_none();
                self.after = page.next;
                Some(page.objects)
            }
            Err(e) => {
                self.done = true;
                problems.push(read_failed(e));
                None
            }
        }
    }
}
