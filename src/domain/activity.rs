//! R-A1: the activity record.

use serde::{Deserialize, Serialize};

use super::{AppKind, GroupId, InstanceId, Micros, UserKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectKind {
    File,
    Folder,
    User,
    App,
    Group,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityObject {
    pub kind: ObjectKind,
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// The vendor's id; unique within an instance, used to drop duplicates.
    pub id: String,
    pub app: AppKind,
    pub instance: InstanceId,
    pub time: Micros,
    /// Joins the actor to group memberships (lower-cased e-mail or UPN).
    pub actor: UserKey,
    pub actor_name: String,
    /// What happened, in the vendor's words ("Download file", "Sign in").
    pub activity_type: String,
    /// The normalised kind of action ("download", "share", "sign-in", "password-change", ...).
    pub action_type: String,
    pub objects: Vec<ActivityObject>,
    pub admin: bool,
    pub impersonated: bool,
    /// False when the vendor reports a failure (failed sign-in, denied operation).
    pub succeeded: bool,
    pub ip: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    pub isp: Option<String>,
    pub device_type: Option<String>,
    pub user_agent: Option<String>,
    /// Which feed it came from ("Azure AD sign-ins", "Azure AD audit", "Office 365").
    pub source: String,
    /// R-G6: the groups the actor belonged to when this record was ingested.
    pub groups: Vec<GroupId>,
}
