//! Typed configuration: command-line flags with environment overrides, defaults
//! in code. Every limit that protects the server is here and configurable.

use std::net::IpAddr;
use std::time::Duration;

use chrono::TimeDelta;
use ipnet::IpNet;

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/fupin.db?mode=rwc";

/// Limits applied to every request, and what the server believes of where a
/// request comes from.
#[derive(Debug, Clone, clap::Args)]
pub struct Limits {
    /// Deepest nesting of selections a query may have.
    #[arg(long, env = "FUPIN_MAX_DEPTH", default_value_t = 15)]
    pub max_depth: usize,
    /// Highest cost a query may have: each field costs 1, a list its page size
    /// times its selection, an aggregate the rows it reads (see `graphql::cost`).
    #[arg(long, env = "FUPIN_MAX_COMPLEXITY", default_value_t = 20_000)]
    pub max_complexity: usize,
    /// Most lexical tokens one document may contain, counted before it is parsed.
    #[arg(long, env = "FUPIN_MAX_TOKENS", default_value_t = 2_000)]
    pub max_tokens: usize,
    /// Most directives one document may contain.
    #[arg(long, env = "FUPIN_MAX_DIRECTIVES", default_value_t = 50)]
    pub max_directives: usize,
    /// Most selections (fields, spreads, inline fragments) one document may
    /// have once every fragment spread is expanded, summed over its
    /// operations and fragments: what validation walks.
    #[arg(long, env = "FUPIN_MAX_SELECTIONS", default_value_t = 5_000)]
    pub max_selections: usize,
    /// Most root fields of one query resolved at the same time, so that one
    /// request holds at most a share of the database pool.
    #[arg(long, env = "FUPIN_MAX_PARALLEL_FIELDS", default_value_t = 4)]
    pub max_parallel_fields: usize,
    /// Most GraphQL requests this replica works on at once; the others wait
    /// their turn, so that a crowd of clients does not hold all its pages
    /// in memory together.
    #[arg(long, env = "FUPIN_MAX_CONCURRENT_REQUESTS", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_requests: u32,
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
    /// Budgets per role that replace the defaults: `role=REQUESTS/COST` per
    /// minute, comma-separated; `public` is every caller without a token.
    #[arg(long, env = "FUPIN_BUDGETS", default_value = "")]
    pub budgets: String,
    /// Replicas serving behind the load balancer: each allows a client this
    /// share of its budget.
    #[arg(long, env = "FUPIN_REPLICAS", default_value_t = 1)]
    pub replicas: u32,
    /// Reverse proxies in front of the service, as IP addresses or CIDR ranges
    /// separated by commas: only their `X-Forwarded-For` is believed.
    #[arg(long, env = "FUPIN_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network)]
    pub trusted_proxies: Vec<IpNet>,
    /// Origins (`https://portal.example.gov.cn`) whose pages may call the API
    /// from a browser (CORS), separated by commas; none by default, so only
    /// pages the service serves itself may.
    #[arg(long, env = "FUPIN_CORS_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_origins: Vec<String>,
    /// Let callers without a token introspect the schema (`__schema`, `__type`)
    /// and get "Did you mean ...?" suggestions; signed-in callers always may.
    #[arg(long, env = "FUPIN_PUBLIC_INTROSPECTION")]
    pub public_introspection: bool,
    /// Answers per account and hour that a person is already registered in a
    /// household the caller may not be told of; the answer that reaches it
    /// locks the account and alerts the county office.
    #[arg(long, env = "FUPIN_REGISTER_PROBES_PER_HOUR", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub register_probes_per_hour: u32,
    #[command(flatten)]
    pub logins: LoginLimits,
    #[command(flatten)]
    pub import: ImportPace,
}

/// How an import writes a file (the import endpoint's and `fupin import`'s).
#[derive(Debug, Clone, clap::Args)]
pub struct ImportPace {
    /// Households read and written per transaction.
    #[arg(long, env = "FUPIN_IMPORT_BATCH", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub import_batch: u32,
    /// Batches written at once on PostgreSQL, each in its own transaction on
    /// its own connection (SQLite writes one at a time).
    #[arg(long, env = "FUPIN_IMPORT_WRITERS", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..=8))]
    pub import_writers: u32,
}

/// An IP address (a network of one) or a CIDR range.
fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{text}` is neither an IP address nor a CIDR range"))
}

/// An origin as a browser sends it: `http` or `https`, a host and perhaps a
/// port, nothing else (no path, no trailing slash, no wildcard).
fn parse_origin(text: &str) -> Result<String, String> {
    // Browsers send the scheme and host in lower case.
    let text = text.trim().to_ascii_lowercase();
    let text = text.as_str();
    let refuse = || {
        format!(
            "`{text}` is not an origin such as `https://portal.example.gov.cn` or `http://10.0.0.5:8080`"
        )
    };
    let (scheme, rest) = text.split_once("://").ok_or_else(refuse)?;
    // An IPv6 host is bracketed: `[::1]:8080`.
    let (host, port) = match rest.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed.split_once(']').ok_or_else(refuse)?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or_else(refuse)?),
            };
            (host, port)
        }
        None => match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        },
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    if !matches!(scheme, "http" | "https") || !host_ok || !port_ok {
        return Err(refuse());
    }
    Ok(text.to_owned())
}

/// How failed logins are throttled: per account and source together, so that
/// a stranger's failures never lock the account's owner out of a source they
/// use; and per account from unknown sources, against attacks from many.
#[derive(Debug, Clone, clap::Args)]
pub struct LoginLimits {
    /// Failed logins of one account from one source, within the window, after
    /// which that source is refused for that account.
    #[arg(long, env = "FUPIN_LOGIN_LOCK_AFTER", default_value_t = 5)]
    pub login_lock_after: u64,
    /// Failed logins of one account from unknown sources, within the window,
    /// after which every unknown source is refused for that account.
    #[arg(long, env = "FUPIN_LOGIN_ATTACK_AFTER", default_value_t = 20)]
    pub login_attack_after: u64,
    /// How long failures count, in seconds: a lock lifts at the latest when
    /// the failures that caused it are this old.
    #[arg(long, env = "FUPIN_LOGIN_WINDOW_SECS", default_value_t = 15 * 60)]
    pub login_window_secs: u64,
    /// For how many days after a successful login its source stays known.
    #[arg(long, env = "FUPIN_LOGIN_KNOWN_DAYS", default_value_t = 90)]
    pub login_known_days: u64,
    /// Wait before a failed login answers, per failure of the account from
    /// that source within the window, in milliseconds.
    #[arg(long, env = "FUPIN_LOGIN_DELAY_MS", default_value_t = 250)]
    pub login_delay_ms: u64,
    /// Longest wait before a failed login answers, in milliseconds.
    #[arg(long, env = "FUPIN_LOGIN_MAX_DELAY_MS", default_value_t = 2_000)]
    pub login_max_delay_ms: u64,
}

impl LoginLimits {
    pub fn window(&self) -> TimeDelta {
        i64::try_from(self.login_window_secs)
            .ok()
            .and_then(TimeDelta::try_seconds)
            .unwrap_or(TimeDelta::MAX)
    }

    pub fn known_for(&self) -> TimeDelta {
        i64::try_from(self.login_known_days)
            .ok()
            .and_then(TimeDelta::try_days)
            .unwrap_or(TimeDelta::MAX)
    }

    /// The wait before answering the `failures`-th failure of a pair.
    pub fn delay(&self, failures: u64) -> Duration {
        Duration::from_millis(
            self.login_delay_ms
                .saturating_mul(failures)
                .min(self.login_max_delay_ms),
        )
    }
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

/// The work every replica does beside answering requests: delivering webhook
/// events, folding the village tally, logging the audit chain head, reading
/// the trail for live alerts and announcing overdue measures.
#[derive(Debug, Clone, clap::Args)]
pub struct Background {
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
    /// How long a receiver has to answer, in milliseconds. A replica holds
    /// a webhook for this and five seconds more from each attempt on: a
    /// replica that stops is taken over after that long.
    #[arg(long, env = "FUPIN_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000)]
    pub webhook_timeout_ms: u64,
    /// How often each replica folds the village tally's pending changes, in milliseconds.
    #[arg(long, env = "FUPIN_TALLY_COMPACT_MS", default_value_t = 10_000)]
    pub tally_compact_ms: u64,
    /// How often each replica logs the audit chain head (and once at start),
    /// in milliseconds.
    #[arg(long, env = "FUPIN_AUDIT_HEAD_LOG_MS", default_value_t = 600_000,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub audit_head_log_ms: u64,
    /// How often each replica reads the audit trail for live alerts
    /// (subscriptions), in milliseconds.
    #[arg(long, env = "FUPIN_ALERT_POLL_MS", default_value_t = 1_000,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub alert_poll_ms: u64,
    /// How often each replica looks for measures newly past their time node,
    /// to announce them, in milliseconds.
    #[arg(long, env = "FUPIN_OVERDUE_SWEEP_MS", default_value_t = 60_000,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub overdue_sweep_ms: u64,
}

impl Background {
    pub fn compact_every(&self) -> Duration {
        Duration::from_millis(self.tally_compact_ms)
    }

    pub fn audit_head_every(&self) -> Duration {
        Duration::from_millis(self.audit_head_log_ms)
    }

    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.webhook_poll_ms)
    }

    pub fn alert_poll(&self) -> Duration {
        Duration::from_millis(self.alert_poll_ms)
    }

    pub fn overdue_sweep(&self) -> Duration {
        Duration::from_millis(self.overdue_sweep_ms)
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

/// What operators reach besides the API: the metrics, and how a server stops.
#[derive(Debug, Clone, clap::Args)]
pub struct Operations {
    /// Address of a second listener that serves only `/metrics`, without a
    /// token, for Prometheus on a private network (e.g. `10.0.0.5:9464`).
    #[arg(long, env = "FUPIN_METRICS_BIND")]
    pub metrics_bind: Option<String>,
    /// A bearer token that opens `/metrics` on the service's own address, at
    /// least 16 characters; without one, `/metrics` there answers 404.
    #[arg(long, env = "FUPIN_METRICS_TOKEN", value_parser = parse_metrics_token)]
    pub metrics_token: Option<String>,
    /// After a stop signal, how long `/readyz` answers 503 while requests are
    /// still served, so that the load balancer stops sending, in milliseconds.
    #[arg(long, env = "FUPIN_SHUTDOWN_NOTICE_MS", default_value_t = 1_000)]
    pub shutdown_notice_ms: u64,
    /// Then how long requests in flight have to finish, in milliseconds: the
    /// ones still running are cancelled, their transactions rolled back.
    #[arg(long, env = "FUPIN_SHUTDOWN_GRACE_MS", default_value_t = 30_000)]
    pub shutdown_grace_ms: u64,
    /// PostgreSQL read replicas (streaming standbys of the primary), as URLs
    /// separated by commas: queries are read from them.
    #[arg(
        long,
        env = "FUPIN_READ_DATABASE_URL",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub read_database_urls: Vec<String>,
    /// Most a read replica may be behind the primary to be read from, in
    /// milliseconds; it is checked four times as often.
    #[arg(long, env = "FUPIN_READ_MAX_LAG_MS", default_value_t = 2_000,
          value_parser = clap::value_parser!(u64).range(100..))]
    pub read_max_lag_ms: u64,
}

impl Operations {
    pub fn shutdown_notice(&self) -> Duration {
        Duration::from_millis(self.shutdown_notice_ms)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }

    pub fn read_max_lag(&self) -> Duration {
        Duration::from_millis(self.read_max_lag_ms)
    }
}

impl Default for Operations {
    /// The flag defaults, with any `FUPIN_*` environment overrides applied.
    fn default() -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct Defaults {
            #[command(flatten)]
            operations: Operations,
        }
        Defaults::parse_from(["fupin"]).operations
    }
}

fn parse_metrics_token(text: &str) -> Result<String, String> {
    if text.chars().count() < 16 {
        return Err("the metrics token must be at least 16 characters".into());
    }
    Ok(text.to_owned())
}

impl Default for Background {
    /// The flag defaults, with any `FUPIN_*` environment overrides applied.
    fn default() -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct Defaults {
            #[command(flatten)]
            background: Background,
        }
        Defaults::parse_from(["fupin"]).background
    }
}

#[cfg(test)]
mod tests {
    use super::parse_origin;

    #[test]
    fn an_origin_is_a_scheme_a_host_and_perhaps_a_port() {
        for origin in [
            "https://portal.example.gov.cn",
            "http://10.0.0.5:8080",
            "http://[::1]:8080",
            "HTTPS://Portal.Example.gov.cn",
        ] {
            assert!(parse_origin(origin).is_ok(), "{origin}");
        }
        assert_eq!(
            parse_origin("HTTPS://Portal.Example.gov.cn").as_deref(),
            Ok("https://portal.example.gov.cn")
        );
        // A path, a trailing slash, a wildcard or another scheme would never
        // equal what a browser sends, or would let in more than one site.
        for origin in [
            "https://portal.example.gov.cn/",
            "https://portal.example.gov.cn/app",
            "*",
            "https://*.example.gov.cn",
            "portal.example.gov.cn",
            "ftp://portal.example.gov.cn",
            "http://host:0",
            "http://host:99999",
            "http://[::1",
            "null",
        ] {
            assert!(parse_origin(origin).is_err(), "{origin}");
        }
    }
}
