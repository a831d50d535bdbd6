//! `/healthz` (the process answers) and `/readyz` (the database answers), both public.

use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;

/// The process is up.
pub(crate) async fn healthz() -> &'static str {
    "ok\n"
}

/// The database answers a query; 503 when it does not.
pub(crate) async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.store().schema_version().await {
        Ok(Some(_)) => (StatusCode::OK, "ready\n"),
        Ok(None) => (StatusCode::SERVICE_UNAVAILABLE, "database not migrated\n"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}
