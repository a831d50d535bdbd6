//! Where input comes from, for every pipeline: a [`Source`] yields [`Item`]s (a file, a
//! stream) and is told, by [`Source::ack`], what became of each, so it can move, record or
//! forget it. `ingest` and `activity` read directories ([`dir`]), stdin ([`stdin`]), S3
//! buckets ([`s3`]) and SQS queues of S3 notifications ([`sqs`]) through it: `poll` may wait
//! on the network, and `ack` may move an object or delete a message. Remote objects are
//! downloaded to a local spool ([`remote`]) and read as files.

pub mod claim;
pub mod dir;
pub mod name;
pub mod remote;
pub mod s3;
pub mod sqs;
pub mod stdin;

use anyhow::Result;
use std::future::Future;
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;

/// One unit of input.
pub struct Item {
    /// Its name in messages and in the database: for a directory, the path under its root
    /// (snapshots) or the whole path (CloudTrail, the ledger's key), escaped losslessly
    /// ([`name::escape`]); `(stdin)`; later an URL.
    pub name: Arc<str>,
    /// Bytes, when known before reading (the ledger keys on name and size); 0 for a stream.
    pub size: u64,
    /// How to read it.
    pub input: Input,
    /// For a CloudTrail file read into a store: how its reader takes it exclusively first.
    pub claimer: Option<claim::LogClaimer>,
}

/// How an item is read.
pub enum Input {
    /// A local file, opened by the reader (which may gunzip or parse it in place).
    File(PathBuf),
    /// A byte stream, read once from start to end (stdin; later an object body).
    Stream(Box<dyn BufRead + Send>),
}

impl std::fmt::Debug for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let input = match &self.input {
            Input::File(p) => p.display().to_string(),
            Input::Stream(_) => "stream".to_owned(),
        };
        write!(f, "Item({} ({} bytes) from {input})", self.name, self.size)
    }
}

impl Item {
    /// What is kept of the item to acknowledge it once its input is consumed.
    pub fn receipt(&self) -> Receipt {
        Receipt {
            name: self.name.clone(),
            size: self.size,
            path: match &self.input {
                Input::File(p) => Some(p.clone()),
                Input::Stream(_) => None,
            },
        }
    }
}

/// An item's name and size: what its source needs to acknowledge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The item's name.
    pub name: Arc<str>,
    /// The item's size (0 for a stream).
    pub size: u64,
    /// The file, for an item that is one (its name may be escaped; this is the path as is).
    pub path: Option<PathBuf>,
}

/// What became of an item, told to its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Read and committed (or recognised as already committed).
    Done,
    /// Refused, with the reason.
    Failed(String),
}

/// What one poll found.
#[derive(Debug, Default)]
pub struct Found {
    /// Items to read now, in the order to read them.
    pub items: Vec<Item>,
    /// Items skipped because they were read before (the activity ledger has them).
    pub already: u64,
    /// Names the source ignored as not its kind of input (e.g. a README beside log files).
    pub ignored: Vec<String>,
    /// Names of what is neither a file nor a directory (symlinks, FIFOs, sockets, devices),
    /// skipped: a symlink may lead out of the tree or in a loop, a FIFO may never end.
    pub special: Vec<String>,
    /// The source will give nothing more after these (stdin, a directory read once), so a
    /// follower need not wait to poll it again.
    pub last: bool,
}

/// A source of input items.
///
/// `poll` returns what is ready now (a directory pass, a batch of notifications); a source
/// that is followed is polled again after a pause, and `None` means it will never give more
/// (stdin once given, a one-shot listing already given). `ack` is called once per item read,
/// after its outcome is committed. Both take `&self` so one source can be shared (`Arc`)
/// between the task that polls and the tasks that commit.
pub trait Source: Send + Sync {
    /// Items ready now; `None` once the source is exhausted.
    fn poll(&self) -> impl Future<Output = Result<Option<Found>>> + Send;
    /// Records what became of `item` (e.g. moves a file to `loaded/` or `failed/`). The
    /// activity writer also acknowledges each file read to its end (`Done`) once its last
    /// chunk is committed.
    fn ack(&self, item: &Receipt, outcome: &Outcome) -> impl Future<Output = Result<()>> + Send;
}
