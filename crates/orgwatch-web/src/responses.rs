//! The answers of the posture pages and their APIs, shared (`shared`) by the requests of one
//! view until the posture data changes.
//!
//! A posture page reads every account's days of its range: seconds at 1,000 accounts x 90
//! days, and the same for every client that loads it. The answer (status, headers and body)
//! of a page or API route is kept per view, the caller's user, role, access and session (the
//! page shows their name and CSRF token) with the route and its query, for the store's
//! posture version. The handlers stay plain: [`shared`] wraps one. Not shared: CSV downloads
//! (every row of a table: large, and rare) and the Ingest page (its lag follows the clock,
//! its ledger the activity).

use crate::session::CurrentUser;
use crate::shared::{NoResult, Shared, Wait, STALE_AFTER};
use crate::{AppState, WebError};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use orgwatch_store::PostureVersion;
use std::future::Future;
use std::pin::Pin;

/// An answer as sent: what a later request of the same view gets again.
#[derive(Debug)]
pub(crate) struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    /// The whole of `response` (`Err`: not a success, served to its waiters only).
    async fn of(response: Response) -> Result<Answer, Answer> {
        let (parts, body) = response.into_parts();
        let body = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(b) => b,
            Err(e) => return Err(Answer::failed(&format!("reading an answer failed: {e}"))),
        };
        let answer = Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        };
        if answer.status.is_success() {
            Ok(answer)
        } else {
            Err(answer)
        }
    }

    /// A 500 for a computation that gave no answer (logged, as [`WebError`] does).
    fn failed(why: &str) -> Answer {
        tracing::error!(error = why, "request failed");
        Answer {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"internal error (see the server log)"),
        }
    }

    fn response(&self) -> Response {
        let mut r = Response::new(Body::from(self.body.clone()));
        *r.status_mut() = self.status;
        *r.headers_mut() = self.headers.clone();
        r
    }
}

impl From<NoResult> for Answer {
    fn from(e: NoResult) -> Answer {
        Answer::failed(&e.0)
    }
}

/// The shared answers of a server.
pub(crate) type Answers = Shared<PostureVersion, Answer, Answer>;

/// A boxed answer, so that [`shared`]'s handler has a type to name.
type Answering = Pin<Box<dyn Future<Output = Response> + Send>>;

/// `handler` of route `path`, its answers shared by the requests of one view while the
/// posture data does not change (see the module doc); while it changes, a request waits at
/// most [`STALE_AFTER`] for a fresh answer, then gets the latest.
pub(crate) fn shared<H, Fut, R>(
    path: &'static str,
    handler: H,
) -> impl Fn(State<AppState>, CurrentUser, RawQuery) -> Answering + Clone + Send + Sync + 'static
where
    H: Fn(State<AppState>, CurrentUser, RawQuery) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<R, WebError>> + Send + 'static,
    R: IntoResponse,
{
    move |State(state): State<AppState>, user: CurrentUser, RawQuery(raw): RawQuery| {
        let handler = handler.clone();
        Box::pin(async move {
            let version = match state.store().posture_version().await {
                Ok(v) => v,
                Err(e) => return WebError::from(e).into_response(),
            };
            // Debug formats are complete and unambiguous (lists, ids, escaped strings).
            let key = format!(
                "{path}?{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
                raw, user.user.name, user.user.role, user.csrf_token, user.user.access
            );
            let compute = {
                let state = state.clone();
                move || {
                    let (state, user, raw) = (state.clone(), user.clone(), raw.clone());
                    let handler = handler.clone();
                    async move {
                        let version = state.store().posture_version().await.ok();
                        let response = handler(State(state), user, RawQuery(raw))
                            .await
                            .into_response();
                        (version, Answer::of(response).await)
                    }
                }
            };
            let answers = state.answers();
            match answers
                .get_with(key, version, Wait::AtMost(STALE_AFTER), compute)
                .await
            {
                Ok(a) | Err(a) => a.response(),
            }
        })
    }
}
