//! The S3 side of the harness: moto's server (started by `tests/with-servers.sh`), fresh
//! buckets, S3 sinks and clients that point at it (directly or through the fault proxy),
//! and the objects read back.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_s3::types::ChecksumMode;
use bytes::Bytes;
use dmd_s3::{S3Options, S3Sink};

use crate::util::{decode_avro, ReadRecord};

/// moto's address, exported by `tests/with-servers.sh`.
pub fn endpoint() -> String {
    std::env::var("DMD_MOTO_ENDPOINT").unwrap_or_else(|_| {
        panic!("DMD_MOTO_ENDPOINT is not set: run the tests through tests/with-servers.sh (`make test` does)")
    })
}

/// `host:port` of moto.
pub fn moto_addr() -> std::net::SocketAddr {
    let e = endpoint();
    let hostport = e.strip_prefix("http://").expect("http endpoint");
    hostport.parse().expect("DMD_MOTO_ENDPOINT is http://IP:PORT")
}

/// A runtime for one test (the S3 client's timers and connections live on it).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime")
}

/// A bucket name no other test uses.
pub fn unique_bucket(what: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").subsec_nanos();
    format!("dmd-{what}-{}-{}-{nanos}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Options for moto (or the proxy at `endpoint`), with short retries so that the fault
/// tests finish quickly: 3 attempts, 10 ms backoff base, 1 s per attempt.
pub fn options(bucket: &str, endpoint: &str) -> S3Options {
    S3Options {
        endpoint_url: Some(endpoint.to_owned()),
        force_path_style: true,
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        connect_timeout: Duration::from_secs(1),
        attempt_timeout: Duration::from_secs(1),
        operation_timeout: Duration::from_secs(10),
        ..S3Options::new(bucket)
    }
}

/// A sink writing to `bucket` through `endpoint`.
pub async fn sink(bucket: &str, endpoint: &str) -> S3Sink {
    S3Sink::new(options(bucket, endpoint)).await
}

/// A client straight to moto, for setting up and reading back.
pub async fn client() -> aws_sdk_s3::Client {
    dmd_s3::client(&options("unused", &endpoint())).await
}

/// Creates `bucket` in moto, in the client's region.
pub async fn create_bucket(client: &aws_sdk_s3::Client, bucket: &str) {
    let region = client.config().region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
    let mut req = client.create_bucket().bucket(bucket);
    if region != "us-east-1" {
        let location = aws_sdk_s3::types::BucketLocationConstraint::from(region.as_str());
        req = req.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder().location_constraint(location).build(),
        );
    }
    req.send().await.unwrap_or_else(|e| panic!("create bucket {bucket}: {e:?}"));
}

/// An object as stored.
#[derive(Debug, Clone)]
pub struct Object {
    pub body: Bytes,
    pub content_type: Option<String>,
    /// The CRC32 checksum S3 keeps for the object (base64), when one was sent.
    pub crc32: Option<String>,
}

/// Every object of `bucket`, by key.
pub async fn objects(client: &aws_sdk_s3::Client, bucket: &str) -> BTreeMap<String, Object> {
    let mut out = BTreeMap::new();
    let mut pages = client.list_objects_v2().bucket(bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.unwrap_or_else(|e| panic!("list {bucket}: {e:?}"));
        for o in page.contents() {
            let key = o.key().expect("key").to_owned();
            let got = client
                .get_object()
                .bucket(bucket)
                .key(&key)
                .checksum_mode(ChecksumMode::Enabled)
                .send()
                .await
                .unwrap_or_else(|e| panic!("get {key}: {e:?}"));
            let content_type = got.content_type().map(str::to_owned);
            let crc32 = got.checksum_crc32().map(str::to_owned);
            let body = got.body.collect().await.expect("body").into_bytes();
            out.insert(key, Object { body, content_type, crc32 });
        }
    }
    out
}

/// The keys of `bucket`.
pub async fn keys(client: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    objects(client, bucket).await.into_keys().collect()
}

/// Every record of the `.avro` objects, decoded with apache-avro.
pub fn records(objects: &BTreeMap<String, Object>) -> Vec<ReadRecord> {
    objects.iter().filter(|(k, _)| k.ends_with(".avro")).flat_map(|(k, o)| decode_avro(k, &o.body)).collect()
}

/// Writes the objects below `dir` under their keys (for fastavro and `dmd cat`).
pub fn download(objects: &BTreeMap<String, Object>, dir: &Path) {
    for (k, o) in objects {
        let path = dir.join(k);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, &o.body).expect("write object");
    }
}

/// Records per `<type>/dt=<date>` of the data objects.
pub fn partitions(objects: &BTreeMap<String, Object>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in records(objects) {
        let part = r.file.trim_start_matches("data/").rsplit_once('/').expect("key has a file name").0.to_owned();
        *out.entry(part).or_default() += 1;
    }
    out
}
