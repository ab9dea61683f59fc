//! R-A1: the activity record.

use serde::{Deserialize, Serialize};

use super::{AppKind, GroupId, InstanceId, Micros, OfficeApp, UserKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectKind {
    File,
    Folder,
    User,
    App,
    Group,
    Other,
    /// A mail message. After `Other`: records store the variant's position.
    Message,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 7] = [
        ObjectKind::File,
        ObjectKind::Folder,
        ObjectKind::User,
        ObjectKind::App,
        ObjectKind::Group,
        ObjectKind::Message,
        ObjectKind::Other,
    ];

    /// The serde name, used in filters (`kind:file`).
    pub fn slug(self) -> &'static str {
        match self {
            ObjectKind::File => "file",
            ObjectKind::Folder => "folder",
            ObjectKind::User => "user",
            ObjectKind::App => "app",
            ObjectKind::Group => "group",
            ObjectKind::Other => "other",
            ObjectKind::Message => "message",
        }
    }

    pub fn from_slug(s: &str) -> Option<ObjectKind> {
        let s = s.to_ascii_lowercase();
        ObjectKind::ALL.into_iter().find(|k| k.slug() == s)
    }
}

/// R-A1: the normalised action types. Connectors map every vendor event to
/// one of these (`Activity::action_type`), and the filter language accepts
/// exactly these after `action:`.
pub const ACTION_TYPES: [&str; 16] = [
    "sign-in",
    "sign-out",
    "download",
    "upload",
    "share",
    "view",
    "edit",
    "delete",
    "create",
    "password-change",
    "password-reset",
    "role-change",
    "member-add",
    "member-remove",
    "permission-change",
    "other",
];

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
    /// An IP address in its standard form, never anything else
    /// (`domain::ip`).
    pub ip: Option<String>,
    /// What the vendor wrote where an IP address belongs when it is not one
    /// (a host name such as `localhost`), escaped. Never matched by `ip:`.
    #[serde(default)]
    pub address_text: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    pub isp: Option<String>,
    pub device_type: Option<String>,
    pub user_agent: Option<String>,
    /// Which feed it came from ("Azure AD sign-ins", "Azure AD audit", "Office 365").
    pub source: String,
    /// R-G6: the groups the actor belonged to when this record was ingested.
    pub groups: Vec<GroupId>,
    /// R-G10: the Office app of a Microsoft 365 record read from the Office
    /// 365 Management Activity API (its `Workload`); `None` for sign-ins,
    /// directory audits, other workloads and other apps.
    #[serde(default)]
    pub office_app: Option<OfficeApp>,
}

/// Each object as (kind, id, name), for tests to compare at a glance.
#[cfg(test)]
pub(crate) fn described(objects: &[ActivityObject]) -> Vec<(ObjectKind, &str, &str)> {
    objects
        .iter()
        .map(|o| (o.kind, o.id.as_str(), o.name.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-A1: object kind slugs are the serde names.
    #[test]
    fn object_kind_slugs_match_serde() {
        for k in ObjectKind::ALL {
            let json = serde_json::to_string(&k).expect("serialize");
            assert_eq!(json, format!("\"{}\"", k.slug()));
            assert_eq!(ObjectKind::from_slug(k.slug()), Some(k));
        }
    }

    // R-A1: action types are kebab-case and unique.
    #[test]
    fn action_types_are_kebab_case_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for t in ACTION_TYPES {
            assert!(t.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{t}");
            assert!(seen.insert(t), "{t} repeated");
        }
    }
}
