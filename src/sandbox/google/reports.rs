//! The Reports API's activities
//! (`/admin/reports/v1/activity/users/{userKey}/applications/{applicationName}`):
//! newest first, a window by `startTime`/`endTime`, `maxResults` up to 1000,
//! `nextPageToken` paging, one record per timeline item holding one or more
//! events. Each generated record is a pure function of (seed, stream, n)
//! and the Workspace.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use super::directory::{Params, etag};
use super::errors::GoogleError;
use super::workspace::{Account, Workspace};
use crate::sandbox::Shared;
use crate::sandbox::activity::{Below, Item, PushedActivity, Stream, Timeline, ms_to_time};
use crate::sandbox::org::{Org, VOCABULARY};
use crate::sandbox::paging::{PageSize, decode_cursor, encode_cursor};

type Answer = Result<Json<Value>, GoogleError>;

const PAGE: PageSize = PageSize {
    default: 1000,
    max: 1000,
    cap: false,
};

/// Reports keeps 180 days; a window reaching further back starts there.
const RETENTION_MS: i64 = 180 * 24 * 3600 * 1000;

/// Applications Google reports on that the sandbox keeps no activity for:
/// they answer with an empty report, not an error.
const QUIET_APPLICATIONS: &[&str] = &[
    "access_transparency",
    "calendar",
    "chat",
    "chrome",
    "context_aware_access",
    "data_studio",
    "gcp",
    "groups",
    "groups_enterprise",
    "jamboard",
    "keep",
    "meet",
    "mobile",
    "rules",
    "saml",
    "user_accounts",
    "vault",
];

fn stream_of(application: &str) -> Option<Stream> {
    Some(match application {
        "login" => Stream::GoogleLogin,
        "admin" => Stream::GoogleAdmin,
        "drive" => Stream::GoogleDrive,
        "token" => Stream::GoogleToken,
        _ => return None,
    })
}

/// Google's record times: RFC 3339 in UTC, to the millisecond.
fn google_time(ms: i64) -> String {
    ms_to_time(ms).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn parse_time(name: &str, value: &str) -> Result<i64, GoogleError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc).timestamp_millis())
        .map_err(|_| {
            GoogleError::invalid(format!(
                "Invalid value '{value}' for {name}: not an RFC 3339 date-time."
            ))
        })
}

fn text(name: &str, value: impl Into<String>) -> Value {
    json!({"name": name, "value": value.into()})
}

fn pick<'a>(rng: &mut ChaCha8Rng, weighted: &[(&'a str, u32)]) -> &'a str {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut at = rng.random_range(0..total.max(1));
    for (name, w) in weighted {
        if at < *w {
            return name;
        }
        at -= w;
    }
    weighted[0].0
}

const DOC_TITLES: &[&str] = &[
    "Quarterly plan",
    "Budget",
    "Roadmap",
    "Team offsite",
    "Hiring pipeline",
    "Customer list",
    "Board deck",
    "Pricing",
    "Incident review",
    "Onboarding checklist",
];
const DOC_TYPES: &[(&str, &str)] = &[
    ("document", ""),
    ("spreadsheet", ""),
    ("presentation", ""),
    ("pdf", ".pdf"),
    ("folder", ""),
];
/// OAuth apps people grant access to: name and client id.
const APPS: &[(&str, &str)] = &[
    ("Slack", "28479463219-slack"),
    ("Zoom", "11893743052-zoom"),
    ("Trello", "96325874120-trello"),
    ("DocuSign", "55102938475-docusign"),
    ("Asana", "70418529637-asana"),
];

/// What a record is built from.
struct Context<'a> {
    ws: &'a Workspace,
    org: &'a Org,
}

impl Context<'_> {
    fn random_account(&self, rng: &mut ChaCha8Rng, admins_only: bool) -> Option<&Account> {
        let admins = &self.ws.admins;
        if admins_only && !admins.is_empty() {
            return Some(&self.ws.accounts[admins[rng.random_range(0..admins.len())] as usize]);
        }
        let n = self.ws.accounts.len();
        (n > 0).then(|| &self.ws.accounts[rng.random_range(0..n)])
    }

    fn home(&self, account: &Account) -> usize {
        self.org.users[account.person as usize].country
    }

    fn events(&self, stream: Stream, rng: &mut ChaCha8Rng, actor: &str) -> Vec<Value> {
        match stream {
            Stream::GoogleLogin => {
                let name = pick(
                    rng,
                    &[("login_success", 86), ("login_failure", 8), ("logout", 6)],
                );
                vec![login_event(name)]
            }
            Stream::GoogleAdmin => {
                let target = self
                    .random_account(rng, false)
                    .map(|a| a.primary_email.clone());
                let group = (!self.ws.groups.is_empty()).then(|| {
                    self.ws.groups[rng.random_range(0..self.ws.groups.len())]
                        .email
                        .clone()
                });
                let name = pick(
                    rng,
                    &[
                        ("CHANGE_PASSWORD", 3),
                        ("SUSPEND_USER", 1),
                        ("CREATE_USER", 2),
                        ("ADD_GROUP_MEMBER", 4),
                        ("REMOVE_GROUP_MEMBER", 2),
                        ("ASSIGN_ROLE", 1),
                        ("CHANGE_GROUP_SETTING", 2),
                    ],
                );
                vec![admin_event(name, target.as_deref(), group.as_deref())]
            }
            Stream::GoogleDrive => {
                let name = pick(
                    rng,
                    &[
                        ("view", 35),
                        ("edit", 20),
                        ("download", 15),
                        ("create", 8),
                        ("upload", 7),
                        ("change_user_access", 8),
                        ("delete", 4),
                        ("rename", 3),
                    ],
                );
                let (doc_type, ext) = DOC_TYPES[rng.random_range(0..DOC_TYPES.len())];
                let title = format!("{}{ext}", DOC_TITLES[rng.random_range(0..DOC_TITLES.len())]);
                let id: String = (0..33)
                    .map(|_| {
                        char::from(
                            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
                                [rng.random_range(0..64)],
                        )
                    })
                    .collect();
                if name == "change_user_access" {
                    // Sharing with two people at once: one record, two events.
                    (0..2)
                        .map(|_| {
                            let with = self
                                .random_account(rng, false)
                                .map(|a| a.primary_email.clone())
                                .unwrap_or_default();
                            let mut e = drive_event(name, &id, &title, doc_type, actor);
                            push_parameter(&mut e, text("target_user", with));
                            e
                        })
                        .collect()
                } else {
                    vec![drive_event(name, &id, &title, doc_type, actor)]
                }
            }
            _ => {
                let (app, client) = APPS[rng.random_range(0..APPS.len())];
                let name = pick(rng, &[("authorize", 7), ("revoke", 1), ("request", 2)]);
                vec![token_event(name, app, client)]
            }
        }
    }
}

fn login_event(name: &str) -> Value {
    let mut parameters = vec![
        text("login_type", "google_password"),
        json!({"name": "login_challenge_method", "multiValue": ["password"]}),
        json!({"name": "is_suspicious", "boolValue": false}),
    ];
    if name == "login_failure" {
        parameters.push(text("login_failure_type", "login_failure_invalid_password"));
    }
    let kind = if name == "logout" { "logout" } else { "login" };
    json!({"type": kind, "name": name, "parameters": parameters})
}

fn admin_event(name: &str, user: Option<&str>, group: Option<&str>) -> Value {
    let mut parameters = Vec::new();
    let kind = if name.contains("GROUP") {
        parameters.extend(group.map(|g| text("GROUP_EMAIL", g)));
        "GROUP_SETTINGS"
    } else if name.contains("ROLE") {
        parameters.push(text("ROLE_NAME", "_GROUPS_ADMIN_ROLE"));
        "DELEGATED_ADMIN_SETTINGS"
    } else {
        "USER_SETTINGS"
    };
    if name != "CHANGE_GROUP_SETTING" {
        parameters.extend(user.map(|u| text("USER_EMAIL", u)));
    }
    json!({"type": kind, "name": name, "parameters": parameters})
}

fn drive_event(name: &str, id: &str, title: &str, doc_type: &str, owner: &str) -> Value {
    let kind = if name == "change_user_access" {
        "acl_change"
    } else {
        "access"
    };
    json!({"type": kind, "name": name, "parameters": [
        text("primary_event", "true"),
        text("doc_id", id),
        text("doc_title", title),
        text("doc_type", doc_type),
        text("owner", owner),
        text("visibility", "shared_internally"),
    ]})
}

fn token_event(name: &str, app: &str, client: &str) -> Value {
    json!({"type": "auth", "name": name, "parameters": [
        text("client_id", format!("{client}.apps.googleusercontent.com")),
        text("app_name", app),
        text("client_type", "WEB"),
        json!({"name": "scope", "multiValue": ["https://www.googleapis.com/auth/userinfo.email", "openid"]}),
    ]})
}

fn push_parameter(event: &mut Value, parameter: Value) {
    if let Some(list) = event["parameters"].as_array_mut() {
        list.push(parameter);
    }
}

/// A pushed activity's events: its operation, acting on its object.
fn pushed_events(stream: Stream, p: &PushedActivity) -> Vec<Value> {
    let object = p.object.as_deref();
    vec![match stream {
        Stream::GoogleLogin => login_event(if p.success {
            p.operation.as_str()
        } else {
            "login_failure"
        }),
        Stream::GoogleAdmin => {
            let on = object.filter(|o| o.contains('@'));
            admin_event(&p.operation, on, on)
        }
        Stream::GoogleDrive => {
            let title = object.unwrap_or("Untitled document");
            let id = format!("pushed{}", etag(title).trim_matches('"').replace('/', ""));
            drive_event(&p.operation, &id, title, "document", &p.actor)
        }
        _ => {
            let app = object.unwrap_or("Unnamed app");
            let client = format!("{}-pushed", etag(app).trim_matches('"').replace('/', ""));
            token_event(&p.operation, app, &client)
        }
    }]
}

/// Who did what, from where: a record before its identity is added.
struct Draft {
    actor: String,
    country: Option<usize>,
    ip: String,
    events: Vec<Value>,
}

/// The record of one timeline item; `None` for a pushed item gone missing.
fn record(cx: &Context, timeline: &Timeline, stream: Stream, item: Item) -> Option<Draft> {
    Some(match item {
        Item::Generated(n) => {
            let mut rng = timeline.rng(stream, n);
            let account = cx.random_account(&mut rng, stream == Stream::GoogleAdmin);
            let actor = account.map_or_else(
                || format!("admin@{}", cx.ws.domains[0]),
                |a| a.primary_email.clone(),
            );
            // At home mostly; sometimes travelling.
            let home = account.map_or(0, |a| cx.home(a));
            let country = if rng.random_bool(0.05) {
                rng.random_range(0..VOCABULARY.countries.len())
            } else {
                home
            };
            let host = account.map_or(1, |a| u64::from(a.person) * 2_654_435_761);
            Draft {
                events: cx.events(stream, &mut rng, &actor),
                actor,
                country: Some(country),
                ip: crate::sandbox::org::address(country, host),
            }
        }
        Item::Pushed(k) => {
            let p = timeline.pushed(stream, k)?;
            let country = match &p.country {
                Some(code) => VOCABULARY
                    .countries
                    .iter()
                    .position(|c| c.code.eq_ignore_ascii_case(code)),
                None => cx.ws.account(&p.actor).map(|i| cx.home(&cx.ws.accounts[i])),
            };
            Draft {
                events: pushed_events(stream, &p),
                actor: p.actor,
                country,
                ip: p.ip,
            }
        }
    })
}

/// The record in Google's shape: its id (time, qualifier, application,
/// customer), actor, address and events.
fn render(cx: &Context, application: &str, qualifier: i64, ms: i64, draft: Draft) -> Value {
    let mut actor = json!({"callerType": "USER", "email": draft.actor});
    if let Some(i) = cx.ws.account(&draft.actor) {
        actor["profileId"] = Value::from(cx.ws.accounts[i].id.clone());
    }
    let mut r = json!({
        "kind": "admin#reports#activity",
        "id": {
            "time": google_time(ms),
            "uniqueQualifier": qualifier.to_string(),
            "applicationName": application,
            "customerId": cx.ws.customer_id,
        },
        "etag": etag(&format!("{application}{qualifier}")),
        "actor": actor,
        "ipAddress": draft.ip,
        "events": draft.events,
    });
    if let Some(c) = draft.country.and_then(|c| VOCABULARY.countries.get(c)) {
        r["networkInfo"] = json!({"regionCode": c.code});
    }
    r
}

/// `GET /admin/reports/v1/activity/users/{userKey}/applications/{applicationName}`.
pub(crate) async fn activities(
    State(shared): State<Arc<Shared>>,
    Path((user_key, application)): Path<(String, String)>,
    p: Params,
) -> Answer {
    let stream = stream_of(&application);
    if stream.is_none() && !QUIET_APPLICATIONS.contains(&application.as_str()) {
        return Err(GoogleError::invalid(format!(
            "Invalid value '{application}' for applicationName."
        )));
    }
    let size = p.page_size(PAGE)?;
    let now = Utc::now().timestamp_millis();
    let start = p
        .get("startTime")
        .map(|v| parse_time("startTime", v))
        .transpose()?;
    let end = p
        .get("endTime")
        .map(|v| parse_time("endTime", v))
        .transpose()?;
    if start.is_some_and(|s| s > now) {
        return Err(GoogleError::invalid(
            "Start time must be before the current time.",
        ));
    }
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return Err(GoogleError::invalid(
            "Start time must be before the end time.",
        ));
    }
    let from = start.unwrap_or(0).max(now - RETENTION_MS);
    let to = end.unwrap_or(now).min(now);
    let ws = shared.google.workspace();
    let actor = match user_key.as_str() {
        "all" => None,
        key => Some(
            ws.account(key)
                .map(|i| ws.accounts[i].primary_email.clone())
                .ok_or_else(|| {
                    GoogleError::invalid(format!("Invalid value '{key}' for userKey."))
                })?,
        ),
    };
    let event_name = p.get("eventName");
    let scope = format!(
        "{}|{}|{}|{}",
        p.path,
        p.get("startTime").unwrap_or_default(),
        p.get("endTime").unwrap_or_default(),
        event_name.unwrap_or_default()
    );
    let below = match p.get("pageToken") {
        None => None,
        Some(token) => {
            let invalid = || GoogleError::invalid("Invalid Input: pageToken");
            let position = decode_cursor(token, &scope).ok_or_else(invalid)?;
            let (g, k) = position.split_once('.').ok_or_else(invalid)?;
            Some(Below {
                generated: g.parse().map_err(|_| invalid())?,
                pushed: k.parse().map_err(|_| invalid())?,
            })
        }
    };
    let mut body = Map::new();
    body.insert("kind".into(), Value::from("admin#reports#activities"));
    body.insert("etag".into(), Value::from(etag(&scope)));
    if let Some(stream) = stream {
        let (items, next) = shared.timeline.newest_first(stream, from, to, below, size);
        let org = shared.org();
        let cx = Context { ws: &ws, org: &org };
        let records: Vec<Value> = items
            .into_iter()
            .filter_map(|(item, ms)| {
                let draft = record(&cx, &shared.timeline, stream, item)?;
                // Google's qualifier is a signed 64-bit number.
                let qualifier = shared.timeline.id(stream, item).as_u128() as u64 as i64;
                Some(render(&cx, &application, qualifier, ms, draft))
            })
            .filter(|r| actor.as_deref().is_none_or(|a| r["actor"]["email"] == a))
            .filter(|r| {
                event_name.is_none_or(|n| {
                    r["events"]
                        .as_array()
                        .is_some_and(|es| es.iter().any(|e| e["name"] == n))
                })
            })
            .collect();
        if !records.is_empty() {
            body.insert("items".into(), Value::Array(records));
        }
        if let Some(b) = next {
            let token = encode_cursor(&scope, &format!("{}.{}", b.generated, b.pushed));
            body.insert("nextPageToken".into(), Value::from(token));
        }
    }
    Ok(Json(Value::Object(body)))
}
