//! The dashboard: the built web app (`web/dist`), embedded in the binary.
//!
//! Release builds carry the files inside the executable; debug builds read them from disk,
//! so `npm run build` is enough to see a change. Hashed assets are cached forever, the page
//! itself never, so a new release is picked up on the next load. The build writes a brotli and
//! a gzip copy beside each text file (`web/vite.config.ts`, `precompress`), and a browser is
//! sent the smallest one it accepts: the script is ~480 KB as built and about a quarter of that
//! in brotli, which is most of a first load on a slow link.

use std::borrow::Cow;

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

/// The compressed copies the build writes, smallest first: (content coding, file suffix).
const ENCODINGS: [(&str, &str); 2] = [("br", ".br"), ("gzip", ".gz")];

pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    // Unknown API routes answer in the API's shape, not with the dashboard.
    if uri.path() == "/api" || uri.path().starts_with("/api/") {
        return crate::error::AppError::NotFound(format!("No such API route: {}", uri.path()))
            .into_response();
    }
    let path = uri.path().trim_start_matches('/');
    if !path.is_empty() {
        let mime = mime_guess::from_path(path).first_or_octet_stream();
        let cache =
            if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
        let content_type = HeaderValue::from_str(mime.as_ref())
            .unwrap_or(HeaderValue::from_static("application/octet-stream"));
        if let Some(response) = file_response(path, content_type, cache, &headers) {
            return response;
        }
    }
    if path.starts_with("assets/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    // Any other path is the single-page app.
    file_response("index.html", HeaderValue::from_static("text/html; charset=utf-8"), "no-cache", &headers)
        .unwrap_or_else(|| Html(NOT_BUILT).into_response())
}

/// The file at `path`, if the build made one: its compressed copy in the first coding the
/// browser accepts, else the file as built. Only the copy sent is read: a debug build reads
/// and hashes each file it is asked for, on every request (35 ms for the script).
fn file_response(
    path: &str,
    content_type: HeaderValue,
    cache: &'static str,
    headers: &HeaderMap,
) -> Option<Response> {
    let copy = |suffix: &str| Assets::get(&format!("{path}{suffix}"));
    let chosen = ENCODINGS
        .iter()
        .filter(|(coding, _)| accepts(headers, coding))
        .find_map(|&(coding, suffix)| Some((Some(coding), copy(suffix)?)));
    let (coding, file, varies) = match chosen {
        Some((coding, file)) => (coding, file, true),
        // Sent as built; caches must still tell this answer from a compressed one.
        None => (None, Assets::get(path)?, ENCODINGS.iter().any(|(_, suffix)| copy(suffix).is_some())),
    };
    // A release build's files are in the executable: sent from there, not copied per request.
    let body = match file.data {
        Cow::Borrowed(data) => Bytes::from_static(data),
        Cow::Owned(data) => Bytes::from(data),
    };
    let mut response = body.into_response();
    let out = response.headers_mut();
    if let Some(coding) = coding {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    out.insert(header::CONTENT_TYPE, content_type);
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if varies {
        // Caches between us and the browser must keep the encodings apart.
        out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    Some(response)
}

/// Whether `Accept-Encoding` lists `coding` (or `*`) with a non-zero quality.
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|listed| {
            let mut parts = listed.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()).is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case(coding) || name == "*") && !refused
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
    fn a_coding_is_used_only_when_the_browser_accepts_it() {
        assert!(accepts(&with("gzip, deflate, br, zstd"), "gzip"));
        assert!(accepts(&with("gzip, deflate, br, zstd"), "br"));
        assert!(accepts(&with("br;q=1.0, gzip;q=0.8"), "gzip"));
        assert!(accepts(&with("*"), "br"));
        assert!(!accepts(&with("gzip;q=0"), "gzip"));
        assert!(!accepts(&with("gzip; q=0.000"), "gzip"));
        assert!(!accepts(&with("br;q=0, gzip"), "br"));
        assert!(!accepts(&with("br, deflate"), "gzip"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
    }
}
