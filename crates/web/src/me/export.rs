//! `GET /me/export?format=jsonl|csv`: every stored listen of the listener, oldest first, as
//! a download. The body is written in chunks as it is sent.

use crate::AppState;
use crate::ui::{ListenerPage, UiError};
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::Deserialize;
use spotify_history_store::StoredListen;
use std::convert::Infallible;
use std::fmt::Write;

/// Listens per chunk of the body.
const CHUNK: usize = 1_000;

#[derive(Debug, Deserialize)]
pub(crate) struct ExportQuery {
    format: Option<String>,
}

const CSV_HEADER: &str = "ended_at,ended_at_ms,track_key,track_name,artist_names,album_name,kind,ms_played,ms_played_estimated,source,sources,platform,conn_country,reason_start,reason_end,shuffle,skipped,offline,incognito\n";

pub(crate) async fn export(
    State(app): State<AppState>,
    listener: ListenerPage,
    Query(query): Query<ExportQuery>,
) -> Result<Response, UiError> {
    let csv = match query.format.as_deref().unwrap_or("jsonl") {
        "jsonl" => false,
        "csv" => true,
        other => {
            return Err(UiError::bad_request(format!(
                "Unknown export format {other:?}: use jsonl or csv."
            )));
        }
    };
    let user = app.store.get_user(listener.access.user).await?;
    let listens = app.store.stored_listens(user.id).await?;
    let chunks = listens.len().div_ceil(CHUNK);
    let header_chunk = csv.then(|| Ok::<_, Infallible>(Bytes::from_static(CSV_HEADER.as_bytes())));
    let body = futures::stream::iter(header_chunk).chain(futures::stream::iter((0..chunks).map(
        move |i| {
            let part = &listens[i * CHUNK..((i + 1) * CHUNK).min(listens.len())];
            let text = if csv {
                csv_rows(part)
            } else {
                json_lines(part)
            };
            Ok::<_, Infallible>(Bytes::from(text))
        },
    )));
    let (content_type, extension) = if csv {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("application/x-ndjson", "jsonl")
    };
    let file_name: String = user
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"spotify-history-{file_name}.{extension}\"");
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).expect("a tame file name"),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

fn json_lines(listens: &[StoredListen]) -> String {
    let mut out = String::new();
    for listen in listens {
        out.push_str(&serde_json::to_string(listen).expect("listens serialize"));
        out.push('\n');
    }
    out
}

fn csv_rows(listens: &[StoredListen]) -> String {
    let mut out = String::new();
    let flag = |b: Option<bool>| b.map(|b| b.to_string()).unwrap_or_default();
    for l in listens {
        let ended = jiff::Timestamp::from_millisecond(l.ended_at)
            .map(|t| t.to_string())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            ended,
            l.ended_at,
            field(&l.track_key),
            field(&l.track_name),
            field(l.artist_names.as_deref().unwrap_or("")),
            field(l.album_name.as_deref().unwrap_or("")),
            l.kind,
            l.ms_played.map(|m| m.to_string()).unwrap_or_default(),
            l.ms_played_estimated,
            l.source,
            l.sources,
            field(l.platform.as_deref().unwrap_or("")),
            field(l.conn_country.as_deref().unwrap_or("")),
            field(l.reason_start.as_deref().unwrap_or("")),
            field(l.reason_end.as_deref().unwrap_or("")),
            flag(l.shuffle),
            flag(l.skipped),
            flag(l.offline),
            flag(l.incognito),
        );
    }
    out
}

/// A CSV field, quoted when it holds a separator, quote or line break (RFC 4180). A leading
/// `=`, `+`, `-` or `@` is prefixed with `'` so spreadsheets do not run it as a formula.
fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
