//! One shutdown signal for every pipeline: Ctrl-C or SIGTERM cancels a token that passes,
//! pauses and readers check.

use tokio_util::sync::CancellationToken;

/// A token cancelled at the first Ctrl-C (SIGINT) or SIGTERM. Pipelines stop between files or
/// batches, so what is in flight still commits.
pub fn on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        signal().await;
        tracing::info!("interrupted: stopping after the work in flight");
        cancel.cancel();
    });
    token
}

/// Resolves at Ctrl-C; never if it cannot be caught (then Ctrl-C keeps its default: exit).
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[cfg(unix)]
async fn signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                () = ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        // Without a SIGTERM handler the default (exit) still applies; Ctrl-C is caught.
        Err(_) => ctrl_c().await,
    }
}

#[cfg(not(unix))]
async fn signal() {
    ctrl_c().await;
}
