//! `import`: bring a Spotify "Download your data" export in, with a progress bar and a report.

use crate::settings::Settings;
use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use spotify_history_core::User;
use spotify_history_import::{FileStatus, ImportOptions, ImportReport, ImportSource, Limits};
use spotify_history_store::Store;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Export ZIPs (as Spotify sends them), unpacked folders, or single JSON files
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Whose history this is; may be left out when the database has exactly one user
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Create the --user if it does not exist yet
    #[arg(long, requires = "user")]
    pub create_user: bool,
    /// Read files again even when an earlier import finished them
    #[arg(long)]
    pub recheck: bool,
    /// Print the report as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

pub async fn run(settings: &Settings, args: ImportArgs) -> anyhow::Result<()> {
    let store = super::open_store(settings).await?;
    let user = resolve_user(&store, args.user.as_deref(), args.create_user).await?;
    let limits =
        Limits::from_settings(settings.import_max_zip_size_mb, settings.import_max_records);
    let source = ImportSource::open(&args.paths, limits)?;
    let options = ImportOptions {
        recheck: args.recheck,
        ..settings.import_options(user.id)
    };
    let report = import_with_progress(&store, source, options).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report, &user);
    }
    store.close().await;
    let failed = report.failed_files().count();
    if failed > 0 {
        bail!(
            "{failed} file(s) could not be imported (see the report); the other files were imported"
        );
    }
    Ok(())
}

/// The user named, created on request; or the only user when none is named.
pub async fn resolve_user(store: &Store, name: Option<&str>, create: bool) -> anyhow::Result<User> {
    match name {
        Some(name) => match store.find_user_by_name(name).await? {
            Some(user) => Ok(user),
            None if create => Ok(store.create_user(name, None).await?),
            None => bail!("no user named {name:?}: add --create-user to create it"),
        },
        None => {
            let users = store.list_users().await?;
            match users.as_slice() {
                [only] => Ok(only.clone()),
                [] => bail!("there are no users yet: name one with --user NAME --create-user"),
                _ => {
                    let names: Vec<_> = users.iter().map(|u| u.name.as_str()).collect();
                    bail!(
                        "there are several users ({}): choose one with --user NAME",
                        names.join(", ")
                    )
                }
            }
        }
    }
}

/// Runs the import engine with a progress bar on a terminal, or a log line every few
/// seconds otherwise.
pub async fn import_with_progress(
    store: &Store,
    source: ImportSource,
    options: ImportOptions,
) -> anyhow::Result<ImportReport> {
    let total = source.total_bytes();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta}) {msg}",
            )
            .expect("valid progress template"),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let mut last_log = Instant::now();
    let report = spotify_history_import::import(store, source, options, |progress| {
        let message = format!(
            "{} records, {} new · {}",
            progress.records_read, progress.inserted, progress.current_file
        );
        match &bar {
            Some(bar) => {
                bar.set_position(progress.bytes_read);
                bar.set_message(message);
            }
            None if last_log.elapsed() >= Duration::from_secs(5) => {
                last_log = Instant::now();
                tracing::info!(
                    bytes_read = progress.bytes_read,
                    total_bytes = progress.total_bytes,
                    files_done = progress.files_done,
                    files_total = progress.files_total,
                    "import: {message}"
                );
            }
            None => {}
        }
    })
    .await
    .context("import stopped")?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(report)
}

fn print_report(report: &ImportReport, user: &User) {
    let seconds = report.elapsed_ms as f64 / 1000.0;
    println!(
        "Imported for {} in {seconds:.1} s ({} records/s)",
        user.name, report.records_per_second
    );
    println!("  files read                  {:>10}", report.files.len());
    println!("  records read                {:>10}", report.records_read);
    println!("  listens inserted            {:>10}", report.inserted);
    println!("  duplicates (already stored) {:>10}", report.duplicates);
    println!("  merged with another source  {:>10}", report.merged);
    println!("  skipped                     {:>10}", report.skipped);
    for (reason, count) in &report.skipped_by_reason {
        println!("    {reason:<26}{count:>10}");
    }
    for file in &report.files {
        match &file.status {
            FileStatus::Imported => println!(
                "  ✓ {} ({}): {} records, {} new, {} duplicate, {} merged",
                file.name, file.kind, file.records, file.inserted, file.duplicates, file.merged
            ),
            FileStatus::AlreadyImported => println!(
                "  = {} ({}): already imported, not read again (use --recheck to read it)",
                file.name, file.kind
            ),
            FileStatus::Failed { error } => println!("  ✗ {}: {error}", file.name),
        }
    }
    if !report.unknown_files.is_empty() {
        println!(
            "  ignored (not listening history): {}",
            report.unknown_files.join(", ")
        );
    }
    for refused in &report.refused_files {
        println!("  refused {}: {}", refused.name, refused.reason);
    }
}
