//! The county portal (`GET /`, `api/assets/portal`): one page of our own,
//! plain JavaScript modules, CSS and SVG charts drawn by its own code, with
//! a view per address fragment (`#/statistics`, `#/projects/<id>`, …). The
//! page carries no data: its scripts ask `/graphql` as any client does,
//! without a token for the public views and with the reader's own once
//! signed in, so each reader sees what the API lets them see.

use axum::extract::Path;
use axum::response::Response;

use super::{Asset, CSS, JAVASCRIPT, REVALIDATE};

const PAGE: &str = include_str!("../../assets/portal/index.html");

/// A JavaScript module of the portal, served as written.
const fn module(name: &'static str, bytes: &'static [u8]) -> Asset {
    Asset {
        name,
        content_type: JAVASCRIPT,
        cache_control: REVALIDATE,
        bytes,
    }
}

const ASSETS: &[Asset] = &[
    module("app.js", include_bytes!("../../assets/portal/app.js")),
    module("api.js", include_bytes!("../../assets/portal/api.js")),
    module("dom.js", include_bytes!("../../assets/portal/dom.js")),
    module("labels.js", include_bytes!("../../assets/portal/labels.js")),
    module("charts.js", include_bytes!("../../assets/portal/charts.js")),
    module("public.js", include_bytes!("../../assets/portal/public.js")),
    module("work.js", include_bytes!("../../assets/portal/work.js")),
    module("live.js", include_bytes!("../../assets/portal/live.js")),
    Asset {
        name: "portal.css",
        content_type: CSS,
        cache_control: REVALIDATE,
        bytes: include_bytes!("../../assets/portal/portal.css"),
    },
];

/// `GET /`: the page.
pub async fn page() -> Response {
    super::page(PAGE)
}

/// `GET /portal/{file}`: a file of the page.
pub async fn asset(Path(file): Path<String>) -> Response {
    super::asset(ASSETS, &file)
}
