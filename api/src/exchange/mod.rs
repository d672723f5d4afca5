//! Exchange with provincial systems (省级数据交换): whole registers moved in
//! bulk (`export`, `import`, over HTTP in `http` and from the command line),
//! and the change feed and webhooks, through which a system holding its own
//! copy of the register keeps in step.

pub mod command;
pub mod csv;
pub mod delivery;
pub mod divisions;
pub mod export;
pub mod feed;
pub mod http;
pub mod import;
pub mod webhook;

pub use feed::ExchangeQuery;
pub use webhook::{WebhookMutation, WebhookQuery};

/// The file formats of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One household record as JSON per line.
    Ndjson,
    /// The record flattened into rows (see `csv`).
    Csv,
}

impl Format {
    /// The format a name or a media type stands for.
    pub fn named(name: &str) -> Option<Format> {
        match name.trim().to_ascii_lowercase().as_str() {
            "ndjson" | "jsonl" | "application/x-ndjson" | "application/jsonl" => {
                Some(Format::Ndjson)
            }
            "csv" | "text/csv" => Some(Format::Csv),
            _ => None,
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Format::Ndjson => "application/x-ndjson",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
        }
    }
}
