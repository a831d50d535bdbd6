//! The one error of the handlers: a failure inside is a 500 with no detail (logged with the
//! request's id by the trace layer's span), never the database's message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// A request that failed: bad input (400, saying what was wrong), or a failure inside the
/// app (500, with no detail).
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A query parameter the app cannot use; the message names it.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A cursor of a table that changed since it was issued (409): start again without it.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] orgwatch_store::StoreError),
    /// The store failed computing a result that several requests shared.
    #[error("store: {0}")]
    Shared(std::sync::Arc<orgwatch_store::StoreError>),
    /// A template failed to render.
    #[error("template: {0}")]
    Template(#[from] askama::Error),
    /// A blocking task (password hashing) failed.
    #[error("task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::BadRequest(why) => {
                return (StatusCode::BAD_REQUEST, format!("{why}\n")).into_response()
            }
            WebError::Conflict(why) => {
                return (StatusCode::CONFLICT, format!("{why}\n")).into_response()
            }
            _ => {}
        }
        tracing::error!(error = %self, "request failed");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error (see the server log)",
        )
            .into_response()
    }
}
