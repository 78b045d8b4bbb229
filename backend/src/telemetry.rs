//! Logging set-up and the Prometheus metrics every part records into.
use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::{fmt, EnvFilter};

/// sqlx logs every statement at INFO; keep it quiet unless asked.
///
/// Logs go to stderr so that standard output carries only what a command
/// prints (`ID=$(lianxin user add ...)`), and colour codes only reach a
/// terminal, not the journal or a log file.
pub fn init_logging() {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let _ = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Renders the process-wide registry. The recorder is global (one per
/// process), so several apps in one test process share their counters.
#[derive(Clone, Debug)]
pub struct Metrics {
    handle: Option<PrometheusHandle>,
}

impl Metrics {
    pub fn install() -> Metrics {
        let handle = HANDLE
            .get_or_init(|| {
                let builder = PrometheusBuilder::new()
                    .set_buckets(&[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                        10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
                    ])
                    .ok()?;
                let recorder = builder.build_recorder();
                let handle = recorder.handle();
                metrics::set_global_recorder(recorder).ok()?;
                Some(handle)
            })
            .clone();
        Metrics { handle }
    }

    pub fn render(&self) -> String {
        self.handle.as_ref().map(|h| h.render()).unwrap_or_default()
    }
}
