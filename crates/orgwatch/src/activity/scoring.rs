//! The score stage: the scorer ([`super::score`]) advanced on a runtime worker beside the
//! writer, fed the counts of stored events.

use super::score::{Scored, Scorer};
use anyhow::{bail, Result};
use orgwatch_activity::MinuteCounter;
use orgwatch_store::Store;
use std::time::Duration;

/// The scorer, advanced on a runtime worker while the writer goes on storing: scoring a
/// stretch of windows takes longer than storing a batch, and the writer must not wait.
pub struct Scoring {
    /// The scorer, when no advance is running.
    idle: Option<Scorer>,
    running: Option<tokio::task::JoinHandle<(Scorer, Result<Scored>)>>,
    /// Counts of stored events the scorer has not taken yet.
    pub recent: MinuteCounter,
    /// Most minutes of counts kept for the scorer before the writer waits for it: the windows
    /// the watermark keeps open, plus an hour. Without a bound, a scorer slower than the
    /// writer (a backlog read at full speed) falls ever further behind, and its counts grow
    /// with it.
    max_unscored_minutes: usize,
}

impl Scoring {
    /// A scorer, idle, with the run's lateness.
    pub fn new(scorer: Scorer, lateness: Duration) -> Scoring {
        Scoring {
            idle: Some(scorer),
            running: None,
            recent: MinuteCounter::default(),
            max_unscored_minutes: (lateness.as_secs() / 60) as usize + 60,
        }
    }

    /// Starts an advance unless one is running (then waits for it only if the scorer is too
    /// far behind); returns what a finished one did.
    pub async fn poll(&mut self, store: &Store) -> Result<Option<Scored>> {
        let behind = self.recent.minutes() > self.max_unscored_minutes;
        if self.running.as_ref().is_some_and(|r| !r.is_finished()) && !behind {
            return Ok(None);
        }
        let done = self.wait().await?;
        let Some(mut scorer) = self.idle.take() else {
            bail!("the anomaly scorer was lost (a scoring task failed)");
        };
        scorer.absorb(std::mem::take(&mut self.recent));
        let store = store.clone();
        self.running = Some(tokio::spawn(async move {
            let scored = scorer.advance(&store, false).await;
            (scorer, scored)
        }));
        Ok(done)
    }

    /// Waits for a running advance; returns what it did.
    async fn wait(&mut self) -> Result<Option<Scored>> {
        let Some(running) = self.running.take() else {
            return Ok(None);
        };
        let (scorer, scored) = running.await?;
        self.idle = Some(scorer);
        scored.map(Some)
    }

    /// Waits for a running advance, then advances once more with every count (and
    /// checkpoints with `checkpoint`); returns what both did.
    pub async fn finish(&mut self, store: &Store, checkpoint: bool) -> Result<Scored> {
        let mut out = self.wait().await?.unwrap_or_default();
        let Some(scorer) = self.idle.as_mut() else {
            bail!("the anomaly scorer was lost (a scoring task failed)");
        };
        scorer.absorb(std::mem::take(&mut self.recent));
        out.extend(scorer.advance(store, checkpoint).await?);
        Ok(out)
    }
}
