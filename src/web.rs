//! The dashboard: the built web app (`web/dist`), embedded in the binary.
//!
//! Release builds carry the files inside the executable; debug builds read them from disk,
//! so `npm run build` is enough to see a change. Hashed assets are cached forever, the page
//! itself never, so a new release is picked up on the next load.

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "web/dist"]
#[allow_missing = true]
struct Assets;

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>warroom</title>\
<body style=\"font-family:system-ui;max-width:40rem;margin:4rem auto;line-height:1.5\">\
<h1>warroom is running</h1><p>The dashboard has not been built into this binary. Build it with \
<code>make run</code> (or <code>npm --prefix web ci && npm --prefix web run build</code>). \
The Socket.IO API is at <code>/socket.io/</code> and the REST API under <code>/api/</code>.</p>";

pub async fn serve(uri: Uri) -> Response {
    // Unknown API routes answer in the API's shape, not with the dashboard.
    if uri.path() == "/api" || uri.path().starts_with("/api/") {
        return crate::error::AppError::NotFound(format!("No such API route: {}", uri.path()))
            .into_response();
    }
    let path = uri.path().trim_start_matches('/');
    if let Some(file) = Assets::get(path).filter(|_| !path.is_empty()) {
        let mime = mime_guess::from_path(path).first_or_octet_stream();
        let cache =
            if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
        return (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_str(mime.as_ref())
                        .unwrap_or(HeaderValue::from_static("application/octet-stream")),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            ],
            file.data,
        )
            .into_response();
    }
    if path.starts_with("assets/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    // Any other path is the single-page app.
    match Assets::get("index.html") {
        Some(index) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            index.data,
        )
            .into_response(),
        None => Html(NOT_BUILT).into_response(),
    }
}
