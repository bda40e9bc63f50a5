//! End-to-end tests of dmd-pipeline: real event payloads, the real `dmd` binary, Avro
//! read back by apache-avro and by fastavro, and the `archiver` function on real servers
//! (moto's S3 and DynamoDB Streams, `cargo lambda watch`) started by tests/with-servers.sh.

mod util;

mod moto;
mod proxy;

mod cli;
mod events;
mod faults;
mod lambda;
mod manifests;
mod pii_leaks;
mod properties;
mod replay;
mod runtime_logs;
mod s3;
mod streams;
