//! `GET /me/export?format=jsonl|csv`: every stored listen of the listener, oldest first, as
//! a download in the same format as `spotify-history export` — so `import` (or the upload on
//! this page) reads it back. Listens are read and sent page by page, never all at once.

use crate::AppState;
use crate::ui::{ListenerPage, UiError};
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use spotify_history_core::UserId;
use spotify_history_import::{ExportFormat, ExportWriter};
use spotify_history_store::{Store, StoredListen};

/// Listens read from the database per piece of the body.
const PAGE: i64 = 2_000;

#[derive(Debug, Deserialize)]
pub(crate) struct ExportQuery {
    format: Option<String>,
}

pub(crate) async fn export(
    State(app): State<AppState>,
    listener: ListenerPage,
    Query(query): Query<ExportQuery>,
) -> Result<Response, UiError> {
    let format = match query.format.as_deref().unwrap_or("jsonl") {
        "jsonl" => ExportFormat::Jsonl,
        "csv" => ExportFormat::Csv,
        other => {
            return Err(UiError::bad_request(format!(
                "Unknown export format {other:?}: use jsonl or csv."
            )));
        }
    };
    let user = listener.access.user;
    let pages = Pages {
        store: app.store.clone(),
        user: user.id,
        format,
        after: None,
        started: false,
        done: false,
    };
    let body = futures::stream::unfold(pages, |mut pages| async move {
        let piece = pages.next().await.transpose()?;
        Some((piece, pages))
    });
    let content_type = match format {
        ExportFormat::Jsonl => "application/x-ndjson",
        ExportFormat::Csv => "text/csv; charset=utf-8",
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
    let disposition = format!(
        "attachment; filename=\"spotify-history-export-{file_name}.{}\"",
        format.extension()
    );
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

/// The export of one listener, a page of listens at a time.
struct Pages {
    store: Store,
    user: UserId,
    format: ExportFormat,
    /// The last listen sent: the next page starts after it.
    after: Option<StoredListen>,
    started: bool,
    done: bool,
}

impl Pages {
    /// The next piece of the body, `None` at the end. A database failure ends the download
    /// with an error (the client sees it broken off, never silently short).
    async fn next(&mut self) -> Result<Option<Bytes>, std::io::Error> {
        if self.done {
            return Ok(None);
        }
        let page = self
            .store
            .stored_listens_page(self.user, self.after.as_ref(), PAGE)
            .await
            .map_err(|err| {
                tracing::error!(user = %self.user, error = %err, "a listener's export broke off");
                std::io::Error::other(err.to_string())
            })?;
        let mut writer = if self.started {
            ExportWriter::continuing(Vec::new(), self.format)
        } else {
            ExportWriter::new(Vec::new(), self.format)?
        };
        for listen in &page {
            writer.write(listen)?;
        }
        self.started = true;
        self.done = (page.len() as i64) < PAGE;
        self.after = page.into_iter().last();
        Ok(Some(Bytes::from(writer.finish()?)))
    }
}
