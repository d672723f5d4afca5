//! What an operator sees of the service: logs (human-readable lines, or JSON
//! with `FUPIN_LOG_FORMAT=json`; levels from `RUST_LOG`), the access log and
//! the metrics.

pub mod access;
pub mod metrics;

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("FUPIN_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
