//! Which export file is which, from its name alone.

use spotify_history_core::Source;

/// The kinds of file in Spotify's "Download your data" exports that hold listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    /// `Streaming_History_Audio_<years>_<N>.json` (extended history: music, podcasts,
    /// audiobooks).
    ExtendedAudio,
    /// `Streaming_History_Video_<years>.json` (extended history: video podcasts).
    ExtendedVideo,
    /// `endsong_<N>.json` (extended history as older exports named it).
    ExtendedEndsong,
    /// `StreamingHistory_music_<N>.json`, or `StreamingHistory<N>.json` of older exports,
    /// which may mix music and podcasts.
    AccountMusic,
    /// `StreamingHistory_podcast_<N>.json`.
    AccountPodcast,
    /// `spotify-history-export*.jsonl`: this service's own export, one JSON object per line
    /// (see `spotify-history export`).
    HistoryExportJsonl,
    /// `spotify-history-export*.csv`: the same export as CSV with a header row.
    HistoryExportCsv,
    /// Anything else (`Userdata.json`, `Playlist1.json`, the PDF read-me, ...): listed, ignored.
    Unknown,
}

impl FileKind {
    /// The stable snake_case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::ExtendedAudio => "extended_audio",
            FileKind::ExtendedVideo => "extended_video",
            FileKind::ExtendedEndsong => "extended_endsong",
            FileKind::AccountMusic => "account_music",
            FileKind::AccountPodcast => "account_podcast",
            FileKind::HistoryExportJsonl => "history_export_jsonl",
            FileKind::HistoryExportCsv => "history_export_csv",
            FileKind::Unknown => "unknown",
        }
    }

    /// An extended streaming history file (any generation, audio or video).
    pub fn is_extended(self) -> bool {
        self.source() == Some(Source::ExtendedExport)
    }

    /// An account-data ("past year") file.
    pub fn is_account_data(self) -> bool {
        self.source() == Some(Source::AccountData)
    }

    /// The source its listens are recorded under; `None` for unknown files and for this
    /// service's own exports, whose records each name their source.
    pub fn source(self) -> Option<Source> {
        match self {
            FileKind::ExtendedAudio | FileKind::ExtendedVideo | FileKind::ExtendedEndsong => {
                Some(Source::ExtendedExport)
            }
            FileKind::AccountMusic | FileKind::AccountPodcast => Some(Source::AccountData),
            FileKind::HistoryExportJsonl | FileKind::HistoryExportCsv | FileKind::Unknown => None,
        }
    }
}

/// Classify an export file by its path inside a ZIP or folder (either slash separates folders).
pub fn classify(path: &str) -> FileKind {
    let mut parts = path.rsplit(['/', '\\']);
    let base = parts.next().unwrap_or_default();
    // macOS archivers add `__MACOSX/.../._Streaming_History_Audio_...json` resource forks: they
    // carry the real names but no JSON.
    if base.starts_with("._") || parts.any(|p| p == "__MACOSX") {
        return FileKind::Unknown;
    }
    let lower = base.to_ascii_lowercase();
    if lower.starts_with("spotify-history-export") {
        if lower.ends_with(".jsonl") {
            return FileKind::HistoryExportJsonl;
        }
        if lower.ends_with(".csv") {
            return FileKind::HistoryExportCsv;
        }
    }
    let Some(stem) = lower.strip_suffix(".json") else {
        return FileKind::Unknown;
    };
    if stem.starts_with("streaming_history_audio_") {
        FileKind::ExtendedAudio
    } else if stem.starts_with("streaming_history_video_") || is_numbered(stem, "endvideo") {
        FileKind::ExtendedVideo
    } else if is_numbered(stem, "endsong") {
        FileKind::ExtendedEndsong
    } else if is_numbered(stem, "streaminghistory_music") || is_numbered(stem, "streaminghistory") {
        FileKind::AccountMusic
    } else if is_numbered(stem, "streaminghistory_podcast") {
        FileKind::AccountPodcast
    } else {
        FileKind::Unknown
    }
}

/// `prefix`, `prefix<N>` or `prefix_<N>`.
fn is_numbered(stem: &str, prefix: &str) -> bool {
    let Some(rest) = stem.strip_prefix(prefix) else {
        return false;
    };
    let digits = rest.strip_prefix('_').unwrap_or(rest);
    digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_export_names() {
        let cases = [
            (
                "Spotify Extended Streaming History/Streaming_History_Audio_2019-2021_3.json",
                FileKind::ExtendedAudio,
            ),
            (
                "Streaming_History_Audio_2024_12.json",
                FileKind::ExtendedAudio,
            ),
            (
                "Spotify Extended Streaming History/Streaming_History_Video_2020-2023.json",
                FileKind::ExtendedVideo,
            ),
            ("MyData/endsong_0.json", FileKind::ExtendedEndsong),
            ("MyData/endvideo.json", FileKind::ExtendedVideo),
            (
                "Spotify Account Data/StreamingHistory_music_0.json",
                FileKind::AccountMusic,
            ),
            ("MyData\\StreamingHistory0.json", FileKind::AccountMusic),
            ("StreamingHistory12.json", FileKind::AccountMusic),
            (
                "Spotify Account Data/StreamingHistory_podcast_0.json",
                FileKind::AccountPodcast,
            ),
            ("Spotify Account Data/Userdata.json", FileKind::Unknown),
            ("Spotify Account Data/Playlist1.json", FileKind::Unknown),
            (
                "Spotify Extended Streaming History/ReadMeFirst_ExtendedStreamingHistory.pdf",
                FileKind::Unknown,
            ),
            ("StreamingHistory_music_0.json.bak", FileKind::Unknown),
            ("StreamingHistoryX.json", FileKind::Unknown),
            (
                "backups/spotify-history-export-ann.jsonl",
                FileKind::HistoryExportJsonl,
            ),
            ("Spotify-History-Export.CSV", FileKind::HistoryExportCsv),
            ("spotify-history-export.json", FileKind::Unknown),
            (
                "__MACOSX/Spotify Extended Streaming History/._Streaming_History_Audio_2019_0.json",
                FileKind::Unknown,
            ),
        ];
        for (name, kind) in cases {
            assert_eq!(classify(name), kind, "{name}");
        }
    }

    #[test]
    fn kinds_map_to_sources() {
        assert_eq!(
            FileKind::ExtendedEndsong.source(),
            Some(Source::ExtendedExport)
        );
        assert_eq!(FileKind::AccountPodcast.source(), Some(Source::AccountData));
        assert_eq!(FileKind::Unknown.source(), None);
    }
}
