use std::io::{Seek, Write};

use zip::write::SimpleFileOptions;

use super::*;

const NOW: EndedAt = EndedAt(1_893_456_000_000); // 2030-01-01

fn extended_rows(n: usize) -> String {
    let rows: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"ts":"2020-01-01T00:00:{i:02}Z","ms_played":60000,"master_metadata_track_name":"Song {i}","master_metadata_album_artist_name":"Björk","spotify_track_uri":"spotify:track:s{i}"}}"#
            )
        })
        .collect();
    format!("[{}]", rows.join(","))
}

fn account_rows(n: usize) -> String {
    let rows: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"endTime":"2020-01-01 00:{i:02}","artistName":"Björk","trackName":"Song {i}","msPlayed":60000}}"#
            )
        })
        .collect();
    format!("[{}]", rows.join(","))
}

fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
    let mut zip = zip::ZipWriter::new(File::create(path).unwrap());
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, data) in entries {
        if let Some(dir) = name.strip_suffix('/') {
            zip.add_directory(dir, options).unwrap();
        } else {
            zip.start_file(*name, options).unwrap();
            zip.write_all(data).unwrap();
        }
    }
    zip.finish().unwrap();
}

/// Rewrites fields of one entry's central and local headers, as a forger would.
fn patch_entry(path: &Path, name: &str, patch: impl Fn(&mut [u8], &mut [u8])) {
    let mut bytes = fs::read(path).unwrap();
    let central = (0..bytes.len() - 46)
        .find(|&i| {
            bytes[i..].starts_with(b"PK\x01\x02") && bytes[i + 46..].starts_with(name.as_bytes())
        })
        .expect("central header of the entry");
    let local = u32::from_le_bytes(bytes[central + 42..central + 46].try_into().unwrap()) as usize;
    let mut central_header = bytes[central..central + 46].to_vec();
    let mut local_header = bytes[local..local + 30].to_vec();
    patch(&mut central_header, &mut local_header);
    bytes[central..central + 46].copy_from_slice(&central_header);
    bytes[local..local + 30].copy_from_slice(&local_header);
    fs::write(path, bytes).unwrap();
}

fn read_all(
    source: &ImportSource,
    index: usize,
) -> (Vec<Record>, Result<FileSummary, ImportError>) {
    let mut records = Vec::new();
    let result = source.read_file(index, 0, |r| {
        records.push(r);
        ControlFlow::Continue(())
    });
    (records, result)
}

fn open(paths: &[PathBuf], limits: Limits) -> ImportSource {
    ImportSource::open(paths, limits).unwrap().with_now(NOW)
}

#[test]
fn zip_with_nested_folders_lists_reads_and_orders_files() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("my_spotify_data.zip");
    let (ext, acc) = (extended_rows(3), account_rows(2));
    write_zip(
        &zip_path,
        &[
            ("Spotify Account Data/", b""),
            (
                "Spotify Account Data/StreamingHistory_music_0.json",
                acc.as_bytes(),
            ),
            ("Spotify Account Data/Userdata.json", b"{}"),
            ("Spotify Extended Streaming History/", b""),
            (
                "Spotify Extended Streaming History/Streaming_History_Audio_2019-2021_10.json",
                ext.as_bytes(),
            ),
            (
                "Spotify Extended Streaming History/Streaming_History_Audio_2018-2019_2.json",
                ext.as_bytes(),
            ),
            (
                "Spotify Extended Streaming History/ReadMeFirst_ExtendedStreamingHistory.pdf",
                b"%PDF-1.4",
            ),
            (
                "__MACOSX/Spotify Extended Streaming History/._Streaming_History_Audio_2018-2019_2.json",
                b"\0\x05\x16\x07",
            ),
        ],
    );
    let source = open(std::slice::from_ref(&zip_path), Limits::default());
    let names: Vec<&str> = source.files().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Spotify Extended Streaming History/Streaming_History_Audio_2018-2019_2.json",
            "Spotify Extended Streaming History/Streaming_History_Audio_2019-2021_10.json",
            "Spotify Account Data/StreamingHistory_music_0.json",
        ]
    );
    assert_eq!(source.files()[2].kind, FileKind::AccountMusic);
    assert_eq!(source.files()[0].container, zip_path);
    assert_eq!(source.unknown_files().len(), 3);
    assert!(
        source
            .unknown_files()
            .iter()
            .any(|n| n.ends_with("Userdata.json"))
    );
    assert!(source.refused_files().is_empty());

    let mut listens = 0;
    for index in 0..source.files().len() {
        let (records, summary) = read_all(&source, index);
        let summary = summary.unwrap();
        assert_eq!(summary.records as usize, records.len());
        listens += summary.listens;
    }
    assert_eq!(listens, 3 + 3 + 2);
    assert_eq!(source.progress().bytes_read(), source.total_bytes());
    assert_eq!(source.total_bytes(), (2 * ext.len() + acc.len()) as u64);
}

#[test]
fn fingerprints_follow_content_not_the_zip_name() {
    let dir = tempfile::tempdir().unwrap();
    let ext = extended_rows(3);
    let name = "Spotify Extended Streaming History/Streaming_History_Audio_2020_0.json";
    let a = dir.path().join("a.zip");
    let b = dir.path().join("b.zip");
    let c = dir.path().join("c.zip");
    write_zip(&a, &[(name, ext.as_bytes())]);
    write_zip(&b, &[(name, ext.as_bytes())]);
    write_zip(&c, &[(name, extended_rows(4).as_bytes())]);
    let fp = |p: &PathBuf| {
        open(std::slice::from_ref(p), Limits::default()).files()[0]
            .fingerprint
            .clone()
    };
    assert_eq!(fp(&a), fp(&b));
    assert_ne!(fp(&a), fp(&c));
    assert_eq!(fp(&a).len(), 40);
}

#[test]
fn traversal_names_are_refused_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("evil.zip");
    let acc = account_rows(1);
    write_zip(
        &zip_path,
        &[
            ("../StreamingHistory0.json", acc.as_bytes()),
            ("data/../../StreamingHistory1.json", acc.as_bytes()),
            ("/etc/StreamingHistory2.json", acc.as_bytes()),
            ("C:/StreamingHistory3.json", acc.as_bytes()),
            ("ok/StreamingHistory4.json", acc.as_bytes()),
        ],
    );
    let source = open(&[zip_path], Limits::default());
    assert_eq!(source.files().len(), 1);
    assert_eq!(source.files()[0].name, "ok/StreamingHistory4.json");
    let refused = source.refused_files();
    assert_eq!(refused.len(), 4, "{refused:?}");
    assert!(
        refused
            .iter()
            .all(|r| r.reason.contains("refused for safety"))
    );
    assert!(refused[0].reason.contains(".."));
    let (records, summary) = read_all(&source, 0);
    assert_eq!(records.len(), 1);
    assert_eq!(summary.unwrap().listens, 1);
}

#[test]
fn corrupt_and_non_zip_files_get_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let not_zip = dir.path().join("export.zip");
    fs::write(&not_zip, "this is not a zip").unwrap();
    let e = ImportSource::open(&[not_zip], Limits::default()).unwrap_err();
    assert!(matches!(e, ImportError::NotAZip { .. }), "{e:?}");
    assert!(e.to_string().contains("not a readable ZIP archive"), "{e}");

    let cut = dir.path().join("cut.zip");
    write_zip(
        &cut,
        &[("StreamingHistory0.json", account_rows(50).as_bytes())],
    );
    let bytes = fs::read(&cut).unwrap();
    fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = ImportSource::open(&[cut], Limits::default()).unwrap_err();
    assert!(matches!(e, ImportError::NotAZip { .. }), "{e:?}");

    let missing = dir.path().join("missing.zip");
    let e = ImportSource::open(&[missing], Limits::default()).unwrap_err();
    assert!(matches!(e, ImportError::Io { .. }), "{e:?}");
    assert!(matches!(
        ImportSource::open(&[], Limits::default()),
        Err(ImportError::NoInputs)
    ));
}

#[test]
fn oversized_zip_names_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("big.zip");
    write_zip(
        &zip_path,
        &[("StreamingHistory0.json", account_rows(5).as_bytes())],
    );
    let limits = Limits {
        max_zip_bytes: 100,
        ..Limits::default()
    };
    let e = ImportSource::open(&[zip_path], limits).unwrap_err();
    assert!(matches!(e, ImportError::ZipTooLarge { .. }));
    assert!(e.to_string().contains("IMPORT_MAX_ZIP_SIZE_MB"), "{e}");
}

#[test]
fn zip_bombs_are_refused_by_declared_size_and_ratio() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("bomb.zip");
    let zeros = vec![b' '; 3 * 1024 * 1024];
    write_zip(
        &zip_path,
        &[
            ("StreamingHistory0.json", &zeros),
            ("StreamingHistory1.json", account_rows(2).as_bytes()),
        ],
    );
    let source = open(std::slice::from_ref(&zip_path), Limits::default());
    assert_eq!(source.files().len(), 1, "the honest file is still read");
    assert!(
        source.refused_files()[0]
            .reason
            .contains("compression ratio"),
        "{:?}",
        source.refused_files()
    );
    let per_entry = Limits {
        max_uncompressed_bytes_per_entry: 1024 * 1024,
        max_compression_ratio: 1_000_000,
        ..Limits::default()
    };
    let source = open(&[zip_path], per_entry);
    assert!(source.refused_files()[0].reason.contains("limit per file"));
}

#[test]
fn zip_bomb_with_lying_sizes_is_stopped_while_streaming() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("liar.zip");
    let mut content = b"[".to_vec();
    content.resize(4 * 1024 * 1024, b' ');
    let name = "Spotify Account Data/StreamingHistory_music_0.json";
    write_zip(&zip_path, &[(name, &content)]);
    // Declare 100 bytes uncompressed: small enough to pass every check made at open.
    patch_entry(&zip_path, name, |central, local| {
        central[24..28].copy_from_slice(&100u32.to_le_bytes());
        local[22..26].copy_from_slice(&100u32.to_le_bytes());
    });
    let source = open(&[zip_path], Limits::default());
    assert_eq!(source.files()[0].size, 100);
    let (records, result) = read_all(&source, 0);
    assert!(records.is_empty());
    let e = result.unwrap_err();
    assert!(matches!(e, ImportError::ZipBomb { .. }), "{e:?}");
    assert!(
        source.progress().bytes_read() < 1024 * 1024,
        "stopped long before inflating 4 MiB"
    );
}

#[test]
fn encrypted_entries_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("locked.zip");
    let name = "StreamingHistory0.json";
    write_zip(&zip_path, &[(name, account_rows(2).as_bytes())]);
    patch_entry(&zip_path, name, |central, local| {
        central[8] |= 1;
        local[6] |= 1;
    });
    let source = open(&[zip_path], Limits::default());
    assert!(source.files().is_empty());
    assert!(source.refused_files()[0].reason.contains("encrypted"));
}

#[test]
fn folders_are_walked_in_natural_order_and_renamed_files_are_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("MyData");
    fs::create_dir_all(root.join("nested/deeper")).unwrap();
    fs::write(root.join("endsong_10.json"), extended_rows(1)).unwrap();
    fs::write(root.join("endsong_9.json"), extended_rows(2)).unwrap();
    fs::write(
        root.join("nested/deeper/StreamingHistory0.json"),
        account_rows(3),
    )
    .unwrap();
    fs::write(root.join("nested/Playlist1.json"), "{}").unwrap();
    let renamed = dir.path().join("my history.json");
    fs::write(&renamed, extended_rows(4)).unwrap();
    let other = dir.path().join("notes.json");
    fs::write(&other, "[]").unwrap();

    let source = open(&[root.clone(), renamed.clone(), other], Limits::default());
    let names: Vec<(&str, FileKind)> = source
        .files()
        .iter()
        .map(|f| (f.name.as_str(), f.kind))
        .collect();
    assert_eq!(
        names,
        [
            ("endsong_9.json", FileKind::ExtendedEndsong),
            ("endsong_10.json", FileKind::ExtendedEndsong),
            ("my history.json", FileKind::ExtendedAudio),
            (
                "nested/deeper/StreamingHistory0.json",
                FileKind::AccountMusic
            ),
        ]
    );
    assert_eq!(source.files()[0].container, root);
    assert_eq!(source.files()[2].container, renamed);
    assert_eq!(
        source.unknown_files(),
        ["nested/Playlist1.json", "notes.json"]
    );
    let counts: Vec<u64> = (0..4)
        .map(|i| read_all(&source, i).1.unwrap().listens)
        .collect();
    assert_eq!(counts, [2, 1, 4, 3]);
    let again = open(&[root], Limits::default());
    assert_eq!(again.files()[0].fingerprint, source.files()[0].fingerprint);
}

#[test]
fn record_limit_spans_files() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("StreamingHistory0.json"), account_rows(3)).unwrap();
    fs::write(dir.path().join("StreamingHistory1.json"), account_rows(3)).unwrap();
    let limits = Limits {
        max_records: 5,
        ..Limits::default()
    };
    let source = open(&[dir.path().to_owned()], limits);
    assert!(read_all(&source, 0).1.is_ok());
    let (records, result) = read_all(&source, 1);
    assert_eq!(records.len(), 2);
    let e = result.unwrap_err();
    assert!(e.to_string().contains("IMPORT_MAX_RECORDS"), "{e}");
    assert!(matches!(
        source.read_file(9, 0, |_| ControlFlow::Continue(())),
        Err(ImportError::NoSuchFile { index: 9, count: 2 })
    ));
}

#[test]
fn total_size_limit_is_checked_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut file = File::create(dir.path().join("StreamingHistory0.json")).unwrap();
    file.write_all(account_rows(100).as_bytes()).unwrap();
    file.rewind().unwrap();
    let limits = Limits {
        max_total_uncompressed_bytes: 100,
        ..Limits::default()
    };
    let e = ImportSource::open(&[dir.path().to_owned()], limits).unwrap_err();
    assert!(matches!(e, ImportError::TooLarge { .. }), "{e:?}");
}

#[test]
fn natural_order() {
    let mut names = vec!["a_10.json", "a_2.json", "a_1.json", "b.json", "a_02.json"];
    names.sort_by(|a, b| natural_cmp(a, b));
    assert_eq!(
        names,
        ["a_1.json", "a_02.json", "a_2.json", "a_10.json", "b.json"]
    );
}
