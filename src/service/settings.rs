//! Settings the user may change (R-C4: scan intervals are settings).

use std::time::Duration;

use super::geoip::{ASN_SETTING, COUNTRY_SETTING};
use super::governance::READ_ONLY_SETTING;
use super::{Intervals, Local, Result, ServiceError};
use crate::store::Store;

/// Every setting a user may set, with what it means.
pub const SETTINGS: [(&str, &str); 7] = [
    (
        "scan.users",
        "seconds between scans of users, admins and domains",
    ),
    (
        "scan.groups",
        "seconds between membership syncs of imported groups",
    ),
    ("scan.activities", "seconds between activity scans"),
    (
        COUNTRY_SETTING,
        "a MaxMind-format country database (GeoLite2-Country, DB-IP Lite Country); empty to forget it",
    ),
    (
        ASN_SETTING,
        "a MaxMind-format ASN database (GeoLite2-ASN, DB-IP Lite ASN) for the ISP; empty to forget it",
    ),
    (
        MOUSE_SETTING,
        "on or off: clicks and the wheel in the dashboard (off leaves the mouse to the terminal, for selecting text)",
    ),
    (
        READ_ONLY_SETTING,
        "on or off: refuse every account action and hide them from the dashboard",
    ),
];

/// Issue 13: whether the dashboard captures the mouse.
pub const MOUSE_SETTING: &str = "dashboard.mouse";

fn parse_switch(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(ServiceError::Invalid(format!(
            "{key} takes on or off, not {value:?}"
        ))),
    }
}

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
    // The scheduler looks for due work at least as often as the shortest interval, so
    // that a scan set to run every few seconds does run that often.
    out.tick = out.tick.min(out.users).min(out.groups).min(out.activities);
    Ok(out)
}

impl Local {
    /// Every user setting with its current value.
    pub async fn settings(&self) -> Result<Vec<(String, String, String)>> {
        let i = self.inner.intervals;
        let geo = self.geoip_sources().await?;
        let path = |p: &Option<std::path::PathBuf>| {
            p.as_ref()
                .map_or_else(|| "none".to_string(), |p| p.display().to_string())
        };
        let current = [
            i.users.as_secs().to_string(),
            i.groups.as_secs().to_string(),
            i.activities.as_secs().to_string(),
            path(&geo.country),
            path(&geo.asn),
            self.db(|s| s.setting(MOUSE_SETTING))
                .await?
                .unwrap_or_else(|| "on".into()),
            self.db(|s| s.setting(READ_ONLY_SETTING))
                .await?
                .unwrap_or_else(|| "off".into()),
        ];
        Ok(SETTINGS
            .iter()
            .zip(current)
            .map(|((key, about), value)| (key.to_string(), value, about.to_string()))
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
        let value = if [COUNTRY_SETTING, ASN_SETTING].contains(&key) {
            self.geoip_path(key, value).await?
        } else if [MOUSE_SETTING, READ_ONLY_SETTING].contains(&key) {
            if parse_switch(key, value)? {
                "on"
            } else {
                "off"
            }
            .to_owned()
        } else {
            parse_seconds(key, value)?.as_secs().to_string()
        };
        let key = key.to_owned();
        self.db(move |s| s.set_setting(&key, &value)).await
    }

    /// A GeoIP database's path, absolute and checked to be readable, or empty to
    /// forget it; it takes effect at the next activity scan.
    async fn geoip_path(&self, key: &str, value: &str) -> Result<String> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(String::new());
        }
        let path = std::path::absolute(value)
            .map_err(|e| ServiceError::Invalid(format!("{key}: {value:?} is not a path ({e})")))?;
        self.check_geoip(&path)
            .await
            .map_err(|e| ServiceError::Invalid(format!("{key}: {e}")))?;
        Ok(path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_seconds, parse_switch};

    // Issue 13: the mouse setting is on or off, said in a few ways.
    #[test]
    fn switches_are_on_or_off() {
        assert!(parse_switch("dashboard.mouse", " On ").unwrap());
        assert!(!parse_switch("dashboard.mouse", "off").unwrap());
        assert!(parse_switch("dashboard.mouse", "maybe").is_err());
    }

    // R-C4
    #[test]
    fn intervals_are_whole_seconds_and_not_too_short() {
        assert_eq!(parse_seconds("scan.users", "3600").unwrap().as_secs(), 3600);
        assert_eq!(parse_seconds("scan.users", "120s").unwrap().as_secs(), 120);
        assert!(parse_seconds("scan.users", "5").is_err());
        assert!(parse_seconds("scan.users", "hourly").is_err());
    }
}
