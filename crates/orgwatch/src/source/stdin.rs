//! Standard input as a source: one stream item, read once.

use super::{Found, Input, Item, Outcome, Receipt, Source};
use anyhow::Result;
use orgwatch_store::Store;
use std::io::BufReader;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The name stdin goes by in messages and in the activity ledger (where it is never marked
/// as read, so stdin is never skipped).
pub const STDIN: &str = "(stdin)";

/// Standard input: a single stream item.
pub struct StdinSource {
    ledger: Option<Store>,
    given: AtomicBool,
}

impl StdinSource {
    /// Stdin; with `ledger`, a failure to read it is recorded there.
    pub fn new(ledger: Option<Store>) -> StdinSource {
        StdinSource {
            ledger,
            given: AtomicBool::new(false),
        }
    }
}

impl Source for StdinSource {
    async fn poll(&self) -> Result<Option<Found>> {
        if self.given.swap(true, Ordering::Relaxed) {
            return Ok(None);
        }
        // Buffered here, locked per read: the lock guard could not move to a reader thread.
        let stream = BufReader::with_capacity(64 * 1024, std::io::stdin());
        Ok(Some(Found {
            items: vec![Item {
                name: Arc::from(STDIN),
                size: 0,
                input: Input::Stream(Box::new(stream)),
                claimer: None,
            }],
            last: true,
            ..Found::default()
        }))
    }

    async fn ack(&self, item: &Receipt, outcome: &Outcome) -> Result<()> {
        if let (Some(store), Outcome::Failed(reason)) = (&self.ledger, outcome) {
            store
                .activity_file_failed(&item.name, item.size, reason)
                .await?;
        }
        Ok(())
    }
}
