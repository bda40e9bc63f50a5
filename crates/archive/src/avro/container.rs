//! The Avro object container: header, blocks compressed with the file's codec, sync
//! markers. Compressor state is kept per thread.

use std::cell::RefCell;

use super::{put_bytes, put_long, put_str, Codec};

/// The object container magic.
const MAGIC: &[u8; 4] = b"Obj\x01";

/// Writes a whole object container file: header, then one block per `(end, count)` of
/// `blocks` over `data`, each compressed with `codec`.
pub fn write_container(
    schema_json: &str,
    codec: Codec,
    sync: &[u8; 16],
    data: &[u8],
    blocks: &[(usize, u64)],
    out: &mut Vec<u8>,
) -> std::io::Result<()> {
    out.extend_from_slice(MAGIC);
    put_long(out, 2);
    put_str(out, "avro.codec");
    put_str(out, codec.name());
    put_str(out, "avro.schema");
    put_str(out, schema_json);
    put_long(out, 0);
    out.extend_from_slice(sync);
    let mut start = 0;
    let mut packed = Vec::new();
    for &(end, count) in blocks {
        let raw = &data[start..end];
        start = end;
        let body: &[u8] = match codec {
            Codec::Null => raw,
            Codec::Deflate => {
                deflate(raw, &mut packed)?;
                &packed
            }
            Codec::Snappy => {
                packed.clear();
                packed.resize(snap::raw::max_compress_len(raw.len()), 0);
                let n = snap::raw::Encoder::new().compress(raw, &mut packed).map_err(std::io::Error::other)?;
                packed.truncate(n);
                packed.extend_from_slice(&crc32fast::hash(raw).to_be_bytes());
                &packed
            }
            Codec::Zstandard => {
                packed = ZSTD.with(|z| -> std::io::Result<Vec<u8>> {
                    let mut z = z.borrow_mut();
                    let z = match &mut *z {
                        Some(z) => z,
                        slot => slot.insert(zstd::bulk::Compressor::new(ZSTD_LEVEL)?),
                    };
                    z.compress(raw)
                })?;
                &packed
            }
        };
        put_long(out, count as i64);
        put_bytes(out, body);
        out.extend_from_slice(sync);
    }
    Ok(())
}

thread_local! {
    /// Compressor state is large (tens to hundreds of KiB, zeroed on creation) and a batch
    /// has dozens of small files: each thread keeps one and reuses it for every block.
    static DEFLATE: RefCell<Option<libdeflater::Compressor>> = const { RefCell::new(None) };
    static ZSTD: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
}

/// Raw deflate (RFC 1951, no zlib header, as Avro's `deflate` codec is) of one block.
fn deflate(raw: &[u8], out: &mut Vec<u8>) -> std::io::Result<()> {
    DEFLATE.with(|c| {
        let mut c = c.borrow_mut();
        let c = match &mut *c {
            Some(c) => c,
            slot => {
                let level = libdeflater::CompressionLvl::new(DEFLATE_LEVEL)
                    .map_err(|e| std::io::Error::other(format!("deflate level {DEFLATE_LEVEL}: {e:?}")))?;
                slot.insert(libdeflater::Compressor::new(level))
            }
        };
        out.clear();
        out.resize(c.deflate_compress_bound(raw.len()), 0);
        let n = c.deflate_compress(raw, out).map_err(|e| std::io::Error::other(format!("deflate: {e:?}")))?;
        out.truncate(n);
        Ok(())
    })
}

/// libdeflate's level 4: files 1.6 % larger than zlib's level 6 for about two thirds of
/// its time (docs/decisions.md has the measurements).
pub const DEFLATE_LEVEL: i32 = 4;
/// zstd's default level.
pub const ZSTD_LEVEL: i32 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_deflate_state_serves_many_blocks() {
        use std::io::Read;
        for n in [0usize, 1, 1000, 300_000, 5] {
            let raw: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
            let mut packed = Vec::new();
            deflate(&raw, &mut packed).expect("deflate");
            let mut back = Vec::new();
            flate2::read::DeflateDecoder::new(packed.as_slice()).read_to_end(&mut back).expect("inflate");
            assert_eq!(back, raw, "{n} bytes");
        }
    }
}
