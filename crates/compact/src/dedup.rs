//! Which changes a generation already holds: a set of 128-bit digests of
//! (`change_id`, `sequence_number`), about 40 bytes per record, so that a partition of
//! ten million changes is deduplicated in a few hundred megabytes without keeping a
//! single row.

use std::collections::HashSet;

use arrow_array::{Array, BooleanArray, RecordBatch, StringArray};
use sha2::{Digest, Sha256};

/// The changes seen so far.
#[derive(Default)]
pub struct Seen {
    digests: HashSet<u128>,
}

impl Seen {
    /// Which rows of `batch` are new (true) rather than a change seen before, in this
    /// batch or an earlier one; `None` when the batch lacks the two string columns.
    pub fn keep(&mut self, batch: &RecordBatch) -> Option<BooleanArray> {
        let column = |name: &str| batch.column_by_name(name)?.as_any().downcast_ref::<StringArray>().cloned();
        let (ids, seqs) = (column("change_id")?, column("sequence_number")?);
        let keep = (0..batch.num_rows())
            .map(|i| {
                // Both columns are required in every schema; a null counts as empty.
                let id = if ids.is_null(i) { "" } else { ids.value(i) };
                let seq = if seqs.is_null(i) { "" } else { seqs.value(i) };
                self.digests.insert(digest(id, seq))
            })
            .collect::<Vec<bool>>();
        Some(BooleanArray::from(keep))
    }
}

/// The first 128 bits of SHA-256 over the two texts, each preceded by its length, so
/// that no two different pairs share an input.
fn digest(change_id: &str, sequence_number: &str) -> u128 {
    let mut h = Sha256::new();
    for part in [change_id, sequence_number] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let d = h.finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(&d[..16]);
    u128::from_le_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow_schema::{DataType, Field, Schema};

    fn batch(rows: &[(&str, &str)]) -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("change_id", DataType::Utf8, false),
            Field::new("sequence_number", DataType::Utf8, false),
        ]);
        let ids = StringArray::from(rows.iter().map(|r| r.0).collect::<Vec<_>>());
        let seqs = StringArray::from(rows.iter().map(|r| r.1).collect::<Vec<_>>());
        RecordBatch::try_new(Arc::new(schema), vec![Arc::new(ids), Arc::new(seqs)]).expect("batch")
    }

    #[test]
    fn a_change_is_kept_once_across_batches_and_the_pair_is_the_key() {
        let mut seen = Seen::default();
        let first = seen.keep(&batch(&[("e1", "1"), ("e2", "2"), ("e1", "1")])).expect("columns");
        assert_eq!(first, BooleanArray::from(vec![true, true, false]));
        // The same id with another sequence number is another change; and no pair may
        // pass for another by moving characters across the boundary.
        let second = seen.keep(&batch(&[("e1", "1"), ("e1", "2"), ("e", "11"), ("e11", "")])).expect("columns");
        assert_eq!(second, BooleanArray::from(vec![false, true, true, true]));
    }
}
