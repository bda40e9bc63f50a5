//! The benchmark floor: reads each event file and parses it into a `serde_json::Value`,
//! the least any program that looks at the input must do. `floor EVENT.json...` prints
//! the number of records seen.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut records = 0usize;
    for path in std::env::args_os().skip(1) {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("floor: {}: {e}", path.to_string_lossy());
                return ExitCode::FAILURE;
            }
        };
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(v) => records += v.get("Records").and_then(|r| r.as_array()).map_or(0, Vec::len),
            Err(e) => {
                eprintln!("floor: {}: {e}", path.to_string_lossy());
                return ExitCode::FAILURE;
            }
        }
    }
    println!("{{\"records\":{records}}}");
    ExitCode::SUCCESS
}
