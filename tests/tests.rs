//! End-to-end tests of dmd-pipeline: real event payloads, the real `dmd` binary, Avro
//! read back by apache-avro and by fastavro, and the `archiver` function on real servers
//! (moto's S3 and DynamoDB Streams, `cargo lambda watch`, a loopback Lambda runtime API)
//! started by tests/with-servers.sh, both as built for the tests and as `sam build`
//! builds it for deployment.

mod util;

mod elf;
mod moto;
mod proxy;
mod runtime_api;

mod audit;
mod auditor;
mod bootstrap;
mod cli;
mod compact;
mod compactor;
mod events;
mod failure_records;
mod faults;
mod functions;
mod lambda;
mod manifests;
mod pii_leaks;
mod pii_paths;
mod properties;
mod readme;
mod recover;
mod replay;
mod runtime_logs;
mod s3;
mod streams;
