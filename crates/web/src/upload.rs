//! Receiving a Spotify export over HTTP: the multipart `file` field is streamed to a file in
//! the upload directory (never held in memory), IMPORT_MAX_ZIP_SIZE_MB is enforced while the
//! bytes arrive, and the file becomes an import job the collector runs. Used by the admin
//! UI's upload and the listener's own upload on `/me`.

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
    #[error("the file is larger than IMPORT_MAX_ZIP_SIZE_MB allows ({} MiB): nothing was kept", .max_bytes / (1024 * 1024))]
    TooLarge { max_bytes: u64 },
    #[error("the upload could not be read ({0}): send it again as multipart/form-data")]
    Multipart(String),
    #[error("the file could not be saved on the server: {0}")]
    Disk(#[from] std::io::Error),
    #[error("the import could not be queued: {0}")]
    Store(#[from] StoreError),
}

impl UploadError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            UploadError::NoFile | UploadError::NoUser | UploadError::Multipart(_) => {
                StatusCode::BAD_REQUEST
            }
            UploadError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            UploadError::Store(StoreError::NotFound(_)) => StatusCode::NOT_FOUND,
            UploadError::Disk(_) | UploadError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
        tokio::fs::create_dir_all(&uploads.dir).await?;
        // An absolute path: the collector that runs the job may have another working dir.
        let dir = tokio::fs::canonicalize(&uploads.dir).await?;
        let path = dir.join(format!("user-{user}-{}", disk_name(&original)));
        // Removed again unless kept below: on an error, and when the client goes away
        // mid-upload (the handler is then dropped here).
        let mut partial = PartialFile(Some(path.clone()));
        let size = save(field, &path, uploads.max_bytes).await?;
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
                partial.keep();
                tracing::info!(import_job = %job, %user, file = %original, size, "upload queued for import");
                Ok(job)
            }
            Err(err) => Err(err.into()),
        };
    }
    Err(UploadError::NoFile)
}

/// A file being written, deleted when dropped unless kept.
struct PartialFile(Option<PathBuf>);

impl PartialFile {
    fn keep(&mut self) {
        self.0 = None;
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

async fn save(mut field: Field<'_>, path: &Path, max_bytes: u64) -> Result<u64, UploadError> {
    // Names are random: an existing file is never overwritten.
    let mut file = tokio::fs::File::create_new(path).await?;
    let mut size = 0u64;
    while let Some(chunk) = field.chunk().await? {
        size += chunk.len() as u64;
        if size > max_bytes {
            return Err(UploadError::TooLarge { max_bytes });
        }
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    file.sync_all().await?;
    Ok(size)
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

/// The name on disk: random (so uploads never collide or overwrite), keeping a tame
/// version of the original for whoever looks at the directory and the extension the
/// importer reads the format from.
fn disk_name(original: &str) -> String {
    let mut random = [0u8; 8];
    rand::rng().fill_bytes(&mut random);
    let tame: String = original
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let tame = tame.trim_start_matches('.');
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}-{tame}")
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
        let disk = disk_name("../Spotify Account Data.zip");
        assert!(!disk.contains('/') && !disk.contains(' '), "{disk}");
        assert!(disk.ends_with("-_Spotify_Account_Data.zip"), "{disk}");
        assert_ne!(disk_name("x.zip"), disk_name("x.zip"));
    }
}
