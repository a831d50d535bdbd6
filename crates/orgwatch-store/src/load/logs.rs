//! `logs` and `log_messages`: one log row per load attempt with all sixteen category statuses,
//! the health score and every message (the A360 receiver kept 11 statuses, collapsed repeated
//! keys, and never wrote the 'ERROR' type its own documentation queries for).

use super::Ctx;
use crate::conn::Conn;
use crate::value::{Batch, Val};
use orgwatch_model::{AccountId, Category, Snapshot};

const STATUS_COLUMNS: [(Category, &str); 16] = [
    (Category::Account, "account_status"),
    (Category::Config, "config_status"),
    (Category::Service, "service_status"),
    (Category::Cost, "cost_status"),
    (Category::Security, "security_status"),
    (Category::Inventory, "inventory_status"),
    (Category::Marketplace, "marketplace_status"),
    (Category::TrustedAdvisor, "trusted_advisor_status"),
    (Category::Health, "health_status"),
    (Category::Application, "application_status"),
    (Category::ResilienceHub, "resilience_hub_status"),
    (Category::ComputeOptimizer, "compute_optimizer_status"),
    (Category::RiSpSavings, "ri_sp_savings_status"),
    (Category::ServiceResources, "service_resources_status"),
    (Category::ConfigInventory, "config_inventory_status"),
    (Category::SupportTickets, "support_tickets_status"),
];

async fn message<C: Conn>(
    c: &mut C,
    log_id: i64,
    kind: &str,
    key: &str,
    text: &str,
) -> Result<(), sqlx::Error> {
    c.exec(
        "INSERT INTO log_messages (log_id, message, message_type, message_key) VALUES (?, ?, ?, ?)",
        &[
            Val::Int(log_id),
            Val::str(text),
            Val::str(kind),
            Val::str(key),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn load_success<C: Conn>(
    c: &mut C,
    ctx: &mut Ctx<'_>,
    snap: &Snapshot,
    file_name: &str,
    replaced: Option<&(String, String)>,
) -> Result<(), sqlx::Error> {
    let mut columns = vec!["file_name", "outcome", "health_score"];
    let mut values = vec![
        Val::str(file_name),
        Val::str("LOADED"),
        Val::real(snap.logs.health_score()),
    ];
    for (category, column) in STATUS_COLUMNS {
        columns.push(column);
        values.push(
            snap.logs
                .statuses
                .get(&category)
                .map_or(Val::Null, |s| Val::str(s.as_str())),
        );
    }
    let mut log = ctx.batch("logs", &columns);
    log.push(None, values);
    let log_id = ctx.insert_returning(c, &log).await?;
    let mut messages = Batch::new(
        "log_messages",
        &[("log_id", Val::Int(log_id))],
        &["message", "message_type", "message_key"],
    );
    // The sender only writes messages for failures, so each is an ERROR of the key it names.
    for m in &snap.logs.messages {
        messages.push(
            None,
            vec![Val::str(&m.text), Val::str("ERROR"), Val::str(&m.key)],
        );
    }
    if let Some((old_file, old_sha)) = replaced {
        let text = format!("replaces the snapshot loaded from {old_file} (sha256 {old_sha})");
        messages.push(
            None,
            vec![Val::Text(text), Val::str("INFO"), Val::str("orgwatch")],
        );
    }
    ctx.write(c, messages).await
}

/// Records a file that could not be loaded: a FAILED log row (tied to the account when it is
/// already known; never creating one from a file that failed) and its reason as an ERROR.
pub(crate) async fn record_failure<C: Conn>(
    c: &mut C,
    file_name: &str,
    account: Option<AccountId>,
    reason: &str,
) -> Result<i64, sqlx::Error> {
    let account_id = match account {
        Some(a) => c
            .fetch_i64(
                "SELECT id FROM accounts WHERE account_id = ?",
                &[Val::str(a.as_str())],
            )
            .await?
            .map_or(Val::Null, Val::Int),
        None => Val::Null,
    };
    let log_id = c
        .fetch_i64(
            "INSERT INTO logs (account_id, file_name, outcome) VALUES (?, ?, 'FAILED') RETURNING id",
            &[account_id, Val::str(file_name)],
        )
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    message(c, log_id, "ERROR", "orgwatch", reason).await?;
    Ok(log_id)
}
