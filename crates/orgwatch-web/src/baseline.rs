//! The load bench's baseline, `GET /bench/static/{bytes}`: the first `bytes` bytes of one
//! buffer made at start, behind the same layers and session check as a page. `bench/web`
//! sets each page's and API's latency beside a response of the same size that costs no
//! query and no rendering. Off unless `serve` is given the hidden `--bench-static-bytes`.

use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// The route (not in the route table: it exists only for the bench).
pub(crate) const PATH: &str = "/bench/static/{bytes}";

/// `len` bytes of JSON-like text (what the APIs send), made once.
pub(crate) fn buffer(len: usize) -> Bytes {
    const ROW: &[u8] = br#"{"account_id":"123456789012","name":"payments-prod","cost":1234.56},"#;
    ROW.iter()
        .copied()
        .cycle()
        .take(len)
        .collect::<Vec<u8>>()
        .into()
}

/// The buffer's first `bytes` bytes; more than it holds is a 404.
pub(crate) async fn serve(State(state): State<AppState>, Path(bytes): Path<usize>) -> Response {
    let buffer = state.bench_buffer();
    if bytes > buffer.len() {
        return StatusCode::NOT_FOUND.into_response();
    }
    (
        [(header::CONTENT_TYPE, "application/octet-stream")],
        buffer.slice(..bytes),
    )
        .into_response()
}
