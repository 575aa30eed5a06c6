//! Receiving a Spotify export over HTTP: the bytes are streamed to a `.part` file in the upload
//! directory (never held in memory), IMPORT_MAX_ZIP_SIZE_MB is enforced while they arrive, the
//! file is renamed into place when complete (and removed if the upload fails or the client
//! goes away), and it becomes an import job the collector runs. [`UploadFile`] is used by the
//! admin API's upload; [`receive`] by the admin UI's form and the listener's own on `/me`.

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Multipart;
use axum::extract::multipart::{Field, MultipartError};
use axum::http::StatusCode;
use rand::RngCore;
use spotify_history_core::{ImportJobId, UserId};
use spotify_history_store::{NewImportJob, Store, StoreError};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Where uploads go and how large one may be.
#[derive(Debug, Clone)]
pub struct Uploads {
    /// The collector reads the files from here: with `api` and `collector` as separate
    /// processes, this must be a directory both see (DATA_DIR/uploads).
    pub dir: PathBuf,
    /// IMPORT_MAX_ZIP_SIZE_MB in bytes.
    pub max_bytes: u64,
}

impl Uploads {
    pub fn new(dir: impl Into<PathBuf>, max_bytes: u64) -> Uploads {
        Uploads {
            dir: dir.into(),
            max_bytes,
        }
    }
}

/// Whose history an upload is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Owner {
    /// Decided by the route (the listener's own upload, or `?user_id=`).
    Fixed(UserId),
    /// The admin's form: a `user_id` field before the file field.
    FromForm,
}

/// Why an upload was not queued; the partial file is gone in every case.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UploadError {
    #[error("the form has no file: choose a Spotify export (ZIP or JSON) in the field `file`")]
    NoFile,
    #[error("choose the user the export belongs to (a `user_id` before the file)")]
    NoUser,
    #[error("the upload could not be read ({0}): send it again as multipart/form-data")]
    Multipart(String),
    #[error(transparent)]
    Save(#[from] SaveError),
    #[error("the import could not be queued: {0}")]
    Store(#[from] StoreError),
}

impl UploadError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            UploadError::NoFile | UploadError::NoUser | UploadError::Multipart(_) => {
                StatusCode::BAD_REQUEST
            }
            UploadError::Save(err) => err.status(),
            UploadError::Store(StoreError::NotFound(_)) => StatusCode::NOT_FOUND,
            UploadError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl SaveError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            SaveError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            SaveError::NotZip | SaveError::BrokenOff(_) => StatusCode::BAD_REQUEST,
            SaveError::Disk(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub(crate) fn code(&self) -> &'static str {
        match self {
            SaveError::TooLarge { .. } => "too_large",
            SaveError::NotZip => "not_a_zip",
            SaveError::BrokenOff(_) => "bad_request",
            SaveError::Disk(_) => "internal",
        }
    }
}

impl From<MultipartError> for UploadError {
    fn from(err: MultipartError) -> Self {
        UploadError::Multipart(err.body_text())
    }
}

/// Streams the first file field of `multipart` to disk and queues it for its owner; returns
/// the import job.
pub(crate) async fn receive(
    store: &Store,
    uploads: &Uploads,
    owner: Owner,
    mut multipart: Multipart,
) -> Result<ImportJobId, UploadError> {
    let mut user = match owner {
        Owner::Fixed(user) => Some(user),
        Owner::FromForm => None,
    };
    while let Some(field) = multipart.next_field().await? {
        if matches!(owner, Owner::FromForm) && field.name() == Some("user_id") {
            let text = field.text().await?;
            user = text.trim().parse().ok().map(UserId);
            continue;
        }
        let Some(original) = field.file_name().map(display_name) else {
            continue;
        };
        if original.is_empty() {
            // A file input left empty still sends a part, without a name.
            continue;
        }
        let user = user.ok_or(UploadError::NoUser)?;
        // The user must exist before a byte is written.
        store.get_user(user).await?;
        let mut file = UploadFile::create(&uploads.dir, user, extension(&original)).await?;
        let size = file
            .write(Chunks::Field(Box::new(field)), uploads.max_bytes, false)
            .await?;
        let path = file.keep().await?;
        let queued = store
            .create_import_job(&NewImportJob {
                user,
                file_name: &original,
                file_path: &path.to_string_lossy(),
                size_bytes: size,
            })
            .await;
        return match queued {
            Ok(job) => {
                tracing::info!(import_job = %job, %user, file = %original, size, "upload queued for import");
                Ok(job)
            }
            Err(err) => {
                let _ = tokio::fs::remove_file(&path).await;
                Err(err.into())
            }
        };
    }
    Err(UploadError::NoFile)
}

/// The name people see: the last path component, without control characters, at most 200
/// characters.
fn display_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    base.chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The extension the importer reads the format from: `json` for a JSON file, else `zip`.
fn extension(original: &str) -> &'static str {
    if original.to_ascii_lowercase().ends_with(".json") {
        "json"
    } else {
        "zip"
    }
}

/// A ZIP starts with a local file header, or (empty archive) the end-of-directory record.
const ZIP_MAGIC: [&[u8; 4]; 2] = [b"PK\x03\x04", b"PK\x05\x06"];

/// Why bytes could not be saved; the partial file is gone in every case.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SaveError {
    #[error("the file is larger than IMPORT_MAX_ZIP_SIZE_MB allows ({} MiB): nothing was kept", .max_bytes / (1024 * 1024))]
    TooLarge { max_bytes: u64 },
    #[error(
        "the upload is not a ZIP file: upload the export ZIP Spotify sent (my_spotify_data.zip) as it is"
    )]
    NotZip,
    #[error("the upload broke off: {0}")]
    BrokenOff(String),
    #[error("the file could not be saved on the server: {0}; check free space under DATA_DIR")]
    Disk(#[from] std::io::Error),
}

/// Where the bytes of an upload arrive from.
pub(crate) enum Chunks<'a> {
    Raw(Body),
    Field(Box<Field<'a>>),
}

impl Chunks<'_> {
    /// The next piece of the upload, `None` at its end.
    async fn next(&mut self) -> Result<Option<Bytes>, SaveError> {
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
                    Some(Err(e)) => return Err(SaveError::BrokenOff(e.to_string())),
                }
            },
            Chunks::Field(field) => field
                .chunk()
                .await
                .map_err(|e| SaveError::BrokenOff(e.body_text())),
        }
    }
}

/// The file an upload is written to: `<name>.part` until complete, removed if the upload
/// fails or is abandoned (the client went away and the handler was dropped).
pub(crate) struct UploadFile {
    part: PathBuf,
    done: PathBuf,
    file: tokio::fs::File,
    kept: bool,
}

impl UploadFile {
    /// A new, uniquely named file of `user` in `dir` (made if missing), with an absolute path:
    /// the collector that runs the job may have another working directory.
    pub(crate) async fn create(
        dir: &Path,
        user: UserId,
        extension: &str,
    ) -> Result<UploadFile, SaveError> {
        tokio::fs::create_dir_all(dir).await?;
        let dir = tokio::fs::canonicalize(dir).await?;
        let mut random = [0u8; 8];
        rand::rng().fill_bytes(&mut random);
        let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let stem = format!(
            "user-{user}-{}-{hex}",
            jiff::Timestamp::now().as_millisecond()
        );
        let part = dir.join(format!("{stem}.{extension}.part"));
        let done = dir.join(format!("{stem}.{extension}"));
        let file = tokio::fs::File::create_new(&part).await?;
        Ok(UploadFile {
            part,
            done,
            file,
            kept: false,
        })
    }

    /// Streams `chunks` into the file, refusing more than `max_bytes` and, with `zip_only`,
    /// anything that does not start like a ZIP; returns the bytes written.
    pub(crate) async fn write(
        &mut self,
        mut chunks: Chunks<'_>,
        max_bytes: u64,
        zip_only: bool,
    ) -> Result<u64, SaveError> {
        let mut written: u64 = 0;
        let mut head: Vec<u8> = Vec::with_capacity(4);
        while let Some(chunk) = chunks.next().await? {
            written = written.saturating_add(chunk.len() as u64);
            if written > max_bytes {
                return Err(SaveError::TooLarge { max_bytes });
            }
            if zip_only && head.len() < 4 {
                let wanted = (4 - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..wanted]);
                if head.len() == 4 && !ZIP_MAGIC.iter().any(|m| head == m.as_slice()) {
                    return Err(SaveError::NotZip);
                }
            }
            self.file.write_all(&chunk).await?;
        }
        if zip_only && head.len() < 4 {
            return Err(SaveError::NotZip);
        }
        self.file.flush().await?;
        Ok(written)
    }

    /// Keeps the complete upload under its final name and returns it.
    pub(crate) async fn keep(mut self) -> Result<PathBuf, SaveError> {
        self.file.sync_all().await?;
        tokio::fs::rename(&self.part, &self.done).await?;
        self.kept = true;
        Ok(self.done.clone())
    }
}

impl Drop for UploadFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.part);
        }
    }
}

/// Deletes a user with all their data, and the uploaded exports of their import jobs.
/// Returns how many uploaded files were removed.
pub(crate) async fn delete_user_and_uploads(
    store: &Store,
    uploads: &Uploads,
    user: UserId,
) -> Result<usize, StoreError> {
    // Read before the rows go: deleting the user deletes their import jobs.
    let files = store.import_job_files(user).await?;
    store.delete_user(user).await?;
    Ok(spotify_history_import::remove_uploads(&uploads.dir, &files).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_tamed() {
        assert_eq!(
            display_name("C:\\Users\\ann\\my_spotify_data.zip"),
            "my_spotify_data.zip"
        );
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("a\u{0}b\nc.zip"), "abc.zip");
        assert_eq!(extension("StreamingHistory_music_0.JSON"), "json");
        assert_eq!(extension("my_spotify_data.zip"), "zip");
    }
}
