//! The one clock of the program, and calendar dates without a date-time
//! crate.
//!
//! Every "now" depwarden uses (staleness of the advisory data, ignore
//! expiry, sync and import timestamps, `--max-db-age`, the age of cached
//! registry answers, SBOM timestamps) comes from [`now`]. It reads the
//! system clock, unless the environment variable `DEPWARDEN_NOW` holds an
//! RFC 3339 timestamp (`2026-09-01T00:00:00Z`) or a date (`2026-09-01`):
//! then that instant is "now" for the whole process, so reports and tests
//! are reproducible on any day. A value that does not parse is ignored.
//!
//! No other module reads `SystemTime::now`.

use std::sync::OnceLock;

/// The environment variable that pins the clock.
pub const NOW_ENV: &str = "DEPWARDEN_NOW";

/// Seconds since the Unix epoch (UTC), from the pinned or the system clock.
pub fn now() -> u64 {
    static PINNED: OnceLock<Option<u64>> = OnceLock::new();
    PINNED
        .get_or_init(|| {
            std::env::var(NOW_ENV)
                .ok()
                .as_deref()
                .and_then(parse_instant)
        })
        .unwrap_or_else(system_now)
}

/// Today's date (UTC) according to [`now`].
pub fn today() -> Date {
    Date::from_days((now() / 86_400) as i64)
}

/// The current time as RFC 3339 (UTC), according to [`now`].
pub fn now_rfc3339() -> String {
    rfc3339(now())
}

/// Nanoseconds of the system clock within its current second: entropy for
/// unique names, never a time shown to anyone (the pinned clock does not
/// apply).
pub fn subsec_nanos() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

fn system_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time.
pub fn rfc3339(secs: u64) -> String {
    let d = Date::from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{d}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Parses an RFC 3339 UTC timestamp (`YYYY-MM-DDTHH:MM:SS[.frac]Z`, or an
/// offset, which is applied) or a plain date (midnight UTC) into Unix
/// seconds. Instants before 1970 are refused.
pub fn parse_instant(s: &str) -> Option<u64> {
    let s = s.trim();
    let date = Date::parse(s)?;
    let mut secs = date.days_since_epoch() * 86_400;
    let rest = &s[10..];
    if !rest.is_empty() {
        let rest = rest.strip_prefix(['T', 't', ' '])?;
        let field = |i: usize| -> Option<i64> {
            let t = rest.get(i..i + 2)?;
            t.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| t.parse().ok())?
        };
        let (h, m, sec) = (field(0)?, field(3)?, field(6)?);
        if rest.get(2..3)? != ":" || rest.get(5..6)? != ":" || h > 23 || m > 59 || sec > 60 {
            return None;
        }
        secs += h * 3600 + m * 60 + sec;
        let mut tail = &rest[8..];
        if let Some(frac) = tail.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            tail = &frac[digits..];
        }
        match tail {
            "Z" | "z" => {}
            _ => {
                let sign = match tail.get(..1)? {
                    "+" => 1,
                    "-" => -1,
                    _ => return None,
                };
                let oh: i64 = tail.get(1..3)?.parse().ok()?;
                let om: i64 = tail.get(4..6)?.parse().ok()?;
                if tail.get(3..4)? != ":" || tail.len() != 6 || oh > 23 || om > 59 {
                    return None;
                }
                secs -= sign * (oh * 3600 + om * 60);
            }
        }
    }
    u64::try_from(secs).ok()
}

/// A calendar date (proleptic Gregorian, UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub year: i32,
    /// Month 1-12.
    pub month: u32,
    /// Day 1-31, valid for the month.
    pub day: u32,
}

impl Date {
    /// Parses `YYYY-MM-DD` (a longer RFC 3339 timestamp is cut to its
    /// date). Days that do not exist (`2027-02-31`) are refused.
    pub fn parse(s: &str) -> Option<Date> {
        let s = s.get(..10)?;
        let b = s.as_bytes();
        if b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            let t = &s[r];
            t.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| t.parse().ok())?
        };
        let year = digits(0..4)? as i32;
        let month = digits(5..7)?;
        let day = digits(8..10)?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// The date `days` days after 1970-01-01 (Howard Hinnant's
    /// civil_from_days).
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        Date {
            year: (if m <= 2 { y + 1 } else { y }) as i32,
            month: m,
            day: d,
        }
    }

    /// Days from 1970-01-01 to this date (Howard Hinnant's
    /// days_from_civil).
    pub fn days_since_epoch(self) -> i64 {
        let y = if self.month <= 2 {
            self.year as i64 - 1
        } else {
            self.year as i64
        };
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let m = self.month as i64;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + self.day as i64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from the Unix epoch to the date part of an RFC 3339 timestamp.
pub fn days_of(timestamp: &str) -> Option<i64> {
    Date::parse(timestamp).map(Date::days_since_epoch)
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
        assert_eq!(
            Date::from_days(20_415),
            Date {
                year: 2025,
                month: 11,
                day: 23
            }
        );
        for days in [-800_000, -1, 0, 59, 365, 11_016, 20_415, 2_000_000] {
            assert_eq!(Date::from_days(days).days_since_epoch(), days);
        }
    }

    #[test]
    fn instants_parse_with_offsets_and_fractions() {
        assert_eq!(parse_instant("2025-11-23T04:34:56Z"), Some(1_763_872_496));
        assert_eq!(
            parse_instant("2025-11-23T04:34:56.123456Z"),
            Some(1_763_872_496)
        );
        assert_eq!(
            parse_instant("2025-11-23T06:34:56+02:00"),
            Some(1_763_872_496)
        );
        assert_eq!(parse_instant("2025-11-23"), Some(20_415 * 86_400));
        assert_eq!(parse_instant("2025-11-23T04:34Z"), None);
        assert_eq!(parse_instant("2025-11-23T25:00:00Z"), None);
        assert_eq!(parse_instant("1969-12-31"), None);
        assert_eq!(parse_instant("soon"), None);
    }

    #[test]
    fn impossible_days_are_refused() {
        assert!(Date::parse("2027-02-31").is_none());
        assert!(Date::parse("2027-02-29").is_none());
        assert!(Date::parse("2028-02-29").is_some());
        assert!(Date::parse("2100-02-29").is_none());
        assert!(Date::parse("2000-02-29").is_some());
        assert!(Date::parse("2027-04-31").is_none());
        assert!(Date::parse("2027-13-01").is_none());
        assert!(Date::parse("2027-1-011").is_none());
        assert!(Date::parse("+027-01-01").is_none());
        assert!(Date::parse("2027-01-01T00:00:00Z").is_some());
    }
}
