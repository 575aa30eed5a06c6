//! `demo`: a realistic synthetic export, imported for a `demo` user, so every question has
//! real-looking answers on a fresh machine.

use crate::settings::Settings;
use anyhow::Context;
use clap::Args;
use spotify_history_import::synthetic::{SyntheticConfig, SyntheticExport};
use spotify_history_import::{ImportSource, Limits};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Streams in the generated extended history
    #[arg(long, default_value_t = 20_000)]
    pub plays: u64,
    /// Same seed, same export
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The user that receives the demo history (created if missing)
    #[arg(long, default_value = "demo")]
    pub user: String,
}

pub async fn run(settings: &Settings, args: DemoArgs) -> anyhow::Result<()> {
    let store = super::open_store(settings).await?;
    let user = super::import::resolve_user(&store, Some(&args.user), true).await?;

    let this_year = jiff::ZonedDateTime::now().year();
    let export = SyntheticExport::generate(SyntheticConfig {
        plays: args.plays,
        seed: args.seed,
        start_year: i32::from(this_year) - 5,
        years: 5,
        ..SyntheticConfig::default()
    });
    let folder = settings.data_dir.join("demo");
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let zip = folder.join(format!("spotify-demo-export-{}.zip", args.seed));
    export
        .write_zip(&zip)
        .with_context(|| format!("cannot write {}", zip.display()))?;
    println!("generated {} ({} streams)", zip.display(), args.plays);

    let limits =
        Limits::from_settings(settings.import_max_zip_size_mb, settings.import_max_records);
    let source = ImportSource::open(&[zip], limits)?;
    let report =
        super::import::import_with_progress(&store, source, settings.import_options(user.id))
            .await?;
    let totals = store.listen_totals(user.id).await?;
    println!(
        "imported for user {:?}: {} listens ({} new, {} merged), {} tracks, {} artists, {:.0} hours",
        user.name,
        totals.listens,
        report.inserted,
        report.merged,
        totals.distinct_tracks,
        totals.distinct_artists,
        totals.total_ms_played as f64 / 3_600_000.0
    );
    println!(
        "next: `spotify-history tokens create --user {}` and connect an MCP client",
        user.name
    );
    store.close().await;
    Ok(())
}
