//! Data files: each group's encoded records framed into an Avro container with the
//! configured codec, on several threads when the batch is large enough to gain from it.

use bytes::Bytes;

use crate::avro::{write_container, Catalog, Codec};
use crate::deliver::{FileKind, PendingFile, AVRO_CONTENT_TYPE};
use crate::group::Group;
use crate::keys::data_key;

/// Uncompressed bytes of a batch from which its files are compressed on several threads.
const PARALLEL_BYTES: usize = 128 * 1024;
/// At most this many compression threads.
pub const MAX_THREADS: usize = 4;

/// How data files are made.
#[derive(Debug, Clone, Copy)]
pub struct Framing<'c> {
    pub catalog: &'c Catalog,
    pub codec: Codec,
    pub data_prefix: &'c str,
    pub threads: usize,
}

/// Compresses and frames the groups, in their order.
pub fn data_files(framing: &Framing<'_>, groups: Vec<Group>) -> Vec<PendingFile> {
    let total: usize = groups.iter().map(|g| g.data.len()).sum();
    let workers = framing.threads.min(groups.len());
    if workers < 2 || total < PARALLEL_BYTES {
        return groups.into_iter().map(|g| data_file(framing, g)).collect();
    }
    // Largest first, each to the least loaded worker.
    let mut order: Vec<(usize, Group)> = groups.into_iter().enumerate().collect();
    order.sort_by_key(|(_, g)| std::cmp::Reverse(g.data.len()));
    let mut buckets: Vec<(usize, Vec<(usize, Group)>)> = (0..workers).map(|_| (0, Vec::new())).collect();
    for item in order {
        if let Some(b) = buckets.iter_mut().min_by_key(|(load, _)| *load) {
            b.0 += item.1.data.len();
            b.1.push(item);
        }
    }
    let mut done: Vec<(usize, PendingFile)> = std::thread::scope(|s| {
        let handles: Vec<_> = buckets
            .into_iter()
            .map(|(_, bucket)| {
                s.spawn(move || bucket.into_iter().map(|(i, g)| (i, data_file(framing, g))).collect::<Vec<_>>())
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, f)| f).collect()
}

fn data_file(framing: &Framing<'_>, mut g: Group) -> PendingFile {
    g.finish_blocks();
    let (id, sync) = g.id.finish();
    let schema = framing.catalog.get(g.record_type);
    let mut body = Vec::with_capacity(g.data.len() / 3 + schema.json.len() + 64);
    // Compression writes into memory only; an error here would be a codec defect, and
    // the records are still worth writing uncompressed.
    if let Err(e) = write_container(&schema.json, framing.codec, &sync, &g.data, &g.blocks, &mut body) {
        tracing::error!(error = %e, codec = framing.codec.name(), "compression failed; writing the file uncompressed");
        body.clear();
        let _ = write_container(&schema.json, Codec::Null, &sync, &g.data, &g.blocks, &mut body);
    }
    PendingFile {
        key: data_key(framing.data_prefix, g.record_type, &g.date, &id),
        body: Bytes::from(body),
        content_type: AVRO_CONTENT_TYPE,
        kind: FileKind::Data { record_type: g.record_type, date: g.date },
        records: g.records,
    }
}
