//! `GET /v1/me/player/recently-played`: the only live source of history, with the real
//! endpoint's limits — at most the latest 50 plays are ever visible, newest first.

use super::catalogue::Catalogue;
use super::error_answers::{ApiError, api_error};
use super::objects;
use super::state::Shared;
use super::web_api::{authenticate, bounded, query_params};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

/// `played_at` as Spotify writes it: UTC with exactly three fractional digits.
pub(crate) fn played_at_text(at: Timestamp) -> String {
    format!("{at:.3}")
}

/// `after` returns the newest plays strictly after the cursor, `before` the newest strictly
/// before it, neither the newest overall; `limit` is 1..=50 (20 by default). `next` pages
/// further back while the window still holds older plays.
pub(crate) async fn recently_played(
    State(shared): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let user = match authenticate(&shared, &headers, Some("user-read-recently-played")).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let raw_query = query.clone().unwrap_or_default();
    let params = query_params(query);
    let limit = match bounded(&params, "limit", 20, 1, 50) {
        Ok(limit) => limit,
        Err(error) => return error.into_response(),
    };
    let cursor = |name: &str| -> Result<Option<i64>, ApiError> {
        params
            .get(name)
            .map(|raw| {
                raw.parse::<i64>()
                    .map_err(|_| ApiError::bad_request(format!("Invalid {name}")))
            })
            .transpose()
    };
    let (after, before) = match (cursor("after"), cursor("before")) {
        (Ok(after), Ok(before)) => (after, before),
        (Err(error), _) | (_, Err(error)) => return error.into_response(),
    };
    if after.is_some() && before.is_some() {
        return api_error(
            StatusCode::BAD_REQUEST,
            "Only one of the parameters before and after may be specified",
        );
    }

    let state = shared.lock();
    let base = state.base_url.as_str();
    let catalogue = Catalogue::builtin();
    let matching: Vec<_> = state
        .visible_plays(&user)
        .iter()
        .rev()
        .filter(|p| {
            let ms = p.played_at.as_millisecond();
            after.is_none_or(|a| ms > a) && before.is_none_or(|b| ms < b)
        })
        .collect();
    let page = &matching[..matching.len().min(limit)];
    let items: Vec<Value> = page
        .iter()
        .map(|play| {
            json!({
                "track": objects::track(base, &catalogue.tracks[play.track]),
                "played_at": played_at_text(play.played_at),
                "context": null,
            })
        })
        .collect();
    let cursors = match (page.first(), page.last()) {
        (Some(newest), Some(oldest)) => json!({
            "after": newest.played_at.as_millisecond().to_string(),
            "before": oldest.played_at.as_millisecond().to_string(),
        }),
        _ => Value::Null,
    };
    let next = match page.last() {
        Some(oldest) if matching.len() > page.len() => Value::String(format!(
            "{base}/v1/me/player/recently-played?before={}&limit={limit}",
            oldest.played_at.as_millisecond()
        )),
        _ => Value::Null,
    };
    let href = if raw_query.is_empty() {
        format!("{base}/v1/me/player/recently-played")
    } else {
        format!("{base}/v1/me/player/recently-played?{raw_query}")
    };
    axum::Json(json!({
        "items": items,
        "next": next,
        "cursors": cursors,
        "limit": limit,
        "href": href,
    }))
    .into_response()
}
