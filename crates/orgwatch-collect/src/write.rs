//! Writing a snapshot where `orgwatch ingest --from DIR` reads it.

use orgwatch_model::{Snapshot, SnapshotLocation};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `snapshot` as `dir/data/{account}/{region}/{date}_{INTERVAL}.json` with the A360
/// writer, through a temporary name and a rename, so a concurrent `ingest --watch` never
/// reads half a file (the temporary name does not end in `.json`, so ingest skips it).
pub fn snapshot(
    dir: &Path,
    location: &SnapshotLocation,
    snapshot: &Snapshot,
) -> std::io::Result<PathBuf> {
    let data = dir.join("data");
    let path = data.join(location.relative_path());
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension("json.tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&snapshot.to_json_pretty())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}
