//! Rollups of each user's plays, so questions about long stretches read summaries instead
//! of every play: one summary per user and UTC day (plays per 15-minute slot, per set of
//! sources and per track), the tracks of each block of 64 days merged (so a window of years
//! reads a few dozen blocks and the days at its ends), and one per user for the whole history
//! (plays per track, with the track's kind, album and primary artist).
//!
//! They hold plays under the default counting rule (and, for slots and sources, every
//! listen); a question with another rule reads the plays. They are brought up to date just
//! before they are read ([`Store::refresh_history`]), from what changed since: see
//! `refresh.rs`.

mod cache;
mod read;
mod refresh;
mod summary;

pub(crate) use read::{Parts, Rollup};
pub(crate) use summary::{DAY_MS, IdMap, SLOT_MS, whole_days};
