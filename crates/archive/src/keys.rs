//! Object keys and file ids, as pure functions: a file's id is derived only from the
//! records it holds, so a retried identical batch rewrites its own keys.

use sha2::{Digest, Sha256};

use crate::record_type::RecordType;
use crate::time::Date;

/// `<DATA_PREFIX><type>/dt=<YYYY-MM-DD>/<file-id>.avro`
pub fn data_key(data_prefix: &str, record_type: RecordType, date: &str, id: &str) -> String {
    format!("{data_prefix}{record_type}/dt={date}/{id}.avro")
}

/// `<ERROR_PREFIX>dt=<processing date>/<file-id>.json`
pub fn error_key(error_prefix: &str, processed_at: i64, id: &str) -> String {
    format!("{error_prefix}dt={}/{id}.json", Date::of_millis(processed_at))
}

/// The running digest of a data file: its type and date, then each record's sequence
/// number and change id.
#[derive(Debug, Clone)]
pub struct DataFileId(Sha256);

impl DataFileId {
    pub fn new(record_type: RecordType, date: &str) -> DataFileId {
        let mut h = Sha256::new();
        h.update(record_type.as_str());
        h.update(b"\0");
        h.update(date.as_bytes());
        DataFileId(h)
    }

    pub fn add(&mut self, sequence_number: &str, change_id: &str) {
        self.0.update(b"\n");
        self.0.update(sequence_number.as_bytes());
        self.0.update(b"\0");
        self.0.update(change_id.as_bytes());
    }

    /// The file id (32 hex digits) and the container's sync marker, both from the digest.
    pub fn finish(self) -> (String, [u8; 16]) {
        let digest = self.0.finalize();
        let mut sync = [0u8; 16];
        sync.copy_from_slice(&digest[16..32]);
        (hex(&digest[..16]), sync)
    }
}

/// The id of an error file: the digest of its records' original texts.
pub fn error_file_id<'t>(texts: impl IntoIterator<Item = &'t [u8]>) -> String {
    let mut h = Sha256::new();
    for t in texts {
        h.update(t);
        h.update(b"\n");
    }
    hex(&h.finalize()[..16])
}

/// Lower-case hex digits of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_contract_layout() {
        assert_eq!(data_key("data/", RecordType::Sale, "2026-11-19", "ab"), "data/sale/dt=2026-11-19/ab.avro");
        assert_eq!(error_key("errors/", 1_763_547_330_000, "cd"), "errors/dt=2025-11-19/cd.json");
        assert_eq!(hex(&[0, 15, 255]), "000fff");
    }

    #[test]
    fn ids_depend_only_on_the_records() {
        let id = |recs: &[(&str, &str)], date: &str| {
            let mut f = DataFileId::new(RecordType::Demand, date);
            recs.iter().for_each(|(s, c)| f.add(s, c));
            f.finish()
        };
        let a = id(&[("1", "a"), ("2", "b")], "2026-01-01");
        assert_eq!(a, id(&[("1", "a"), ("2", "b")], "2026-01-01"), "deterministic");
        assert_ne!(a.0, id(&[("2", "b"), ("1", "a")], "2026-01-01").0, "order matters");
        assert_ne!(a.0, id(&[("1", "a"), ("2", "b")], "2026-01-02").0, "the date matters");
        assert_ne!(a.0, id(&[("1", "a\u{0}2"), ("b", "")], "2026-01-01").0, "fields are separated");
        assert_eq!(a.0.len(), 32);
        assert_eq!(error_file_id([&b"x"[..]]), error_file_id([&b"x"[..]]));
        assert_ne!(error_file_id([&b"x"[..], &b"y"[..]]), error_file_id([&b"xy"[..]]));
    }
}
