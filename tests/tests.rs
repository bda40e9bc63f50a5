//! End-to-end tests of dmd-pipeline: real event payloads, the real `dmd` binary, Avro
//! read back by apache-avro and by fastavro.

mod util;

mod cli;
mod events;
mod properties;
