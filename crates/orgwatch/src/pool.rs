//! The one worker pool that reads, parses and decodes input for every pipeline: as many
//! threads as the machine has (or `--threads`), shared by `ingest`, `activity` and `demo`.
//!
//! It is its own rayon pool, not rayon's global one: decoders block on a bounded queue to the
//! writer, and the anomaly detector (krcflib) may use the global pool from the writer's side,
//! so sharing one pool could make them wait on each other.

use std::future::Future;
use std::sync::OnceLock;

static POOL: OnceLock<Pool> = OnceLock::new();

/// A pool of worker threads for CPU work (and the blocking file reads that feed it).
#[derive(Debug)]
pub struct Pool {
    threads: usize,
    inner: Option<rayon::ThreadPool>,
}

/// Threads the machine offers (1 when it cannot say).
pub fn available() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Sets the pool size for this process (before first use); later calls change nothing.
pub fn configure(threads: usize) {
    let _ = POOL.set(Pool::new(threads));
}

/// The process's pool (sized by [`configure`], else by [`available`]).
pub fn get() -> &'static Pool {
    POOL.get_or_init(|| Pool::new(available()))
}

impl Pool {
    /// A pool of `threads` threads (at least 1). If the threads cannot be started, work runs
    /// on tokio's blocking threads instead (slower to schedule, still correct).
    pub fn new(threads: usize) -> Pool {
        let threads = threads.max(1);
        let inner = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("orgwatch-worker-{i}"))
            .build()
            .map_err(|e| tracing::warn!(error = %e, "cannot start the worker pool"))
            .ok();
        Pool { threads, inner }
    }

    /// Threads in the pool: how many inputs are read and decoded at once.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `work` on the pool; the future resolves to its result, or to the panic it raised
    /// (for the caller to resume).
    pub fn run<T, F>(&self, work: F) -> impl Future<Output = std::thread::Result<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job = move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            // The caller may have stopped waiting (an interrupted pass): nothing to tell.
            let _ = tx.send(out);
        };
        match &self.inner {
            Some(pool) => pool.spawn(job),
            None => {
                tokio::task::spawn_blocking(job);
            }
        }
        async move {
            match rx.await {
                Ok(out) => out,
                // The job was dropped unrun (the pool shut down): report it as a failure.
                Err(e) => Err(Box::new(e.to_string()) as Box<dyn std::any::Any + Send>),
            }
        }
    }

    /// Runs `op` inside the pool, so rayon's parallel iterators in it use these threads.
    pub fn install<T: Send, F: FnOnce() -> T + Send>(&self, op: F) -> T {
        match &self.inner {
            Some(pool) => pool.install(op),
            None => op(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_and_panics_come_back() {
        let pool = Pool::new(2);
        assert_eq!(pool.threads(), 2);
        assert_eq!(pool.run(|| 6 * 7).await.ok(), Some(42));
        assert!(pool.run(|| panic!("boom")).await.is_err());
    }
}
