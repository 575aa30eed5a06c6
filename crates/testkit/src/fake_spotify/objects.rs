//! Catalogue entries rendered as Web API objects. What Spotify removed in 2026 (`popularity`,
//! `followers`, `available_markets`, album `label` and `external_ids`) is absent, and artist
//! `genres` is empty, so clients are tested against today's shapes.

use super::catalogue::{Catalogue, FakeAlbum, FakeArtist, FakeTrack};
use serde_json::{Value, json};

fn external_urls(kind: &str, id: &str) -> Value {
    json!({ "spotify": format!("https://open.spotify.com/{kind}/{id}") })
}

pub(crate) fn simplified_artist(base: &str, artist: &FakeArtist) -> Value {
    json!({
        "external_urls": external_urls("artist", &artist.id),
        "href": format!("{base}/v1/artists/{}", artist.id),
        "id": artist.id,
        "name": artist.name,
        "type": "artist",
        "uri": artist.uri(),
    })
}

pub(crate) fn artist(base: &str, artist: &FakeArtist) -> Value {
    let mut value = simplified_artist(base, artist);
    value["genres"] = json!([]);
    value["images"] = json!([]);
    value
}

fn artists_of(base: &str, ids: &[String]) -> Vec<Value> {
    let catalogue = Catalogue::builtin();
    ids.iter()
        .filter_map(|id| catalogue.artist(id))
        .map(|a| simplified_artist(base, a))
        .collect()
}

pub(crate) fn simplified_album(base: &str, album: &FakeAlbum) -> Value {
    let precision = if album.release_date.len() == 4 {
        "year"
    } else {
        "day"
    };
    json!({
        "album_type": album.album_type,
        "total_tracks": Catalogue::builtin().album_tracks(&album.id).count(),
        "external_urls": external_urls("album", &album.id),
        "href": format!("{base}/v1/albums/{}", album.id),
        "id": album.id,
        "images": [],
        "name": album.name,
        "release_date": album.release_date,
        "release_date_precision": precision,
        "type": "album",
        "uri": album.uri(),
        "artists": artists_of(base, &album.artist_ids),
    })
}

pub(crate) fn album(base: &str, album: &FakeAlbum) -> Value {
    let tracks: Vec<Value> = Catalogue::builtin()
        .album_tracks(&album.id)
        .map(|t| simplified_track(base, t))
        .collect();
    let mut value = simplified_album(base, album);
    value["tracks"] = json!({
        "href": format!("{base}/v1/albums/{}/tracks?offset=0&limit=50", album.id),
        "limit": 50,
        "next": null,
        "offset": 0,
        "previous": null,
        "total": tracks.len(),
        "items": tracks,
    });
    value
}

/// A track as listed inside an album: no `album`, no `external_ids`.
pub(crate) fn simplified_track(base: &str, track: &FakeTrack) -> Value {
    json!({
        "artists": artists_of(base, &track.artist_ids),
        "disc_number": 1,
        "duration_ms": track.duration_ms,
        "explicit": track.explicit,
        "external_urls": external_urls("track", &track.id),
        "href": format!("{base}/v1/tracks/{}", track.id),
        "id": track.id,
        "is_local": false,
        "name": track.name,
        "preview_url": null,
        "track_number": track.track_number,
        "type": "track",
        "uri": track.uri(),
    })
}

pub(crate) fn track(base: &str, track: &FakeTrack) -> Value {
    let album = Catalogue::builtin()
        .album(&track.album_id)
        .expect("every catalogue track has its album");
    let mut value = simplified_track(base, track);
    value["album"] = simplified_album(base, album);
    value["external_ids"] = match &track.isrc {
        Some(isrc) => json!({ "isrc": isrc }),
        None => json!({}),
    };
    value
}

/// A paging object around already-rendered items. `page_url(offset)` builds `next`/`previous`.
pub(crate) fn paging(
    href: String,
    items: Vec<Value>,
    limit: usize,
    offset: usize,
    total: usize,
    page_url: impl Fn(usize) -> String,
) -> Value {
    let next = (offset + limit < total).then(|| page_url(offset + limit));
    let previous = (offset > 0).then(|| page_url(offset.saturating_sub(limit)));
    json!({
        "href": href,
        "items": items,
        "limit": limit,
        "next": next,
        "offset": offset,
        "previous": previous,
        "total": total,
    })
}
