//! `backup <file>`: a consistent copy of the SQLite database while the server runs, checked
//! by opening it. PostgreSQL databases are backed up with `pg_dump`, which this prints.

use crate::settings::Settings;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the copy (a new file: an existing one is never overwritten)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

pub async fn run(settings: &Settings, args: BackupArgs) -> anyhow::Result<()> {
    let url = settings.database_url()?;
    if !url.is_sqlite() {
        anyhow::bail!(
            "backup copies SQLite databases; this one is PostgreSQL: back it up with pg_dump, e.g.\n  \
             pg_dump --format=custom --file={} '{url}'\n\
             (give the password with PGPASSWORD or ~/.pgpass; restore with pg_restore)",
            shell_word(&args.file.to_string_lossy()),
        );
    }
    let store = super::open_store(settings).await?;
    let summary = store.backup_to(&args.file).await;
    store.close().await;
    let summary = summary?;
    anyhow::ensure!(
        summary.integrity_ok,
        "the copy at {} failed PRAGMA integrity_check; do not rely on it",
        args.file.display()
    );
    println!(
        "Backed up to {}: {:.1} MiB, {} listens, integrity check ok.",
        args.file.display(),
        summary.bytes as f64 / (1024.0 * 1024.0),
        summary.listens
    );
    Ok(())
}

/// A file name as one shell word.
fn shell_word(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}
