//! `auditor`: the auditor alone (`DMD_FUNCTION` is not read), for `cargo lambda watch` and
//! `cargo lambda invoke auditor`.

use std::process::ExitCode;

use dmd_functions::Role;

fn main() -> ExitCode {
    dmd_functions::main(Ok(Role::Auditor), "auditor")
}
