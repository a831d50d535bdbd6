//! `orgwatch collect` and `orgwatch iam-policy`: the AWS side lives in `orgwatch-collect`;
//! this module runs it, shows progress and prints the summary from the run's ledger, and
//! with `--ingest` loads what it wrote as `orgwatch ingest --from OUT` does.

use crate::config::{CollectConfig, Config, IamPolicyConfig, Remote};
use crate::ingest::{self, IngestOptions};
use anyhow::{Context, Result};
use orgwatch_collect::write::Out;
use orgwatch_collect::{Progress, Report};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Runs a collection. Exit code 0 when every part of every account and region was read (and,
/// with `--ingest`, every file loaded), 2 when anything was missed (denied, not enabled,
/// throttled, failed, skipped, partial, or a file refused by the loader).
pub async fn run(config: &CollectConfig, global: &Config) -> Result<ExitCode> {
    let progress = global.progress || global.verbose > 0;
    let base = orgwatch_collect::aws::base_config(&config.aws).await;
    let accounts = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let on_progress = |p: Progress| match p {
        Progress::Accounts(n) => {
            accounts.store(n, Ordering::Relaxed);
            eprintln!("orgwatch collect: {n} account(s) to read");
        }
        Progress::Written(path) => tracing::info!(file = %path.display(), "written"),
        Progress::AccountDone(id) => {
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            if progress {
                eprintln!(
                    "orgwatch collect: account {id} done ({n}/{})",
                    accounts.load(Ordering::Relaxed)
                );
            }
        }
    };
    let report = orgwatch_collect::run(&base, &config.options, &on_progress)
        .await
        .context("collect failed")?;
    print_summary(&report, config)?;
    let loaded_all = if config.ingest {
        load(config, global).await?
    } else {
        true
    };
    Ok(if report.ledger.is_complete() && loaded_all {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// `--ingest`: loads what is under the output's `data/` with ingest's loader (the files
/// move to `loaded/` or `failed/`); whether every file loaded.
async fn load(config: &CollectConfig, global: &Config) -> Result<bool> {
    let store = crate::open_store(global.database_url.as_deref()).await?;
    let root = match &config.options.out {
        Out::Dir(dir) => dir.clone(),
        Out::S3 { .. } => std::path::PathBuf::new(),
    };
    let opts = IngestOptions {
        root,
        max_file_bytes: 32 * 1024 * 1024,
        settle: Duration::ZERO,
        progress: global.progress,
        strategy: orgwatch_store::Strategy::Bulk,
        jobs: crate::default_jobs(&store),
        batch_files: 64,
    };
    let stop = crate::shutdown::on_signal();
    let summary = match &config.options.out {
        Out::Dir(_) => {
            ingest::ingest_once(&store, &opts, &mut std::pin::pin!(stop.cancelled())).await?
        }
        Out::S3 { url, .. } => {
            let remote = Remote::S3(url.clone());
            // Read with the credentials and region that wrote it. A bucket is listed, not
            // read through a queue, so no message visibility applies (the argument is for
            // sqs:// sources; `ingest --from sqs://` takes --visibility-timeout).
            let visibility = Duration::from_secs(300);
            ingest::from_remote(&store, &remote, &config.aws, &opts, None, visibility, &stop)
                .await?
        }
    };
    store.close().await;
    crate::outln!("ingest: {summary}")?;
    Ok(summary.failed == 0)
}

fn print_summary(report: &Report, config: &CollectConfig) -> Result<()> {
    crate::outln!(
        "collect: {} account(s), {} file(s) written under {}; {}",
        report.accounts,
        report.files.len(),
        config.options.out.data(),
        report.ledger
    )?;
    let missed: Vec<_> = report.ledger.problems().collect();
    if !missed.is_empty() {
        crate::outln!("collect: {} part(s) not read completely:", missed.len())?;
        for e in missed {
            crate::outln!("  {e}")?;
        }
    }
    Ok(())
}

/// Prints the three policies as one JSON object.
pub fn iam_policy(config: &IamPolicyConfig) -> Result<ExitCode> {
    use orgwatch_collect::policy;
    let doc = serde_json::json!({
        "collector_policy": policy::collector_policy(&config.role_name),
        "member_role_name": config.role_name,
        "member_role_policy": policy::member_policy(),
        "member_role_trust_policy": policy::trust_policy(
            config.collector_account.as_str(),
            config.external_id.as_deref(),
        ),
        "storage_policy": orgwatch_collect::remote::storage_policy(),
    });
    let text = serde_json::to_string_pretty(&doc).context("cannot format the policy")?;
    crate::outln!("{text}")?;
    Ok(ExitCode::SUCCESS)
}
