//! `orgwatch activity`: CloudTrail into the database (with live windows and anomaly scores),
//! or a triage report of files (`--no-store`) or of the database (no `--from`).

pub mod damage;
pub mod decode;
pub mod pipeline;
pub mod score;
pub mod scoring;
pub mod source;
pub mod stored;
pub mod triage;
pub mod write;

use crate::config::{ActivityConfig, ActivityMode, Config};
use anyhow::Result;
use std::process::ExitCode;

/// Entries per count in the table form.
pub const TABLE_TOP: usize = 10;

/// Runs `orgwatch activity`: exit 0, or 2 when a record was dropped or an input could not
/// be read to its end.
pub async fn run(activity: &ActivityConfig, config: &Config) -> Result<ExitCode> {
    match &activity.mode {
        ActivityMode::Triage { from, report } => {
            triage::run(from, *report, activity.max_record_bytes, config).await
        }
        ActivityMode::Store {
            from,
            follow,
            report,
        } => {
            let store = crate::open_store(config.database_url.as_deref()).await?;
            pipeline::run(&store, activity, from, *follow, *report, config).await
        }
        ActivityMode::Stored {
            since,
            until,
            report,
        } => {
            let store = crate::open_store(config.database_url.as_deref()).await?;
            stored::run(&store, *since, *until, *report, &activity.retention).await
        }
    }
}
