//! How numbers and times read on pages: short UTC times, counts with thousands separators,
//! durations, the refresh-token countdown.

use jiff::Timestamp;

/// `2024-05-01T12:34:56.789Z` as `2024-05-01 12:34 UTC`; text that is no time stays as it is.
pub(crate) fn utc(iso: &str) -> String {
    match iso.parse::<Timestamp>() {
        Ok(ts) => ts.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        Err(_) => iso.to_owned(),
    }
}

/// An optional time, or a dash.
pub(crate) fn opt_utc(iso: Option<&str>) -> String {
    iso.map(utc).unwrap_or_else(|| "—".to_owned())
}

/// Unix milliseconds as a short UTC time.
pub(crate) fn ms_utc(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .map(|ts| ts.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// 1234567 as `1,234,567`.
pub(crate) fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Minutes as `12 h 5 min` (or `42 min`).
pub(crate) fn minutes(minutes: f64) -> String {
    let total = minutes.round() as i64;
    if total >= 60 {
        format!("{} h {} min", count(total / 60), total % 60)
    } else {
        format!("{total} min")
    }
}

/// Bytes as `12.3 MB`.
pub(crate) fn bytes(n: i64) -> String {
    let n = n.max(0) as f64;
    if n >= 1e9 {
        format!("{:.1} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1} MB", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} kB", n / 1e3)
    } else {
        format!("{n} B")
    }
}

/// When a Spotify refresh token runs out, and how that reads now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expiry {
    /// `2026-05-01`.
    pub date: String,
    /// `in 143 days`, `tomorrow`, `expired 3 days ago`.
    pub countdown: String,
    /// `ok`, `warn` (under 14 days) or `bad` (expired): a CSS class.
    pub level: &'static str,
}

/// The countdown to `expires_at` (ISO time) from `now`.
pub(crate) fn expiry(expires_at: &str, now: Timestamp) -> Option<Expiry> {
    let at = expires_at.parse::<Timestamp>().ok()?;
    let seconds = at.as_second() - now.as_second();
    let days = seconds.div_euclid(86_400);
    let (countdown, level) = if seconds < 0 {
        let ago = (-seconds).div_euclid(86_400);
        (format!("expired {ago} days ago"), "bad")
    } else if days == 0 {
        ("expires today".to_owned(), "warn")
    } else if days == 1 {
        ("expires tomorrow".to_owned(), "warn")
    } else {
        (
            format!("in {days} days"),
            if days < 14 { "warn" } else { "ok" },
        )
    };
    Some(Expiry {
        date: at.strftime("%Y-%m-%d").to_string(),
        countdown,
        level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_times_read_well() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(-1000), "-1,000");
        assert_eq!(minutes(42.4), "42 min");
        assert_eq!(minutes(125.0), "2 h 5 min");
        assert_eq!(bytes(1_500_000), "1.5 MB");
        assert_eq!(utc("2024-05-01T12:34:56.789Z"), "2024-05-01 12:34 UTC");
        assert_eq!(utc("soon"), "soon");
        assert_eq!(opt_utc(None), "—");
        assert_eq!(ms_utc(0), "1970-01-01 00:00:00 UTC");
    }

    #[test]
    fn the_refresh_token_countdown() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let e = expiry("2026-03-02T00:00:00Z", now).unwrap();
        assert_eq!(
            (e.date.as_str(), e.countdown.as_str(), e.level),
            ("2026-03-02", "in 60 days", "ok")
        );
        assert_eq!(expiry("2026-01-05T00:00:00Z", now).unwrap().level, "warn");
        assert_eq!(
            expiry("2026-01-01T10:00:00Z", now).unwrap().countdown,
            "expires today"
        );
        let gone = expiry("2025-12-29T00:00:00Z", now).unwrap();
        assert_eq!(
            (gone.countdown.as_str(), gone.level),
            ("expired 3 days ago", "bad")
        );
    }
}
