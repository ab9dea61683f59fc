//! Accounts as the vendors report them.

use serde::{Deserialize, Serialize};

/// A person across apps: the lower-cased e-mail or UPN. Memberships and
/// activity actors are joined on this key.
pub type UserKey = String;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserStatus {
    Active,
    Suspended,
    Disabled,
    Deleted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserType {
    Member,
    Guest,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteUser {
    /// The vendor's own id (Entra object id, Okta user id, ...).
    pub id: String,
    pub display_name: String,
    /// E-mail or UPN as the vendor gives it.
    pub email: String,
    pub status: UserStatus,
    pub user_type: UserType,
    /// The name the account signs in with, when it differs from `email`
    /// (an Entra UPN next to a different mail). People type either.
    pub principal_name: Option<String>,
}

/// A sign-in name that Entra gives a guest account
/// (`ann_fabrikam.com#EXT#@contoso.onmicrosoft.com`): its domain is the host
/// organisation's, yet the person is from outside it.
pub fn is_guest_principal(name: &str) -> bool {
    name.to_ascii_lowercase().contains("#ext#@")
}

impl RemoteUser {
    pub fn key(&self) -> UserKey {
        self.email.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::is_guest_principal;

    // R-G1: a guest's UPN carries the host's domain; the marker tells.
    #[test]
    fn guest_principals_are_recognised() {
        assert!(is_guest_principal(
            "ann_fabrikam.com#EXT#@contoso.onmicrosoft.com"
        ));
        assert!(is_guest_principal(
            "ann_fabrikam.com#ext#@contoso.onmicrosoft.com"
        ));
        assert!(!is_guest_principal("ann@contoso.com"));
        assert!(!is_guest_principal("ext@contoso.com"));
    }
}
