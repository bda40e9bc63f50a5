//! What the scheduled functions share: reading an invocation ([`invocation`]) and
//! sending a plan to their FIFO queue ([`fifo`]).

pub mod fifo;
pub mod invocation;
