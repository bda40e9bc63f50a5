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
    PACKED.with(|packed| {
        let mut packed = packed.borrow_mut();
        let mut start = 0;
        for &(end, count) in blocks {
            let raw = &data[start..end];
            start = end;
            let body: &[u8] = match codec {
                Codec::Null => raw,
                Codec::Deflate => {
                    let n = deflate(raw, &mut packed)?;
                    &packed[..n]
                }
                Codec::Snappy => {
                    let n = snappy(raw, &mut packed)?;
                    &packed[..n]
                }
                Codec::Zstandard => {
                    *packed = ZSTD.with(|z| -> std::io::Result<Vec<u8>> {
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
    })
}

/// `buf` at least `len` bytes long; what it held stays (it is written over, not zeroed).
fn at_least(buf: &mut Vec<u8>, len: usize) {
    if buf.len() < len {
        buf.resize(len, 0);
    }
}

/// Snappy (raw format) of one block into `buf`, then the big-endian CRC-32 of the
/// uncompressed bytes, as Avro's `snappy` codec has it; returns the length written.
fn snappy(raw: &[u8], buf: &mut Vec<u8>) -> std::io::Result<usize> {
    at_least(buf, snap::raw::max_compress_len(raw.len()) + 4);
    let n = SNAPPY.with(|e| e.borrow_mut().compress(raw, buf)).map_err(std::io::Error::other)?;
    buf[n..n + 4].copy_from_slice(&crc32fast::hash(raw).to_be_bytes());
    Ok(n + 4)
}

thread_local! {
    /// Compressor state is large (tens to hundreds of KiB, zeroed on creation) and a batch
    /// has dozens of small files: each thread keeps one and reuses it for every block,
    /// and one buffer for the compressed blocks.
    static PACKED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static SNAPPY: RefCell<snap::raw::Encoder> = RefCell::new(snap::raw::Encoder::new());
    static DEFLATE: RefCell<Option<libdeflater::Compressor>> = const { RefCell::new(None) };
    static ZSTD: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
}

/// Raw deflate (RFC 1951, no zlib header, as Avro's `deflate` codec is) of one block into
/// `buf`; returns the length written.
fn deflate(raw: &[u8], buf: &mut Vec<u8>) -> std::io::Result<usize> {
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
        at_least(buf, c.deflate_compress_bound(raw.len()));
        c.deflate_compress(raw, buf).map_err(|e| std::io::Error::other(format!("deflate: {e:?}")))
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
    fn one_snappy_buffer_serves_many_blocks() {
        let mut packed = vec![7; 3];
        for n in [300_000usize, 0, 1, 1000, 5] {
            let raw: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
            let len = snappy(&raw, &mut packed).expect("snappy");
            let (body, crc) = packed[..len].split_at(len - 4);
            assert_eq!(snap::raw::Decoder::new().decompress_vec(body).expect("unsnappy"), raw, "{n} bytes");
            assert_eq!(crc, crc32fast::hash(&raw).to_be_bytes(), "{n} bytes");
        }
    }

    #[test]
    fn one_deflate_state_serves_many_blocks() {
        use std::io::Read;
        for n in [0usize, 1, 1000, 300_000, 5] {
            let raw: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
            let mut packed = vec![7; 3];
            let n = deflate(&raw, &mut packed).expect("deflate");
            let mut back = Vec::new();
            flate2::read::DeflateDecoder::new(&packed[..n]).read_to_end(&mut back).expect("inflate");
            assert_eq!(back, raw, "{n} bytes");
        }
    }
}
