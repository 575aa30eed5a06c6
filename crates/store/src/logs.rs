//! The `logs` table: structured log events written in batches by the web crate's tracing
//! layer, read back by the admin API with filters, and purged by retention or on demand.

use crate::row::RowExt;
use crate::transaction::on_tx;
use crate::{Result, Store, on_pool};
use spotify_history_core::UserId;
use std::fmt;
use std::str::FromStr;

/// Severity of a stored event, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    /// The stable name in the database and in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "ERROR",
            LogLevel::Warn => "WARN",
            LogLevel::Info => "INFO",
            LogLevel::Debug => "DEBUG",
            LogLevel::Trace => "TRACE",
        }
    }

    /// 1 for ERROR up to 5 for TRACE: "at least WARN" is `rank <= 2`.
    fn rank(self) -> i64 {
        self as i64 + 1
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A level name that is none of error, warn, info, debug, trace.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown log level {0:?}: use error, warn, info, debug or trace")]
pub struct UnknownLogLevel(pub String);

impl FromStr for LogLevel {
    type Err = UnknownLogLevel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "error" => Ok(LogLevel::Error),
            "warn" | "warning" => Ok(LogLevel::Warn),
            "info" => Ok(LogLevel::Info),
            "debug" => Ok(LogLevel::Debug),
            "trace" => Ok(LogLevel::Trace),
            _ => Err(UnknownLogLevel(s.to_owned())),
        }
    }
}

/// One event to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLogEntry {
    /// When it happened, Unix milliseconds.
    pub ts: i64,
    pub level: LogLevel,
    /// Where it came from: the Rust module path (`spotify_history_collector::user_work`).
    pub target: String,
    pub message: String,
    /// The event's other fields (and its spans'), as a JSON object.
    pub fields: Option<serde_json::Value>,
    /// The user the event is about; dropped when no such user exists (any more).
    pub user_id: Option<UserId>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LogEntry {
    pub id: i64,
    /// Unix milliseconds.
    pub ts: i64,
    pub level: LogLevel,
    pub target: String,
    pub message: String,
    pub fields: Option<serde_json::Value>,
    pub user_id: Option<UserId>,
}

/// Which events a query or purge touches; the default is all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// This level and the more severe ones (`Warn`: warnings and errors).
    pub min_level: Option<LogLevel>,
    /// Targets starting with this (`spotify_history_collector` for the collector's events).
    pub target_prefix: Option<String>,
    pub user: Option<UserId>,
    /// Text in the message or the fields, ignoring ASCII case.
    pub text: Option<String>,
    /// Only events before this time (Unix ms, exclusive).
    pub before: Option<i64>,
}

/// One page of events, newest first, with the number matching the filter in all.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LogPage {
    pub entries: Vec<LogEntry>,
    pub total: u64,
}

/// The filter as SQL, with `$1`..`$5` bound by [`bind_filter`]. Unset parts are NULL and
/// match everything, so one statement serves every combination on both backends.
const FILTER_SQL: &str = "
    (CASE level WHEN 'ERROR' THEN 1 WHEN 'WARN' THEN 2 WHEN 'INFO' THEN 3 WHEN 'DEBUG' THEN 4
        ELSE 5 END) <= $1
    AND ($2 IS NULL OR target LIKE $2 ESCAPE '\\')
    AND ($3 IS NULL OR user_id = $3)
    AND ($4 IS NULL OR LOWER(message) LIKE $4 ESCAPE '\\'
         OR LOWER(COALESCE(fields, '')) LIKE $4 ESCAPE '\\')
    AND ($5 IS NULL OR ts < $5)";

/// The filter's parameter values, in `$1`..`$5` order.
struct FilterParams {
    max_rank: i64,
    target_like: Option<String>,
    user: Option<i64>,
    text_like: Option<String>,
    before: Option<i64>,
}

impl From<&LogFilter> for FilterParams {
    fn from(filter: &LogFilter) -> Self {
        FilterParams {
            max_rank: filter.min_level.unwrap_or(LogLevel::Trace).rank(),
            target_like: filter
                .target_prefix
                .as_deref()
                .filter(|p| !p.is_empty())
                .map(|p| format!("{}%", escape_like(p))),
            user: filter.user.map(|u| u.0),
            text_like: filter
                .text
                .as_deref()
                .filter(|t| !t.is_empty())
                .map(|t| format!("%{}%", escape_like(&t.to_lowercase()))),
            before: filter.before,
        }
    }
}

macro_rules! bind_filter {
    ($query:expr, $params:expr) => {
        $query
            .bind($params.max_rank)
            .bind($params.target_like.clone())
            .bind($params.user)
            .bind($params.text_like.clone())
            .bind($params.before)
    };
}

/// `%`, `_` and the escape character itself match literally.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Store {
    /// Stores a batch of events in one transaction; returns how many were written.
    pub async fn insert_logs(&self, entries: &[NewLogEntry]) -> Result<u64> {
        if entries.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        for entry in entries {
            let fields = entry.fields.as_ref().map(|f| f.to_string());
            // The sub-select keeps the event when its user is unknown or deleted, instead
            // of failing the whole batch on the foreign key.
            on_tx!(&mut tx, conn => {
                sqlx::query(
                    "INSERT INTO logs (ts, level, target, message, fields, user_id)
                     VALUES ($1, $2, $3, $4, $5, (SELECT id FROM users WHERE id = $6))",
                )
                .bind(entry.ts)
                .bind(entry.level.as_str())
                .bind(&entry.target)
                .bind(&entry.message)
                .bind(fields)
                .bind(entry.user_id.map(|u| u.0))
                .execute(&mut **conn)
                .await
                .map(drop)?
            });
        }
        tx.commit().await?;
        Ok(entries.len() as u64)
    }

    /// Events matching `filter`, newest first, `limit` from `offset`, with the total.
    pub async fn query_logs(&self, filter: &LogFilter, limit: u32, offset: u64) -> Result<LogPage> {
        let params = FilterParams::from(filter);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let page_sql = format!(
            "SELECT id, ts, level, target, message, fields, user_id FROM logs
             WHERE {FILTER_SQL}
             ORDER BY ts DESC, id DESC LIMIT $6 OFFSET $7"
        );
        let count_sql = format!("SELECT COUNT(*) AS n FROM logs WHERE {FILTER_SQL}");
        let (entries, total) = on_pool!(self, pool => {
            let rows = bind_filter!(sqlx::query(sqlx::AssertSqlSafe(page_sql)), params)
                .bind(i64::from(limit))
                .bind(offset)
                .fetch_all(pool)
                .await?;
            let entries = rows
                .iter()
                .map(|row| {
                    let level = row.text("level")?;
                    let fields = row.opt_text("fields")?;
                    Ok(LogEntry {
                        id: row.int("id")?,
                        ts: row.int("ts")?,
                        level: level.parse().unwrap_or(LogLevel::Info),
                        target: row.text("target")?,
                        message: row.text("message")?,
                        fields: fields.and_then(|f| serde_json::from_str(&f).ok()),
                        user_id: row.opt_int("user_id")?.map(UserId),
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            let total = bind_filter!(sqlx::query(sqlx::AssertSqlSafe(count_sql)), params)
                .fetch_one(pool)
                .await?
                .int("n")?;
            (entries, total)
        });
        Ok(LogPage {
            entries,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    /// Deletes the events matching `filter` (all of them with the default filter); returns
    /// how many went.
    pub async fn purge_logs(&self, filter: &LogFilter) -> Result<u64> {
        let params = FilterParams::from(filter);
        let sql = format!("DELETE FROM logs WHERE {FILTER_SQL}");
        let deleted = on_pool!(self, pool => {
            bind_filter!(sqlx::query(sqlx::AssertSqlSafe(sql)), params)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(deleted)
    }

    /// LOG_RETENTION_DAYS: deletes events older than `retention_days` before `now` (the
    /// caller's clock, so tests can move time); 0 days keeps everything.
    pub async fn purge_expired_logs(
        &self,
        now: jiff::Timestamp,
        retention_days: u32,
    ) -> Result<u64> {
        if retention_days == 0 {
            return Ok(0);
        }
        let cutoff = now.as_millisecond() - i64::from(retention_days) * 86_400_000;
        self.purge_logs(&LogFilter {
            before: Some(cutoff),
            ..LogFilter::default()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_rank_most_severe_first() {
        assert_eq!("Warning".parse::<LogLevel>().unwrap(), LogLevel::Warn);
        assert_eq!(" info ".parse::<LogLevel>().unwrap(), LogLevel::Info);
        assert!("loud".parse::<LogLevel>().is_err());
        assert!(LogLevel::Error.rank() < LogLevel::Info.rank());
        assert_eq!(LogLevel::Trace.rank(), 5);
    }

    #[test]
    fn like_patterns_match_wildcards_literally() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }
}
