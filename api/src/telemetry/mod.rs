//! What an operator sees of the service: logs (human-readable lines, or JSON
//! with `FUPIN_LOG_FORMAT=json`; levels from `RUST_LOG`), the access log, the
//! metrics, and traces sent over OTLP when `FUPIN_OTLP_ENDPOINT` is set.

pub mod access;
pub mod metrics;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// What the logs show unless `RUST_LOG` says otherwise: the SQL statements'
/// spans go to traces, not into every log line.
const LOG_FILTER: &str = "info,sqlx=warn,sea_orm=warn";

/// The spans a trace carries: the request, the GraphQL root fields, and each
/// SQL statement (sea-orm's own spans, named as OpenTelemetry names them).
const TRACE_FILTER: &str = "info,sqlx=off";

/// Sends the traces still buffered when dropped, at the end of `main`.
pub struct Tracing(Option<SdkTracerProvider>);

impl Drop for Tracing {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take()
            && let Err(err) = provider.shutdown()
        {
            eprintln!("traces could not all be sent: {err}");
        }
    }
}

/// Sets up logging, and tracing to `otlp_endpoint` (the collector's base
/// URL, e.g. `http://collector:4318`) if one is given.
pub fn init(otlp_endpoint: Option<&str>) -> Result<Tracing, String> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(LOG_FILTER));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = if std::env::var("FUPIN_LOG_FORMAT").is_ok_and(|f| f == "json") {
        fmt.json().with_filter(filter).boxed()
    } else {
        fmt.with_filter(filter).boxed()
    };
    let provider = otlp_endpoint.map(tracer_provider).transpose()?;
    let traces = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("fupin"))
            .with_filter(EnvFilter::new(TRACE_FILTER))
    });
    tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .init();
    Ok(Tracing(provider))
}

fn tracer_provider(endpoint: &str) -> Result<SdkTracerProvider, String> {
    let endpoint = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = SpanExporter::builder()
        .with_http()
        .with_endpoint(&endpoint)
        .build()
        .map_err(|e| format!("FUPIN_OTLP_ENDPOINT {endpoint}: {e}"))?;
    let resource = Resource::builder().with_service_name("fupin").build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}
