//! Listens written directly, for cases that need exact times (DST switches, month ends).

use spotify_history_analytics::Analytics;
use spotify_history_core::{
    AlbumRef, ArtistRef, EndedAt, ItemKind, ItemRef, NewListen, PlayDetails, Source, UserId,
};
use spotify_history_import::listen_keys;
use spotify_history_store::{CatalogCache, KeyedListen, ListenBatch, Store, WriteOutcome};

/// "Now" for answers about hand-made listens (which are from 2024).
pub const NOW: &str = "2025-01-01T00:00:00Z";

/// Answers as of [`NOW`], default counting rule.
pub fn analytics(store: &Store) -> Analytics {
    Analytics::new(store.clone(), 30_000).at(NOW.parse().unwrap())
}

/// One listen: when it ended (RFC 3339), artist, track, ms played (`None` = unknown), source.
pub struct Heard<'a> {
    pub at: &'a str,
    pub artist: &'a str,
    pub track: &'a str,
    pub ms: Option<i64>,
    pub source: Source,
}

/// A listen of a full play from the extended export.
pub fn heard<'a>(at: &'a str, artist: &'a str, track: &'a str) -> Heard<'a> {
    Heard {
        at,
        artist,
        track,
        ms: Some(180_000),
        source: Source::ExtendedExport,
    }
}

/// Stores the listens for `user`, one batch per source; each must be new.
pub async fn write(store: &Store, user: UserId, listens: &[Heard<'_>]) {
    let outcome = write_outcome(store, user, listens).await;
    assert_eq!(
        outcome.inserted as usize,
        listens.len(),
        "every listen is new"
    );
}

/// Stores the listens for `user`, one batch per source, and says what became of them.
pub async fn write_outcome(store: &Store, user: UserId, listens: &[Heard<'_>]) -> WriteOutcome {
    let mut total = WriteOutcome::default();
    let mut cache = CatalogCache::default();
    for source in Source::ALL {
        let keyed: Vec<KeyedListen> = listens
            .iter()
            .filter(|h| h.source == source)
            .map(|h| {
                let item = ItemRef {
                    kind: ItemKind::Track,
                    uri: Some(format!(
                        "spotify:track:{}",
                        format!("{}{}", h.artist, h.track).replace(' ', "")
                    )),
                    name: h.track.to_string(),
                    artists: vec![ArtistRef {
                        uri: None,
                        name: h.artist.to_string(),
                    }],
                    album: Some(AlbumRef {
                        uri: None,
                        name: format!("Best of {}", h.artist),
                    }),
                    duration_ms: None,
                    isrc: None,
                };
                KeyedListen {
                    keys: listen_keys(&item).into(),
                    listen: NewListen {
                        ended_at: EndedAt(
                            h.at.parse::<jiff::Timestamp>().unwrap().as_millisecond(),
                        ),
                        item,
                        ms_played: h.ms,
                        ms_played_estimated: false,
                        source,
                        details: PlayDetails::default(),
                    },
                }
            })
            .collect();
        if keyed.is_empty() {
            continue;
        }
        let batch = ListenBatch {
            user,
            import_job: None,
            listens: &keyed,
            checkpoint: None,
        };
        total += store.write_listens(batch, &mut cache).await.unwrap();
    }
    total
}
