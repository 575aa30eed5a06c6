//! Reading columns the same way from SQLite and PostgreSQL rows, so each table's row mapping
//! is written once.

use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

/// Typed column access shared by both backends' rows.
pub(crate) trait RowExt {
    fn int(&self, column: &str) -> Result<i64, sqlx::Error>;
    fn opt_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error>;
    fn text(&self, column: &str) -> Result<String, sqlx::Error>;
    fn opt_text(&self, column: &str) -> Result<Option<String>, sqlx::Error>;
    fn flag(&self, column: &str) -> Result<bool, sqlx::Error>;
    fn small(&self, column: &str) -> Result<i16, sqlx::Error>;
    fn opt_int4(&self, column: &str) -> Result<Option<i32>, sqlx::Error>;
    fn opt_flag(&self, column: &str) -> Result<Option<bool>, sqlx::Error>;
    fn bytes(&self, column: &str) -> Result<Vec<u8>, sqlx::Error>;
    /// A blob borrowed from the row (no copy).
    fn blob(&self, column: &str) -> Result<&[u8], sqlx::Error>;
    /// Text borrowed from the row (no copy).
    fn str(&self, column: &str) -> Result<&str, sqlx::Error>;
}

macro_rules! impl_row_ext {
    ($row:ty) => {
        impl RowExt for $row {
            fn int(&self, column: &str) -> Result<i64, sqlx::Error> {
                self.try_get(column)
            }
            fn opt_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error> {
                self.try_get(column)
            }
            fn text(&self, column: &str) -> Result<String, sqlx::Error> {
                self.try_get(column)
            }
            fn opt_text(&self, column: &str) -> Result<Option<String>, sqlx::Error> {
                self.try_get(column)
            }
            fn flag(&self, column: &str) -> Result<bool, sqlx::Error> {
                self.try_get(column)
            }
            fn small(&self, column: &str) -> Result<i16, sqlx::Error> {
                self.try_get(column)
            }
            fn opt_int4(&self, column: &str) -> Result<Option<i32>, sqlx::Error> {
                self.try_get(column)
            }
            fn opt_flag(&self, column: &str) -> Result<Option<bool>, sqlx::Error> {
                self.try_get(column)
            }
            fn bytes(&self, column: &str) -> Result<Vec<u8>, sqlx::Error> {
                self.try_get(column)
            }
            fn blob(&self, column: &str) -> Result<&[u8], sqlx::Error> {
                self.try_get(column)
            }
            fn str(&self, column: &str) -> Result<&str, sqlx::Error> {
                self.try_get(column)
            }
        }
    };
}

impl_row_ext!(SqliteRow);
impl_row_ext!(PgRow);
