//! The Reports API's activity streams (`admin/reports/v1/activity/users/all/
//! applications/{application}`): one stream per application, each read in
//! sweeps (`connectors::sweep`) because Google answers newest first.
//!
//! A Reports record holds one or more events; each event becomes one casbah
//! activity, with the record's actor, address and time.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;

use super::auth::SCOPES;
use super::directory::List;
use super::{GoogleWorkspace, VENDOR, clean};
use crate::connectors::http::{RawRecord, read_record};
use crate::connectors::sweep::Sweep;
use crate::connectors::{ActivityBatch, ConnectorError};
use crate::domain::ip::ClientAddress;
use crate::domain::{Activity, ActivityObject, AppKind, InstanceId, ObjectKind, user_key};

/// The applications read, each its own stream (and cursor).
pub(super) const STREAMS: [&str; 4] = ["login", "admin", "drive", "token"];

/// The Reports API's largest page (`maxResults` 1..=1000), also the largest
/// of any Admin SDK list.
pub(super) const MAX_PAGE: u32 = 1000;

const AUDIT_SCOPE: &str = SCOPES[3];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    id: RecordId,
    #[serde(default)]
    actor: Actor,
    ip_address: Option<String>,
    network_info: Option<NetworkInfo>,
    #[serde(default)]
    events: Vec<Event>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecordId {
    time: String,
    unique_qualifier: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Actor {
    email: Option<String>,
    /// Present when the caller is an API key or robot rather than a person.
    key: Option<String>,
    application_info: Option<ApplicationInfo>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationInfo {
    application_name: Option<String>,
    #[serde(default)]
    impersonation: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NetworkInfo {
    region_code: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Event {
    name: Option<String>,
    #[serde(default)]
    parameters: Vec<Parameter>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Parameter {
    name: String,
    value: Option<String>,
    int_value: Option<String>,
    bool_value: Option<bool>,
    #[serde(default)]
    multi_value: Vec<String>,
}

impl Parameter {
    fn text(&self) -> Option<String> {
        self.value
            .clone()
            .or_else(|| self.int_value.clone())
            .or_else(|| self.bool_value.map(|b| b.to_string()))
            .or_else(|| self.multi_value.first().cloned())
            .filter(|v| !v.trim().is_empty())
    }
}

/// R-A1: the normalised action of an event of `application`.
pub(super) fn action_type(application: &str, event: &str) -> &'static str {
    let e = event.to_ascii_lowercase();
    match application {
        "login" => match e.as_str() {
            "login_success" | "login_failure" => "sign-in",
            s if s.starts_with("suspicious_") && s.contains("login") => "sign-in",
            "logout" => "sign-out",
            "password_edit" => "password-change",
            _ => "other",
        },
        "drive" => match e.as_str() {
            "download" => "download",
            "upload" => "upload",
            "view" | "preview" => "view",
            "edit" | "rename" | "move" | "add_to_folder" | "remove_from_folder" | "untrash" => {
                "edit"
            }
            "create" | "copy" => "create",
            "delete" | "trash" => "delete",
            "change_user_access"
            | "change_document_access_scope"
            | "change_document_visibility"
            | "change_acl_editors"
            | "shared_drive_membership_change" => "share",
            _ => "other",
        },
        "token" => match e.as_str() {
            "authorize" | "revoke" => "permission-change",
            _ => "other",
        },
        "admin" => admin_action(&e),
        _ => "other",
    }
}

/// Admin console events (`CHANGE_PASSWORD`, `ADD_GROUP_MEMBER`, …), by
/// Google's naming conventions.
fn admin_action(e: &str) -> &'static str {
    match e {
        // An administrator setting another account's password.
        "change_password" => "password-reset",
        "add_group_member" => "member-add",
        "remove_group_member" => "member-remove",
        "authorize_api_client_access" | "remove_api_client_access" => "permission-change",
        _ if e.contains("role") || e.contains("admin_privilege") => "role-change",
        _ if e.starts_with("create_") => "create",
        _ if e.starts_with("delete_") => "delete",
        _ if [
            "change_",
            "rename_",
            "update_",
            "suspend_",
            "unsuspend_",
            "archive_",
            "unarchive_",
            "toggle_",
        ]
        .iter()
        .any(|p| e.starts_with(p)) =>
        {
            "edit"
        }
        _ => "other",
    }
}

/// What an event acted on, from its parameters.
fn objects(params: &[Parameter]) -> Vec<ActivityObject> {
    let get = |name: &str| {
        params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .and_then(Parameter::text)
    };
    let mut out = Vec::new();
    let mut push = |kind, id: Option<String>, name: Option<String>| {
        if let Some(name) = name.clone().or_else(|| id.clone()) {
            out.push(ActivityObject {
                kind,
                id: clean(&id.unwrap_or_else(|| name.clone())),
                name: clean(&name),
            });
        }
    };
    let folder = get("doc_type").is_some_and(|t| t.eq_ignore_ascii_case("folder"));
    push(
        if folder {
            ObjectKind::Folder
        } else {
            ObjectKind::File
        },
        get("doc_id"),
        get("doc_title"),
    );
    push(ObjectKind::Group, None, get("GROUP_EMAIL"));
    push(ObjectKind::User, None, get("USER_EMAIL"));
    // Drive's sharing events name the person given access.
    push(ObjectKind::User, None, get("target_user"));
    push(ObjectKind::App, get("client_id"), get("app_name"));
    out
}

/// The record's activities, one per event, and its time; `None` for a
/// record that cannot be read.
fn map(
    raw: RawRecord,
    application: &str,
    instance: InstanceId,
) -> Option<(DateTime<Utc>, Vec<Activity>)> {
    let r: Record = read_record(VENDOR, application, &raw)?;
    let Some(time) = DateTime::parse_from_rfc3339(&r.id.time)
        .ok()
        .map(|t| t.with_timezone(&Utc))
    else {
        tracing::warn!(
            vendor = VENDOR,
            application,
            "activity without a readable time skipped"
        );
        return None;
    };
    let qualifier = r.id.unique_qualifier.as_deref().unwrap_or("0");
    let app_info = r.actor.application_info.as_ref();
    let actor = r
        .actor
        .email
        .as_deref()
        .or(r.actor.key.as_deref())
        .or(app_info.and_then(|a| a.application_name.as_deref()))
        .map(str::trim)
        .unwrap_or_default();
    let actor = user_key(actor);
    let country = r
        .network_info
        .as_ref()
        .and_then(|n| n.region_code.as_deref())
        .and_then(crate::domain::country::code_of);
    let address = ClientAddress::read(r.ip_address.as_deref());
    let activities = r
        .events
        .iter()
        .enumerate()
        .map(|(i, event)| {
            let name = event.name.as_deref().unwrap_or_default();
            Activity {
                // The qualifier is unique among records of the same time.
                id: clean(&format!(
                    "{application}:{}:{qualifier}:{i}",
                    time.timestamp_millis()
                )),
                app: AppKind::GoogleWorkspace,
                instance,
                time: time.timestamp_micros(),
                actor: actor.clone(),
                actor_name: actor.clone(),
                activity_type: clean(name),
                action_type: action_type(application, name).to_owned(),
                objects: objects(&event.parameters),
                admin: application == "admin",
                impersonated: app_info.is_some_and(|a| a.impersonation),
                succeeded: !(application == "login" && name.eq_ignore_ascii_case("login_failure")),
                ip: address.ip.clone(),
                address_text: address.text.clone(),
                country: country.clone(),
                isp: None,
                device_type: None,
                user_agent: None,
                source: format!("Google Workspace {application}"),
                groups: Vec::new(),
                office_app: None,
            }
        })
        .collect();
    Some((time, activities))
}

/// The Reports API's RFC 3339 form, to the millisecond: flooring widens the
/// window slightly, never narrows it.
fn start_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The next batch of a stream: one page of its application's report.
pub(super) async fn read(
    g: &GoogleWorkspace,
    stream: &str,
    cursor: Option<&str>,
) -> Result<ActivityBatch, ConnectorError> {
    let Some(application) = STREAMS.iter().copied().find(|s| *s == stream) else {
        return Err(ConnectorError::NotFound {
            vendor: VENDOR,
            what: format!("activity stream {}", clean(stream)),
        });
    };
    let mut state = Sweep::resume(cursor, VENDOR, application);
    let state_since = state.since;
    let list = |since: DateTime<Utc>| List {
        path: vec![
            "admin",
            "reports",
            "v1",
            "activity",
            "users",
            "all",
            "applications",
            application,
        ],
        query: vec![
            ("customerId", g.customer.clone()),
            ("startTime", start_time(since)),
            ("maxResults", g.page(MAX_PAGE)),
        ],
        field: "items",
        scope: AUDIT_SCOPE,
        what: format!("the {application} activity report"),
    };
    let list = &list;
    let page = state
        .page(
            VENDOR,
            application,
            |since| async move { g.page_of(&list(since), None).await },
            |token| async move { g.page_of(&list(state_since), Some(&token)).await },
        )
        .await?;
    let records = page
        .items
        .into_iter()
        .filter_map(|raw| map(raw, application, g.instance));
    Ok(state.batch(records, page.next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::activity::ACTION_TYPES;
    use serde_json::{Value, json};

    fn map(
        v: Value,
        application: &str,
        instance: InstanceId,
    ) -> Option<(DateTime<Utc>, Vec<Activity>)> {
        super::map(
            serde_json::value::to_raw_value(&v).expect("JSON"),
            application,
            instance,
        )
    }

    #[test]
    fn event_names_map_to_the_fixed_action_types() {
        for (app, name, want) in [
            ("login", "login_success", "sign-in"),
            ("login", "login_failure", "sign-in"),
            ("login", "logout", "sign-out"),
            ("login", "password_edit", "password-change"),
            ("drive", "download", "download"),
            ("drive", "view", "view"),
            ("drive", "edit", "edit"),
            ("drive", "create", "create"),
            ("drive", "delete", "delete"),
            ("drive", "change_user_access", "share"),
            ("admin", "CHANGE_PASSWORD", "password-reset"),
            ("admin", "ADD_GROUP_MEMBER", "member-add"),
            ("admin", "REMOVE_GROUP_MEMBER", "member-remove"),
            ("admin", "ASSIGN_ROLE", "role-change"),
            ("admin", "GRANT_ADMIN_PRIVILEGE", "role-change"),
            ("admin", "CREATE_USER", "create"),
            ("admin", "DELETE_GROUP", "delete"),
            ("admin", "SUSPEND_USER", "edit"),
            ("admin", "SOMETHING_NEW", "other"),
            ("token", "authorize", "permission-change"),
            ("token", "revoke", "permission-change"),
            ("token", "request", "other"),
        ] {
            assert_eq!(action_type(app, name), want, "{app} {name}");
            assert!(ACTION_TYPES.contains(&want));
        }
    }

    // R-A1: one activity per event, each with the record's actor, address and time.
    #[test]
    fn a_record_becomes_one_activity_per_event() {
        let raw = json!({"kind": "admin#reports#activity",
        "id": {"time": "2024-01-02T03:04:05.678Z", "uniqueQualifier": "-42", "applicationName": "drive", "customerId": "C01"},
        "actor": {"email": "Ann@Contoso.com", "profileId": "1", "callerType": "USER",
                  "applicationInfo": {"applicationName": "Sync", "impersonation": true}},
        "ipAddress": "198.51.100.4", "networkInfo": {"regionCode": "JP"},
        "events": [
            {"type": "access", "name": "download", "parameters": [
                {"name": "doc_id", "value": "d1"}, {"name": "doc_title", "value": "Plan.xlsx"},
                {"name": "doc_type", "value": "spreadsheet"}]},
            {"type": "acl_change", "name": "change_user_access", "parameters": [
                {"name": "doc_id", "value": "f1"}, {"name": "doc_title", "value": "Team"},
                {"name": "doc_type", "value": "folder"}, {"name": "target_user", "value": "bob@x.com"}]}
        ]});
        let (time, acts) = map(raw, "drive", InstanceId(3)).unwrap();
        assert_eq!(time.timestamp_millis(), 1_704_164_645_678);
        assert_eq!(acts.len(), 2);
        assert_ne!(acts[0].id, acts[1].id);
        let a = &acts[0];
        assert_eq!(
            (a.actor.as_str(), a.ip.as_deref(), a.country.as_deref()),
            ("ann@contoso.com", Some("198.51.100.4"), Some("JP"))
        );
        assert!(a.impersonated && a.succeeded && !a.admin);
        assert_eq!(a.source, "Google Workspace drive");
        assert_eq!(a.objects[0].kind, ObjectKind::File);
        assert_eq!(
            (a.objects[0].id.as_str(), a.objects[0].name.as_str()),
            ("d1", "Plan.xlsx")
        );
        let share = &acts[1];
        assert_eq!(share.action_type, "share");
        assert_eq!(share.objects[0].kind, ObjectKind::Folder);
        assert_eq!(share.objects[1].kind, ObjectKind::User);
    }

    #[test]
    fn failed_logins_and_admin_events() {
        let login = json!({"id": {"time": "2024-01-02T03:04:05Z", "uniqueQualifier": "1"},
            "actor": {"email": "a@x.com"}, "events": [{"name": "login_failure"}]});
        let (_, acts) = map(login, "login", InstanceId(1)).unwrap();
        assert!(!acts[0].succeeded);
        assert_eq!(acts[0].action_type, "sign-in");
        let admin = json!({"id": {"time": "2024-01-02T03:04:05Z", "uniqueQualifier": "2"},
            "actor": {"email": "root@x.com"}, "events": [{"name": "ADD_GROUP_MEMBER",
            "parameters": [{"name": "USER_EMAIL", "value": "b@x.com"}, {"name": "GROUP_EMAIL", "value": "sales@x.com"}]}]});
        let (_, acts) = map(admin, "admin", InstanceId(1)).unwrap();
        assert!(acts[0].admin);
        let kinds: Vec<ObjectKind> = acts[0].objects.iter().map(|o| o.kind).collect();
        assert_eq!(kinds, [ObjectKind::Group, ObjectKind::User]);
        let token = json!({"id": {"time": "2024-01-02T03:04:05Z", "uniqueQualifier": "3"},
            "actor": {"email": "c@x.com"}, "events": [{"name": "authorize",
            "parameters": [{"name": "app_name", "value": "Zoom"}, {"name": "client_id", "value": "123.apps"},
                           {"name": "scope", "multiValue": ["a", "b"]}]}]});
        let (_, acts) = map(token, "token", InstanceId(1)).unwrap();
        assert_eq!(
            (
                acts[0].objects[0].kind,
                acts[0].objects[0].id.as_str(),
                acts[0].objects[0].name.as_str()
            ),
            (ObjectKind::App, "123.apps", "Zoom")
        );
        assert!(map(json!({"id": {"time": "yesterday"}}), "login", InstanceId(1)).is_none());
        assert!(map(json!({"events": []}), "login", InstanceId(1)).is_none());
    }

    // issue 10: the record's address is an IP or kept apart as text.
    #[test]
    fn addresses_are_validated() {
        let at = |ip: &str| {
            let raw = json!({"id": {"time": "2024-01-02T03:04:05Z", "uniqueQualifier": "1"},
                "actor": {"email": "a@x.com"}, "ipAddress": ip, "events": [{"name": "login_success"}]});
            let (_, acts) = map(raw, "login", InstanceId(1)).unwrap();
            (acts[0].ip.clone(), acts[0].address_text.clone())
        };
        assert_eq!(at("2001:DB8::1"), (Some("2001:db8::1".into()), None));
        assert_eq!(at("proxy.x.com"), (None, Some("proxy.x.com".into())));
    }

    // R-G6, issue 10: the actor is keyed as accounts are, control
    // characters and all (found by fuzzing).
    #[test]
    fn the_actor_is_an_account_key() {
        let r = json!({"id": {"time": "2024-01-02T03:04:05Z", "uniqueQualifier": "1"},
            "actor": {"email": "Ann\u{1}@X.com"}, "events": [{"name": "login_success"}]});
        let (_, list) = map(r, "login", InstanceId(1)).unwrap();
        assert_eq!(list[0].actor, "ann^a@x.com");
    }

    #[test]
    fn start_times_are_rfc3339_to_the_millisecond() {
        let t = DateTime::parse_from_rfc3339("2024-01-02T03:04:05.678912Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(start_time(t), "2024-01-02T03:04:05.678Z");
    }
}

/// Issue 10: the Reports API record mapping, fuzzed.
#[cfg(test)]
mod props {
    use super::*;
    use crate::test_support::{check_activities, fixture, fuzz, raw};

    /// Every field the mapping reads, at any depth.
    const KEYS: &[&str] = &[
        "id",
        "time",
        "uniqueQualifier",
        "actor",
        "email",
        "key",
        "applicationInfo",
        "applicationName",
        "impersonation",
        "ipAddress",
        "networkInfo",
        "regionCode",
        "events",
        "name",
        "parameters",
        "value",
        "intValue",
        "boolValue",
        "multiValue",
    ];

    // issue 10, DESIGN §3: any JSON shaped like a report record, and the
    // sandbox's records of every application changed, are read as any
    // application's (the instance id picks which) without a panic, the same
    // way twice, into clean activities or none.
    #[test]
    fn records_are_read_safely() {
        let seeds = STREAMS
            .iter()
            .flat_map(|application| fixture(&format!("sandbox/google-{application}.jsonl")))
            .collect();
        let read = |r: &serde_json::Value, instance: InstanceId| {
            let application = STREAMS[(instance.0 % STREAMS.len() as u64) as usize];
            map(raw(r), application, instance)
        };
        fuzz(file!(), KEYS, seeds, read, |(_, list), instance| {
            check_activities(list, AppKind::GoogleWorkspace, instance)
        });
    }
}
