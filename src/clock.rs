//! The one clock: Unix time for the outbox, the delivery log, token expiry and certificates,
//! and its UTC calendar form. A clock set before 1970 reads as 1970, never as a panic.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since 1970.
pub fn unix_now() -> u64 {
    since_epoch().as_secs()
}

/// Nanoseconds since 1970, for ids that must sort by time and differ within a second.
pub fn unix_nanos() -> u128 {
    since_epoch().as_nanos()
}

fn since_epoch() -> std::time::Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// `2026-11-23T19:27:02Z`: UTC, so lines from machines in different zones sort together.
pub fn utc_timestamp(seconds: u64) -> String {
    let (year, month, day) = civil_date(seconds);
    let rest = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// `2026-12-01 10:20 UTC`, for a person reading when something happens.
pub fn utc_minute(seconds: u64) -> String {
    let (year, month, day) = civil_date(seconds);
    let rest = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest / 60 % 60
    )
}

/// `2026-11-23T20:27:02+01:00`: RFC 3339 in the local time zone (`TZ`), for a person reading
/// when something happened or will (`queue show`, `queue flush`).
pub fn local_timestamp(seconds: u64) -> String {
    let offset = local_offset(seconds);
    let local = seconds.saturating_add_signed(offset);
    let (year, month, day) = civil_date(local);
    let rest = local % 86_400;
    let minutes = offset.unsigned_abs() / 60;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{}{:02}:{:02}",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        if offset < 0 { '-' } else { '+' },
        minutes / 60,
        minutes % 60
    )
}

/// Seconds east of UTC in the local time zone at that time; UTC when it cannot be told.
fn local_offset(seconds: u64) -> i64 {
    let Ok(time) = libc::time_t::try_from(seconds) else {
        return 0;
    };
    // SAFETY: an all-zero `tm` is a valid value of a plain C struct; localtime_r writes only
    // into the struct it is given and reads only `time`.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let converted = unsafe { libc::localtime_r(&raw const time, &raw mut tm) };
    if converted.is_null() {
        0
    } else {
        // c_long: i64 on 64-bit targets, i32 on others.
        tm.tm_gmtoff as i64
    }
}

/// The calendar date of a Unix time, in UTC (Howard Hinnant's days-to-civil algorithm).
fn civil_date(seconds: u64) -> (i64, i64, i64) {
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// A length of time as a person says it: `5 s`, `10 min`, `3 h`, `3 days`.
pub fn span(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// 64 bits no other process or call can predict or repeat: the standard library's OS-seeded
/// hasher keys (a fresh pair per call), mixed with the time and the process id. For Message-IDs,
/// outbox ids and MIME placeholders, none of which needs a cryptographic generator.
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(unix_nanos());
    hasher.write_u32(std::process::id());
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_timestamp(1_795_462_022), "2026-11-23T19:27:02Z");
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minute(1_796_120_237), "2026-12-01 10:17 UTC");
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span(5), "5 s");
        assert_eq!(span(600), "10 min");
        assert_eq!(span(3599), "59 min");
        assert_eq!(span(3 * 3600), "3 h");
        assert_eq!(span(3 * 86_400), "3 days");
    }

    #[test]
    fn random_values_differ() {
        let values: std::collections::HashSet<u64> = (0..1000).map(|_| random_u64()).collect();
        assert_eq!(values.len(), 1000);
    }
}
