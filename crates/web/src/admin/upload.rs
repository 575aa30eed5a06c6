//! `POST /admin/imports/upload?user_id=N`: an export ZIP, as the multipart field `file` or
//! as the raw body (`Content-Type: application/zip`), streamed to DATA_DIR/uploads chunk by
//! chunk — never held whole in memory — and queued as an import job the collector runs.
//!
//! IMPORT_MAX_ZIP_SIZE_MB is enforced while the bytes arrive (413, partial file removed),
//! and a body that does not start like a ZIP is refused (400) before more is written.

use super::imports::{ImportJobDetail, ImportJobView};
use super::input::{Params, bad_request, user_id};
use super::store_error;
use crate::upload::{Chunks, SaveError, UploadFile};
use crate::{AdminAccess, ApiError, AppState};
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use spotify_history_store::NewImportJob;

pub(super) fn routes() -> Router<AppState> {
    // Exports run to hundreds of MB: the default body limit would cut them off, so this
    // route lifts it and enforces IMPORT_MAX_ZIP_SIZE_MB itself while streaming.
    Router::new().route(
        "/admin/imports/upload",
        post(upload).layer(DefaultBodyLimit::disable()),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadQuery {
    user_id: i64,
    /// The name to show for a raw-body upload (multipart uploads carry their own).
    file_name: Option<String>,
}

async fn upload(
    _: AdminAccess,
    State(state): State<AppState>,
    Params(query): Params<UploadQuery>,
    request: Request,
) -> Result<Response, ApiError> {
    let user = user_id("user_id", query.user_id)?;
    let user = state.store.get_user(user).await.map_err(store_error)?;
    let max = state.uploads.max_bytes;
    if let Some(declared) = content_length(&request)
        && declared > max
    {
        return Err(too_large(max));
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut target = UploadFile::create(&state.uploads.dir, user.id, "zip")
        .await
        .map_err(save_error)?;
    let (file_name, written) = if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, &state)
            .await
            .map_err(|e| {
                bad_request(format!(
                    "cannot read the multipart upload: {}",
                    e.body_text()
                ))
            })?;
        let mut found = None;
        while let Some(field) = multipart.next_field().await.map_err(|e| {
            bad_request(format!(
                "cannot read the multipart upload: {}",
                e.body_text()
            ))
        })? {
            if field.name() == Some("file") {
                let name = field.file_name().map(str::to_owned);
                let written = target
                    .write(Chunks::Field(Box::new(field)), max, true)
                    .await
                    .map_err(save_error)?;
                found = Some((name, written));
                break;
            }
        }
        let Some((name, written)) = found else {
            return Err(bad_request(
                "the multipart upload has no field named `file`: send the export ZIP as `file`",
            ));
        };
        (name, written)
    } else if [
        "application/zip",
        "application/x-zip-compressed",
        "application/octet-stream",
    ]
    .iter()
    .any(|t| content_type.starts_with(t))
    {
        let written = target
            .write(Chunks::Raw(request.into_body()), max, true)
            .await
            .map_err(save_error)?;
        (query.file_name.clone(), written)
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the export ZIP as multipart/form-data (field `file`) or as the raw body with Content-Type: application/zip",
        ));
    };
    let file_name = display_name(file_name.as_deref());
    let path = target.keep().await.map_err(save_error)?;
    let path_text = path.to_string_lossy().into_owned();
    let queued = state
        .store
        .create_import_job(&NewImportJob {
            user: user.id,
            file_name: &file_name,
            file_path: &path_text,
            size_bytes: written,
        })
        .await;
    let id = match queued {
        Ok(id) => id,
        Err(err) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(store_error(err));
        }
    };
    tracing::info!(user = %user.id, import_job = %id, bytes = written, file = %file_name, "export uploaded; import queued");
    let row = state.store.import_job(id).await.map_err(store_error)?;
    let mut response = (
        StatusCode::ACCEPTED,
        Json(ImportJobDetail {
            import: ImportJobView::new(row, false),
        }),
    )
        .into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/admin/imports/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

fn content_length(request: &Request) -> Option<u64> {
    request
        .headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn too_large(max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!(
            "the upload is larger than IMPORT_MAX_ZIP_SIZE_MB allows ({} MiB); raise the setting or import the export with `spotify-history import`",
            max / (1024 * 1024)
        ),
    )
}

/// The name shown for an upload: the last path segment the client sent, or `export.zip`.
fn display_name(sent: Option<&str>) -> String {
    sent.map(|name| name.rsplit(['/', '\\']).next().unwrap_or(name).trim())
        .filter(|name| !name.is_empty())
        .map(|name| name.chars().filter(|c| !c.is_control()).take(200).collect())
        .unwrap_or_else(|| "export.zip".to_owned())
}

/// An upload that could not be saved, as an API error (the partial file is already gone).
fn save_error(err: SaveError) -> ApiError {
    if let SaveError::Disk(e) = &err {
        tracing::error!(error = %e, "cannot store an upload");
    }
    ApiError::new(err.status(), err.code(), err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_tamed() {
        assert_eq!(
            display_name(Some("C:\\Users\\ann\\my_spotify_data.zip")),
            "my_spotify_data.zip"
        );
        assert_eq!(display_name(Some("../../etc/x.zip")), "x.zip");
        assert_eq!(display_name(Some("  ")), "export.zip");
        assert_eq!(display_name(None), "export.zip");
    }
}
