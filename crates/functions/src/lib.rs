//! The one `main` of every Lambda function: Lambda's log settings first, then the role
//! ([`role`]) started on one thread and served until Lambda stops the process. `main.rs`
//! takes the role from `DMD_FUNCTION`; the binaries in `bin/` fix it.

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;

use dmd_lambda::logging::LogSettings;

pub mod archiver;
pub mod auditor;
pub mod compactor;
pub mod recoverer;
pub mod role;

pub use role::Role;

/// Runs `role` (`Ok`), or tells why the role is unknown (`Err`), and returns the exit
/// status; `name` prefixes what can only go to standard error.
pub fn main(role: Result<Role, role::UnknownRole>, name: &str) -> ExitCode {
    // Before tracing exists, a bad log setting can only be told on standard error.
    match LogSettings::from_env() {
        Ok(logs) => logs.init(),
        Err(e) => {
            eprintln!("{name}: {e}");
            return ExitCode::FAILURE;
        }
    }
    let role = match role {
        Ok(role) => role,
        Err(e) => {
            tracing::error!(error = %e, "no function to serve");
            eprintln!("{name}: {e}");
            return ExitCode::FAILURE;
        }
    };
    // One thread: below 1,769 MB a function has one vCPU, and the work of an invocation
    // runs on the threads the pipeline starts itself.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{name}: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(role)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "{role} stopped");
            eprintln!("{role}: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The role's start and invocations. Each future is boxed: they are large and only
/// one of them ever runs.
fn serve(role: Role) -> Pin<Box<dyn Future<Output = anyhow::Result<()>>>> {
    match role {
        Role::Archiver => Box::pin(archiver::serve()),
        Role::Recoverer => Box::pin(recoverer::serve()),
        Role::Compactor => Box::pin(compactor::serve()),
        Role::Auditor => Box::pin(auditor::serve()),
    }
}
