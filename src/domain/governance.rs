//! Issue 11, R-V1: what an administrator can do to an account in its app,
//! and what the app answered.

use serde::{Deserialize, Serialize};

use super::catalog::GovernanceAction;

/// An action on one account. Which an app offers, its connector says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccountAction {
    Suspend,
    Unsuspend,
    /// Ends the account's sessions everywhere, so it must sign in again.
    SignOut,
    /// The account must choose a new password at its next sign-in.
    RequirePasswordChange,
}

impl AccountAction {
    pub const ALL: [AccountAction; 4] = [
        AccountAction::Suspend,
        AccountAction::Unsuspend,
        AccountAction::SignOut,
        AccountAction::RequirePasswordChange,
    ];

    /// As the command line names it (`casbah act sign-out`).
    pub fn name(self) -> &'static str {
        match self {
            AccountAction::Suspend => "suspend",
            AccountAction::Unsuspend => "unsuspend",
            AccountAction::SignOut => "sign-out",
            AccountAction::RequirePasswordChange => "require-password-change",
        }
    }

    /// The catalog's name for what it does (R-C1): unsuspending undoes a
    /// suspension, so it goes with it.
    pub fn catalog_action(self) -> GovernanceAction {
        match self {
            AccountAction::Suspend | AccountAction::Unsuspend => GovernanceAction::SuspendUser,
            AccountAction::SignOut => GovernanceAction::RevokeSessions,
            AccountAction::RequirePasswordChange => GovernanceAction::RevokePassword,
        }
    }
}

/// The app's answer to an action carried out: its HTTP status and the id it
/// gave the request, which its support can look up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionReceipt {
    pub status: u16,
    pub request_id: Option<String>,
}
