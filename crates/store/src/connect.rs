//! Opening a store from a `DATABASE_URL`: SQLite (`sqlite:` URLs, file created with its
//! folder) or PostgreSQL (`postgres:`/`postgresql:` URLs).

use crate::{Backend, Result, Store, StoreError, migrations};
use libsqlite3_sys as ffi;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::ffi::c_int;
use std::fmt;
use std::str::FromStr;
use std::sync::Once;
use std::time::Duration;

/// A validated database URL. `Display`/`Debug` hide any password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Checks the scheme; the rest is checked by the driver when connecting.
    pub fn parse(url: &str) -> Result<Self> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" | "postgres" | "postgresql" if url.len() > scheme.len() + 1 => {
                Ok(Self(url.to_string()))
            }
            _ => Err(StoreError::InvalidUrl(format!(
                "expected sqlite://PATH or postgres://USER@HOST/DB, got {:?}",
                redact(url)
            ))),
        }
    }

    /// The URL as given, password included: pass it only to the driver.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_sqlite(&self) -> bool {
        self.0.starts_with("sqlite:")
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", redact(&self.0))
    }
}

impl FromStr for DatabaseUrl {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

impl Store {
    /// Opens the database and applies pending migrations.
    pub async fn open(url: &DatabaseUrl) -> Result<Store> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens the database without migrating it.
    pub async fn connect(url: &DatabaseUrl) -> Result<Store> {
        let connect_error = |cause| StoreError::Connect {
            url: url.to_string(),
            cause,
        };
        let backend = if url.is_sqlite() {
            let options = SqliteConnectOptions::from_str(url.expose())
                .map_err(|e| StoreError::InvalidUrl(format!("{url}: {e}")))?;
            create_parent_folder(options.get_filename())?;
            configure_sqlite_library();
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(sqlite_tuning(options))
                .await
                .map_err(connect_error)?;
            Backend::Sqlite(pool)
        } else {
            let options = PgConnectOptions::from_str(url.expose())
                .map_err(|e| StoreError::InvalidUrl(format!("{url}: {e}")))?
                // Statements are prepared once per connection, and after five runs
                // PostgreSQL may switch to a plan made without the values: for a window or a
                // favourite track that generic plan reads every play (seen: 20 ms questions
                // taking 250 ms). Planning anew each time costs far less.
                .options([("plan_cache_mode", "force_custom_plan")]);
            // One direct attempt first: a pool only reports "timed out", while a plain
            // connection says why (refused, unknown host, bad password, no such database).
            PgConnection::connect_with(&options)
                .await
                .map_err(connect_error)?
                .close()
                .await
                .map_err(connect_error)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(connect_error)?;
            Backend::Postgres(pool)
        };
        Ok(Store {
            backend,
            url: url.clone(),
            names: Default::default(),
            work: Default::default(),
        })
    }

    /// Applies every migration not yet applied (idempotent), and builds the indexes an
    /// interrupted import may have left out (see `deferred_indexes`).
    pub async fn migrate(&self) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(pool) => migrations::sqlite().run(pool).await?,
            Backend::Postgres(pool) => migrations::postgres().run(pool).await?,
        }
        // Only a question's speed depends on them: a store that cannot build them now opens
        // all the same (the collector tries again every cycle).
        if let Err(err) = self.restore_deferred_indexes().await {
            tracing::warn!(%err, "missing indexes could not be built");
        }
        Ok(())
    }
}

/// WAL lets readers (MCP questions) run while the collector or an import writes;
/// `synchronous=NORMAL` is durable across application crashes in WAL mode and much faster
/// than FULL; the busy timeout turns write contention into waiting instead of errors.
fn sqlite_tuning(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(30))
        .pragma("cache_size", "-65536")
        .pragma("temp_store", "memory")
}

/// Each connection's lookaside pool: `LOOKASIDE.1` slots' worth of `LOOKASIDE.0` bytes, 480 KB,
/// which SQLite cuts into 303 slots of 1,200 bytes and 909 of 128 (SQLite's default, 1,200 × 40,
/// gives 30 and 93).
const LOOKASIDE: (c_int, c_int) = (1200, 400);

/// Sets the SQLite library's process-wide memory options, once, before its first connection
/// (afterwards SQLite refuses them and keeps its defaults, which only costs speed):
/// - no memory statistics, which nothing here reads: with them every allocation SQLite makes
///   takes a global mutex;
/// - a ten times larger lookaside pool per connection ([`LOOKASIDE`]), from which SQLite serves
///   its small allocations without malloc: an import's multi-row statements bind some 500 texts
///   each, whose copies overflowed the default pool into glibc's malloc. SQLite writes the
///   whole pool as a connection opens: ~425 KB more memory per connection, ~3.4 MB for the pool.
///
/// SQLite's thread had spent over a tenth of an import in malloc, free and mutexes. With both
/// options a first import of a million records ran 2–6% faster, in seven alternating pairs
/// out of seven (each option alone about half of that). Every SQLite connection of the process
/// is opened after this: the store's pools and [`crate::backup::check_copy`]'s.
pub(crate) fn configure_sqlite_library() {
    static CONFIGURED: Once = Once::new();
    CONFIGURED.call_once(|| {
        // SAFETY: both options take integers only (`c_int`, as SQLite reads them). sqlite3_config
        // must not run beside other SQLite calls: `Once` runs it once, before the process's
        // first SQLite connection (the callers above), and if SQLite was initialised anyway
        // it returns SQLITE_MISUSE without changing anything.
        let (memstatus, lookaside) = unsafe {
            (
                ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int),
                ffi::sqlite3_config(ffi::SQLITE_CONFIG_LOOKASIDE, LOOKASIDE.0, LOOKASIDE.1),
            )
        };
        if memstatus != ffi::SQLITE_OK || lookaside != ffi::SQLITE_OK {
            tracing::warn!(
                memstatus,
                lookaside,
                "SQLite was in use already: its default memory options stay (imports run slower)"
            );
        }
    });
}

fn create_parent_folder(file: &std::path::Path) -> Result<()> {
    if file.as_os_str() == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            StoreError::InvalidUrl(format!(
                "cannot create the database folder {}: {e}",
                parent.display()
            ))
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The options reach SQLite (they are refused once it is in use): its memory statistics
    /// stay at zero, and one statement's bound texts hold more lookaside slots than SQLite's
    /// default pool has (30 large and 93 small ones).
    #[tokio::test]
    async fn sqlite_allocates_without_statistics_from_a_larger_lookaside_pool() {
        let url = DatabaseUrl::parse("sqlite::memory:").unwrap();
        let store = Store::connect(&url).await.unwrap();
        let Backend::Sqlite(pool) = &store.backend else {
            unreachable!("a sqlite: URL opens SQLite")
        };
        let mut conn = pool.acquire().await.unwrap();
        let texts: Vec<String> = (0..300).map(|i| format!("text number {i}")).collect();
        let sql = format!("SELECT {}", vec!["length(?)"; texts.len()].join(" + "));
        let query = texts.iter().fold(
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)),
            |query, text| query.bind(text),
        );
        let total: usize = texts.iter().map(String::len).sum();
        assert_eq!(query.fetch_one(&mut *conn).await.unwrap(), total as i64);

        let mut handle = conn.lock_handle().await.unwrap();
        let (mut slots, mut most_slots) = (0, 0);
        let (mut memory, mut most_memory) = (0, 0);
        // SAFETY: the handle is locked for this thread; both calls only write the integers.
        let codes = unsafe {
            let db = handle.as_raw_handle().as_ptr();
            let op = ffi::SQLITE_DBSTATUS_LOOKASIDE_USED;
            let lookaside = ffi::sqlite3_db_status(db, op, &mut slots, &mut most_slots, 0);
            let op = ffi::SQLITE_STATUS_MEMORY_USED;
            let memory = ffi::sqlite3_status64(op, &mut memory, &mut most_memory, 0);
            (lookaside, memory)
        };
        assert_eq!(codes, (ffi::SQLITE_OK, ffi::SQLITE_OK));
        assert!(
            most_slots > 123,
            "at most {most_slots} lookaside slots in use at once"
        );
        assert_eq!((memory, most_memory), (0, 0), "memory statistics are kept");
    }

    #[test]
    fn urls_are_checked_and_passwords_hidden() {
        assert!(
            DatabaseUrl::parse("sqlite://data/x.db")
                .unwrap()
                .is_sqlite()
        );
        let pg = DatabaseUrl::parse("postgres://me:secret@db:5432/h").unwrap();
        assert_eq!(pg.to_string(), "postgres://me:***@db:5432/h");
        assert!(!format!("{pg:?}").contains("secret"));
        let err = DatabaseUrl::parse("mysql://me:secret@db/h").unwrap_err();
        assert!(err.to_string().contains("DATABASE_URL"));
        assert!(!err.to_string().contains("secret"));
        assert!(DatabaseUrl::parse("sqlite:").is_err());
    }
}
