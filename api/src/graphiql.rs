//! GraphiQL served from the binary, so that it works on a county network without
//! the internet: the page, its vendored assets (`api/assets/graphiql`, each
//! pinned in the page by its SHA-384) and the page's Content-Security-Policy.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What the page may load: its own scripts, styles and requests only. GraphiQL's
/// dialogs insert `<style>` elements, hence `'unsafe-inline'` for styles; its
/// fonts are `data:` URLs.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const PAGE: &str = include_str!("../assets/graphiql/index.html");

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
/// For files whose name carries their version: a new version is a new URL.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For our own files, which keep their name when they change.
const REVALIDATE: &str = "no-cache";

/// A file under `/graphiql/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    cache_control: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "graphiql-3.9.0.min.js",
        content_type: JAVASCRIPT,
        cache_control: IMMUTABLE,
        bytes: include_bytes!("../assets/graphiql/graphiql-3.9.0.min.js"),
    },
    Asset {
        name: "graphiql-3.9.0.min.css",
        content_type: CSS,
        cache_control: IMMUTABLE,
        bytes: include_bytes!("../assets/graphiql/graphiql-3.9.0.min.css"),
    },
    Asset {
        name: "react-18.3.1.production.min.js",
        content_type: JAVASCRIPT,
        cache_control: IMMUTABLE,
        bytes: include_bytes!("../assets/graphiql/react-18.3.1.production.min.js"),
    },
    Asset {
        name: "react-dom-18.3.1.production.min.js",
        content_type: JAVASCRIPT,
        cache_control: IMMUTABLE,
        bytes: include_bytes!("../assets/graphiql/react-dom-18.3.1.production.min.js"),
    },
    Asset {
        name: "mount.js",
        content_type: JAVASCRIPT,
        cache_control: REVALIDATE,
        bytes: include_bytes!("../assets/graphiql/mount.js"),
    },
    Asset {
        name: "page.css",
        content_type: CSS,
        cache_control: REVALIDATE,
        bytes: include_bytes!("../assets/graphiql/page.css"),
    },
];

/// The GraphiQL page, under its own Content-Security-Policy.
pub fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
        ],
        PAGE,
    )
        .into_response()
}

/// `GET /graphiql/{file}`: a file of the page.
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|asset| asset.name == file) {
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
