//! Import throughput on a synthetic export: `cargo bench -p spotify-history-import`.
//! Prints figures only; set BENCH_PLAYS to change the size (default 300,000 rows).

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use spotify_history_import::synthetic::{SyntheticConfig, SyntheticExport};
use spotify_history_import::{ImportSource, Limits, Record, read_records};

fn main() {
    let plays = std::env::var("BENCH_PLAYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let export = SyntheticExport::generate(SyntheticConfig {
        plays,
        ..SyntheticConfig::default()
    });
    let zip = dir.path().join("export.zip");
    let folder = dir.path().join("export");
    let started = Instant::now();
    export.write_zip(&zip).expect("zip written");
    report("generate + write ZIP", plays, started);
    let started = Instant::now();
    export.write_dir(&folder).expect("folder written");
    report("generate + write folder", plays, started);

    for (label, path) in [
        ("read ZIP (inflate + parse)", zip),
        ("read folder (parse)", folder.clone()),
    ] {
        let started = Instant::now();
        let records = read_all(path);
        report(label, records, started);
    }

    // Parse only: the first extended file, from memory, repeated.
    let truth = export.ground_truth();
    let first = folder.join(&truth.files[0].name);
    let bytes = std::fs::read(&first).expect("first file");
    let now = spotify_history_core::EndedAt(i64::MAX / 2);
    let started = Instant::now();
    let mut records = 0u64;
    let rounds = std::env::var("BENCH_PARSE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    for _ in 0..rounds {
        let summary = read_records(
            bytes.as_slice(),
            "bench",
            truth.files[0].kind,
            0,
            now,
            |record| {
                std::hint::black_box(&record);
                ControlFlow::Continue(())
            },
        )
        .expect("parsed");
        records += summary.records;
    }
    report("parse from memory", records, started);
}

fn read_all(path: PathBuf) -> u64 {
    let source = ImportSource::open(&[path], Limits::default()).expect("opened");
    let mut records = 0;
    for index in 0..source.files().len() {
        let summary = source
            .read_file(index, 0, |record: Record| {
                std::hint::black_box(&record);
                ControlFlow::Continue(())
            })
            .expect("read");
        records += summary.records;
    }
    records
}

fn report(label: &str, records: u64, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{label:<28} {records:>9} records in {seconds:>6.2} s = {:>10.0} records/s",
        records as f64 / seconds
    );
}
