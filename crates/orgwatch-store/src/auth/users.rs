//! Users and their scopes.

use super::{access_of, scope_rows, Role, ScopeRow, User, UserId};
use crate::conn::Conn;
use crate::db::on_pool;
use crate::read::Access;
use crate::value::Val;
use crate::{Store, StoreError};

/// A user to add.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// Login name.
    pub name: &'a str,
    /// argon2id PHC string of the password.
    pub password_hash: &'a str,
    /// Role.
    pub role: Role,
    /// What a viewer may see (ignored for admins).
    pub access: &'a Access,
    /// Now, epoch seconds.
    pub now: i64,
}

/// A user with the hash their password is checked against.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The user.
    pub user: User,
    /// argon2id PHC string.
    pub password_hash: String,
}

const USER_COLUMNS: &str = "id, name, role, password_hash";

pub(super) async fn user_row<C: Conn>(
    c: &mut C,
    (id, name, role, hash): (i64, String, String, String),
) -> Result<Credentials, StoreError> {
    let role = Role::parse(&role)?;
    let rows: Vec<ScopeRow> = c
        .fetch_all(
            "SELECT kind, value FROM user_scopes WHERE user_id = ? ORDER BY kind, value",
            &[Val::Int(id)],
        )
        .await?;
    Ok(Credentials {
        user: User {
            id: UserId(id),
            name,
            role,
            access: access_of(role, rows)?,
        },
        password_hash: hash,
    })
}

pub(super) async fn replace_scopes<C: Conn>(
    c: &mut C,
    id: i64,
    access: &Access,
) -> Result<(), sqlx::Error> {
    c.exec("DELETE FROM user_scopes WHERE user_id = ?", &[Val::Int(id)])
        .await?;
    for (kind, value) in scope_rows(access) {
        c.exec(
            "INSERT INTO user_scopes (user_id, kind, value) VALUES (?, ?, ?)",
            &[Val::Int(id), Val::str(kind), Val::Text(value)],
        )
        .await?;
    }
    Ok(())
}

impl Store {
    /// How many users there are.
    pub async fn user_count(&self) -> Result<u64, StoreError> {
        let n: Vec<(i64,)> = self.read_all("SELECT COUNT(*) FROM users", &[]).await?;
        crate::read::count(n.first().map_or(0, |r| r.0))
    }

    /// Adds a user; `None` when the name is taken (nothing is changed then).
    pub async fn add_user(&self, new: &NewUser<'_>) -> Result<Option<UserId>, StoreError> {
        on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_write()).await?;
            let id: Option<(i64,)> = tx
                .fetch_optional(
                    "INSERT INTO users (name, password_hash, role, created_at, updated_at) \
                     VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING id",
                    &[
                        Val::str(new.name),
                        Val::str(new.password_hash),
                        Val::str(new.role.as_str()),
                        Val::Int(new.now),
                        Val::Int(new.now),
                    ],
                )
                .await?;
            let Some((id,)) = id else {
                tx.rollback().await?;
                return Ok(None);
            };
            if new.role == Role::Viewer {
                replace_scopes(&mut *tx, id, new.access).await?;
            }
            tx.commit().await?;
            Ok(Some(UserId(id)))
        })
    }

    /// The user of a login name and their password hash; never a user of single sign-on,
    /// whom no local password logs in.
    pub async fn credentials(&self, name: &str) -> Result<Option<Credentials>, StoreError> {
        on_pool!(self, |p, _b| {
            let mut c = p.acquire().await?;
            let row = c
                .fetch_optional(
                    &format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE name = ? AND source = 'local'"
                    ),
                    &[Val::str(name)],
                )
                .await?;
            match row {
                Some(row) => Ok(Some(user_row(&mut *c, row).await?)),
                None => Ok(None),
            }
        })
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        on_pool!(self, |p, _b| {
            let mut c = p.acquire().await?;
            let rows = c
                .fetch_all(
                    &format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"),
                    &[],
                )
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(user_row(&mut *c, row).await?.user);
            }
            Ok(out)
        })
    }

    /// Removes a user and their sessions; `false` when there is no such user.
    pub async fn remove_user(&self, name: &str) -> Result<bool, StoreError> {
        on_pool!(self, |p, _b| {
            let mut c = p.acquire().await?;
            Ok(
                c.exec("DELETE FROM users WHERE name = ?", &[Val::str(name)])
                    .await?
                    > 0,
            )
        })
    }

    /// Sets a user's password hash and ends their sessions (a changed password logs every
    /// browser out); `false` when there is no such user.
    pub async fn set_password(
        &self,
        name: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_write()).await?;
            let n = tx
                .exec(
                    "UPDATE users SET password_hash = ?, updated_at = ? WHERE name = ?",
                    &[Val::str(password_hash), Val::Int(now), Val::str(name)],
                )
                .await?;
            tx.exec(
                "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE name = ?)",
                &[Val::str(name)],
            )
            .await?;
            tx.commit().await?;
            Ok(n > 0)
        })
    }

    /// Sets a user's role and, for a viewer, what they may see (replacing any earlier
    /// limits); `false` when there is no such user. Sessions read the user afresh on every
    /// request, so the change applies at once.
    pub async fn grant(
        &self,
        name: &str,
        role: Role,
        access: &Access,
        now: i64,
    ) -> Result<bool, StoreError> {
        on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_write()).await?;
            let id: Option<(i64,)> = tx
                .fetch_optional(
                    "UPDATE users SET role = ?, updated_at = ? WHERE name = ? RETURNING id",
                    &[Val::str(role.as_str()), Val::Int(now), Val::str(name)],
                )
                .await?;
            let Some((id,)) = id else {
                tx.rollback().await?;
                return Ok(false);
            };
            let access = if role == Role::Admin {
                &Access::All
            } else {
                access
            };
            replace_scopes(&mut *tx, id, access).await?;
            tx.commit().await?;
            Ok(true)
        })
    }
}
