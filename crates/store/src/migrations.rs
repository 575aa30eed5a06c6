//! The migration sets, embedded in the binary so a fresh machine needs no files beside it.
//! Each backend has its own set (`migrations/sqlite`, `migrations/postgres`) because their
//! DDL differs; a parity test keeps their tables and columns equal.

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};

macro_rules! migration_set {
    ($dir:literal: $($version:literal $name:literal),* $(,)?) => {
        vec![$(Migration::new(
            $version,
            $name.into(),
            MigrationType::Simple,
            AssertSqlSafe(include_str!(concat!("../../../migrations/", $dir, "/", $name, ".sql"))).into_sql_str(),
            false,
        )),*]
    };
}

pub(crate) fn sqlite() -> Migrator {
    Migrator::with_migrations(
        migration_set!("sqlite": 1 "0001_initial", 2 "0002_history", 3 "0003_history_blocks", 4 "0004_catalogue_without_foreign_keys"),
    )
}

pub(crate) fn postgres() -> Migrator {
    Migrator::with_migrations(
        migration_set!("postgres": 1 "0001_initial", 2 "0002_history", 3 "0003_history_blocks", 4 "0004_catalogue_without_foreign_keys"),
    )
}
