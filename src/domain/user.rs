//! Accounts as the vendors report them.

use serde::{Deserialize, Serialize};

/// A person across apps: the lower-cased e-mail or UPN. Memberships and
/// activity actors are joined on this key.
pub type UserKey = String;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserStatus {
    Active,
    Suspended,
    Disabled,
    Deleted,
    /// Not active for a reason of the vendor's own, in a few plain words
    /// (Okta's LOCKED_OUT is "locked out", Google's archived users "archived").
    Inactive(String),
}

impl UserStatus {
    /// What the skip counts call it (R-G4).
    pub fn reason(&self) -> &str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Suspended => "suspended",
            UserStatus::Disabled => "disabled",
            UserStatus::Deleted => "deleted",
            UserStatus::Inactive(reason) => reason,
        }
    }
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
    /// (an Entra UPN next to a different mail, a GitHub login). People type either.
    pub principal_name: Option<String>,
    /// An administrator of the app (a Google Workspace admin, a GitHub
    /// organisation owner), as the vendor marks the account.
    pub admin: bool,
    /// R-A2: the organisational unit, as the vendor writes it: Google's
    /// `orgUnitPath` (`/Sales/EMEA`), or the on-premises AD OU of an Entra user
    /// synced from there (`OU=Sales,DC=contoso,DC=com`). `None` where the app
    /// has none (Okta, GitHub) or the account is in none.
    pub org_unit: Option<String>,
    /// Issue 11: an Entra account synced from on-premises AD (`onPremisesSyncEnabled`),
    /// whose state the next sync sets back to AD's: suspending it in the cloud lasts
    /// until then.
    pub on_premises_sync: bool,
}

/// The key of the person a vendor names by `address` (an e-mail, a UPN, a
/// login) in an activity: sanitized, then lower-cased, exactly as
/// [`RemoteUser::key`] keys an account, so that the two always join (R-G6),
/// even where the sanitizer's escapes hold capitals (`\x01` → `^A`).
pub fn user_key(address: &str) -> UserKey {
    super::text::sanitize(address).to_lowercase()
}

/// A sign-in name that Entra gives a guest account
/// (`ann_fabrikam.com#EXT#@contoso.onmicrosoft.com`): its domain is the host
/// organisation's, yet the person is from outside it.
pub fn is_guest_principal(name: &str) -> bool {
    name.to_ascii_lowercase().contains("#ext#@")
}

impl RemoteUser {
    /// The person: the e-mail, or for an account without one (a GitHub login
    /// whose e-mail casbah may not read) the name it signs in with. Empty
    /// only when the vendor gave neither.
    pub fn key(&self) -> UserKey {
        match &self.principal_name {
            Some(name) if self.email.is_empty() => name.to_lowercase(),
            _ => self.email.to_lowercase(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(email: &str, principal: Option<&str>) -> RemoteUser {
        RemoteUser {
            id: "1".into(),
            display_name: "Ann".into(),
            email: email.into(),
            status: UserStatus::Active,
            user_type: UserType::Member,
            principal_name: principal.map(str::to_string),
            admin: false,
            org_unit: None,
            on_premises_sync: false,
        }
    }

    // R-G8: the e-mail joins a person's accounts; a sign-in name only stands
    // in for an account without one.
    #[test]
    fn the_key_is_the_email_else_the_sign_in_name() {
        assert_eq!(account("Ann@X.com", Some("octo-ann")).key(), "ann@x.com");
        assert_eq!(account("", Some("Octo-Ann")).key(), "octo-ann");
        assert_eq!(account("", None).key(), "");
    }

    // R-G6, issue 10: an activity's actor and an account's key are made the
    // same way, control characters and all (found by fuzzing the parsers).
    #[test]
    fn an_actor_key_joins_the_account() {
        for address in [
            "Ann@X.com",
            "a\u{1}b@x.com",
            "\u{1b}]0;T\u{7}@x.com",
            "İ@x.com",
        ] {
            let account = account(&super::super::text::sanitize(address), None);
            assert_eq!(user_key(address), account.key(), "{address:?}");
        }
        assert_eq!(user_key("a\u{1}B"), "a^ab");
    }

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
