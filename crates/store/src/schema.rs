//! What tables, columns, indexes and triggers the database has, as the engine itself reports
//! them. Used by the parity test that keeps the SQLite and PostgreSQL migrations equal, by the
//! tests of indexes an import drops and builds again, and by the test that keeps the
//! catalogue's inserts free of triggers (see `bulk::insert_rows`).

use crate::row::RowExt;
use crate::{Result, Store, on_pool};

/// One column of one table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ColumnInfo {
    pub table: String,
    pub column: String,
    pub nullable: bool,
}

impl Store {
    /// Every column of every application table, sorted by table then column.
    pub async fn columns(&self) -> Result<Vec<ColumnInfo>> {
        // The engines describe themselves differently: SQLite through pragma table-valued
        // functions, PostgreSQL through information_schema (limited to the current schema).
        let sql = match self.backend() {
            crate::BackendKind::Sqlite => {
                "SELECT m.name AS table_name, p.name AS column_name,
                        CASE WHEN p.\"notnull\" = 0 AND p.pk = 0 THEN 1 ELSE 0 END AS nullable
                 FROM sqlite_master m JOIN pragma_table_info(m.name) p
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx_%'"
            }
            crate::BackendKind::Postgres => {
                "SELECT table_name::text AS table_name, column_name::text AS column_name,
                        CASE WHEN is_nullable = 'YES' THEN 1 ELSE 0 END::bigint AS nullable
                 FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx\\_%'"
            }
        };
        let mut columns = on_pool!(self, pool => {
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            rows.iter()
                .map(|row| {
                    Ok(ColumnInfo {
                        table: row.text("table_name")?,
                        column: row.text("column_name")?,
                        nullable: row.int("nullable")? != 0,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        columns.sort();
        Ok(columns)
    }
}

impl Store {
    /// Every trigger, as `(table, trigger name)`, sorted.
    pub async fn triggers(&self) -> Result<Vec<(String, String)>> {
        self.text_pairs(
            "SELECT tbl_name AS first, name AS second FROM sqlite_master WHERE type = 'trigger'",
            "SELECT DISTINCT event_object_table::text AS first, trigger_name::text AS second
             FROM information_schema.triggers WHERE trigger_schema = current_schema()",
        )
        .await
    }

    /// Every index the migrations created (not those the engine makes for keys), as
    /// `(name, definition)` in the engine's own words, sorted by name.
    pub async fn index_definitions(&self) -> Result<Vec<(String, String)>> {
        self.text_pairs(
            "SELECT name AS first, sql AS second FROM sqlite_master
             WHERE type = 'index' AND sql IS NOT NULL",
            "SELECT indexname::text AS first, indexdef AS second FROM pg_indexes
             WHERE schemaname = current_schema()",
        )
        .await
    }

    /// The rows of a query that selects two texts, `first` and `second`, sorted.
    async fn text_pairs(
        &self,
        sqlite: &'static str,
        postgres: &'static str,
    ) -> Result<Vec<(String, String)>> {
        let sql = match self.backend() {
            crate::BackendKind::Sqlite => sqlite,
            crate::BackendKind::Postgres => postgres,
        };
        let mut pairs = on_pool!(self, pool => {
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            rows.iter()
                .map(|row| Ok((row.text("first")?, row.text("second")?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        pairs.sort();
        Ok(pairs)
    }
}
