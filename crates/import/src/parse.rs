//! One export file's JSON, from any reader, to a stream of [`Record`]s.

use std::io::Read;
use std::ops::ControlFlow;

use spotify_history_core::EndedAt;

use crate::account::{self, AccountShape};
use crate::extended::{self, ExtendedShape};
use crate::history_export::{self, ExportFormat};
use crate::json_array::{ElementShape, read_array};
use crate::{FileKind, FileSummary, ImportError, Record};

/// Read one export file of kind `kind` from `reader`, giving each record to `on_record` in file
/// order.
///
/// The first `skip_first` array elements are passed over unparsed (a resumed import's
/// checkpoint: every element counts, skipped ones too). `name` is used in errors. `now` bounds
/// plausible end times. A truncated file delivers every complete record before the error.
pub fn read_records<R: Read>(
    reader: R,
    name: &str,
    kind: FileKind,
    skip_first: u64,
    now: EndedAt,
    on_record: impl FnMut(Record) -> ControlFlow<()>,
) -> Result<FileSummary, ImportError> {
    match kind {
        FileKind::ExtendedAudio | FileKind::ExtendedVideo | FileKind::ExtendedEndsong => {
            read_shape::<ExtendedShape, _>(reader, name, skip_first, on_record, |element| {
                extended::normalize(element, now)
            })
        }
        FileKind::AccountMusic | FileKind::AccountPodcast => {
            read_shape::<AccountShape, _>(reader, name, skip_first, on_record, |element| {
                account::normalize(element, now)
            })
        }
        FileKind::HistoryExportJsonl => history_export::read_export(
            reader,
            name,
            ExportFormat::Jsonl,
            skip_first,
            now,
            on_record,
        ),
        FileKind::HistoryExportCsv => {
            history_export::read_export(reader, name, ExportFormat::Csv, skip_first, now, on_record)
        }
        FileKind::Unknown => Err(ImportError::NotStreamingHistory {
            name: name.to_owned(),
            found: "a file that is not part of the listening history".to_owned(),
        }),
    }
}

fn read_shape<S: ElementShape, R: Read>(
    reader: R,
    name: &str,
    skip_first: u64,
    mut on_record: impl FnMut(Record) -> ControlFlow<()>,
    mut normalize: impl for<'de> FnMut(Option<S::Element<'de>>) -> Record,
) -> Result<FileSummary, ImportError> {
    let mut summary = FileSummary::default();
    let end = read_array::<S, _, _>(reader, name, skip_first, |element| {
        let record = normalize(element);
        match &record {
            Record::Listen(_) => summary.listens += 1,
            Record::Skipped(reason) => summary.skipped.add(*reason),
        }
        on_record(record)
    })?;
    summary.records = end.elements;
    summary.resumed_past = skip_first.min(end.elements);
    summary.stopped_early = end.stopped_early;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;
    use crate::SkipReason;

    const NOW: EndedAt = EndedAt(1_893_456_000_000); // 2030-01-01

    /// Hands out at most `step` bytes per read, so every element crosses refills.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn row(i: usize) -> String {
        format!(
            r#"{{"ts":"2021-03-04T18:{:02}:{:02}Z","ms_played":{},"master_metadata_track_name":"Track \"{i}\" ✨","master_metadata_album_artist_name":"Sigur Rós","spotify_track_uri":"spotify:track:t{i}"}}"#,
            i / 60 % 60,
            i % 60,
            1000 + i
        )
    }

    fn array(rows: &[String]) -> String {
        format!("[\n  {}\n]\n", rows.join(",\n  "))
    }

    fn collect(
        json: &str,
        kind: FileKind,
        skip_first: u64,
        step: usize,
    ) -> (Vec<Record>, Result<FileSummary, ImportError>) {
        let mut records = Vec::new();
        let reader = Trickle {
            data: json.as_bytes(),
            step,
        };
        let result = read_records(reader, "test.json", kind, skip_first, NOW, |r| {
            records.push(r);
            ControlFlow::Continue(())
        });
        (records, result)
    }

    fn ms_of(record: &Record) -> Option<i64> {
        match record {
            Record::Listen(l) => l.ms_played,
            Record::Skipped(_) => None,
        }
    }

    #[test]
    fn reads_every_element_whatever_the_read_sizes() {
        let rows: Vec<String> = (0..200).map(row).collect();
        let json = array(&rows);
        let (whole, summary) = collect(&json, FileKind::ExtendedAudio, 0, usize::MAX);
        let summary = summary.unwrap();
        assert_eq!(whole.len(), 200);
        assert_eq!(summary.records, 200);
        assert_eq!(summary.listens, 200);
        for step in [1, 2, 7, 100] {
            let (trickled, _) = collect(&json, FileKind::ExtendedAudio, 0, step);
            assert_eq!(trickled, whole, "step {step}");
        }
        match &whole[7] {
            Record::Listen(l) => assert_eq!(l.item.name, "Track \"7\" ✨"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_elements_are_skipped_without_losing_the_stream() {
        let rows = vec![
            row(0),
            "12345".to_owned(),
            "[1, {\"a\": [2]}]".to_owned(),
            row(1),
            "\"text\"".to_owned(),
            "null".to_owned(),
            r#"{"ts":"2021-01-01T00:00:00Z","ts":"2021-01-01T00:00:00Z"}"#.to_owned(),
            row(2),
            "-7".to_owned(),
        ];
        for step in [1, 3, usize::MAX] {
            let (records, summary) = collect(&array(&rows), FileKind::ExtendedAudio, 0, step);
            let summary = summary.unwrap();
            assert_eq!(summary.records, 9, "step {step}");
            assert_eq!(summary.listens, 3);
            assert_eq!(summary.skipped.get(SkipReason::MalformedRecord), 6);
            assert_eq!(ms_of(&records[3]), Some(1001));
            assert_eq!(ms_of(&records[7]), Some(1002));
        }
    }

    #[test]
    fn resume_skips_exactly_the_committed_elements() {
        let mut rows: Vec<String> = (0..10).map(row).collect();
        rows[2] = "42".to_owned(); // a skipped element counts like any other
        let json = array(&rows);
        let (all, _) = collect(&json, FileKind::ExtendedAudio, 0, 5);
        let (rest, summary) = collect(&json, FileKind::ExtendedAudio, 4, 5);
        let summary = summary.unwrap();
        assert_eq!(rest, all[4..]);
        assert_eq!(summary.records, 10);
        assert_eq!(summary.resumed_past, 4);
        assert_eq!(summary.listens, 6);
        let (none, summary) = collect(&json, FileKind::ExtendedAudio, 50, 5);
        assert!(none.is_empty());
        assert_eq!(summary.unwrap().resumed_past, 10);
    }

    #[test]
    fn stopping_early_reports_how_far_it_got() {
        let rows: Vec<String> = (0..10).map(row).collect();
        let mut seen = 0;
        let summary = read_records(
            array(&rows).as_bytes(),
            "t",
            FileKind::ExtendedAudio,
            0,
            NOW,
            |_| {
                seen += 1;
                if seen == 3 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        )
        .unwrap();
        assert!(summary.stopped_early);
        assert_eq!(summary.records, 3);
    }

    #[test]
    fn truncated_file_delivers_what_came_before() {
        let rows: Vec<String> = (0..5).map(row).collect();
        let json = array(&rows);
        let cut = &json[..json.find(&row(3)).unwrap() + 30];
        for step in [1, usize::MAX] {
            let (records, result) = collect(cut, FileKind::ExtendedAudio, 0, step);
            assert_eq!(records.len(), 3);
            let e = result.unwrap_err();
            assert!(
                matches!(e, ImportError::Truncated { records: 3, .. }),
                "{e:?}"
            );
            assert!(e.to_string().contains("truncated after 3 records"), "{e}");
        }
        let (_, result) = collect("[", FileKind::ExtendedAudio, 0, 1);
        assert!(matches!(
            result,
            Err(ImportError::Truncated { records: 0, .. })
        ));
        let no_close = format!("[{}", row(0));
        let (records, result) = collect(&no_close, FileKind::ExtendedAudio, 0, 4);
        assert_eq!(records.len(), 1);
        assert!(matches!(
            result,
            Err(ImportError::Truncated { records: 1, .. })
        ));
    }

    #[test]
    fn non_arrays_are_refused_clearly() {
        for (text, found) in [
            (r#"{"ts": "x"}"#, "a JSON object"),
            ("<!DOCTYPE html><html>", "HTML"),
            ("", "an empty file"),
            ("   \n", "an empty file"),
            ("PK\u{3}\u{4}....", "a ZIP archive"),
        ] {
            let (_, result) = collect(text, FileKind::AccountMusic, 0, usize::MAX);
            let e = result.unwrap_err();
            let message = e.to_string();
            assert!(
                message.contains("not a Spotify streaming-history file: expected a JSON array"),
                "{message}"
            );
            assert!(message.contains(found), "{message}");
        }
    }

    #[test]
    fn broken_json_between_records_is_an_error_naming_the_place() {
        let json = format!("[{} {}]", row(0), row(1));
        let (records, result) = collect(&json, FileKind::ExtendedAudio, 0, usize::MAX);
        assert_eq!(records.len(), 1);
        let e = result.unwrap_err();
        assert!(
            matches!(e, ImportError::InvalidJson { records: 1, .. }),
            "{e:?}"
        );
        let json = format!("[{}, {{\"ts\" 5}}]", row(0));
        let (_, result) = collect(&json, FileKind::ExtendedAudio, 0, usize::MAX);
        assert!(matches!(
            result,
            Err(ImportError::InvalidJson { records: 1, .. })
        ));
    }

    #[test]
    fn lenient_framing_bom_empty_and_trailing_comma() {
        let (records, summary) = collect("\u{feff}[]", FileKind::AccountMusic, 0, 1);
        assert!(records.is_empty());
        assert_eq!(summary.unwrap().records, 0);
        let json = format!("\u{feff} [ {} , ]", row(0));
        let (records, summary) = collect(&json, FileKind::ExtendedAudio, 0, 2);
        assert_eq!(records.len(), 1);
        assert_eq!(summary.unwrap().records, 1);
    }

    #[test]
    fn an_oversized_element_is_refused() {
        let huge = format!(
            "[{{\"ts\": \"{}\"}}]",
            "x".repeat(crate::json_array::MAX_ELEMENT_BYTES + 10)
        );
        let (_, result) = collect(&huge, FileKind::ExtendedAudio, 0, usize::MAX);
        assert!(matches!(
            result,
            Err(ImportError::RecordTooLarge { index: 0, .. })
        ));
    }

    #[test]
    fn account_files_read_both_kinds_of_row() {
        let json = r#"[
  {"endTime" : "2024-05-01 13:45", "artistName" : "Beyoncé", "trackName" : "CUFF IT", "msPlayed" : 225000},
  {"endTime" : "2024-05-01 14:00", "podcastName" : "Science Hour", "episodeName" : "Glaciers", "msPlayed" : 0}
]"#;
        let (records, summary) = collect(json, FileKind::AccountMusic, 0, 3);
        let summary = summary.unwrap();
        assert_eq!(summary.listens, 1);
        assert_eq!(summary.skipped.get(SkipReason::ZeroMsPlayed), 1);
        assert!(matches!(&records[0], Record::Listen(l) if l.item.name == "CUFF IT"));
    }

    #[test]
    fn fast_path_and_serde_give_the_same_records() {
        use crate::extended::ExtendedRecord;
        use crate::lenient::ObjectOnly;

        let elements = [
            row(1),
            row(2).replace(r#""ms_played":1002"#, r#""ms_played":"1002""#),
            row(3).replace(r#""ms_played":1003"#, r#""ms_played":1003.9"#),
            row(4).replace(r#""ms_played":1004"#, r#""ms_played":18446744073709551616"#),
            row(6).replace(r#""ms_played":1006"#, r#""ms_played":true"#),
            row(7).replace(r#""ms_played":1007"#, r#""ms_played":null"#),
            row(8).replace(
                '}',
                r#","skipped":"true","shuffle":1,"offline":2,"incognito_mode":0.0}"#,
            ),
            row(9).replace('}', r#","future":{"a":[1,{"b":2}]},"skipped":[1]}"#),
            row(10).replace("Sigur Rós", r"Sigur R\u00f3s \ud83c\udfb5"),
            row(11).replace(r#""ts":"#, r#""ts": 5, "x":"#),
            row(12).replace(
                r#""ts":"2021-03-04T18:00:12Z""#,
                r#""ts":"2021-03-04T18:00:12Z","ts":null"#,
            ),
            row(13).replace(':', " : ").replace(',', " ,\n "),
            r#"{"master_metadata_track_name":"x","master_metadata_album_artist_name":5}"#
                .to_owned(),
            "{}".to_owned(),
            r#"{"spotify_track_uri":""}"#.to_owned(),
        ];
        for element in elements {
            let (fast, summary) = collect(&format!("[{element}]"), FileKind::ExtendedAudio, 0, 64);
            summary.unwrap();
            let serde = crate::extended::normalize(
                serde_json::from_str::<ObjectOnly<ExtendedRecord<'_>>>(&element).ok(),
                NOW,
            );
            assert_eq!(fast, vec![serde], "{element}");
        }
    }

    #[test]
    fn a_number_beyond_f64_costs_one_record_not_the_file() {
        let rows = [
            row(1).replace(r#""ms_played":1001"#, r#""ms_played":1e400"#),
            row(2),
        ];
        let (records, summary) = collect(&array(&rows), FileKind::ExtendedAudio, 0, 64);
        assert_eq!(records[0], Record::Skipped(SkipReason::MalformedRecord));
        assert_eq!(summary.unwrap().listens, 1);
    }

    #[test]
    fn invalid_utf8_is_reported_not_guessed() {
        let mut bytes = format!("[{},{}]", row(0), row(1)).into_bytes();
        let at = bytes.len() - 20;
        bytes[at] = 0xFF;
        let mut delivered = 0;
        let result = read_records(
            bytes.as_slice(),
            "t",
            FileKind::ExtendedAudio,
            0,
            NOW,
            |_| {
                delivered += 1;
                ControlFlow::Continue(())
            },
        );
        assert_eq!(delivered, 1);
        assert!(
            matches!(result, Err(ImportError::InvalidJson { records: 1, .. })),
            "{result:?}"
        );
    }

    #[test]
    fn unknown_files_are_not_parsed() {
        let (_, result) = collect("[]", FileKind::Unknown, 0, 1);
        assert!(matches!(
            result,
            Err(ImportError::NotStreamingHistory { .. })
        ));
    }
}
