//! `dmd recover --failures`: the failure records of an S3 on-failure destination, each
//! holding its discarded batch, archived from the record (no read of the stream) and
//! marked recovered beside it (`recovered/<key>`), so that a second run passes it by.

use std::collections::HashSet;

use anyhow::{bail, Result};
use dmd_archive::sink::ObjectSink;
use dmd_archive::store::ObjectStore;
use dmd_archive::{Limits, SystemClock};
use dmd_recover::failure_record::{marker_key, MARKER_PREFIX, RECORD_PREFIX};
use dmd_recover::{LazyStreams, Recoverer, Recovery};

use crate::target::{Archive, Target};

/// `s3://BUCKET[/PREFIX]` or a folder holding the bucket's keys; the prefix defaults to
/// where Lambda writes (`aws/lambda/`).
pub async fn open(location: &str) -> Result<(Archive, String)> {
    if let Some(rest) = location.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = if prefix.is_empty() { RECORD_PREFIX } else { prefix };
        let archive = Target::new(None, Some(bucket.to_owned())).open(true).await?;
        return Ok((archive, prefix.to_owned()));
    }
    if location.is_empty() {
        bail!("--failures needs s3://BUCKET[/PREFIX] or a folder");
    }
    let archive = Target::new(Some(location.into()), None).open(true).await?;
    Ok((archive, RECORD_PREFIX.to_owned()))
}

/// Recovers every failure record under `prefix` not yet marked, calling `print` with
/// each key and recovery; whether all were recovered. The markers are listed once, not
/// asked for record by record.
pub async fn recover_all<S: ObjectSink>(
    recoverer: &Recoverer<LazyStreams>,
    sink: &S,
    limits: Limits,
    failures: &Archive,
    prefix: &str,
    print: impl Fn(&str, &Recovery) -> Result<bool>,
) -> Result<bool> {
    let marked: HashSet<String> = keys(failures, &marker_key(prefix))
        .await?
        .into_iter()
        .filter_map(|k| k.strip_prefix(MARKER_PREFIX).map(str::to_owned))
        .collect();
    let mut all = true;
    for key in keys(failures, prefix).await? {
        if key.starts_with(MARKER_PREFIX) || marked.contains(&key) {
            continue;
        }
        let mut recovery = match failures.get(&key).await? {
            Some(record) => recoverer.recover(&record, sink, &SystemClock, limits).await,
            None => Recovery { problem: Some("the failure record is gone".into()), ..Recovery::default() },
        };
        recovery.mark(failures, &key).await;
        all &= print(&key, &recovery)?;
    }
    Ok(all)
}

/// Every key under `prefix`, a page at a time.
async fn keys(store: &Archive, prefix: &str) -> Result<Vec<String>> {
    let (mut out, mut after) = (Vec::new(), None::<String>);
    loop {
        let page = store.list(prefix, after.as_deref()).await?;
        out.extend(page.objects.into_iter().map(|o| o.key));
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(out),
        }
    }
}
