//! Rows serialised with the real exports' field names, and the ZIP or folder they go into.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

use super::catalog::Catalog;
use super::listens::{Content, Generation, Row, civil_from_days};

const PLATFORMS_OLD: &[&str] = &[
    "Android OS 9 API 28 (samsung, SM-G960F)",
    "iOS 14.4 (iPhone12,1)",
    "Windows 10 (10.0.19041; x64)",
    "OS X 10.15.7 [x86 8]",
    "Partner sonos_ppc Sonos;Play:1",
];
const PLATFORMS_NEW: &[&str] = &["android", "ios", "windows", "osx", "web_player"];
const COUNTRIES: &[&str] = &["IS", "IS", "IS", "JP", "DE", "US", "BR", "FR"];
/// Documentation addresses (RFC 5737): never anyone's real address.
const IPS: &[&str] = &["192.0.2.1", "192.0.2.17", "198.51.100.4", "203.0.113.9"];
const STARTS: &[&str] = &[
    "trackdone",
    "clickrow",
    "fwdbtn",
    "backbtn",
    "appload",
    "playbtn",
];

/// An extended-history row as Spotify writes it. `Option<Option<_>>` fields are absent
/// (`None`) in some generations and `null` (`Some(None)`) in others.
#[derive(Serialize)]
struct ExtendedRow<'a> {
    ts: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    platform: &'a str,
    ms_played: i64,
    conn_country: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_addr: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_addr_decrypted: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent_decrypted: Option<&'a str>,
    master_metadata_track_name: Option<&'a str>,
    master_metadata_album_artist_name: Option<&'a str>,
    master_metadata_album_album_name: Option<&'a str>,
    spotify_track_uri: Option<&'a str>,
    episode_name: Option<&'a str>,
    episode_show_name: Option<&'a str>,
    spotify_episode_uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audiobook_title: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audiobook_uri: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audiobook_chapter_uri: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audiobook_chapter_title: Option<Option<&'a str>>,
    reason_start: &'a str,
    reason_end: &'a str,
    shuffle: bool,
    skipped: Option<bool>,
    offline: bool,
    offline_timestamp: i64,
    incognito_mode: bool,
}

#[derive(Serialize)]
struct AccountMusicRow<'a> {
    #[serde(rename = "endTime")]
    end_time: String,
    #[serde(rename = "artistName")]
    artist_name: &'a str,
    #[serde(rename = "trackName")]
    track_name: &'a str,
    #[serde(rename = "msPlayed")]
    ms_played: i64,
}

#[derive(Serialize)]
struct AccountPodcastRow<'a> {
    #[serde(rename = "endTime")]
    end_time: String,
    #[serde(rename = "podcastName")]
    podcast_name: &'a str,
    #[serde(rename = "episodeName")]
    episode_name: &'a str,
    #[serde(rename = "msPlayed")]
    ms_played: i64,
}

/// Write `row` as Spotify's extended history would.
pub(crate) fn write_extended(
    out: &mut JsonArrayWriter<'_>,
    catalog: &Catalog,
    row: &Row,
) -> io::Result<()> {
    let seed = row.detail_seed as usize;
    let generation = row.generation;
    let (mut track_name, mut artist, mut album, mut track_uri) = (None, None, None, None);
    let (mut episode_name, mut show, mut episode_uri) = (None, None, None);
    let mut book = (None, None, None, None);
    match row.content {
        Content::Track { track, with_uri } => {
            let t = &catalog.tracks[track];
            let a = &catalog.albums[t.album];
            track_name = Some(t.name.as_str());
            artist = Some(catalog.artists[a.artist].as_str());
            album = Some(a.name.as_str());
            track_uri = with_uri.then_some(t.uri.as_str());
        }
        Content::Episode { episode } => {
            let e = &catalog.episodes[episode];
            episode_name = Some(e.name.as_str());
            show = Some(catalog.shows[e.show].name.as_str());
            episode_uri = Some(e.uri.as_str());
        }
        Content::Chapter { chapter } => {
            let c = &catalog.chapters[chapter];
            let b = &catalog.books[c.book];
            book = (
                Some(b.title.as_str()),
                Some(b.uri.as_str()),
                Some(c.uri.as_str()),
                Some(c.title.as_str()),
            );
        }
        Content::Nothing => {}
    }
    let new = generation == Generation::C;
    let full_play = row.ms_played >= 30_000;
    let reason_end = if full_play { "trackdone" } else { "fwdbtn" };
    let offline_s = row.ts_s - row.ms_played.max(0) / 1000 - 5;
    let value = ExtendedRow {
        ts: format_ts(row.ts_s),
        username: (generation == Generation::A).then_some("synthetic-listener"),
        platform: if new {
            PLATFORMS_NEW[seed % PLATFORMS_NEW.len()]
        } else {
            PLATFORMS_OLD[seed % PLATFORMS_OLD.len()]
        },
        ms_played: row.ms_played,
        conn_country: COUNTRIES[(seed / 7) % COUNTRIES.len()],
        ip_addr: new.then_some(IPS[(seed / 3) % IPS.len()]),
        ip_addr_decrypted: (!new).then_some(IPS[(seed / 3) % IPS.len()]),
        user_agent_decrypted: (generation == Generation::A).then_some("unknown"),
        master_metadata_track_name: track_name,
        master_metadata_album_artist_name: artist,
        master_metadata_album_album_name: album,
        spotify_track_uri: track_uri,
        episode_name,
        episode_show_name: show,
        spotify_episode_uri: episode_uri,
        // Audiobook fields exist only in the newest generation, where they are null unless set.
        audiobook_title: new.then_some(book.0),
        audiobook_uri: new.then_some(book.1),
        audiobook_chapter_uri: new.then_some(book.2),
        audiobook_chapter_title: new.then_some(book.3),
        reason_start: STARTS[(seed / 11) % STARTS.len()],
        reason_end,
        shuffle: row.shuffle,
        // `skipped` was null for years; newer rows say whether the user skipped.
        skipped: new.then_some(!full_play),
        offline: row.offline,
        offline_timestamp: if new { offline_s * 1000 } else { offline_s },
        incognito_mode: seed.is_multiple_of(97),
    };
    out.element(&value, false)
}

/// Write an account-data music row.
pub(crate) fn write_account_music(
    out: &mut JsonArrayWriter<'_>,
    ts_s: i64,
    artist: &str,
    track: &str,
    ms_played: i64,
) -> io::Result<()> {
    let row = AccountMusicRow {
        end_time: format_minute(ts_s),
        artist_name: artist,
        track_name: track,
        ms_played,
    };
    out.element(&row, true)
}

/// Write an account-data podcast row.
pub(crate) fn write_account_podcast(
    out: &mut JsonArrayWriter<'_>,
    ts_s: i64,
    show: &str,
    episode: &str,
    ms_played: i64,
) -> io::Result<()> {
    let row = AccountPodcastRow {
        end_time: format_minute(ts_s),
        podcast_name: show,
        episode_name: episode,
        ms_played,
    };
    out.element(&row, true)
}

/// `2021-03-04T18:22:05Z`
fn format_ts(ts_s: i64) -> String {
    let (y, mo, d) = civil_from_days(ts_s.div_euclid(86_400));
    let secs = ts_s.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `2024-05-01 13:45` (the minute the time falls in).
fn format_minute(ts_s: i64) -> String {
    let (y, mo, d) = civil_from_days(ts_s.div_euclid(86_400));
    let secs = ts_s.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        secs / 60 % 60
    )
}

/// Writes a JSON array one element at a time. Buffered: serde writes many small pieces, and
/// each write into a ZIP entry goes through the compressor.
pub(crate) struct JsonArrayWriter<'w> {
    out: BufWriter<&'w mut dyn Write>,
    elements: u64,
}

impl<'w> JsonArrayWriter<'w> {
    pub(crate) fn begin(out: &'w mut dyn Write) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(256 * 1024, out);
        out.write_all(b"[")?;
        Ok(Self { out, elements: 0 })
    }

    /// Account data files are pretty-printed, extended ones one row per line, as Spotify's.
    fn element<T: Serialize>(&mut self, value: &T, pretty: bool) -> io::Result<()> {
        self.out
            .write_all(if self.elements == 0 { b"\n" } else { b",\n" })?;
        self.elements += 1;
        if pretty {
            let formatter = serde_json::ser::PrettyFormatter::with_indent(b"  ");
            let mut serializer = serde_json::Serializer::with_formatter(&mut self.out, formatter);
            value.serialize(&mut serializer).map_err(io::Error::other)
        } else {
            serde_json::to_writer(&mut self.out, value).map_err(io::Error::other)
        }
    }

    pub(crate) fn end(mut self) -> io::Result<()> {
        self.out.write_all(b"\n]\n")?;
        self.out.flush()
    }
}

/// Where the files of a synthetic export go: a ZIP (streamed, deflated) or a folder.
pub(crate) enum ExportSink {
    Zip(Box<ZipWriter<BufWriter<File>>>),
    Dir {
        root: PathBuf,
        current: Option<BufWriter<File>>,
    },
}

impl ExportSink {
    pub(crate) fn zip(path: &Path) -> io::Result<Self> {
        let file = File::create(path)?;
        Ok(ExportSink::Zip(Box::new(ZipWriter::new(BufWriter::new(
            file,
        )))))
    }

    pub(crate) fn dir(root: &Path) -> io::Result<Self> {
        fs::create_dir_all(root)?;
        Ok(ExportSink::Dir {
            root: root.to_owned(),
            current: None,
        })
    }

    /// Start the file `name` (folders separated by `/`) and return its writer.
    pub(crate) fn start(&mut self, name: &str) -> io::Result<&mut dyn Write> {
        match self {
            ExportSink::Zip(zip) => {
                // Fast deflate: the demo and benchmarks write hundreds of MB.
                let options = SimpleFileOptions::default()
                    .compression_method(CompressionMethod::Deflated)
                    .compression_level(Some(1));
                zip.start_file(name, options).map_err(io::Error::other)?;
                Ok(zip.as_mut())
            }
            ExportSink::Dir { root, current } => {
                if let Some(mut previous) = current.take() {
                    previous.flush()?;
                }
                let path = root.join(name);
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent)?;
                }
                Ok(current.insert(BufWriter::new(File::create(path)?)))
            }
        }
    }

    pub(crate) fn finish(self) -> io::Result<()> {
        match self {
            ExportSink::Zip(zip) => {
                let mut out = zip.finish().map_err(io::Error::other)?;
                out.flush()
            }
            ExportSink::Dir { current, .. } => match current {
                Some(mut file) => file.flush(),
                None => Ok(()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_formats() {
        let ts: jiff::Timestamp = "2021-03-04T18:22:05Z".parse().unwrap();
        assert_eq!(format_ts(ts.as_second()), "2021-03-04T18:22:05Z");
        assert_eq!(format_minute(ts.as_second()), "2021-03-04 18:22");
    }
}
