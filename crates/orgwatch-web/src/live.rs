//! "Events were stored": one signal that the live Activity page's streams wait on, raised by
//! whoever learns it first.
//!
//! - In process: the binary calls [`ActivitySignal::stored`] after it commits events (the
//!   demo's replay does).
//! - Another process on a PostgreSQL database: its writer sends `NOTIFY orgwatch_activity` in
//!   the transaction that stores events (or saves scores); [`watch_store`] listens, and polls
//!   every 5 s as well (a notification sent while the listening connection was lost is lost).
//! - Another process on a SQLite file: no notifications; [`watch_store`] polls the stream
//!   state ([`Store::activity_version`](orgwatch_store::Store::activity_version): a counter of
//!   store transactions, the newest event time, the scored minutes) every second.
//!
//! The signal is a counter on a `tokio::sync::watch` channel: a stream that was busy sees
//! only that it changed, so a burst of batches costs one recomputation per stream.

use crate::AppState;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How often SQLite's stream state is polled.
pub const SQLITE_POLL: Duration = Duration::from_secs(1);

/// How often PostgreSQL's is polled besides listening.
pub const POSTGRES_POLL: Duration = Duration::from_secs(5);

/// A cloneable handle that tells the live pages new activity was stored.
#[derive(Debug, Clone)]
pub struct ActivitySignal {
    tx: Arc<watch::Sender<u64>>,
}

impl Default for ActivitySignal {
    fn default() -> Self {
        ActivitySignal::new()
    }
}

impl ActivitySignal {
    /// A signal nobody has raised yet.
    pub fn new() -> ActivitySignal {
        let (tx, _) = watch::channel(0);
        ActivitySignal { tx: Arc::new(tx) }
    }

    /// Events were stored (committed): every live stream sends a fresh summary.
    pub fn stored(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// How many times it was raised (wrapping).
    pub fn generation(&self) -> u64 {
        *self.tx.borrow()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }
}

/// Raises `state`'s signal when another process stores activity in the database, until
/// `shutdown`.
pub(crate) async fn watch_store(state: AppState, shutdown: CancellationToken) {
    let store = state.store().clone();
    let signal = state.activity_signal();
    let mut listener = match store.listen_activity().await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for stored activity; polling instead");
            None
        }
    };
    let every = if listener.is_some() {
        POSTGRES_POLL
    } else {
        SQLITE_POLL
    };
    let mut last = store.activity_version().await.ok();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let notified = async {
            match listener.as_mut() {
                Some(l) => l.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            heard = notified => match heard {
                Ok(()) => {
                    last = store.activity_version().await.ok().or(last);
                    signal.stored();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "lost the activity listener; reconnecting");
                    tokio::time::sleep(every).await;
                }
            },
            _ = tick.tick() => match store.activity_version().await {
                Ok(v) if last != Some(v) => {
                    if last.is_some() {
                        signal.stored();
                    }
                    last = Some(v);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot read the activity stream state"),
            },
        }
    }
}
