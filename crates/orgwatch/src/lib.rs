//! The `orgwatch` command as a library: the CLI, the sources and the `demo` generator, so
//! that the binary stays a thin `main` and benchmarks and tests can reuse the pieces.

pub mod activity;
pub mod cli;
pub mod demo;
pub mod ingest;
pub mod settings;
pub mod telemetry;

use anyhow::{Context, Result};
use cli::{Cli, Command};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

/// Loads at once: SQLite has one writer; on PostgreSQL a few concurrent batches keep the
/// server busy while the client parses (3 measured best on 2 cores: bench/load).
pub fn default_jobs(store: &orgwatch_store::Store) -> usize {
    match store.backend() {
        orgwatch_store::Backend::Sqlite => 1,
        orgwatch_store::Backend::Postgres => 3,
    }
}

async fn open_store(flag: Option<&str>) -> Result<orgwatch_store::Store> {
    let url = settings::database_url(flag)?;
    eprintln!("orgwatch: using database {}", orgwatch_store::redact(&url));
    orgwatch_store::Store::connect(&url)
        .await
        .with_context(|| format!("cannot open the database {}", orgwatch_store::redact(&url)))
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let progress = std::io::stderr().is_terminal();
    let db_flag = cli.global.database_url.as_deref();
    match cli.command {
        Command::Activity(args) => return activity::run(&args, progress, db_flag).await,
        Command::Migrate => {
            open_store(db_flag).await?.close().await;
            eprintln!("orgwatch: the database schema is up to date");
        }
        Command::Ingest(args) => {
            let store = open_store(db_flag).await?;
            let opts = ingest::IngestOptions {
                root: args.from.clone(),
                max_file_bytes: args.max_file_bytes,
                settle: if args.watch {
                    Duration::from_secs(2)
                } else {
                    Duration::ZERO
                },
                progress,
                strategy: orgwatch_store::Strategy::Bulk,
                jobs: args.jobs.map_or_else(|| default_jobs(&store), usize::from),
                batch_files: usize::from(args.batch_files),
            };
            // Ctrl-C sets a flag that every pass and every pause checks (a future that already
            // fired cannot be awaited again).
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                let _ = stop_tx.send(true);
            });
            let stopped = || {
                let mut rx = stop_rx.clone();
                async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                }
            };
            let mut failed = 0;
            loop {
                let summary =
                    ingest::ingest_once(&store, &opts, &mut std::pin::pin!(stopped())).await?;
                failed += summary.failed;
                if !args.watch || summary.files > 0 {
                    println!("ingest: {summary}");
                }
                if !args.watch || *stop_rx.borrow() {
                    break;
                }
                tokio::select! {
                    _ = stopped() => break,
                    _ = tokio::time::sleep(Duration::from_secs(args.poll_seconds)) => {}
                }
            }
            store.close().await;
            if failed > 0 {
                return Ok(ExitCode::from(2));
            }
        }
        Command::Demo(args) => {
            let regions = args
                .regions
                .iter()
                .map(|r| orgwatch_model::Region::parse(r.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            let end_date = args
                .end_date
                .unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
            let dir = match args.dir {
                Some(d) => d,
                None => settings::data_dir()?.join("demo"),
            };
            let opts = demo::generate::DemoOptions {
                accounts: args.accounts as usize,
                days: args.days,
                seed: args.seed,
                end_date,
                regions,
            };
            if args.generate_only {
                let n = demo::write_files(&opts, &dir, progress)?;
                println!(
                    "demo: wrote {n} snapshot files under {}",
                    dir.join("data").display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            let store = open_store(db_flag).await?;
            let summary = demo::run(&store, &opts, &dir, progress).await?;
            println!("ingest: {summary}");
            demo::print_summary(&store).await?;
            store.close().await;
        }
    }
    Ok(ExitCode::SUCCESS)
}
