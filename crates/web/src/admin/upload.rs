//! `POST /admin/imports/upload?user_id=N`: an export ZIP, as the multipart field `file` or
//! as the raw body (`Content-Type: application/zip`), streamed to DATA_DIR/uploads chunk by
//! chunk — never held whole in memory — and queued as an import job the collector runs.
//!
//! IMPORT_MAX_ZIP_SIZE_MB is enforced while the bytes arrive (413, partial file removed),
//! and a body that does not start like a ZIP is refused (400) before more is written.

use super::imports::{ImportJobDetail, ImportJobView};
use super::input::{Params, bad_request, user_id};
use super::store_error;
use crate::{AdminAccess, ApiError, AppState};
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use rand::RngCore;
use serde::Deserialize;
use spotify_history_core::UserId;
use spotify_history_store::NewImportJob;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// A ZIP starts with a local file header, or (empty archive) the end-of-directory record.
const ZIP_MAGIC: [&[u8; 4]; 2] = [b"PK\x03\x04", b"PK\x05\x06"];

pub(super) fn routes() -> Router<AppState> {
    // Exports run to hundreds of MB: the default body limit would cut them off, so this
    // route lifts it and enforces IMPORT_MAX_ZIP_SIZE_MB itself while streaming.
    Router::new().route(
        "/admin/imports/upload",
        post(upload).layer(DefaultBodyLimit::disable()),
    )
}

/// Uploaded files of `user` start with this, for whoever looks at the directory.
fn file_prefix(user: UserId) -> String {
    format!("user-{user}-")
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
    let mut target = Target::create(&state.uploads.dir, user.id).await?;
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
                let written = target.write(Chunks::Field(Box::new(field)), max).await?;
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
        let written = target.write(Chunks::Raw(request.into_body()), max).await?;
        (query.file_name.clone(), written)
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the export ZIP as multipart/form-data (field `file`) or as the raw body with Content-Type: application/zip",
        ));
    };
    let file_name = display_name(file_name.as_deref());
    let path = target.keep().await?;
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

/// Where the bytes arrive.
enum Chunks<'a> {
    Raw(Body),
    Field(Box<axum::extract::multipart::Field<'a>>),
}

impl Chunks<'_> {
    /// The next piece of the upload, `None` at its end.
    async fn next(&mut self) -> Result<Option<Bytes>, ApiError> {
        match self {
            Chunks::Raw(body) => loop {
                let frame =
                    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *body).poll_frame(cx)).await;
                match frame {
                    None => return Ok(None),
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            return Ok(Some(data));
                        }
                    }
                    Some(Err(e)) => {
                        return Err(bad_request(format!("the upload broke off: {e}")));
                    }
                }
            },
            Chunks::Field(field) => field
                .chunk()
                .await
                .map_err(|e| bad_request(format!("the upload broke off: {}", e.body_text()))),
        }
    }
}

/// The file an upload is written to: `<name>.part` until complete, removed if the upload
/// fails or is abandoned (the client went away and the handler was dropped).
struct Target {
    part: PathBuf,
    done: PathBuf,
    file: tokio::fs::File,
    kept: bool,
}

impl Target {
    async fn create(dir: &Path, user: UserId) -> Result<Target, ApiError> {
        let unavailable = |what: &str, e: std::io::Error| {
            tracing::error!(dir = %dir.display(), error = %e, "cannot store an upload");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!(
                    "cannot {what} in the upload directory {}: {e}; check DATA_DIR is writable",
                    dir.display()
                ),
            )
        };
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| unavailable("create it", e))?;
        // An absolute path: the collector that runs the job may have another working dir.
        let dir = tokio::fs::canonicalize(dir)
            .await
            .map_err(|e| unavailable("resolve it", e))?;
        let mut random = [0u8; 8];
        rand::rng().fill_bytes(&mut random);
        let stem = format!(
            "{}{}-{}",
            file_prefix(user),
            jiff::Timestamp::now().as_millisecond(),
            random
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let part = dir.join(format!("{stem}.zip.part"));
        let done = dir.join(format!("{stem}.zip"));
        let file = tokio::fs::File::create_new(&part)
            .await
            .map_err(|e| unavailable("create a file", e))?;
        Ok(Target {
            part,
            done,
            file,
            kept: false,
        })
    }

    /// Streams `chunks` into the file; returns the bytes written.
    async fn write(&mut self, mut chunks: Chunks<'_>, max: u64) -> Result<u64, ApiError> {
        let file = &mut self.file;
        let mut written: u64 = 0;
        let mut head: Vec<u8> = Vec::with_capacity(4);
        while let Some(chunk) = chunks.next().await? {
            written = written.saturating_add(chunk.len() as u64);
            if written > max {
                return Err(too_large(max));
            }
            if head.len() < 4 {
                let wanted = (4 - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..wanted]);
                if head.len() == 4 {
                    check_zip(&head)?;
                }
            }
            file.write_all(&chunk).await.map_err(write_failed)?;
        }
        if head.len() < 4 {
            return Err(not_a_zip());
        }
        file.flush().await.map_err(write_failed)?;
        Ok(written)
    }

    /// Keeps the complete upload under its final name and returns it.
    async fn keep(mut self) -> Result<PathBuf, ApiError> {
        self.file.sync_all().await.map_err(write_failed)?;
        tokio::fs::rename(&self.part, &self.done)
            .await
            .map_err(write_failed)?;
        self.kept = true;
        Ok(self.done.clone())
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.part);
        }
    }
}

fn check_zip(head: &[u8]) -> Result<(), ApiError> {
    if ZIP_MAGIC.iter().any(|magic| head == magic.as_slice()) {
        Ok(())
    } else {
        Err(not_a_zip())
    }
}

fn not_a_zip() -> ApiError {
    bad_request(
        "the upload is not a ZIP file: upload the export ZIP Spotify sent (my_spotify_data.zip) as it is",
    )
}

fn write_failed(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "cannot write an upload");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        format!("cannot write the upload to disk: {e}; check free space under DATA_DIR"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_magic_and_display_names() {
        assert!(check_zip(b"PK\x03\x04").is_ok());
        assert!(check_zip(b"PK\x05\x06").is_ok());
        assert!(check_zip(b"{\"ts").is_err());
        assert_eq!(
            display_name(Some("C:\\Users\\ann\\my_spotify_data.zip")),
            "my_spotify_data.zip"
        );
        assert_eq!(display_name(Some("../../etc/x.zip")), "x.zip");
        assert_eq!(display_name(Some("  ")), "export.zip");
        assert_eq!(display_name(None), "export.zip");
    }
}
