//! `dmd-function`: every function of the template, as `DMD_FUNCTION` names it (`archiver`
//! when unset). `sam build` builds this once and every function deploys it.

use std::process::ExitCode;

use dmd_functions::Role;

fn main() -> ExitCode {
    dmd_functions::main(Role::from_env(), "dmd-function")
}
