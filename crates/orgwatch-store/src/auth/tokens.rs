//! API tokens: a row per token, keyed by the SHA-256 of the token, which only its holder has.
//!
//! A token grants nothing of its own: a request made with it is its user's, with the role and
//! scope stored at that moment (read in the same query that finds the token), so narrowing a
//! grant narrows every token of the user at once, and removing the user deletes them
//! (`ON DELETE CASCADE`).

use super::users::{user_row, Credentials};
use super::{User, UserId};
use crate::conn::Conn;
use crate::db::on_pool;
use crate::value::Val;
use crate::{Store, StoreError};
use std::fmt;

/// A token's id in the store (public: lists show it, `tokens revoke ID` takes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenId(pub i64);

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A token to store.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    /// Whose token it is.
    pub user: UserId,
    /// What its holder calls it (`ci`, `grafana`…).
    pub name: &'a str,
    /// Its first characters, shown in lists to tell tokens apart (not a secret).
    pub prefix: &'a str,
    /// Hex SHA-256 of the token (the token itself is never stored).
    pub token_hash: &'a str,
    /// Now, epoch seconds.
    pub now: i64,
    /// When it stops working, epoch seconds; `None`: when revoked.
    pub expires_at: Option<i64>,
}

/// A stored token as lists show it: never its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// Id.
    pub id: TokenId,
    /// Whose token it is.
    pub user: UserId,
    /// The user's login name.
    pub user_name: String,
    /// Name.
    pub name: String,
    /// Its public first characters.
    pub prefix: String,
    /// Created, epoch seconds.
    pub created_at: i64,
    /// Last used, epoch seconds (recorded at most once a minute).
    pub last_used_at: Option<i64>,
    /// Expiry, epoch seconds.
    pub expires_at: Option<i64>,
    /// Revoked, epoch seconds.
    pub revoked_at: Option<i64>,
}

impl TokenInfo {
    /// Whether the token opens the API at `now` (not revoked, not expired).
    pub fn is_live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

/// A live token and the user it acts as, read afresh.
#[derive(Debug, Clone)]
pub struct TokenUser {
    /// The token.
    pub token: TokenId,
    /// Its user, with the role and scope stored now.
    pub user: User,
    /// Last recorded use, epoch seconds.
    pub last_used_at: Option<i64>,
}

/// What revoking a token did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// It is revoked from now on.
    Now,
    /// It was revoked already (at that time, epoch seconds); nothing changed.
    Already(i64),
    /// There is no token of that id.
    NoSuchToken,
}

type TokenRow = (
    i64,
    i64,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

const TOKEN_COLUMNS: &str = "t.id, t.user_id, u.name, t.name, t.prefix, t.created_at, \
     t.last_used_at, t.expires_at, t.revoked_at";

fn token_info(r: TokenRow) -> TokenInfo {
    let (id, user, user_name, name, prefix, created_at, last_used_at, expires_at, revoked_at) = r;
    TokenInfo {
        id: TokenId(id),
        user: UserId(user),
        user_name,
        name,
        prefix,
        created_at,
        last_used_at,
        expires_at,
        revoked_at,
    }
}

impl Store {
    /// Stores a new token.
    pub async fn create_token(&self, new: &NewToken<'_>) -> Result<TokenId, StoreError> {
        on_pool!(self, |p, _b| {
            let mut c = p.acquire().await?;
            let id = c
                .fetch_i64(
                    "INSERT INTO api_tokens (user_id, name, prefix, token_hash, created_at, \
                     expires_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    &[
                        Val::Int(new.user.0),
                        Val::str(new.name),
                        Val::str(new.prefix),
                        Val::str(new.token_hash),
                        Val::Int(new.now),
                        Val::int(new.expires_at),
                    ],
                )
                .await?
                .ok_or_else(|| StoreError::Invalid("INSERT … RETURNING gave no id".into()))?;
            Ok(TokenId(id))
        })
    }

    /// Every token (of the user named `user`, if given), by user name then id; revoked and
    /// expired ones included.
    pub async fn tokens(&self, user: Option<&str>) -> Result<Vec<TokenInfo>, StoreError> {
        let from =
            format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id");
        let rows: Vec<TokenRow> = match user {
            Some(name) => {
                let sql = format!("{from} WHERE u.name = ? ORDER BY t.id");
                self.read_all(&sql, &[Val::str(name)]).await?
            }
            None => {
                self.read_all(&format!("{from} ORDER BY u.name, t.id"), &[])
                    .await?
            }
        };
        Ok(rows.into_iter().map(token_info).collect())
    }

    /// The token of id `id`.
    pub async fn token(&self, id: TokenId) -> Result<Option<TokenInfo>, StoreError> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.id = ?"
        );
        let rows: Vec<TokenRow> = self.read_all(&sql, &[Val::Int(id.0)]).await?;
        Ok(rows.into_iter().next().map(token_info))
    }

    /// The user a token of hash `token_hash` acts as at `now`: `None` when there is no such
    /// token or it is revoked or expired (a removed user's tokens are gone with them).
    pub async fn token_user(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<TokenUser>, StoreError> {
        on_pool!(self, |p, _b| {
            let mut c = p.acquire().await?;
            let row: Option<(i64, Option<i64>, i64, String, String, String)> = c
                .fetch_optional(
                    "SELECT t.id, t.last_used_at, u.id, u.name, u.role, u.password_hash \
                     FROM api_tokens t JOIN users u ON u.id = t.user_id \
                     WHERE t.token_hash = ? AND t.revoked_at IS NULL \
                     AND (t.expires_at IS NULL OR t.expires_at > ?)",
                    &[Val::str(token_hash), Val::Int(now)],
                )
                .await?;
            let Some((token, last_used_at, id, name, role, hash)) = row else {
                return Ok(None);
            };
            let Credentials { user, .. } = user_row(&mut *c, (id, name, role, hash)).await?;
            Ok(Some(TokenUser {
                token: TokenId(token),
                user,
                last_used_at,
            }))
        })
    }

    /// Records a use of a token at `now` (a no-op when a later use is recorded already).
    pub async fn touch_token(&self, id: TokenId, now: i64) -> Result<(), StoreError> {
        on_pool!(self, |p, _b| {
            let mut c = p.acquire().await?;
            c.exec(
                "UPDATE api_tokens SET last_used_at = ? \
                 WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
                &[Val::Int(now), Val::Int(id.0), Val::Int(now)],
            )
            .await?;
            Ok(())
        })
    }

    /// Revokes a token from `now` on; a revoked token is kept (lists show when) but opens
    /// nothing.
    pub async fn revoke_token(&self, id: TokenId, now: i64) -> Result<Revoked, StoreError> {
        on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_write()).await?;
            let n = tx
                .exec(
                    "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                    &[Val::Int(now), Val::Int(id.0)],
                )
                .await?;
            let outcome = if n > 0 {
                Revoked::Now
            } else {
                let at: Option<(Option<i64>,)> = tx
                    .fetch_optional(
                        "SELECT revoked_at FROM api_tokens WHERE id = ?",
                        &[Val::Int(id.0)],
                    )
                    .await?;
                match at {
                    Some((Some(at),)) => Revoked::Already(at),
                    _ => Revoked::NoSuchToken,
                }
            };
            tx.commit().await?;
            Ok(outcome)
        })
    }
}
