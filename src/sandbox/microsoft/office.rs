//! Office 365 Management Activity API records, in the field sets of
//! Microsoft's schema (office-365-management-activity-api-schema) and of the
//! samples it and the API reference publish, so that a client that reads
//! them carelessly is caught:
//!
//! - `ClientIP` in every form the service writes: bare, with a port,
//!   bracketed with a port, IPv4-mapped IPv6; `ClientRegion` the country.
//! - `ResultStatus` in each workload's words: `Succeeded`, `Failed` or
//!   `PartiallySucceeded` (or none) for files, `True`/`False` for Exchange
//!   admin cmdlets, `Success`/`success`/`failed` for Entra, Planner's numbers.
//! - Mailbox records with their folders and messages and `ClientInfoString`;
//!   Entra's STS and account logons (the outcome in `ErrorCode`, `LogonError`
//!   and `LoginStatus`, the device in `DeviceProperties`) and directory
//!   changes whose `Target` names users by UPN; DLP rule matches.
//! - Audit.General spans the other Office apps: Teams, Power BI, Yammer,
//!   Power Automate, Dynamics 365, Skype for Business, Office, Planner.
//!
//! Each generated record is a pure function of (seed, stream, n) and the
//! organisation. The choice of shape comes from the record's id, so that
//! the random draws of the rest of the record stay as they were.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use uuid::Uuid;

use super::records::{DEVICES, find_user, office_time, outsider, pick, place};
use crate::sandbox::activity::{Item, PushedActivity, Stream, Timeline};
use crate::sandbox::org::{GroupKind, Org, User, VOCABULARY};

/// The Management API content type a stream is served as.
pub fn content_type(stream: Stream) -> Option<&'static str> {
    match stream {
        Stream::SharePoint => Some("Audit.SharePoint"),
        Stream::Exchange => Some("Audit.Exchange"),
        Stream::General => Some("Audit.General"),
        Stream::AzureActiveDirectory => Some("Audit.AzureActiveDirectory"),
        Stream::Dlp => Some("DLP.All"),
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

/// (Operation, weight, RecordType): 50 ExchangeItemAggregated, 2
/// ExchangeItem, 3 ExchangeItemGroup, 1 ExchangeAdmin.
const EXCHANGE_OPERATIONS: &[(&str, u32, u32)] = &[
    ("MailItemsAccessed", 50, 50),
    ("Send", 25, 2),
    ("MoveToDeletedItems", 10, 3),
    ("SoftDelete", 6, 3),
    ("HardDelete", 3, 3),
    ("New-InboxRule", 3, 1),
    ("Set-Mailbox", 2, 1),
    ("Add-MailboxPermission", 1, 1),
];

const SUBJECTS: &[&str] = &[
    "Q3 numbers",
    "Re: offsite agenda",
    "Invoice 4471",
    "Contract draft",
    "Lunch?",
    "Fwd: security review",
];

/// Audit.General's workloads: (Workload, RecordType, weight, operations).
/// Planner's ResultStatus is a number (1 success, 2 failure).
const GENERAL_WORKLOADS: &[(&str, u32, u32, &[&str])] = &[
    (
        "MicrosoftTeams",
        25,
        40,
        &[
            "TeamsSessionStarted",
            "MemberAdded",
            "ChannelAdded",
            "TeamCreated",
            "MessageSent",
            "MeetingDetail",
        ],
    ),
    (
        "PowerBI",
        20,
        10,
        &["ViewReport", "ExportReport", "ViewDashboard"],
    ),
    ("Yammer", 22, 8, &["GroupCreation", "MessageCreated"]),
    ("MicrosoftFlow", 30, 6, &["CreateFlow", "EditFlow"]),
    ("CRM", 21, 6, &["Retrieve", "Update"]),
    ("SkypeForBusiness", 23, 4, &["Set-CsUser", "Grant-CsPolicy"]),
    ("OfficeNative", 70, 6, &["SensitivityLabelApplied"]),
    ("Planner", 190, 6, &["TaskModified", "TaskCreated"]),
];

/// Entra directory changes, as the Management API names them.
const DIRECTORY_CHANGES: &[&str] = &[
    "Add user.",
    "Add member to group.",
    "Update user.",
    "Reset user password.",
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

/// `ClientIP` as the service writes it: mostly bare, sometimes with a port,
/// bracketed, or IPv4-mapped.
fn client_ip(ip: &str, shape: u64) -> String {
    let port = 1024 + (shape >> 8) % 60_000;
    match shape % 8 {
        4 => format!("{ip}:{port}"),
        5 => format!("[{ip}]:{port}"),
        6 => format!("::ffff:{ip}"),
        7 => format!("[::ffff:{ip}]:{port}"),
        _ => ip.to_string(),
    }
}

/// A stable GUID-shaped id for a part of a record.
fn part_id(id: Uuid, part: u64) -> String {
    Uuid::from_u128(id.as_u128().rotate_left(7) ^ u128::from(part)).to_string()
}

/// What every stream's record is built from.
struct Ctx<'a> {
    org: &'a Org,
    id: Uuid,
    /// Bits that choose between shapes.
    shape: u64,
    /// The acting user, or the mailbox's owner.
    user: &'a User,
    user_index: usize,
    user_id: String,
    ip: String,
    country: &'static str,
    device: (&'static str, &'static str, &'static str),
    success: bool,
    pushed: Option<PushedActivity>,
}

impl Ctx<'_> {
    fn operation(&self, generated: &str) -> String {
        self.pushed
            .as_ref()
            .map_or_else(|| generated.to_string(), |p| p.operation.clone())
    }

    fn object(&self) -> Option<String> {
        self.pushed.as_ref().and_then(|p| p.object.clone())
    }

    fn is_admin(&self) -> bool {
        self.org
            .roles
            .iter()
            .any(|r| r.members.contains(&(self.user_index as u32)))
    }

    fn message_id(&self, n: u64) -> String {
        format!(
            "<{:016x}{n}@{}>",
            self.id.as_u128() as u64,
            self.user
                .user_principal_name
                .rsplit('@')
                .next()
                .unwrap_or("contoso.com")
        )
    }

    fn folder(&self, n: u64, path: &str) -> Value {
        json!({"Id": part_id(self.id, n), "Path": path})
    }
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
    let (at, mut ip) = place(&mut rng, user_index, u.country);
    let mut country = VOCABULARY.countries[at].code.as_str();
    let device = *pick(&mut rng, DEVICES);
    let mut success = !rng.random_bool(0.02);
    if let Some(p) = &pushed {
        user_id = p.actor.clone();
        ip = p.ip.clone();
        success = p.success;
        // The pushed country, else the actor's home, else where it was drawn.
        let pushed_country = VOCABULARY.countries.iter().find(|c| {
            p.country
                .as_deref()
                .is_some_and(|p| c.code.eq_ignore_ascii_case(p))
        });
        if let Some(c) = pushed_country {
            country = &c.code;
        } else if let Some(home) = find_user(org, &p.actor) {
            country = &VOCABULARY.countries[home.country].code;
        }
    }
    let admin = !stranger && pushed.is_none();
    let ctx = Ctx {
        org,
        id,
        shape: (id.as_u128() >> 64) as u64,
        user: u,
        user_index,
        user_id,
        // A pushed address is written as the test gave it.
        ip: if pushed.is_some() {
            ip
        } else {
            client_ip(&ip, (id.as_u128() >> 64) as u64)
        },
        country,
        device,
        success,
        pushed,
    };
    let mut record = json!({
        "Id": id.to_string(),
        "CreationTime": office_time(ms),
        "OrganizationId": org.tenant_id.to_string(),
        "UserType": if admin && ctx.is_admin() { 2 } else { 0 },
        "UserKey": if stranger || ctx.pushed.is_some() { ctx.user_id.clone() } else { u.id.to_string() },
        "UserId": ctx.user_id,
        "ClientIP": ctx.ip,
        "ClientRegion": ctx.country,
        "Version": 1,
    });
    let fields = match stream {
        Stream::SharePoint => sharepoint(&ctx, &mut rng),
        Stream::Exchange => exchange(&ctx, &mut rng),
        Stream::General => general(&ctx, &mut rng),
        Stream::Dlp => dlp(&ctx, &mut rng),
        // Entra ID's own stream, and (never asked) the other vendors'.
        _ => azure_ad(&ctx, &mut rng),
    };
    if let (Value::Object(r), Value::Object(f)) = (&mut record, fields) {
        r.extend(f);
    }
    record
}

fn sharepoint(ctx: &Ctx, rng: &mut ChaCha8Rng) -> Value {
    let (operation, _) = *weighted(rng, FILE_OPERATIONS, |o| o.1);
    let file = *pick(rng, FILES);
    // A pushed activity is on its actor's team site, so that a test knows
    // its Workload; the draw is made anyway to keep the rest of the record
    // as it was.
    let onedrive = rng.random_bool(0.3) && ctx.pushed.is_none();
    let u = ctx.user;
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
    let file = ctx.object().unwrap_or_else(|| file.to_string());
    // Most file records carry no ResultStatus; a failure may be partial.
    let status = match (ctx.success, ctx.shape & 0x30) {
        (true, 0) => Value::Null,
        (true, _) => json!("Succeeded"),
        (false, 0x10) => json!("PartiallySucceeded"),
        (false, _) => json!("Failed"),
    };
    let mut r = json!({
        "RecordType": 6,
        "Operation": ctx.operation(operation),
        "Workload": if onedrive { "OneDrive" } else { "SharePoint" },
        "ObjectId": format!("{site}{folder}/{file}"),
        "SiteUrl": site,
        "SourceRelativeUrl": folder,
        "SourceFileName": file,
        "SourceFileExtension": file.rsplit('.').next().unwrap_or_default(),
        "ItemType": "File",
        "EventSource": "SharePoint",
        "UserAgent": ctx.device.2,
    });
    if !status.is_null() {
        r["ResultStatus"] = status;
    }
    r
}

fn exchange(ctx: &Ctx, rng: &mut ChaCha8Rng) -> Value {
    let &(operation, _, record_type) = weighted(rng, EXCHANGE_OPERATIONS, |o| o.1);
    let operation = ctx.operation(operation);
    // A pushed operation has its own record type.
    let record_type = EXCHANGE_OPERATIONS
        .iter()
        .find(|o| o.0.eq_ignore_ascii_case(&operation))
        .map_or(record_type, |o| o.2);
    let upn = &ctx.user.user_principal_name;
    let object = ctx.object().unwrap_or_else(|| format!("{upn}\\Inbox"));
    if record_type == 1 {
        // An admin cmdlet: True or False, its parameters, no mailbox client.
        return json!({
            "RecordType": 1,
            "Operation": operation,
            "Workload": "Exchange",
            "ResultStatus": if ctx.success { "True" } else { "False" },
            "ObjectId": upn,
            "ExternalAccess": false,
            "OrganizationName": "contoso.onmicrosoft.com",
            "Parameters": [{"Name": "Identity", "Value": upn}],
        });
    }
    let subject = ctx
        .object()
        .unwrap_or_else(|| (*pick(rng, SUBJECTS)).to_string());
    let client = if ctx.shape & 0x40 == 0 {
        format!("Client=OWA;Action=ViaProxy;{}", ctx.device.2)
    } else {
        "Client=MSExchangeRPC".to_string()
    };
    let bare_ip = ctx
        .pushed
        .as_ref()
        .map_or_else(|| strip(&ctx.ip), |p| p.ip.clone());
    let mut r = json!({
        "RecordType": record_type,
        "Operation": operation,
        "Workload": "Exchange",
        "ResultStatus": if ctx.success { "Succeeded" } else { "Failed" },
        "ObjectId": object,
        "MailboxOwnerUPN": upn,
        "MailboxGuid": Uuid::from_u128(ctx.user.id.as_u128().rotate_left(9)).to_string(),
        "LogonType": 0,
        "ClientInfoString": client,
        "ClientIPAddress": bare_ip,
    });
    let message = |n: u64| {
        json!({"Id": part_id(ctx.id, 100 + n), "InternetMessageId": ctx.message_id(n),
               "Subject": subject, "SizeInBytes": 2048 + n * 311})
    };
    match record_type {
        50 => {
            let items: Vec<Value> = (0..1 + ctx.shape % 3)
                .map(|n| {
                    json!({"Id": part_id(ctx.id, 100 + n), "InternetMessageId": ctx.message_id(n),
                           "SizeInBytes": 2048 + n * 311})
                })
                .collect();
            r["OperationCount"] = json!(items.len());
            r["Folders"] =
                json!([{"Id": part_id(ctx.id, 1), "Path": "\\Inbox", "FolderItems": items}]);
        }
        2 => {
            let mut item = message(0);
            item["ParentFolder"] = ctx.folder(2, "\\Sent Items");
            r["Item"] = item;
        }
        _ => {
            let inbox = ctx.folder(1, "\\Inbox");
            let mut item = message(0);
            item["ParentFolder"] = inbox.clone();
            r["Folder"] = inbox;
            r["AffectedItems"] = json!([item]);
            if operation.eq_ignore_ascii_case("MoveToDeletedItems") {
                r["DestFolder"] = ctx.folder(3, "\\Deleted Items");
            }
        }
    }
    r
}

/// The address in a `ClientIP` written by `client_ip`.
fn strip(client_ip: &str) -> String {
    let s = client_ip.strip_prefix('[').unwrap_or(client_ip);
    let s = s.split("]:").next().unwrap_or(s);
    let s = s.strip_prefix("::ffff:").unwrap_or(s);
    s.split(':').next().unwrap_or(s).to_string()
}

fn general(ctx: &Ctx, rng: &mut ChaCha8Rng) -> Value {
    // Pushed activities are Teams', so that a test knows their Workload.
    let &(workload, record_type, _, operations) = if ctx.pushed.is_some() {
        &GENERAL_WORKLOADS[0]
    } else {
        weighted(rng, GENERAL_WORKLOADS, |w| w.2)
    };
    let &operation = pick(rng, operations);
    let operation = ctx.operation(operation);
    let mut r = json!({
        "RecordType": record_type,
        "Operation": operation,
        "Workload": workload,
        "ResultStatus": if ctx.success { "Succeeded" } else { "Failed" },
    });
    match workload {
        "MicrosoftTeams" => {
            // Teams live on Microsoft 365 groups.
            let teams: Vec<&str> = ctx
                .org
                .groups
                .iter()
                .filter(|g| g.kind == GroupKind::Unified)
                .map(|g| g.display_name.as_str())
                .collect();
            let team = match teams.as_slice() {
                [] => "Contoso".to_string(),
                _ => pick(rng, &teams).to_string(),
            };
            r["ObjectId"] = json!(ctx.object().unwrap_or_else(|| team.clone()));
            r["TeamName"] = json!(team);
            r["UserAgent"] = json!(ctx.device.2);
        }
        "PowerBI" => {
            r["ObjectId"] = json!("Sales Forecast");
            r["ReportName"] = json!("Sales Forecast");
            r["WorkSpaceName"] = json!("Finance");
            r["UserAgent"] = json!(ctx.device.2);
        }
        "Yammer" => {
            // As Yammer writes it (Elastic's o365 fixtures).
            r["ResultStatus"] = json!(if ctx.success { "TRUE" } else { "FALSE" });
            r["ObjectId"] = json!("All Company");
            r["GroupName"] = json!("All Company");
        }
        "CRM" => {
            // Dynamics 365's UserAgent is the user's GUID (schema).
            r["UserAgent"] = json!(ctx.user.id.to_string());
            r["CrmOrganizationUniqueName"] = json!("contoso");
            r["InstanceUrl"] = json!("https://contoso.crm.dynamics.com");
            r["ItemType"] = json!("account");
            r["ObjectId"] = json!(part_id(ctx.id, 4));
        }
        "Planner" => {
            r["ResultStatus"] = json!(if ctx.success { 1 } else { 2 });
            r["ObjectId"] = json!(part_id(ctx.id, 5));
        }
        _ => {
            r["ObjectId"] = json!(*pick(rng, FILES));
            r["UserAgent"] = json!(ctx.device.2);
        }
    }
    r
}

fn azure_ad(ctx: &Ctx, rng: &mut ChaCha8Rng) -> Value {
    let drawn = rng.random_bool(0.8);
    // A pushed operation is a logon or a directory change by its name.
    let logon = ctx.pushed.as_ref().map_or(drawn, |p| {
        let op = p.operation.to_ascii_lowercase();
        op.starts_with("userlog") || op.starts_with("passwordlogon")
    });
    let user = ctx.user;
    let actor = json!([
        {"ID": user.id.to_string(), "Type": 0},
        {"ID": ctx.user_id, "Type": 5},
    ]);
    if !logon {
        // A directory change: the Entra IP is in ActorIpAddress, not
        // ClientIP, and the target user is named by UPN (Type 5).
        let &operation = pick(rng, DIRECTORY_CHANGES);
        let operation = ctx.operation(operation);
        let target = &ctx.org.users[rng.random_range(0..ctx.org.users.len())];
        let target_upn = ctx
            .object()
            .unwrap_or_else(|| target.user_principal_name.clone());
        return json!({
            "RecordType": 8,
            // Entra writes its records' user type as regular; the act is
            // an administrator's all the same.
            "UserType": 0,
            "Operation": operation,
            "Workload": "AzureActiveDirectory",
            "ResultStatus": if ctx.success { "Success" } else { "Failure" },
            "ObjectId": target_upn,
            "AzureActiveDirectoryEventType": 1,
            "ClientIP": null,
            "ActorIpAddress": strip(&ctx.ip),
            "Actor": actor,
            "ActorContextId": ctx.org.tenant_id.to_string(),
            "Target": [
                {"ID": format!("User_{}", target.id), "Type": 2},
                {"ID": target.id.to_string(), "Type": 2},
                {"ID": "User", "Type": 2},
                {"ID": target_upn, "Type": 5},
            ],
            "TargetContextId": ctx.org.tenant_id.to_string(),
            "ModifiedProperties": [],
        });
    }
    let (os, browser, agent) = ctx.device;
    if ctx.shape & 0x80 != 0 {
        // An account logon, as in the API reference's sample.
        return json!({
            "RecordType": 9,
            "UserType": 0,
            "Operation": ctx.operation("PasswordLogonInitialAuthUsingPassword"),
            "Workload": "AzureActiveDirectory",
            "ResultStatus": if ctx.success { "success" } else { "failed" },
            "ObjectId": ctx.user_id,
            "AzureActiveDirectoryEventType": 0,
            "Client": "Exchange",
            "LoginStatus": if ctx.success { 0 } else { -2_147_217_390_i64 },
            "UserDomain": "contoso.onmicrosoft.com",
            "ExtendedProperties": if ctx.success { json!([]) } else {
                json!([{"Name": "LoginError", "Value": "-2147217390;PP_E_BAD_PASSWORD;The entered and stored passwords do not match."}])
            },
        });
    }
    // An STS logon: ResultStatus only says the request was served; the
    // outcome is in the operation, ErrorCode and LogonError.
    let operation = if ctx.success {
        "UserLoggedIn"
    } else {
        "UserLoginFailed"
    };
    let app = "00000003-0000-0ff1-ce00-000000000000";
    let mut r = json!({
        "RecordType": 15,
        "UserType": 0,
        "Operation": ctx.operation(operation),
        "Workload": "AzureActiveDirectory",
        "ResultStatus": "Success",
        "ObjectId": app,
        "ApplicationId": app,
        "AzureActiveDirectoryEventType": 1,
        "ActorIpAddress": strip(&ctx.ip),
        "Actor": actor,
        "Target": [{"ID": app, "Type": 0}],
        "ErrorCode": if ctx.success { "0" } else { "50126" },
        "ExtendedProperties": [
            {"Name": "UserAgent", "Value": agent},
            {"Name": "RequestType", "Value": "OAuth2:Authorize"},
            {"Name": "ResultStatusDetail", "Value": if ctx.success { "Success" } else { "Failure" }},
        ],
        "DeviceProperties": [
            {"Name": "OS", "Value": os},
            {"Name": "BrowserType", "Value": browser},
            {"Name": "IsCompliantAndManaged", "Value": "False"},
        ],
    });
    if !ctx.success {
        r["LogonError"] = json!("InvalidUserNameOrPassword");
    }
    r
}

fn dlp(ctx: &Ctx, rng: &mut ChaCha8Rng) -> Value {
    let upn = &ctx.user.user_principal_name;
    let policy = json!([{
        "PolicyId": part_id(ctx.id, 6),
        "PolicyName": "U.S. Financial Data",
        "Rules": [{"RuleId": part_id(ctx.id, 7), "RuleName": "Low volume of content detected",
                   "Actions": ["NotifyUser"], "Severity": "Low"}],
    }]);
    let mut r = json!({
        "Operation": ctx.operation("DlpRuleMatch"),
        "UserKey": "DlpAgent",
        "ClientIP": null,
        "ClientRegion": null,
        "PolicyDetails": policy,
        "SensitiveInfoDetectionIsIncluded": false,
    });
    if rng.random_bool(0.6) {
        let file = ctx
            .object()
            .unwrap_or_else(|| (*pick(rng, FILES)).to_string());
        r["RecordType"] = json!(11);
        r["Workload"] = json!("SharePoint");
        r["ObjectId"] = json!(format!(
            "https://contoso.sharepoint.com/sites/Finance/Shared Documents/{file}"
        ));
        r["SharePointMetaData"] = json!({
            "From": upn,
            "FileName": file,
            "FilePathUrl": format!("https://contoso.sharepoint.com/sites/Finance/Shared Documents/{file}"),
            "SiteCollectionUrl": "https://contoso.sharepoint.com/sites/Finance",
            "UniqueID": part_id(ctx.id, 8),
        });
    } else {
        let subject = ctx
            .object()
            .unwrap_or_else(|| (*pick(rng, SUBJECTS)).to_string());
        r["RecordType"] = json!(13);
        r["Workload"] = json!("Exchange");
        r["ObjectId"] = json!(ctx.message_id(0));
        r["ExchangeMetaData"] = json!({
            "MessageID": ctx.message_id(0),
            "Subject": subject,
            "From": upn,
            "To": ["partner@fabrikam.com"],
        });
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ip::ClientAddress;
    use crate::sandbox::SandboxConfig;
    use chrono::Utc;

    fn fixture() -> (Timeline, Org) {
        let config = SandboxConfig::default();
        (
            Timeline::new(&config, Utc::now()),
            Org::generate(config.seed, 60),
        )
    }

    fn records(timeline: &Timeline, org: &Org, stream: Stream) -> Vec<Value> {
        (0..300)
            .map(|n| office_record(timeline, org, stream, Item::Generated(n), 0))
            .collect()
    }

    fn field<'a>(r: &'a Value, k: &str) -> &'a str {
        r[k].as_str().unwrap_or_default()
    }

    // R-G10: each content type's records name the workload they come from:
    // files in SharePoint team sites or OneDrive personal sites, mail in
    // Exchange, Audit.General in Teams and the other Office apps; a pushed
    // file activity is SharePoint.
    #[test]
    fn records_name_their_workload() {
        let (timeline, org) = fixture();
        let files = records(&timeline, &org, Stream::SharePoint);
        for r in &files {
            let personal = field(r, "SiteUrl").contains("-my.sharepoint.com/personal/");
            let want = if personal { "OneDrive" } else { "SharePoint" };
            assert_eq!(field(r, "Workload"), want, "{r}");
        }
        for want in ["SharePoint", "OneDrive"] {
            assert!(
                files.iter().any(|r| field(r, "Workload") == want),
                "no {want} record"
            );
        }
        assert!(
            records(&timeline, &org, Stream::Exchange)
                .iter()
                .all(|r| field(r, "Workload") == "Exchange")
        );
        let general = records(&timeline, &org, Stream::General);
        for (workload, ..) in GENERAL_WORKLOADS {
            assert!(
                general.iter().any(|r| field(r, "Workload") == *workload),
                "no {workload} record"
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

    // issue 10: ClientIP comes in each of its forms, every one of them the
    // address `ClientRegion`'s country owns; the records' statuses use each
    // workload's words.
    #[test]
    fn records_use_every_published_form() {
        let (timeline, org) = fixture();
        let mut forms = std::collections::BTreeSet::new();
        for stream in [Stream::SharePoint, Stream::Exchange, Stream::General] {
            for r in records(&timeline, &org, stream) {
                let ip = field(&r, "ClientIP");
                forms.insert(match ip {
                    _ if ip.starts_with("[::ffff:") => "bracketed mapped",
                    _ if ip.starts_with("::ffff:") => "mapped",
                    _ if ip.starts_with('[') => "bracketed",
                    _ if ip.contains(':') => "port",
                    _ => "bare",
                });
                let read = ClientAddress::read(Some(ip));
                assert!(read.ip.is_some(), "{ip}");
                assert_eq!(read.ip.as_deref(), Some(strip(ip).as_str()));
                assert_eq!(field(&r, "ClientRegion").len(), 2, "{r}");
            }
        }
        assert_eq!(forms.len(), 5, "{forms:?}");

        let statuses = |stream| -> std::collections::BTreeSet<String> {
            records(&timeline, &org, stream)
                .iter()
                .map(|r| r["ResultStatus"].to_string())
                .collect()
        };
        let exchange = statuses(Stream::Exchange);
        for s in ["\"True\"", "\"Succeeded\""] {
            assert!(exchange.contains(s), "{exchange:?}");
        }
        let general = statuses(Stream::General);
        for s in ["\"TRUE\"", "1", "\"Succeeded\""] {
            assert!(general.contains(s), "{general:?}");
        }
        assert!(statuses(Stream::SharePoint).contains("null"));
    }

    // issue 10: Entra's stream holds STS and account logons with their
    // device, and directory changes naming their target by UPN; mailbox
    // records name folders and messages; DLP records what matched.
    #[test]
    fn entra_mail_and_dlp_records_have_their_shapes() {
        let (timeline, org) = fixture();
        let entra = records(&timeline, &org, Stream::AzureActiveDirectory);
        let types: std::collections::BTreeSet<i64> = entra
            .iter()
            .filter_map(|r| r["RecordType"].as_i64())
            .collect();
        assert_eq!(types, [8, 9, 15].into());
        for r in entra.iter().filter(|r| r["RecordType"] == 8) {
            let upn = field(r, "ObjectId");
            assert!(r["ClientIP"].is_null() && !field(r, "ActorIpAddress").is_empty());
            assert!(
                r["Target"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|t| t["Type"] == 5 && t["ID"] == upn),
                "{r}"
            );
        }
        assert!(entra.iter().any(|r| field(r, "Operation") == "Add user."));
        let sts = entra.iter().find(|r| r["RecordType"] == 15).unwrap();
        assert_eq!(sts["DeviceProperties"][0]["Name"], "OS");

        let mail = records(&timeline, &org, Stream::Exchange);
        assert!(
            mail.iter()
                .any(|r| r["Folders"][0]["FolderItems"].is_array())
        );
        assert!(
            mail.iter()
                .any(|r| r["Item"]["ParentFolder"]["Path"] == "\\Sent Items")
        );
        assert!(mail.iter().any(|r| r["AffectedItems"].is_array()));
        assert!(
            mail.iter()
                .filter(|r| r["RecordType"] != 1)
                .all(|r| !field(r, "ClientInfoString").is_empty() && r.get("UserAgent").is_none())
        );

        let dlp = records(&timeline, &org, Stream::Dlp);
        assert!(
            dlp.iter()
                .all(|r| field(r, "UserKey") == "DlpAgent" && r["ClientIP"].is_null())
        );
        assert!(dlp.iter().any(|r| r["SharePointMetaData"].is_object()));
        assert!(dlp.iter().any(|r| r["ExchangeMetaData"].is_object()));
    }
}
