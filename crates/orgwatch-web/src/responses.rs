//! The answers of the posture pages, the Activity page and their APIs, shared (`shared`) by
//! the requests of one view until the data they show changes.
//!
//! A posture page reads every account's days of its range: seconds at 1,000 accounts x 90
//! days, and the same for every client that loads it; the Activity report is shared already
//! (`shared::ActivityReports`), but building, sorting and serialising its 200 kB document
//! took each request tens of milliseconds. The answer (status, headers and body) of a page or
//! API route is kept per view, the caller's user, role, access and session (the page shows
//! their name and CSRF token) with the route and its query, for the version of the data it
//! was made of ([`DataVersion`]: the posture version, or the Activity report's). The handlers
//! stay plain: [`shared`] wraps one. Not shared: CSV downloads (every row of a table: large,
//! and rare), the Activity stream (one connection's messages) and the Ingest page (its lag
//! follows the clock, its ledger the activity).

use crate::session::CurrentUser;
use crate::shared::{NoResult, Shared, Wait, STALE_AFTER};
use crate::{AppState, WebError};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use orgwatch_store::{ActivityVersion, PostureVersion, Store, StoreError};
use std::future::Future;
use std::pin::Pin;

/// The version of the data a kind of answer shows: equal versions, equal answers.
pub(crate) trait DataVersion: Copy + Eq + Send + Sync + 'static {
    /// The data's version now.
    fn current(store: &Store) -> impl Future<Output = Result<Self, StoreError>> + Send;
    /// The server's shared answers of this kind.
    fn answers(state: &AppState) -> &Answers<Self>;
}

impl DataVersion for PostureVersion {
    async fn current(store: &Store) -> Result<Self, StoreError> {
        store.posture_version().await
    }

    fn answers(state: &AppState) -> &Answers<Self> {
        state.answers()
    }
}

impl DataVersion for ActivityVersion {
    async fn current(store: &Store) -> Result<Self, StoreError> {
        store.activity_version().await
    }

    fn answers(state: &AppState) -> &Answers<Self> {
        state.activity_answers()
    }
}

/// Put in a response's extensions by a handler that knows which version of the data it
/// showed (`None`: unknown, the answer is then not kept): the Activity handlers, whose shared
/// report may be older than the version read before they ran. Without it, an answer is of the
/// version read before its handler ran (the posture handlers read the data after that).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MadeOf<V>(pub(crate) Option<V>);

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

/// The shared answers of one kind of a server.
pub(crate) type Answers<V> = Shared<V, Answer, Answer>;

/// A boxed answer, so that [`shared`]'s handler has a type to name.
type Answering = Pin<Box<dyn Future<Output = Response> + Send>>;

/// `handler` of route `path`, its answers shared by the requests of one view while the data
/// of version `V` does not change (see the module doc); while it changes, a request waits at
/// most [`STALE_AFTER`] for a fresh answer, then gets the latest.
pub(crate) fn shared<V, H, Fut, R>(
    path: &'static str,
    handler: H,
) -> impl Fn(State<AppState>, CurrentUser, RawQuery) -> Answering + Clone + Send + Sync + 'static
where
    V: DataVersion,
    H: Fn(State<AppState>, CurrentUser, RawQuery) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<R, WebError>> + Send + 'static,
    R: IntoResponse,
{
    move |State(state): State<AppState>, user: CurrentUser, RawQuery(raw): RawQuery| {
        let handler = handler.clone();
        Box::pin(async move {
            let version = match V::current(state.store()).await {
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
                        let before = V::current(state.store()).await.ok();
                        let response = handler(State(state), user, RawQuery(raw))
                            .await
                            .into_response();
                        let version = match response.extensions().get::<MadeOf<V>>() {
                            Some(MadeOf(made_of)) => *made_of,
                            None => before,
                        };
                        (version, Answer::of(response).await)
                    }
                }
            };
            match V::answers(&state)
                .get_with(key, version, Wait::AtMost(STALE_AFTER), compute)
                .await
            {
                Ok(a) | Err(a) => a.response(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WebConfig;
    use axum::extract::Extension;
    use orgwatch_store::auth::{Role, User, UserId};
    use orgwatch_store::Access;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    fn viewer() -> CurrentUser {
        CurrentUser {
            user: User {
                id: UserId(1),
                name: "viewer".to_owned(),
                role: Role::Viewer,
                access: Access::All,
            },
            csrf_token: "token".to_owned(),
        }
    }

    async fn body(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn an_answer_made_of_an_older_report_is_never_served_as_the_current_ones() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let state = AppState::new(store.clone(), WebConfig::default(), Arc::new(|| 0));
        let current = store.activity_version().await.unwrap();
        let older = ActivityVersion {
            stored_batches: current.stored_batches - 1,
            ..current
        };
        // A handler that says which version its answer was made of, as the Activity ones do.
        let made_of = Arc::new(Mutex::new(Some(older)));
        let calls = Arc::new(AtomicUsize::new(0));
        let handler = {
            let (made_of, calls) = (made_of.clone(), calls.clone());
            move |_: State<AppState>, _: CurrentUser, _: RawQuery| {
                let version = *made_of.lock().unwrap();
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                async move { Ok::<_, WebError>((Extension(MadeOf(version)), format!("answer {n}"))) }
            }
        };
        let serve = shared::<ActivityVersion, _, _, _>("/test", handler);
        let ask = || serve(State(state.clone()), viewer(), RawQuery(None));

        // Made of an older report: served to its request, then made again for the next one.
        assert_eq!(body(ask().await).await, "answer 1");
        assert_eq!(body(ask().await).await, "answer 2");
        // Of an unknown version: likewise.
        *made_of.lock().unwrap() = None;
        assert_eq!(body(ask().await).await, "answer 3");
        assert_eq!(body(ask().await).await, "answer 4");
        // Made of the current report: kept, and served again until the version moves.
        *made_of.lock().unwrap() = Some(current);
        assert_eq!(body(ask().await).await, "answer 5");
        assert_eq!(body(ask().await).await, "answer 5");
        assert_eq!(calls.load(Ordering::SeqCst), 5);
        assert_eq!(state.activity_answers().counts(), (6, 5));
    }
}
