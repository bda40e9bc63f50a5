//! `dmd compact`: the Parquet copy of a folder or a bucket (contract section 8), one
//! JSON line per partition.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use chrono::NaiveDate;
use dmd_archive::config::Settings;
use dmd_archive::record_type::RecordType;
use dmd_compact::{compact_partition, plan, PartLimits, Selection};

use crate::target::Target;

/// Build the Parquet copy: for each (type, date) partition whose Avro files changed
/// since it was last compacted, a new generation of zstd Parquet files under
/// COMPACT_PREFIX (default compacted/) holding every change once, then switch the
/// partition's symlink manifest to it (what the Athena Parquet tables read).
///
/// The Avro files are only read. An unchanged partition is skipped (nothing written).
/// In a folder the replaced generation is deleted; in a bucket it is tagged
/// dmd-retired=true for the bucket's lifecycle rule to expire. Prints one JSON line per
/// partition. Exit status: 0 when every partition is current, 1 when one failed (its
/// previous generation stays; the next run tries again), 2 for bad arguments or
/// configuration.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// Only this record type (repeatable); default: all four.
    #[arg(long = "type", value_name = "T", value_parser = record_type)]
    types: Vec<RecordType>,
    /// Only this partition date, YYYY-MM-DD (repeatable); default: every date with Avro
    /// files.
    #[arg(long = "date", value_name = "YYYY-MM-DD", value_parser = date)]
    dates: Vec<NaiveDate>,
    /// Close a Parquet part once it reaches this many MiB.
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..=4096))]
    part_mib: u32,
}

fn record_type(s: &str) -> Result<RecordType, String> {
    RecordType::parse(s).ok_or_else(|| format!("{s:?} is not demand, notification, event or sale"))
}

fn date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|_| s.len() == 10)
        .ok_or_else(|| format!("{s:?} is not a YYYY-MM-DD date"))
}

pub fn run(args: Args) -> Result<ExitCode> {
    let settings = Settings::from_env()?;
    let limits = PartLimits { part_bytes: (args.part_mib as usize) << 20, ..PartLimits::default() };
    let selection = Selection { types: args.types, dates: args.dates };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let archive = rt.block_on(args.target.open(true))?;
    rt.block_on(async {
        let mut failed = 0;
        let mut out = std::io::stdout().lock();
        for (partition, keys) in plan(&archive, &settings, &selection).await? {
            let report = compact_partition(&archive, &settings, &partition, &keys, limits).await;
            if let Some(e) = &report.error {
                eprintln!("dmd: {} {}: {e}", report.record_type, report.partition_date);
                failed += 1;
            }
            writeln!(out, "{}", serde_json::to_string(&report)?)?;
        }
        Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    })
}
