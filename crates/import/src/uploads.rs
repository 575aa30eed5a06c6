//! Uploaded exports (the admin UI's and `/me`'s, streamed into the upload folder,
//! `DATA_DIR/uploads`): removed once their import job has ended, or their user is deleted.
//! Exports imported from anywhere else (e.g. by `spotify-history import`) are the operator's
//! own files and never touched.

use std::path::Path;

/// Removes those of `files` that lie in the upload folder `dir` (after following links);
/// best effort: a file that is gone already is skipped, one that cannot be removed is logged.
/// Returns how many it removed.
pub async fn remove_uploads(dir: &Path, files: &[String]) -> usize {
    let Ok(dir) = tokio::fs::canonicalize(dir).await else {
        return 0;
    };
    let mut removed = 0;
    for file in files {
        let Ok(path) = tokio::fs::canonicalize(file).await else {
            continue;
        };
        if !path.starts_with(&dir) {
            continue;
        }
        match tokio::fs::remove_file(&path).await {
            Ok(()) => removed += 1,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "could not remove an uploaded export")
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_files_in_the_upload_folder_are_removed() {
        let root = tempfile::tempdir().unwrap();
        let uploads = root.path().join("uploads");
        std::fs::create_dir(&uploads).unwrap();
        let uploaded = uploads.join("1.zip");
        let elsewhere = root.path().join("my_spotify_data.zip");
        let sneaky = uploads.join("..").join("my_spotify_data.zip");
        for file in [&uploaded, &elsewhere] {
            std::fs::write(file, b"PK").unwrap();
        }
        // A link in the folder to a file outside it is followed, and that file kept.
        let link = uploads.join("2.zip");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        let text = |p: &Path| p.to_string_lossy().into_owned();
        let files = [
            text(&uploaded),
            text(&elsewhere),
            text(&sneaky),
            text(&link),
            text(&uploads.join("gone.zip")),
        ];
        assert_eq!(remove_uploads(&uploads, &files).await, 1);
        assert!(!uploaded.exists());
        assert!(elsewhere.exists());
        // No upload folder, nothing removed.
        assert_eq!(
            remove_uploads(&root.path().join("none"), &[text(&elsewhere)]).await,
            0
        );
        assert!(elsewhere.exists());
    }
}
