//! This service's own export (`spotify-history export`): every stored listen as one JSON object
//! per line (`.jsonl`) or one CSV row (`.csv`), and the reader that imports it back.
//!
//! Records use the field names of Spotify's extended streaming history (`ts`, `ms_played`,
//! `master_metadata_track_name`, `spotify_track_uri`, `episode_name`, ...), so people and
//! tools that know that format read it at once, plus fields this service adds:
//! `spotify_album_uri` and `spotify_artist_uri` (catalogue keys the extended format lacks),
//! `ms_played_estimated`, `source` (the richest source of the listen) and `sources` (every
//! confirming source, as names joined by `|`; informational) and `track_key`
//! (informational: the importer derives keys itself).
//!
//! `ts` keeps milliseconds (`2024-03-04T18:22:05.123Z`) because API plays have them.
//! A listen re-imports under its `source` (absent: `extended_export`), so it merges with
//! later imports and polls exactly as the original did; the other confirming sources are
//! not restored.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::ops::ControlFlow;
use std::sync::Arc;

use serde_json::{Map, Value};
use spotify_history_core::{
    AlbumRef, ArtistRef, EndedAt, ItemKind, ItemRef, NewListen, PlayDetails, Source, SourceSet,
};
use spotify_history_store::StoredListen;

use crate::lenient::Lenient;
use crate::plausible::{check_ms_played, is_plausible_end};
use crate::timestamp::parse_ts;
use crate::{FileSummary, ImportError, Record, SkipReason};

/// No record of this format comes near this size; a longer line is not this format.
const MAX_LINE_BYTES: usize = 1024 * 1024;

/// The columns, in the order they are written.
pub const EXPORT_FIELDS: [&str; 28] = [
    "ts",
    "ms_played",
    "master_metadata_track_name",
    "master_metadata_album_artist_name",
    "master_metadata_album_album_name",
    "spotify_track_uri",
    "episode_name",
    "episode_show_name",
    "spotify_episode_uri",
    "audiobook_title",
    "audiobook_uri",
    "audiobook_chapter_uri",
    "audiobook_chapter_title",
    "platform",
    "conn_country",
    "reason_start",
    "reason_end",
    "shuffle",
    "skipped",
    "offline",
    "incognito_mode",
    "spotify_album_uri",
    "spotify_artist_uri",
    "ms_played_estimated",
    "source",
    "sources",
    "track_key",
    "kind",
];

/// The two layouts of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExportFormat {
    /// One JSON object per line.
    Jsonl,
    /// A header row of [`EXPORT_FIELDS`], then one row per listen (RFC 4180).
    Csv,
}

impl ExportFormat {
    /// The file extension (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Csv => "csv",
        }
    }
}

/// Writes stored listens as an export, one record at a time.
pub struct ExportWriter<W: Write> {
    out: W,
    format: ExportFormat,
}

impl<W: Write> ExportWriter<W> {
    /// Starts an export (writes the CSV header).
    pub fn new(mut out: W, format: ExportFormat) -> io::Result<Self> {
        if format == ExportFormat::Csv {
            writeln!(out, "{}", EXPORT_FIELDS.join(","))?;
        }
        Ok(Self { out, format })
    }

    /// Continues an export started elsewhere (no CSV header): for writing it in pieces.
    pub fn continuing(out: W, format: ExportFormat) -> Self {
        Self { out, format }
    }

    /// Writes one listen.
    pub fn write(&mut self, listen: &StoredListen) -> io::Result<()> {
        let values = record_values(listen);
        match self.format {
            ExportFormat::Jsonl => {
                self.out.write_all(b"{")?;
                for (i, (field, value)) in EXPORT_FIELDS.iter().zip(&values).enumerate() {
                    if i > 0 {
                        self.out.write_all(b",")?;
                    }
                    write!(self.out, "\"{field}\":{value}")?;
                }
                self.out.write_all(b"}\n")
            }
            ExportFormat::Csv => {
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        self.out.write_all(b",")?;
                    }
                    let text = match value {
                        Value::Null => String::new(),
                        Value::String(s) => csv_field(s),
                        other => other.to_string(),
                    };
                    self.out.write_all(text.as_bytes())?;
                }
                self.out.write_all(b"\n")
            }
        }
    }

    /// Flushes and hands back the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The values of [`EXPORT_FIELDS`] for one listen.
fn record_values(l: &StoredListen) -> Vec<Value> {
    let text = |s: Option<&str>| s.map_or(Value::Null, |s| Value::String(s.to_owned()));
    let spotify = |key: Option<&str>| text(key.filter(|k| k.starts_with("spotify:")));
    let flag = |b: Option<bool>| b.map_or(Value::Null, Value::Bool);
    let ts = jiff::Timestamp::from_millisecond(l.ended_at)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let name = Some(l.track_name.as_str());
    let album = l.album_name.as_deref();
    let uri = Some(l.track_key.as_str());
    let (track, episode, chapter) = (l.kind == 0, l.kind == 1, l.kind == 2);
    let pick = |yes: bool, value: Value| if yes { value } else { Value::Null };
    let source = Source::from_bit(l.source).map_or(Value::Null, |s| s.as_str().into());
    let sources = Source::ALL
        .iter()
        .filter(|s| SourceSet(l.sources).contains(**s))
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join("|");
    vec![
        Value::String(ts),
        l.ms_played.map_or(Value::Null, Value::from),
        pick(track, text(name)),
        text(l.artist_names.as_deref()),
        pick(track, text(album)),
        pick(track, spotify(uri)),
        pick(episode, text(name)),
        pick(episode, text(album)),
        pick(episode, spotify(uri)),
        pick(chapter, text(album)),
        pick(chapter, spotify(l.album_key.as_deref())),
        pick(chapter, spotify(uri)),
        pick(chapter, text(name)),
        text(l.platform.as_deref()),
        text(l.conn_country.as_deref()),
        text(l.reason_start.as_deref()),
        text(l.reason_end.as_deref()),
        flag(l.shuffle),
        flag(l.skipped),
        flag(l.offline),
        flag(l.incognito),
        pick(!chapter, spotify(l.album_key.as_deref())),
        spotify(l.artist_key.as_deref()),
        Value::Bool(l.ms_played_estimated),
        source,
        Value::String(sources),
        Value::String(l.track_key.clone()),
        Value::from(l.kind),
    ]
}

/// Characters that make a spreadsheet read a cell as a formula.
const FORMULA_START: [char; 4] = ['=', '+', '-', '@'];

/// A CSV cell: a leading formula character is defused with `'` (and a `'` that would read as
/// such a prefix gets one more), undone by [`csv_unescape_text`]; quoted when it holds a
/// separator, quote or line break (RFC 4180).
fn csv_field(text: &str) -> String {
    let mut chars = text.chars();
    let first = chars.next();
    let second = chars.next();
    let defuse = first.is_some_and(|c| FORMULA_START.contains(&c))
        || (first == Some('\'') && second.is_some_and(|c| c == '\'' || FORMULA_START.contains(&c)));
    let text = if defuse {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn csv_unescape_text(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with('\'') || rest.starts_with(FORMULA_START) => rest,
        _ => text,
    }
}

/// Splits one CSV record into cells; `None` while a quoted cell is still open (the record
/// continues on the next line).
fn split_csv(record: &str) -> Option<Vec<String>> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = record.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => cells.push(std::mem::take(&mut cell)),
            (false, c) => cell.push(c),
        }
    }
    if quoted {
        return None;
    }
    cells.push(cell);
    Some(cells)
}

/// Reads an export file, giving each line's record to `on_record` in file order. Blank lines
/// are passed over; a line that is not a record is skipped as `malformed_record`.
pub(crate) fn read_export<R: Read>(
    reader: R,
    name: &str,
    format: ExportFormat,
    skip_first: u64,
    now: EndedAt,
    mut on_record: impl FnMut(Record) -> ControlFlow<()>,
) -> Result<FileSummary, ImportError> {
    let mut lines = Lines {
        reader: BufReader::new(reader),
        name,
        records: 0,
    };
    let mut header: Option<Vec<String>> = None;
    let mut summary = FileSummary::default();
    while let Some(line) = lines.next_record(format)? {
        let fields = match format {
            ExportFormat::Jsonl => std::str::from_utf8(&line)
                .ok()
                .and_then(|text| serde_json::from_str::<Map<String, Value>>(text).ok()),
            ExportFormat::Csv => {
                let cells = std::str::from_utf8(&line).ok().and_then(split_csv);
                let Some(columns) = &header else {
                    let columns = cells.filter(|c| c.iter().any(|c| c == "ts"));
                    header = Some(columns.ok_or_else(|| ImportError::NotStreamingHistory {
                        name: name.to_owned(),
                        found: "a CSV file without a `ts` column in its header".to_owned(),
                    })?);
                    continue;
                };
                cells.filter(|c| c.len() == columns.len()).map(|cells| {
                    columns
                        .iter()
                        .zip(cells)
                        .filter(|(_, cell)| !cell.is_empty())
                        .map(|(column, cell)| {
                            (
                                column.clone(),
                                Value::String(csv_unescape_text(&cell).to_owned()),
                            )
                        })
                        .collect()
                })
            }
        };
        lines.records += 1;
        if lines.records <= skip_first {
            continue;
        }
        let record = match fields {
            Some(fields) => match listen_of(&fields, now) {
                Ok(listen) => Record::Listen(listen),
                Err(reason) => Record::Skipped(reason),
            },
            None => Record::Skipped(SkipReason::MalformedRecord),
        };
        match &record {
            Record::Listen(_) => summary.listens += 1,
            Record::Skipped(reason) => summary.skipped.add(*reason),
        }
        if on_record(record).is_break() {
            summary.stopped_early = true;
            break;
        }
    }
    summary.records = lines.records;
    summary.resumed_past = skip_first.min(lines.records);
    Ok(summary)
}

struct Lines<'n, R> {
    reader: BufReader<R>,
    name: &'n str,
    records: u64,
}

impl<R: Read> Lines<'_, R> {
    /// The next non-blank record's bytes (for CSV, continued over line breaks inside quotes).
    fn next_record(&mut self, format: ExportFormat) -> Result<Option<Vec<u8>>, ImportError> {
        let mut record = Vec::new();
        loop {
            let start = record.len();
            let read = (&mut self.reader)
                .take((MAX_LINE_BYTES + 1) as u64)
                .read_until(b'\n', &mut record)
                .map_err(|source| ImportError::Read {
                    name: self.name.to_owned(),
                    records: self.records,
                    source,
                })?;
            if record.len() > MAX_LINE_BYTES {
                return Err(ImportError::RecordTooLarge {
                    name: self.name.to_owned(),
                    index: self.records,
                    limit_bytes: MAX_LINE_BYTES,
                });
            }
            if read == 0 {
                // End of file: a CSV record with an open quote is still one (malformed) record.
                let blank = record.iter().all(u8::is_ascii_whitespace);
                return Ok((!blank).then_some(record));
            }
            let open_quote = format == ExportFormat::Csv
                && record.iter().filter(|&&b| b == b'"').count() % 2 == 1;
            if open_quote {
                continue;
            }
            if record[start..].iter().all(u8::is_ascii_whitespace) && start == 0 {
                record.clear();
                continue;
            }
            while record.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                record.pop();
            }
            return Ok(Some(record));
        }
    }
}

/// A field as text; empty text is absent.
fn text<'a>(fields: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, SkipReason> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(SkipReason::MalformedRecord),
    }
}

fn integer(fields: &Map<String, Value>, key: &str) -> Result<Option<i64>, SkipReason> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or(SkipReason::MalformedRecord),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|_| SkipReason::MalformedRecord),
        Some(_) => Err(SkipReason::MalformedRecord),
    }
}

fn flag(fields: &Map<String, Value>, key: &str) -> Result<Option<bool>, SkipReason> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|_| SkipReason::MalformedRecord),
        Some(_) => Err(SkipReason::MalformedRecord),
    }
}

fn source(fields: &Map<String, Value>) -> Result<Source, SkipReason> {
    match fields.get("source") {
        None | Some(Value::Null) => Ok(Source::ExtendedExport),
        Some(Value::String(s)) if s.is_empty() => Ok(Source::ExtendedExport),
        Some(Value::String(s)) => Source::ALL
            .into_iter()
            .find(|source| source.as_str() == s)
            .ok_or(SkipReason::MalformedRecord),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|bit| i16::try_from(bit).ok())
            .and_then(Source::from_bit)
            .ok_or(SkipReason::MalformedRecord),
        Some(_) => Err(SkipReason::MalformedRecord),
    }
}

fn listen_of(fields: &Map<String, Value>, now: EndedAt) -> Result<NewListen, SkipReason> {
    let ts = match fields.get("ts") {
        None | Some(Value::Null) => return Err(SkipReason::MalformedTimestamp),
        Some(_) => text(fields, "ts")?,
    };
    let ended_at = ts
        .and_then(parse_ts)
        .ok_or(SkipReason::MalformedTimestamp)?;
    if !is_plausible_end(ended_at, now) {
        return Err(SkipReason::AbsurdValue);
    }
    let item = item_of(fields)?;
    let ms_played = check_ms_played(match integer(fields, "ms_played")? {
        Some(ms) => Lenient::Value(ms),
        None => Lenient::Missing,
    })?;
    let shared = |key: &str| text(fields, key).map(|t| t.map(Arc::from));
    Ok(NewListen {
        ended_at: EndedAt(ended_at),
        item,
        ms_played,
        ms_played_estimated: flag(fields, "ms_played_estimated")?.unwrap_or(false),
        source: source(fields)?,
        details: PlayDetails {
            platform: shared("platform")?,
            conn_country: shared("conn_country")?,
            reason_start: shared("reason_start")?,
            reason_end: shared("reason_end")?,
            shuffle: flag(fields, "shuffle")?,
            skipped: flag(fields, "skipped")?,
            offline: flag(fields, "offline")?,
            incognito: flag(fields, "incognito_mode")?,
        },
    })
}

/// What was heard: the URI decides the kind; without one, which names are given (episode,
/// chapter, track). Names-only items get the same `local:` keys they had when exported.
fn item_of(fields: &Map<String, Value>) -> Result<ItemRef, SkipReason> {
    let get = |key: &str| text(fields, key);
    let artist = get("master_metadata_album_artist_name")?;
    let artist_uri = get("spotify_artist_uri")?;
    let album_uri = get("spotify_album_uri")?;
    let artists = artist
        .map(|name| {
            vec![ArtistRef {
                uri: artist_uri.map(str::to_owned),
                name: name.to_owned(),
            }]
        })
        .unwrap_or_default();
    let album = |uri: Option<&str>, name: Option<&str>| {
        name.map(|name| AlbumRef {
            uri: uri.map(str::to_owned),
            name: name.to_owned(),
        })
    };
    let item = |kind, uri: Option<&str>, name: Option<&str>, album: Option<AlbumRef>| {
        let name = name.or(uri)?;
        Some(ItemRef {
            kind,
            uri: uri.map(str::to_owned),
            name: name.to_owned(),
            artists: artists.clone(),
            album,
            duration_ms: None,
            isrc: None,
        })
    };
    let track_uri = get("spotify_track_uri")?.filter(|u| !u.starts_with("spotify:local:"));
    let episode_uri = get("spotify_episode_uri")?;
    let chapter_uri = get("audiobook_chapter_uri")?;
    let episode_name = get("episode_name")?;
    let chapter_name = get("audiobook_chapter_title")?;
    let track_name = get("master_metadata_track_name")?;
    let found = if track_uri.is_some()
        || (episode_uri.is_none()
            && chapter_uri.is_none()
            && episode_name.is_none()
            && chapter_name.is_none())
    {
        if track_uri.is_some_and(|u| !u.starts_with("spotify:track:")) {
            return Err(SkipReason::UnsupportedKind);
        }
        let album = album(album_uri, get("master_metadata_album_album_name")?);
        item(ItemKind::Track, track_uri, track_name, album)
    } else if episode_uri.is_some() || episode_name.is_some() {
        let album = album(album_uri, get("episode_show_name")?);
        item(ItemKind::Episode, episode_uri, episode_name, album)
    } else {
        let book_uri = get("audiobook_uri")?;
        let album = album(book_uri, get("audiobook_title")?.or(book_uri));
        item(ItemKind::Chapter, chapter_uri, chapter_name, album)
    };
    found.ok_or(SkipReason::NoUriAndNoNames)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: EndedAt = EndedAt(1_893_456_000_000); // 2030-01-01

    fn read(format: ExportFormat, text: &str) -> (Vec<Record>, FileSummary) {
        let mut records = Vec::new();
        let summary = read_export(text.as_bytes(), "x", format, 0, NOW, |r| {
            records.push(r);
            ControlFlow::Continue(())
        })
        .unwrap();
        (records, summary)
    }

    fn stored(kind: i16, key: &str) -> StoredListen {
        StoredListen {
            ended_at: 1_700_000_000_123,
            track_key: key.to_owned(),
            track_name: "=Name, \"quoted\"\nline".to_owned(),
            kind,
            album_name: Some("'Til Album".to_owned()),
            album_key: Some("spotify:album:a".to_owned()),
            artist_names: Some("-Artist".to_owned()),
            artist_key: Some("local:abc".to_owned()),
            ms_played: None,
            ms_played_estimated: true,
            source: Source::RecentlyPlayed.bit(),
            sources: 5,
            platform: Some("ios".to_owned()),
            conn_country: None,
            reason_start: None,
            reason_end: Some("trackdone".to_owned()),
            shuffle: Some(true),
            skipped: None,
            offline: Some(false),
            incognito: None,
        }
    }

    #[test]
    fn both_formats_read_back_what_was_written() {
        for format in [ExportFormat::Jsonl, ExportFormat::Csv] {
            let mut writer = ExportWriter::new(Vec::new(), format).unwrap();
            for (kind, key) in [
                (0, "spotify:track:t"),
                (0, "local:1"),
                (1, "spotify:episode:e"),
                (1, "local:2"),
                (2, "spotify:chapter:c"),
            ] {
                writer.write(&stored(kind, key)).unwrap();
            }
            let text = String::from_utf8(writer.finish().unwrap()).unwrap();
            let (records, summary) = read(format, &text);
            assert_eq!(summary.records, 5, "{format:?}");
            let listens: Vec<NewListen> = records
                .into_iter()
                .map(|r| match r {
                    Record::Listen(l) => l,
                    other => panic!("{format:?}: {other:?}"),
                })
                .collect();
            let l = &listens[0];
            assert_eq!(l.ended_at, EndedAt(1_700_000_000_123));
            assert_eq!(l.item.name, "=Name, \"quoted\"\nline");
            assert_eq!(l.item.uri.as_deref(), Some("spotify:track:t"));
            assert_eq!(l.item.artists[0].name, "-Artist");
            assert_eq!(
                l.item.artists[0].uri, None,
                "local artist keys are not URIs"
            );
            let album = l.item.album.as_ref().unwrap();
            assert_eq!(
                (album.name.as_str(), album.uri.as_deref()),
                ("'Til Album", Some("spotify:album:a"))
            );
            assert_eq!(l.ms_played, None);
            assert!(l.ms_played_estimated);
            assert_eq!(l.source, Source::RecentlyPlayed);
            assert_eq!(l.details.shuffle, Some(true));
            assert_eq!(l.details.skipped, None);
            assert_eq!(l.details.reason_end.as_deref(), Some("trackdone"));
            assert_eq!(listens[1].item.uri, None);
            assert_eq!(listens[1].item.kind, ItemKind::Track);
            assert_eq!(listens[2].item.kind, ItemKind::Episode);
            assert_eq!(listens[3].item.kind, ItemKind::Episode);
            assert_eq!(listens[3].item.uri, None);
            assert_eq!(listens[4].item.kind, ItemKind::Chapter);
            assert_eq!(
                listens[4].item.album.as_ref().unwrap().uri.as_deref(),
                Some("spotify:album:a")
            );
        }
    }

    #[test]
    fn bad_lines_are_skipped_with_reasons() {
        let jsonl = "{\"ts\":\"2020-01-01T00:00:00Z\",\"ms_played\":5000,\"master_metadata_track_name\":\"T\"}\n\
                     not json\n\n\
                     {\"ts\":\"yesterday\",\"master_metadata_track_name\":\"T\"}\n\
                     {\"ts\":\"2020-01-01T00:00:00Z\",\"ms_played\":0,\"master_metadata_track_name\":\"T\"}\n\
                     {\"ts\":\"2020-01-01T00:00:00Z\",\"source\":\"elsewhere\",\"master_metadata_track_name\":\"T\"}\n\
                     {\"ts\":\"2020-01-01T00:00:00Z\"}\n";
        let (records, summary) = read(ExportFormat::Jsonl, jsonl);
        assert_eq!(summary.records, 6, "the blank line is no record");
        let reasons: Vec<_> = records
            .iter()
            .map(|r| match r {
                Record::Listen(_) => None,
                Record::Skipped(reason) => Some(*reason),
            })
            .collect();
        assert_eq!(
            reasons,
            [
                None,
                Some(SkipReason::MalformedRecord),
                Some(SkipReason::MalformedTimestamp),
                Some(SkipReason::ZeroMsPlayed),
                Some(SkipReason::MalformedRecord),
                Some(SkipReason::NoUriAndNoNames),
            ]
        );

        let csv =
            "ts,master_metadata_track_name\n2020-01-01T00:00:00Z,T\n2020-01-01T00:00:00Z,T,extra\n";
        let (records, _) = read(ExportFormat::Csv, csv);
        assert!(matches!(records[0], Record::Listen(_)));
        assert_eq!(records[1], Record::Skipped(SkipReason::MalformedRecord));

        let err = read_export(
            "a,b\n1,2\n".as_bytes(),
            "x.csv",
            ExportFormat::Csv,
            0,
            NOW,
            |_| ControlFlow::Continue(()),
        )
        .unwrap_err();
        assert!(
            matches!(err, ImportError::NotStreamingHistory { .. }),
            "{err}"
        );
    }

    #[test]
    fn csv_defusing_is_undone_exactly() {
        for text in ["=1+1", "'=x", "''x", "'Til", "plain", "@me", "-", "'"] {
            let cell = csv_field(text);
            let cells = split_csv(&cell).unwrap();
            assert_eq!(csv_unescape_text(&cells[0]), text, "{cell}");
        }
    }
}
