//! Wall-clock helpers: RFC 3339 timestamps without a date-time crate.

use crate::policy::civil_from_days;

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time.
pub fn rfc3339(secs: u64) -> String {
    let d = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        d.year,
        d.month,
        d.day,
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// The current time as RFC 3339 (UTC).
pub fn now_rfc3339() -> String {
    rfc3339(unix_now())
}

/// Days from the Unix epoch to the date part of an RFC 3339 timestamp.
pub fn days_of(timestamp: &str) -> Option<i64> {
    let d = crate::policy::parse_date(timestamp)?;
    // Inverse of civil_from_days (Howard Hinnant's days_from_civil).
    let y = if d.month <= 2 {
        d.year as i64 - 1
    } else {
        d.year as i64
    };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = d.month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d.day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_round_trips() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_763_872_496), "2025-11-23T04:34:56Z");
        assert_eq!(
            days_of("2025-11-23T04:34:56Z"),
            Some(1_763_872_496 / 86_400)
        );
        assert_eq!(days_of("1970-01-01"), Some(0));
    }
}
