//! The shared catalogue: artists, albums (also podcast shows and audiobooks) and tracks (also
//! episodes and chapters), keyed by Spotify URI or `local:<sha1>` of their names. Rows are
//! created on first sight and never duplicated; a per-import cache keeps lookups in memory.

use crate::Result;
use crate::bulk::{self, KeyIds, TrackRow};
use crate::listens::KeyedListen;
use crate::transaction::Tx;
use rustc_hash::{FxHashMap, FxHashSet};
use spotify_history_core::ListenKeys;
use std::sync::Arc;

/// Catalogue ids already known to this import (or collector run), by key.
#[derive(Debug, Default)]
pub struct CatalogCache {
    artists: Ids,
    albums: Ids,
    tracks: Ids,
    /// Track ids by the listens' shared keys (see [`TracksByKeys`]).
    tracks_by_keys: TracksByKeys,
}

impl CatalogCache {
    /// Distinct tracks known so far.
    pub fn tracks_known(&self) -> usize {
        self.tracks.ids.len()
    }

    /// The transaction that learnt the pending ids committed: they are real now.
    pub(crate) fn keep_pending(&mut self) {
        for ids in [&mut self.artists, &mut self.albums, &mut self.tracks] {
            ids.pending.clear();
        }
    }

    /// The transaction that learnt the pending ids did not commit: drop them. Called as every
    /// transaction starts too, so ids found by keys last one transaction at most (an import's
    /// parser keys each transaction's listens anew).
    pub(crate) fn forget_pending(&mut self) {
        for ids in [&mut self.artists, &mut self.albums, &mut self.tracks] {
            for key in ids.pending.drain(..) {
                ids.ids.remove(&key);
            }
        }
        self.tracks_by_keys.0.clear();
    }

    /// The track id of a listen with these keys, if known.
    fn track_id(&mut self, keys: &Arc<ListenKeys>) -> Option<i64> {
        let address = Arc::as_ptr(keys) as usize;
        if let Some((_, id)) = self.tracks_by_keys.0.get(&address) {
            return Some(*id);
        }
        let id = *self.tracks.get(&keys.track)?;
        if self.tracks_by_keys.0.len() >= TracksByKeys::MAX_ENTRIES {
            self.tracks_by_keys.0.clear();
        }
        self.tracks_by_keys
            .0
            .insert(address, (Arc::clone(keys), id));
        Some(id)
    }
}

/// Track ids by the address of the listens' shared [`ListenKeys`]: an import gives every
/// listen of an item the same keys, so finding a known track's id hashes one number instead
/// of the track's key text, whose comparison also reads the text from wherever it lies in
/// memory (a third of the writer's time per batch). Each entry holds its keys, so their
/// address cannot be given to other keys while it is in here; entries are only ids the
/// text-keyed map holds, and the map is emptied whenever ids may have gone from that one
/// ([`CatalogCache::forget_pending`]).
#[derive(Debug, Default)]
struct TracksByKeys(FxHashMap<usize, (Arc<ListenKeys>, i64)>);

impl TracksByKeys {
    /// Entries kept before the map starts over: bounds the keys it keeps alive within one
    /// transaction (the parser's own memo keeps at most 100,000).
    const MAX_ENTRIES: usize = 200_000;
}

/// Ids by key, those learnt in the open transaction included; `pending` names those, to be
/// forgotten if it does not commit. One map, so a key is found with one lookup.
#[derive(Debug, Default)]
struct Ids {
    ids: FxHashMap<String, i64>,
    pending: Vec<String>,
}

impl Ids {
    fn get(&self, key: &str) -> Option<&i64> {
        self.ids.get(key)
    }

    fn contains_key(&self, key: &str) -> bool {
        self.ids.contains_key(key)
    }

    fn extend(&mut self, ids: KeyIds) {
        for (key, id) in ids {
            if self.ids.insert(key.clone(), id).is_none() {
                self.pending.push(key);
            }
        }
    }
}

/// Finds or creates the catalogue rows of every listen; returns the track id of each listen.
pub(crate) async fn resolve_catalog(
    tx: &mut Tx<'_>,
    listens: &[KeyedListen],
    cache: &mut CatalogCache,
) -> Result<Vec<i64>> {
    // Most listens are of tracks seen before, whose artists and album were resolved with them.
    let known: Vec<Option<i64>> = listens
        .iter()
        .map(|keyed| cache.track_id(&keyed.keys))
        .collect();
    let unknown: Vec<&KeyedListen> = listens
        .iter()
        .zip(&known)
        .filter_map(|(keyed, id)| id.is_none().then_some(keyed))
        .collect();
    if !unknown.is_empty() {
        create_catalog(tx, &unknown, cache).await?;
    }
    listens
        .iter()
        .zip(known)
        .map(|(keyed, id)| {
            id.or_else(|| cache.tracks.get(&keyed.keys.track).copied())
                .ok_or_else(|| {
                    crate::StoreError::Conflict(format!(
                        "track {} vanished while importing",
                        keyed.keys.track
                    ))
                })
        })
        .collect()
}

/// Finds or creates the artists, albums and tracks of listens whose tracks the cache does not
/// know, and learns their ids.
async fn create_catalog(
    tx: &mut Tx<'_>,
    listens: &[&KeyedListen],
    cache: &mut CatalogCache,
) -> Result<()> {
    // Artists.
    let mut seen: FxHashSet<&str> = FxHashSet::default();
    let mut new_artists: Vec<(&str, &str)> = Vec::new();
    for keyed in listens {
        for (artist, key) in keyed.listen.item.artists.iter().zip(&keyed.keys.artists) {
            if !cache.artists.contains_key(key) && seen.insert(key) {
                new_artists.push((key, &artist.name));
            }
        }
    }
    if !new_artists.is_empty() {
        let ids = bulk::artist_ids(tx, &new_artists).await?;
        cache.artists.extend(ids);
    }

    // Albums, shows and audiobooks.
    seen.clear();
    let mut new_albums: Vec<(&str, i16, &str, Option<&str>)> = Vec::new();
    for keyed in listens {
        let item = &keyed.listen.item;
        if let (Some(album), Some(key)) = (&item.album, &keyed.keys.album)
            && !cache.albums.contains_key(key)
            && seen.insert(key)
        {
            let artist = item.artists.first().map(|a| a.name.as_str());
            new_albums.push((key, item.kind.code(), &album.name, artist));
        }
    }
    if !new_albums.is_empty() {
        let ids = bulk::album_ids(tx, &new_albums).await?;
        cache.albums.extend(ids);
    }

    // Tracks, episodes and chapters, with their artists.
    seen.clear();
    let mut new_tracks: Vec<&KeyedListen> = Vec::new();
    for &keyed in listens {
        if seen.insert(&keyed.keys.track) {
            new_tracks.push(keyed);
        }
    }
    if !new_tracks.is_empty() {
        let rows: Vec<TrackRow> = new_tracks
            .iter()
            .map(|keyed| {
                let item = &keyed.listen.item;
                TrackRow {
                    key: &keyed.keys.track,
                    kind: item.kind.code(),
                    name: &item.name,
                    album_id: keyed
                        .keys
                        .album
                        .as_deref()
                        .and_then(|k| cache.albums.get(k))
                        .copied(),
                    duration_ms: item
                        .duration_ms
                        .map(|d| d.clamp(0, i64::from(i32::MAX)) as i32),
                    isrc: item.isrc.as_deref(),
                    match_key: keyed.keys.match_key,
                }
            })
            .collect();
        let ids = bulk::track_ids(tx, &rows).await?;
        cache.tracks.extend(ids);
        let mut credits: Vec<(i64, i64, i16)> = Vec::new();
        for keyed in &new_tracks {
            let Some(&track_id) = cache.tracks.get(&keyed.keys.track) else {
                continue;
            };
            for (position, key) in keyed.keys.artists.iter().enumerate() {
                if let Some(&artist_id) = cache.artists.get(key) {
                    credits.push((track_id, artist_id, position as i16));
                }
            }
        }
        if !credits.is_empty() {
            bulk::insert_credits(tx, &credits).await?;
        }
    }
    Ok(())
}
