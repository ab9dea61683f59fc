//! The System Log (`/api/v1/logs`) as one activity stream.
//!
//! casbah reads it the way Okta asks a consumer of the ongoing stream to: a
//! polling request (`since` a week back on first connect, R-C6; ascending;
//! no `until`), then every `next` link as given. A polling answer always
//! carries a `next`, even with no events, so the cursor is simply the last
//! `next` link; the stream is caught up when a page comes back empty.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::api::{Call, Reads};
use super::{Okta, VENDOR, clean};
use crate::connectors::http::{RawRecord, read_record};
use crate::connectors::{ActivityBatch, ConnectorError};
use crate::domain::ip::ClientAddress;
use crate::domain::{Activity, ActivityObject, AppKind, InstanceId, ObjectKind};

/// The stream's name, as the store keeps its cursor.
pub const SYSTEM_LOG: &str = "system-log";
/// R-C6: how far back a new instance starts.
const BACKFILL: TimeDelta = TimeDelta::days(7);
const SOURCE: &str = "Okta System Log";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogEvent {
    uuid: Option<String>,
    published: Option<String>,
    event_type: Option<String>,
    actor: Option<Party>,
    client: Option<Client>,
    outcome: Option<Outcome>,
    target: Option<Vec<Party>>,
    debug_context: Option<DebugContext>,
    security_context: Option<SecurityContext>,
}

/// An actor or a target.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Party {
    id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    alternate_id: Option<String>,
    display_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Client {
    ip_address: Option<String>,
    device: Option<String>,
    user_agent: Option<UserAgent>,
    geographical_context: Option<Geo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserAgent {
    raw_user_agent: Option<String>,
}

#[derive(Deserialize)]
struct Geo {
    country: Option<String>,
}

#[derive(Deserialize)]
struct Outcome {
    result: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DebugContext {
    debug_data: Option<Value>,
}

#[derive(Deserialize)]
struct SecurityContext {
    isp: Option<String>,
}

/// R-A1: the normalised action of an Okta event type.
pub(super) fn action_type(event_type: &str) -> &'static str {
    let e = event_type.trim().to_ascii_lowercase();
    let exact = match e.as_str() {
        "user.session.start" | "user.session.access_admin_app" | "user.authentication.sso" => {
            Some("sign-in")
        }
        "user.session.end" | "user.session.clear" => Some("sign-out"),
        "user.account.update_password" | "user.credential.change_password" => {
            Some("password-change")
        }
        "user.account.reset_password"
        | "user.account.expire_password"
        | "user.credential.forgot_password" => Some("password-reset"),
        "group.user_membership.add" => Some("member-add"),
        "group.user_membership.remove" => Some("member-remove"),
        "application.user_membership.add"
        | "application.user_membership.remove"
        | "group.application_assignment.add"
        | "group.application_assignment.remove"
        | "app.oauth2.as.consent.grant"
        | "app.oauth2.as.consent.revoke" => Some("permission-change"),
        _ => None,
    };
    if let Some(t) = exact {
        return t;
    }
    if e.contains(".privilege.") || e.starts_with("iam.role.") || e.starts_with("iam.resourceset.")
    {
        "role-change"
    } else if e.contains(".delete") {
        "delete"
    } else if e.ends_with(".create") {
        "create"
    } else if e.starts_with("user.lifecycle.") || e.contains(".update") || e.ends_with("activate") {
        "edit"
    } else {
        "other"
    }
}

/// R-A1: events an administrator causes (directory, apps, policies, roles,
/// the admin console itself); people's own sign-ins and password changes
/// are not.
pub(super) fn is_admin(event_type: &str) -> bool {
    const ADMIN: &[&str] = &[
        "user.lifecycle.",
        "user.account.privilege.",
        "user.account.reset_password",
        "user.account.expire_password",
        "user.account.unlock_by_admin",
        "user.mfa.factor.reset_all",
        "user.session.access_admin_app",
        "user.session.impersonation.",
        "group.",
        "application.",
        "policy.",
        "system.",
        "zone.",
        "iam.",
    ];
    let e = event_type.trim().to_ascii_lowercase();
    ADMIN.iter().any(|p| e.starts_with(p))
}

fn object_kind(kind: Option<&str>) -> ObjectKind {
    match kind.map(str::to_ascii_lowercase).as_deref() {
        Some("user") => ObjectKind::User,
        Some("usergroup") => ObjectKind::Group,
        Some("appinstance" | "appuser" | "publicclientapp") => ObjectKind::App,
        _ => ObjectKind::Other,
    }
}

/// A cleaned, non-empty string or nothing.
fn text(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(clean)
}

/// An event as an activity; `None` (logged) for one without a uuid or a
/// readable time.
pub(super) fn event(raw: RawRecord, instance: InstanceId) -> Option<Activity> {
    let e: LogEvent = read_record(VENDOR, "System Log event", &raw)?;
    let Some(id) = text(e.uuid.as_deref()) else {
        tracing::warn!(vendor = VENDOR, "System Log event without a uuid skipped");
        return None;
    };
    let Some(time) = e
        .published
        .as_deref()
        .and_then(|p| DateTime::parse_from_rfc3339(p.trim()).ok())
    else {
        tracing::warn!(
            vendor = VENDOR,
            id,
            "System Log event without a readable time skipped"
        );
        return None;
    };
    let event_type = e.event_type.as_deref().unwrap_or_default();
    let actor = e.actor.as_ref();
    let key = actor
        .and_then(|a| text(a.alternate_id.as_deref()).or_else(|| text(a.id.as_deref())))
        .unwrap_or_default()
        .to_lowercase();
    let actor_name = actor
        .and_then(|a| text(a.display_name.as_deref()))
        .unwrap_or_else(|| key.clone());
    let client = e.client.as_ref();
    let original = e
        .debug_context
        .as_ref()
        .and_then(|d| d.debug_data.as_ref())
        .and_then(|d| d.get("originalPrincipal"))
        .is_some_and(Value::is_object);
    let objects = e
        .target
        .iter()
        .flatten()
        .filter_map(|t| {
            let name = text(t.display_name.as_deref())
                .or_else(|| text(t.alternate_id.as_deref()))
                .or_else(|| text(t.id.as_deref()))?;
            Some(ActivityObject {
                kind: object_kind(t.kind.as_deref()),
                id: text(t.id.as_deref()).unwrap_or_else(|| name.clone()),
                name,
            })
        })
        .collect();
    let address = ClientAddress::read(client.and_then(|c| c.ip_address.as_deref()));
    Some(Activity {
        id,
        app: AppKind::Okta,
        instance,
        time: time.with_timezone(&Utc).timestamp_micros(),
        actor: key,
        actor_name,
        activity_type: clean(event_type),
        action_type: action_type(event_type).to_owned(),
        objects,
        admin: is_admin(event_type),
        impersonated: original
            || event_type
                .to_ascii_lowercase()
                .starts_with("user.session.impersonation"),
        succeeded: !e
            .outcome
            .and_then(|o| o.result)
            .is_some_and(|r| matches!(r.trim().to_ascii_uppercase().as_str(), "FAILURE" | "DENY")),
        ip: address.ip,
        address_text: address.text,
        // Okta sends the country's English name ("United Kingdom").
        country: client
            .and_then(|c| c.geographical_context.as_ref())
            .and_then(|g| g.country.as_deref())
            .and_then(crate::domain::country::code_of),
        isp: e
            .security_context
            .and_then(|s| s.isp)
            .and_then(|i| text(Some(&i))),
        device_type: client.and_then(|c| text(c.device.as_deref())),
        user_agent: client
            .and_then(|c| c.user_agent.as_ref())
            .and_then(|u| text(u.raw_user_agent.as_deref())),
        source: SOURCE.to_owned(),
        groups: Vec::new(),
        office_app: None,
    })
}

/// Okta's date-time parameters: RFC 3339 in UTC, to the millisecond.
pub(super) fn okta_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

impl Okta {
    /// A polling request from a week back.
    fn first_log_call(&self) -> Call {
        let since = okta_time(Utc::now() - BACKFILL);
        let limit = self.log_page_size.to_string();
        Call {
            url: self.url(
                &["api", "v1", "logs"],
                &[
                    ("since", &since),
                    ("sortOrder", "ASCENDING"),
                    ("limit", &limit),
                ],
            ),
            reads: Reads::Logs,
            what: "the System Log".to_owned(),
        }
    }

    pub(super) async fn read_log(
        &self,
        cursor: Option<&str>,
    ) -> Result<ActivityBatch, ConnectorError> {
        let call = match cursor.map(|c| self.follow(c)) {
            None => self.first_log_call(),
            Some(Ok(url)) => Call {
                url,
                ..self.first_log_call()
            },
            Some(Err(e)) => {
                tracing::warn!(vendor = VENDOR, error = %e, "unusable System Log cursor; reading the last week again");
                self.first_log_call()
            }
        };
        let page = self.page(&call).await?;
        let got = page.items.len();
        let activities: Vec<Activity> = page
            .items
            .into_iter()
            .filter_map(|raw| event(raw, self.instance))
            .collect();
        let (cursor, more) = match page.next {
            Some(next) => {
                // Checked now, so a link that leads elsewhere is never stored.
                self.follow(&next)?;
                (next, got > 0)
            }
            None => {
                // Polling always links on; without a link, ask the same again later.
                tracing::warn!(vendor = VENDOR, "System Log answer without a next link");
                (call.url.to_string(), false)
            }
        };
        Ok(ActivityBatch {
            activities,
            cursor,
            more,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn event(v: Value, instance: InstanceId) -> Option<Activity> {
        super::event(serde_json::value::to_raw_value(&v).expect("JSON"), instance)
    }

    #[test]
    fn event_types_map_to_the_fixed_action_types() {
        for (event, want) in [
            ("user.session.start", "sign-in"),
            ("user.authentication.sso", "sign-in"),
            ("user.session.end", "sign-out"),
            ("user.account.update_password", "password-change"),
            ("user.account.reset_password", "password-reset"),
            ("group.user_membership.add", "member-add"),
            ("group.user_membership.remove", "member-remove"),
            ("user.account.privilege.grant", "role-change"),
            ("group.privilege.revoke", "role-change"),
            ("application.user_membership.add", "permission-change"),
            ("user.lifecycle.create", "create"),
            ("group.lifecycle.delete", "delete"),
            ("user.lifecycle.delete.initiated", "delete"),
            ("user.lifecycle.suspend", "edit"),
            ("application.lifecycle.update", "edit"),
            ("user.authentication.auth_via_mfa", "other"),
            ("something.new", "other"),
        ] {
            assert_eq!(action_type(event), want, "{event}");
            assert!(crate::domain::activity::ACTION_TYPES.contains(&want));
        }
    }

    #[test]
    fn admin_events_are_marked() {
        for admin in [
            "user.lifecycle.suspend",
            "group.user_membership.add",
            "user.account.privilege.grant",
            "application.lifecycle.update",
            "policy.rule.update",
            "user.session.access_admin_app",
        ] {
            assert!(is_admin(admin), "{admin}");
        }
        for own in [
            "user.session.start",
            "user.session.end",
            "user.authentication.sso",
            "user.account.update_password",
        ] {
            assert!(!is_admin(own), "{own}");
        }
    }

    // R-A1: every field of an event, the country name turned into its code.
    #[test]
    fn an_event_maps_field_by_field() {
        let raw = json!({
            "uuid": "f790999f-fe87-467a-9880-6982a583986c",
            "published": "2024-05-01T10:00:00.123Z",
            "eventType": "group.user_membership.add",
            "displayMessage": "Add user to group membership",
            "actor": {"id": "00u1", "type": "User", "alternateId": "Admin@Acme.com", "displayName": "Ada Admin"},
            "client": {"ipAddress": "198.51.100.7", "device": "Computer",
                       "userAgent": {"rawUserAgent": "Mozilla/5.0 (X11)", "os": "Linux", "browser": "FIREFOX"},
                       "geographicalContext": {"country": "United Kingdom", "city": "London"}},
            "outcome": {"result": "SUCCESS"},
            "securityContext": {"isp": "example isp"},
            "target": [{"id": "00u2", "type": "User", "alternateId": "bo@acme.com", "displayName": "Bo Li"},
                       {"id": "00g1", "type": "UserGroup", "displayName": "Sales"},
                       {"id": "0oa1", "type": "AppInstance", "alternateId": "Slack"}]
        });
        let a = event(raw, InstanceId(4)).unwrap();
        assert_eq!(a.id, "f790999f-fe87-467a-9880-6982a583986c");
        assert_eq!(a.app, AppKind::Okta);
        assert_eq!(a.instance, InstanceId(4));
        assert_eq!(
            a.time,
            DateTime::parse_from_rfc3339("2024-05-01T10:00:00.123Z")
                .unwrap()
                .timestamp_micros()
        );
        assert_eq!(
            (a.actor.as_str(), a.actor_name.as_str()),
            ("admin@acme.com", "Ada Admin")
        );
        assert_eq!(a.activity_type, "group.user_membership.add");
        assert_eq!(a.action_type, "member-add");
        assert!(a.admin && a.succeeded && !a.impersonated);
        assert_eq!(a.ip.as_deref(), Some("198.51.100.7"));
        assert_eq!(a.country.as_deref(), Some("GB"));
        assert_eq!(a.isp.as_deref(), Some("example isp"));
        assert_eq!(a.device_type.as_deref(), Some("Computer"));
        assert_eq!(a.user_agent.as_deref(), Some("Mozilla/5.0 (X11)"));
        assert_eq!(a.source, "Okta System Log");
        assert!(a.groups.is_empty());
        let kinds: Vec<(ObjectKind, &str, &str)> = a
            .objects
            .iter()
            .map(|o| (o.kind, o.id.as_str(), o.name.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (ObjectKind::User, "00u2", "Bo Li"),
                (ObjectKind::Group, "00g1", "Sales"),
                (ObjectKind::App, "0oa1", "Slack")
            ]
        );
    }

    #[test]
    fn failures_denials_and_impersonation() {
        let base = |result: &str| {
            json!({"uuid": "u1", "published": "2024-05-01T10:00:00Z", "eventType": "user.session.start",
                   "actor": {"id": "00u1", "type": "User"}, "outcome": {"result": result}, "target": null})
        };
        assert!(!event(base("FAILURE"), InstanceId(1)).unwrap().succeeded);
        assert!(!event(base("DENY"), InstanceId(1)).unwrap().succeeded);
        assert!(event(base("ALLOW"), InstanceId(1)).unwrap().succeeded);
        // No alternateId: the actor's id stands in.
        assert_eq!(event(base("SUCCESS"), InstanceId(1)).unwrap().actor, "00u1");
        let mut on_behalf = base("SUCCESS");
        on_behalf["debugContext"] =
            json!({"debugData": {"originalPrincipal": {"id": "00u9", "type": "User"}}});
        assert!(event(on_behalf, InstanceId(1)).unwrap().impersonated);
    }

    // issue 10: the client's address is an IP or kept apart as text.
    #[test]
    fn client_addresses_are_validated() {
        let at = |ip: &str| {
            let raw = json!({"uuid": "u1", "published": "2024-05-01T10:00:00Z", "eventType": "user.session.start",
                "actor": {"id": "00u1", "type": "User"}, "client": {"ipAddress": ip}});
            let a = event(raw, InstanceId(1)).unwrap();
            (a.ip, a.address_text)
        };
        assert_eq!(
            at("::ffff:198.51.100.9"),
            (Some("198.51.100.9".into()), None)
        );
        assert_eq!(at("localhost"), (None, Some("localhost".into())));
    }

    #[test]
    fn unreadable_events_are_skipped() {
        assert!(event(json!({"published": "2024-05-01T10:00:00Z"}), InstanceId(1)).is_none());
        assert!(event(json!({"uuid": "u1", "published": "soon"}), InstanceId(1)).is_none());
        assert!(
            event(
                json!({"uuid": "u1", "published": "2024-05-01T10:00:00Z", "target": "x"}),
                InstanceId(1)
            )
            .is_none()
        );
    }
}

/// Issue 10: the System Log event mapping, fuzzed.
#[cfg(test)]
mod props {
    use super::*;
    use crate::test_support::{check_activity, fixture, fuzz, raw};

    /// Every field the mapping reads, at any depth.
    const KEYS: &[&str] = &[
        "uuid",
        "published",
        "eventType",
        "actor",
        "client",
        "outcome",
        "target",
        "debugContext",
        "securityContext",
        "id",
        "type",
        "alternateId",
        "displayName",
        "ipAddress",
        "device",
        "userAgent",
        "rawUserAgent",
        "geographicalContext",
        "country",
        "result",
        "debugData",
        "originalPrincipal",
        "isp",
    ];

    // issue 10, DESIGN §3: any JSON shaped like an event, and the sandbox's
    // events changed, are read without a panic, the same way twice, into a
    // clean activity or none.
    #[test]
    fn events_are_read_safely() {
        let seeds = fixture("sandbox/okta-system-log.jsonl");
        let read = |r: &Value, instance| event(raw(r), instance);
        fuzz(file!(), KEYS, seeds, read, |a, instance| {
            check_activity(a, AppKind::Okta, instance)
        });
    }
}
