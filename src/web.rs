//! The dashboard: the built web app (`web/dist`), embedded in the binary.
//!
//! Release builds carry the files inside the executable; debug builds read them from disk,
//! so `npm run build` is enough to see a change. Hashed assets are cached forever, the page
//! itself never, so a new release is picked up on the next load. Text files go out gzipped to
//! browsers that accept it, each compressed once and kept: the script is ~380 KB as built and
//! a fifth of that gzipped, which is most of a first load on a slow link.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
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

/// Files smaller than this gain too little from gzip to be worth a header.
const GZIP_FROM: usize = 1024;

/// Gzipped copies by path and content hash, made on first request. Bounded by the dashboard's
/// own files (a debug build that reads a rebuilt file adds one entry per build). The lock is
/// held for lookups and inserts only, never while compressing.
static GZIPPED: LazyLock<Mutex<HashMap<GzipKey, Bytes>>> = LazyLock::new(Default::default);

/// A file's path and the SHA-256 of its content.
type GzipKey = (String, [u8; 32]);

pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    // Unknown API routes answer in the API's shape, not with the dashboard.
    if uri.path() == "/api" || uri.path().starts_with("/api/") {
        return crate::error::AppError::NotFound(format!("No such API route: {}", uri.path()))
            .into_response();
    }
    let gzip_ok = accepts_gzip(&headers);
    let path = uri.path().trim_start_matches('/');
    if let Some(file) = Assets::get(path).filter(|_| !path.is_empty()) {
        let mime = mime_guess::from_path(path).first_or_octet_stream();
        let cache =
            if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
        let content_type = HeaderValue::from_str(mime.as_ref())
            .unwrap_or(HeaderValue::from_static("application/octet-stream"));
        return file_response(path, file, content_type, cache, gzip_ok);
    }
    if path.starts_with("assets/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    // Any other path is the single-page app.
    match Assets::get("index.html") {
        Some(index) => file_response(
            "index.html",
            index,
            HeaderValue::from_static("text/html; charset=utf-8"),
            "no-cache",
            gzip_ok,
        ),
        None => Html(NOT_BUILT).into_response(),
    }
}

fn file_response(
    path: &str,
    file: rust_embed::EmbeddedFile,
    content_type: HeaderValue,
    cache: &'static str,
    gzip_ok: bool,
) -> Response {
    let compressible = is_text(&content_type) && file.data.len() >= GZIP_FROM;
    let mut response = if gzip_ok && compressible {
        let body = gzipped(path, &file);
        ([(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))], body).into_response()
    } else {
        Bytes::from(file.data.into_owned()).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if compressible {
        // Caches between us and the browser must keep the two encodings apart.
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

fn gzipped(path: &str, file: &rust_embed::EmbeddedFile) -> Bytes {
    use std::io::Write;
    let key = (path.to_owned(), file.metadata.sha256_hash());
    if let Some(body) = GZIPPED.lock().unwrap().get(&key) {
        return body.clone();
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let body = Bytes::from(encoder.write_all(&file.data).and_then(|_| encoder.finish()).unwrap_or_default());
    GZIPPED.lock().unwrap().insert(key, body.clone());
    body
}

fn is_text(content_type: &HeaderValue) -> bool {
    let t = content_type.to_str().unwrap_or("");
    t.starts_with("text/") || t.contains("javascript") || t.contains("json") || t.contains("svg")
}

/// Whether `Accept-Encoding` lists gzip with a non-zero quality.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()).is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn gzip_is_used_only_when_the_browser_accepts_it() {
        assert!(accepts_gzip(&with("gzip, deflate, br, zstd")));
        assert!(accepts_gzip(&with("br;q=1.0, gzip;q=0.8")));
        assert!(!accepts_gzip(&with("gzip;q=0")));
        assert!(!accepts_gzip(&with("gzip; q=0.000")));
        assert!(!accepts_gzip(&with("br, deflate")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
