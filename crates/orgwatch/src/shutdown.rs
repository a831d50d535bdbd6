//! One shutdown signal for every pipeline: Ctrl-C or SIGTERM cancels a token that passes,
//! pauses and readers check.

use tokio_util::sync::CancellationToken;

/// A token cancelled at the first Ctrl-C (SIGINT) or SIGTERM. Pipelines stop between files or
/// batches, so what is in flight still commits.
pub fn on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    // Installed now, not in the task: a signal that arrives before the task first runs (a
    // SIGTERM right after `serve` printed its URL) is then caught, not the default exit.
    let signals = Signals::install();
    tokio::spawn(async move {
        signals.recv().await;
        tracing::info!("interrupted: stopping after the work in flight");
        cancel.cancel();
    });
    token
}

/// The caught signals. One that cannot be caught keeps its default (exit).
#[cfg(unix)]
struct Signals {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl Signals {
    fn install() -> Signals {
        use tokio::signal::unix::{signal, SignalKind};
        Signals {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
        }
    }

    /// Resolves at the first of them.
    async fn recv(mut self) {
        async fn next(s: Option<&mut tokio::signal::unix::Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = next(self.interrupt.as_mut()) => {}
            () = next(self.terminate.as_mut()) => {}
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> Signals {
        Signals
    }

    /// Resolves at Ctrl-C; never if it cannot be caught (then Ctrl-C keeps its default).
    async fn recv(self) {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
