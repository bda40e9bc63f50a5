//! Grouping: the records of a batch by (type, partition date) in stream order, each group
//! an Avro block stream in the making, cut into blocks as it grows.

use crate::keys::DataFileId;
use crate::record_type::RecordType;

/// Uncompressed bytes per Avro block: large enough to compress well, small enough for
/// readers to split files.
pub const BLOCK_BYTES: usize = 256 * 1024;

/// One (type, date) group being encoded.
#[derive(Debug)]
pub struct Group {
    pub record_type: RecordType,
    pub date: String,
    /// Encoded records, back to back.
    pub data: Vec<u8>,
    /// `(end offset, record count)` of each finished block.
    pub blocks: Vec<(usize, u64)>,
    block_start: usize,
    block_count: u64,
    pub id: DataFileId,
    /// Stream position and sequence number of each record, for the answer.
    pub records: Vec<(usize, Option<String>)>,
}

impl Group {
    pub fn new(record_type: RecordType, date: String) -> Group {
        let id = DataFileId::new(record_type, &date);
        Group {
            record_type,
            date,
            data: Vec::with_capacity(64 * 1024),
            blocks: Vec::new(),
            block_start: 0,
            block_count: 0,
            id,
            records: Vec::new(),
        }
    }

    /// Accounts for the record just encoded into `data`.
    pub fn added(&mut self, index: usize, seq: &str, change_id: &str) {
        self.id.add(seq, change_id);
        self.records.push((index, Some(seq.to_owned())));
        self.block_count += 1;
        if self.data.len() - self.block_start >= BLOCK_BYTES {
            self.blocks.push((self.data.len(), self.block_count));
            self.block_start = self.data.len();
            self.block_count = 0;
        }
    }

    /// Closes the last block.
    pub fn finish_blocks(&mut self) {
        if self.block_count > 0 {
            self.blocks.push((self.data.len(), self.block_count));
            self.block_start = self.data.len();
            self.block_count = 0;
        }
    }
}
