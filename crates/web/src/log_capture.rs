//! Structured logs into the `logs` table: a `tracing` layer that copies events (INFO and
//! above by default) with their fields, and their spans' fields, onto a bounded queue; a
//! writer task that stores them in batches off the request path; and the daily retention
//! purge (LOG_RETENTION_DAYS).
//!
//! The subscriber is installed before the database is open, so the layer and the writer
//! meet through a [`LogSink`]: events queue up until [`LogSink::attach`] starts the writer
//! with a store. A full queue drops the event and counts it; logging never waits.

use spotify_history_core::{UserId, metrics};
use spotify_history_store::{LogLevel, NewLogEntry, Store};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Events queued for the writer before new ones are dropped.
pub const DEFAULT_QUEUE_CAPACITY: usize = 4_096;
/// Most events the writer stores in one transaction.
const BATCH_SIZE: usize = 256;
/// Target of the writer's own events, which the layer never stores.
const OWN_TARGET: &str = module_path!();

tokio::task_local! {
    /// Set while the writer stores a batch: whatever that logs (the store, sqlx) is not
    /// stored again, or a failing insert would feed itself.
    static WRITING: ();
}

/// Creates the layer and the sink its events go to; events below `floor` are not stored.
pub fn log_capture(floor: Level, capacity: usize) -> (StoredLogsLayer, LogSink) {
    let (sender, receiver) = mpsc::channel(capacity.max(1));
    let dropped = Arc::new(AtomicU64::new(0));
    let layer = StoredLogsLayer {
        sender,
        floor,
        dropped: dropped.clone(),
    };
    let sink = LogSink {
        receiver: Arc::new(Mutex::new(Some(receiver))),
        dropped,
    };
    (layer, sink)
}

/// The `tracing` layer: turns events into [`NewLogEntry`]s and queues them without waiting.
pub struct StoredLogsLayer {
    sender: mpsc::Sender<NewLogEntry>,
    floor: Level,
    dropped: Arc<AtomicU64>,
}

impl fmt::Debug for StoredLogsLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredLogsLayer")
            .field("floor", &self.floor)
            .finish()
    }
}

impl StoredLogsLayer {
    /// Whether events of `metadata` are stored: at or above the floor, and not the
    /// database driver's or the writer's own (they would describe storing logs).
    fn stores(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.floor && !excluded_target(metadata.target())
    }
}

fn excluded_target(target: &str) -> bool {
    target.starts_with("sqlx") || target.starts_with(OWN_TARGET)
}

/// Fields recorded on a span, kept in its extensions for the events inside it.
struct SpanFields(serde_json::Map<String, serde_json::Value>);

impl<S> Layer<S> for StoredLogsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if excluded_target(attrs.metadata().target()) {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut visitor = FieldVisitor::default();
        attrs.record(&mut visitor);
        span.extensions_mut().insert(SpanFields(visitor.fields));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(SpanFields(fields)) = extensions.get_mut::<SpanFields>() {
            let mut visitor = FieldVisitor::default();
            values.record(&mut visitor);
            fields.extend(visitor.fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        if !self.stores(metadata) || WRITING.try_with(|_| ()).is_ok() {
            return;
        }
        // Outer spans first, so the event's own fields and inner spans' win.
        let mut fields = serde_json::Map::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(span_fields)) = span.extensions().get::<SpanFields>() {
                    fields.extend(span_fields.clone());
                }
            }
        }
        let mut visitor = FieldVisitor::default();
        event.record(&mut visitor);
        fields.extend(visitor.fields);
        let message = match fields.remove("message") {
            Some(serde_json::Value::String(text)) => text,
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let user_id = user_of(&mut fields);
        let entry = NewLogEntry {
            ts: jiff::Timestamp::now().as_millisecond(),
            level: level_of(metadata.level()),
            target: metadata.target().to_owned(),
            message,
            fields: (!fields.is_empty()).then_some(serde_json::Value::Object(fields)),
            user_id,
        };
        if self.sender.try_send(entry).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            metrics::inc(&metrics::LOGS_DROPPED, &[]);
        }
    }
}

/// The user an event is about: its `user_id` field, or a numeric `user` field (the
/// collector's spelling). The column holds it; the fields keep the rest.
fn user_of(fields: &mut serde_json::Map<String, serde_json::Value>) -> Option<UserId> {
    let as_id = |value: &serde_json::Value| match value {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    };
    if let Some(id) = fields.get("user_id").and_then(as_id) {
        fields.remove("user_id");
        return Some(UserId(id));
    }
    fields.get("user").and_then(as_id).map(UserId)
}

fn level_of(level: &Level) -> LogLevel {
    match *level {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warn,
        Level::INFO => LogLevel::Info,
        Level::DEBUG => LogLevel::Debug,
        Level::TRACE => LogLevel::Trace,
    }
}

/// Field values as JSON: numbers and booleans stay typed, the rest is text.
#[derive(Default)]
struct FieldVisitor {
    fields: serde_json::Map<String, serde_json::Value>,
}

impl Visit for FieldVisitor {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.insert(field.name().into(), value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.fields.insert(field.name().into(), value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.fields
            .insert(field.name().into(), value.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.fields
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

/// Where the layer's events wait for a store; cheap to clone.
#[derive(Clone)]
pub struct LogSink {
    receiver: Arc<Mutex<Option<mpsc::Receiver<NewLogEntry>>>>,
    dropped: Arc<AtomicU64>,
}

impl fmt::Debug for LogSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogSink")
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl LogSink {
    /// Events dropped so far because the queue was full or a batch could not be stored.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Starts the writer on the current runtime, storing into `store` (queued events
    /// first). `None` if a writer was already started: there is one per sink.
    pub fn attach(&self, store: Store) -> Option<LogWriter> {
        let receiver = self
            .receiver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(write_batches(
            store,
            receiver,
            stopped,
            self.dropped.clone(),
        ));
        Some(LogWriter { stop, task })
    }
}

/// The running writer; [`LogWriter::finish`] stores what is queued and stops it.
#[derive(Debug)]
pub struct LogWriter {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl LogWriter {
    /// Stores the events queued so far and stops; call before closing the store.
    pub async fn finish(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

async fn write_batches(
    store: Store,
    mut receiver: mpsc::Receiver<NewLogEntry>,
    mut stop: oneshot::Receiver<()>,
    dropped: Arc<AtomicU64>,
) {
    let mut batch = Vec::with_capacity(BATCH_SIZE);
    loop {
        tokio::select! {
            received = receiver.recv_many(&mut batch, BATCH_SIZE) => {
                if received == 0 {
                    break;
                }
                store_batch(&store, &mut batch, &dropped).await;
            }
            _ = &mut stop => {
                // Drain what is queued now; events logged after this are not waited for.
                while let Ok(entry) = receiver.try_recv() {
                    batch.push(entry);
                    if batch.len() == BATCH_SIZE {
                        store_batch(&store, &mut batch, &dropped).await;
                    }
                }
                store_batch(&store, &mut batch, &dropped).await;
                break;
            }
        }
    }
}

async fn store_batch(store: &Store, batch: &mut Vec<NewLogEntry>, dropped: &AtomicU64) {
    if batch.is_empty() {
        return;
    }
    let result = WRITING.scope((), store.insert_logs(batch)).await;
    match result {
        Ok(stored) => metrics::add(&metrics::LOGS_STORED, &[], stored as f64),
        Err(err) => {
            let lost = batch.len() as u64;
            dropped.fetch_add(lost, Ordering::Relaxed);
            metrics::add(&metrics::LOGS_DROPPED, &[], lost as f64);
            // Goes to stderr only: the layer ignores this module's events.
            tracing::warn!(error = %err, lost, "could not store log events");
        }
    }
    batch.clear();
}

/// Runs the LOG_RETENTION_DAYS purge now and then once a day, until aborted; 0 days keeps
/// logs forever and starts nothing.
pub fn spawn_log_retention(store: Store, retention_days: u32) -> Option<JoinHandle<()>> {
    if retention_days == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut daily = tokio::time::interval(Duration::from_secs(86_400));
        daily.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            daily.tick().await;
            match store
                .purge_expired_logs(jiff::Timestamp::now(), retention_days)
                .await
            {
                Ok(0) => {}
                // Named apart from the writer's target, so these reach the table too.
                Ok(purged) => tracing::info!(
                    target: "spotify_history_web::log_retention",
                    purged, retention_days, "purged logs past the retention"
                ),
                Err(err) => tracing::warn!(
                    target: "spotify_history_web::log_retention",
                    error = %err, "could not purge old logs; retrying tomorrow"
                ),
            }
        }
    }))
}
