//! What the Users & tokens page needs beyond the `users` commands: users with their last
//! login, and removing or regranting a user without ever leaving the app with no admin.

use super::users::{replace_scopes, user_row};
use super::{Role, User};
use crate::conn::Conn;
use crate::db::on_pool;
use crate::read::Access;
use crate::value::Val;
use crate::{Backend, Store, StoreError};

/// A user as the admin page lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    /// The user.
    pub user: User,
    /// Added, epoch seconds.
    pub created_at: i64,
    /// Last login, epoch seconds (`None`: never, or before logins were recorded).
    pub last_login_at: Option<i64>,
}

/// What a guarded change of a user did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminChange {
    /// Done.
    Done,
    /// There is no such user; nothing changed.
    NoSuchUser,
    /// The user is the last admin, who may be neither removed nor demoted; nothing changed.
    LastAdmin,
}

/// The change a guarded call makes to a user.
enum Change<'a> {
    Remove,
    Grant(Role, &'a Access),
}

impl Store {
    /// Every user with when they were added and last logged in, by name.
    pub async fn user_summaries(&self) -> Result<Vec<UserSummary>, StoreError> {
        on_pool!(self, |p, _b| {
            let mut c = p.acquire().await?;
            let rows: Vec<(i64, String, String, String, i64, Option<i64>)> = c
                .fetch_all(
                    "SELECT id, name, role, password_hash, created_at, last_login_at \
                     FROM users ORDER BY name",
                    &[],
                )
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for (id, name, role, hash, created_at, last_login_at) in rows {
                out.push(UserSummary {
                    user: user_row(&mut *c, (id, name, role, hash)).await?.user,
                    created_at,
                    last_login_at,
                });
            }
            Ok(out)
        })
    }

    /// Removes a user (their sessions and tokens with them) unless they are the last admin.
    pub async fn remove_user_keeping_an_admin(
        &self,
        name: &str,
    ) -> Result<AdminChange, StoreError> {
        self.change_keeping_an_admin(name, Change::Remove, 0).await
    }

    /// Sets a user's role and limits (as [`Store::grant`]) unless that would demote the last
    /// admin.
    pub async fn grant_keeping_an_admin(
        &self,
        name: &str,
        role: Role,
        access: &Access,
        now: i64,
    ) -> Result<AdminChange, StoreError> {
        self.change_keeping_an_admin(name, Change::Grant(role, access), now)
            .await
    }

    async fn change_keeping_an_admin(
        &self,
        name: &str,
        change: Change<'_>,
        now: i64,
    ) -> Result<AdminChange, StoreError> {
        on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_write()).await?;
            // Two admins demoting each other at once must not both succeed. SQLite's
            // `BEGIN IMMEDIATE` already runs one writer at a time; PostgreSQL's READ
            // COMMITTED would let both count two admins, so the admin rows are locked first
            // (the second waits, then counts again without the one demoted).
            let lock = if b == Backend::Postgres {
                " FOR UPDATE"
            } else {
                ""
            };
            let admins: Vec<(i64,)> = tx
                .fetch_all(
                    &format!("SELECT id FROM users WHERE role = 'admin'{lock}"),
                    &[],
                )
                .await?;
            let target: Option<(i64, String)> = tx
                .fetch_optional(
                    "SELECT id, role FROM users WHERE name = ?",
                    &[Val::str(name)],
                )
                .await?;
            let Some((id, role)) = target else {
                tx.rollback().await?;
                return Ok(AdminChange::NoSuchUser);
            };
            let stays_admin = matches!(change, Change::Grant(Role::Admin, _));
            if Role::parse(&role)? == Role::Admin && !stays_admin && admins.len() <= 1 {
                tx.rollback().await?;
                return Ok(AdminChange::LastAdmin);
            }
            match change {
                Change::Remove => {
                    tx.exec("DELETE FROM users WHERE id = ?", &[Val::Int(id)])
                        .await?;
                }
                Change::Grant(role, access) => {
                    tx.exec(
                        "UPDATE users SET role = ?, updated_at = ? WHERE id = ?",
                        &[Val::str(role.as_str()), Val::Int(now), Val::Int(id)],
                    )
                    .await?;
                    let access = if role == Role::Admin {
                        &Access::All
                    } else {
                        access
                    };
                    replace_scopes(&mut *tx, id, access).await?;
                }
            }
            tx.commit().await?;
            Ok(AdminChange::Done)
        })
    }
}
