//! Where things live: the database URL and the data directory, resolved once.

use anyhow::{Context, Result};
use std::path::PathBuf;

/// The platform data directory (e.g. ~/.local/share/orgwatch), created if missing.
pub fn data_dir() -> Result<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "orgwatch")
        .context("cannot determine a home directory for orgwatch's data; pass --database-url")?;
    let dir = dirs.data_dir().to_path_buf();
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    Ok(dir)
}

/// The database URL: the flag or environment, else a SQLite file in the data directory.
pub fn database_url(flag: Option<&str>) -> Result<String> {
    match flag {
        Some(url) if !url.trim().is_empty() => Ok(url.to_owned()),
        _ => {
            let path = data_dir()?.join("orgwatch.db");
            Ok(format!("sqlite://{}", path.display()))
        }
    }
}
