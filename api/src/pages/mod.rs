//! Pages served from the binary, so that they work on a county network without
//! the internet: the county portal, GraphiQL and the household's booklet. Each
//! is one HTML page and its files under `/<page>/<file>`, all under one
//! Content-Security-Policy.

pub mod booklet;
pub mod graphiql;
pub mod portal;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What a page may load: its own scripts, styles and requests only. GraphiQL's
/// dialogs insert `<style>` elements, hence `'unsafe-inline'` for styles; its
/// fonts are `data:` URLs.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
/// For files whose name carries their version: a new version is a new URL.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For our own files, which keep their name when they change.
const REVALIDATE: &str = "no-cache";

/// A file of a page.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    cache_control: &'static str,
    bytes: &'static [u8],
}

/// A page, under the pages' Content-Security-Policy.
fn page(html: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
        ],
        html,
    )
        .into_response()
}

/// The file `name` of a page's `assets`, or 404.
fn asset(assets: &[Asset], name: &str) -> Response {
    match assets.iter().find(|asset| asset.name == name) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, asset.cache_control),
            ],
            asset.bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
