//! The Lambda functions as a library: configuration ([`config`]) and logging
//! ([`logging`]) shared by both; the `archiver`'s invocation ([`handler`]) and its report
//! ([`report`]); the `recoverer`'s invocation on the failure queue ([`recoverer`]) and its
//! per-message line ([`recovery_report`]). `dmd-functions` only wires them
//! to the Lambda runtime, so the tests can drive the same code with a chosen deadline.

pub mod config;
pub mod handler;
pub mod logging;
pub mod recoverer;
pub mod recovery_report;
pub mod report;

pub use config::Config;
pub use handler::{Archiver, HandlerError, Outcome};
pub use report::Report;
