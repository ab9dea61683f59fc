//! The organisation's audit log (`GET /orgs/{org}/audit-log`), read
//! incrementally.
//!
//! A sweep asks for everything at or after a high-water mark
//! (`phrase=created:>=2026-11-29T10:00:00+00:00`, `include=all` so git events
//! come too, `order=asc`, `per_page=100`) and follows the `Link` header's next
//! page exactly as given, one page per call. When a sweep ends, the mark
//! moves up to the newest event seen (never past now). GitHub's qualifier
//! has whole seconds, so the next sweep reads that second again: the cursor
//! keeps the ids already taken in it, and they are not handed out twice.
//! Nothing is lost between sweeps (the mark only moves to what was read) and
//! nothing is repeated (the edge second is filtered by id; the store drops
//! any repeat by id too). An organisation without the audit log (not on
//! GitHub Enterprise Cloud) answers 404: `ConnectorError::NotAvailable`.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::api::{Call, Missing};
use super::{GitHub, VENDOR, clean};
use crate::connectors::url::{follow, url};
use crate::connectors::{ActivityBatch, ConnectorError};
use crate::domain::ip::ClientAddress;
use crate::domain::{Activity, ActivityObject, AppKind, InstanceId, ObjectKind, country, user_key};

pub(super) const STREAM: &str = "audit-log";
const SOURCE: &str = "GitHub audit log";
/// R-C6: how far back a new instance starts.
const BACKFILL: TimeDelta = TimeDelta::days(7);
/// Ids kept from the edge second; more than this many events in one second
/// are left to the store's own deduplication.
const EDGE_IDS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Sweep {
    /// The high-water mark, in epoch milliseconds.
    since: i64,
    /// The next page of the sweep under way, as GitHub gave it.
    next: Option<String>,
    /// The newest event seen in this sweep.
    newest: Option<i64>,
    /// Ids of events in the mark's second already handed out.
    #[serde(default)]
    edge: Vec<String>,
    /// Ids handed out in this sweep in the second of `newest`.
    #[serde(default)]
    tail: Vec<String>,
}

impl Sweep {
    fn resume(cursor: Option<&str>) -> Sweep {
        let fresh = || Sweep {
            since: (Utc::now() - BACKFILL).timestamp_millis(),
            next: None,
            newest: None,
            edge: Vec::new(),
            tail: Vec::new(),
        };
        match cursor {
            None => fresh(),
            Some(c) => serde_json::from_str(c).unwrap_or_else(|e| {
                tracing::warn!(vendor = VENDOR, error = %e, "unreadable audit-log cursor; reading the last week again");
                fresh()
            }),
        }
    }

    fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The second the sweep starts at, whose ids `edge` holds.
    fn edge_second(&self) -> i64 {
        self.since.div_euclid(1000)
    }
}

/// GitHub's `created` qualifier: whole seconds with the offset written out.
fn qualifier(ms: i64) -> String {
    let t = Utc
        .timestamp_millis_opt(ms.div_euclid(1000) * 1000)
        .single()
        .unwrap_or_default();
    format!("created:>={}", t.format("%Y-%m-%dT%H:%M:%S+00:00"))
}

#[derive(Debug, Deserialize)]
struct Location {
    country_code: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(rename = "_document_id")]
    id: Option<String>,
    #[serde(rename = "@timestamp")]
    timestamp: Option<i64>,
    created_at: Option<i64>,
    action: Option<String>,
    actor: Option<String>,
    actor_ip: Option<String>,
    actor_location: Option<Location>,
    user_agent: Option<String>,
    repo: Option<String>,
    repository: Option<String>,
    team: Option<String>,
    user: Option<String>,
    oauth_application_name: Option<String>,
}

/// R-A1: GitHub's action mapped to the fixed action types.
pub(super) fn action_type(action: &str) -> &'static str {
    let category = action.split('.').next().unwrap_or_default();
    match action {
        "repo.create" => "create",
        "repo.destroy" => "delete",
        "git.clone" => "download",
        "git.push" => "upload",
        "org.update_member" => "role-change",
        _ if action.ends_with(".add_member") => "member-add",
        _ if action.ends_with(".remove_member") => "member-remove",
        _ if action == "repo.access" || action.contains("visibility") => "permission-change",
        _ if category.starts_with("oauth_")
            || category.starts_with("personal_access_token")
            || category == "org_credential_authorization" =>
        {
            "permission-change"
        }
        _ => "other",
    }
}

/// Org-level administration: what an owner (or team maintainer) does to the
/// organisation, its members and its teams.
fn administrative(action: &str) -> bool {
    matches!(
        action.split('.').next().unwrap_or_default(),
        "org"
            | "team"
            | "business"
            | "hook"
            | "integration_installation"
            | "org_credential_authorization"
    )
}

fn text(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(clean)
}

fn object(kind: ObjectKind, name: &str) -> ActivityObject {
    ActivityObject {
        kind,
        id: clean(name),
        name: clean(name),
    }
}

/// One audit-log entry as an activity; `None` without an id or a time.
fn activity(e: Entry, instance: InstanceId) -> Option<(i64, Activity)> {
    let id = text(e.id.as_deref())?;
    let ms = e.timestamp.or(e.created_at)?;
    let time = DateTime::from_timestamp_millis(ms)?;
    let action = e.action.as_deref().unwrap_or_default().trim();
    let login = e.actor.as_deref().unwrap_or_default().trim();
    let mut objects = Vec::new();
    if let Some(repo) = text(e.repo.as_deref().or(e.repository.as_deref())) {
        objects.push(object(ObjectKind::Other, &repo));
    }
    if let Some(team) = text(e.team.as_deref()) {
        objects.push(object(ObjectKind::Group, &team));
    }
    if let Some(user) = text(e.user.as_deref()) {
        objects.push(object(ObjectKind::User, &user));
    }
    if let Some(app) = text(e.oauth_application_name.as_deref()) {
        objects.push(object(ObjectKind::App, &app));
    }
    let address = ClientAddress::read(e.actor_ip.as_deref());
    let activity = Activity {
        id,
        app: AppKind::Github,
        instance,
        time: time.timestamp_micros(),
        // Lower case, as sign-in names are joined to people.
        actor: user_key(login),
        actor_name: clean(login),
        activity_type: clean(action),
        action_type: action_type(action).to_string(),
        objects,
        admin: administrative(action),
        impersonated: false,
        succeeded: true,
        ip: address.ip,
        address_text: address.text,
        country: e
            .actor_location
            .and_then(|l| l.country_code)
            .and_then(|c| country::code_of(&c)),
        isp: None,
        device_type: None,
        user_agent: text(e.user_agent.as_deref()),
        source: SOURCE.to_string(),
        groups: Vec::new(),
        office_app: None,
    };
    Some((ms, activity))
}

impl GitHub {
    pub(super) async fn read_audit(
        &self,
        cursor: Option<&str>,
    ) -> Result<ActivityBatch, ConnectorError> {
        let mut sweep = Sweep::resume(cursor);
        let per_page = self
            .page_size
            .clamp(1, super::directory::MAX_PAGE)
            .to_string();
        let phrase = qualifier(sweep.since);
        let first = url(
            &self.api,
            &["orgs", &self.org, "audit-log"],
            &[
                ("phrase", &phrase),
                ("include", "all"),
                ("order", "asc"),
                ("per_page", &per_page),
            ],
        );
        let call = |url| Call {
            url,
            what: "the audit log".into(),
            scope: "read:audit_log",
            missing: Missing::AuditLog,
        };
        let (entries, next): (Vec<serde_json::Value>, _) = match &sweep.next {
            Some(link) => {
                let at = follow(VENDOR, link, &self.api)?;
                match self.get(&call(at)).await {
                    // A page link that outlived its cursor: sweep again from the mark.
                    Err(ConnectorError::Vendor {
                        status: 400 | 422, ..
                    }) => {
                        tracing::warn!(
                            vendor = VENDOR,
                            "stale audit-log page link; restarting the sweep"
                        );
                        sweep.next = None;
                        sweep.newest = None;
                        sweep.tail.clear();
                        self.get(&call(first)).await?
                    }
                    other => other?,
                }
            }
            None => self.get(&call(first)).await?,
        };
        let edge_second = sweep.edge_second();
        let read = entries.len();
        let mut activities = Vec::new();
        for raw in entries {
            let entry: Entry = match serde_json::from_value(raw) {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(vendor = VENDOR, error = %e, "unreadable audit-log entry skipped");
                    continue;
                }
            };
            let Some((ms, a)) = activity(entry, self.instance) else {
                tracing::warn!(
                    vendor = VENDOR,
                    "audit-log entry without an id or a time skipped"
                );
                continue;
            };
            let second = ms.div_euclid(1000);
            if second == edge_second && sweep.edge.contains(&a.id) {
                continue;
            }
            match sweep.newest.map(|n| n.div_euclid(1000)) {
                Some(newest) if second < newest => {}
                Some(newest) if second == newest => sweep.tail.push(a.id.clone()),
                _ => sweep.tail = vec![a.id.clone()],
            }
            sweep.newest = sweep.newest.max(Some(ms));
            activities.push(a);
        }
        let more = match next {
            Some(link) if read > 0 => {
                sweep.next = Some(link);
                true
            }
            _ => {
                // The sweep is done: the mark moves up to the newest event
                // read (never past now), keeping the ids of its second.
                let now = Utc::now().timestamp_millis();
                let mark = sweep
                    .newest
                    .unwrap_or(sweep.since)
                    .min(now)
                    .max(sweep.since);
                let tail = std::mem::take(&mut sweep.tail);
                let newest_second = sweep.newest.map(|n| n.div_euclid(1000));
                if mark.div_euclid(1000) != edge_second {
                    sweep.edge.clear();
                }
                if newest_second == Some(mark.div_euclid(1000)) {
                    sweep.edge.extend(tail);
                }
                if sweep.edge.len() > EDGE_IDS {
                    let drop = sweep.edge.len() - EDGE_IDS;
                    sweep.edge.drain(..drop);
                }
                sweep.since = mark;
                sweep.next = None;
                sweep.newest = None;
                false
            }
        };
        Ok(ActivityBatch {
            activities,
            cursor: sweep.encode(),
            more,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // R-A1: GitHub's actions map to the fixed action types.
    #[test]
    fn actions_map_to_the_fixed_action_types() {
        for (action, want) in [
            ("org.add_member", "member-add"),
            ("team.add_member", "member-add"),
            ("team.remove_member", "member-remove"),
            ("org.remove_member", "member-remove"),
            ("org.update_member", "role-change"),
            ("repo.create", "create"),
            ("repo.destroy", "delete"),
            ("git.clone", "download"),
            ("git.push", "upload"),
            ("repo.access", "permission-change"),
            ("repository_visibility_change.enable", "permission-change"),
            ("oauth_authorization.create", "permission-change"),
            ("personal_access_token.access_granted", "permission-change"),
            ("protected_branch.update", "other"),
        ] {
            assert_eq!(action_type(action), want, "{action}");
            assert!(crate::domain::activity::ACTION_TYPES.contains(&want));
        }
    }

    // R-A1: every field, from GitHub's shape.
    #[test]
    fn an_entry_becomes_an_activity() {
        let raw = json!({"@timestamp": 1606929874512i64, "_document_id": "xJJFlFOhQ6b-5vaAFy9Rjw", "action": "team.add_member",
            "actor": "OctoCat", "actor_location": {"country_code": "de"}, "created_at": 1606929874512i64, "org": ["octo-org"],
            "team": "octo-org/platform", "user": "monalisa", "user_agent": "Mozilla/5.0", "actor_ip": "198.51.100.7"});
        let (ms, a) = activity(serde_json::from_value(raw).unwrap(), InstanceId(4)).unwrap();
        assert_eq!(ms, 1606929874512);
        assert_eq!(a.time, 1606929874512000);
        assert_eq!(a.id, "xJJFlFOhQ6b-5vaAFy9Rjw");
        assert_eq!(
            (a.actor.as_str(), a.actor_name.as_str()),
            ("octocat", "OctoCat")
        );
        assert_eq!(a.country.as_deref(), Some("DE"));
        assert_eq!(a.activity_type, "team.add_member");
        assert_eq!(a.action_type, "member-add");
        assert!(a.admin);
        assert_eq!(a.source, "GitHub audit log");
        assert_eq!(a.ip.as_deref(), Some("198.51.100.7"));
        assert_eq!(a.instance, InstanceId(4));
        assert_eq!(
            a.objects.iter().map(|o| o.kind).collect::<Vec<_>>(),
            vec![ObjectKind::Group, ObjectKind::User]
        );
        let git = json!({"@timestamp": 1, "_document_id": "g", "action": "git.clone", "actor": "x", "repository": "o/r"});
        let (_, g) = activity(serde_json::from_value(git).unwrap(), InstanceId(4)).unwrap();
        assert!(!g.admin);
        assert_eq!(g.objects[0].name, "o/r");
        assert!(
            activity(
                serde_json::from_value(json!({"action": "x"})).unwrap(),
                InstanceId(4)
            )
            .is_none()
        );
    }

    // R-G6, issue 10: the actor is keyed as accounts are, control
    // characters and all (found by fuzzing).
    #[test]
    fn the_actor_is_an_account_key() {
        let raw = json!({"@timestamp": 1, "_document_id": "d", "action": "git.clone", "actor": "Octo\u{7}Cat"});
        let (_, a) = activity(serde_json::from_value(raw).unwrap(), InstanceId(4)).unwrap();
        assert_eq!(
            (a.actor.as_str(), a.actor_name.as_str()),
            ("octo^gcat", "Octo^GCat")
        );
    }

    // issue 10: the actor's address is an IP or kept apart as text.
    #[test]
    fn actor_addresses_are_validated() {
        let at = |ip: &str| {
            let raw = json!({"@timestamp": 1, "_document_id": "d", "action": "git.clone", "actor": "x",
                "actor_ip": ip});
            let (_, a) = activity(serde_json::from_value(raw).unwrap(), InstanceId(4)).unwrap();
            (a.ip, a.address_text)
        };
        assert_eq!(at("[198.51.100.7]:22"), (Some("198.51.100.7".into()), None));
        assert_eq!(at("runner.local"), (None, Some("runner.local".into())));
    }

    #[test]
    fn the_qualifier_has_whole_seconds_and_an_offset() {
        assert_eq!(
            qualifier(1606929874512),
            "created:>=2020-12-02T17:24:34+00:00"
        );
        let s = Sweep {
            since: 5,
            next: Some("http://x/a?after=1".into()),
            newest: Some(9),
            edge: vec!["a".into()],
            tail: vec!["b".into()],
        };
        assert_eq!(Sweep::resume(Some(&s.encode())), s);
        let fresh = Sweep::resume(Some("{garbled"));
        assert!(Utc::now().timestamp_millis() - fresh.since >= BACKFILL.num_milliseconds());
    }
}

/// Issue 10: the audit-log entry mapping, fuzzed.
#[cfg(test)]
mod props {
    use super::*;
    use crate::test_support::{check_activity, fixture, fuzz};

    /// Every field the mapping reads, at any depth.
    const KEYS: &[&str] = &[
        "_document_id",
        "@timestamp",
        "created_at",
        "action",
        "actor",
        "actor_ip",
        "actor_location",
        "country_code",
        "user_agent",
        "repo",
        "repository",
        "team",
        "user",
        "oauth_application_name",
    ];

    // issue 10, DESIGN §3: any JSON shaped like an entry, and the sandbox's
    // entries changed, are read without a panic, the same way twice, into a
    // clean activity or none; its time is the entry's own.
    #[test]
    fn entries_are_read_safely() {
        let seeds = fixture("sandbox/github-audit-log.jsonl");
        let read = |r: &serde_json::Value, instance| {
            let entry = serde_json::from_value(r.clone()).ok()?;
            activity(entry, instance)
        };
        fuzz(file!(), KEYS, seeds, read, |(ms, a), instance| {
            check_activity(a, AppKind::Github, instance)?;
            proptest::prop_assert_eq!(ms * 1000, a.time);
            Ok(())
        });
    }
}
