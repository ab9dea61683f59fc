//! Issue 11: acting on accounts. A plan names every target and warning and sends
//! nothing; acting checks it all again, writes each attempt to the audit trail
//! before its request leaves, the vendor's answer after, and reads the users again.

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::{Event, JobHandle, Level, Local, Result, ServiceError};
use crate::connectors::{Connector, ConnectorError};
use crate::domain::governance::{AccountAction, AuditAttempt, AuditEntry, AuditOutcome};
use crate::domain::grants::{Grant, GrantKind};
use crate::domain::{AppKind, AutoGroup, GroupKind, Instance, RemoteUser, UserStatus, now_micros};

/// The setting that refuses every action (issue 11: read-only mode).
pub const READ_ONLY_SETTING: &str = "governance.read-only";

/// How many requests of one action are in flight at once: quick for forty members,
/// gentle on the vendor's rate limits.
const IN_FLIGHT: usize = 4;

/// What an action would do, before anything is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionPlan {
    pub instance: String,
    pub app: AppKind,
    pub action: AccountAction,
    /// What it does to each account.
    pub effect: String,
    pub can_be_undone: bool,
    /// The permission the app's credentials need for it, as the catalog names it.
    pub permission: Option<String>,
    pub targets: Vec<PlannedTarget>,
}

/// One account an action names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedTarget {
    /// The person's key (their e-mail, or sign-in name).
    pub key: String,
    pub name: String,
    /// The account's id in the app, which the request names.
    pub account_id: String,
    /// Its state as of the last user scan.
    pub status: String,
    /// What the administrator should know first (an administrator, synced from AD).
    pub warnings: Vec<String>,
}

/// How an action went, target by target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionReport {
    pub instance: String,
    pub action: AccountAction,
    pub done: Vec<ActedOn>,
    pub failed: Vec<ActedOn>,
}

/// One target's outcome, with its number in the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActedOn {
    pub target: String,
    pub audit: u64,
    pub outcome: AuditOutcome,
}

impl ActionPlan {
    /// The warnings of every target, each once, for a confirmation's last lines.
    pub fn warnings(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for w in self.targets.iter().flat_map(|t| &t.warnings) {
            if !all.contains(w) {
                all.push(w.clone());
            }
        }
        if !self.can_be_undone {
            all.push(format!("{} cannot be undone", self.action.name()));
        }
        all
    }
}

impl Local {
    /// Whether actions are refused: `casbah serve --read-only`, the dashboard's or
    /// command's `--read-only`, or the setting.
    pub async fn read_only(&self) -> Result<bool> {
        if self
            .inner
            .read_only
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Ok(true);
        }
        let setting = self.db(|s| s.setting(READ_ONLY_SETTING)).await?;
        Ok(matches!(setting.as_deref(), Some("on")))
    }

    /// The targets of `action` on `users` of `instance`, with what to know first.
    /// Refuses, before anything is sent, an action the app does not offer, read-only
    /// mode, and any user casbah has not synced.
    pub async fn plan_action(
        &self,
        instance: &str,
        action: AccountAction,
        users: Vec<String>,
    ) -> Result<ActionPlan> {
        Ok(self.prepare(instance, action, &users).await?.plan)
    }

    /// Carries out `action` on `users`, as `plan_action` names them, on the record.
    /// Returns how each went and the user scan started to show the new states.
    pub async fn act(
        &self,
        instance: &str,
        action: AccountAction,
        users: Vec<String>,
        reason: &str,
    ) -> Result<(ActionReport, Vec<JobHandle>)> {
        let reason = crate::domain::text::sanitize(reason.trim());
        if reason.is_empty() {
            return Err(ServiceError::Invalid(
                "say why (--reason): the audit trail records the reason for every action".into(),
            ));
        }
        let Prepared {
            plan,
            instance,
            connector,
            grants,
        } = self.prepare(instance, action, &users).await?;
        let grant_of = |id: &str| grants.iter().find(|g| g.id == id);
        let by = super::server::caller();
        let requests: Vec<_> = plan
            .targets
            .iter()
            .map(|target| {
                let attempt = AuditAttempt {
                    at: 0,
                    by: by.clone(),
                    instance: instance.id,
                    instance_name: instance.name.clone(),
                    app: instance.app,
                    action: action.name().to_string(),
                    target: target.key.clone(),
                    account_id: target.account_id.clone(),
                    reason: reason.clone(),
                };
                self.attempt(attempt, &*connector, action, grant_of(&target.account_id))
            })
            .collect();
        let results: Vec<ActedOn> = futures::stream::iter(requests)
            .buffered(IN_FLIGHT)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_>>()?;
        let (done, failed): (Vec<ActedOn>, Vec<ActedOn>) = results
            .into_iter()
            .partition(|r| matches!(r.outcome, AuditOutcome::Done { .. }));
        let level = if failed.is_empty() {
            Level::Info
        } else {
            Level::Warning
        };
        self.notify(
            level,
            format!(
                "{} on {}: {} done, {} failed (see :audit)",
                action.name(),
                instance.name,
                done.len(),
                failed.len()
            ),
        );
        self.emit(Event::Audited);
        let mut rescan = vec![self.scan_users(&instance)];
        if matches!(action, AccountAction::Suspend | AccountAction::Unsuspend) {
            rescan.extend(self.resync_groups_of(&instance, &plan).await?);
        }
        Ok((
            ActionReport {
                instance: instance.name,
                action,
                done,
                failed,
            },
            rescan,
        ))
    }

    /// R-G4: groups keep active members only, so a suspension leaves (and an
    /// unsuspension rejoins) the imported groups of this instance its accounts are in.
    async fn resync_groups_of(
        &self,
        instance: &Instance,
        plan: &ActionPlan,
    ) -> Result<Vec<JobHandle>> {
        let keys: Vec<String> = plan.targets.iter().map(|t| t.key.clone()).collect();
        let theirs = self
            .db(move |s| {
                let mut ids = std::collections::BTreeSet::new();
                for key in &keys {
                    ids.extend(s.person_directory(key)?.groups);
                }
                Ok(ids)
            })
            .await?;
        let groups = self.db(|s| s.groups()).await?;
        Ok(groups
            .into_iter()
            .filter(|g| theirs.contains(&g.id))
            .filter(
                |g| matches!(g.kind, GroupKind::Imported { instance: i, .. } if i == instance.id),
            )
            .map(|g| self.start_group_sync(g.id, &g.name))
            .collect())
    }

    /// The people in the app's administrators group (R-G1), where it has one: the
    /// accounts whose own record does not say they administer it (Entra's).
    async fn admins_of(&self, app: AppKind) -> Result<std::collections::HashSet<String>> {
        let Some(auto) = AutoGroup::administrators_of(app) else {
            return Ok(Default::default());
        };
        self.db(move |s| {
            let mut keys = std::collections::HashSet::new();
            for g in s.groups()? {
                if g.kind == GroupKind::Automatic(auto.clone()) {
                    keys.extend(s.member_keys(g.id)?);
                }
            }
            Ok(keys)
        })
        .await
    }

    pub async fn audit_trail(&self) -> Result<Vec<AuditEntry>> {
        self.db(|s| s.audit_trail()).await
    }

    /// One target: on the record, sent once, and its answer on the record. A grant
    /// revoked leaves the grants at once, before the next scan says so.
    async fn attempt(
        &self,
        mut attempt: AuditAttempt,
        connector: &dyn Connector,
        action: AccountAction,
        grant: Option<&Grant>,
    ) -> Result<ActedOn> {
        // When it leaves, not when it was queued behind the others.
        attempt.at = now_micros();
        let account = attempt.account_id.clone();
        let target = attempt.target.clone();
        let instance = attempt.instance;
        let id = self.db(move |s| s.audit_attempt(&attempt)).await?;
        let answer = match grant {
            Some(grant) => connector.revoke_grant(grant).await,
            None => connector.act_on_account(action, &account).await,
        };
        let outcome = match answer {
            Ok(receipt) => AuditOutcome::Done {
                status: receipt.status,
                request_id: receipt.request_id,
            },
            Err(e) => failure(&e),
        };
        let kept = outcome.clone();
        self.db(move |s| s.audit_outcome(id, now_micros(), &kept))
            .await?;
        if let (Some(grant), AuditOutcome::Done { .. }) = (grant, &outcome) {
            let grant_id = grant.id.clone();
            self.db(move |s| s.remove_grant(instance, &grant_id))
                .await?;
        }
        Ok(ActedOn {
            target,
            audit: id,
            outcome,
        })
    }

    async fn prepare(
        &self,
        instance: &str,
        action: AccountAction,
        users: &[String],
    ) -> Result<Prepared> {
        if self.read_only().await? {
            return Err(ServiceError::Invalid(format!(
                "casbah is in read-only mode: {} was not sent (turn off --read-only or the \
                 {READ_ONLY_SETTING} setting to act)",
                action.name()
            )));
        }
        let instance = self.find_instance(instance).await?;
        let connector = self.connector(&instance).await?;
        let offered = match action {
            AccountAction::RevokeGrant => instance
                .app
                .info()
                .actions
                .contains(&action.catalog_action()),
            _ => connector.account_actions().contains(&action),
        };
        if !offered {
            return Err(ServiceError::Invalid(not_offered(&instance, action)));
        }
        let wanted: Vec<String> = users
            .iter()
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .collect();
        if wanted.is_empty() {
            return Err(ServiceError::Invalid(format!(
                "name at least one account of {} to {}",
                instance.name,
                action.name()
            )));
        }
        let id = instance.id;
        let mut targets: Vec<PlannedTarget> = Vec::new();
        let mut unknown = Vec::new();
        let mut chosen = Vec::new();
        if action == AccountAction::RevokeGrant {
            let grants = self.db(move |s| s.grants(Some(id))).await?;
            for name in &wanted {
                match grants.iter().map(|(_, g)| g).find(|g| g.id == *name) {
                    Some(g) if !g.revocable => {
                        return Err(ServiceError::Invalid(format!(
                            "{} offers no way to take back {} through its API: an administrator \
                             removes it in the app's settings; nothing was sent",
                            instance.app.display_name(),
                            g.app_name
                        )));
                    }
                    Some(g) if !targets.iter().any(|t| t.account_id == g.id) => {
                        targets.push(planned_grant(g));
                        chosen.push(g.clone());
                    }
                    Some(_) => {}
                    None => unknown.push(name.as_str()),
                }
            }
        } else {
            let accounts = self.db(move |s| s.instance_users(id)).await?;
            let admins = self.admins_of(instance.app).await?;
            for name in &wanted {
                match find_account(&accounts, name) {
                    Some(account) if !targets.iter().any(|t| t.account_id == account.id) => {
                        let admin = account.admin || admins.contains(&account.key());
                        targets.push(planned(account, admin, action, instance.app));
                    }
                    Some(_) => {}
                    None => unknown.push(name.as_str()),
                }
            }
        }
        if !unknown.is_empty() {
            return Err(ServiceError::Invalid(format!(
                "casbah has not synced {} in {}; nothing was sent (check the name, or read the \
                 instance's users again: `casbah sync --instance {} --wait`)",
                quoted(&unknown),
                instance.name,
                instance.name
            )));
        }
        let plan = ActionPlan {
            instance: instance.name.clone(),
            app: instance.app,
            action,
            effect: action.effect().to_string(),
            can_be_undone: action.can_be_undone(),
            permission: instance
                .app
                .info()
                .permissions
                .get(&action.catalog_action())
                .cloned(),
            targets,
        };
        Ok(Prepared {
            plan,
            instance,
            connector,
            grants: chosen,
        })
    }
}

/// An action checked and ready to send: its plan, where, through what, and the
/// grants it revokes (none for an action on accounts).
struct Prepared {
    plan: ActionPlan,
    instance: Instance,
    connector: std::sync::Arc<dyn Connector>,
    grants: Vec<Grant>,
}

fn not_offered(instance: &Instance, action: AccountAction) -> String {
    format!(
        "{} ({}) cannot {}: its API offers no such account action",
        instance.name,
        instance.app.display_name(),
        action.name()
    )
}

fn quoted(names: &[&str]) -> String {
    let shown: Vec<String> = names.iter().take(5).map(|n| format!("{n:?}")).collect();
    match names.len() {
        n if n > 5 => format!("{} and {} more", shown.join(", "), n - 5),
        _ => shown.join(", "),
    }
}

/// The account a typed name means: its key, e-mail, sign-in name or id in the app.
fn find_account<'a>(accounts: &'a [RemoteUser], name: &str) -> Option<&'a RemoteUser> {
    let lower = name.to_lowercase();
    accounts.iter().find(|a| {
        a.key() == lower
            || a.email.eq_ignore_ascii_case(name)
            || a.id == name
            || a.principal_name
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case(name))
    })
}

fn planned(
    account: &RemoteUser,
    admin: bool,
    action: AccountAction,
    app: AppKind,
) -> PlannedTarget {
    let mut warnings = Vec::new();
    if admin {
        warnings.push(format!("{} is an administrator of the app", account.key()));
    }
    if account.on_premises_sync && action != AccountAction::SignOut {
        warnings.push(format!(
            "{} syncs from on-premises AD: the next sync may revert this; act in AD too",
            account.key()
        ));
    }
    let already = matches!(
        (action, &account.status),
        (
            AccountAction::Suspend,
            UserStatus::Suspended | UserStatus::Disabled
        ) | (AccountAction::Unsuspend, UserStatus::Active)
    );
    if already {
        warnings.push(format!(
            "{} is already {} in {}",
            account.key(),
            account.status.reason(),
            app.display_name()
        ));
    }
    if account.status == UserStatus::Deleted {
        warnings.push(format!(
            "{} is deleted in {}",
            account.key(),
            app.display_name()
        ));
    }
    PlannedTarget {
        key: account.key(),
        name: account.display_name.clone(),
        account_id: account.id.clone(),
        status: account.status.reason().to_string(),
        warnings,
    }
}

/// A grant as a target: whose it is, the app, and what it lets the app do.
fn planned_grant(g: &Grant) -> PlannedTarget {
    let who = match (&g.user, g.kind) {
        (Some(user), _) => user.clone(),
        (None, kind) => kind.label().to_owned(),
    };
    let mut warnings = Vec::new();
    match g.kind {
        GrantKind::AllUsers => warnings.push(format!(
            "{} was granted for every user: revoking it cuts all of them off",
            g.app_name
        )),
        GrantKind::Application => warnings.push(format!(
            "{} holds this permission as itself: whatever runs on it stops working",
            g.app_name
        )),
        GrantKind::User => {}
    }
    let risky = g.risky_scopes();
    PlannedTarget {
        key: who,
        name: g.app_name.clone(),
        account_id: g.id.clone(),
        status: if risky.is_empty() {
            g.scopes.join(" ")
        } else {
            format!("risky: {}", risky.join(" "))
        },
        warnings,
    }
}

/// The trail's record of a refusal: the vendor's status and code where it answered.
fn failure(e: &ConnectorError) -> AuditOutcome {
    let (status, code) = match e {
        ConnectorError::Vendor { status, code, .. } => (Some(*status), Some(code.clone())),
        ConnectorError::Permission { code, .. } => (Some(403), Some(code.clone())),
        ConnectorError::Auth { code, .. } => (Some(401), Some(code.clone())),
        _ => (None, None),
    };
    AuditOutcome::Failed {
        status,
        code,
        message: e.to_string(),
    }
}
