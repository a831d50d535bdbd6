//! `security.secrets_manager`: every secret's metadata (ListSecrets, all pages; values are
//! never read).

use super::Collected;
use crate::aws_call;
use crate::call::CallError;
use orgwatch_model::category::security::Secret;

/// Reads the region's secrets.
pub async fn collect(
    client: &aws_sdk_secretsmanager::Client,
) -> Result<Collected<Vec<Secret>>, CallError> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "secretsmanager:ListSecrets",
            client.list_secrets().set_next_token(next.take())
        )?;
        for s in page.secret_list() {
            let tags: Vec<serde_json::Value> = s
                .tags()
                .iter()
                .map(|t| serde_json::json!({"Key": t.key(), "Value": t.value()}))
                .collect();
            out.push(Secret {
                name: s.name().map(str::to_owned),
                arn: s.arn().map(str::to_owned),
                description: s.description().map(str::to_owned),
                created_date: crate::sdk_time::opt(s.created_date()),
                last_changed_date: crate::sdk_time::opt(s.last_changed_date()),
                last_accessed_date: crate::sdk_time::opt(s.last_accessed_date()),
                rotation_enabled: s.rotation_enabled(),
                rotation_lambda_arn: s.rotation_lambda_arn().map(str::to_owned),
                kms_key_id: s.kms_key_id().map(str::to_owned),
                tags: serde_json::Value::Array(tags),
            });
        }
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            return Ok(Collected::clean(out));
        }
    }
}
