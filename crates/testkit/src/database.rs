//! A fresh, migrated database per test: a temporary SQLite file, or a new PostgreSQL schema
//! in the database named by `TEST_DATABASE_URL` (dropped when the test ends).

use spotify_history_store::{DatabaseUrl, Store};
use std::sync::atomic::{AtomicU32, Ordering};

/// The `app_state` key of the lease (see the store's `deferred_indexes`).
const INDEX_LEASE: &str = "indexes_deferred_until";

/// One test's own database.
pub struct TestDb {
    pub store: Store,
    /// The URL a separate process (the CLI under test) can open to see the same data.
    pub url: DatabaseUrl,
    /// Keeps the SQLite folder alive for the test's duration.
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL schema to drop at the end.
    pg_schema: Option<(String, String)>,
}

impl TestDb {
    /// Leaves the database as an import leaves it that dropped the indexes it builds at its
    /// end and then died: indexes gone, its lease held. Returns every index definition from
    /// before, to compare with once they are built again.
    pub async fn indexes_left_dropped_by_a_dead_import(&self) -> Vec<(String, String)> {
        let migrated = self
            .store
            .index_definitions()
            .await
            .expect("index definitions");
        let mut connection = self.store.writer_connection().await.expect("a connection");
        let deferred = connection
            .defer_indexes(1_000)
            .await
            .expect("indexes dropped");
        assert!(deferred, "an empty table defers its indexes");
        // The import dies here: its connection goes, the indexes are not built.
        drop(connection);
        migrated
    }

    /// The lease of an import that deferred its indexes: until when (Unix ms, as text) it is
    /// expected to build them, if one holds it.
    pub async fn index_lease(&self) -> Option<String> {
        self.store
            .app_state(INDEX_LEASE)
            .await
            .expect("read the index lease")
    }

    /// Lets the lease of an import that deferred its indexes run out, as if that import had
    /// been gone for longer than the lease.
    pub async fn end_index_lease(&self) {
        self.store
            .set_app_state(INDEX_LEASE, "0")
            .await
            .expect("end the index lease");
    }

    /// A fresh SQLite database in a temporary folder.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("create a temporary folder");
        let url = format!("sqlite://{}/test.db", dir.path().display());
        let url = DatabaseUrl::parse(&url).expect("valid SQLite URL");
        let store = Store::open(&url)
            .await
            .expect("open the SQLite test database");
        TestDb {
            store,
            url,
            _dir: Some(dir),
            pg_schema: None,
        }
    }

    /// A fresh PostgreSQL schema, or `None` (with a note on stderr) when `TEST_DATABASE_URL`
    /// is unset. When it is set, an unreachable server fails the test: CI must not skip.
    pub async fn postgres() -> Option<TestDb> {
        let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
            eprintln!("skipped: TEST_DATABASE_URL is not set, so PostgreSQL is not tested");
            return None;
        };
        let schema = unique_schema_name();
        let admin = Store::connect(&DatabaseUrl::parse(&base).expect("TEST_DATABASE_URL"))
            .await
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but unusable: {e}"));
        admin
            .execute_ddl(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("create a test schema");
        admin.close().await;
        let separator = if base.contains('?') { '&' } else { '?' };
        // The application name lets cleanup find this test's connections.
        let url =
            format!("{base}{separator}options[search_path]={schema}&application_name={schema}");
        let url = DatabaseUrl::parse(&url).expect("valid PostgreSQL URL");
        let store = Store::open(&url)
            .await
            .expect("migrate the PostgreSQL test schema");
        Some(TestDb {
            store,
            url,
            _dir: None,
            pg_schema: Some((base, schema)),
        })
    }
}

fn unique_schema_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    )
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((base, schema)) = self.pg_schema.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot block on itself: use a thread
        // with its own small runtime.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime for cleanup");
            runtime.block_on(async {
                if let Ok(url) = DatabaseUrl::parse(&base)
                    && let Ok(admin) = Store::connect(&url).await
                {
                    // A connection still inside an abandoned transaction would block the drop.
                    let _ = admin
                        .execute_ddl(&format!(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                             WHERE application_name = '{schema}'"
                        ))
                        .await;
                    let _ = admin
                        .execute_ddl(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}
