//! Taking a file exclusively, so that several `ingest` or `activity` runs on one directory
//! never read the same file at once: an exclusive advisory lock (`flock`) on the open file,
//! held until what became of the file is committed (and, for a snapshot, until it has moved).
//!
//! A lock rather than a rename into a per-run folder: the kernel drops it when its process
//! dies (also on `kill -9`), so a file a dead run held is simply there for the next run, with
//! nothing to recover; and CloudTrail files, which never move, are claimed the same way.
//! A run that finds a file locked leaves it to its holder. Locks are advisory: only orgwatch
//! runs respect them, and on network file systems they are only as good as the server's.

use orgwatch_store::Store;
use std::fs::{File, TryLockError};
use std::io;
use std::path::Path;
use tokio::runtime::Handle;

/// A file this run holds: the open file, locked. Dropping it releases the lock.
#[derive(Debug)]
pub struct Claim {
    file: same_file::Handle,
}

impl Claim {
    /// The claimed file, open for reading.
    pub fn file(&self) -> &File {
        self.file.as_file()
    }
}

/// What an attempt to claim a file found.
#[derive(Debug)]
pub enum Claimed {
    /// The file is this run's now.
    Mine(Claim),
    /// Another run holds it.
    Busy,
    /// It is no longer there (another run moved it since it was listed).
    Gone,
    /// Another run read it to its end since it was listed (the activity ledger has it now).
    Read,
}

/// Claims the file at `path`. The lock is taken on the open file; the path is then checked to
/// still name that file, since another run may have moved it (and let go of it) in between.
pub fn claim(path: &Path) -> io::Result<Claimed> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Claimed::Gone),
        Err(e) => return Err(e),
    };
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(Claimed::Busy),
        Err(TryLockError::Error(e)) => return Err(e),
    }
    let handle = same_file::Handle::from_file(file)?;
    match same_file::Handle::from_path(path) {
        Ok(now) if now == handle => Ok(Claimed::Mine(Claim { file: handle })),
        Ok(_) => Ok(Claimed::Gone),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Claimed::Gone),
        Err(e) => Err(e),
    }
}

/// Claims CloudTrail files for a run that stores them: after the lock, the ledger is asked
/// again whether the file was read meanwhile by another run (its listing is older).
#[derive(Clone)]
pub struct LogClaimer {
    ledger: Store,
    runtime: Handle,
}

impl LogClaimer {
    /// A claimer checking `ledger`; to be made on the async runtime, whose handle it keeps
    /// to ask the ledger from the decoders' threads.
    pub fn new(ledger: Store) -> LogClaimer {
        LogClaimer {
            ledger,
            runtime: Handle::current(),
        }
    }

    /// Claims the file `path`, named `name` in the ledger, of `size` bytes when listed. Blocks:
    /// call it from a worker thread, not the runtime.
    pub fn claim(&self, name: &str, path: &Path, size: u64) -> anyhow::Result<Claimed> {
        let claimed = claim(path)?;
        if matches!(claimed, Claimed::Mine(_)) {
            let read = self
                .runtime
                .block_on(self.ledger.activity_file_size(name))?;
            if read == Some(size) {
                return Ok(Claimed::Read);
            }
        }
        Ok(claimed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claimed_file_is_busy_for_others_until_released_and_a_moved_one_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        std::fs::write(&path, "{}").unwrap();
        let Claimed::Mine(mine) = claim(&path).unwrap() else {
            panic!("an unclaimed file is taken");
        };
        assert!(matches!(claim(&path).unwrap(), Claimed::Busy));
        std::fs::rename(&path, dir.path().join("b.json")).unwrap();
        drop(mine);
        assert!(matches!(claim(&path).unwrap(), Claimed::Gone));
        std::fs::write(&path, "{}").unwrap();
        assert!(matches!(claim(&path).unwrap(), Claimed::Mine(_)));
    }
}
