//! Static assets, compiled into the binary (the app works offline, with no CDN): the
//! stylesheet, the app's one script, and the vendored Apache ECharts (`vendor/echarts/`,
//! whose README says its version, source and how to update it).

use axum::http::header;
use axum::response::IntoResponse;

/// The vendored ECharts version: its URL carries it, so it can be cached for a year.
pub const ECHARTS_VERSION: &str = "5.6.0";

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

/// The app's script (charts, drill-down clicks, live updates).
pub(crate) async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.js"),
    )
}

/// Apache ECharts, minified (Apache-2.0; its LICENSE and NOTICE are beside it).
pub(crate) async fn echarts() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            // The path names the version: a new one is a new URL.
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        &include_bytes!("../vendor/echarts/echarts.min.js")[..],
    )
}
