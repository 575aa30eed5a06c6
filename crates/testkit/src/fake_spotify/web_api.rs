//! The Web API's `/v1` endpoints other than recently-played: bearer-token checks (with the
//! injected failures), `/me`, top lists, search and single-item lookups.

use super::accounts::parse_pairs;
use super::catalogue::{Catalogue, FakeTrack};
use super::error_answers::{
    ApiError, api_error, not_registered, rate_limited, server_error, service_not_found,
};
use super::failures::{Endpoint, Failure};
use super::objects;
use super::state::Shared;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::SignedDuration;
use serde_json::{Value, json};
use std::collections::HashMap;

pub(crate) type Params = HashMap<String, String>;

pub(crate) fn query_params(raw: Option<String>) -> Params {
    parse_pairs(raw.unwrap_or_default().as_bytes())
}

/// Checks the bearer token (after any injected failure) and the scope a call needs; the
/// caller's Spotify user id, or the error answer.
pub(crate) async fn authenticate(
    shared: &Shared,
    headers: &HeaderMap,
    needed_scope: Option<&str>,
) -> Result<String, Response> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let failure = {
        let mut state = shared.lock();
        let user = token
            .as_deref()
            .and_then(|t| state.access_token_user(t))
            .map(str::to_owned);
        let failure = state.failures.take(Endpoint::WebApi, user.as_deref());
        if failure == Some(Failure::ExpiredAccessToken) {
            let now = state.now();
            if let Some(access) = token
                .as_deref()
                .and_then(|t| state.access_tokens.get_mut(t))
            {
                access.expires_at = now;
            }
        }
        failure
    };
    match failure {
        None | Some(Failure::ExpiredAccessToken) => {}
        Some(Failure::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(Failure::NotRegistered) => return Err(not_registered()),
        Some(Failure::RateLimited { retry_after_secs }) => {
            return Err(rate_limited(retry_after_secs));
        }
        Some(Failure::ServerError(status)) => return Err(server_error(status)),
        Some(other) => unreachable!("{other:?} does not apply to the Web API"),
    }

    let state = shared.lock();
    let Some(token) = token else {
        return Err(api_error(StatusCode::UNAUTHORIZED, "No token provided"));
    };
    let Some(access) = state.access_tokens.get(&token) else {
        return Err(api_error(StatusCode::UNAUTHORIZED, "Invalid access token"));
    };
    if state.now() >= access.expires_at {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            "The access token expired",
        ));
    }
    if !state.users.get(&access.user).is_some_and(|u| u.registered) {
        return Err(not_registered());
    }
    if let Some(scope) = needed_scope
        && !access.scopes.iter().any(|s| s == scope)
    {
        return Err(api_error(
            StatusCode::FORBIDDEN,
            "Insufficient client scope",
        ));
    }
    Ok(access.user.clone())
}

/// An integer parameter within `min..=max`, `default` when absent; Spotify's 400 otherwise.
pub(crate) fn bounded(
    params: &Params,
    name: &str,
    default: usize,
    min: usize,
    max: usize,
) -> Result<usize, ApiError> {
    match params.get(name) {
        None => Ok(default),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| ApiError::bad_request(format!("Invalid {name}"))),
    }
}

/// `GET /v1/me`: no `email`, `country` or `product` since 2026.
pub(crate) async fn me(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let user = match authenticate(&shared, &headers, None).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let state = shared.lock();
    let display_name = &state.users[&user].display_name;
    axum::Json(json!({
        "display_name": display_name,
        "external_urls": { "spotify": format!("https://open.spotify.com/user/{user}") },
        "href": format!("{}/v1/users/{user}", state.base_url),
        "id": user,
        "images": [],
        "type": "user",
        "uri": format!("spotify:user:{user}"),
    }))
    .into_response()
}

/// `GET /v1/me/top/{artists|tracks}`: ranked by play count in the time range, ties by name.
pub(crate) async fn top(
    State(shared): State<Shared>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if kind != "artists" && kind != "tracks" {
        return service_not_found();
    }
    let user = match authenticate(&shared, &headers, Some("user-top-read")).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let params = query_params(query);
    let time_range = params
        .get("time_range")
        .map_or("medium_term", String::as_str)
        .to_owned();
    let span = match time_range.as_str() {
        "short_term" => SignedDuration::from_hours(24 * 28),
        "medium_term" => SignedDuration::from_hours(24 * 182),
        "long_term" => SignedDuration::from_hours(24 * 365),
        _ => return api_error(StatusCode::BAD_REQUEST, "Invalid time range"),
    };
    let (limit, offset) = match (
        bounded(&params, "limit", 20, 1, 50),
        bounded(&params, "offset", 0, 0, 10_000),
    ) {
        (Ok(limit), Ok(offset)) => (limit, offset),
        (Err(error), _) | (_, Err(error)) => return error.into_response(),
    };

    let state = shared.lock();
    let catalogue = Catalogue::builtin();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for play in state.plays_since(&user, state.now() - span) {
        let track = &catalogue.tracks[play.track];
        if kind == "tracks" {
            *counts.entry(track.id.as_str()).or_default() += 1;
        } else {
            for artist in &track.artist_ids {
                *counts.entry(artist.as_str()).or_default() += 1;
            }
        }
    }
    let name_of = |id: &str| {
        if kind == "tracks" {
            catalogue.track(id).map(|t| t.name.as_str())
        } else {
            catalogue.artist(id).map(|a| a.name.as_str())
        }
    };
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| name_of(a.0).cmp(&name_of(b.0))));
    let base = state.base_url.as_str();
    let items: Vec<Value> = ranked
        .iter()
        .skip(offset)
        .take(limit)
        .filter_map(|(id, _)| {
            if kind == "tracks" {
                catalogue.track(id).map(|t| objects::track(base, t))
            } else {
                catalogue.artist(id).map(|a| objects::artist(base, a))
            }
        })
        .collect();
    let page_url = |offset: usize| {
        format!("{base}/v1/me/top/{kind}?time_range={time_range}&limit={limit}&offset={offset}")
    };
    axum::Json(objects::paging(
        page_url(offset),
        items,
        limit,
        offset,
        ranked.len(),
        page_url,
    ))
    .into_response()
}

const SEARCH_TYPES: &[&str] = &[
    "album",
    "artist",
    "playlist",
    "track",
    "show",
    "episode",
    "audiobook",
];

/// `GET /v1/search`: every word of `q` must occur in the item's names (field filters like
/// `artist:` are read as plain words). `limit` is 1..=10, 5 by default, since 2026.
pub(crate) async fn search(
    State(shared): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(response) = authenticate(&shared, &headers, None).await {
        return response;
    }
    let params = query_params(query);
    let Some(q) = params.get("q").filter(|q| !q.trim().is_empty()) else {
        return api_error(StatusCode::BAD_REQUEST, "No search query");
    };
    let Some(types) = params.get("type") else {
        return api_error(StatusCode::BAD_REQUEST, "Missing parameter type");
    };
    let types: Vec<&str> = types.split(',').map(str::trim).collect();
    if let Some(bad) = types.iter().find(|t| !SEARCH_TYPES.contains(t)) {
        return api_error(
            StatusCode::BAD_REQUEST,
            &format!("Bad search type field {bad}"),
        );
    }
    let (limit, offset) = match (
        bounded(&params, "limit", 5, 1, 10),
        bounded(&params, "offset", 0, 0, 1000),
    ) {
        (Ok(limit), Ok(offset)) => (limit, offset),
        (Err(error), _) | (_, Err(error)) => return error.into_response(),
    };
    let words: Vec<String> = q
        .split_whitespace()
        .map(|w| {
            let w = w.rsplit_once(':').map_or(w, |(_, value)| value);
            w.to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let matches = |haystack: String| {
        let haystack = haystack.to_lowercase();
        words.iter().all(|w| haystack.contains(w.as_str()))
    };

    let base = shared.lock().base_url.clone();
    let catalogue = Catalogue::builtin();
    let mut body = serde_json::Map::new();
    for kind in types {
        let found: Vec<Value> = match kind {
            "track" => catalogue
                .tracks
                .iter()
                .filter(|t| matches(track_haystack(catalogue, t)))
                .map(|t| objects::track(&base, t))
                .collect(),
            "artist" => catalogue
                .artists
                .iter()
                .filter(|a| matches(a.name.clone()))
                .map(|a| objects::artist(&base, a))
                .collect(),
            "album" => catalogue
                .albums
                .iter()
                .filter(|a| {
                    let artists = a.artist_ids.iter().filter_map(|id| catalogue.artist(id));
                    matches(
                        std::iter::once(a.name.as_str())
                            .chain(artists.map(|artist| artist.name.as_str()))
                            .collect::<Vec<_>>()
                            .join(" "),
                    )
                })
                .map(|a| objects::simplified_album(&base, a))
                .collect(),
            // The fake has no playlists, shows, episodes or audiobooks: always no results.
            _ => Vec::new(),
        };
        let total = found.len();
        let items = found.into_iter().skip(offset).take(limit).collect();
        let encoded_q: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
        let page_url = |offset: usize| {
            format!("{base}/v1/search?q={encoded_q}&type={kind}&offset={offset}&limit={limit}")
        };
        body.insert(
            format!("{kind}s"),
            objects::paging(page_url(offset), items, limit, offset, total, page_url),
        );
    }
    axum::Json(Value::Object(body)).into_response()
}

fn track_haystack(catalogue: &Catalogue, track: &FakeTrack) -> String {
    let album = catalogue
        .album(&track.album_id)
        .map_or("", |a| a.name.as_str());
    format!(
        "{} {} {album}",
        track.name,
        catalogue.artist_names(track).join(" ")
    )
}

/// Spotify ids are 22 base62 characters; anything else is a 400, not a 404.
fn check_id(id: &str) -> Result<(), ApiError> {
    if id.len() == 22 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(ApiError::bad_request("Invalid base62 id"))
    }
}

/// `GET /v1/tracks/{id}`.
pub(crate) async fn track(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    item(&shared, &headers, &id, |base, id| {
        Catalogue::builtin()
            .track(id)
            .map(|t| objects::track(base, t))
    })
    .await
}

/// `GET /v1/artists/{id}`.
pub(crate) async fn artist(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    item(&shared, &headers, &id, |base, id| {
        Catalogue::builtin()
            .artist(id)
            .map(|a| objects::artist(base, a))
    })
    .await
}

/// `GET /v1/albums/{id}`.
pub(crate) async fn album(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    item(&shared, &headers, &id, |base, id| {
        Catalogue::builtin()
            .album(id)
            .map(|a| objects::album(base, a))
    })
    .await
}

async fn item(
    shared: &Shared,
    headers: &HeaderMap,
    id: &str,
    render: impl Fn(&str, &str) -> Option<Value>,
) -> Response {
    if let Err(response) = authenticate(shared, headers, None).await {
        return response;
    }
    if let Err(error) = check_id(id) {
        return error.into_response();
    }
    let base = shared.lock().base_url.clone();
    match render(&base, id) {
        Some(value) => axum::Json(value).into_response(),
        None => api_error(StatusCode::NOT_FOUND, "Resource not found"),
    }
}

/// Unknown paths, including the batch endpoints (`/v1/tracks?ids=`) Spotify removed.
pub(crate) async fn fallback() -> Response {
    service_not_found()
}
