//! Who may use the web app: local users and those of single sign-on (`users`; `oidc`: users
//! known by their issuer and subject, and the logins under way), what a viewer may see
//! (`user_scopes`), server-side sessions (`sessions`), so that several `serve` processes on
//! one database share them, and API tokens (`api_tokens`). The store keeps password hashes,
//! session-id hashes and token hashes only; hashing and checking passwords and making tokens
//! is the web crate's.

mod admin;
mod oidc;
mod sessions;
mod tokens;
mod users;

pub use admin::{AdminChange, UserSummary};
pub use oidc::{OidcLogin, PendingLogin};
pub use sessions::{NewSession, SessionRecord};
pub use tokens::{NewToken, Revoked, TokenId, TokenInfo, TokenUser};
pub use users::{Credentials, NewUser};

use crate::read::{Access, Limits};
use crate::StoreError;
use orgwatch_model::AccountId;
use std::fmt;

/// The tables of this module (apart from the snapshot tables of [`crate::TABLES`]).
pub const TABLES: &[&str] = &[
    "api_tokens",
    "oidc_logins",
    "sessions",
    "user_scopes",
    "users",
];

/// A user's id in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserId(pub i64);

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sees everything and manages users.
    Admin,
    /// Reads, possibly limited to some accounts.
    Viewer,
}

impl Role {
    /// The stored name (`admin`, `viewer`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    /// The role of a stored name.
    pub fn parse(s: &str) -> Result<Role, StoreError> {
        match s {
            "admin" => Ok(Role::Admin),
            "viewer" => Ok(Role::Viewer),
            other => Err(StoreError::Invalid(format!("unknown role {other:?}"))),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A user as the app sees it: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// What the user may see: [`Access::All`] for admins and unlimited viewers.
    pub access: Access,
}

/// One stored scope row: (`account` | `ou` | `environment`, value).
type ScopeRow = (String, String);

/// The access stored scope rows give a user of `role`.
fn access_of(role: Role, rows: Vec<ScopeRow>) -> Result<Access, StoreError> {
    if role == Role::Admin || rows.is_empty() {
        return Ok(Access::All);
    }
    let mut limits = Limits::default();
    for (kind, value) in rows {
        match kind.as_str() {
            "account" => limits
                .accounts
                .push(AccountId::parse(&value).map_err(|e| StoreError::Invalid(e.to_string()))?),
            "ou" => limits.ous.push(value),
            "environment" => limits.environments.push(value),
            other => return Err(StoreError::Invalid(format!("unknown scope kind {other:?}"))),
        }
    }
    Ok(Access::Limited(limits))
}

/// The scope rows of an access (none for [`Access::All`]).
fn scope_rows(access: &Access) -> Vec<(&'static str, String)> {
    let Access::Limited(l) = access else {
        return Vec::new();
    };
    let mut rows: Vec<(&'static str, String)> = Vec::new();
    rows.extend(
        l.accounts
            .iter()
            .map(|a| ("account", a.as_str().to_owned())),
    );
    rows.extend(l.ous.iter().map(|o| ("ou", o.clone())));
    rows.extend(
        l.environments
            .iter()
            .map(|e| ("environment", e.to_uppercase())),
    );
    rows.sort();
    rows.dedup();
    rows
}

/// What is wrong with a login name, if anything: it has 1 to 64 characters, no spaces or
/// control characters (the one rule of the `users` commands and the admin page).
pub fn user_name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.chars().count() > 64 {
        return Some(format!(
            "a user name has 1 to 64 characters; {name:?} has not"
        ));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!(
            "a user name has no spaces or control characters: {name:?}"
        ));
    }
    None
}
