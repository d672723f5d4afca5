//! GraphiQL served from the binary: every file the page loads is pinned by its
//! SHA-384, the vendored files match their pins, and the page really renders in
//! a headless Chromium under its Content-Security-Policy.

use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha384};
use tests::{Backend, TestApp, on_both_backends};

use super::browser::rendered_dom;

on_both_backends!(
    every_file_of_the_page_is_pinned_by_its_hash,
    graphiql_files_are_served_with_their_type_and_may_be_cached,
    an_unknown_graphiql_file_is_not_found,
    graphiql_renders_in_a_browser_without_the_internet,
);

/// Where the vendored files live.
fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/assets/graphiql")
}

fn integrity(bytes: &[u8]) -> String {
    let digest = Sha384::digest(bytes);
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The value of `name="..."` in an HTML tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    tag[start..].split('"').next()
}

/// The `<script>` and `<link>` tags of a page.
fn loading_tags(page: &str) -> Vec<&str> {
    page.split('<')
        .filter(|tag| tag.starts_with("script") || tag.starts_with("link"))
        .map(|tag| tag.split('>').next().unwrap_or_default())
        .collect()
}

async fn every_file_of_the_page_is_pinned_by_its_hash(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let page = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    let readme = std::fs::read_to_string(assets().join("README.md")).expect("the assets' README");
    let tags = loading_tags(&page);
    assert_eq!(tags.len(), 6, "the page loads six files: {tags:?}");
    for tag in tags {
        let url = attribute(tag, "src")
            .or_else(|| attribute(tag, "href"))
            .unwrap_or_else(|| panic!("nothing to load in <{tag}>"));
        let pinned =
            attribute(tag, "integrity").unwrap_or_else(|| panic!("<{tag}> has no integrity"));
        let name = url
            .strip_prefix("/graphiql/")
            .unwrap_or_else(|| panic!("{url} is not served from /graphiql/"));
        let vendored = std::fs::read(assets().join(name)).expect("the vendored file");
        assert_eq!(
            integrity(&vendored),
            pinned,
            "{name} changed without its hash in index.html"
        );
        let served = app
            .client
            .get(app.url(url))
            .send()
            .await
            .expect("request")
            .bytes()
            .await
            .expect("body");
        assert_eq!(integrity(&served), pinned, "{url} is served as vendored");
        assert!(
            readme
                .lines()
                .any(|line| line.contains(&format!("`{name}`")) && line.contains(pinned)),
            "the assets' README lists {name} without its hash {pinned}"
        );
    }
}

async fn graphiql_files_are_served_with_their_type_and_may_be_cached(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    for (name, content_type, cache_control) in [
        (
            "graphiql-3.9.0.min.js",
            "text/javascript; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        (
            "graphiql-3.9.0.min.css",
            "text/css; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        (
            "react-18.3.1.production.min.js",
            "text/javascript; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        (
            "react-dom-18.3.1.production.min.js",
            "text/javascript; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        ("mount.js", "text/javascript; charset=utf-8", "no-cache"),
        ("page.css", "text/css; charset=utf-8", "no-cache"),
    ] {
        let response = app
            .client
            .get(app.url(&format!("/graphiql/{name}")))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "{name}");
        assert_eq!(response.headers()["content-type"], content_type, "{name}");
        assert_eq!(response.headers()["cache-control"], cache_control, "{name}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    }
}

async fn an_unknown_graphiql_file_is_not_found(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    for path in [
        "/graphiql/nothing.js",
        "/graphiql/..%2FCargo.toml",
        "/graphiql/",
    ] {
        let response = app.client.get(app.url(path)).send().await.expect("request");
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store");
    }
}

async fn graphiql_renders_in_a_browser_without_the_internet(backend: Backend) {
    let app = TestApp::spawn(&backend).await;
    let url = app.url("/graphql");
    let dom = tokio::task::spawn_blocking(move || rendered_dom(&url))
        .await
        .expect("chromium run");
    // Class names React gives the page only once GraphiQL has mounted, and
    // CodeMirror's editor, which needs GraphiQL's script to have run.
    for mounted in [
        "graphiql-container",
        "graphiql-editors",
        "graphiql-execute-button",
        "CodeMirror",
    ] {
        assert!(
            dom.contains(mounted),
            "GraphiQL did not render ({mounted} is missing): {dom}"
        );
    }
    assert!(!dom.contains("Loading GraphiQL"), "GraphiQL never mounted");
    // It asked this server for the schema, and without a token was refused.
    assert!(
        dom.contains("INTROSPECTION_DISABLED"),
        "GraphiQL did not reach /graphql: {dom}"
    );
}
