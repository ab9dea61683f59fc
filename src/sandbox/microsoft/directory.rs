//! Directory objects as Graph writes them: users, groups, devices, contacts,
//! directory roles, the organization.

use serde_json::{Value, json};

use crate::sandbox::org::{GroupKind, INITIAL_DOMAIN, MemberRef, Org, PRIMARY_DOMAIN};

pub const USER_TYPE: &str = "microsoft.graph.user";
pub const GROUP_TYPE: &str = "microsoft.graph.group";
pub const DEVICE_TYPE: &str = "microsoft.graph.device";
pub const CONTACT_TYPE: &str = "microsoft.graph.orgContact";

pub const USER_PROPERTIES: &[&str] = &[
    "id",
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "accountEnabled",
    "userType",
    "deletedDateTime",
    "department",
    "usageLocation",
    "country",
    "city",
    "createdDateTime",
    "companyName",
    "mailNickname",
    "onPremisesDistinguishedName",
    "onPremisesSyncEnabled",
];
pub const USER_DEFAULTS: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
];
pub const USER_SEARCHABLE: &[&str] = &[
    "displayName",
    "givenName",
    "surname",
    "mail",
    "userPrincipalName",
    "mailNickname",
];

pub const GROUP_PROPERTIES: &[&str] = &[
    "id",
    "deletedDateTime",
    "classification",
    "createdDateTime",
    "description",
    "displayName",
    "groupTypes",
    "mail",
    "mailEnabled",
    "mailNickname",
    "securityEnabled",
    "visibility",
];
/// Graph tokenizes only these two for `$search` on groups.
pub const GROUP_SEARCHABLE: &[&str] = &["displayName", "description"];

pub const DEVICE_PROPERTIES: &[&str] = &[
    "id",
    "deletedDateTime",
    "accountEnabled",
    "deviceId",
    "displayName",
    "operatingSystem",
];
pub const CONTACT_PROPERTIES: &[&str] = &[
    "id",
    "deletedDateTime",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "companyName",
    "mailNickname",
];

/// Every property any directory object knows, for member lists.
pub fn any_properties() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = Vec::new();
    for p in USER_PROPERTIES
        .iter()
        .chain(GROUP_PROPERTIES)
        .chain(DEVICE_PROPERTIES)
        .chain(CONTACT_PROPERTIES)
    {
        if !all.contains(p) {
            all.push(p);
        }
    }
    all
}

fn time(t: chrono::DateTime<chrono::Utc>) -> Value {
    Value::from(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

pub fn user_prop(org: &Org, i: u32, name: &str) -> Option<Value> {
    let u = &org.users[i as usize];
    if let Some(v) = org.mistyped(&u.id, name) {
        return Some(v.clone());
    }
    Some(match name {
        "id" => Value::from(u.id.to_string()),
        "businessPhones" => json!([]),
        "displayName" => Value::from(u.display_name.as_str()),
        "givenName" => Value::from(u.given_name.as_str()),
        "surname" => Value::from(u.surname.as_str()),
        "jobTitle" => {
            if u.guest {
                Value::Null
            } else {
                Value::from(u.job_title)
            }
        }
        "mail" => Value::from(u.mail.as_str()),
        "mobilePhone" | "preferredLanguage" => Value::Null,
        "officeLocation" => {
            if u.guest {
                Value::Null
            } else {
                Value::from(u.city())
            }
        }
        "userPrincipalName" => Value::from(u.user_principal_name.as_str()),
        "accountEnabled" => Value::from(u.account_enabled),
        "userType" => Value::from(if u.guest { "Guest" } else { "Member" }),
        "deletedDateTime" => u.deleted.map(time).unwrap_or(Value::Null),
        "department" => {
            if u.guest {
                Value::Null
            } else {
                Value::from(u.department())
            }
        }
        // Members are synced from on-premises AD, into an OU per department; guests
        // are cloud-only.
        // Members come from the on-premises AD; guests were invited in the cloud.
        "onPremisesSyncEnabled" => {
            if u.guest {
                Value::Null
            } else {
                Value::Bool(true)
            }
        }
        "onPremisesDistinguishedName" => {
            if u.guest {
                Value::Null
            } else {
                let cn = u.display_name.replace('\\', "\\\\").replace(',', "\\,");
                Value::from(format!(
                    "CN={cn},OU={},OU=Users,DC=contoso,DC=com",
                    u.department()
                ))
            }
        }
        "usageLocation" | "country" => Value::from(u.country().code.as_str()),
        "city" => Value::from(u.city()),
        "createdDateTime" => time(u.created),
        "companyName" => {
            if u.guest {
                Value::Null
            } else {
                Value::from("Contoso")
            }
        }
        "mailNickname" => Value::from(u.mail.split('@').next().unwrap_or_default()),
        _ => return None,
    })
}

pub fn group_prop(org: &Org, i: u32, name: &str) -> Option<Value> {
    let g = &org.groups[i as usize];
    Some(match name {
        "id" => Value::from(g.id.to_string()),
        "deletedDateTime" | "classification" => Value::Null,
        "createdDateTime" => time(g.created),
        "description" => g
            .description
            .as_deref()
            .map(Value::from)
            .unwrap_or(Value::Null),
        "displayName" => Value::from(g.display_name.as_str()),
        "groupTypes" => {
            if g.kind == GroupKind::Unified {
                json!(["Unified"])
            } else {
                json!([])
            }
        }
        "mail" => g.mail().map(Value::from).unwrap_or(Value::Null),
        "mailEnabled" => Value::from(g.kind != GroupKind::Security),
        "mailNickname" => Value::from(g.mail_nickname.as_str()),
        "securityEnabled" => Value::from(g.kind != GroupKind::Distribution),
        "visibility" => {
            if g.kind == GroupKind::Unified {
                Value::from("Private")
            } else {
                Value::Null
            }
        }
        _ => return None,
    })
}

fn device_prop(org: &Org, i: u32, name: &str) -> Option<Value> {
    let d = &org.devices[i as usize];
    Some(match name {
        "id" => Value::from(d.id.to_string()),
        "deletedDateTime" => Value::Null,
        "accountEnabled" => Value::from(d.account_enabled),
        "deviceId" => Value::from(d.device_id.to_string()),
        "displayName" => Value::from(d.display_name.as_str()),
        "operatingSystem" => Value::from(d.operating_system),
        _ => return None,
    })
}

fn contact_prop(org: &Org, i: u32, name: &str) -> Option<Value> {
    let c = &org.contacts[i as usize];
    Some(match name {
        "id" => Value::from(c.id.to_string()),
        "deletedDateTime" => Value::Null,
        "displayName" => Value::from(c.display_name.as_str()),
        "givenName" => Value::from(c.given_name.as_str()),
        "surname" => Value::from(c.surname.as_str()),
        "mail" => Value::from(c.mail.as_str()),
        "companyName" => Value::from(c.company_name),
        "mailNickname" => Value::from(c.mail.split('@').next().unwrap_or_default()),
        _ => return None,
    })
}

/// Any property of any member, by its kind.
pub fn member_prop(org: &Org, m: MemberRef, name: &str) -> Option<Value> {
    match m {
        MemberRef::User(i) => user_prop(org, i, name),
        MemberRef::Group(i) => group_prop(org, i, name),
        MemberRef::Device(i) => device_prop(org, i, name),
        MemberRef::Contact(i) => contact_prop(org, i, name),
    }
}

pub fn member_type(m: MemberRef) -> &'static str {
    match m {
        MemberRef::User(_) => USER_TYPE,
        MemberRef::Group(_) => GROUP_TYPE,
        MemberRef::Device(_) => DEVICE_TYPE,
        MemberRef::Contact(_) => CONTACT_TYPE,
    }
}

/// The default properties of a member of this kind.
pub fn member_defaults(m: MemberRef) -> &'static [&'static str] {
    match m {
        MemberRef::User(_) => USER_DEFAULTS,
        MemberRef::Group(_) => GROUP_PROPERTIES,
        MemberRef::Device(_) => DEVICE_PROPERTIES,
        MemberRef::Contact(_) => &CONTACT_PROPERTIES[..7],
    }
}

pub fn organization(org: &Org) -> Value {
    json!({
        "id": org.tenant_id.to_string(),
        "displayName": org.display_name,
        "tenantType": "AAD",
        "countryLetterCode": "US",
        "createdDateTime": time(org.created),
        "verifiedDomains": [
            {"capabilities": "Email, OfficeCommunicationsOnlineService", "isDefault": true, "isInitial": false, "name": PRIMARY_DOMAIN, "type": "Managed"},
            {"capabilities": "Email, OfficeCommunicationsOnlineService", "isDefault": false, "isInitial": true, "name": INITIAL_DOMAIN, "type": "Managed"},
        ],
    })
}
