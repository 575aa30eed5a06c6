//! A small generated export, imported per test, and an oracle that reads the same JSON files
//! independently of the importer and the store: the expected answers are computed here.

use serde_json::Value;
use spotify_history_analytics::{Analytics, Scope};
use spotify_history_core::UserId;
use spotify_history_import::synthetic::{SyntheticConfig, SyntheticExport};
use spotify_history_import::{ImportOptions, ImportSource, Limits, import};
use spotify_history_store::Store;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// "Now" for answers about the export: right after its last year (2019–2021).
pub const NOW: &str = "2022-01-01T00:00:00Z";

/// What was heard, as the export names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Track,
    Episode,
    Chapter,
}

/// One valid extended-history row.
#[derive(Debug, Clone)]
pub struct Listen {
    pub ended_ms: i64,
    pub ms: i64,
    pub kind: Kind,
    pub name: String,
    /// Album artist of a track.
    pub artist: Option<String>,
    /// Album of a track, show of an episode, book of a chapter.
    pub album: Option<String>,
    /// Spotify URI; local files have none.
    pub uri: Option<String>,
}

impl Listen {
    /// Identity of the item: its URI, or its names for local files.
    pub fn item_key(&self) -> String {
        match &self.uri {
            Some(uri) => uri.clone(),
            None => format!(
                "local|{}|{}|{}",
                self.artist.as_deref().unwrap_or(""),
                self.name,
                self.album.as_deref().unwrap_or("")
            ),
        }
    }

    /// How a ranking shows the item: name, artist, and whether it is a local file.
    pub fn shown(&self) -> (String, Option<String>, bool) {
        (self.name.clone(), self.artist.clone(), self.uri.is_none())
    }
}

pub struct Export {
    pub dir: PathBuf,
    pub listens: Vec<Listen>,
}

/// The export, generated once and read once per test process.
pub fn export() -> &'static Export {
    static EXPORT: OnceLock<Export> = OnceLock::new();
    EXPORT.get_or_init(|| {
        let config = SyntheticConfig {
            plays: 4_000,
            seed: 2024,
            start_year: 2019,
            years: 3,
            records_per_file: 1_500,
            account_data: false,
            ..SyntheticConfig::default()
        };
        // The generator is deterministic, so every test process (nextest runs one per test)
        // shares one folder: written beside it, then renamed into place by whoever is first.
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let dir = root.join(format!("analytics-export-{}-{}", config.seed, config.plays));
        if !dir.exists() {
            let scratch = tempfile::tempdir_in(root).unwrap();
            SyntheticExport::generate(config)
                .write_dir(scratch.path())
                .unwrap();
            let written = scratch.keep();
            if std::fs::rename(&written, &dir).is_err() {
                // Another test process was first: its folder holds the same files.
                let _ = std::fs::remove_dir_all(&written);
            }
        }
        let listens = read_listens(&dir);
        assert!(
            listens.len() > 3_800,
            "the export holds {} listens",
            listens.len()
        );
        Export { dir, listens }
    })
}

/// Every valid listen of the extended-history files, by the export's own fields.
fn read_listens(dir: &Path) -> Vec<Listen> {
    let mut files = Vec::new();
    collect_files(dir, &mut files);
    let mut listens = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("Streaming_History_") || !name.ends_with(".json") {
            continue;
        }
        let rows: Vec<Value> = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        listens.extend(rows.iter().filter_map(listen_of));
    }
    listens.sort_by_key(|l| l.ended_ms);
    listens
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn text(row: &Value, field: &str) -> Option<String> {
    row.get(field)?.as_str().map(str::to_string)
}

/// Spotify's rules as the service documents them: no item named → not a listen; zero,
/// negative or more than a day of ms_played → not a listen.
fn listen_of(row: &Value) -> Option<Listen> {
    let ms = row.get("ms_played")?.as_i64()?;
    if ms <= 0 || ms > 86_400_000 {
        return None;
    }
    let ended_ms = text(row, "ts")?
        .parse::<jiff::Timestamp>()
        .ok()?
        .as_millisecond();
    let track_uri = text(row, "spotify_track_uri");
    if let Some(name) = text(row, "master_metadata_track_name") {
        return Some(Listen {
            ended_ms,
            ms,
            kind: Kind::Track,
            name,
            artist: text(row, "master_metadata_album_artist_name"),
            album: text(row, "master_metadata_album_album_name"),
            uri: track_uri,
        });
    }
    if let Some(uri) = text(row, "spotify_episode_uri") {
        return Some(Listen {
            ended_ms,
            ms,
            kind: Kind::Episode,
            name: text(row, "episode_name")?,
            artist: None,
            album: text(row, "episode_show_name"),
            uri: Some(uri),
        });
    }
    if let Some(uri) = text(row, "audiobook_chapter_uri") {
        return Some(Listen {
            ended_ms,
            ms,
            kind: Kind::Chapter,
            name: text(row, "audiobook_chapter_title")?,
            artist: None,
            album: text(row, "audiobook_title"),
            uri: Some(uri),
        });
    }
    None
}

/// A user holding the export, and an Analytics answering at [`NOW`].
pub async fn imported(store: &Store) -> (Analytics, Scope) {
    let user = store.create_user("ann", None).await.unwrap().id;
    import_for(store, user).await;
    (analytics(store), scope(user))
}

pub async fn import_for(store: &Store, user: UserId) {
    let source = ImportSource::open(&[export().dir.clone()], Limits::default()).unwrap();
    let options = ImportOptions::new(user);
    let report = import(store, source, options, |_| {}).await.unwrap();
    assert_eq!(report.inserted as usize, export().listens.len());
}

pub fn analytics(store: &Store) -> Analytics {
    Analytics::new(store.clone(), 30_000).at(NOW.parse().unwrap())
}

pub fn scope(user: UserId) -> Scope {
    Scope {
        user,
        time_zone: None,
    }
}

/// Milliseconds of an instant.
pub fn ms(instant: &str) -> i64 {
    instant.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

/// Minutes as answers show them.
pub fn minutes(ms: i64) -> f64 {
    (ms as f64 / 60_000.0 * 10.0).round() / 10.0
}

/// The counting rules every answer is checked under, as (`min_ms` argument, threshold): the
/// default rule, answered from the rollups, and another one, answered from the plays.
pub const RULES: [(Option<i64>, i64); 2] = [(None, 30_000), (Some(20_000), 20_000)];

/// Counted listens (default rule) in `[from, to)`.
pub fn plays_between(from: i64, to: i64) -> impl Iterator<Item = &'static Listen> {
    plays_at(30_000, from, to)
}

/// Listens of at least `min_ms` in `[from, to)`.
pub fn plays_at(min_ms: i64, from: i64, to: i64) -> impl Iterator<Item = &'static Listen> {
    export()
        .listens
        .iter()
        .filter(move |l| l.ms >= min_ms && l.ended_ms >= from && l.ended_ms < to)
}

/// Plays and ms per key, ranked as the service ranks: plays, then ms, descending.
pub fn rank<K: std::hash::Hash + Eq + Clone>(
    listens: impl Iterator<Item = (K, i64)>,
) -> Vec<(K, i64, i64)> {
    let mut totals: HashMap<K, (i64, i64)> = HashMap::new();
    for (key, ms) in listens {
        let entry = totals.entry(key).or_default();
        entry.0 += 1;
        entry.1 += ms;
    }
    let mut ranked: Vec<(K, i64, i64)> = totals.into_iter().map(|(k, (p, m))| (k, p, m)).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)));
    ranked
}
