//! Refusals of the external-group rules (R-X1…R-X4). Each message names the
//! rule it enforces and says what to do instead, in one line.

/// Why an id, a member or an ACL entry was refused before any request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExternalError {
    #[error(
        "connection id is {len} characters; it must be 3 to 32 letters or digits (Graph connection id rule)"
    )]
    ConnectionIdLength { len: usize },
    #[error(
        "connection id has {what} at position {position}; only letters A–Z a–z and digits 0–9 are allowed (Graph connection id rule)"
    )]
    ConnectionIdCharacter { what: String, position: usize },
    #[error(
        "connection id `{id}` starts with \"Microsoft\", which Graph reserves; choose another id (Graph connection id rule)"
    )]
    ConnectionIdMicrosoftPrefix { id: String },
    #[error(
        "connection id `{id}` is the reserved name `{reserved}`; choose another id (Graph connection id rule)"
    )]
    ConnectionIdReserved { id: String, reserved: &'static str },
    #[error("connection name is empty; give a name of 1 to 128 characters (Graph connection rule)")]
    ConnectionNameEmpty,
    #[error("connection name is {len} characters; at most 128 (Graph connection rule)")]
    ConnectionNameTooLong { len: usize },
    #[error("external group id is empty; give an id of 1 to 128 characters from A–Z a–z 0–9 - _")]
    GroupIdEmpty,
    #[error("external group id is {len} characters; at most 128")]
    GroupIdTooLong { len: usize },
    #[error(
        "external group id has {what} at position {position}; only A–Z a–z 0–9 - _ are allowed"
    )]
    GroupIdCharacter { what: String, position: usize },
    #[error("{what} id is empty; give the Entra object id")]
    ObjectIdEmpty { what: &'static str },
    #[error("{what} id has {detail}; give the Entra object id")]
    ObjectIdInvalid { what: &'static str, detail: String },
    #[error("member type `{value}` is not known; use user, group or externalGroup")]
    MemberType { value: String },
    #[error("identity source `{value}` is not known; use azureActiveDirectory or external")]
    IdentitySource { value: String },
    #[error(
        "{context} of type `{kind}` cannot have identity source `{source_name}`; an external identity is always a group"
    )]
    SourceMismatch {
        context: &'static str,
        kind: String,
        source_name: &'static str,
    },
    #[error(
        "ACL entry type `{value}` is not known; use user, group, everyone, everyoneExceptGuests or externalGroup"
    )]
    AclType { value: String },
    #[error("ACL entry access `{value}` is not known; use grant or deny")]
    AclAccess { value: String },
    #[error("ACL entry of type {kind} has an empty value; give {expected}")]
    AclValueEmpty {
        kind: &'static str,
        expected: &'static str,
    },
    #[error("item id {detail}; give 1 to 128 characters without control characters or `/`")]
    ItemId { detail: String },
}

/// How a refused character is shown: visibly, even when it is a space, a
/// control character or a letter outside ASCII.
pub(crate) fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".to_string(),
        c if c.is_control() => format!("the control character U+{:04X}", u32::from(c)),
        c if !c.is_ascii() => format!("`{c}` (U+{:04X}, not ASCII)", u32::from(c)),
        c => format!("`{c}`"),
    }
}
