//! `dmd verify`: the completeness audit of an archive in a folder or a bucket, with a
//! progress line on a terminal and a JSON summary on standard output.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};
use dmd_archive::config::Settings;
use dmd_archive::time::{parse_timestamp, DAY_MS};
use dmd_archive::verify::{verify, Progress, Scope};

use crate::target::Target;

/// Check that the archive is complete: every file each manifest names exists with its
/// size and SHA-256, each manifest's counts add up, and no data or error file is left
/// unnamed.
///
/// Prints a JSON summary (manifests, files, records and bytes checked; each problem with
/// its key and kind). Exit status: 0 when everything holds, 1 when something does not,
/// 2 for bad arguments or configuration.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// Check only manifests from this processing day (UTC; the day before is read too,
    /// for runs across midnight) and files written since.
    #[arg(long, value_name = "YYYY-MM-DD")]
    since: Option<String>,
    /// Files read at once.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=512))]
    concurrency: u16,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let settings = Settings::from_env()?;
    let since_day = match &args.since {
        Some(s) => Some(day_of(s).with_context(|| format!("--since {s:?} is not a date (YYYY-MM-DD)"))?),
        None => None,
    };
    let scope = Scope { since_day, concurrency: args.concurrency.into() };
    let progress = Line::new();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let archive = rt.block_on(args.target.open(true))?;
    let report = rt.block_on(verify(&archive, &settings, scope, &progress));
    progress.finish();
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &report)?;
    writeln!(stdout)?;
    Ok(if report.ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The epoch day of `YYYY-MM-DD`.
fn day_of(s: &str) -> Option<i64> {
    if s.len() != 10 {
        return None;
    }
    parse_timestamp(&format!("{s}T00:00:00Z")).map(|ms| ms.div_euclid(DAY_MS))
}

/// A progress line on standard error, redrawn at most five times a second, and only
/// when standard error is a terminal.
struct Line {
    tty: bool,
    started: Instant,
    last_ms: AtomicU64,
}

impl Line {
    fn new() -> Line {
        Line { tty: std::io::stderr().is_terminal(), started: Instant::now(), last_ms: AtomicU64::new(0) }
    }

    fn finish(&self) {
        if self.tty {
            eprintln!();
        }
    }
}

impl Progress for Line {
    fn update(&self, manifests: usize, files: usize) {
        if !self.tty {
            return;
        }
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.last_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < 200 || self.last_ms.swap(now, Ordering::Relaxed) != last {
            return;
        }
        let secs = now as f64 / 1000.0;
        eprint!("\rdmd verify: {manifests} manifests, {files} files checked ({secs:.1} s)");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn days() {
        assert_eq!(super::day_of("1970-01-02"), Some(1));
        assert_eq!(super::day_of("2026-11-18"), Some(1_795_000_000_000 / 86_400_000));
        assert_eq!(super::day_of("2026-11-18T00:00:00Z"), None);
        assert_eq!(super::day_of("yesterday"), None);
    }
}
