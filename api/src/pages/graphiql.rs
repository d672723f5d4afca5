//! GraphiQL: the page at `GET /graphql` for a browser, and its vendored files
//! (`api/assets/graphiql`, each pinned in the page by its SHA-384).

use axum::extract::Path;
use axum::response::Response;

use super::{Asset, CSS, IMMUTABLE, JAVASCRIPT, REVALIDATE};

const PAGE: &str = include_str!("../../assets/graphiql/index.html");

const ASSETS: &[Asset] = &[
    Asset {
        name: "graphiql-3.9.0.min.js",
        content_type: JAVASCRIPT,
        cache_control: IMMUTABLE,
        bytes: include_bytes!("../../assets/graphiql/graphiql-3.9.0.min.js"),
    },
    Asset {
        name: "graphiql-3.9.0.min.css",
        content_type: CSS,
        cache_control: IMMUTABLE,
        bytes: include_bytes!("../../assets/graphiql/graphiql-3.9.0.min.css"),
    },
    Asset {
        name: "react-18.3.1.production.min.js",
        content_type: JAVASCRIPT,
        cache_control: IMMUTABLE,
        bytes: include_bytes!("../../assets/graphiql/react-18.3.1.production.min.js"),
    },
    Asset {
        name: "react-dom-18.3.1.production.min.js",
        content_type: JAVASCRIPT,
        cache_control: IMMUTABLE,
        bytes: include_bytes!("../../assets/graphiql/react-dom-18.3.1.production.min.js"),
    },
    Asset {
        name: "mount.js",
        content_type: JAVASCRIPT,
        cache_control: REVALIDATE,
        bytes: include_bytes!("../../assets/graphiql/mount.js"),
    },
    Asset {
        name: "page.css",
        content_type: CSS,
        cache_control: REVALIDATE,
        bytes: include_bytes!("../../assets/graphiql/page.css"),
    },
];

/// The GraphiQL page.
pub fn page() -> Response {
    super::page(PAGE)
}

/// `GET /graphiql/{file}`: a file of the page.
pub async fn asset(Path(file): Path<String>) -> Response {
    super::asset(ASSETS, &file)
}
