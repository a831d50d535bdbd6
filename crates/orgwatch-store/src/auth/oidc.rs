//! Users of single sign-on (OpenID Connect): a user row per (issuer, subject), its role and
//! limits re-derived from the provider's groups at each login; and the logins under way
//! (`state`, nonce and PKCE verifier, kept server side and taken once).

use super::users::{replace_scopes, user_row};
use super::{Role, User};
use crate::conn::Conn;
use crate::db::on_pool;
use crate::read::Access;
use crate::value::Val;
use crate::{Store, StoreError};

/// The password hash of an OIDC user: not a PHC string, so no password matches it (and
/// [`Store::credentials`] does not return OIDC users at all).
const NO_PASSWORD: &str = "!oidc";

/// A login the identity provider vouched for.
#[derive(Debug, Clone)]
pub struct OidcLogin<'a> {
    /// The provider's issuer URL.
    pub issuer: &'a str,
    /// The user's `sub` at that issuer: their identity.
    pub subject: &'a str,
    /// The name to show (`preferred_username`, e.g.); a new user gets it if it is free, else
    /// `NAME~SUBJECT`.
    pub name: &'a str,
    /// The role their groups give.
    pub role: Role,
    /// What their groups let a viewer see.
    pub access: &'a Access,
    /// Now, epoch seconds.
    pub now: i64,
}

/// A login sent to the provider: what its callback needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier of the code exchange.
    pub pkce_verifier: String,
}

impl Store {
    /// Creates or updates the user of an OIDC login, with the role and limits of this login
    /// (replacing those of the last one); the user as stored.
    pub async fn upsert_oidc_user(&self, login: &OidcLogin<'_>) -> Result<User, StoreError> {
        let access = match login.role {
            Role::Admin => &Access::All,
            Role::Viewer => login.access,
        };
        on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_write()).await?;
            let known = tx
                .fetch_i64(
                    "SELECT id FROM users WHERE source = 'oidc' AND oidc_issuer = ? \
                     AND oidc_subject = ?",
                    &[Val::str(login.issuer), Val::str(login.subject)],
                )
                .await?;
            let id = match known {
                Some(id) => {
                    tx.exec(
                        "UPDATE users SET role = ?, updated_at = ? WHERE id = ?",
                        &[
                            Val::str(login.role.as_str()),
                            Val::Int(login.now),
                            Val::Int(id),
                        ],
                    )
                    .await?;
                    id
                }
                None => {
                    let taken = tx
                        .fetch_i64(
                            "SELECT id FROM users WHERE name = ?",
                            &[Val::str(login.name)],
                        )
                        .await?
                        .is_some();
                    let name = if taken {
                        format!("{}~{}", login.name, login.subject)
                    } else {
                        login.name.to_owned()
                    };
                    tx.fetch_i64(
                        "INSERT INTO users (name, password_hash, role, created_at, updated_at, \
                         source, oidc_issuer, oidc_subject) \
                         VALUES (?, ?, ?, ?, ?, 'oidc', ?, ?) RETURNING id",
                        &[
                            Val::Text(name),
                            Val::str(NO_PASSWORD),
                            Val::str(login.role.as_str()),
                            Val::Int(login.now),
                            Val::Int(login.now),
                            Val::str(login.issuer),
                            Val::str(login.subject),
                        ],
                    )
                    .await?
                    .ok_or_else(|| StoreError::Invalid("no id for the new user".into()))?
                }
            };
            replace_scopes(&mut *tx, id, access).await?;
            let row: (i64, String, String, String) = tx
                .fetch_optional(
                    "SELECT id, name, role, password_hash FROM users WHERE id = ?",
                    &[Val::Int(id)],
                )
                .await?
                .ok_or_else(|| StoreError::Invalid("the user just written is gone".into()))?;
            let user = user_row(&mut *tx, row).await?.user;
            tx.commit().await?;
            Ok(user)
        })
    }

    /// Whether a user logs in through single sign-on (their logout may then go on to the
    /// provider's).
    pub async fn is_oidc_user(&self, id: super::UserId) -> Result<bool, StoreError> {
        let rows: Vec<(i64,)> = self
            .read_all(
                "SELECT id FROM users WHERE id = ? AND source = 'oidc'",
                &[Val::Int(id.0)],
            )
            .await?;
        Ok(!rows.is_empty())
    }

    /// Records a login sent to the provider, under the SHA-256 of its `state`.
    pub async fn create_oidc_login(
        &self,
        state_hash: &str,
        pending: &PendingLogin,
        now: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, |p, _b| {
            let mut c = p.acquire().await?;
            c.exec(
                "INSERT INTO oidc_logins (state_hash, nonce, pkce_verifier, created_at) \
                 VALUES (?, ?, ?, ?)",
                &[
                    Val::str(state_hash),
                    Val::str(&pending.nonce),
                    Val::str(&pending.pkce_verifier),
                    Val::Int(now),
                ],
            )
            .await?;
            Ok(())
        })
    }

    /// Takes the login of `state_hash` if it was started after `started_after`: it is
    /// deleted, so a `state` is good for one callback. Logins started before that are
    /// deleted too (abandoned at the provider).
    pub async fn take_oidc_login(
        &self,
        state_hash: &str,
        started_after: i64,
    ) -> Result<Option<PendingLogin>, StoreError> {
        on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_write()).await?;
            let row: Option<(String, String, i64)> = tx
                .fetch_optional(
                    "DELETE FROM oidc_logins WHERE state_hash = ? \
                     RETURNING nonce, pkce_verifier, created_at",
                    &[Val::str(state_hash)],
                )
                .await?;
            tx.exec(
                "DELETE FROM oidc_logins WHERE created_at <= ?",
                &[Val::Int(started_after)],
            )
            .await?;
            tx.commit().await?;
            Ok(row
                .filter(|(_, _, created_at)| *created_at > started_after)
                .map(|(nonce, pkce_verifier, _)| PendingLogin {
                    nonce,
                    pkce_verifier,
                }))
        })
    }
}
