//! `dmd replay`: error files of a folder or a bucket back through the current pipeline
//! and configuration, one JSON line per file.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use dmd_archive::config::Settings;
use dmd_archive::replay::{error_files, replay_file, Options};
use dmd_archive::sink::ObjectSink;
use dmd_archive::store::ObjectStore;
use dmd_archive::time::now_millis;
use dmd_archive::Pipeline;

use crate::target::Target;

/// Replay error files: the records of each go back through the pipeline as one batch,
/// with today's code and configuration (e.g. after a new record type prefix).
///
/// Records that now pass go to data files under the usual keys; those that fail again
/// are listed, with their error now, in a marker at ERROR_PREFIX/replayed/<rest of the
/// key>. The error file is kept; no new error file is written; a marked file is skipped
/// unless --force. Prints one JSON line per error file. Exit status: 0 when every line
/// of every file ended in a data file or in its marker, 1 otherwise, 2 for bad
/// arguments or configuration.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// Print what would be archived; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Replay files already marked replayed.
    #[arg(long)]
    force: bool,
    /// Files written at once.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// Error files to replay, by key (errors/dt=.../....json); none: every error file not
    /// replayed yet.
    #[arg(value_name = "KEY")]
    keys: Vec<String>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let pipeline = Pipeline::new(Settings::from_env()?)?;
    let opts =
        Options { dry_run: args.dry_run, force: args.force, concurrency: args.concurrency.into(), now: now_millis() };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let archive = rt.block_on(args.target.open(true))?;
    rt.block_on(replay_all(&pipeline, &archive, args.keys, opts))
}

async fn replay_all<S: ObjectStore + ObjectSink>(
    pipeline: &Pipeline,
    store: &S,
    keys: Vec<String>,
    opts: Options,
) -> Result<ExitCode> {
    let keys = match keys.is_empty() {
        true => error_files(store, &pipeline.settings().error_prefix).await?,
        false => keys,
    };
    let mut code = ExitCode::SUCCESS;
    for key in keys {
        match replay_file(pipeline, store, &key, opts).await {
            Ok(r) => {
                if !r.accounted_for() {
                    code = ExitCode::from(1);
                }
                let mut stdout = std::io::stdout().lock();
                serde_json::to_writer(&mut stdout, &r)?;
                writeln!(stdout)?;
            }
            Err(e) => {
                eprintln!("dmd: replay: {e}");
                code = ExitCode::from(1);
            }
        }
    }
    Ok(code)
}
