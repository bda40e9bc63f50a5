//! `dmd recover`: the batches Lambda gave up on, read back from their stream and archived
//! exactly as the function would, from on-failure messages in files or in the failure
//! queue (a queue message is deleted only when its range was recovered in full), and
//! the batches that failure records of an S3 destination hold (`failures`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use dmd_archive::config::Settings;
use dmd_archive::sink::ObjectSink;
use dmd_archive::{Limits, Pipeline, SystemClock};
use dmd_recover::{LazyStreams, Pass, Queue, Recoverer, Recovery};

use crate::failures;
use crate::target::{Archive, Target};

/// How long a message received from the queue stays hidden from other readers during a
/// run. A message not recovered in full is made visible again when the run ends.
const HOLD: Duration = Duration::from_secs(900);

/// Recover batches that Lambda gave up on (data contract, section 9).
///
/// Each on-failure message (DDBStreamBatchInfo or KinesisBatchInfo) names a shard and a
/// range of sequence numbers. The range is read back from the stream (GetShardIterator
/// AT_SEQUENCE_NUMBER, then GetRecords to the end sequence number) and archived through
/// the same pipeline as the function: same keys, same rules, and a second run writes the
/// same keys. One JSON line per message: shard_id, start_sequence_number,
/// end_sequence_number, records, archived, errors, missing (records the stream no longer
/// holds), deleted_message, and problem (null when the range was recovered in full).
///
/// Exit status: 0 when every range was recovered in full, 1 when some was not (its
/// queue message stays for a later run), 2 for bad arguments, configuration or queue.
/// AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_DYNAMODB_STREAMS, _KINESIS, _SQS, _S3) selects
/// other endpoints.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// Take the messages from this SQS queue (the stack's FailedBatchQueueUrl).
    #[arg(long, value_name = "URL", conflicts_with_all = ["messages", "failures"], required_unless_present_any = ["messages", "failures"])]
    queue: Option<String>,
    /// Take the failure records of an S3 on-failure destination: s3://BUCKET[/PREFIX]
    /// (the stack's FailedBatchBucketName; default prefix aws/lambda/) or a folder with
    /// the bucket's keys. Each holds its batch, archived with no read of the stream, and
    /// is marked recovered beside it (recovered/<key>); a marked record is passed by.
    #[arg(long, value_name = "LOCATION", conflicts_with = "messages")]
    failures: Option<String>,
    /// How many files of a batch to write at once.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// On-failure messages, one JSON document per file (the body of a queue message).
    #[arg(value_name = "MESSAGE.json")]
    messages: Vec<PathBuf>,
}

/// One output line: where the message came from, then its recovery.
#[derive(serde::Serialize)]
struct Line<'a> {
    message: &'a str,
    #[serde(flatten)]
    recovery: &'a Recovery,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let pipeline = Pipeline::new(Settings::from_env()?)?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        // The stream clients are set up by the first range read, if any: failure records
        // and files that are not on-failure messages need no AWS configuration.
        let recoverer = Recoverer::new(pipeline, LazyStreams::new());
        let limits = Limits { concurrency: args.concurrency.into(), deadline: None };
        let from = match (&args.queue, &args.failures) {
            (Some(url), _) => From::Queue(Queue::new(&dmd_recover::sdk_config().await, url.as_str())),
            (None, Some(location)) => {
                let (store, prefix) = failures::open(location).await?;
                From::Failures(store, prefix)
            }
            (None, None) => From::Files(args.messages),
        };
        let archive = args.target.open(false).await?;
        recover_all(&recoverer, &archive, limits, from).await
    })
}

/// Where the messages come from.
enum From {
    Files(Vec<PathBuf>),
    Queue(Queue),
    Failures(Archive, String),
}

async fn recover_all<S: ObjectSink>(
    recoverer: &Recoverer<LazyStreams>,
    sink: &S,
    limits: Limits,
    from: From,
) -> Result<ExitCode> {
    let mut all = true;
    match from {
        From::Files(paths) => {
            for path in paths {
                let name = path.display().to_string();
                let recovery = match std::fs::read(&path) {
                    Ok(body) => recoverer.recover(&body, sink, &SystemClock, limits).await,
                    Err(e) => Recovery { problem: Some(format!("cannot read the file: {e}")), ..Recovery::default() },
                };
                all &= print(&name, &recovery)?;
            }
        }
        From::Queue(queue) => {
            let mut pass = Pass::new(&queue, HOLD);
            while let Some(message) = pass.next().await.context("cannot read the queue")? {
                let mut recovery = recoverer.recover(message.body.as_bytes(), sink, &SystemClock, limits).await;
                match pass.settle(&message, recovery.recovered()).await {
                    Ok(deleted) => recovery.deleted_message = deleted,
                    Err(e) => recovery.problem = Some(format!("recovered, but the message was not deleted: {e}")),
                }
                all &= print(&message.id, &recovery)?;
            }
            pass.finish().await.context("cannot release the messages kept for a later run")?;
        }
        From::Failures(store, prefix) => {
            all = failures::recover_all(recoverer, sink, limits, &store, &prefix, print).await?;
        }
    }
    Ok(if all { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Prints the line of one message (and its problem on standard error); whether its range
/// was recovered in full.
fn print(name: &str, recovery: &Recovery) -> Result<bool> {
    if let Some(problem) = &recovery.problem {
        eprintln!("dmd: {name}: {problem}");
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    serde_json::to_writer(&mut out, &Line { message: name, recovery })?;
    writeln!(out)?;
    out.flush()?;
    Ok(recovery.recovered())
}
