//! The values a real listen can have; anything outside is a broken clock or a broken file.

use spotify_history_core::EndedAt;

use crate::SkipReason;
use crate::lenient::Lenient;

/// Spotify did not exist before 2006.
const EARLIEST_END_MS: i64 = 1_136_073_600_000; // 2006-01-01T00:00:00Z
/// How far past "now" an end time may be (clock skew between devices and this server).
const FUTURE_TOLERANCE_MS: i64 = 86_400_000;
/// No single stream lasts a day; longer values are counter glitches.
const LONGEST_STREAM_MS: i64 = 86_400_000;

/// Is this end time inside the window a real listen can have?
pub(crate) fn is_plausible_end(ms: i64, now: EndedAt) -> bool {
    (EARLIEST_END_MS..=now.0.saturating_add(FUTURE_TOLERANCE_MS)).contains(&ms)
}

/// The milliseconds played, if they are those of a listen (missing means unknown).
/// `Lenient::Invalid` is the caller's concern: it is checked with the other fields first.
pub(crate) fn check_ms_played(ms_played: Lenient<i64>) -> Result<Option<i64>, SkipReason> {
    match ms_played.ok() {
        Some(ms) if !(0..=LONGEST_STREAM_MS).contains(&ms) => Err(SkipReason::AbsurdValue),
        Some(0) => Err(SkipReason::ZeroMsPlayed),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn end_time_window() {
        let now = EndedAt(ms("2026-01-01T00:00:00Z"));
        assert!(is_plausible_end(ms("2006-01-01T00:00:00Z"), now));
        assert!(!is_plausible_end(ms("2005-12-31T23:59:59Z"), now));
        assert!(is_plausible_end(ms("2026-01-01T23:00:00Z"), now));
        assert!(!is_plausible_end(ms("2026-01-02T00:00:01Z"), now));
    }

    #[test]
    fn ms_played_verdicts() {
        assert_eq!(check_ms_played(Lenient::Value(1)), Ok(Some(1)));
        assert_eq!(check_ms_played(Lenient::Missing), Ok(None));
        assert_eq!(
            check_ms_played(Lenient::Value(0)),
            Err(SkipReason::ZeroMsPlayed)
        );
        assert_eq!(
            check_ms_played(Lenient::Value(-1)),
            Err(SkipReason::AbsurdValue)
        );
        assert_eq!(
            check_ms_played(Lenient::Value(LONGEST_STREAM_MS + 1)),
            Err(SkipReason::AbsurdValue)
        );
        assert_eq!(
            check_ms_played(Lenient::Value(LONGEST_STREAM_MS)),
            Ok(Some(LONGEST_STREAM_MS))
        );
    }
}
