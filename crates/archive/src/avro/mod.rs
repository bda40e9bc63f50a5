//! The Avro side of the archive: the codecs, Avro's binary primitives, and the modules
//! for the schemas (`schema`), the record encoder (`encode`) and the object container
//! (`container`).
//!
//! Records are encoded by a plan derived from the `.avsc` files rather than through
//! `apache_avro::types::Value`: no per-record schema resolution, no intermediate values.
//! `apache-avro` parses and checks the schemas here and reads the files back in `dmd cat`
//! and the tests. See <https://avro.apache.org/docs/1.11.1/specification/>.

pub mod container;
pub mod encode;
pub mod schema;

use std::str::FromStr;

pub use container::write_container;
pub use schema::{Catalog, Column, SchemaError, TypeSchema, SCHEMA_FILES};

/// An Avro file codec (`AVRO_CODEC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Codec {
    Null,
    #[default]
    Deflate,
    Snappy,
    Zstandard,
}

impl Codec {
    pub const ALL: [Codec; 4] = [Codec::Null, Codec::Deflate, Codec::Snappy, Codec::Zstandard];

    /// The name in the file header (`avro.codec`) and in `AVRO_CODEC`.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Null => "null",
            Codec::Deflate => "deflate",
            Codec::Snappy => "snappy",
            Codec::Zstandard => "zstandard",
        }
    }
}

/// An `AVRO_CODEC` value that names no codec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not one of deflate, snappy, zstandard, null")]
pub struct UnknownCodec(pub String);

impl FromStr for Codec {
    type Err = UnknownCodec;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Codec::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownCodec(s.to_owned()))
    }
}

/// Avro's variable-length zig-zag `long`.
#[inline]
pub fn put_long(out: &mut Vec<u8>, v: i64) {
    let mut n = ((v << 1) ^ (v >> 63)) as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Avro `string` / `bytes`: length, then the bytes.
#[inline]
pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_long(out, b.len() as i64);
    out.extend_from_slice(b);
}

#[inline]
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

/// A union `["null", X]`: branch 0 for null, else branch 1 followed by the value.
#[inline]
pub fn put_null(out: &mut Vec<u8>) {
    out.push(0);
}

#[inline]
pub fn put_some(out: &mut Vec<u8>) {
    out.push(2);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag() {
        let enc = |v| {
            let mut o = Vec::new();
            put_long(&mut o, v);
            o
        };
        assert_eq!(enc(0), [0]);
        assert_eq!(enc(-1), [1]);
        assert_eq!(enc(1), [2]);
        assert_eq!(enc(-64), [0x7f]);
        assert_eq!(enc(64), [0x80, 0x01]);
        assert_eq!(enc(i64::MAX).len(), 10);
    }

    #[test]
    fn codec_names() {
        for c in Codec::ALL {
            assert_eq!(c.name().parse::<Codec>(), Ok(c));
        }
        assert_eq!("Snappy".parse::<Codec>(), Ok(Codec::Snappy));
        assert!("gzip".parse::<Codec>().is_err());
    }
}
