//! `export --user NAME --format jsonl|csv [--output FILE]`: every stored listen of a user,
//! streamed page by page, in a format `import` reads back (see `spotify_history_import`'s
//! `ExportWriter`).

use crate::settings::Settings;
use anyhow::Context;
use clap::{Args, ValueEnum};
use spotify_history_import::{ExportFormat, ExportWriter};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Listens read from the database at a time.
const PAGE: i64 = 5_000;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// One JSON object per line
    Jsonl,
    /// A header row and one row per listen
    Csv,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Whose listens to export; may be left out when the database has exactly one user
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: Format,
    /// Write to this file instead of stdout (a new file; `import` recognises it by its
    /// content, or by a name like spotify-history-export-NAME.jsonl)
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub async fn run(settings: &Settings, args: ExportArgs) -> anyhow::Result<()> {
    let store = super::open_store(settings).await?;
    let user = super::import::resolve_user(&store, args.user.as_deref(), false).await?;
    let format = match args.format {
        Format::Jsonl => ExportFormat::Jsonl,
        Format::Csv => ExportFormat::Csv,
    };
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(
            std::fs::File::create_new(path)
                .with_context(|| format!("cannot create {} (it must not exist)", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut writer = ExportWriter::new(BufWriter::with_capacity(256 * 1024, out), format)?;
    let mut last = None;
    let mut count = 0u64;
    loop {
        let page = store
            .stored_listens_page(user.id, last.as_ref(), PAGE)
            .await?;
        for listen in &page {
            writer.write(listen)?;
        }
        count += page.len() as u64;
        let done = (page.len() as i64) < PAGE;
        last = page.into_iter().last();
        if done {
            break;
        }
    }
    writer.finish()?;
    store.close().await;
    if let Some(path) = &args.output {
        eprintln!(
            "Exported {count} listens of {} to {}.",
            user.name,
            path.display()
        );
    }
    Ok(())
}
