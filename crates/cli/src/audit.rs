//! `dmd audit`: the archive against the stream that fed it (data contract, section 10),
//! one JSON line per shard and a summary line; with `--repair`, the missing records
//! archived as the function would, then a second audit.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use dmd_archive::config::Settings;
use dmd_archive::time::parse_timestamp;
use dmd_archive::{Clock, Limits, Pipeline, SystemClock};
use dmd_recover::audit::{audit, repair, Audit, Options};
use dmd_recover::{StreamArn, Streams};

use crate::target::Target;

/// Audit the archive against its stream: every record of every shard (open and closed,
/// parents before children) from --since to the stream's end is classed archived (a
/// manifest names it in a data or error file), retrying (only in a manifest's retry),
/// unsettled (newer than --settle: the function may not have seen it yet) or missing.
///
/// Prints one JSON line per shard (shard_id, parent_shard_id, records, archived,
/// retrying, unsettled, missing, reads, missing_records: each by sequence number, event
/// name, event time and keys, never another value) and a summary line. With --repair the
/// missing records are archived exactly as the function would (same keys and rules,
/// manifests included) and the stream is audited again.
///
/// What it costs: the shard is read once from the window's start (GetRecords pages of up
/// to 1,000 records; `reads` counts them). DynamoDB Streams advises at most two readers
/// per shard at once, and the archiver is one: keep --interval at or above its default,
/// and run one audit at a time. Throttled reads are retried.
///
/// Exit status: 0 when nothing is missing and every shard was read to its end, 1 when
/// something is missing, 2 for bad arguments, configuration, or a stream or archive
/// that cannot be read. AWS_ENDPOINT_URL selects other endpoints.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// The DynamoDB stream ARN or Kinesis stream ARN that feeds the archive.
    #[arg(long, value_name = "ARN")]
    stream: String,
    /// The window's start (RFC 3339); default: everything the stream holds.
    #[arg(long, value_name = "RFC3339")]
    since: Option<String>,
    /// Records newer than this many seconds are unsettled, not missing.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    settle: u32,
    /// Milliseconds at least between two reads of one shard (the stream allows 5 a
    /// second per shard, shared with the function).
    #[arg(long, value_name = "MS", default_value_t = 500)]
    interval: u64,
    /// Archive the missing records, then audit again.
    #[arg(long)]
    repair: bool,
    /// How many files of a repair batch to write at once.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let Some(stream) = StreamArn::parse(&args.stream) else {
        bail!("--stream {:?} is neither a DynamoDB stream ARN nor a Kinesis stream ARN", args.stream);
    };
    let since_ms = match &args.since {
        Some(s) => Some(parse_timestamp(s).with_context(|| format!("--since {s:?} is not an RFC 3339 time"))?),
        None => None,
    };
    let settings = Settings::from_env()?;
    let pipeline = Pipeline::new(settings.clone())?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let streams = Streams::from_env().await;
        let archive = args.target.open(!args.repair).await?;
        let opts = |keep_missing| Options {
            since_ms,
            settle_ms: i64::from(args.settle) * 1000,
            now_ms: SystemClock.now_millis(),
            interval: Duration::from_millis(args.interval),
            keep_missing,
        };
        let prefix = settings.manifest_prefix.as_str();
        let mut report = audit(&streams, &archive, prefix, &stream, opts(args.repair)).await?;
        if args.repair {
            print(&report, true)?;
            let limits = Limits { concurrency: args.concurrency.into(), deadline: None };
            let repaired = repair(&pipeline, &archive, &report, &SystemClock, limits).await?;
            report = audit(&streams, &archive, prefix, &stream, opts(false)).await?;
            report.summary.repaired = Some(repaired);
        }
        print(&report, false)?;
        Ok(if report.summary.ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
    })
}

/// The summary line: marked as such, and as the audit before a repair.
#[derive(serde::Serialize)]
struct SummaryLine<'a> {
    summary: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    before_repair: Option<bool>,
    #[serde(flatten)]
    counts: &'a dmd_recover::audit::Summary,
}

/// The shard lines and the summary (the first audit of a repair marks its summary
/// `"before_repair"`).
fn print(report: &Audit, before_repair: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for line in &report.shards {
        if let Some(problem) = &line.problem {
            eprintln!("dmd: shard {}: {problem}", line.shard_id);
        }
        serde_json::to_writer(&mut out, line)?;
        writeln!(out)?;
    }
    let summary = SummaryLine { summary: true, before_repair: before_repair.then_some(true), counts: &report.summary };
    serde_json::to_writer(&mut out, &summary)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}
