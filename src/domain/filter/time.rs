//! Dates in filters: days (UTC) and times ago, relative to a `now` given at bind time.

use std::fmt;

use chrono::{NaiveDate, NaiveTime};

use super::fields::TimeField;
use crate::domain::Micros;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    Minutes,
    Hours,
    Days,
    Weeks,
}

impl TimeUnit {
    const ALL: [TimeUnit; 4] = [
        TimeUnit::Minutes,
        TimeUnit::Hours,
        TimeUnit::Days,
        TimeUnit::Weeks,
    ];

    pub fn suffix(self) -> char {
        match self {
            TimeUnit::Minutes => 'm',
            TimeUnit::Hours => 'h',
            TimeUnit::Days => 'd',
            TimeUnit::Weeks => 'w',
        }
    }

    fn micros(self) -> i64 {
        const MINUTE: i64 = 60_000_000;
        match self {
            TimeUnit::Minutes => MINUTE,
            TimeUnit::Hours => 60 * MINUTE,
            TimeUnit::Days => 24 * 60 * MINUTE,
            TimeUnit::Weeks => 7 * 24 * 60 * MINUTE,
        }
    }
}

/// A moment written in a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimePoint {
    /// A whole day, UTC.
    Day(NaiveDate),
    /// `amount` units before `now`.
    Ago { amount: u32, unit: TimeUnit },
}

impl TimePoint {
    /// Reads `2026-11-01` or `7d` / `24h` / `30m` / `2w`.
    pub fn parse(s: &str) -> Result<TimePoint, String> {
        if let Some(point) = Self::parse_ago(s)? {
            return Ok(point);
        }
        let b = s.as_bytes();
        let shaped = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && [0, 1, 2, 3, 5, 6, 8, 9]
                .iter()
                .all(|&i| b[i].is_ascii_digit());
        if !shaped {
            return Err(format!(
                "bad date `{s}`: use YYYY-MM-DD or a time ago such as 7d or 24h"
            ));
        }
        let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(0);
        NaiveDate::from_ymd_opt(num(0..4) as i32, num(5..7), num(8..10))
            .map(TimePoint::Day)
            .ok_or_else(|| format!("bad date `{s}`: use YYYY-MM-DD"))
    }

    fn parse_ago(s: &str) -> Result<Option<TimePoint>, String> {
        let Some(last) = s.chars().last() else {
            return Ok(None);
        };
        let Some(unit) = TimeUnit::ALL.into_iter().find(|u| u.suffix() == last) else {
            return Ok(None);
        };
        let digits = &s[..s.len() - 1];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        let amount = digits
            .parse::<u32>()
            .map_err(|_| format!("`{s}` is too far back; use a date instead"))?;
        Ok(Some(TimePoint::Ago { amount, unit }))
    }

    /// The first microsecond this point stands for.
    pub fn start(self, now: Micros) -> Micros {
        match self {
            TimePoint::Day(day) => day_start(day),
            TimePoint::Ago { amount, unit } => {
                now.saturating_sub(i64::from(amount).saturating_mul(unit.micros()))
            }
        }
    }

    /// Just past this point: the next midnight for a day, the moment itself otherwise.
    pub fn end(self, now: Micros) -> Micros {
        match self {
            TimePoint::Day(day) => day.succ_opt().map_or(Micros::MAX, day_start),
            TimePoint::Ago { .. } => self.start(now),
        }
    }
}

fn day_start(day: NaiveDate) -> Micros {
    day.and_time(NaiveTime::MIN).and_utc().timestamp_micros()
}

impl fmt::Display for TimePoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimePoint::Day(day) => write!(f, "{}", day.format("%Y-%m-%d")),
            TimePoint::Ago { amount, unit } => write!(f, "{amount}{}", unit.suffix()),
        }
    }
}

/// `after:`, `before:` or `date:` with its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeTerm {
    /// `after:X`: from the start of X on.
    After(TimePoint),
    /// `before:X`: up to the start of X, excluded.
    Before(TimePoint),
    /// `date:X..Y` (or `date:X`, with X = Y): from the start of X to the end of Y.
    Between(TimePoint, TimePoint),
}

impl TimeTerm {
    pub fn field(self) -> TimeField {
        match self {
            TimeTerm::After(_) => TimeField::After,
            TimeTerm::Before(_) => TimeField::Before,
            TimeTerm::Between(..) => TimeField::Date,
        }
    }

    /// Inclusive lower and exclusive upper bound on `Activity::time`.
    pub fn bounds(self, now: Micros) -> (Option<Micros>, Option<Micros>) {
        match self {
            TimeTerm::After(p) => (Some(p.start(now)), None),
            TimeTerm::Before(p) => (None, Some(p.start(now))),
            TimeTerm::Between(a, b) => (Some(a.start(now)), Some(b.end(now))),
        }
    }
}

impl fmt::Display for TimeTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.field().name();
        match self {
            TimeTerm::After(p) | TimeTerm::Before(p) => write!(f, "{name}:{p}"),
            TimeTerm::Between(a, b) if a == b => write!(f, "{name}:{a}"),
            TimeTerm::Between(a, b) => write!(f, "{name}:{a}..{b}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> TimePoint {
        TimePoint::Day(NaiveDate::from_ymd_opt(y, m, d).expect("valid date"))
    }

    // R-A2: absolute days and times ago.
    #[test]
    fn parses_days_and_times_ago() {
        assert_eq!(TimePoint::parse("2026-11-01"), Ok(day(2026, 11, 1)));
        assert_eq!(
            TimePoint::parse("7d"),
            Ok(TimePoint::Ago {
                amount: 7,
                unit: TimeUnit::Days
            })
        );
        assert_eq!(
            TimePoint::parse("24h"),
            Ok(TimePoint::Ago {
                amount: 24,
                unit: TimeUnit::Hours
            })
        );
    }

    // R-A2: a bad date says what to write.
    #[test]
    fn bad_dates_say_how_to_write_them() {
        assert_eq!(
            TimePoint::parse("2026-13-01"),
            Err("bad date `2026-13-01`: use YYYY-MM-DD".into())
        );
        assert_eq!(
            TimePoint::parse("2026-02-30"),
            Err("bad date `2026-02-30`: use YYYY-MM-DD".into())
        );
        assert!(TimePoint::parse("tomorrow").unwrap_err().contains("7d"));
        assert!(TimePoint::parse("2026-1-1").is_err());
        assert!(
            TimePoint::parse("99999999999d")
                .unwrap_err()
                .contains("too far")
        );
    }

    // R-A2: `after` is inclusive, `before` exclusive, `date` covers whole days.
    #[test]
    fn bounds_follow_days_and_now() {
        let nov1 = day_start(NaiveDate::from_ymd_opt(2026, 11, 1).expect("date"));
        let nov9 = day_start(NaiveDate::from_ymd_opt(2026, 11, 9).expect("date"));
        let now = nov9 + 5;
        let range = TimeTerm::Between(day(2026, 11, 1), day(2026, 11, 8));
        assert_eq!(range.bounds(now), (Some(nov1), Some(nov9)));
        assert_eq!(
            TimeTerm::Before(day(2026, 11, 9)).bounds(now),
            (None, Some(nov9))
        );
        let week = TimeTerm::After(TimePoint::Ago {
            amount: 1,
            unit: TimeUnit::Weeks,
        });
        assert_eq!(week.bounds(now), (Some(now - 7 * 86_400_000_000), None));
    }

    // R-A4: display is the canonical text.
    #[test]
    fn display_is_canonical() {
        assert_eq!(
            TimeTerm::After(day(2026, 1, 5)).to_string(),
            "after:2026-01-05"
        );
        let one = day(2026, 11, 1);
        assert_eq!(TimeTerm::Between(one, one).to_string(), "date:2026-11-01");
        assert_eq!(
            TimeTerm::Between(one, day(2026, 11, 8)).to_string(),
            "date:2026-11-01..2026-11-08"
        );
    }
}
