use std::collections::{HashMap, HashSet};
use std::fs;
use std::ops::ControlFlow;
use std::path::PathBuf;

use spotify_history_core::{ItemKind, NewListen, Source};

use super::*;
use crate::identity::{album_key, artist_key, end_minute, item_key, match_names, name_match_key};
use crate::{FileKind, ImportSource, Limits, Record, SkipCounts};

fn small_config() -> SyntheticConfig {
    SyntheticConfig {
        plays: 4000,
        seed: 7,
        start_year: 2020,
        years: 3,
        // Raised from the defaults so a small history still has every case.
        podcast_share: 0.08,
        video_share_of_podcasts: 0.2,
        audiobook_share: 0.02,
        local_file_share: 0.02,
        overlap_share: 0.05,
        skipped_row_share: 0.04,
        records_per_file: 1500,
        account_data: true,
        account_only_listens: 30,
        legacy_file_names: false,
    }
}

/// Everything the importer read from a synthetic export, as the store would see it.
#[derive(Default)]
struct Imported {
    extended: Vec<NewListen>,
    account: Vec<NewListen>,
    skipped: SkipCounts,
    records_per_file: Vec<(String, FileKind, u64)>,
}

fn import(path: PathBuf) -> (ImportSource, Imported) {
    let source = ImportSource::open(&[path], Limits::default()).unwrap();
    let mut imported = Imported::default();
    for (index, file) in source.files().iter().enumerate() {
        let summary = source
            .read_file(index, 0, |record| {
                match record {
                    Record::Listen(l) if l.source == Source::ExtendedExport => {
                        imported.extended.push(l)
                    }
                    Record::Listen(l) => imported.account.push(l),
                    Record::Skipped(reason) => imported.skipped.add(reason),
                }
                ControlFlow::Continue(())
            })
            .unwrap();
        imported
            .records_per_file
            .push((file.name.clone(), file.kind, summary.records));
    }
    (source, imported)
}

fn distinct<T: std::hash::Hash + Eq>(items: impl Iterator<Item = T>) -> u64 {
    items.collect::<HashSet<_>>().len() as u64
}

#[test]
fn importing_the_zip_gives_exactly_the_ground_truth() {
    let export = SyntheticExport::generate(small_config());
    let truth = export.ground_truth().clone();
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("my_spotify_data.zip");
    export.write_zip(&zip_path).unwrap();
    let (source, imported) = import(zip_path);

    // Files: every planned file, read in full, plus the unknown ones listed.
    let mut planned: Vec<(String, FileKind, u64)> = truth
        .files
        .iter()
        .map(|f| (f.name.clone(), f.kind, f.records))
        .collect();
    let mut read = imported.records_per_file.clone();
    planned.sort();
    read.sort();
    assert_eq!(read, planned);
    assert!(truth.files.iter().all(|f| f.records <= 1500));
    for kind in [
        FileKind::ExtendedAudio,
        FileKind::ExtendedVideo,
        FileKind::AccountMusic,
        FileKind::AccountPodcast,
    ] {
        assert!(truth.files.iter().any(|f| f.kind == kind), "{kind:?}");
    }
    let mut unknown = source.unknown_files().to_vec();
    unknown.sort();
    let mut expected_unknown = truth.unknown_files.clone();
    expected_unknown.sort();
    assert_eq!(unknown, expected_unknown);
    assert!(source.refused_files().is_empty());

    // Extended history: counts, skips, distinct keys, durations.
    let ext = &imported.extended;
    assert_eq!(
        truth.extended_records,
        truth.listens + truth.skipped.total()
    );
    assert_eq!(ext.len() as u64, truth.listens);
    assert_eq!(imported.skipped, truth.skipped);
    for reason in [
        crate::SkipReason::NoUriAndNoNames,
        crate::SkipReason::ZeroMsPlayed,
        crate::SkipReason::AbsurdValue,
    ] {
        assert!(truth.skipped.get(reason) > 0, "{reason}");
    }
    assert_eq!(
        distinct(ext.iter().map(|l| (l.ended_at, item_key(&l.item)))),
        truth.listens,
        "every listen has a distinct (ended_at, item)"
    );
    let of_kind = |kind| ext.iter().filter(move |l| l.item.kind == kind);
    assert_eq!(of_kind(ItemKind::Track).count() as u64, truth.track_listens);
    assert_eq!(
        of_kind(ItemKind::Episode).count() as u64,
        truth.episode_listens
    );
    assert_eq!(
        of_kind(ItemKind::Chapter).count() as u64,
        truth.chapter_listens
    );
    assert!(truth.chapter_listens > 0 && truth.episode_listens > 0);
    assert_eq!(
        distinct(of_kind(ItemKind::Track).map(|l| item_key(&l.item))),
        truth.distinct_tracks
    );
    assert!(
        of_kind(ItemKind::Track).any(|l| l.item.uri.is_none()),
        "some local files"
    );
    assert_eq!(
        distinct(of_kind(ItemKind::Track).map(|l| artist_key(&l.item.artists[0]))),
        truth.distinct_artists
    );
    assert_eq!(
        distinct(of_kind(ItemKind::Track).map(|l| album_key(&l.item))),
        truth.distinct_albums
    );
    assert_eq!(
        distinct(of_kind(ItemKind::Episode).map(|l| item_key(&l.item))),
        truth.distinct_episodes
    );
    assert_eq!(
        distinct(of_kind(ItemKind::Episode).map(|l| album_key(&l.item))),
        truth.distinct_shows
    );
    assert_eq!(
        distinct(of_kind(ItemKind::Chapter).map(|l| item_key(&l.item))),
        truth.distinct_chapters
    );
    assert_eq!(
        ext.iter().map(|l| l.ms_played.unwrap()).sum::<i64>(),
        truth.total_ms_played
    );
    assert_eq!(
        ext.iter()
            .filter(|l| l.ms_played.unwrap() >= 30_000)
            .count() as u64,
        truth.plays_at_least_30s
    );
    let overlapping = ext.len() as u64 - distinct(ext.iter().map(|l| l.ended_at));
    assert!(overlapping > 0, "some streams overlap");

    // Account data: each row is one extended listen (names + minute) or an account-only one.
    let match_key = |l: &NewListen| {
        let (owner, name) = match_names(&l.item);
        (name_match_key(owner, name), end_minute(l.ended_at))
    };
    let mut by_names: HashMap<_, u32> = HashMap::new();
    for l in ext.iter().filter(|l| l.item.kind != ItemKind::Chapter) {
        *by_names.entry(match_key(l)).or_default() += 1;
    }
    assert!(
        by_names.values().all(|&n| n == 1),
        "no two listens of the same names end in the same minute"
    );
    let acc = &imported.account;
    assert_eq!(acc.len() as u64, truth.account_rows);
    assert_eq!(
        acc.iter()
            .filter(|l| l.item.kind == ItemKind::Track)
            .count() as u64,
        truth.account_music_rows
    );
    let matched = acc
        .iter()
        .filter(|l| by_names.contains_key(&match_key(l)))
        .count() as u64;
    assert_eq!(matched, truth.account_matched);
    assert_eq!(acc.len() as u64 - matched, truth.account_only_listens);
    assert_eq!(truth.account_only_listens, 30);
    let account_only: Vec<&NewListen> = acc
        .iter()
        .filter(|l| !by_names.contains_key(&match_key(l)))
        .collect();
    assert_eq!(
        distinct(account_only.iter().map(|l| item_key(&l.item))),
        truth.account_only_distinct_tracks
    );
    let known_artists: HashSet<String> = of_kind(ItemKind::Track)
        .map(|l| artist_key(&l.item.artists[0]))
        .collect();
    assert!(
        account_only
            .iter()
            .all(|l| known_artists.contains(&artist_key(&l.item.artists[0])))
    );
    assert_eq!(
        truth.listens_after_merge(),
        truth.listens + truth.account_only_listens
    );
}

#[test]
fn generation_is_deterministic() {
    let config = SyntheticConfig {
        plays: 600,
        records_per_file: 250,
        account_only_listens: 5,
        ..small_config()
    };
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, config: &SyntheticConfig| {
        let path = dir.path().join(name);
        let export = SyntheticExport::generate(config.clone());
        export.write_dir(&path).unwrap();
        (export.ground_truth().clone(), path)
    };
    let (truth_a, a) = write("a", &config);
    let (truth_b, b) = write("b", &config);
    assert_eq!(truth_a, truth_b);
    for file in truth_a
        .files
        .iter()
        .map(|f| &f.name)
        .chain(&truth_a.unknown_files)
    {
        assert_eq!(
            fs::read(a.join(file)).unwrap(),
            fs::read(b.join(file)).unwrap(),
            "{file}"
        );
    }
    let other_seed = SyntheticConfig { seed: 8, ..config };
    let (_, c) = write("c", &other_seed);
    let first = &truth_a.files[0].name;
    assert_ne!(
        fs::read(a.join(first)).unwrap(),
        fs::read(c.join(first)).unwrap()
    );
}

#[test]
fn field_generations_and_names_look_like_the_real_export() {
    let export = SyntheticExport::generate(SyntheticConfig {
        plays: 3000,
        start_year: 2019,
        years: 5,
        ..small_config()
    });
    let dir = tempfile::tempdir().unwrap();
    export.write_dir(dir.path()).unwrap();
    let truth = export.ground_truth();
    let audio: Vec<&GeneratedFile> = truth
        .files
        .iter()
        .filter(|f| f.kind == FileKind::ExtendedAudio)
        .collect();
    assert_eq!(
        audio[0].name,
        "Spotify Extended Streaming History/Streaming_History_Audio_2019-2021_0.json"
    );
    let first = fs::read_to_string(dir.path().join(&audio[0].name)).unwrap();
    let last = fs::read_to_string(dir.path().join(&audio[audio.len() - 1].name)).unwrap();
    assert!(first.contains("\"username\"") && first.contains("\"ip_addr_decrypted\""));
    assert!(first.contains("\"skipped\":null") && !first.contains("\"audiobook_title\""));
    assert!(last.contains("\"ip_addr\"") && last.contains("\"audiobook_title\""));
    assert!(!last.contains("\"username\"") && last.contains("\"skipped\":true"));
    assert!(first.contains("Sigur Rós") || last.contains("Sigur Rós"));
    let account = fs::read_to_string(
        dir.path()
            .join("Spotify Account Data/StreamingHistory_music_0.json"),
    )
    .unwrap();
    assert!(account.starts_with("[\n{\n  \"endTime\": \"2023-"));
}

#[test]
fn legacy_names_and_no_account_data() {
    let export = SyntheticExport::generate(SyntheticConfig {
        plays: 500,
        records_per_file: 200,
        account_data: false,
        legacy_file_names: true,
        ..small_config()
    });
    let truth = export.ground_truth().clone();
    assert_eq!(truth.account_rows, 0);
    assert_eq!(truth.account_only_listens, 0);
    assert!(truth.files.iter().all(|f| f.kind.is_extended()));
    assert_eq!(truth.files[0].name, "MyData/endsong_0.json");
    assert_eq!(truth.files[0].kind, FileKind::ExtendedEndsong);
    let dir = tempfile::tempdir().unwrap();
    export.write_dir(&dir.path().join("MyData-export")).unwrap();
    let (_, imported) = import(dir.path().join("MyData-export"));
    assert_eq!(imported.extended.len() as u64, truth.listens);
    assert!(imported.account.is_empty());
    assert_eq!(imported.skipped, truth.skipped);
}
