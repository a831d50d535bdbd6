//! `orgwatch collect` and `orgwatch iam-policy`: the AWS side lives in `orgwatch-collect`;
//! this module runs it, shows progress and prints the summary from the run's ledger.

use crate::config::{CollectConfig, IamPolicyConfig};
use anyhow::{Context, Result};
use orgwatch_collect::{Progress, Report};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs a collection. Exit code 0 when every part of every account and region was read, 2
/// when anything was missed (denied, not enabled, throttled, failed, skipped, partial).
pub async fn run(config: &CollectConfig, progress: bool) -> Result<ExitCode> {
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
    Ok(if report.ledger.is_complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn print_summary(report: &Report, config: &CollectConfig) -> Result<()> {
    let data = config.options.out.join("data");
    crate::outln!(
        "collect: {} account(s), {} file(s) written under {}; {}",
        report.accounts,
        report.files.len(),
        data.display(),
        report.ledger
    )?;
    let missed: Vec<_> = report.ledger.problems().collect();
    if !missed.is_empty() {
        crate::outln!("collect: {} part(s) not read completely:", missed.len())?;
        for e in missed {
            crate::outln!("  {e}")?;
        }
    }
    let not_read: Vec<&str> = orgwatch_model::Category::ALL
        .into_iter()
        .filter(|c| !orgwatch_collect::run::COLLECTED.contains(c))
        .map(|c| c.key())
        .collect();
    crate::outln!(
        "collect: not read by this version (named in each file's logs): {}, security.{}",
        not_read.join(", "),
        orgwatch_collect::run::SECURITY_NOT_COLLECTED.join(", security.")
    )?;
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
    });
    let text = serde_json::to_string_pretty(&doc).context("cannot format the policy")?;
    crate::outln!("{text}")?;
    Ok(ExitCode::SUCCESS)
}
