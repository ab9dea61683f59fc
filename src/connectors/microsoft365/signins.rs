//! Entra ID sign-ins (`/auditLogs/signIns`) as activities.

use serde::Deserialize;

use super::activities::{Feed, Seen, address, blank, has_id, parse_time, text};
use super::{VENDOR, clean};
use crate::domain::country::code_of;
use crate::domain::{ActivityObject, InstanceId, ObjectKind, user_key};

pub(super) const FEED: Feed = Feed {
    name: super::activities::SIGNINS,
    path: &["v1.0", "auditLogs", "signIns"],
    time_field: "createdDateTime",
    max_page: 1000,
    permission: "AuditLog.Read.All and Directory.Read.All",
    what: "the sign-in log",
    map,
};

/// `clientAppUsed` values of legacy protocols: they authenticate without an
/// interactive prompt yet stand for a person signing in (R-C8).
const LEGACY_CLIENTS: [&str; 14] = [
    "Exchange ActiveSync",
    "Exchange Web Services",
    "Exchange Online PowerShell",
    "IMAP4",
    "IMAP",
    "POP3",
    "POP",
    "SMTP",
    "Authenticated SMTP",
    "MAPI Over HTTP",
    "Offline Address Book",
    "Outlook Anywhere (RPC over HTTP)",
    "AutoDiscover",
    "Other clients",
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignIn {
    id: String,
    created_date_time: String,
    user_id: Option<String>,
    user_principal_name: Option<String>,
    user_display_name: Option<String>,
    app_id: Option<String>,
    app_display_name: Option<String>,
    ip_address: Option<String>,
    /// Only in newer versions of the resource; the browser stands in for it.
    user_agent: Option<String>,
    client_app_used: Option<String>,
    is_interactive: Option<bool>,
    status: Option<Status>,
    location: Option<Location>,
    device_detail: Option<DeviceDetail>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    error_code: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    country_or_region: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceDetail {
    operating_system: Option<String>,
    browser: Option<String>,
}

/// R-C8: interactive sign-ins, and legacy protocols, are activities. Graph
/// v1.0 lists only interactive ones, so a missing flag means interactive.
fn counts(s: &SignIn) -> bool {
    s.is_interactive != Some(false)
        || s.client_app_used.as_deref().is_some_and(|c| {
            LEGACY_CLIENTS
                .iter()
                .any(|l| l.eq_ignore_ascii_case(c.trim()))
        })
}

fn map(raw: serde_json::Value, instance: InstanceId) -> Option<Seen> {
    let s: SignIn = serde_json::from_value(raw)
        .inspect_err(|e| tracing::warn!(vendor = VENDOR, error = %e, "unreadable sign-in skipped"))
        .ok()?;
    let Some(time) = parse_time(&s.created_date_time) else {
        tracing::warn!(vendor = VENDOR, id = %clean(&s.id), "sign-in without a readable time skipped");
        return None;
    };
    if !counts(&s) || !has_id(&s.id, "sign-in") {
        return Some((time, None));
    }
    let succeeded = s.status.as_ref().and_then(|st| st.error_code).unwrap_or(0) == 0;
    let mut a = blank(&s.id, instance, time, "Azure AD sign-ins");
    let actor = s
        .user_principal_name
        .as_deref()
        .or(s.user_id.as_deref())
        .unwrap_or_default();
    a.actor = user_key(actor);
    a.actor_name = text(s.user_display_name.as_deref()).unwrap_or_else(|| a.actor.clone());
    a.activity_type = if succeeded { "Log on" } else { "Failed log on" }.to_owned();
    a.action_type = "sign-in".to_owned();
    a.succeeded = succeeded;
    address(&mut a, s.ip_address.as_deref());
    // The sign-in's own country: an ISO code that names a country, or none.
    a.country = s
        .location
        .as_ref()
        .and_then(|l| l.country_or_region.as_deref())
        .and_then(code_of);
    // R-A1: the operating system is the device type; the user agent is the
    // client's own string, else the browser Entra recognised in it.
    let device = s.device_detail.as_ref();
    a.device_type = text(device.and_then(|d| d.operating_system.as_deref()));
    a.user_agent =
        text(s.user_agent.as_deref()).or_else(|| text(device.and_then(|d| d.browser.as_deref())));
    if let Some(name) = text(s.app_display_name.as_deref()) {
        a.objects.push(ActivityObject {
            kind: ObjectKind::App,
            id: text(s.app_id.as_deref()).unwrap_or_else(|| name.clone()),
            name,
        });
    }
    Some((time, Some(a)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(interactive: Option<bool>, client: &str, error: i64) -> serde_json::Value {
        let mut v = json!({
            "id": "s1", "createdDateTime": "2024-05-01T10:00:00Z",
            "userPrincipalName": "Ann@Contoso.com", "userDisplayName": "Ann Lee",
            "appId": "a1", "appDisplayName": "Office 365 SharePoint Online",
            "ipAddress": "203.0.113.9", "clientAppUsed": client,
            "status": {"errorCode": error, "failureReason": "x"},
            "location": {"city": "Lyon", "countryOrRegion": "fr"},
            "deviceDetail": {"operatingSystem": "Windows 10", "browser": "Edge 120.0"}
        });
        if let Some(i) = interactive {
            v["isInteractive"] = json!(i);
        }
        v
    }

    #[test]
    fn a_sign_in_maps_to_a_log_on() {
        let (time, a) = map(record(Some(true), "Browser", 0), InstanceId(7)).unwrap();
        let a = a.unwrap();
        assert_eq!(time, parse_time("2024-05-01T10:00:00Z").unwrap());
        assert_eq!(a.instance, InstanceId(7));
        assert_eq!(a.actor, "ann@contoso.com");
        assert_eq!(a.actor_name, "Ann Lee");
        assert_eq!(
            (
                a.activity_type.as_str(),
                a.action_type.as_str(),
                a.succeeded
            ),
            ("Log on", "sign-in", true)
        );
        assert_eq!(a.ip.as_deref(), Some("203.0.113.9"));
        assert_eq!(a.country.as_deref(), Some("FR"));
        assert_eq!(a.device_type.as_deref(), Some("Windows 10"));
        assert_eq!(a.user_agent.as_deref(), Some("Edge 120.0"));
        assert_eq!(a.source, "Azure AD sign-ins");
        assert_eq!(
            a.objects,
            vec![ActivityObject {
                kind: ObjectKind::App,
                id: "a1".into(),
                name: "Office 365 SharePoint Online".into()
            }]
        );
    }

    #[test]
    fn a_failed_sign_in_is_a_failed_log_on() {
        let a = map(record(Some(true), "Browser", 50126), InstanceId(1))
            .unwrap()
            .1
            .unwrap();
        assert_eq!(
            (a.activity_type.as_str(), a.succeeded),
            ("Failed log on", false)
        );
    }

    // R-C8: non-interactive sign-ins are dropped, legacy protocols kept.
    #[test]
    fn only_interactive_and_legacy_sign_ins_count() {
        let dropped = map(
            record(Some(false), "Mobile Apps and Desktop clients", 0),
            InstanceId(1),
        )
        .unwrap();
        assert!(dropped.1.is_none(), "still advances the high-water mark");
        assert!(
            map(record(Some(false), "IMAP4", 0), InstanceId(1))
                .unwrap()
                .1
                .is_some()
        );
        assert!(
            map(record(Some(false), "exchange activesync", 0), InstanceId(1))
                .unwrap()
                .1
                .is_some()
        );
        assert!(
            map(record(None, "Browser", 0), InstanceId(1))
                .unwrap()
                .1
                .is_some()
        );
    }

    // issue 10, R-A1: the sign-in's own country is kept as a code that names
    // a country; the client's user agent, when given, is the agent; an
    // address that is not an IP is kept apart.
    #[test]
    fn location_agent_and_address() {
        let at = |country: &str| {
            let mut r = record(Some(true), "Browser", 0);
            r["location"]["countryOrRegion"] = json!(country);
            map(r, InstanceId(1)).unwrap().1.unwrap().country
        };
        assert_eq!(at(" us "), Some("US".into()));
        assert_eq!(at("ZZ"), None);
        assert_eq!(at(""), None);
        let mut r = record(Some(true), "Browser", 0);
        r["userAgent"] = json!("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/120.0");
        r["ipAddress"] = json!("[2001:db8::7]:443");
        let a = map(r, InstanceId(1)).unwrap().1.unwrap();
        assert_eq!(
            a.user_agent.as_deref(),
            Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/120.0")
        );
        assert_eq!(a.device_type.as_deref(), Some("Windows 10"));
        assert_eq!(a.ip.as_deref(), Some("2001:db8::7"));
        let mut r = record(Some(true), "Browser", 0);
        r["ipAddress"] = json!("proxy.contoso.com");
        let a = map(r, InstanceId(1)).unwrap().1.unwrap();
        assert_eq!(
            (a.ip, a.address_text.as_deref()),
            (None, Some("proxy.contoso.com"))
        );
    }

    // R-A1, issue 10: records are told apart by their id (the store drops
    // repeats by it), so a sign-in without one is not kept, yet its time
    // still counts (found by fuzzing the mapping).
    #[test]
    fn sign_ins_without_an_id_are_not_kept() {
        for id in ["", " "] {
            let mut r = record(Some(true), "Browser", 0);
            r["id"] = json!(id);
            let (time, a) = map(r, InstanceId(1)).expect("a readable time");
            assert_eq!(time, parse_time("2024-05-01T10:00:00Z").unwrap());
            assert!(a.is_none(), "{id:?}");
        }
    }

    // R-G6, issue 10: the actor is keyed as accounts are, control
    // characters and all (found by fuzzing).
    #[test]
    fn the_actor_is_an_account_key() {
        let mut r = record(Some(true), "Browser", 0);
        r["userPrincipalName"] = json!("Ann\u{1}@Contoso.com");
        let a = map(r, InstanceId(1)).unwrap().1.unwrap();
        assert_eq!(a.actor, "ann^a@contoso.com");
    }

    #[test]
    fn unreadable_records_are_skipped() {
        assert!(map(json!({"id": "x"}), InstanceId(1)).is_none());
        assert!(map(json!({"id": "x", "createdDateTime": "soon"}), InstanceId(1)).is_none());
    }
}
