//! `orgwatch tokens create|list|revoke`: API tokens for the web app's JSON API.

use crate::config::TokensTask;
use crate::serve::now;
use anyhow::{bail, Result};
use orgwatch_store::auth::{NewToken, Revoked, TokenInfo};
use orgwatch_store::Store;
use orgwatch_web::tokens::epoch_text;

/// Runs one tokens command.
pub async fn run(task: &TokensTask, store: &Store) -> Result<()> {
    match task {
        TokensTask::Create {
            user,
            name,
            expires_in_days,
        } => {
            let Some(owner) = store.credentials(user).await? else {
                bail!("there is no user {user} (see `orgwatch users list`)");
            };
            let now = now();
            let expires_at = expires_in_days.map(|d| now + i64::from(d) * 86_400);
            let issued = orgwatch_web::tokens::issue();
            let id = store
                .create_token(&NewToken {
                    user: owner.user.id,
                    name,
                    prefix: &issued.prefix,
                    token_hash: &issued.hash,
                    now,
                    expires_at,
                })
                .await?;
            let expiry = expires_at.map_or_else(
                || "never expires".to_owned(),
                |t| format!("expires {}", epoch_text(t)),
            );
            crate::outln!(
                "created token {id} {name:?} for {user} ({expiry}); it acts as {user} \
                 ({}, sees {}) at each request",
                owner.user.role,
                orgwatch_web::describe_access(&owner.user.access)
            )?;
            crate::outln!("token: {}", issued.secret)?;
            crate::outln!(
                "store it now: only its hash is kept, it is not shown again. Use it as \
                 `Authorization: Bearer TOKEN`."
            )?;
        }
        TokensTask::List { user } => {
            if let Some(name) = user {
                if store.credentials(name).await?.is_none() {
                    bail!("there is no user {name} (see `orgwatch users list`)");
                }
            }
            let tokens = store.tokens(user.as_deref()).await?;
            list(&tokens, now())?;
        }
        TokensTask::Revoke { id } => match store.revoke_token(*id, now()).await? {
            Revoked::Now => crate::outln!("revoked token {id}: it opens nothing from now on")?,
            Revoked::Already(at) => {
                bail!("token {id} was revoked already, at {}", epoch_text(at))
            }
            Revoked::NoSuchToken => {
                bail!("there is no token {id} (see `orgwatch tokens list`)")
            }
        },
    }
    Ok(())
}

/// The tokens as a table: state, then times (`-` for none).
fn list(tokens: &[TokenInfo], now: i64) -> Result<()> {
    let time = |t: Option<i64>| t.map_or_else(|| "-".to_owned(), epoch_text);
    crate::outln!(
        "{:>4} {:<16} {:<20} {:<12} {:<8} {:<20} {:<20} {:<20} REVOKED",
        "ID",
        "USER",
        "NAME",
        "PREFIX",
        "STATE",
        "CREATED",
        "LAST USED",
        "EXPIRES"
    )?;
    for t in tokens {
        let state = if t.revoked_at.is_some() {
            "revoked"
        } else if t.is_live(now) {
            "live"
        } else {
            "expired"
        };
        crate::outln!(
            "{:>4} {:<16} {:<20} {:<12} {:<8} {:<20} {:<20} {:<20} {}",
            t.id,
            t.user_name,
            t.name,
            t.prefix,
            state,
            epoch_text(t.created_at),
            time(t.last_used_at),
            time(t.expires_at),
            time(t.revoked_at)
        )?;
    }
    Ok(())
}
