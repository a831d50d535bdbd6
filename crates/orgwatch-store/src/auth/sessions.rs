//! Server-side sessions: a row per logged-in browser, keyed by the SHA-256 of its id.

use super::{users::Credentials, UserId};
use crate::conn::Conn;
use crate::db::on_pool;
use crate::value::Val;
use crate::{Store, StoreError};

/// A session to store at login.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// Hex SHA-256 of the session id (the id itself is only in the browser's cookie).
    pub id_hash: &'a str,
    /// Who logged in.
    pub user: UserId,
    /// The session's CSRF token.
    pub csrf_token: &'a str,
    /// Now, epoch seconds.
    pub now: i64,
}

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// The user, read afresh (role and scope as they are now).
    pub user: super::User,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// Login time, epoch seconds.
    pub created_at: i64,
    /// Last request seen, epoch seconds.
    pub last_seen_at: i64,
}

impl Store {
    /// Stores a new session, and the login as the user's last.
    pub async fn create_session(&self, new: &NewSession<'_>) -> Result<(), StoreError> {
        on_pool!(self, |p, b| {
            let mut c = p.begin_with(b.begin_write()).await?;
            c.exec(
                "UPDATE users SET last_login_at = ? WHERE id = ?",
                &[Val::Int(new.now), Val::Int(new.user.0)],
            )
            .await?;
            c.exec(
                "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at) \
                 VALUES (?, ?, ?, ?, ?)",
                &[
                    Val::str(new.id_hash),
                    Val::Int(new.user.0),
                    Val::str(new.csrf_token),
                    Val::Int(new.now),
                    Val::Int(new.now),
                ],
            )
            .await?;
            c.commit().await?;
            Ok(())
        })
    }

    /// The session of `id_hash` if it was created after `created_after` and last seen after
    /// `seen_after` (the absolute and idle limits); an expired one is deleted.
    pub async fn session(
        &self,
        id_hash: &str,
        created_after: i64,
        seen_after: i64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        on_pool!(self, |p, _b| {
            let mut c = p.acquire().await?;
            let row: Option<(String, i64, i64, i64, String, String, String)> = c
                .fetch_optional(
                    "SELECT s.csrf_token, s.created_at, s.last_seen_at, \
                     u.id, u.name, u.role, u.password_hash \
                     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?",
                    &[Val::str(id_hash)],
                )
                .await?;
            let Some((csrf_token, created_at, last_seen_at, id, name, role, hash)) = row else {
                return Ok(None);
            };
            if created_at <= created_after || last_seen_at <= seen_after {
                c.exec(
                    "DELETE FROM sessions WHERE id_hash = ?",
                    &[Val::str(id_hash)],
                )
                .await?;
                return Ok(None);
            }
            let Credentials { user, .. } =
                super::users::user_row(&mut *c, (id, name, role, hash)).await?;
            Ok(Some(SessionRecord {
                user,
                csrf_token,
                created_at,
                last_seen_at,
            }))
        })
    }

    /// Records a request on a session (its idle limit counts from here).
    pub async fn touch_session(&self, id_hash: &str, now: i64) -> Result<(), StoreError> {
        on_pool!(self, |p, _b| {
            let mut c = p.acquire().await?;
            c.exec(
                "UPDATE sessions SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at < ?",
                &[Val::Int(now), Val::str(id_hash), Val::Int(now)],
            )
            .await?;
            Ok(())
        })
    }

    /// Deletes a session (logout); `false` when there was none.
    pub async fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        on_pool!(self, |p, _b| {
            let mut c = p.acquire().await?;
            Ok(c.exec(
                "DELETE FROM sessions WHERE id_hash = ?",
                &[Val::str(id_hash)],
            )
            .await?
                > 0)
        })
    }

    /// Deletes every session past its absolute or idle limit; returns how many.
    pub async fn prune_sessions(
        &self,
        created_after: i64,
        seen_after: i64,
    ) -> Result<u64, StoreError> {
        on_pool!(self, |p, _b| {
            let mut c = p.acquire().await?;
            Ok(c.exec(
                "DELETE FROM sessions WHERE created_at <= ? OR last_seen_at <= ?",
                &[Val::Int(created_after), Val::Int(seen_after)],
            )
            .await?)
        })
    }
}
