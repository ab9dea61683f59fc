//! The activity streams of a Microsoft 365 instance, and the incremental read
//! shared by Graph's two audit logs.
//!
//! Graph's logs are read in sweeps (`connectors::sweep`): sign-ins come
//! newest first, so no page can be taken as a high-water mark on its own.
//! The boundary record is read again by the next sweep (`ge`); the store
//! drops duplicates by id.

use chrono::{DateTime, NaiveDateTime, Utc};
use url::Url;

use super::api::{Call, Collection};
use super::auth::Scope;
use super::endpoints::follow;
use super::{Microsoft365, VENDOR, clean};
use crate::connectors::sweep::Sweep;
use crate::connectors::{ActivityBatch, ConnectorError};
use crate::domain::ip::ClientAddress;
use crate::domain::{Activity, AppKind, Component, InstanceId};

pub(super) const SIGNINS: &str = "signins";
pub(super) const DIRECTORY_AUDITS: &str = "directory-audits";
/// Management API streams: one per content type; Audit.SharePoint first,
/// as the one that Office 365 files reads alone.
pub(super) const OFFICE_STREAMS: [(&str, &str); 5] = [
    ("o365-Audit.SharePoint", "Audit.SharePoint"),
    ("o365-Audit.Exchange", "Audit.Exchange"),
    ("o365-Audit.General", "Audit.General"),
    (
        "o365-Audit.AzureActiveDirectory",
        "Audit.AzureActiveDirectory",
    ),
    ("o365-DLP.All", "DLP.All"),
];

pub(super) use crate::connectors::sweep::BACKFILL;

/// R-C5: which feeds the chosen components read.
pub(super) fn streams(components: &[Component]) -> Vec<&'static str> {
    let on = |c| components.contains(&c);
    let mut out = Vec::new();
    if on(Component::SignInEvents) {
        out.push(SIGNINS);
    }
    if on(Component::ManagementEvents) {
        out.push(DIRECTORY_AUDITS);
    }
    // Files live in SharePoint and OneDrive; activities span every workload.
    if on(Component::Office365Activities) {
        out.extend(OFFICE_STREAMS.iter().map(|(s, _)| *s));
    } else if on(Component::Office365Files) {
        out.push(OFFICE_STREAMS[0].0);
    }
    out
}

impl Microsoft365 {
    pub(super) async fn read_stream(
        &self,
        stream: &str,
        cursor: Option<&str>,
    ) -> Result<ActivityBatch, ConnectorError> {
        if !streams(&self.components).contains(&stream) {
            return Err(ConnectorError::NotFound {
                vendor: VENDOR,
                what: format!("activity stream {}", clean(stream)),
            });
        }
        match stream {
            SIGNINS => self.sweep(&super::signins::FEED, cursor).await,
            DIRECTORY_AUDITS => self.sweep(&super::audits::FEED, cursor).await,
            _ => {
                let content_type = OFFICE_STREAMS
                    .iter()
                    .find(|(s, _)| *s == stream)
                    .map(|(_, t)| *t)
                    .ok_or_else(|| ConnectorError::NotFound {
                        vendor: VENDOR,
                        what: format!("activity stream {}", clean(stream)),
                    })?;
                self.read_office(content_type, cursor).await
            }
        }
    }

    async fn sweep(
        &self,
        feed: &Feed,
        cursor: Option<&str>,
    ) -> Result<ActivityBatch, ConnectorError> {
        let mut state = Sweep::resume(cursor, VENDOR, feed.name);
        let top = self.page_size.min(feed.max_page).to_string();
        let first = |since: DateTime<Utc>| {
            let filter = format!("{} ge {}", feed.time_field, filter_time(since));
            super::endpoints::url(
                &self.hosts.graph,
                feed.path,
                &[("$filter", &filter), ("$top", &top)],
            )
        };
        let page: Collection<serde_json::Value> = state
            .page(
                VENDOR,
                feed.name,
                |since| {
                    let call = feed.call(first(since));
                    async move { self.call(&call).await }
                },
                |link| async move {
                    let url = follow(&link, &self.hosts.graph)?;
                    self.call(&feed.call(url)).await
                },
            )
            .await?;
        let records = page
            .value
            .into_iter()
            .filter_map(|raw| (feed.map)(raw, self.instance));
        Ok(state.batch(records, page.next_link))
    }
}

/// One Graph audit log.
pub(super) struct Feed {
    pub name: &'static str,
    pub path: &'static [&'static str],
    /// The `$filter`-able time field the sweep starts from.
    pub time_field: &'static str,
    pub max_page: u32,
    pub permission: &'static str,
    pub what: &'static str,
    /// The record's time (for the high-water mark), and the activity it makes
    /// if it should be kept. `None` for a record that cannot be read.
    pub map: fn(serde_json::Value, InstanceId) -> Option<Seen>,
}

/// A record read from a log: its time, and the activity it makes if kept.
pub(super) type Seen = (DateTime<Utc>, Option<Activity>);

impl Feed {
    fn call(&self, url: Url) -> Call {
        Call::get(Scope::Graph, url, self.permission, self.what)
    }
}

/// Graph's DateTimeOffset literal, to the second: flooring widens the `ge`
/// window slightly, never narrows it.
fn filter_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// RFC 3339 (Graph), or a bare date-time the Management API means as UTC.
pub(super) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

/// An activity with everything but its identity left empty.
pub(super) fn blank(id: &str, instance: InstanceId, time: DateTime<Utc>, source: &str) -> Activity {
    Activity {
        id: clean(id),
        app: AppKind::Microsoft365,
        instance,
        time: time.timestamp_micros(),
        actor: String::new(),
        actor_name: String::new(),
        activity_type: String::new(),
        action_type: "other".to_owned(),
        objects: Vec::new(),
        admin: false,
        impersonated: false,
        succeeded: true,
        ip: None,
        address_text: None,
        country: None,
        isp: None,
        device_type: None,
        user_agent: None,
        source: source.to_owned(),
        groups: Vec::new(),
        office_app: None,
    }
}

/// R-A1: the record's address from a vendor's address field: an IP address
/// as `ip`, anything else as `address_text`.
pub(super) fn address(a: &mut Activity, raw: Option<&str>) {
    let read = ClientAddress::read(raw);
    a.ip = read.ip;
    a.address_text = read.text;
}

/// Whether a Graph record has an id: records are told apart by it (the store
/// drops repeats by id), so one without is not kept (issue 10).
pub(super) fn has_id(id: &str, what: &str) -> bool {
    let blank = id.trim().is_empty();
    if blank {
        tracing::warn!(vendor = VENDOR, what, "record without an id skipped");
    }
    !blank
}

/// The value of `key` in an object, whatever the key's case: Microsoft
/// writes `Type` in one feed and `type` in another.
pub(super) fn field<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    let map = v.as_object()?;
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// A cleaned, non-empty string or nothing.
pub(super) fn text(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-C5: components decide the streams.
    #[test]
    fn streams_follow_components() {
        assert!(streams(&[Component::UsersAndGroups]).is_empty());
        assert_eq!(
            streams(&[
                Component::UsersAndGroups,
                Component::SignInEvents,
                Component::ManagementEvents
            ]),
            vec![SIGNINS, DIRECTORY_AUDITS]
        );
        assert_eq!(
            streams(&[Component::Office365Files]),
            vec!["o365-Audit.SharePoint"]
        );
        // issue 10: Office 365 activities also reads Entra's and DLP's records.
        assert_eq!(
            streams(&[Component::Office365Files, Component::Office365Activities]),
            vec![
                "o365-Audit.SharePoint",
                "o365-Audit.Exchange",
                "o365-Audit.General",
                "o365-Audit.AzureActiveDirectory",
                "o365-DLP.All"
            ]
        );
    }

    // R-G10: sign-ins and directory audits, built on `blank`, come from no
    // Office app; only an Office 365 record's Workload names one.
    #[test]
    fn blank_activities_have_no_office_app() {
        let t = parse_time("2024-01-01T00:00:00Z").unwrap();
        let a = blank("s1", InstanceId(1), t, "Azure AD sign-ins");
        assert_eq!(a.office_app, None);
        assert_eq!(a.app, AppKind::Microsoft365);
    }

    #[test]
    fn times_parse_in_both_dialects() {
        let graph = parse_time("2024-01-02T03:04:05.1234567Z").unwrap();
        assert_eq!(filter_time(graph), "2024-01-02T03:04:05Z");
        let office = parse_time("2015-06-29T20:03:19").unwrap();
        assert_eq!(office.to_rfc3339(), "2015-06-29T20:03:19+00:00");
        assert_eq!(parse_time("yesterday"), None);
    }
}

/// Issue 10: the mappings of Graph's two audit logs, fuzzed.
#[cfg(test)]
mod props {
    use super::*;
    use crate::test_support::{check_activities, fixture, fuzz};

    /// Every field the sign-in mapping reads, at any depth.
    const SIGN_IN_KEYS: &[&str] = &[
        "id",
        "createdDateTime",
        "userId",
        "userPrincipalName",
        "userDisplayName",
        "appId",
        "appDisplayName",
        "ipAddress",
        "userAgent",
        "clientAppUsed",
        "isInteractive",
        "status",
        "errorCode",
        "location",
        "countryOrRegion",
        "deviceDetail",
        "operatingSystem",
        "browser",
    ];

    /// Every field the directory audit mapping reads, at any depth.
    const AUDIT_KEYS: &[&str] = &[
        "id",
        "activityDateTime",
        "activityDisplayName",
        "result",
        "initiatedBy",
        "user",
        "app",
        "appId",
        "displayName",
        "userPrincipalName",
        "servicePrincipalName",
        "ipAddress",
        "targetResources",
        "type",
        "Type",
    ];

    // issue 10, DESIGN §3: any JSON shaped like a sign-in or a directory
    // audit, and the sandbox's changed, are read without a panic, the same
    // way twice, into a clean activity or none.
    #[test]
    fn records_are_read_safely() {
        for (feed, keys, file) in [
            (
                &super::super::signins::FEED,
                SIGN_IN_KEYS,
                "microsoft-signins",
            ),
            (
                &super::super::audits::FEED,
                AUDIT_KEYS,
                "microsoft-directory-audits",
            ),
        ] {
            let seeds = fixture(&format!("sandbox/{file}.jsonl"));
            let read = |r: &serde_json::Value, instance| (feed.map)(r.clone(), instance);
            fuzz(file!(), keys, seeds, read, |(_, a), instance| {
                check_activities(a, AppKind::Microsoft365, instance)
            });
        }
    }
}
