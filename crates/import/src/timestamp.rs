//! End times as the exports write them, parsed to Unix milliseconds (UTC).
//!
//! Nearly every row of an export has one of two fixed shapes (`2021-03-04T18:22:05Z`,
//! `2024-05-01 13:45`), so those are parsed by hand: a general parser per row would cost more
//! than the rest of the record. Anything else goes through `jiff`, which knows offsets and
//! fractional seconds.

/// Parse an extended-history `ts` (RFC 3339; a missing offset is read as UTC).
pub(crate) fn parse_ts(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() == 20
        && b[10] == b'T'
        && b[19] == b'Z'
        && let Some(ms) = fixed_date_time(b, true)
    {
        return Some(ms);
    }
    parse_general(text)
}

/// Parse an account-data `endTime` (`2024-05-01 13:45`, sometimes with seconds).
pub(crate) fn parse_end_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() == 16 && b[10] == b' ' {
        return fixed_date_time(b, false);
    }
    if b.len() == 19 && b[10] == b' ' {
        return fixed_date_time(b, true);
    }
    parse_general(text)
}

fn parse_general(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Some(ts.as_millisecond());
    }
    // Both exports are documented as UTC, so a bare date-time is UTC. A bare date is not an
    // end time: it would put every listen of the day at midnight.
    if !text.contains(':') {
        return None;
    }
    let civil: jiff::civil::DateTime = text.parse().ok()?;
    jiff::tz::TimeZone::UTC
        .to_timestamp(civil)
        .ok()
        .map(|ts| ts.as_millisecond())
}

/// `YYYY-MM-DD?HH:MM` then, when `with_seconds`, `:SS`; whatever follows is not looked at.
fn fixed_date_time(b: &[u8], with_seconds: bool) -> Option<i64> {
    let num = |from: usize, len: usize| -> Option<i64> {
        let mut v = 0i64;
        for &c in b.get(from..from + len)? {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    };
    if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || (with_seconds && b[16] != b':') {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute) = (num(11, 2)?, num(14, 2)?);
    let second = if with_seconds { num(17, 2)? } else { 0 };
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jiff_ms(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn fast_path_agrees_with_jiff() {
        for s in [
            "2021-03-04T18:22:05Z",
            "2006-01-01T00:00:00Z",
            "2024-02-29T23:59:59Z",
            "2000-02-29T12:00:00Z",
            "1999-12-31T23:59:59Z",
        ] {
            assert_eq!(parse_ts(s), Some(jiff_ms(s)), "{s}");
        }
    }

    #[test]
    fn offsets_fractions_and_bare_times_are_accepted() {
        assert_eq!(
            parse_ts("2021-03-04T18:22:05.250Z"),
            Some(jiff_ms("2021-03-04T18:22:05Z") + 250)
        );
        assert_eq!(
            parse_ts("2021-03-04T19:22:05+01:00"),
            Some(jiff_ms("2021-03-04T18:22:05Z"))
        );
        assert_eq!(
            parse_ts("2021-03-04T18:22:05"),
            Some(jiff_ms("2021-03-04T18:22:05Z"))
        );
    }

    #[test]
    fn account_end_times_with_and_without_seconds() {
        assert_eq!(
            parse_end_time("2024-05-01 13:45"),
            Some(jiff_ms("2024-05-01T13:45:00Z"))
        );
        assert_eq!(
            parse_end_time("2024-05-01 13:45:12"),
            Some(jiff_ms("2024-05-01T13:45:12Z"))
        );
        assert_eq!(
            parse_end_time("2024-05-01T13:45:12Z"),
            Some(jiff_ms("2024-05-01T13:45:12Z"))
        );
    }

    #[test]
    fn impossible_dates_are_rejected() {
        for s in [
            "2021-02-30T00:00:00Z",
            "2021-13-01T00:00:00Z",
            "2021-03-04T24:00:00Z",
            "yesterday",
            "",
            "2021-03-04",
        ] {
            assert_eq!(parse_ts(s), None, "{s}");
        }
        assert_eq!(parse_end_time("2023-02-29 10:00"), None);
    }
}
