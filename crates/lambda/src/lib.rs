//! The `archiver` Lambda function as a library: configuration ([`config`]), logging
//! ([`logging`]), the invocation ([`handler`]) and its report ([`report`]). `main.rs` only wires them to
//! the Lambda runtime, so the tests can drive the same code with a chosen deadline.

pub mod config;
pub mod handler;
pub mod logging;
pub mod report;

pub use config::Config;
pub use handler::{Archiver, HandlerError, Outcome};
pub use report::Report;
