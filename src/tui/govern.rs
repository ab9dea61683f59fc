//! Issue 11: the dashboard's calls for acting on accounts and reading the audit
//! trail, and their answers. The runtime runs them; the act dialog and the Audit
//! pane ask for them and take their answers.

use crate::domain::governance::{AccountAction, AuditEntry};
use crate::domain::grants::Grant;
use crate::service::{ActionPlan, ActionReport, AppDetail, AppSummary, Service};

use super::msg::{Failure, Outcome};

#[derive(Debug, Clone, PartialEq)]
pub enum GovernCmd {
    /// Whether actions are refused (the setting, or the server's `--read-only`).
    ReadOnly,
    Plan {
        instance: String,
        action: AccountAction,
        users: Vec<String>,
    },
    Act {
        instance: String,
        action: AccountAction,
        users: Vec<String>,
        reason: String,
    },
    LoadAudit,
    LoadApps,
    /// The grants a person gave, in every instance.
    PersonGrants(String),
    /// One app's grants in one instance (by reference and client id).
    LoadAppGrants {
        instance: String,
        app: String,
    },
}

#[derive(Debug)]
pub enum GovernDone {
    ReadOnly(bool),
    Planned(Outcome<ActionPlan>),
    /// `refused` when the service turned it down before sending anything.
    Acted {
        result: Outcome<ActionReport>,
        refused: bool,
    },
    Audit(Outcome<Vec<AuditEntry>>),
    Apps(Outcome<Vec<AppSummary>>),
    PersonGrants {
        key: String,
        result: Outcome<Vec<(String, Grant)>>,
    },
    AppGrants {
        instance: String,
        app: String,
        result: Outcome<AppDetail>,
    },
}

pub async fn run(svc: Service, cmd: GovernCmd) -> GovernDone {
    match cmd {
        // Not knowing is refusing: actions stay hidden.
        GovernCmd::ReadOnly => GovernDone::ReadOnly(svc.read_only().await.unwrap_or(true)),
        GovernCmd::Plan {
            instance,
            action,
            users,
        } => GovernDone::Planned(
            svc.plan_action(&instance, action, users)
                .await
                .map_err(Failure::from),
        ),
        GovernCmd::Act {
            instance,
            action,
            users,
            reason,
        } => {
            // The users read again arrive as the scan's events; nothing waits for it here.
            let answer = svc.act(&instance, action, users, &reason).await;
            let refused = answer.as_ref().is_err_and(|e| e.is_usage());
            GovernDone::Acted {
                result: answer
                    .map(|(report, _rescan)| report)
                    .map_err(Failure::from),
                refused,
            }
        }
        GovernCmd::LoadAudit => GovernDone::Audit(svc.audit_trail().await.map_err(Failure::from)),
        GovernCmd::LoadApps => GovernDone::Apps(svc.apps(None).await.map_err(Failure::from)),
        GovernCmd::PersonGrants(key) => {
            let result = svc.person_grants(&key).await.map_err(Failure::from);
            GovernDone::PersonGrants { key, result }
        }
        GovernCmd::LoadAppGrants { instance, app } => {
            let result = svc.app_grants(&instance, &app).await.map_err(Failure::from);
            GovernDone::AppGrants {
                instance,
                app,
                result,
            }
        }
    }
}
