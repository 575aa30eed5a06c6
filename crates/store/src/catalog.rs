//! The shared catalogue: artists, albums (also podcast shows and audiobooks) and tracks (also
//! episodes and chapters), keyed by Spotify URI or `local:<sha1>` of their names. Rows are
//! created on first sight and never duplicated; a per-import cache keeps lookups in memory.

use crate::Result;
use crate::listens::KeyedListen;
use crate::transaction::{Tx, on_tx};
use sqlx::QueryBuilder;
use std::collections::HashMap;

/// Rows per catalogue statement: at most 7 binds a row keeps well under SQLite's and
/// PostgreSQL's bind limits.
const ROWS_PER_STATEMENT: usize = 1_000;

/// Catalogue ids already known to this import (or collector run), by key.
#[derive(Debug, Default)]
pub struct CatalogCache {
    artists: Ids,
    albums: Ids,
    tracks: Ids,
}

impl CatalogCache {
    /// Distinct tracks known so far.
    pub fn tracks_known(&self) -> usize {
        self.tracks.committed.len() + self.tracks.pending.len()
    }

    /// The transaction that learnt the pending ids committed: they are real now.
    pub(crate) fn keep_pending(&mut self) {
        for ids in [&mut self.artists, &mut self.albums, &mut self.tracks] {
            let pending = std::mem::take(&mut ids.pending);
            ids.committed.extend(pending);
        }
    }

    /// The transaction that learnt the pending ids did not commit: drop them.
    pub(crate) fn forget_pending(&mut self) {
        for ids in [&mut self.artists, &mut self.albums, &mut self.tracks] {
            ids.pending.clear();
        }
    }
}

/// Ids by key: those from committed transactions, and those learnt in the open one.
#[derive(Debug, Default)]
struct Ids {
    committed: HashMap<String, i64>,
    pending: HashMap<String, i64>,
}

impl Ids {
    fn get(&self, key: &str) -> Option<&i64> {
        self.committed.get(key).or_else(|| self.pending.get(key))
    }

    fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    fn extend(&mut self, ids: HashMap<String, i64>) {
        self.pending.extend(ids);
    }
}

/// Finds or creates the catalogue rows of every listen; returns the track id of each listen.
pub(crate) async fn resolve_catalog(
    tx: &mut Tx<'_>,
    listens: &[KeyedListen],
    cache: &mut CatalogCache,
) -> Result<Vec<i64>> {
    // Artists.
    let mut new_artists: Vec<(String, String)> = Vec::new();
    for keyed in listens {
        for (artist, key) in keyed.listen.item.artists.iter().zip(&keyed.keys.artists) {
            if !cache.artists.contains_key(key) && !new_artists.iter().any(|(k, _)| k == key) {
                new_artists.push((key.clone(), artist.name.clone()));
            }
        }
    }
    for chunk in new_artists.chunks(ROWS_PER_STATEMENT) {
        on_tx!(tx, conn => {
            let mut query = QueryBuilder::new("INSERT INTO artists (key, name) ");
            query.push_values(chunk, |mut row, (key, name)| {
                row.push_bind(key.clone()).push_bind(name.clone());
            });
            query.push(" ON CONFLICT (key) DO NOTHING");
            query.build().execute(&mut **conn).await?;
        });
        let keys: Vec<&String> = chunk.iter().map(|(k, _)| k).collect();
        cache
            .artists
            .extend(ids_by_key(tx, "artists", &keys).await?);
    }

    // Albums, shows and audiobooks.
    let mut new_albums: Vec<(String, i16, String, Option<String>)> = Vec::new();
    for keyed in listens {
        if let (Some(album), Some(key)) = (&keyed.listen.item.album, &keyed.keys.album)
            && !cache.albums.contains_key(key)
            && !new_albums.iter().any(|(k, ..)| k == key)
        {
            let artist = keyed.listen.item.artists.first().map(|a| a.name.clone());
            new_albums.push((
                key.clone(),
                keyed.listen.item.kind.code(),
                album.name.clone(),
                artist,
            ));
        }
    }
    for chunk in new_albums.chunks(ROWS_PER_STATEMENT) {
        on_tx!(tx, conn => {
            let mut query = QueryBuilder::new("INSERT INTO albums (key, kind, name, artist_name) ");
            query.push_values(chunk, |mut row, (key, kind, name, artist)| {
                row.push_bind(key.clone())
                    .push_bind(*kind)
                    .push_bind(name.clone())
                    .push_bind(artist.clone());
            });
            query.push(" ON CONFLICT (key) DO NOTHING");
            query.build().execute(&mut **conn).await?;
        });
        let keys: Vec<&String> = chunk.iter().map(|(k, ..)| k).collect();
        cache.albums.extend(ids_by_key(tx, "albums", &keys).await?);
    }

    // Tracks, episodes and chapters, with their artists.
    let mut new_tracks: Vec<&KeyedListen> = Vec::new();
    for keyed in listens {
        let key = &keyed.keys.track;
        if !cache.tracks.contains_key(key) && !new_tracks.iter().any(|k| &k.keys.track == key) {
            new_tracks.push(keyed);
        }
    }
    for chunk in new_tracks.chunks(ROWS_PER_STATEMENT) {
        on_tx!(tx, conn => {
            let mut query = QueryBuilder::new(
                "INSERT INTO tracks (key, kind, name, album_id, duration_ms, isrc, match_key) ",
            );
            query.push_values(chunk, |mut row, keyed| {
                let item = &keyed.listen.item;
                let album_id = keyed.keys.album.as_ref().and_then(|k| cache.albums.get(k)).copied();
                row.push_bind(keyed.keys.track.clone())
                    .push_bind(item.kind.code())
                    .push_bind(item.name.clone())
                    .push_bind(album_id)
                    .push_bind(item.duration_ms.map(|d| d.clamp(0, i64::from(i32::MAX)) as i32))
                    .push_bind(item.isrc.clone())
                    .push_bind(keyed.keys.match_key);
            });
            query.push(" ON CONFLICT (key) DO NOTHING");
            query.build().execute(&mut **conn).await?;
        });
        let keys: Vec<&String> = chunk.iter().map(|k| &k.keys.track).collect();
        let ids = ids_by_key(tx, "tracks", &keys).await?;
        let artists = &cache.artists;
        let credits: Vec<(i64, i64, i16)> = chunk
            .iter()
            .filter_map(|keyed| ids.get(&keyed.keys.track).map(|&id| (id, keyed)))
            .flat_map(|(track_id, keyed)| {
                keyed
                    .keys
                    .artists
                    .iter()
                    .enumerate()
                    .filter_map(move |(position, key)| {
                        artists
                            .get(key)
                            .map(|&artist| (track_id, artist, position as i16))
                    })
            })
            .collect();
        for credits in credits.chunks(ROWS_PER_STATEMENT) {
            on_tx!(tx, conn => {
                let mut query = QueryBuilder::new("INSERT INTO track_artists (track_id, artist_id, position) ");
                query.push_values(credits, |mut row, (track, artist, position)| {
                    row.push_bind(*track).push_bind(*artist).push_bind(*position);
                });
                query.push(" ON CONFLICT (track_id, artist_id) DO NOTHING");
                query.build().execute(&mut **conn).await?;
            });
        }
        cache.tracks.extend(ids);
    }

    listens
        .iter()
        .map(|keyed| {
            cache.tracks.get(&keyed.keys.track).copied().ok_or_else(|| {
                crate::StoreError::Conflict(format!(
                    "track {} vanished while importing",
                    keyed.keys.track
                ))
            })
        })
        .collect()
}

/// Ids of the catalogue rows with these keys (`table` is one of ours, never user input).
async fn ids_by_key(
    tx: &mut Tx<'_>,
    table: &'static str,
    keys: &[&String],
) -> Result<HashMap<String, i64>> {
    let pairs = on_tx!(tx, conn => {
        use crate::row::RowExt;
        let mut query = QueryBuilder::new(format!("SELECT id, key FROM {table} WHERE key IN ("));
        let mut list = query.separated(", ");
        for key in keys {
            list.push_bind((*key).clone());
        }
        query.push(")");
        let rows = query.build().fetch_all(&mut **conn).await?;
        rows.iter()
            .map(|row| Ok((row.text("key")?, row.int("id")?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?
    });
    Ok(pairs.into_iter().collect())
}
