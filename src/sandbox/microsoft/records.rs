//! Activity records in Microsoft's shapes: Entra sign-ins, directory audits
//! and Office 365 Management Activity API records. Each generated record is
//! a pure function of (seed, stream, n) and the organisation.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::sandbox::activity::{Item, PushedActivity, Stream, Timeline, ms_to_time};
use crate::sandbox::org::{GroupKind, Org, PARTNER_DOMAINS, User, VOCABULARY, address};

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
fn place(rng: &mut ChaCha8Rng, user_index: usize, home: usize) -> (usize, String) {
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

const DEVICES: &[(&str, &str, &str)] = &[
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
fn outsider(org: &Org, rng: &mut ChaCha8Rng) -> String {
    let u = &org.users[rng.random_range(0..org.users.len())];
    let domain = PARTNER_DOMAINS[rng.random_range(0..PARTNER_DOMAINS.len())];
    format!(
        "{}.{}@{domain}",
        u.given_name.to_ascii_lowercase(),
        u.surname.to_ascii_lowercase()
    )
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// The user a pushed activity names, if it is in the directory.
fn find_user<'a>(org: &'a Org, actor: &str) -> Option<&'a User> {
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

fn user_target(u: &User) -> Value {
    json!({"id": u.id.to_string(), "displayName": u.display_name, "type": "User",
           "userPrincipalName": u.user_principal_name, "groupType": null, "modifiedProperties": []})
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
    let mut targets = vec![user_target(target_user)];
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

/// The Management API content type a stream is served as.
pub fn content_type(stream: Stream) -> Option<&'static str> {
    match stream {
        Stream::SharePoint => Some("Audit.SharePoint"),
        Stream::Exchange => Some("Audit.Exchange"),
        Stream::General => Some("Audit.General"),
        Stream::AzureActiveDirectory => Some("Audit.AzureActiveDirectory"),
        _ => None,
    }
}

pub fn stream_of(content_type: &str) -> Option<Stream> {
    Stream::MICROSOFT
        .into_iter()
        .find(|&s| self::content_type(s).is_some_and(|c| c.eq_ignore_ascii_case(content_type)))
}

const FILES: &[&str] = &[
    "Q3 Budget.xlsx",
    "Roadmap 2025.pptx",
    "Board Deck.pptx",
    "Offer Letter Template.docx",
    "Customer List.xlsx",
    "Architecture Overview.docx",
    "Pricing Model.xlsx",
    "Contract - Fabrikam.pdf",
    "Security Review.docx",
    "Team Offsite Agenda.docx",
    "Headcount Plan.xlsx",
    "Release Notes.md",
    "Vendor Assessment.xlsx",
    "Brand Guidelines.pdf",
    "Incident Postmortem.docx",
    "Sales Forecast.xlsx",
    "Payroll Export.csv",
    "Design Mockups.fig",
    "Onboarding Checklist.docx",
    "Expense Report.xlsx",
];

/// (Operation, weight).
const FILE_OPERATIONS: &[(&str, u32)] = &[
    ("FileAccessed", 40),
    ("FileDownloaded", 15),
    ("FileModified", 14),
    ("FileUploaded", 9),
    ("FilePreviewed", 7),
    ("SharingSet", 5),
    ("SharingInvitationCreated", 3),
    ("AnonymousLinkCreated", 2),
    ("FileDeleted", 3),
    ("FolderCreated", 2),
];

const EXCHANGE_OPERATIONS: &[(&str, u32, u32)] = &[
    ("MailItemsAccessed", 50, 2),
    ("Send", 25, 2),
    ("MoveToDeletedItems", 10, 2),
    ("SoftDelete", 6, 2),
    ("HardDelete", 3, 2),
    ("New-InboxRule", 3, 1),
    ("Set-Mailbox", 2, 1),
    ("Add-MailboxPermission", 1, 1),
];

const GENERAL_OPERATIONS: &[&str] = &[
    "TeamsSessionStarted",
    "MemberAdded",
    "ChannelAdded",
    "TeamCreated",
    "MessageSent",
    "MeetingDetail",
];

fn weighted<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T], weight: impl Fn(&T) -> u32) -> &'a T {
    let total: u32 = items.iter().map(&weight).sum();
    let mut pick = rng.random_range(0..total.max(1));
    for item in items {
        let w = weight(item);
        if pick < w {
            return item;
        }
        pick -= w;
    }
    &items[0]
}

/// One Management Activity API record.
pub fn office_record(timeline: &Timeline, org: &Org, stream: Stream, item: Item, ms: i64) -> Value {
    let id = timeline.id(stream, item);
    let mut rng = timeline.rng(stream, id.as_u128() as u64);
    let pushed: Option<PushedActivity> = match item {
        Item::Pushed(k) => timeline.pushed(stream, k),
        Item::Generated(_) => None,
    };
    let mut user_index = rng.random_range(0..org.users.len());
    if stream == Stream::Exchange {
        // Guests have no mailbox here: the next employee's is used instead.
        user_index = (0..org.users.len())
            .map(|step| (user_index + step) % org.users.len())
            .find(|&i| !org.users[i].guest)
            .unwrap_or(user_index);
    }
    let u = &org.users[user_index];
    // Some activity comes from people outside the directory altogether.
    let stranger = stream == Stream::SharePoint && rng.random_bool(0.03);
    let mut user_id = if stranger {
        outsider(org, &mut rng)
    } else {
        u.user_principal_name.clone()
    };
    let (_, ip) = place(&mut rng, user_index, u.country);
    let (_, _, agent) = *pick(&mut rng, DEVICES);
    let mut ip = ip;
    let mut success = !rng.random_bool(0.02);
    let mut operation_override = None;
    let mut object_override = None;
    if let Some(p) = &pushed {
        user_id = p.actor.clone();
        ip = p.ip.clone();
        success = p.success;
        operation_override = Some(p.operation.clone());
        object_override = p.object.clone();
    }
    let user_type = if org
        .roles
        .iter()
        .any(|r| r.members.contains(&(user_index as u32)))
        && !stranger
        && pushed.is_none()
    {
        2
    } else {
        0
    };
    let mut record = json!({
        "Id": id.to_string(),
        "CreationTime": office_time(ms),
        "OrganizationId": org.tenant_id.to_string(),
        "UserType": user_type,
        "UserKey": if stranger || pushed.is_some() { user_id.clone() } else { u.id.to_string() },
        "UserId": user_id,
        "ClientIP": ip,
        "UserAgent": agent,
        "ResultStatus": if success { "Succeeded" } else { "Failed" },
        "Version": 1,
    });
    let fields: Value = match stream {
        Stream::SharePoint => {
            let (operation, _) = *weighted(&mut rng, FILE_OPERATIONS, |o| o.1);
            let file = *pick(&mut rng, FILES);
            // A pushed activity is on its actor's team site, so that a test
            // knows its Workload; the draw is made anyway to keep the rest of
            // the record as it was.
            let onedrive = rng.random_bool(0.3) && pushed.is_none();
            let site = if onedrive {
                format!(
                    "https://contoso-my.sharepoint.com/personal/{}/",
                    u.user_principal_name
                        .replace(['.', '@', '#'], "_")
                        .to_lowercase()
                )
            } else {
                format!(
                    "https://contoso.sharepoint.com/sites/{}/",
                    VOCABULARY.departments[u.department].name.replace(' ', "")
                )
            };
            let folder = if onedrive {
                "Documents"
            } else {
                "Shared Documents"
            };
            let file = object_override.clone().unwrap_or_else(|| file.to_string());
            json!({
                "RecordType": 6,
                "Operation": operation_override.clone().unwrap_or_else(|| operation.to_string()),
                "Workload": if onedrive { "OneDrive" } else { "SharePoint" },
                "ObjectId": format!("{site}{folder}/{file}"),
                "SiteUrl": site,
                "SourceRelativeUrl": folder,
                "SourceFileName": file,
                "SourceFileExtension": file.rsplit('.').next().unwrap_or_default(),
                "ItemType": "File",
                "EventSource": "SharePoint",
            })
        }
        Stream::Exchange => {
            let &(operation, _, record_type) = weighted(&mut rng, EXCHANGE_OPERATIONS, |o| o.1);
            json!({
                "RecordType": record_type,
                "Operation": operation_override.clone().unwrap_or_else(|| operation.to_string()),
                "Workload": "Exchange",
                "ObjectId": object_override.clone().unwrap_or_else(|| format!("{}\\Inbox", u.user_principal_name)),
                "MailboxOwnerUPN": u.user_principal_name,
                "MailboxGuid": Uuid::from_u128(u.id.as_u128().rotate_left(9)).to_string(),
                "LogonType": 0,
            })
        }
        Stream::General => {
            let operation = *pick(&mut rng, GENERAL_OPERATIONS);
            // Teams live on Microsoft 365 groups.
            let teams: Vec<&str> = org
                .groups
                .iter()
                .filter(|g| g.kind == GroupKind::Unified)
                .map(|g| g.display_name.as_str())
                .collect();
            let team = match teams.as_slice() {
                [] => "Contoso".to_string(),
                _ => pick(&mut rng, &teams).to_string(),
            };
            json!({
                "RecordType": 25,
                "Operation": operation_override.clone().unwrap_or_else(|| operation.to_string()),
                "Workload": "MicrosoftTeams",
                "ObjectId": object_override.clone().unwrap_or_else(|| team.clone()),
                "TeamName": team,
            })
        }
        // Entra ID's own streams, and (never asked) the other vendors'.
        _ => {
            let logon = rng.random_bool(0.8);
            let operation = if !logon {
                *pick(
                    &mut rng,
                    &[
                        "Add member to group.",
                        "Update user.",
                        "Reset user password.",
                    ],
                )
            } else if success {
                "UserLoggedIn"
            } else {
                "UserLoginFailed"
            };
            json!({
                "RecordType": if logon { 15 } else { 8 },
                "Operation": operation_override.clone().unwrap_or_else(|| operation.to_string()),
                "Workload": "AzureActiveDirectory",
                "ObjectId": object_override.clone().unwrap_or_else(|| "Unknown".to_string()),
                "AzureActiveDirectoryEventType": if logon { 1 } else { 0 },
            })
        }
    };
    if let (Value::Object(r), Value::Object(f)) = (&mut record, fields) {
        r.extend(f);
        if stream == Stream::AzureActiveDirectory {
            r.insert(
                "ResultStatus".into(),
                Value::from(if success { "Success" } else { "Failed" }),
            );
        }
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::SandboxConfig;

    fn workloads(timeline: &Timeline, org: &Org, stream: Stream) -> Vec<(String, String)> {
        (0..200)
            .map(|n| {
                let r = office_record(timeline, org, stream, Item::Generated(n), 0);
                let field = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
                (field("Workload"), field("SiteUrl"))
            })
            .collect()
    }

    // R-G10: each content type's records name the workload they come from:
    // files in SharePoint team sites or OneDrive personal sites, mail in
    // Exchange, Audit.General in Teams; a pushed file activity is SharePoint.
    #[test]
    fn records_name_their_workload() {
        let config = SandboxConfig::default();
        let org = Org::generate(config.seed, 60);
        let timeline = Timeline::new(&config, Utc::now());

        let files = workloads(&timeline, &org, Stream::SharePoint);
        for (workload, site) in &files {
            let personal = site.contains("-my.sharepoint.com/personal/");
            let want = if personal { "OneDrive" } else { "SharePoint" };
            assert_eq!(workload, want, "{site}");
        }
        for want in ["SharePoint", "OneDrive"] {
            assert!(files.iter().any(|(w, _)| w == want), "no {want} record");
        }
        for (stream, want) in [
            (Stream::Exchange, "Exchange"),
            (Stream::General, "MicrosoftTeams"),
        ] {
            assert!(
                workloads(&timeline, &org, stream)
                    .iter()
                    .all(|(w, _)| w == want),
                "{stream:?}"
            );
        }

        for k in 0..20 {
            let mut p =
                PushedActivity::new(Stream::SharePoint, "ann@contoso.com", "FileDownloaded");
            p.object = Some(format!("f{k}.docx"));
            timeline.push(p);
        }
        for k in 0..20 {
            let r = office_record(&timeline, &org, Stream::SharePoint, Item::Pushed(k), 0);
            assert_eq!(r["Workload"], "SharePoint", "{r}");
        }
    }
}
