//! Issue 11, R-V1: app permissions — the OAuth apps people (or the organisation)
//! let into their accounts, what each may do, and which of those scopes are risky.

use serde::{Deserialize, Serialize};

use super::{Micros, UserKey};

/// How an app came to hold its scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrantKind {
    /// One person consented for their own account.
    User,
    /// An administrator consented for every account of the organisation.
    AllUsers,
    /// The app acts as itself, with no user (application permissions).
    Application,
}

impl GrantKind {
    pub fn label(self) -> &'static str {
        match self {
            GrantKind::User => "a user",
            GrantKind::AllUsers => "all users",
            GrantKind::Application => "the app itself",
        }
    }
}

/// One grant: which app, for whom, which scopes, since when. Revoked as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The vendor's id of the grant, which revoking it names (a Graph grant or
    /// app role assignment id, a Google client id, an Okta grant id).
    pub id: String,
    pub kind: GrantKind,
    /// The app's client id, and its name as the vendor shows it.
    pub app_id: String,
    pub app_name: String,
    /// Who granted it (`GrantKind::User`): the person's key, and the account's id
    /// in the app, which the vendor's revoke call may name.
    pub user: Option<UserKey>,
    pub account_id: Option<String>,
    pub scopes: Vec<String>,
    pub granted_at: Option<Micros>,
    /// Whether the app's API lets the organisation take it back (GitHub's offers
    /// no way to uninstall a GitHub App).
    pub revocable: bool,
}

impl Grant {
    /// The scopes of it that are risky, in its order.
    pub fn risky_scopes(&self) -> Vec<&str> {
        self.scopes
            .iter()
            .map(String::as_str)
            .filter(|s| is_risky(s))
            .collect()
    }
}

/// A scope that reads mail, files or the directory, or writes anything (issue 11).
/// Vendors spell scopes their own way: Graph's `Mail.Read`, Google's
/// `https://www.googleapis.com/auth/drive.readonly`, Okta's `okta.users.manage`,
/// GitHub's `repo`.
pub fn is_risky(scope: &str) -> bool {
    let s = scope.to_ascii_lowercase();
    let s = s
        .trim_start_matches("https://www.googleapis.com/auth/")
        .trim_end_matches('/');
    // Whole words of the scope, so that `email` is not `mail`.
    const SENSITIVE: [&str; 8] = [
        "mail",
        "gmail",
        "files",
        "sites",
        "drive",
        "directory",
        "repo",
        "admin",
    ];
    const WRITES: [&str; 5] = ["manage", "send", "delete", "full_control", "fullcontrol"];
    let words: Vec<&str> = s
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .collect();
    // A bare Google service scope is full access to it.
    let google_full = matches!(s, "calendar" | "contacts");
    google_full
        || words
            .iter()
            .any(|w| SENSITIVE.contains(w) || WRITES.contains(w) || w.contains("write"))
        || [
            "user.read.all",
            "group.read.all",
            "okta.users.",
            "okta.groups.",
        ]
        .iter()
        .any(|p| s.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 11: scopes that read mail, files or the directory, or write anything,
    // are marked, in each vendor's spelling; sign-in and profile scopes are not.
    #[test]
    fn risky_scopes_in_each_vendors_words() {
        for risky in [
            "Mail.Read",
            "Files.ReadWrite.All",
            "Sites.Read.All",
            "Directory.Read.All",
            "User.Read.All",
            "Calendars.ReadWrite",
            "https://www.googleapis.com/auth/drive.readonly",
            "https://www.googleapis.com/auth/gmail.send",
            "https://mail.google.com/",
            "https://www.googleapis.com/auth/admin.directory.user",
            "okta.users.manage",
            "okta.groups.read",
            "repo",
            "admin:org",
            "write:packages",
        ] {
            assert!(is_risky(risky), "{risky}");
        }
        for harmless in [
            "openid",
            "profile",
            "email",
            "offline_access",
            "User.Read",
            "https://www.googleapis.com/auth/userinfo.email",
            "https://www.googleapis.com/auth/calendar.readonly",
            "read:user",
        ] {
            assert!(!is_risky(harmless), "{harmless}");
        }
    }
}
