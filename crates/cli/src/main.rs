//! `dmd`: the dmd-pipeline archive outside Lambda. `archive` runs Lambda event files
//! through the same pipeline as the function, `verify` checks an archive against its
//! manifests, `replay` puts error files back through the pipeline, `recover` archives the
//! batches Lambda gave up on, `cat` prints Avro records, `generate` writes realistic
//! events, `schema` prints the Avro schemas.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use dmd_archive::envelope::Source;
use dmd_archive::record_type::RecordType;
use dmd_archive::synth;

mod archive;
#[cfg(feature = "aws")]
mod audit;
mod cat;
#[cfg(feature = "parquet")]
mod compact;
#[cfg(feature = "aws")]
mod failures;
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
        #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=256))]
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
        // A reader that stopped early (`dmd cat f | head -1`) is not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dmd: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Whether standard output was closed under the command.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    let pipe = Some(std::io::ErrorKind::BrokenPipe);
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().map(std::io::Error::kind) == pipe
            || c.downcast_ref::<serde_json::Error>().and_then(serde_json::Error::io_error_kind) == pipe
    })
}

fn run(cli: Cli) -> Result<ExitCode> {
    init_tracing()?;
    match cli.command {
        Command::Archive { out, bucket, concurrency, jobs, events } => {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
            archive::run(out, bucket, concurrency.into(), jobs.map_or(cores, usize::from), &events)
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
        // The SDK's search for a region on an instance that is not one (the usual case on
        // a laptop) is no news; an error of the call that needed it still is.
        _ => tracing_subscriber::EnvFilter::new("warn,aws_config::imds=error"),
    };
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).init();
    Ok(())
}
