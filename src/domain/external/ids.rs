//! Identifiers of Graph connections, external groups and external items,
//! validated before any request is made.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use super::error::{ExternalError, describe_char};
use crate::domain::text::sanitize;

/// Names Graph keeps for its own connections.
pub const RESERVED_CONNECTION_IDS: [&str; 16] = [
    "None",
    "Directory",
    "Exchange",
    "ExchangeArchive",
    "LinkedIn",
    "Mailbox",
    "OneDriveBusiness",
    "SharePoint",
    "Teams",
    "Yammer",
    "Connectors",
    "TaskFabric",
    "PowerBI",
    "Assistant",
    "TopicEngine",
    "MSFT_All_Connectors",
];

/// R-X2: the longest external group id Graph accepts.
pub const MAX_GROUP_ID_LEN: usize = 128;

/// The id of a Graph connection: 3–32 ASCII letters and digits, not starting
/// with "Microsoft", not a reserved name.
///
/// The prefix and the reserved names are compared without regard to case
/// ("microsoftHr" and "sharepoint" are refused too): Graph looks connection
/// ids up case-insensitively, so a differently cased reserved name would
/// still collide with Microsoft's own. The id itself is kept as typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ConnectionId(String);

impl ConnectionId {
    pub fn parse(id: &str) -> Result<ConnectionId, ExternalError> {
        // Reserved names are checked first so that `MSFT_All_Connectors` is
        // refused as reserved rather than for its underscores.
        if let Some(reserved) = RESERVED_CONNECTION_IDS
            .iter()
            .find(|r| r.eq_ignore_ascii_case(id))
        {
            return Err(ExternalError::ConnectionIdReserved {
                id: sanitize(id),
                reserved,
            });
        }
        if let Some((i, c)) = id
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_alphanumeric())
        {
            return Err(ExternalError::ConnectionIdCharacter {
                what: describe_char(c),
                position: i + 1,
            });
        }
        if !(3..=32).contains(&id.len()) {
            return Err(ExternalError::ConnectionIdLength { len: id.len() });
        }
        if id
            .get(..9)
            .is_some_and(|p| p.eq_ignore_ascii_case("Microsoft"))
        {
            return Err(ExternalError::ConnectionIdMicrosoftPrefix { id: id.to_string() });
        }
        Ok(ConnectionId(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// R-X2: the id of an external group, unique within its connection (R-X1).
/// Compared exactly as given: Graph documents no case folding for them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ExternalGroupId(String);

impl ExternalGroupId {
    pub fn parse(id: &str) -> Result<ExternalGroupId, ExternalError> {
        if id.is_empty() {
            return Err(ExternalError::GroupIdEmpty);
        }
        let len = id.chars().count();
        if len > MAX_GROUP_ID_LEN {
            return Err(ExternalError::GroupIdTooLong { len });
        }
        if let Some((i, c)) = id
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(ExternalError::GroupIdCharacter {
                what: describe_char(c),
                position: i + 1,
            });
        }
        Ok(ExternalGroupId(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The id of an external item. Graph documents no alphabet for it; casbah
/// refuses what could not travel in a URL path segment unharmed or be shown
/// safely.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ItemId(String);

impl ItemId {
    pub fn parse(id: &str) -> Result<ItemId, ExternalError> {
        let detail = if id.is_empty() {
            Some("is empty".to_string())
        } else if id.chars().count() > 128 {
            Some(format!("is {} characters", id.chars().count()))
        } else {
            id.chars()
                .enumerate()
                .find(|(_, c)| c.is_control() || *c == '/')
                .map(|(i, c)| format!("has {} at position {}", describe_char(c), i + 1))
        };
        match detail {
            Some(detail) => Err(ExternalError::ItemId { detail }),
            None => Ok(ItemId(id.to_string())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `id` has the shape of an Entra object id: a GUID written with
/// hyphens (8-4-4-4-12 hexadecimal digits).
pub fn is_object_id(id: &str) -> bool {
    let id = id.trim();
    id.len() == 36
        && id.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// An Entra object id (user or group) as a member or ACL value. Graph wants
/// the object id; casbah only refuses what cannot be one.
pub(crate) fn check_object_id(what: &'static str, id: &str) -> Result<(), ExternalError> {
    if id.trim().is_empty() {
        return Err(ExternalError::ObjectIdEmpty { what });
    }
    if let Some((i, c)) = id
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() || c.is_whitespace() || *c == '/')
    {
        return Err(ExternalError::ObjectIdInvalid {
            what,
            detail: format!("{} at position {}", describe_char(c), i + 1),
        });
    }
    Ok(())
}

macro_rules! display_and_deserialize {
    ($($ty:ident),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        // Deserializing validates too: an id read back from a file or the
        // store is held to the same rule as one typed by the user.
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $ty::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    )*};
}

display_and_deserialize!(ConnectionId, ExternalGroupId, ItemId);

#[cfg(test)]
mod tests {
    use super::*;

    // R-X4, issue 10: Entra object ids are GUIDs; a UPN is not one.
    #[test]
    fn object_ids_are_guids() {
        assert!(is_object_id("1f0e98f5-3161-4c6b-9b50-d488572f2bb7"));
        assert!(is_object_id(" 1F0E98F5-3161-4C6B-9B50-D488572F2BB7 "));
        for not in [
            "ann@contoso.com",
            "1f0e98f531614c6b9b50d488572f2bb7",
            "{1f0e98f5-3161-4c6b-9b50-d488572f2bb7}",
            "1f0e98f5-3161-4c6b-9b50-d488572f2bbz",
            "1f0e98f5_3161-4c6b-9b50-d488572f2bb7",
            "",
        ] {
            assert!(!is_object_id(not), "{not:?}");
        }
    }
}
