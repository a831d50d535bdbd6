//! The `orgwatch` command as a library: the CLI, the sources and the `demo` generator, so
//! that the binary stays a thin `main` and benchmarks and tests can reuse the pieces.
// Unit tests link the dev-dependencies of the integration tests too.
#![cfg_attr(test, allow(unused_crate_dependencies))]

// Dependencies of the binary (main.rs: the allocator, transparent huge pages off).
use mimalloc as _;
#[cfg(target_os = "linux")]
use nix as _;

pub mod activity;
pub mod cli;
pub mod collect;
pub mod config;
pub mod demo;
pub mod ingest;
pub mod output;
pub mod pool;
pub mod progress;
pub mod serve;
pub mod settings;
pub mod shutdown;
pub mod source;
pub mod telemetry;
pub mod tokens;
pub mod users;

use anyhow::{Context, Result};
use cli::Cli;
use config::{Config, DemoConfig, IngestConfig, IngestFrom, Task};
use std::process::ExitCode;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Loads at once: SQLite has one writer; on PostgreSQL a few concurrent batches keep the
/// server busy while the client parses (the count `bench/load` measured best).
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

/// Runs a parsed command line: validates it into a [`Config`] first, so a bad option fails
/// before any database is opened.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let config = Config::from_cli(cli)?;
    pool::configure(config.threads);
    let db_flag = config.database_url.as_deref();
    match &config.task {
        Task::Activity(activity) => activity::run(activity, &config).await,
        Task::Migrate => {
            let store = open_store(db_flag).await?;
            let (version, description) = store
                .schema_version()
                .await?
                .context("the database has no applied migration")?;
            store.close().await;
            eprintln!(
                "orgwatch: the database schema is up to date: version {version} ({description})"
            );
            Ok(ExitCode::SUCCESS)
        }
        Task::Ingest(ingest) => run_ingest(ingest, &config).await,
        Task::Demo(demo) => run_demo(demo, &config).await,
        Task::Serve(serve) => {
            let listeners = serve::bind(serve).await?;
            let oidc = serve::sso(serve, &listeners).await?;
            let store = open_store(db_flag).await?;
            let password = serve::first_admin(&store).await?;
            let served = serve::run(
                &store,
                listeners,
                serve,
                password,
                shutdown::on_signal(),
                orgwatch_web::ActivitySignal::new(),
                oidc,
            )
            .await;
            store.close().await;
            served.map(|()| ExitCode::SUCCESS)
        }
        Task::Collect(collect) => collect::run(collect, &config).await,
        Task::IamPolicy(policy) => collect::iam_policy(policy),
        Task::Users(task) => {
            let store = open_store(db_flag).await?;
            let done = users::run(task, &store).await;
            store.close().await;
            done.map(|()| ExitCode::SUCCESS)
        }
        Task::Tokens(task) => {
            let store = open_store(db_flag).await?;
            let done = tokens::run(task, &store).await;
            store.close().await;
            done.map(|()| ExitCode::SUCCESS)
        }
    }
}

async fn run_ingest(args: &IngestConfig, config: &Config) -> Result<ExitCode> {
    let store = open_store(config.database_url.as_deref()).await?;
    let opts = ingest::IngestOptions {
        root: match &args.from {
            IngestFrom::Dir(root) => root.clone(),
            IngestFrom::Remote(_) => std::path::PathBuf::new(),
        },
        max_file_bytes: args.max_file_bytes,
        settle: if args.watch.is_some() {
            Duration::from_secs(2)
        } else {
            Duration::ZERO
        },
        progress: config.progress,
        strategy: orgwatch_store::Strategy::Bulk,
        jobs: args.jobs.unwrap_or_else(|| default_jobs(&store)),
        batch_files: args.batch_files,
    };
    let stop: CancellationToken = shutdown::on_signal();
    let mut failed = 0;
    if let IngestFrom::Remote(remote) = &args.from {
        let summary = ingest::from_remote(
            &store,
            remote,
            &remote.aws(),
            &opts,
            args.watch,
            args.visibility,
            &stop,
        )
        .await?;
        crate::outln!("ingest: {summary}")?;
        store.close().await;
        return Ok(if summary.failed > 0 {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        });
    }
    loop {
        let summary =
            ingest::ingest_once(&store, &opts, &mut std::pin::pin!(stop.cancelled())).await?;
        failed += summary.failed;
        if config.verbose > 0 {
            for name in &summary.special {
                eprintln!("orgwatch ingest: data/{name}: not a file (symlink, FIFO, …); skipped");
            }
        }
        if args.watch.is_none() || summary.files > 0 {
            crate::outln!("ingest: {summary}")?;
        }
        let Some(pause) = args.watch else { break };
        if stop.is_cancelled() {
            break;
        }
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
    store.close().await;
    Ok(if failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

async fn run_demo(args: &DemoConfig, config: &Config) -> Result<ExitCode> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => settings::data_dir()?.join("demo"),
    };
    if args.generate_only {
        let n = demo::write_files(&args.options, &dir, config.progress)?;
        crate::outln!(
            "demo: wrote {n} snapshot files under {}",
            dir.join("data").display()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    // Listen first: a taken port fails before minutes of loading.
    let listeners = match &args.serve {
        Some(serve) => Some(serve::bind(serve).await?),
        None => None,
    };
    // Before minutes of loading too: a provider that cannot be reached fails at once.
    let oidc = match (&args.serve, &listeners) {
        (Some(serve), Some(listeners)) => serve::sso(serve, listeners).await?,
        _ => None,
    };
    let store = open_store(config.database_url.as_deref()).await?;
    let summary = demo::run(&store, &args.options, &dir, config.progress).await?;
    crate::outln!("ingest: {summary}")?;
    demo::print_summary(&store).await?;
    let (Some(serve), Some(listeners)) = (&args.serve, listeners) else {
        store.close().await;
        return Ok(ExitCode::SUCCESS);
    };
    // A demo always says how to get in, on a new database or an old one.
    let password = serve::reset_admin(&store).await?;
    let stop = shutdown::on_signal();
    let signal = orgwatch_web::ActivitySignal::new();
    let serving = async {
        let served = serve::run(
            &store,
            listeners,
            serve,
            Some(password),
            stop.clone(),
            signal.clone(),
            oidc.clone(),
        )
        .await;
        // The replay stops with the server (a signal, or the server failing).
        stop.cancel();
        served
    };
    // Beside the server in this task, not spawned: the pipeline's futures borrow.
    let replaying = async {
        let Some(opts) = &args.replay else { return };
        eprintln!(
            "orgwatch: replaying synthetic CloudTrail of the {} accounts (the last {} first, \
             then live; a burst every {} minutes); --no-replay turns it off",
            args.options.accounts,
            humantime::format_duration(opts.backfill),
            opts.bursts.every_minutes
        );
        // Each committed batch wakes the Activity page's streams at once (no poll delay).
        let stored = signal.clone();
        let on_stored: std::sync::Arc<dyn Fn() + Send + Sync> =
            std::sync::Arc::new(move || stored.stored());
        match demo::replay::run(&store, &args.options, opts, &stop, Some(on_stored)).await {
            Ok(totals) => tracing::info!("demo replay: {totals}"),
            // The app goes on serving what was stored.
            Err(e) => eprintln!("orgwatch: {e:#}"),
        }
    };
    let (served, ()) = tokio::join!(serving, replaying);
    store.close().await;
    served.map(|()| ExitCode::SUCCESS)
}
