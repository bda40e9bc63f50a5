//! `dmd archive`: Lambda event files (or standard input) checked, then run through the
//! pipeline as the function runs them, into a folder or a bucket, one JSON line each.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use dmd_archive::check::check_event;
use dmd_archive::config::Settings;
use dmd_archive::pipeline::Batch;
use dmd_archive::sink::ObjectSink;
use dmd_archive::{BatchResponse, Clock, Limits, Pipeline, Summary, SystemClock};
use futures::StreamExt;

use crate::target::Target;

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

pub fn run(
    out: Option<PathBuf>,
    bucket: Option<String>,
    concurrency: usize,
    jobs: usize,
    events: &[PathBuf],
) -> Result<ExitCode> {
    let settings = Settings::from_env()?;
    let pipeline = Pipeline::new(settings)?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(jobs.max(1)).enable_all().build()?;
    // The place to write is checked before any input is read.
    let sink = rt.block_on(Target::new(out, bucket).open(false))?;
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
    rt.block_on(archive_to(pipeline, Arc::new(sink), concurrency, inputs, jobs))
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
