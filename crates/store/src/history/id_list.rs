//! Queries for a list of ids bound as one value.
//!
//! The dialects differ: SQLite unpacks a JSON array with `json_each`, PostgreSQL compares
//! with `= ANY` of an array. This is the one place that knows both.

use crate::row::RowExt;
use crate::{Backend, Result, Store};

impl Store {
    /// Runs `sql`, in which `{ids}` stands for "`column` is one of `ids`" (bound as `$1`),
    /// and maps every row.
    pub(crate) async fn fetch_by_ids<T>(
        &self,
        sql: &str,
        column: &str,
        ids: &[i64],
        map: impl Fn(&dyn RowExt) -> Result<T, sqlx::Error>,
    ) -> Result<Vec<T>> {
        self.fetch_by_ids_and(sql, column, ids, None, map).await
    }

    /// [`Store::fetch_by_ids`] with a text bound as `$2`.
    pub(crate) async fn fetch_by_ids_and<T>(
        &self,
        sql: &str,
        column: &str,
        ids: &[i64],
        text: Option<&str>,
        map: impl Fn(&dyn RowExt) -> Result<T, sqlx::Error>,
    ) -> Result<Vec<T>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = match &self.backend {
            Backend::Sqlite(pool) => {
                let condition = format!("{column} IN (SELECT value FROM json_each($1))");
                let sql = sqlx::AssertSqlSafe(sql.replace("{ids}", &condition));
                let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
                let query = sqlx::query(sql).bind(ids);
                let query = match text {
                    Some(text) => query.bind(text),
                    None => query,
                };
                let rows = query.fetch_all(pool).await?;
                rows.iter()
                    .map(|row| map(row))
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            }
            Backend::Postgres(pool) => {
                let condition = format!("{column} = ANY($1)");
                let sql = sqlx::AssertSqlSafe(sql.replace("{ids}", &condition));
                let query = sqlx::query(sql).bind(ids);
                let query = match text {
                    Some(text) => query.bind(text),
                    None => query,
                };
                let rows = query.fetch_all(pool).await?;
                rows.iter()
                    .map(|row| map(row))
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            }
        };
        Ok(rows)
    }
}
