//! `recoverer`: the recoverer alone (`DMD_FUNCTION` is not read), for `cargo lambda watch` and
//! `cargo lambda invoke recoverer`.

use std::process::ExitCode;

use dmd_functions::Role;

fn main() -> ExitCode {
    dmd_functions::main(Ok(Role::Recoverer), "recoverer")
}
