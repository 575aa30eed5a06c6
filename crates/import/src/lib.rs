//! Spotify export parsers: extended streaming history and account data, from ZIPs, folders or
//! JSON files (and this service's own JSONL/CSV exports), streamed record by record and normalised to [`NewListen`]s. No database code:
//! the caller stores what this crate reads, using [`identity`] for natural keys and for
//! matching account-data rows to richer listens.
//!
//! ```no_run
//! use std::ops::ControlFlow;
//! use spotify_history_import::{ImportSource, Limits, Record};
//!
//! let source = ImportSource::open(&["my_spotify_data.zip".into()], Limits::default())?;
//! for (index, file) in source.files().iter().enumerate() {
//!     let checkpoint = 0; // elements of this file (by fingerprint) already committed
//!     let summary = source.read_file(index, checkpoint, |record| {
//!         if let Record::Listen(listen) = record {
//!             // add `listen` to a batch; commit it with the new checkpoint
//!         }
//!         ControlFlow::Continue(())
//!     })?;
//!     println!("{}: {} listens, {} skipped", file.name, summary.listens, summary.skipped.total());
//! }
//! # Ok::<(), spotify_history_import::ImportError>(())
//! ```
//!
//! [`NewListen`]: spotify_history_core::NewListen

#![warn(missing_docs)]

mod account;
mod classify;
mod engine;
mod error;
mod extended;
mod flat_object;
mod history_export;
pub mod identity;
mod input;
mod json_array;
mod lenient;
mod limits;
mod parse;
mod plausible;
mod progress;
mod record;
mod shared_texts;
pub mod synthetic;
mod timestamp;
mod uploads;

pub use classify::{FileKind, classify};
pub use engine::{FileReport, FileStatus, ImportOptions, ImportProgress, ImportReport, import};
pub use error::ImportError;
pub use history_export::{EXPORT_FIELDS, ExportFormat, ExportWriter};
pub use identity::listen_keys;
pub use input::{ExportFileInfo, ImportSource, RefusedFile};
pub use limits::Limits;
pub use parse::read_records;
pub use progress::ByteProgress;
pub use record::{FileSummary, Record, SkipCounts, SkipReason};
pub use uploads::remove_uploads;
