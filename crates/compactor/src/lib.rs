//! The `compactor` Lambda function (contract section 8, "a scheduled function"): the
//! request kinds ([`event`]), the queue of partitions ([`queue`]) and the function
//! ([`function`]); `dmd-functions` wires them to the Lambda runtime.

pub mod event;
pub mod function;
pub mod queue;

pub use function::CompactFunction;
