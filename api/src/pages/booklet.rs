//! The household's booklet (扶贫手册) to print: `GET /booklet#household=<ID>`
//! draws `Household.booklet` in Chinese on A4 (`api/assets/booklet`). The page
//! carries no data; its script asks `/graphql` with the reader's token, so
//! the page shows exactly what the field policy lets that reader see.

use axum::extract::Path;
use axum::response::Response;

use super::{Asset, CSS, JAVASCRIPT, REVALIDATE};

const PAGE: &str = include_str!("../../assets/booklet/index.html");

const ASSETS: &[Asset] = &[
    Asset {
        name: "booklet.js",
        content_type: JAVASCRIPT,
        cache_control: REVALIDATE,
        bytes: include_bytes!("../../assets/booklet/booklet.js"),
    },
    Asset {
        name: "booklet.css",
        content_type: CSS,
        cache_control: REVALIDATE,
        bytes: include_bytes!("../../assets/booklet/booklet.css"),
    },
];

/// `GET /booklet`: the page.
pub async fn page() -> Response {
    super::page(PAGE)
}

/// `GET /booklet/{file}`: a file of the page.
pub async fn asset(Path(file): Path<String>) -> Response {
    super::asset(ASSETS, &file)
}
