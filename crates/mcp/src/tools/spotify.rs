//! Live Spotify tools: what Spotify knows now (top lists, catalogue search and lookups, the
//! last plays), asked on the listener's behalf with their stored sign-in. Answers are trimmed
//! to what a model needs: names, ids, URIs, artists, albums, dates.

use crate::{ToolContext, ToolDef, ToolError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use spotify_history_analytics::Scope;
use spotify_history_core::Secret;
use spotify_history_spotify::{
    Album, Artist, RECENTLY_PLAYED_MAX_LIMIT, SEARCH_MAX_LIMIT, SearchType, SimplifiedAlbum,
    SimplifiedArtist, SpotifyAccess, SpotifyClient, SpotifyError, TOP_MAX_LIMIT, TimeRange,
    TopItems, TopKind, Track,
};

/// What a top list ranks.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TopType {
    #[default]
    Artists,
    Tracks,
}

/// The period of a Spotify top list.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(
    clippy::enum_variant_names,
    reason = "the names are Spotify's own: short_term, ..."
)]
pub(crate) enum Period {
    /// About the last 4 weeks.
    ShortTerm,
    /// About the last 6 months.
    #[default]
    MediumTerm,
    /// About the last year.
    LongTerm,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct TopListArgs {
    /// artists or tracks (default artists).
    #[serde(default, rename = "type")]
    kind: TopType,
    /// short_term (~4 weeks), medium_term (~6 months, default) or long_term (~1 year).
    #[serde(default)]
    time_range: Period,
    /// 1 to 50 (default 20).
    limit: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SearchKind {
    Track,
    Artist,
    Album,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct SearchArgs {
    /// What to look for, e.g. "bohemian rhapsody" or "artist:Queen".
    query: String,
    /// Which kinds of items to return (default track, artist and album).
    types: Option<Vec<SearchKind>>,
    /// Results per kind, 1 to 10 (Spotify's maximum since 2026; default 5).
    limit: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct IdArgs {
    /// A Spotify id (base62) or URI such as spotify:track:4uLU6hMCjMI75M1A2tKUQC.
    id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct RecentArgs {
    /// 1 to 50 (default 20). Spotify only ever shows the last 50 plays; the stored history
    /// (history_recent_plays) goes back much further.
    limit: Option<u32>,
}

/// A track as the live tools show it.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TrackInfo {
    id: Option<String>,
    name: String,
    uri: Option<String>,
    artists: Vec<String>,
    album: Option<String>,
    album_id: Option<String>,
    release_date: Option<String>,
    duration_ms: Option<i64>,
    isrc: Option<String>,
    explicit: bool,
    url: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ArtistInfo {
    id: String,
    name: String,
    uri: String,
    /// Often empty: Spotify stopped filling genres for most artists.
    genres: Vec<String>,
    url: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct AlbumInfo {
    id: Option<String>,
    name: String,
    uri: Option<String>,
    album_type: Option<String>,
    release_date: Option<String>,
    total_tracks: Option<u32>,
    artists: Vec<String>,
    url: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TopList {
    /// artists or tracks.
    #[serde(rename = "type")]
    kind: &'static str,
    time_range: &'static str,
    /// Set for artist lists, rank order.
    #[serde(skip_serializing_if = "Option::is_none")]
    artists: Option<Vec<ArtistInfo>>,
    /// Set for track lists, rank order.
    #[serde(skip_serializing_if = "Option::is_none")]
    tracks: Option<Vec<TrackInfo>>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SearchResult {
    query: String,
    tracks: Vec<TrackInfo>,
    artists: Vec<ArtistInfo>,
    albums: Vec<AlbumInfo>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct AlbumDetail {
    #[serde(flatten)]
    album: AlbumInfo,
    /// The album's first page of tracks, in order.
    tracks: Vec<TrackInfo>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RecentPlay {
    /// When the play ended (UTC).
    played_at: String,
    track: TrackInfo,
    /// What it was played from (album, playlist, artist), as a Spotify URI.
    context: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RecentList {
    plays: Vec<RecentPlay>,
    note: &'static str,
}

/// Appended to every live tool's description.
macro_rules! live {
    ($text:literal) => {
        concat!(
            $text,
            " Asks Spotify live with the listener's sign-in; fails with a clear message when \
             they have not linked Spotify, must sign in again, or Spotify asks to wait."
        )
    };
}

pub(crate) fn tools() -> Vec<ToolDef> {
    vec![
        ToolDef::new(
            "spotify_get_top",
            "Spotify top artists or tracks",
            live!(
                "Spotify's own ranking of the listener's top artists or tracks for about the \
                 last 4 weeks, 6 months or year. For exact counts over any period use \
                 history_top_artists / history_top_tracks."
            ),
            |context, scope, args: TopListArgs| async move { get_top(&context, &scope, args).await },
        ),
        ToolDef::new(
            "spotify_search",
            "Search Spotify",
            live!(
                "Searches Spotify's catalogue for tracks, artists and albums (at most 10 \
                 results per kind). Use it to find ids and URIs or to check spellings."
            ),
            |context, scope, args: SearchArgs| async move { search(&context, &scope, args).await },
        ),
        ToolDef::new(
            "spotify_get_track",
            "Spotify track",
            live!(
                "One track from Spotify's catalogue by id or URI: artists, album, release \
                 date, duration, ISRC."
            ),
            |context, scope, args: IdArgs| async move {
                let id = &args.id;
                let track = live(&context, &scope, |client, token| async move {
                    client.track(&token, id).await
                })
                .await?;
                Ok(track_info(track))
            },
        ),
        ToolDef::new(
            "spotify_get_artist",
            "Spotify artist",
            live!("One artist from Spotify's catalogue by id or URI: name, genres, link."),
            |context, scope, args: IdArgs| async move {
                let id = &args.id;
                let artist = live(&context, &scope, |client, token| async move {
                    client.artist(&token, id).await
                })
                .await?;
                Ok(artist_info(artist))
            },
        ),
        ToolDef::new(
            "spotify_get_album",
            "Spotify album",
            live!("One album from Spotify's catalogue by id or URI, with its track list."),
            |context, scope, args: IdArgs| async move {
                let id = &args.id;
                let album = live(&context, &scope, |client, token| async move {
                    client.album(&token, id).await
                })
                .await?;
                Ok(album_detail(album))
            },
        ),
        ToolDef::new(
            "spotify_recently_played",
            "Spotify recently played",
            live!(
                "The listener's last plays as Spotify reports them right now (at most 50), \
                 including any the collector has not stored yet. For anything older use \
                 history_recent_plays."
            ),
            |context, scope, args: RecentArgs| async move {
                recently_played(&context, &scope, args).await
            },
        ),
    ]
}

/// Runs one Spotify call for the scope's listener.
async fn live<T, Fut>(
    context: &ToolContext,
    scope: &Scope,
    call: impl Fn(SpotifyClient, Secret) -> Fut,
) -> Result<T, ToolError>
where
    Fut: Future<Output = Result<T, SpotifyError>>,
{
    Ok(access(context)?.call(scope.user, call).await?)
}

fn access(context: &ToolContext) -> Result<&SpotifyAccess, ToolError> {
    context.spotify.as_ref().ok_or_else(|| {
        ToolError::SpotifyUnavailable(
            "this server has no Spotify app configured (SPOTIFY_CLIENT_ID/SECRET): only the \
             stored history can be asked"
                .into(),
        )
    })
}

fn limit(given: Option<u32>, default: u32, max: u32) -> Result<u32, ToolError> {
    let limit = given.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(ToolError::BadArguments(format!(
            "limit must be between 1 and {max}, got {limit}"
        )))
    }
}

async fn get_top(
    context: &ToolContext,
    scope: &Scope,
    args: TopListArgs,
) -> Result<TopList, ToolError> {
    let limit = limit(args.limit, 20, TOP_MAX_LIMIT)?;
    let (kind, kind_name) = match args.kind {
        TopType::Artists => (TopKind::Artists, "artists"),
        TopType::Tracks => (TopKind::Tracks, "tracks"),
    };
    let time_range = match args.time_range {
        Period::ShortTerm => TimeRange::ShortTerm,
        Period::MediumTerm => TimeRange::MediumTerm,
        Period::LongTerm => TimeRange::LongTerm,
    };
    let items = live(context, scope, |client, token| async move {
        client.top(&token, kind, time_range, limit).await
    })
    .await?;
    let (artists, tracks) = match items {
        TopItems::Artists(page) => (
            Some(page.items.into_iter().map(artist_info).collect()),
            None,
        ),
        TopItems::Tracks(page) => (None, Some(page.items.into_iter().map(track_info).collect())),
    };
    Ok(TopList {
        kind: kind_name,
        time_range: time_range.as_str(),
        artists,
        tracks,
    })
}

async fn search(
    context: &ToolContext,
    scope: &Scope,
    args: SearchArgs,
) -> Result<SearchResult, ToolError> {
    let limit = limit(args.limit, 5, SEARCH_MAX_LIMIT)?;
    let types: Vec<SearchType> = match &args.types {
        Some(kinds) if !kinds.is_empty() => kinds
            .iter()
            .map(|k| match k {
                SearchKind::Track => SearchType::Track,
                SearchKind::Artist => SearchType::Artist,
                SearchKind::Album => SearchType::Album,
            })
            .collect(),
        _ => vec![SearchType::Track, SearchType::Artist, SearchType::Album],
    };
    let (query, types) = (&args.query, &types);
    let found = live(context, scope, |client, token| async move {
        client.search(&token, query, types, limit).await
    })
    .await?;
    Ok(SearchResult {
        query: args.query,
        tracks: found
            .tracks
            .map(|p| p.items)
            .unwrap_or_default()
            .into_iter()
            .map(track_info)
            .collect(),
        artists: found
            .artists
            .map(|p| p.items)
            .unwrap_or_default()
            .into_iter()
            .map(artist_info)
            .collect(),
        albums: found
            .albums
            .map(|p| p.items)
            .unwrap_or_default()
            .into_iter()
            .map(album_info)
            .collect(),
    })
}

async fn recently_played(
    context: &ToolContext,
    scope: &Scope,
    args: RecentArgs,
) -> Result<RecentList, ToolError> {
    let limit = limit(args.limit, 20, RECENTLY_PLAYED_MAX_LIMIT)?;
    let page = live(context, scope, |client, token| async move {
        client
            .recently_played(&token, spotify_history_spotify::Cursor::Latest, limit)
            .await
    })
    .await?;
    Ok(RecentList {
        plays: page
            .items
            .into_iter()
            .map(|item| RecentPlay {
                played_at: item.played_at.to_string(),
                context: item.context.and_then(|c| c.uri),
                track: track_info(item.track),
            })
            .collect(),
        note: "Newest first. Spotify shows only the last 50 plays; the stored history has the rest.",
    })
}

fn names(artists: &[SimplifiedArtist]) -> Vec<String> {
    artists.iter().map(|a| a.name.clone()).collect()
}

fn track_info(track: Track) -> TrackInfo {
    let album = track.album.as_ref();
    TrackInfo {
        artists: names(&track.artists),
        album: album.map(|a| a.name.clone()),
        album_id: album.and_then(|a| a.id.clone()),
        release_date: album.and_then(|a| a.release_date.clone()),
        isrc: track.external_ids.isrc,
        url: track.external_urls.spotify,
        id: track.id,
        name: track.name,
        uri: track.uri,
        duration_ms: track.duration_ms,
        explicit: track.explicit,
    }
}

fn artist_info(artist: Artist) -> ArtistInfo {
    ArtistInfo {
        id: artist.id,
        name: artist.name,
        uri: artist.uri,
        genres: artist.genres,
        url: artist.external_urls.spotify,
    }
}

fn album_info(album: SimplifiedAlbum) -> AlbumInfo {
    AlbumInfo {
        artists: names(&album.artists),
        id: album.id,
        name: album.name,
        uri: album.uri,
        album_type: album.album_type,
        release_date: album.release_date,
        total_tracks: album.total_tracks,
        url: album.external_urls.spotify,
    }
}

fn album_detail(album: Album) -> AlbumDetail {
    let tracks = album
        .tracks
        .map(|p| p.items)
        .unwrap_or_default()
        .into_iter()
        .map(track_info)
        .collect();
    AlbumDetail {
        album: AlbumInfo {
            artists: names(&album.artists),
            id: Some(album.id),
            name: album.name,
            uri: Some(album.uri),
            album_type: album.album_type,
            release_date: album.release_date,
            total_tracks: album.total_tracks,
            url: album.external_urls.spotify,
        },
        tracks,
    }
}
