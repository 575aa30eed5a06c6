//! Log output: human-readable lines by default, one JSON object per line with LOG_FORMAT=json.
//! Logs go to stderr so command output on stdout stays clean for scripts.
//!
//! The long-running commands (serve, api, collector) also store events at LOG_STORE_LEVEL
//! and above in the database for the admin logs page. The subscriber is installed before
//! the database is open: events queue up until [`StoredLogs::start`] hands over the store.

use crate::settings::{LogFormat, Settings};
use spotify_history_store::Store;
use spotify_history_web::{LogSink, LogWriter};
use std::io::IsTerminal;
use std::sync::OnceLock;
use tokio::task::JoinHandle;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Where the stored-logs layer queues its events, once installed.
static LOG_SINK: OnceLock<LogSink> = OnceLock::new();

/// Installs the subscriber; `store_logs` adds the layer that feeds the `logs` table.
pub fn init(settings: &Settings, store_logs: bool) {
    let filter = EnvFilter::try_from_env("RUST_LOG")
        .or_else(|_| EnvFilter::try_new(&settings.log_level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let output = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let output = match settings.log_format {
        LogFormat::Json => output.json().flatten_event(true).boxed(),
        LogFormat::Text => output.boxed(),
    };
    // Each output has its own filter: LOG_LEVEL=warn keeps stderr quiet while the admin
    // logs page still gets INFO events, and the reverse.
    let stored = store_logs.then(|| {
        let floor = settings.log_store_floor().unwrap_or(tracing::Level::INFO);
        let (layer, sink) =
            spotify_history_web::log_capture(floor, spotify_history_web::DEFAULT_QUEUE_CAPACITY);
        let _ = LOG_SINK.set(sink);
        layer.with_filter(LevelFilter::from_level(floor))
    });
    tracing_subscriber::registry()
        .with(output.with_filter(filter))
        .with(stored)
        .init();
}

/// The stored logs' background work in a long-running command: the writer and the daily
/// LOG_RETENTION_DAYS purge.
#[derive(Debug)]
pub struct StoredLogs {
    writer: Option<LogWriter>,
    retention: Option<JoinHandle<()>>,
}

impl StoredLogs {
    /// Starts writing queued and new events into `store`, and the retention purge.
    pub fn start(settings: &Settings, store: &Store) -> StoredLogs {
        StoredLogs {
            writer: LOG_SINK.get().and_then(|sink| sink.attach(store.clone())),
            retention: spotify_history_web::spawn_log_retention(
                store.clone(),
                settings.log_retention_days,
            ),
        }
    }

    /// Stops the purge and stores the events still queued; call before closing the store.
    pub async fn stop(self) {
        if let Some(retention) = self.retention {
            retention.abort();
        }
        if let Some(writer) = self.writer {
            writer.finish().await;
        }
    }
}
