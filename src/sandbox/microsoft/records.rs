//! Activity records in Graph's shapes: Entra sign-ins and directory audits,
//! and what the Management API's records (`office`) share with them: where
//! people are, their devices. Each generated record is a pure function of
//! (seed, stream, n) and the organisation.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::sandbox::activity::{Item, PushedActivity, Stream, Timeline, ms_to_time};
use crate::sandbox::org::{Org, PARTNER_DOMAINS, User, VOCABULARY, address};

/// Reads an instant the way both APIs accept one: RFC 3339, or without a
/// zone (`2015-06-18T00:00`, `2015-06-18T00:00:00.5`) or a date alone, as
/// UTC. Nanoseconds since the epoch, so bounds can round either way.
pub fn parse_instant(text: &str) -> Option<i128> {
    let t = match DateTime::parse_from_rfc3339(text) {
        Ok(t) => t.with_timezone(&Utc),
        Err(_) => {
            let text = text.trim_end_matches('Z');
            ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
                .or_else(|| {
                    NaiveDate::parse_from_str(text, "%Y-%m-%d")
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                })?
                .and_utc()
        }
    };
    Some(i128::from(t.timestamp()) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos()))
}

/// Graph's timestamps: seven fractional digits and a Z.
pub fn graph_time(ms: i64) -> String {
    let t = ms_to_time(ms);
    format!(
        "{}.{:03}0000Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        ms.rem_euclid(1000)
    )
}

/// The Management API's timestamps: seconds, no zone.
pub fn office_time(ms: i64) -> String {
    ms_to_time(ms).format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Where someone signs in from: home most of the time, sometimes travelling.
pub(super) fn place(rng: &mut ChaCha8Rng, user_index: usize, home: usize) -> (usize, String) {
    if rng.random_bool(0.05) {
        let away = rng.random_range(0..VOCABULARY.countries.len());
        (away, address(away, rng.random()))
    } else {
        (home, address(home, user_index as u64 * 2_654_435_761))
    }
}

const APPS: &[(&str, &str)] = &[
    (
        "Office 365 Exchange Online",
        "00000002-0000-0ff1-ce00-000000000000",
    ),
    ("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264"),
    (
        "Office 365 SharePoint Online",
        "00000003-0000-0ff1-ce00-000000000000",
    ),
    ("Microsoft Office", "d3590ed6-52b3-4102-aeff-aad2292ab01c"),
    (
        "OneDrive SyncEngine",
        "ab9b8c07-8f02-4f72-87fa-80105867a763",
    ),
    ("Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"),
    ("My Apps", "2793995e-0a7d-40d7-bd35-6968ba142197"),
];

const FAILURES: &[(u32, &str)] = &[
    (
        50126,
        "Error validating credentials due to invalid username or password.",
    ),
    (
        50053,
        "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
    ),
    (50074, "Strong Authentication is required."),
    (
        53003,
        "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
    ),
];

pub(super) const DEVICES: &[(&str, &str, &str)] = &[
    (
        "Windows10",
        "Edge 120.0.2210",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    ),
    (
        "Windows10",
        "Chrome 120.0.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    ),
    (
        "MacOs",
        "Safari 17.1",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    ),
    (
        "MacOs",
        "Firefox 120.0",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:120.0) Gecko/20100101 Firefox/120.0",
    ),
    (
        "Ios",
        "Mobile Safari 17.1",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    ),
    (
        "Android",
        "Chrome Mobile 119.0",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36",
    ),
    (
        "Windows10",
        "Rich Client 16.0.17029",
        "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)",
    ),
];

/// Someone outside the directory, from a partner domain.
pub(super) fn outsider(org: &Org, rng: &mut ChaCha8Rng) -> String {
    let u = &org.users[rng.random_range(0..org.users.len())];
    let domain = PARTNER_DOMAINS[rng.random_range(0..PARTNER_DOMAINS.len())];
    format!(
        "{}.{}@{domain}",
        u.given_name.to_ascii_lowercase(),
        u.surname.to_ascii_lowercase()
    )
}

pub(super) fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// The user a pushed activity names, if it is in the directory.
pub(super) fn find_user<'a>(org: &'a Org, actor: &str) -> Option<&'a User> {
    org.users.iter().find(|u| {
        u.user_principal_name.eq_ignore_ascii_case(actor) || u.mail.eq_ignore_ascii_case(actor)
    })
}

/// A `signIn` resource.
pub fn sign_in(timeline: &Timeline, org: &Org, item: Item, ms: i64) -> Value {
    let id = timeline.id(Stream::SignIns, item);
    let mut rng = timeline.rng(Stream::SignIns, id.as_u128() as u64);
    let (os, browser, _) = *pick(&mut rng, DEVICES);
    let legacy = rng.random_bool(0.04);
    let client_app = if legacy {
        *pick(&mut rng, LEGACY_CLIENTS)
    } else if browser.starts_with("Rich Client") {
        "Mobile Apps and Desktop clients"
    } else {
        "Browser"
    };
    // Legacy mail protocols only ever reach Exchange.
    let (app_name, app_id) = if legacy {
        APPS[0]
    } else {
        *pick(&mut rng, APPS)
    };
    let (mut app_name, mut app_id) = (app_name.to_string(), app_id.to_string());
    let mut failure = rng.random_bool(0.07).then(|| *pick(&mut rng, FAILURES));
    // Legacy protocols cannot be interactive; token refreshes are not either.
    let mut interactive = !legacy && !rng.random_bool(0.3);
    let actor = match item {
        Item::Generated(_) => {
            let at = rng.random_range(0..org.users.len());
            let u = &org.users[at];
            if !u.account_enabled {
                failure = Some(DISABLED);
            }
            let (country, ip) = place(&mut rng, at, u.country);
            Actor::of(u, country, ip)
        }
        Item::Pushed(k) => {
            let Some(p) = timeline.pushed(Stream::SignIns, k) else {
                return Value::Null;
            };
            failure = (!p.success).then_some(FAILURES[0]);
            interactive = p.interactive;
            // An application the directory knows keeps its id; others get none.
            (app_name, app_id) = APPS
                .iter()
                .find(|a| a.0.eq_ignore_ascii_case(&p.operation))
                .map_or((p.operation.clone(), String::new()), |a| {
                    (a.0.to_string(), a.1.to_string())
                });
            Actor::pushed(org, &p)
        }
    };
    let c = &VOCABULARY.countries[actor.country];
    let city = pick(&mut rng, &c.cities);
    let (error_code, reason) =
        failure.map_or((0, Value::Null), |(code, text)| (code, Value::from(text)));
    json!({
        "id": id.to_string(),
        "createdDateTime": graph_time(ms),
        "userDisplayName": actor.name,
        "userPrincipalName": actor.upn,
        "userId": actor.id,
        "appId": app_id,
        "appDisplayName": app_name,
        "ipAddress": actor.ip,
        "clientAppUsed": client_app,
        "correlationId": Uuid::from_u128(id.as_u128().rotate_left(17)).to_string(),
        "conditionalAccessStatus": if error_code == 53003 { "failure" } else { "notApplied" },
        "isInteractive": interactive,
        "riskDetail": "none",
        "riskLevelAggregated": "none",
        "riskLevelDuringSignIn": if rng.random_bool(0.02) { "medium" } else { "none" },
        "riskState": "none",
        "riskEventTypes": [],
        "resourceDisplayName": app_name,
        "resourceId": app_id,
        "status": {"errorCode": error_code, "failureReason": reason, "additionalDetails": null},
        "deviceDetail": {
            "deviceId": "", "displayName": "", "operatingSystem": os, "browser": browser,
            "isCompliant": rng.random_bool(0.6), "isManaged": rng.random_bool(0.6), "trustType": "",
        },
        "location": {
            "city": city, "state": null, "countryOrRegion": c.code,
            "geoCoordinates": {"altitude": null, "latitude": null, "longitude": null},
        },
    })
}

const LEGACY_CLIENTS: &[&str] = &["Exchange ActiveSync", "IMAP4", "Authenticated SMTP", "POP3"];

const DISABLED: (u32, &str) = (
    50057,
    "User account is disabled. The account has been disabled by an administrator.",
);

/// Who signed in, and from where.
struct Actor {
    id: String,
    upn: String,
    name: String,
    country: usize,
    ip: String,
}

impl Actor {
    fn of(u: &User, country: usize, ip: String) -> Actor {
        Actor {
            id: u.id.to_string(),
            upn: u.user_principal_name.clone(),
            name: u.display_name.clone(),
            country,
            ip,
        }
    }

    /// A pushed actor: the directory user it names, if any, else only the
    /// address; the pushed country, else the user's home, else the first.
    fn pushed(org: &Org, p: &PushedActivity) -> Actor {
        let user = find_user(org, &p.actor);
        let country = p
            .country
            .as_deref()
            .and_then(|code| {
                VOCABULARY
                    .countries
                    .iter()
                    .position(|c| c.code.eq_ignore_ascii_case(code))
            })
            .or(user.map(|u| u.country))
            .unwrap_or(0);
        Actor {
            id: user.map(|u| u.id.to_string()).unwrap_or_default(),
            upn: p.actor.clone(),
            name: user.map_or_else(|| p.actor.clone(), |u| u.display_name.clone()),
            country,
            ip: p.ip.clone(),
        }
    }
}

/// A kind of directory change.
#[derive(Clone, Copy)]
struct AuditKind {
    category: &'static str,
    activity: &'static str,
    operation: &'static str,
    /// The change also names a group among its targets.
    group_target: bool,
}

const fn audit(
    category: &'static str,
    activity: &'static str,
    operation: &'static str,
    group_target: bool,
) -> AuditKind {
    AuditKind {
        category,
        activity,
        operation,
        group_target,
    }
}

const AUDITS: &[AuditKind] = &[
    audit("GroupManagement", "Add member to group", "Assign", true),
    audit(
        "GroupManagement",
        "Remove member from group",
        "Unassign",
        true,
    ),
    audit("GroupManagement", "Update group", "Update", true),
    audit("UserManagement", "Update user", "Update", false),
    audit("UserManagement", "Reset user password", "Update", false),
    audit("UserManagement", "Change user password", "Update", false),
    audit("UserManagement", "Disable account", "Update", false),
    audit("UserManagement", "Add user", "Add", false),
    audit("RoleManagement", "Add member to role", "Assign", false),
];

/// A user among an audit's targets. Some are written as in Graph's own
/// directoryAudit sample: `Type` for `type`, and no display name.
fn user_target(u: &User, as_in_sample: bool) -> Value {
    let mut t = json!({"id": u.id.to_string(), "displayName": u.display_name, "type": "User",
           "userPrincipalName": u.user_principal_name, "groupType": null, "modifiedProperties": []});
    if as_in_sample && let Value::Object(map) = &mut t {
        map.remove("type");
        map.insert("Type".into(), json!("User"));
        map.insert("displayName".into(), Value::Null);
    }
    t
}

/// A `directoryAudit` resource.
pub fn directory_audit(timeline: &Timeline, org: &Org, item: Item, ms: i64) -> Value {
    let id = timeline.id(Stream::DirectoryAudits, item);
    let mut rng = timeline.rng(Stream::DirectoryAudits, id.as_u128() as u64);
    let &generated = pick(&mut rng, AUDITS);
    let target_user = &org.users[rng.random_range(0..org.users.len())];
    let target_group =
        (!org.groups.is_empty()).then(|| &org.groups[rng.random_range(0..org.groups.len())]);
    let pushed = match item {
        Item::Pushed(k) => timeline.pushed(Stream::DirectoryAudits, k),
        Item::Generated(_) => None,
    };
    let (kind, success, actor, upn, ip) = match &pushed {
        Some(p) => {
            let known = AUDITS
                .iter()
                .find(|a| a.activity.eq_ignore_ascii_case(&p.operation));
            let kind = known.copied().unwrap_or(AuditKind {
                category: "Other",
                activity: "",
                operation: "Update",
                group_target: p.object.is_some(),
            });
            let actor = find_user(org, &p.actor);
            (kind, p.success, actor, p.actor.clone(), p.ip.clone())
        }
        None => {
            let actor = if generated.activity == "Change user password" {
                target_user
            } else {
                let admins: Vec<u32> = org
                    .roles
                    .iter()
                    .flat_map(|r| r.members.iter().copied())
                    .collect();
                match admins.as_slice() {
                    [] => target_user,
                    _ => &org.users[*pick(&mut rng, &admins) as usize],
                }
            };
            let success = !rng.random_bool(0.03);
            let upn = actor.user_principal_name.clone();
            (
                generated,
                success,
                Some(actor),
                upn,
                address(actor.country, 7),
            )
        }
    };
    // A pushed operation the table does not know keeps its own name.
    let activity = match (&pushed, kind.activity) {
        (Some(p), "") => p.operation.clone(),
        _ => kind.activity.to_string(),
    };
    let (category, operation, group_target) = (kind.category, kind.operation, kind.group_target);
    // From the id's bits, so that the record's random draws stay as they were.
    let as_in_sample = id.as_u128() & 1 == 1;
    let mut targets = vec![user_target(target_user, as_in_sample)];
    if group_target && let Some(g) = target_group {
        let name = pushed
            .as_ref()
            .and_then(|p| p.object.clone())
            .unwrap_or_else(|| g.display_name.clone());
        targets.push(
            json!({"id": g.id.to_string(), "displayName": name, "type": "Group",
            "userPrincipalName": null, "groupType": "unifiedGroups", "modifiedProperties": []}),
        );
    }
    let self_service = activity == "Change user password";
    json!({
        "id": format!("Directory_{}", id.simple()),
        "category": category,
        "correlationId": Uuid::from_u128(id.as_u128().rotate_left(17)).to_string(),
        "result": if success { "success" } else { "failure" },
        "resultReason": if success { "" } else { "Microsoft.Online.Workflows.ObjectNotFoundException" },
        "activityDisplayName": activity,
        "activityDateTime": graph_time(ms),
        "loggedByService": if self_service { "Self-service Password Management" } else { "Core Directory" },
        "operationType": operation,
        "initiatedBy": {"app": null, "user": {
            "id": actor.map(|u| u.id.to_string()),
            "displayName": actor.map(|u| u.display_name.clone()),
            "userPrincipalName": upn,
            "ipAddress": ip,
            "userType": null, "homeTenantId": null, "homeTenantName": null,
        }},
        "targetResources": targets,
        "additionalDetails": [],
    })
}
