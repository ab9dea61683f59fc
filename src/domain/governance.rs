//! Issue 11, R-V1: what an administrator can do to an account in its app,
//! and what the app answered.

use serde::{Deserialize, Serialize};

use super::catalog::GovernanceAction;
use super::{AppKind, InstanceId, Micros};

/// An action on one account, or on what it granted an app. Which account actions
/// an app offers, its connector says; revoking grants goes with app permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccountAction {
    Suspend,
    Unsuspend,
    /// Ends the account's sessions everywhere, so it must sign in again.
    SignOut,
    /// The account must choose a new password at its next sign-in.
    RequirePasswordChange,
    /// Issue 11: an app loses the access a grant gave it (one person's consent, an
    /// administrator's for everyone, or an application permission).
    RevokeGrant,
}

impl AccountAction {
    /// The actions on accounts themselves.
    pub const ALL: [AccountAction; 4] = [
        AccountAction::Suspend,
        AccountAction::Unsuspend,
        AccountAction::SignOut,
        AccountAction::RequirePasswordChange,
    ];

    /// Every action `casbah act` takes.
    pub const EVERY: [AccountAction; 5] = [
        AccountAction::Suspend,
        AccountAction::Unsuspend,
        AccountAction::SignOut,
        AccountAction::RequirePasswordChange,
        AccountAction::RevokeGrant,
    ];

    /// As the command line names it (`casbah act sign-out`).
    pub fn name(self) -> &'static str {
        match self {
            AccountAction::Suspend => "suspend",
            AccountAction::Unsuspend => "unsuspend",
            AccountAction::SignOut => "sign-out",
            AccountAction::RequirePasswordChange => "require-password-change",
            AccountAction::RevokeGrant => "revoke-grant",
        }
    }

    /// The catalog's name for what it does (R-C1): unsuspending undoes a
    /// suspension, so it goes with it.
    pub fn catalog_action(self) -> GovernanceAction {
        match self {
            AccountAction::Suspend | AccountAction::Unsuspend => GovernanceAction::SuspendUser,
            AccountAction::SignOut => GovernanceAction::RevokeSessions,
            AccountAction::RequirePasswordChange => GovernanceAction::RevokePassword,
            AccountAction::RevokeGrant => GovernanceAction::RemoveAppToken,
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

impl AccountAction {
    /// Parses the command line's name of an action.
    pub fn parse(name: &str) -> Option<AccountAction> {
        AccountAction::EVERY.into_iter().find(|a| a.name() == name)
    }

    /// What carrying it out does to the account, in a few words for a confirmation.
    pub fn effect(self) -> &'static str {
        match self {
            AccountAction::Suspend => "cannot sign in until unsuspended",
            AccountAction::Unsuspend => "can sign in again",
            AccountAction::SignOut => "every session ends; it must sign in again",
            AccountAction::RequirePasswordChange => "must choose a new password at next sign-in",
            AccountAction::RevokeGrant => "the app loses this access; it must be granted again",
        }
    }

    /// What `n` targets of it are: "1 account", "3 grants".
    pub fn targets(self, n: usize) -> String {
        let noun = match self {
            AccountAction::RevokeGrant => "grant",
            _ => "account",
        };
        format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
    }

    /// Whether casbah can take it back: a suspension is undone by unsuspending;
    /// ended sessions and a demanded password change stay done.
    pub fn can_be_undone(self) -> bool {
        matches!(self, AccountAction::Suspend | AccountAction::Unsuspend)
    }
}

/// Issue 11: one action attempted, as the audit trail keeps it. Written before the
/// request is sent; its outcome is written once, beside it, when the vendor answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditAttempt {
    /// When it was about to be sent.
    pub at: Micros,
    /// The OS user who asked, or through `casbah serve` the attached client's user.
    pub by: String,
    pub instance: InstanceId,
    /// The instance's name then (an instance may be removed or renamed later).
    pub instance_name: String,
    pub app: AppKind,
    /// The action's command-line name (`suspend`, `sign-out`).
    pub action: String,
    /// The person acted on (their key) and the account's id in the app.
    pub target: String,
    pub account_id: String,
    /// What the administrator typed.
    pub reason: String,
}

/// How an attempted action ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
// Externally tagged: postcard, which stores it, reads no other form.
#[serde(rename_all = "kebab-case")]
pub enum AuditOutcome {
    /// Written before sending and never answered (casbah stopped, the answer was lost):
    /// the account's state in the app says whether it was carried out.
    Unknown,
    Done {
        status: u16,
        request_id: Option<String>,
    },
    Failed {
        /// The vendor's HTTP status and error code, where it answered.
        status: Option<u16>,
        code: Option<String>,
        message: String,
    },
}

impl AuditOutcome {
    /// The app's answer in a few words: its status and request id, or its error.
    pub fn detail(&self) -> String {
        match self {
            AuditOutcome::Unknown => "no answer recorded: check the account in the app".into(),
            AuditOutcome::Done { status, request_id } => match request_id {
                Some(id) => format!("{status}, request {id}"),
                None => status.to_string(),
            },
            AuditOutcome::Failed { message, .. } => message.clone(),
        }
    }

    /// The trail's words for it.
    pub fn label(&self) -> &'static str {
        match self {
            AuditOutcome::Unknown => "sent, result unknown",
            AuditOutcome::Done { .. } => "done",
            AuditOutcome::Failed { .. } => "failed",
        }
    }
}

/// An entry of the trail: the attempt, its number, and its outcome once known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: u64,
    #[serde(flatten)]
    pub attempt: AuditAttempt,
    /// When the outcome was written; none while unknown.
    pub settled: Option<Micros>,
    pub outcome: AuditOutcome,
}

/// The account actions the catalog lists for `app` (R-V1) that casbah carries
/// out: those of an app it has a connector for, which offers the same (checked
/// by the connector tests).
pub fn offered(app: AppKind) -> Vec<AccountAction> {
    let info = app.info();
    if !info.connector {
        return Vec::new();
    }
    let listed = &info.actions;
    AccountAction::ALL
        .into_iter()
        .filter(|a| listed.contains(&a.catalog_action()))
        .collect()
}
