//! The figures of one invocation: what `dmd archive` prints after the answer, and what
//! the Lambda logs. Counts, types, dates and keys only: never a value of a record.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::deliver::{Delivery, FileKind};
use crate::envelope::Source;
use crate::error::ErrorKind;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub source: Option<String>,
    /// Records in the batch.
    pub records: usize,
    /// Records written to data files, by type and partition date.
    pub archived: BTreeMap<String, BTreeMap<String, usize>>,
    /// Records written to error files.
    pub errors: usize,
    /// Failed records by `error_type` (written or not).
    pub error_types: BTreeMap<String, usize>,
    /// Records in `batchItemFailures`.
    pub retry: usize,
    /// Keys written.
    pub files: Vec<String>,
    /// Keys that could not be written.
    pub failed_files: Vec<String>,
    pub bytes: usize,
    /// The invocation's manifest, when written.
    #[serde(default)]
    pub manifest: Option<String>,
}

impl Summary {
    pub fn new(
        batch_source: Option<Source>,
        records: usize,
        error_types: &BTreeMap<ErrorKind, usize>,
        d: &Delivery,
    ) -> Summary {
        let mut s = Summary {
            source: batch_source.map(|s| s.as_str().to_owned()),
            records,
            error_types: error_types.iter().map(|(k, v)| (k.as_str().to_owned(), *v)).collect(),
            retry: d.answer.batch_item_failures.len(),
            ..Summary::default()
        };
        for w in &d.written {
            s.files.push(w.key.clone());
            s.bytes += w.bytes;
            match &w.kind {
                FileKind::Data { record_type, date } => {
                    *s.archived.entry(record_type.to_string()).or_default().entry(date.clone()).or_default() +=
                        w.records;
                }
                FileKind::Errors => s.errors += w.records,
                FileKind::Manifest => {}
            }
        }
        s.failed_files = d.failed.iter().map(|f| f.key.clone()).collect();
        s.manifest.clone_from(&d.manifest);
        s
    }

    pub fn archived_records(&self) -> usize {
        self.archived.values().flat_map(|m| m.values()).sum()
    }
}
