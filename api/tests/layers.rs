//! Dependencies point down: the domain (`src/domain/`) holds the register's
//! rules and is called by GraphQL, the exchange and HTTP, never the other way
//! round. This reads the domain's sources and fails if one names a caller.

use std::path::{Path, PathBuf};

/// The layers that call the domain, which it may not name.
const CALLERS: [&str; 3] = ["graphql", "exchange", "http"];

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the domain folder is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The paths a source names: each `use` statement whole (however it is
/// grouped or wrapped) and every `a::b` path elsewhere, comments left out.
fn named_paths(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ");
    let mut paths = Vec::new();
    for statement in code.split(';') {
        if let Some(at) = statement.find("use ") {
            paths.push(statement[at..].to_owned());
        }
    }
    paths.extend(
        code.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .filter(|word| word.contains("::"))
            .map(str::to_owned),
    );
    paths
}

fn offends(path: &str) -> bool {
    let segments: Vec<&str> = path
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|s| !s.is_empty())
        .collect();
    let from_crate = segments.first().is_some_and(|s| *s == "use")
        && segments
            .get(1)
            .is_some_and(|s| matches!(*s, "crate" | "super"))
        || segments
            .first()
            .is_some_and(|s| matches!(*s, "crate" | "super"));
    segments.contains(&"async_graphql")
        || from_crate && segments.iter().any(|s| CALLERS.contains(s))
}

#[test]
fn the_guard_sees_every_way_of_naming_a_caller() {
    for path in [
        "use async_graphql::Context;",
        "use crate::graphql::household::Household;",
        "use crate::{error::ApiError,\n    exchange::record};",
        "let x = crate::http::client_source(&headers);",
        "use super::super::graphql;",
    ] {
        assert!(named_paths(path).iter().any(|p| offends(p)), "{path}");
    }
    for path in ["use crate::error::ApiError;", "use entity::household;"] {
        assert!(!named_paths(path).iter().any(|p| offends(p)), "{path}");
    }
}

#[test]
fn the_domain_does_not_reach_up_into_its_callers() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain");
    let mut files = Vec::new();
    sources(&dir, &mut files);
    assert!(files.len() >= 3, "the domain's sources were not found");
    let mut offences = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a source file is readable");
        // A file's own tests may drive it however they like.
        let code = text.split("#[cfg(test)]").next().unwrap_or(&text);
        for path in named_paths(code).into_iter().filter(|p| offends(p)) {
            offences.push(format!("{}: {}", file.display(), path.trim()));
        }
    }
    assert!(
        offences.is_empty(),
        "the domain names its callers:\n{}",
        offences.join("\n")
    );
}
