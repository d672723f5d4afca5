//! Typed configuration: command-line flags with environment overrides, defaults
//! in code. Every limit that protects the server is here and configurable.

use std::time::Duration;

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/fupin.db?mode=rwc";

/// Limits applied to every GraphQL request.
#[derive(Debug, Clone, clap::Args)]
pub struct Limits {
    /// Deepest nesting of selections a query may have.
    #[arg(long, env = "FUPIN_MAX_DEPTH", default_value_t = 15)]
    pub max_depth: usize,
    /// Highest complexity score a query may have (lists count once per requested item).
    #[arg(long, env = "FUPIN_MAX_COMPLEXITY", default_value_t = 20_000)]
    pub max_complexity: usize,
    /// Most aliased fields one document may contain.
    #[arg(long, env = "FUPIN_MAX_ALIASES", default_value_t = 30)]
    pub max_aliases: usize,
    /// Largest `first`/`last` a connection accepts.
    #[arg(long, env = "FUPIN_MAX_PAGE_SIZE", default_value_t = 100)]
    pub max_page_size: usize,
    /// Largest query document, in bytes.
    #[arg(long, env = "FUPIN_MAX_DOCUMENT_BYTES", default_value_t = 32 * 1024)]
    pub max_document_bytes: usize,
    /// Largest HTTP request body, in bytes.
    #[arg(long, env = "FUPIN_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Longest a request may run before it is abandoned, in milliseconds.
    #[arg(long, env = "FUPIN_REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,
    /// How long a DataLoader gathers keys before it queries, in milliseconds: the
    /// window in which the rows of one page are fetched together.
    #[arg(long, env = "FUPIN_LOADER_DELAY_MS", default_value_t = 2)]
    pub loader_delay_ms: u64,
    /// Most operations one batched (JSON array) request may carry; 0 turns batching off.
    #[arg(long, env = "FUPIN_MAX_BATCH", default_value_t = 0)]
    pub max_batch: usize,
    /// Let callers without a token introspect the schema (`__schema`, `__type`)
    /// and get "Did you mean ...?" suggestions; signed-in callers always may.
    #[arg(long, env = "FUPIN_PUBLIC_INTROSPECTION")]
    pub public_introspection: bool,
}

impl Limits {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub fn loader_delay(&self) -> Duration {
        Duration::from_millis(self.loader_delay_ms)
    }
}

impl Default for Limits {
    /// The flag defaults, with any `FUPIN_*` environment overrides applied.
    fn default() -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct Defaults {
            #[command(flatten)]
            limits: Limits,
        }
        Defaults::parse_from(["fupin"]).limits
    }
}

/// How webhook events are delivered.
#[derive(Debug, Clone, clap::Args)]
pub struct Delivery {
    /// How often each replica looks for events to deliver, in milliseconds.
    #[arg(long, env = "FUPIN_WEBHOOK_POLL_MS", default_value_t = 1_000)]
    pub webhook_poll_ms: u64,
    /// Wait before the first retry of a failed delivery, in milliseconds;
    /// doubled with each further failure.
    #[arg(long, env = "FUPIN_WEBHOOK_RETRY_MS", default_value_t = 5_000)]
    pub webhook_retry_ms: u64,
    /// Longest wait between retries, in milliseconds.
    #[arg(long, env = "FUPIN_WEBHOOK_MAX_RETRY_MS", default_value_t = 3_600_000)]
    pub webhook_max_retry_ms: u64,
    /// How long a receiver has to answer, in milliseconds.
    #[arg(long, env = "FUPIN_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000)]
    pub webhook_timeout_ms: u64,
}

impl Delivery {
    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.webhook_poll_ms)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.webhook_timeout_ms)
    }

    /// The wait before the next attempt after `failures` failed ones.
    pub fn backoff(&self, failures: i32) -> Duration {
        let doublings = u32::try_from(failures.saturating_sub(1))
            .unwrap_or(0)
            .min(30);
        let wait = self.webhook_retry_ms.saturating_mul(1 << doublings);
        Duration::from_millis(wait.min(self.webhook_max_retry_ms))
    }
}

impl Default for Delivery {
    /// The flag defaults, with any `FUPIN_*` environment overrides applied.
    fn default() -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct Defaults {
            #[command(flatten)]
            delivery: Delivery,
        }
        Defaults::parse_from(["fupin"]).delivery
    }
}
