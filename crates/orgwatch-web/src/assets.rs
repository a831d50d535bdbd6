//! Static assets, compiled into the binary (the app works offline, with no CDN).

use axum::http::header;
use axum::response::IntoResponse;

/// The stylesheet.
pub(crate) async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.css"),
    )
}
