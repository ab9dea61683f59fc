//! One vocabulary of activity types across vendors (issue 13): Office's `FileAccessed`,
//! Okta's `user.session.start`, Google's `login_success` and GitHub's `team.add_member`
//! are shown as "File accessed", "Sign in", "Sign in" and "Add member to team". The
//! vendor's own name stays in `Activity::activity_type`, for the detail view, JSON and
//! the filter (`type:` matches either).

use std::borrow::Cow;

use super::{Activity, AppKind};

/// Names whose words alone would not read as the same thing across vendors: sign-ins,
/// memberships and passwords. Everything else is the vendor's name in plain words.
const NAMED: &[(AppKind, &str, &str)] = &[
    // casbah's own names for Entra sign-ins (`connectors::microsoft365::signins`).
    (AppKind::Microsoft365, "Log on", "Sign in"),
    (AppKind::Microsoft365, "Failed log on", "Failed sign in"),
    (AppKind::Microsoft365, "UserLoggedIn", "Sign in"),
    (AppKind::Microsoft365, "UserLoginFailed", "Failed sign in"),
    (AppKind::Okta, "user.session.start", "Sign in"),
    (AppKind::Okta, "user.session.end", "Sign out"),
    (
        AppKind::Okta,
        "user.authentication.sso",
        "Single sign-on to an app",
    ),
    (
        AppKind::Okta,
        "user.authentication.auth_via_mfa",
        "Multi-factor authentication",
    ),
    (
        AppKind::Okta,
        "user.account.update_password",
        "Change password",
    ),
    (
        AppKind::Okta,
        "user.account.reset_password",
        "Reset password",
    ),
    (AppKind::Okta, "user.account.lock", "Lock account"),
    (
        AppKind::Okta,
        "user.account.privilege.grant",
        "Grant admin role",
    ),
    (AppKind::Okta, "user.lifecycle.create", "Create user"),
    (AppKind::Okta, "user.lifecycle.suspend", "Suspend user"),
    (AppKind::Okta, "user.lifecycle.unsuspend", "Unsuspend user"),
    (
        AppKind::Okta,
        "group.user_membership.add",
        "Add member to group",
    ),
    (
        AppKind::Okta,
        "group.user_membership.remove",
        "Remove member from group",
    ),
    (
        AppKind::Okta,
        "application.user_membership.add",
        "Assign user to app",
    ),
    (AppKind::GoogleWorkspace, "login_success", "Sign in"),
    (AppKind::GoogleWorkspace, "login_failure", "Failed sign in"),
    (AppKind::GoogleWorkspace, "logout", "Sign out"),
    (AppKind::GoogleWorkspace, "password_edit", "Change password"),
    (
        AppKind::GoogleWorkspace,
        "ADD_GROUP_MEMBER",
        "Add member to group",
    ),
    (
        AppKind::GoogleWorkspace,
        "REMOVE_GROUP_MEMBER",
        "Remove member from group",
    ),
    (AppKind::Github, "team.add_member", "Add member to team"),
    (
        AppKind::Github,
        "team.remove_member",
        "Remove member from team",
    ),
    (
        AppKind::Github,
        "org.add_member",
        "Add member to organisation",
    ),
    (
        AppKind::Github,
        "org.remove_member",
        "Remove member from organisation",
    ),
    (
        AppKind::Github,
        "org.invite_member",
        "Invite member to organisation",
    ),
    (
        AppKind::Github,
        "repo.add_member",
        "Add collaborator to repository",
    ),
    (
        AppKind::Github,
        "repo.remove_member",
        "Remove collaborator from repository",
    ),
    (AppKind::Github, "git.clone", "Clone repository"),
    (AppKind::Github, "git.push", "Push to repository"),
    (AppKind::Github, "git.fetch", "Fetch from repository"),
    (
        AppKind::Github,
        "repo.download_zip",
        "Download repository archive",
    ),
];

/// `vendor`, an activity type of `app` in the vendor's words, as casbah shows it:
/// "File accessed" for Office's `FileAccessed`, "Repo create" for GitHub's
/// `repo.create`, "Sign in" for every app's sign-in. Text that is already words
/// ("Add member to group") is kept, without a closing full stop.
pub fn activity_label(app: AppKind, vendor: &str) -> Cow<'_, str> {
    if let Some((_, _, label)) = NAMED.iter().find(|(a, v, _)| *a == app && *v == vendor) {
        return Cow::Borrowed(label);
    }
    let text = vendor.trim().trim_end_matches('.');
    if text.contains(' ') || text.is_empty() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(words(text))
}

impl Activity {
    /// The activity type in casbah's one vocabulary (see `activity_label`).
    pub fn label(&self) -> Cow<'_, str> {
        activity_label(self.app, &self.activity_type)
    }
}

/// `FileAccessed`, `repo.add_member` and `CHANGE_PASSWORD` as "File accessed",
/// "Repo add member" and "Change password": a word starts at a separator or at a
/// capital that follows a small letter or precedes one (`DLPRuleMatch` → "Dlp rule
/// match"); only the first keeps its capital.
fn words(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if matches!(c, '.' | '_' | '-' | '/' | ':') {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
            continue;
        }
        let before = i.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i + 1).copied();
        let starts_word = c.is_uppercase()
            && (before.is_some_and(|b| b.is_lowercase() || b.is_ascii_digit())
                || (before.is_some_and(char::is_uppercase)
                    && after.is_some_and(char::is_lowercase)));
        if starts_word && !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        if out.is_empty() {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 13, R-A1: every vendor's activity types read as words of one vocabulary,
    // and the same thing reads the same whichever app did it.
    #[test]
    fn vendor_names_read_as_one_vocabulary() {
        let cases = [
            (AppKind::Microsoft365, "FileAccessed", "File accessed"),
            (
                AppKind::Microsoft365,
                "FileSyncDownloadedFull",
                "File sync downloaded full",
            ),
            (AppKind::Microsoft365, "DLPRuleMatch", "Dlp rule match"),
            (
                AppKind::Microsoft365,
                "Add member to group.",
                "Add member to group",
            ),
            (AppKind::Microsoft365, "Log on", "Sign in"),
            (AppKind::Okta, "user.session.start", "Sign in"),
            (AppKind::Okta, "policy.rule.update", "Policy rule update"),
            (AppKind::GoogleWorkspace, "login_success", "Sign in"),
            (
                AppKind::GoogleWorkspace,
                "change_user_access",
                "Change user access",
            ),
            (
                AppKind::GoogleWorkspace,
                "CHANGE_PASSWORD",
                "Change password",
            ),
            (AppKind::Github, "repo.create", "Repo create"),
            (
                AppKind::Github,
                "personal_access_token.access_granted",
                "Personal access token access granted",
            ),
            (AppKind::Github, "team.add_member", "Add member to team"),
        ];
        for (app, vendor, label) in cases {
            assert_eq!(activity_label(app, vendor), label, "{app:?} {vendor}");
        }
        // A vendor's name is only renamed for its own app.
        assert_eq!(activity_label(AppKind::Github, "logout"), "Logout");
        assert_eq!(activity_label(AppKind::Okta, ""), "");
    }
}
