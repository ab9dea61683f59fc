//! One Office 365 Management Activity API record as an activity, read the
//! way Microsoft's schema (office-365-management-activity-api-schema) and
//! its published samples write them:
//!
//! - `ResultStatus` is `Succeeded`, `PartiallySucceeded` or `Failed` in the
//!   common schema, `Success`/`Failure` in Entra and OME records, `True` or
//!   `False` for Exchange admin cmdlets, and Planner's numbers (1 success, 2
//!   failure, 3 authorization failure). Only the success words, in any case,
//!   and 1 are a success; a record without one reports no failure.
//! - Entra records (`Audit.AzureActiveDirectory`) are sign-ins (account and
//!   STS logons, whose failure shows in `LoginStatus`, `LogonError` or
//!   `ErrorCode` rather than in `ResultStatus`) or directory changes made by
//!   an administrator, whose `Target` names users by UPN (`Type` 5).
//! - Mailbox records name folders and messages (`Folder`, `Folders`,
//!   `FolderItems`, `Item`, `AffectedItems`, `DestFolder`); DLP records the
//!   file or message that matched.
//! - The address is `ClientIP` (or Exchange's `ClientIPAddress`, Entra's
//!   `ActorIpAddress`) in any of the forms `domain::ip` reads; the country
//!   is the record's own `ClientRegion`.

use serde_json::Value;

use super::activities::{address, blank, field, parse_time, text};
use super::{VENDOR, clean};
use crate::domain::country::code_of;
use crate::domain::{Activity, ActivityObject, InstanceId, ObjectKind, OfficeApp, user_key};

/// Objects kept from one record: a mailbox record may list a thousand items.
const MAX_OBJECTS: usize = 64;

/// Management API `Operation`s and their normalised action; anything else is "other".
const OPERATIONS: &[(&str, &[&str])] = &[
    (
        "download",
        &[
            "FileDownloaded",
            "FileSyncDownloadedFull",
            "FileSyncDownloadedPartial",
        ],
    ),
    (
        "upload",
        &[
            "FileUploaded",
            "FileSyncUploadedFull",
            "FileSyncUploadedPartial",
        ],
    ),
    (
        "share",
        &[
            "SharingSet",
            "AnonymousLinkCreated",
            "AnonymousLinkUpdated",
            "SharingInvitationCreated",
            "CompanyLinkCreated",
            "SecureLinkCreated",
            "AddedToSecureLink",
        ],
    ),
    (
        "view",
        &[
            "FileAccessed",
            "FileAccessedExtended",
            "FilePreviewed",
            "PageViewed",
            "MailItemsAccessed",
        ],
    ),
    (
        "edit",
        &[
            "FileModified",
            "FileModifiedExtended",
            "FileRenamed",
            "FileMoved",
            "FileCheckedIn",
            "Update",
        ],
    ),
    (
        "delete",
        &[
            "FileDeleted",
            "FileRecycled",
            "FileDeletedFirstStageRecycleBin",
            "FileDeletedSecondStageRecycleBin",
            "FolderDeleted",
            "FolderRecycled",
            "SoftDelete",
            "HardDelete",
            "MoveToDeletedItems",
        ],
    ),
    ("create", &["FolderCreated", "FileCopied", "Create"]),
    (
        "sign-in",
        &["UserLoggedIn", "UserLoginFailed", "MailboxLogin"],
    ),
    ("sign-out", &["UserLoggedOut"]),
    (
        "permission-change",
        &[
            "SharingRevoked",
            "AnonymousLinkRemoved",
            "SharingInheritanceBroken",
            "Add-MailboxPermission",
            "Remove-MailboxPermission",
            "Add-RecipientPermission",
            "Remove-RecipientPermission",
        ],
    ),
    ("member-add", &["AddedToGroup", "Add-UnifiedGroupLinks"]),
    (
        "member-remove",
        &["RemovedFromGroup", "Remove-UnifiedGroupLinks"],
    ),
];

/// The normalised action of a Management API `Operation`.
pub(super) fn action_type(operation: &str) -> &'static str {
    let operation = operation.trim();
    OPERATIONS
        .iter()
        .find(|(_, ops)| ops.iter().any(|o| o.eq_ignore_ascii_case(operation)))
        .map_or("other", |(action, _)| action)
}

/// R-G10: the Office app of a record's `Workload`, for the ten Office 365
/// apps; other workloads (AzureActiveDirectory, SecurityComplianceCenter, …)
/// belong to Microsoft 365 alone.
pub(super) fn office_app(workload: &str) -> Option<OfficeApp> {
    const WORKLOADS: [(&str, OfficeApp); 11] = [
        ("SharePoint", OfficeApp::SharePoint),
        ("OneDrive", OfficeApp::OneDrive),
        ("Exchange", OfficeApp::Exchange),
        ("MicrosoftTeams", OfficeApp::Teams),
        ("CRM", OfficeApp::Dynamics365),
        // Office apps on the desktop and on the web.
        ("OfficeNative", OfficeApp::Office),
        ("OfficeOnline", OfficeApp::Office),
        ("MicrosoftFlow", OfficeApp::PowerAutomate),
        ("PowerBI", OfficeApp::PowerBi),
        ("SkypeForBusiness", OfficeApp::SkypeForBusiness),
        ("Yammer", OfficeApp::Yammer),
    ];
    let workload = workload.trim();
    WORKLOADS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(workload))
        .map(|(_, app)| *app)
}

/// What kind of event a record is, which decides its action and flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An Entra account or STS logon, or a mailbox login.
    SignIn,
    /// A change to the directory in Entra ID: an administrator's act.
    Directory,
    Other,
}

fn kind(operation: &str, workload: &str, record_type: Option<i64>) -> Kind {
    let operation = operation.trim();
    // 9: AzureActiveDirectoryAccountLogon, 15: AzureActiveDirectoryStsLogon.
    if matches!(record_type, Some(9 | 15))
        || action_type(operation) == "sign-in"
        || starts_with_ignore_case(operation, "PasswordLogon")
    {
        Kind::SignIn
    } else if workload.trim().eq_ignore_ascii_case("AzureActiveDirectory")
        && !operation.eq_ignore_ascii_case("UserLoggedOut")
    {
        Kind::Directory
    } else {
        Kind::Other
    }
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    field(v, key).and_then(Value::as_str)
}

/// A number, also when written as a string ("15").
fn int(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn int_of(v: &Value, key: &str) -> Option<i64> {
    field(v, key).and_then(int)
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    field(v, key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The `Value` of the `{Name, Value}` pair called `name` in `key`'s list
/// (`ExtendedProperties`, `DeviceProperties`).
fn named<'a>(r: &'a Value, key: &str, name: &str) -> Option<&'a str> {
    list(r, key)
        .iter()
        .find(|p| str_of(p, "Name").is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .and_then(|p| str_of(p, "Value"))
}

/// The first of `candidates` that holds text.
fn first<'a>(candidates: impl IntoIterator<Item = Option<&'a str>>) -> Option<&'a str> {
    candidates
        .into_iter()
        .flatten()
        .find(|s| !s.trim().is_empty())
}

/// Whether `ResultStatus` reports success; see the module comment.
fn result_succeeded(status: Option<&Value>) -> bool {
    match status {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.trim().is_empty() => true,
        Some(Value::String(s)) => {
            let s = s.trim();
            ["Succeeded", "Success", "True"]
                .iter()
                .any(|w| w.eq_ignore_ascii_case(s))
                || s == "1"
        }
        Some(v) => v.as_i64() == Some(1),
    }
}

/// A logon that failed although its `ResultStatus` may say `Succeeded`
/// (which, for STS logons, only means the HTTP request did).
fn logon_failed(r: &Value, operation: &str) -> bool {
    let nonzero = |v: Option<&Value>| {
        v.is_some_and(|v| match int(v) {
            Some(n) => n != 0,
            None => v.as_str().is_some_and(|s| !s.trim().is_empty()),
        })
    };
    operation.trim().eq_ignore_ascii_case("UserLoginFailed")
        || nonzero(field(r, "LoginStatus"))
        || nonzero(field(r, "ErrorCode"))
        || str_of(r, "LogonError").is_some_and(|s| !s.trim().is_empty())
}

/// The record's objects, at most `MAX_OBJECTS`, each once.
#[derive(Default)]
struct Objects(Vec<ActivityObject>);

impl Objects {
    fn push(&mut self, kind: ObjectKind, id: Option<&str>, name: Option<&str>) {
        let Some(name) = first([name, id]) else {
            return;
        };
        let object = ActivityObject {
            kind,
            id: clean(first([id]).unwrap_or(name).trim()),
            name: clean(name.trim()),
        };
        if self.0.len() < MAX_OBJECTS && !self.0.iter().any(|o| o.kind == kind && o.id == object.id)
        {
            self.0.push(object);
        }
    }

    fn folder(&mut self, f: &Value) {
        let path = first([str_of(f, "Path"), str_of(f, "Name")]);
        self.push(ObjectKind::Folder, str_of(f, "Id"), path);
    }

    fn message(&mut self, m: &Value) {
        // A folder's own record (ModifyFolderPermissions) names the folder
        // as its item: it is no message.
        let own = str_of(m, "Id").map(str::trim);
        if self
            .0
            .iter()
            .any(|o| o.kind == ObjectKind::Folder && Some(o.id.as_str()) == own)
        {
            return;
        }
        let id = first([str_of(m, "InternetMessageId"), str_of(m, "Id")]);
        self.push(ObjectKind::Message, id, str_of(m, "Subject"));
    }

    /// A mailbox record's folders and messages (Exchange Mailbox schema).
    fn mailbox(&mut self, r: &Value) {
        for key in ["Folder", "DestFolder"] {
            if let Some(f) = field(r, key).filter(|f| f.is_object()) {
                self.folder(f);
            }
        }
        let items = field(r, "Item")
            .filter(|i| i.is_object())
            .into_iter()
            .chain(list(r, "AffectedItems"));
        for item in items {
            if let Some(parent) = field(item, "ParentFolder").filter(|f| f.is_object()) {
                self.folder(parent);
            }
            self.message(item);
        }
        for folder in list(r, "Folders") {
            self.folder(folder);
            for item in list(folder, "FolderItems") {
                self.message(item);
            }
        }
    }

    /// The users an Entra directory record acted on: `Target` entries of
    /// `Type` 5 (UPN), kept by their UPN so that `target:` finds them.
    fn targets(&mut self, r: &Value) {
        for t in list(r, "Target") {
            if int_of(t, "Type") == Some(5)
                && let Some(upn) = str_of(t, "ID")
            {
                self.push(ObjectKind::User, Some(&upn.to_lowercase()), Some(upn));
            }
        }
    }

    /// What a DLP rule matched: a SharePoint or OneDrive file, or a message.
    fn dlp(&mut self, r: &Value) {
        if let Some(sp) = field(r, "SharePointMetaData") {
            self.push(
                ObjectKind::File,
                first([str_of(sp, "FilePathUrl"), str_of(sp, "UniqueID")]),
                str_of(sp, "FileName"),
            );
        }
        if let Some(mail) = field(r, "ExchangeMetaData") {
            self.push(
                ObjectKind::Message,
                str_of(mail, "MessageID"),
                str_of(mail, "Subject"),
            );
        }
    }

    /// A SharePoint file or folder, else the record's `ObjectId`.
    fn object_id(&mut self, r: &Value) {
        let file = text(str_of(r, "SourceFileName"));
        let object_id = text(str_of(r, "ObjectId"));
        let kind = match str_of(r, "ItemType") {
            Some(t) if t.eq_ignore_ascii_case("folder") => ObjectKind::Folder,
            Some(t) if t.eq_ignore_ascii_case("file") => ObjectKind::File,
            _ if file.is_some() => ObjectKind::File,
            _ => ObjectKind::Other,
        };
        self.push(kind, object_id.as_deref(), file.as_deref());
    }
}

pub(super) fn record(r: &Value, instance: InstanceId) -> Option<Activity> {
    // Records are told apart by their id (the store drops repeats by it).
    let (Some(id), Some(time)) = (
        str_of(r, "Id").filter(|id| !id.trim().is_empty()),
        str_of(r, "CreationTime").and_then(parse_time),
    ) else {
        tracing::warn!(
            vendor = VENDOR,
            "audit record without an id or a readable time skipped"
        );
        return None;
    };
    let operation = str_of(r, "Operation").unwrap_or_default();
    let workload = str_of(r, "Workload").unwrap_or_default();
    let kind = kind(operation, workload, int_of(r, "RecordType"));
    let mut a = blank(id, instance, time, "Office 365");
    a.activity_type = clean(operation);
    a.action_type = match kind {
        Kind::SignIn => "sign-in",
        // Entra writes its directory activities with a full stop: "Add user.".
        Kind::Directory => super::audits::action_type(operation.trim().trim_end_matches('.')),
        Kind::Other => action_type(operation),
    }
    .to_owned();
    a.office_app = office_app(workload);
    let user = str_of(r, "UserId").unwrap_or_default();
    a.actor = user_key(user);
    a.actor_name = clean(user);
    // UserType 2 is Admin, 3 a Microsoft datacenter admin.
    a.admin = kind == Kind::Directory || matches!(int_of(r, "UserType"), Some(2 | 3));
    // Exchange LogonType 1 is an admin, 2 a delegate, 6 a delegated
    // administrator, in someone else's mailbox.
    a.impersonated = matches!(int_of(r, "LogonType"), Some(1 | 2 | 6));
    a.succeeded = result_succeeded(field(r, "ResultStatus"))
        && !(kind == Kind::SignIn && logon_failed(r, operation));
    address(
        &mut a,
        first([
            str_of(r, "ClientIP"),
            str_of(r, "ClientIPAddress"),
            str_of(r, "ActorIpAddress"),
        ]),
    );
    a.country = str_of(r, "ClientRegion").and_then(code_of);
    // Dynamics 365 writes the user's GUID as its `UserAgent` (schema).
    let user_agent = (a.office_app != Some(OfficeApp::Dynamics365))
        .then(|| str_of(r, "UserAgent"))
        .flatten();
    a.user_agent = text(first([
        user_agent,
        str_of(r, "ClientInfoString"),
        named(r, "ExtendedProperties", "UserAgent"),
        named(r, "DeviceProperties", "BrowserType"),
        str_of(r, "Client"),
    ]));
    a.device_type = text(named(r, "DeviceProperties", "OS"));

    let mut objects = Objects::default();
    if kind == Kind::Directory {
        objects.targets(r);
    }
    objects.mailbox(r);
    objects.dlp(r);
    if objects.0.is_empty() {
        objects.object_id(r);
    }
    a.objects = objects.0;
    Some(a)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fixtures;

#[cfg(test)]
mod props;
