//! `dmd compact --bucket` on moto's S3 (contract section 8): the same Parquet copy as
//! in a folder, read back by pyarrow and DuckDB from the parts the symlink manifest
//! names (`s3://<bucket>/<key>` lines); nothing written when nothing changed; a
//! replaced generation stays in the bucket tagged `dmd-retired=true` for the lifecycle
//! rule, the new one untagged; no object under data/ changes.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_s3::Client;
use serde_json::Value;

use super::read::{self, check_line, check_rows, check_schema, expected, strings};
use super::{archive, partition, run, Events};
use crate::moto;

/// Each object's size, ETag and last-modified time, by key.
async fn listing(client: &Client, bucket: &str, prefix: &str) -> BTreeMap<String, (i64, String, String)> {
    let mut out = BTreeMap::new();
    let mut pages = client.list_objects_v2().bucket(bucket).prefix(prefix).into_paginator().send();
    while let Some(page) = pages.next().await {
        for o in page.expect("list").contents() {
            let modified = o.last_modified().map(|t| t.to_string()).unwrap_or_default();
            let etag = o.e_tag().unwrap_or_default().to_owned();
            out.insert(o.key().expect("key").to_owned(), (o.size().unwrap_or_default(), etag, modified));
        }
    }
    out
}

/// The tags of an object.
async fn tags(client: &Client, bucket: &str, key: &str) -> Vec<(String, String)> {
    let got = client.get_object_tagging().bucket(bucket).key(key).send().await.expect("get_object_tagging");
    got.tag_set().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect()
}

fn manifest_key(partition: &str) -> String {
    format!("compacted/_symlink_format_manifest/{partition}/manifest")
}

/// Checks every built partition of `lines` against the bucket's Avro objects: the line,
/// the manifest (exactly the parts, as `s3://` URIs), the parts under the partition's
/// current generation, rows read by two readers from a downloaded copy, the schema.
/// Returns the duplicates dropped in all.
fn check_bucket(client: &Client, bucket: &str, lines: &[Value]) -> u64 {
    let rt = moto::runtime();
    let objects = rt.block_on(moto::objects(client, bucket));
    let avro = read::by_partition(objects.iter().map(|(k, o)| (k.as_str(), o.body.as_ref())));
    let dir = tempfile::tempdir().expect("tempdir");
    moto::download(&objects, dir.path());
    let maps = [(format!("s3://{bucket}/"), dir.path())];
    let mut duplicates = 0;
    for line in lines.iter().filter(|l| l["skipped"] == false) {
        let p = partition(line);
        let want = expected(&avro[&p]);
        check_line(line, &avro[&p], &want);
        duplicates += want.duplicates;
        let parts = strings(&line["files"]);
        let manifest = &objects[&manifest_key(&p)];
        let uris: String = parts.iter().map(|k| format!("s3://{bucket}/{k}\n")).collect();
        assert_eq!(String::from_utf8_lossy(&manifest.body), uris, "{p}: the manifest names the current parts");
        let generation = line["generation"].as_str().expect("generation");
        let description = format!("compacted/{p}/{generation}/_generation.json");
        let current: Vec<&String> = objects
            .keys()
            .filter(|k| k.starts_with(&format!("compacted/{p}/{generation}/")) && **k != description)
            .collect();
        assert_eq!(current, parts.iter().collect::<Vec<_>>(), "{p}");
        let described: Value = serde_json::from_slice(&objects[&description].body).expect("description");
        assert_eq!(described["files"], line["files"], "{p}");
        assert_eq!(described["records"], line["records"], "{p}");
        let avro_files = described["avro_files"].as_array().expect("avro files");
        assert_eq!(avro_files.len() as u64, line["avro_files"].as_u64().expect("count"), "{p}");
        assert!(avro_files.iter().all(|k| objects.contains_key(k.as_str().expect("key"))), "{p}");
        let bytes: usize = parts.iter().map(|k| objects[k].body.len()).sum();
        assert_eq!(line["bytes"], bytes, "{p}");
        for k in &parts {
            assert_eq!(objects[k].content_type.as_deref(), Some("application/vnd.apache.parquet"), "{k}");
            check_schema(&dir.path().join(k), line["record_type"].as_str().expect("type"));
        }
        check_rows(&p, &dir.path().join(manifest_key(&p)), &maps, &want);
    }
    duplicates
}

#[test]
fn a_bucket_gets_the_same_parquet_copy_and_a_replaced_generation_is_tagged_not_deleted() {
    let rt = moto::runtime();
    let client = rt.block_on(moto::client());
    let bucket = moto::unique_bucket("compact");
    rt.block_on(moto::create_bucket(&client, &bucket));
    let events = Events::new();
    archive(&["--bucket", &bucket], &events.initial());
    let data_before = rt.block_on(listing(&client, &bucket, "data/"));

    let (code, first) = run(&["compact", "--bucket", &bucket]);
    assert_eq!(code, 0, "{first:?}");
    assert_eq!(first.len(), 8);
    assert!(check_bucket(&client, &bucket, &first) > 0, "the bisected batch's copies were dropped");

    // Nothing changed: every line skipped, no object written.
    let before = rt.block_on(listing(&client, &bucket, ""));
    let (code, again) = run(&["compact", "--bucket", &bucket]);
    assert_eq!(code, 0);
    assert!(again.iter().all(|l| l["skipped"] == true), "{again:?}");
    assert_eq!(rt.block_on(listing(&client, &bucket, "")), before);

    // Added files: their partitions get a new generation, the old one is tagged.
    archive(&["--bucket", &bucket], &[&events.extra]);
    let data_added = rt.block_on(listing(&client, &bucket, "data/"));
    let changed: BTreeSet<String> =
        data_added.keys().filter(|k| !data_before.contains_key(*k)).map(|k| read::partition_of(k)).collect();
    assert!(data_before.iter().all(|(k, v)| data_added.get(k) == Some(v)), "archiving added files only");
    assert_eq!(changed.len(), 4, "{changed:?}");
    let (code, second) = run(&["compact", "--bucket", &bucket]);
    assert_eq!(code, 0, "{second:?}");
    check_bucket(&client, &bucket, &second);
    let old: BTreeMap<String, &Value> = first.iter().map(|l| (partition(l), l)).collect();
    let retired = vec![("dmd-retired".to_owned(), "true".to_owned())];
    let keys = rt.block_on(listing(&client, &bucket, "compacted/"));
    for l in &second {
        let p = partition(l);
        assert_eq!(l["skipped"] == false, changed.contains(&p), "{l}");
        let (new_parts, old_parts) = (strings(&l["files"]), strings(&old[&p]["files"]));
        for k in &new_parts {
            assert!(rt.block_on(tags(&client, &bucket, k)).is_empty(), "{k}: a current part is not tagged");
        }
        if changed.contains(&p) {
            assert_ne!(l["generation"], old[&p]["generation"]);
            for k in &old_parts {
                assert!(keys.contains_key(k), "{k}: a replaced part stays until the lifecycle rule expires it");
                assert_eq!(rt.block_on(tags(&client, &bucket, k)), retired, "{k}");
            }
        } else {
            assert_eq!(new_parts, old_parts, "{p}");
        }
        let manifest = rt.block_on(moto::objects(&client, &bucket))[&manifest_key(&p)].body.clone();
        let generation = l["generation"].as_str().expect("generation");
        assert!(String::from_utf8_lossy(&manifest).lines().all(|u| u.contains(generation)), "{p}: new generation only");
    }
    assert_eq!(rt.block_on(listing(&client, &bucket, "data/")), data_added, "no object under data/ changed");
}
