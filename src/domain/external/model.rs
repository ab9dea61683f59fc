//! Connections, external groups, their members and item ACLs (R-X1…R-X4),
//! with the Graph wire shapes they are read from and written to.

use serde::{Deserialize, Serialize};

use super::error::ExternalError;
use super::ids::{ConnectionId, ExternalGroupId, ItemId, check_object_id};
use crate::domain::text::sanitize;

/// `state` of an externalConnection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConnectionState {
    Draft,
    Ready,
    Obsolete,
    LimitExceeded,
    #[serde(other)]
    UnknownFutureValue,
}

/// A Graph connection of a Microsoft 365 instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub id: ConnectionId,
    pub name: String,
    pub description: Option<String>,
    pub state: Option<ConnectionState>,
}

impl Connection {
    /// Graph requires a name of at most 128 characters.
    pub fn new(
        id: ConnectionId,
        name: &str,
        description: Option<String>,
    ) -> Result<Connection, ExternalError> {
        let len = name.chars().count();
        if name.trim().is_empty() {
            return Err(ExternalError::ConnectionNameEmpty);
        }
        if len > 128 {
            return Err(ExternalError::ConnectionNameTooLong { len });
        }
        Ok(Connection {
            id,
            name: name.to_string(),
            description,
            state: None,
        })
    }
}

/// R-X1, R-X2: an external group of one connection. Display name and
/// description are optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalGroup {
    pub id: ExternalGroupId,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub members: Vec<Member>,
}

impl ExternalGroup {
    /// The name shown for the group: its display name when it has one.
    pub fn label(&self) -> String {
        sanitize(self.display_name.as_deref().unwrap_or(self.id.as_str()))
    }
}

/// R-X3: what an external group can contain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum Member {
    /// An Entra user, by object id.
    User(String),
    /// An Entra group, by object id.
    EntraGroup(String),
    /// A nested external group of the same connection.
    ExternalGroup(ExternalGroupId),
}

impl Member {
    pub fn user(id: &str) -> Result<Member, ExternalError> {
        check_object_id("user", id)?;
        Ok(Member::User(id.to_string()))
    }

    pub fn entra_group(id: &str) -> Result<Member, ExternalError> {
        check_object_id("Entra group", id)?;
        Ok(Member::EntraGroup(id.to_string()))
    }

    /// The id Graph uses in `DELETE …/members/{id}`.
    pub fn id(&self) -> &str {
        match self {
            Member::User(id) | Member::EntraGroup(id) => id,
            Member::ExternalGroup(id) => id.as_str(),
        }
    }

    /// Reads either Graph shape: v1.0 `{id, type}` with type user, group or
    /// externalGroup, or beta `{id, type, identitySource}` where an external
    /// source with type group is a nested external group.
    pub fn from_wire(wire: &MemberWire) -> Result<Member, ExternalError> {
        let source = wire
            .identity_source
            .as_deref()
            .map(IdentitySource::parse)
            .transpose()?;
        match (wire.kind.to_ascii_lowercase().as_str(), source) {
            ("user", None | Some(IdentitySource::AzureActiveDirectory)) => Member::user(&wire.id),
            ("group", None | Some(IdentitySource::AzureActiveDirectory)) => {
                Member::entra_group(&wire.id)
            }
            ("group" | "externalgroup", Some(IdentitySource::External))
            | ("externalgroup", None) => {
                Ok(Member::ExternalGroup(ExternalGroupId::parse(&wire.id)?))
            }
            ("user", Some(IdentitySource::External)) => Err(ExternalError::SourceMismatch {
                context: "a member",
                kind: "user".to_string(),
                source_name: "external",
            }),
            ("externalgroup", Some(IdentitySource::AzureActiveDirectory)) => {
                Err(ExternalError::SourceMismatch {
                    context: "a member",
                    kind: "externalGroup".to_string(),
                    source_name: "azureActiveDirectory",
                })
            }
            _ => Err(ExternalError::MemberType {
                value: sanitize(&wire.kind),
            }),
        }
    }

    /// The v1.0 shape casbah sends.
    pub fn to_wire(&self) -> MemberWire {
        let kind = match self {
            Member::User(_) => "user",
            Member::EntraGroup(_) => "group",
            Member::ExternalGroup(_) => "externalGroup",
        };
        MemberWire {
            id: self.id().to_string(),
            kind: kind.to_string(),
            identity_source: None,
        }
    }
}

/// A member as Graph sends and receives it (v1.0 `identity`, beta
/// `externalGroupMember`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberWire {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(
        rename = "identitySource",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub identity_source: Option<String>,
}

/// Beta `identitySource`. The concept page spells the values as words
/// ("Azure Active Directory", "External"), the enum in camelCase; both are
/// read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum IdentitySource {
    AzureActiveDirectory,
    External,
}

impl IdentitySource {
    pub fn parse(value: &str) -> Result<IdentitySource, ExternalError> {
        let folded: String = value
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        match folded.as_str() {
            "azureactivedirectory" => Ok(IdentitySource::AzureActiveDirectory),
            "external" => Ok(IdentitySource::External),
            _ => Err(ExternalError::IdentitySource {
                value: sanitize(value),
            }),
        }
    }

    pub fn wire_name(self) -> &'static str {
        match self {
            IdentitySource::AzureActiveDirectory => "azureActiveDirectory",
            IdentitySource::External => "external",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AccessType {
    Grant,
    Deny,
}

impl AccessType {
    pub fn parse(value: &str) -> Result<AccessType, ExternalError> {
        match value.to_ascii_lowercase().as_str() {
            "grant" => Ok(AccessType::Grant),
            "deny" => Ok(AccessType::Deny),
            _ => Err(ExternalError::AclAccess {
                value: sanitize(value),
            }),
        }
    }

    pub fn wire_name(self) -> &'static str {
        match self {
            AccessType::Grant => "grant",
            AccessType::Deny => "deny",
        }
    }
}

/// R-X4: who an ACL entry names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum Principal {
    /// An Entra user, by object id.
    User(String),
    /// An Entra group, by object id.
    EntraGroup(String),
    /// Everyone in the tenant whose id is given.
    Everyone(String),
    /// Everyone in the tenant whose id is given, except guests.
    EveryoneExceptGuests(String),
    /// An external group of the connection; it may not exist yet (pending).
    ExternalGroup(ExternalGroupId),
}

/// R-X4: one entry of an item's ACL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AclEntry {
    pub principal: Principal,
    pub access: AccessType,
}

impl AclEntry {
    pub fn grant(principal: Principal) -> AclEntry {
        AclEntry {
            principal,
            access: AccessType::Grant,
        }
    }

    pub fn deny(principal: Principal) -> AclEntry {
        AclEntry {
            principal,
            access: AccessType::Deny,
        }
    }

    /// Reads v1.0 `{type, value, accessType}` or beta with `identitySource`,
    /// where `group` + `external` is an external group.
    pub fn from_wire(wire: &AclEntryWire) -> Result<AclEntry, ExternalError> {
        let access = AccessType::parse(&wire.access_type)?;
        let source = wire
            .identity_source
            .as_deref()
            .map(IdentitySource::parse)
            .transpose()?;
        let value = wire.value.as_str();
        let kind = wire.kind.to_ascii_lowercase();
        let mismatch = |kind: &str, source: IdentitySource| ExternalError::SourceMismatch {
            context: "an ACL entry",
            kind: kind.to_string(),
            source_name: source.wire_name(),
        };
        let principal = match (kind.as_str(), source) {
            ("group" | "externalgroup", Some(IdentitySource::External))
            | ("externalgroup", None) => Principal::ExternalGroup(ExternalGroupId::parse(value)?),
            ("externalgroup", Some(s)) => return Err(mismatch("externalGroup", s)),
            (_, Some(IdentitySource::External)) => {
                return Err(mismatch(&wire.kind, IdentitySource::External));
            }
            ("user", _) => {
                check_object_id("user", value)?;
                Principal::User(value.to_string())
            }
            ("group", _) => {
                check_object_id("Entra group", value)?;
                Principal::EntraGroup(value.to_string())
            }
            ("everyone", _) => Principal::Everyone(tenant_value("everyone", value)?),
            ("everyoneexceptguests", _) => {
                Principal::EveryoneExceptGuests(tenant_value("everyoneExceptGuests", value)?)
            }
            _ => {
                return Err(ExternalError::AclType {
                    value: sanitize(&wire.kind),
                });
            }
        };
        Ok(AclEntry { principal, access })
    }

    /// The v1.0 shape casbah sends.
    pub fn to_wire(&self) -> AclEntryWire {
        let (kind, value) = match &self.principal {
            Principal::User(id) => ("user", id.as_str()),
            Principal::EntraGroup(id) => ("group", id.as_str()),
            Principal::Everyone(tenant) => ("everyone", tenant.as_str()),
            Principal::EveryoneExceptGuests(tenant) => ("everyoneExceptGuests", tenant.as_str()),
            Principal::ExternalGroup(id) => ("externalGroup", id.as_str()),
        };
        AclEntryWire {
            kind: kind.to_string(),
            value: value.to_string(),
            access_type: self.access.wire_name().to_string(),
            identity_source: None,
        }
    }
}

fn tenant_value(kind: &'static str, value: &str) -> Result<String, ExternalError> {
    if value.trim().is_empty() {
        return Err(ExternalError::AclValueEmpty {
            kind,
            expected: "the tenant id",
        });
    }
    Ok(value.to_string())
}

/// An ACL entry as Graph sends and receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclEntryWire {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    #[serde(rename = "accessType")]
    pub access_type: String,
    #[serde(
        rename = "identitySource",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub identity_source: Option<String>,
}

/// R-X4: an external item and its ACL. Properties and content travel with
/// the item to Graph but play no part in access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub id: ItemId,
    pub acl: Vec<AclEntry>,
}

impl Item {
    /// R-X4: the external groups this ACL names that the connection does
    /// not have (yet). They are accepted and shown as pending.
    pub fn pending_groups<'a>(
        &'a self,
        exists: impl Fn(&ExternalGroupId) -> bool + 'a,
    ) -> impl Iterator<Item = &'a ExternalGroupId> + 'a {
        self.acl.iter().filter_map(move |e| match &e.principal {
            Principal::ExternalGroup(id) if !exists(id) => Some(id),
            _ => None,
        })
    }
}

/// An item as `external acl set --file` reads it: Graph's JSON for
/// `PUT …/items/{id}` (`{"acl": [...], "properties": {...}, "content": {...}}`),
/// or only the `acl` array.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ItemDocument {
    pub acl: Vec<AclEntry>,
    /// Empty when the file held only the ACL.
    pub properties: serde_json::Map<String, serde_json::Value>,
    pub content: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AclFileError {
    #[error(
        "the ACL file is not valid JSON ({0}); give Graph's item JSON or an array of ACL entries"
    )]
    Json(String),
    #[error("the ACL file has no `acl` array; give Graph's item JSON or an array of ACL entries")]
    NoAcl,
    #[error(
        "ACL entry {position} cannot be read ({detail}); each entry needs type, value and accessType"
    )]
    Shape { position: usize, detail: String },
    #[error("ACL entry {position}: {error}")]
    Entry {
        position: usize,
        error: ExternalError,
    },
}

/// Reads an ACL file; every entry is checked, the first refusal is returned
/// with its 1-based position.
pub fn parse_item_document(text: &str) -> Result<ItemDocument, AclFileError> {
    use serde_json::Value;
    let json = |e: serde_json::Error| AclFileError::Json(sanitize(&e.to_string()));
    let (entries, properties, content) = match serde_json::from_str::<Value>(text).map_err(json)? {
        Value::Array(entries) => (entries, serde_json::Map::new(), None),
        Value::Object(mut item) => {
            let Some(Value::Array(entries)) = item.remove("acl") else {
                return Err(AclFileError::NoAcl);
            };
            let properties = match item.remove("properties") {
                Some(Value::Object(p)) => p,
                _ => serde_json::Map::new(),
            };
            (entries, properties, item.remove("content"))
        }
        _ => return Err(AclFileError::NoAcl),
    };
    let mut acl = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        let position = i + 1;
        let wire: AclEntryWire =
            serde_json::from_value(entry).map_err(|e| AclFileError::Shape {
                position,
                detail: sanitize(&e.to_string()),
            })?;
        acl.push(
            AclEntry::from_wire(&wire).map_err(|error| AclFileError::Entry { position, error })?,
        );
    }
    Ok(ItemDocument {
        acl,
        properties,
        content,
    })
}
