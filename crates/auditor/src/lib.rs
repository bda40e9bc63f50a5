//! The `auditor` Lambda function (data contract, section 10: "template.yaml schedules
//! it as a function"): what it is invoked with ([`request`]), its configuration
//! ([`settings`]), the queue of shards ([`queue`]), the lines it prints ([`metrics`])
//! and the function ([`function`]), which audits through `dmd_recover::audit` as
//! `dmd audit` does; `dmd-functions` wires it to the Lambda runtime.

pub mod function;
pub mod metrics;
pub mod queue;
pub mod request;
pub mod settings;

pub use function::{AuditFunction, AuditorError, Repair};
pub use settings::AuditSettings;
