//! `bench import`: generate a large synthetic export and print import throughput and peak
//! memory on SQLite (first import and re-import) and PostgreSQL. Figures, never assertions.

use crate::settings::Settings;
use anyhow::Context;
use clap::Subcommand;
use spotify_history_import::synthetic::{SyntheticConfig, SyntheticExport};
use spotify_history_import::{ImportOptions, ImportReport, ImportSource, Limits};
use spotify_history_store::{DatabaseUrl, Store};
use std::path::Path;
use std::time::Instant;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Import throughput: first import and re-import into SQLite, first import into PostgreSQL
    Import {
        /// Records in the generated extended-history export
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// PostgreSQL to measure in a fresh schema [default: TEST_DATABASE_URL, if set]
        #[arg(long, env = "TEST_DATABASE_URL", hide_env_values = true)]
        postgres_url: Option<String>,
    },
}

pub async fn run(settings: &Settings, command: BenchCommand) -> anyhow::Result<()> {
    let BenchCommand::Import {
        records,
        seed,
        postgres_url,
    } = command;
    let dir = tempfile::tempdir()?;
    let zip = dir.path().join("export.zip");
    let started = Instant::now();
    let export = SyntheticExport::generate(SyntheticConfig {
        plays: records,
        seed,
        account_data: false,
        ..SyntheticConfig::default()
    });
    export.write_zip(&zip)?;
    // The import is measured alone: the generated records are not its memory.
    drop(export);
    let zip_mb = std::fs::metadata(&zip)?.len() as f64 / 1e6;
    println!(
        "generated {records} records ({zip_mb:.0} MB ZIP) in {:.1} s; {} records per transaction (IMPORT_RECORDS_PER_COMMIT)",
        started.elapsed().as_secs_f64(),
        settings.import_records_per_commit,
    );

    let sqlite = DatabaseUrl::parse(&format!("sqlite://{}/bench.db", dir.path().display()))?;
    let store = Store::open(&sqlite).await?;
    measure("SQLite, first import", settings, &store, &zip, false).await?;
    measure(
        "SQLite, re-import (all duplicates)",
        settings,
        &store,
        &zip,
        true,
    )
    .await?;
    store.close().await;

    match postgres_url {
        Some(base) => {
            let schema = format!("bench_{}", std::process::id());
            let admin = Store::connect(&DatabaseUrl::parse(&base)?).await?;
            admin
                .execute_ddl(&format!("CREATE SCHEMA {schema}"))
                .await?;
            let separator = if base.contains('?') { '&' } else { '?' };
            let url =
                DatabaseUrl::parse(&format!("{base}{separator}options[search_path]={schema}"))?;
            let result = async {
                let store = Store::open(&url).await?;
                measure("PostgreSQL, first import", settings, &store, &zip, false).await?;
                store.close().await;
                anyhow::Ok(())
            }
            .await;
            admin
                .execute_ddl(&format!("DROP SCHEMA {schema} CASCADE"))
                .await?;
            result?;
        }
        None => println!("PostgreSQL: skipped (give --postgres-url or set TEST_DATABASE_URL)"),
    }
    Ok(())
}

async fn measure(
    label: &str,
    settings: &Settings,
    store: &Store,
    zip: &Path,
    recheck: bool,
) -> anyhow::Result<ImportReport> {
    let user = match store.find_user_by_name("bench").await? {
        Some(user) => user,
        None => store.create_user("bench", None).await?,
    };
    // Each import's peak is its own: not the generator's or an earlier import's memory that
    // the allocator kept (seen: a re-import's peak 70 MB higher in one run out of four).
    release_freed_memory();
    reset_peak_rss();
    let source = ImportSource::open(&[zip.to_path_buf()], Limits::default())?;
    let options = ImportOptions {
        recheck,
        ..settings.import_options(user.id)
    };
    let report = spotify_history_import::import(store, source, options, |_| {})
        .await
        .context("benchmark import failed")?;
    println!(
        "{label:<38} {:>9} records in {:>6.2} s = {:>8} records/s; inserted {}, duplicates {}, skipped {}; peak RSS {}",
        report.records_read,
        report.elapsed_ms as f64 / 1000.0,
        report.records_per_second,
        report.inserted,
        report.duplicates,
        report.skipped,
        peak_rss().map_or_else(|| "unknown".to_string(), |kb| format!("{} MB", kb / 1024)),
    );
    Ok(report)
}

/// Hands freed heap back to the system, so the peak measured next is mostly the import's own:
/// mimalloc (the binary's allocator) and glibc's malloc (SQLite's) keep freed memory in the
/// process for a while otherwise. Best effort: mimalloc collects this thread's free pages and
/// purges its shared arenas, but other threads keep the free pages they hold.
fn release_freed_memory() {
    // SAFETY: mi_collect only frees memory no allocation uses; it takes no pointers.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases pages no allocation uses; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Linux: writing 5 to clear_refs resets the peak resident set size (VmHWM).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident set size in KiB since the last reset (Linux only).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
