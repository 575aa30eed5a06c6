//! Import jobs: claimed one at a time under a lease, run through the import engine, closed
//! with the engine's report — or with the error when the file cannot be imported. A job's
//! progress is saved (and its lease renewed) while it runs, so ops can watch it and a dead
//! collector's job is taken over once the lease runs out.

use crate::config::CollectorConfig;
use crate::error::WorkError;
use crate::report::WorkOutcome;
use spotify_history_core::{JobRunId, metrics};
use spotify_history_import::{
    FileStatus, ImportError, ImportOptions, ImportProgress, ImportReport, ImportSource, import,
    remove_uploads,
};
use spotify_history_store::{
    ClaimedImportJob, FinishedImportJob, ImportJobCounts, JobKind, RunStatus, Store,
};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Runs a claimed job to its end and records it on the job and on a job run.
pub(crate) async fn run_import_job(
    store: &Store,
    config: &CollectorConfig,
    job: ClaimedImportJob,
    run: JobRunId,
) -> WorkOutcome {
    tracing::info!(import_job = %job.id, user = %job.user, file = %job.file_name, resumed = job.resumed, "import job started");
    let progress = Arc::new(Mutex::new(ImportJobCounts::default()));
    let started = std::time::Instant::now();
    let owner = config.owner.as_str();
    let result = import_file(store, config, &job, &progress).await;
    let last_progress = *progress.lock().unwrap_or_else(|p| p.into_inner());
    let (status, counts, report, error) = match &result {
        Ok(report) => {
            let counts = ImportJobCounts {
                // Every file was read or accounted for.
                bytes_read: u64::try_from(job.size_bytes).unwrap_or(0),
                records_read: report.records_read,
                inserted: report.inserted,
                duplicates: report.duplicates,
                merged: report.merged,
                skipped: report.skipped,
            };
            let error = failed_files_summary(report);
            let status = if error.is_some() {
                RunStatus::Failed
            } else {
                RunStatus::Succeeded
            };
            (status, counts, serde_json::to_value(report).ok(), error)
        }
        Err(err) => (
            RunStatus::Failed,
            last_progress,
            None,
            Some(err.to_string()),
        ),
    };
    let finished = FinishedImportJob {
        status,
        counts,
        report: report.as_ref(),
        error: error.as_deref(),
    };
    match store.finish_import_job(job.id, owner, &finished).await {
        Ok(true) if input_was_read(&result) => remove_upload(config, &job).await,
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            import_job = %job.id,
            "another collector took this import job over (the lease ran out): it finishes it"
        ),
        Err(e) => {
            tracing::warn!(import_job = %job.id, error = %e, "could not record the end of an import job")
        }
    }
    metrics::import_finished(counts.records_read, started.elapsed().as_secs_f64());
    match &error {
        None => {
            tracing::info!(import_job = %job.id, inserted = counts.inserted, merged = counts.merged, "import job succeeded")
        }
        Some(error) => tracing::warn!(import_job = %job.id, %error, "import job failed"),
    }
    let details = serde_json::json!({
        "import_job_id": job.id,
        "file_name": job.file_name,
        "duplicates": counts.duplicates,
        "merged": counts.merged,
        "skipped": counts.skipped,
        "resumed": job.resumed,
    });
    WorkOutcome {
        kind: JobKind::Import,
        user: Some(job.user),
        import_job: Some(job.id),
        job_run: run,
        status,
        fetched: counts.records_read,
        inserted: counts.inserted,
        error,
    }
    .with_details(store, details)
    .await
}

/// Whether the import read its file to an end: it ran (some files may have been refused), or
/// the file itself was refused. A failure of the database or of this process says nothing
/// about the file, which is kept then (to be uploaded again from where it lies).
fn input_was_read(result: &Result<ImportReport, WorkError>) -> bool {
    !matches!(
        result,
        Err(WorkError::Store(_)
            | WorkError::Internal(_)
            | WorkError::LeaseLost
            | WorkError::Import(
                ImportError::Store(_) | ImportError::Internal(_) | ImportError::Io { .. }
            ))
    )
}

/// Removes the job's uploaded file once the job has ended: what it brought is stored, and
/// nothing reads the file again (an upload of the same export again skips what is stored).
async fn remove_upload(config: &CollectorConfig, job: &ClaimedImportJob) {
    if let (Some(dir), Some(file)) = (&config.uploads_dir, &job.file_path)
        && remove_uploads(dir, std::slice::from_ref(file)).await > 0
    {
        tracing::info!(import_job = %job.id, file = %file, "uploaded export removed");
    }
}

/// Opens the job's file and imports it, saving progress and renewing the lease meanwhile.
async fn import_file(
    store: &Store,
    config: &CollectorConfig,
    job: &ClaimedImportJob,
    progress: &Arc<Mutex<ImportJobCounts>>,
) -> Result<ImportReport, WorkError> {
    let path = job
        .file_path
        .clone()
        .ok_or(WorkError::NoImportFile(job.id.0))?;
    // Opening reads a ZIP's directory and fingerprints its files: disk work, off the runtime.
    let limits = config.import_limits;
    let source =
        tokio::task::spawn_blocking(move || ImportSource::open(&[PathBuf::from(path)], limits))
            .await
            .map_err(|e| WorkError::Internal(format!("the import thread failed: {e}")))??;

    let options = ImportOptions {
        import_job: Some(job.id),
        records_per_commit: config.import_records_per_commit,
        ..ImportOptions::new(job.user)
    };
    let upload_size = u64::try_from(job.size_bytes).unwrap_or(0);
    let on_progress = |p: &ImportProgress| {
        *progress.lock().unwrap_or_else(|p| p.into_inner()) = counts_of(p, upload_size);
    };
    let importing = import(store, source, options, on_progress);
    tokio::select! {
        result = importing => Ok(result?),
        lost = keep_lease(store, &config.owner, config.lease, job, progress) => Err(lost),
    }
}

/// Saves progress and renews the lease every third of the lease; returns only when the job
/// is no longer ours (then the import must stop: another collector runs it).
async fn keep_lease(
    store: &Store,
    owner: &str,
    lease: Duration,
    job: &ClaimedImportJob,
    progress: &Mutex<ImportJobCounts>,
) -> WorkError {
    loop {
        tokio::time::sleep(lease / 3).await;
        let counts = *progress.lock().unwrap_or_else(|p| p.into_inner());
        match store
            .update_import_job_progress(job.id, owner, &counts, lease)
            .await
        {
            Ok(true) => {}
            Ok(false) => return WorkError::LeaseLost,
            // A short database hiccup: the lease is long enough to try again.
            Err(e) => {
                tracing::warn!(import_job = %job.id, error = %e, "could not save import progress")
            }
        }
    }
}

fn counts_of(p: &ImportProgress, upload_size: u64) -> ImportJobCounts {
    ImportJobCounts {
        bytes_read: upload_bytes_done(p, upload_size),
        records_read: p.records_read,
        inserted: p.inserted,
        duplicates: p.duplicates,
        merged: p.merged,
        skipped: p.skipped,
    }
}

/// The part of the uploaded file done, in its bytes, so a job's `bytes_read` goes against its
/// `size_bytes`: the engine counts the export's uncompressed bytes, and a ZIP holds about
/// eight times its size in JSON.
fn upload_bytes_done(p: &ImportProgress, upload_size: u64) -> u64 {
    if p.total_bytes == 0 {
        return 0;
    }
    let done = u128::from(p.bytes_read.min(p.total_bytes)) * u128::from(upload_size)
        / u128::from(p.total_bytes);
    done as u64
}

/// "2 of 3 files could not be imported ..." when some failed; the others were stored.
fn failed_files_summary(report: &ImportReport) -> Option<String> {
    let failed: Vec<String> = report
        .files
        .iter()
        .filter_map(|f| match &f.status {
            FileStatus::Failed { error } => Some(format!("{}: {error}", f.name)),
            _ => None,
        })
        .collect();
    if failed.is_empty() {
        return None;
    }
    Some(format!(
        "{} of {} files could not be imported (the others were): {}",
        failed.len(),
        report.files.len(),
        failed.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(bytes_read: u64, total_bytes: u64) -> ImportProgress {
        ImportProgress {
            bytes_read,
            total_bytes,
            ..ImportProgress::default()
        }
    }

    #[test]
    fn upload_progress_is_the_exports_share_of_the_uploaded_file() {
        // A 10 MB ZIP holding 80 MB of JSON, a quarter read.
        assert_eq!(
            upload_bytes_done(&progress(20_000_000, 80_000_000), 10_000_000),
            2_500_000
        );
        assert_eq!(
            upload_bytes_done(&progress(80_000_000, 80_000_000), 10_000_000),
            10_000_000
        );
        // Never past the file's end, and nothing to divide by when the export is empty.
        assert_eq!(
            upload_bytes_done(&progress(90_000_000, 80_000_000), 10_000_000),
            10_000_000
        );
        assert_eq!(upload_bytes_done(&progress(0, 0), 10_000_000), 0);
    }
}
