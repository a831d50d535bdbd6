//! `orgwatch users add|list|remove|passwd|grant`: the web app's local users.

use crate::config::UsersTask;
use crate::serve::now;
use anyhow::{bail, Context, Result};
use orgwatch_store::auth::NewUser;
use orgwatch_store::Store;
use orgwatch_web::describe_access;
use std::io::BufRead;

/// Runs one users command.
pub async fn run(task: &UsersTask, store: &Store) -> Result<()> {
    match task {
        UsersTask::Add {
            name,
            role,
            access,
            password_stdin,
        } => {
            let (password, show) = password(*password_stdin)?;
            let hash = orgwatch_web::password::hash(&password)?;
            let new = NewUser {
                name,
                password_hash: &hash,
                role: *role,
                access,
                now: now(),
            };
            if store.add_user(&new).await?.is_none() {
                bail!("user {name} already exists (change it with `orgwatch users grant` or `passwd`)");
            }
            crate::outln!("added {name} ({role}, sees {})", describe_access(access))?;
            if show {
                crate::outln!("password: {password}")?;
            }
        }
        UsersTask::List => {
            crate::outln!("{:<24} {:<7} SEES", "NAME", "ROLE")?;
            for u in store.users().await? {
                crate::outln!(
                    "{:<24} {:<7} {}",
                    u.name,
                    u.role,
                    describe_access(&u.access)
                )?;
            }
        }
        UsersTask::Remove { name } => {
            if !store.remove_user(name).await? {
                bail!("there is no user {name}");
            }
            crate::outln!("removed {name}")?;
        }
        UsersTask::Passwd {
            name,
            password_stdin,
        } => {
            let (password, show) = password(*password_stdin)?;
            let hash = orgwatch_web::password::hash(&password)?;
            if !store.set_password(name, &hash, now()).await? {
                bail!("there is no user {name}");
            }
            crate::outln!("changed the password of {name} (their sessions are ended)")?;
            if show {
                crate::outln!("password: {password}")?;
            }
        }
        UsersTask::Grant { name, role, access } => {
            if !store.grant(name, *role, access, now()).await? {
                bail!("there is no user {name}");
            }
            crate::outln!("{name} is now {role}, sees {}", describe_access(access))?;
        }
    }
    Ok(())
}

/// The password to set, and whether to print it (a generated one is shown once).
fn password(from_stdin: bool) -> Result<(String, bool)> {
    if !from_stdin {
        return Ok((orgwatch_web::password::generate(), true));
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    let min = orgwatch_web::password::MIN_LENGTH;
    if password.chars().count() < min {
        bail!("the password from stdin is shorter than {min} characters");
    }
    Ok((password, false))
}
