//! Settings the user may change (R-C4: scan intervals are settings).

use std::time::Duration;

use super::{Intervals, Result, Service, ServiceError};
use crate::store::Store;

/// Every setting a user may set, with what it means.
pub const SETTINGS: [(&str, &str); 3] = [
    (
        "scan.users",
        "seconds between scans of users, admins and domains (R-C4)",
    ),
    (
        "scan.groups",
        "seconds between membership syncs of imported groups (R-G7)",
    ),
    ("scan.activities", "seconds between activity scans (R-C4)"),
];

/// Shortest interval accepted: vendors throttle anything faster.
const MIN_SECONDS: u64 = 10;

fn parse_seconds(key: &str, value: &str) -> Result<Duration> {
    let seconds: u64 = value.trim().trim_end_matches('s').parse().map_err(|_| {
        ServiceError::Invalid(format!("{key} takes a number of seconds, not {value:?}"))
    })?;
    if seconds < MIN_SECONDS {
        return Err(ServiceError::Invalid(format!(
            "{key} must be at least {MIN_SECONDS} seconds"
        )));
    }
    Ok(Duration::from_secs(seconds))
}

/// The intervals stored in the database, over `base` where none is stored.
pub(super) fn stored_intervals(store: &Store, base: Intervals) -> crate::store::Result<Intervals> {
    let mut out = base;
    for (key, slot) in [
        ("scan.users", &mut out.users),
        ("scan.groups", &mut out.groups),
        ("scan.activities", &mut out.activities),
    ] {
        // A value casbah validated when it was set; an unreadable one keeps the default.
        if let Some(value) = store.setting(key)?
            && let Ok(d) = parse_seconds(key, &value)
        {
            *slot = d;
        }
    }
    Ok(out)
}

impl Service {
    /// Every user setting with its current value.
    pub async fn settings(&self) -> Result<Vec<(String, String, &'static str)>> {
        let i = self.inner.intervals;
        let current = [i.users, i.groups, i.activities];
        Ok(SETTINGS
            .iter()
            .zip(current)
            .map(|((key, about), d)| (key.to_string(), d.as_secs().to_string(), *about))
            .collect())
    }

    /// Stores a setting; it takes effect the next time casbah starts.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        if !SETTINGS.iter().any(|(k, _)| *k == key) {
            let known: Vec<&str> = SETTINGS.iter().map(|(k, _)| *k).collect();
            return Err(ServiceError::Invalid(format!(
                "unknown setting {key:?}; known: {}",
                known.join(", ")
            )));
        }
        let seconds = parse_seconds(key, value)?.as_secs().to_string();
        let key = key.to_owned();
        self.db(move |s| s.set_setting(&key, &seconds)).await
    }
}

#[cfg(test)]
mod tests {
    use super::parse_seconds;

    // R-C4
    #[test]
    fn intervals_are_whole_seconds_and_not_too_short() {
        assert_eq!(parse_seconds("scan.users", "3600").unwrap().as_secs(), 3600);
        assert_eq!(parse_seconds("scan.users", "120s").unwrap().as_secs(), 120);
        assert!(parse_seconds("scan.users", "5").is_err());
        assert!(parse_seconds("scan.users", "hourly").is_err());
    }
}
