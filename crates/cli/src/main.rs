//! `dmd`: the dmd-pipeline archive outside Lambda. `archive` runs Lambda event files
//! through the same pipeline as the function, `verify` checks an archive against its
//! manifests, `replay` puts error files back through the pipeline, `recover` archives the
//! batches Lambda gave up on, `cat` prints Avro records, `generate` writes realistic
//! events, `schema` prints the Avro schemas.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use dmd_archive::check::check_event;
use dmd_archive::config::{check_bucket, Settings};
use dmd_archive::envelope::Source;
use dmd_archive::pipeline::Batch;
use dmd_archive::record_type::RecordType;
use dmd_archive::sink::{LocalDir, ObjectSink};
use dmd_archive::{synth, BatchResponse, Clock, Limits, Pipeline, Summary, SystemClock};
#[cfg(feature = "aws")]
use dmd_s3::{S3Options, S3Sink};
use futures::StreamExt;

#[cfg(feature = "aws")]
mod audit;
mod cat;
#[cfg(feature = "parquet")]
mod compact;
#[cfg(feature = "aws")]
mod recover;
mod replay;
mod target;
mod verify;

/// Archive DynamoDB change events to Avro, as the dmd-pipeline Lambda does.
///
/// Configuration comes from the same environment variables as the function:
/// DATA_PREFIX, ERROR_PREFIX, AVRO_CODEC, SYSTEM_ID, DATABASE_ID, MEMBER_ID,
/// PII_ATTRIBUTES, RUST_LOG.
#[derive(Parser)]
#[command(name = "dmd", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Process Lambda event files (DynamoDB Streams or Kinesis) exactly as the function
    /// does, and print one JSON line per file: the batch answer and a summary.
    ///
    /// Every input is checked before anything is written: a file that is not a stream
    /// event, or an invalid configuration, stops the run with nothing written.
    /// Exit status: 0 when every record was archived or sent to an error file, 1 when
    /// some records could not be written (they are listed in batchItemFailures),
    /// 2 for bad input or configuration.
    Archive {
        /// Write under this local folder (the same keys as in the bucket).
        #[arg(long, value_name = "DIR", conflicts_with = "bucket")]
        out: Option<PathBuf>,
        /// Write to this S3 bucket (AWS_ENDPOINT_URL_S3 selects an S3-compatible server).
        #[arg(long, value_name = "NAME")]
        bucket: Option<String>,
        /// How many files of a batch to write at once.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
        concurrency: u16,
        /// How many event files to process at once (default: the number of cores, at most
        /// 4). Each one in flight holds its event and its output in memory.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
        jobs: Option<u16>,
        /// Lambda event files; `-` reads standard input.
        #[arg(value_name = "EVENT.json", required = true)]
        events: Vec<PathBuf>,
    },
    /// Print the records of Avro files as JSON Lines (timestamps as RFC 3339 text).
    Cat {
        #[arg(value_name = "FILE.avro", required = true)]
        files: Vec<PathBuf>,
    },
    /// Write realistic Lambda event files: all four record types, INSERT/MODIFY/REMOVE,
    /// TTL deletions, PII where the contract names it, several partition dates.
    Generate {
        /// Records in all.
        #[arg(long, default_value_t = 1000)]
        records: usize,
        /// Records per event file (Lambda's batch size).
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        batch: u64,
        #[arg(long, value_enum, default_value_t = SourceArg::Dynamodb)]
        source: SourceArg,
        /// The same seed gives the same files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Percentage of malformed or invalid records (one of each error kind in turn).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=100))]
        bad_percent: u32,
        /// Days (from 2026-11-01, UTC) that the partition timestamps (requestedDate,
        /// createdDate) spread over. A real batch holds seconds or minutes of changes, mostly
        /// to items of one day: 1 is closest to that; 7 splits every batch over a week.
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=7))]
        days: u32,
        /// Folder for the files (created); they are named batch-00000.json, ...
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    #[cfg(feature = "aws")]
    Audit(audit::Args),
    #[cfg(feature = "parquet")]
    Compact(compact::Args),
    #[cfg(feature = "aws")]
    Recover(recover::Args),
    Replay(replay::Args),
    Verify(verify::Args),
    /// Print the Avro schema of a record type (as written into every data file).
    Schema {
        #[arg(value_enum)]
        record_type: TypeArg,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum SourceArg {
    Dynamodb,
    Kinesis,
}

#[derive(Clone, Copy, ValueEnum)]
enum TypeArg {
    Demand,
    Notification,
    Event,
    Sale,
}

impl From<TypeArg> for RecordType {
    fn from(t: TypeArg) -> RecordType {
        match t {
            TypeArg::Demand => RecordType::Demand,
            TypeArg::Notification => RecordType::Notification,
            TypeArg::Event => RecordType::Event,
            TypeArg::Sale => RecordType::Sale,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dmd: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    init_tracing()?;
    match cli.command {
        Command::Archive { out, bucket, concurrency, jobs, events } => {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
            archive(out, bucket, concurrency.into(), jobs.map_or(cores, usize::from), &events)
        }
        Command::Cat { files } => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            for f in &files {
                cat::print_file(f, &mut out).with_context(|| format!("cannot read {}", f.display()))?;
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate { records, batch, source, seed, bad_percent, days, out } => {
            let source = match source {
                SourceArg::Dynamodb => Source::DynamoDb,
                SourceArg::Kinesis => Source::Kinesis,
            };
            let batch = usize::try_from(batch).context("--batch is too large")?;
            let opts = synth::Options { records, batch, source, seed, bad_percent, days };
            std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
            let mut files = 0;
            for (i, g) in synth::generate(&opts).enumerate() {
                let path = out.join(format!("batch-{i:05}.json"));
                std::fs::write(&path, g.json).with_context(|| format!("cannot write {}", path.display()))?;
                files += 1;
            }
            eprintln!("dmd: wrote {records} records in {files} file(s) to {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "aws")]
        Command::Audit(args) => audit::run(args),
        #[cfg(feature = "parquet")]
        Command::Compact(args) => compact::run(args),
        #[cfg(feature = "aws")]
        Command::Recover(args) => recover::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Schema { record_type } => {
            let rt = RecordType::from(record_type);
            let text =
                dmd_archive::avro::SCHEMA_FILES.iter().find(|(t, _)| *t == rt).map(|(_, s)| *s).unwrap_or_default();
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn init_tracing() -> Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => {
            tracing_subscriber::EnvFilter::try_new(&v).map_err(|e| anyhow::anyhow!("invalid RUST_LOG: {e}"))?
        }
        _ => tracing_subscriber::EnvFilter::new("warn"),
    };
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    Ok(())
}

/// An input event: a path, or standard input read once.
enum Input {
    Path(PathBuf),
    Stdin(Vec<u8>),
}

impl Input {
    fn name(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Stdin(_) => "-".into(),
        }
    }

    fn read(&self) -> Result<Vec<u8>> {
        match self {
            Input::Path(p) => std::fs::read(p).with_context(|| format!("cannot read {}", p.display())),
            Input::Stdin(b) => Ok(b.clone()),
        }
    }
}

fn archive(
    out: Option<PathBuf>,
    bucket: Option<String>,
    concurrency: usize,
    jobs: usize,
    events: &[PathBuf],
) -> Result<ExitCode> {
    let settings = Settings::from_env()?;
    let pipeline = Pipeline::new(settings)?;
    let mut inputs = Vec::with_capacity(events.len());
    for p in events {
        if p == Path::new("-") {
            if inputs.iter().any(|i| matches!(i, Input::Stdin(_))) {
                bail!("standard input (-) can be read only once");
            }
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).context("cannot read standard input")?;
            inputs.push(Input::Stdin(buf));
        } else {
            inputs.push(Input::Path(p.clone()));
        }
    }
    // Check every input before writing anything, on all cores. With a single input the
    // processing itself is the check: nothing is written before it has succeeded.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let held = if inputs.len() > 1 { check_all(&pipeline, &inputs, cores.min(4))? } else { vec![None] };
    let inputs: Vec<(Arc<Input>, Option<Batch>)> = inputs.into_iter().map(Arc::new).zip(held).collect();
    let pipeline = Arc::new(pipeline);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(jobs.max(1)).enable_all().build()?;
    match bucket {
        #[cfg(feature = "aws")]
        Some(name) => {
            check_bucket("--bucket", &name)?;
            let sink = rt.block_on(dmd_archive_s3(&name))?;
            rt.block_on(archive_to(pipeline, Arc::new(sink), concurrency, inputs, jobs))
        }
        #[cfg(not(feature = "aws"))]
        Some(name) => {
            check_bucket("--bucket", &name)?;
            bail!("{}", target::WITHOUT_AWS)
        }
        None => {
            let dir = out.unwrap_or_else(|| PathBuf::from("archive"));
            rt.block_on(archive_to(pipeline, Arc::new(LocalDir::new(dir)), concurrency, inputs, jobs))
        }
    }
}

/// Bytes of processed batches held in memory before anything is written. The check of
/// several inputs processes them, and the batches that fit are written as they are; the
/// inputs after are only checked (one scan) and processed when their turn to be written
/// comes.
const HELD_BYTES: usize = 4 << 20;

/// Checks that every input is a stream event, `workers` files at a time, and returns the
/// batches it keeps (in input order; `None` for an input to process again).
fn check_all(pipeline: &Pipeline, inputs: &[Input], workers: usize) -> Result<Vec<Option<Batch>>> {
    let chunk = inputs.len().div_ceil(workers);
    let budget = HELD_BYTES / inputs.len().div_ceil(chunk);
    std::thread::scope(|s| {
        let handles: Vec<_> = inputs
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || -> Result<Vec<Option<Batch>>> {
                    let mut left = budget;
                    let mut held = Vec::with_capacity(part.len());
                    for input in part {
                        let payload = input.read()?;
                        if left == 0 {
                            check_event(&payload).with_context(|| input.name())?;
                            held.push(None);
                            continue;
                        }
                        let batch =
                            pipeline.process(&payload, SystemClock.now_millis()).with_context(|| input.name())?;
                        if batch.bytes() <= left {
                            left -= batch.bytes();
                            held.push(Some(batch));
                        } else {
                            left = 0;
                            held.push(None);
                        }
                    }
                    Ok(held)
                })
            })
            .collect();
        let mut held = Vec::with_capacity(inputs.len());
        for h in handles {
            held.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))?);
        }
        Ok(held)
    })
}

/// The S3 output of the Lambda function (`dmd-s3`), with the same environment
/// (`AWS_ENDPOINT_URL_S3`, `S3_*` retry and timeout settings, AWS credentials).
#[cfg(feature = "aws")]
async fn dmd_archive_s3(bucket: &str) -> Result<S3Sink> {
    Ok(S3Sink::new(S3Options::from_env(bucket)?).await)
}

/// One output line: the invocation's answer followed by its summary.
#[derive(serde::Serialize)]
struct Line<'a> {
    #[serde(flatten)]
    answer: &'a BatchResponse,
    event: String,
    #[serde(flatten)]
    summary: &'a Summary,
}

/// Runs the pipeline on the inputs, `jobs` at a time (each on a runtime worker thread),
/// and prints the lines in input order.
async fn archive_to<S: ObjectSink + 'static>(
    pipeline: Arc<Pipeline>,
    sink: Arc<S>,
    concurrency: usize,
    inputs: Vec<(Arc<Input>, Option<Batch>)>,
    jobs: usize,
) -> Result<ExitCode> {
    let limits = Limits { concurrency, deadline: None };
    let mut done = futures::stream::iter(inputs)
        .map(|(input, held)| {
            let (pipeline, sink) = (Arc::clone(&pipeline), Arc::clone(&sink));
            tokio::spawn(async move {
                let batch = match held {
                    Some(batch) => batch,
                    None => {
                        let payload = input.read()?;
                        pipeline.process(&payload, SystemClock.now_millis()).with_context(|| input.name())?
                    }
                };
                let outcome = pipeline.write(batch, &SystemClock, sink.as_ref(), limits).await;
                anyhow::Ok((input.name(), outcome))
            })
        })
        .buffered(jobs.max(1));
    let stdout = std::io::stdout();
    let mut code = ExitCode::SUCCESS;
    while let Some(result) = done.next().await {
        let (name, outcome) = result.context("a worker task failed")??;
        if outcome.unreportable() > 0 {
            eprintln!(
                "dmd: {name}: {} record(s) could not be written and have no sequence number to report",
                outcome.unreportable()
            );
            code = ExitCode::from(1);
        }
        for f in &outcome.delivery.failed {
            eprintln!("dmd: {name}: {}", f.error);
        }
        if !outcome.answer().batch_item_failures.is_empty() {
            code = ExitCode::from(1);
        }
        let line = Line { answer: outcome.answer(), event: name, summary: &outcome.summary };
        let mut lock = stdout.lock();
        serde_json::to_writer(&mut lock, &line)?;
        writeln!(lock)?;
    }
    Ok(code)
}
