//! `casbah act` and `casbah audit` (issue 11): actions on accounts, confirmed, and
//! the trail they leave.

use std::io::{BufRead, IsTerminal, Read, Write};

use serde::Serialize;

use super::args::{ActArgs, JsonFlag};
use super::output::{print_json, print_table, short_time};
use super::{Failure, Outcome};
use crate::domain::governance::{AccountAction, AuditEntry};
use crate::service::{ActionPlan, ActionReport, Service};

/// `casbah act ACTION --instance NAME USER…`: the plan, a confirmation, the report.
pub async fn act(a: ActArgs, svc: &Service, read_only: bool) -> Outcome {
    let action = a.action;
    if read_only {
        return Err(Failure::Usage(format!(
            "casbah runs with --read-only: {} was not sent",
            action.name()
        )));
    }
    let reads_stdin = a.from.as_deref() == Some(std::path::Path::new("-"));
    let mut users = a.users.clone();
    if let Some(from) = &a.from {
        users.extend(read_users(from, reads_stdin)?);
    }
    let users = match (action, a.app.as_deref()) {
        (AccountAction::RevokeGrant, Some(app)) => grants_of(svc, &a.instance, app, &users).await?,
        (AccountAction::RevokeGrant, None) => {
            return Err(Failure::Usage(
                "revoke-grant needs --app: the app whose grants to revoke (see `casbah apps list`)"
                    .into(),
            ));
        }
        (_, Some(_)) => {
            return Err(Failure::Usage(format!(
                "--app is for revoke-grant; {} acts on accounts",
                action.name()
            )));
        }
        (_, None) => users,
    };
    let plan = svc.plan_action(&a.instance, action, users.clone()).await?;
    if a.json && a.dry_run {
        return print_json(&plan);
    }
    show_plan(&plan);
    if a.dry_run {
        println!("dry run: nothing was sent");
        return Ok(());
    }
    let asks = !reads_stdin && std::io::stdin().is_terminal();
    let reason = match a.reason.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => r.to_string(),
        _ if asks => ask("Reason, for the audit trail: ")?,
        _ => {
            return Err(Failure::Usage(
                "say why with --reason TEXT: the audit trail records it; nothing was sent".into(),
            ));
        }
    };
    if !a.yes {
        if !asks {
            return Err(Failure::Usage(
                "acting needs a confirmation: run it on a terminal, or add --yes after reading \
                 the plan with --dry-run; nothing was sent"
                    .into(),
            ));
        }
        let answer = ask(&format!(
            "{} {} of {}? Type yes to go on: ",
            capitalised(action.name()),
            action.targets(plan.targets.len()),
            plan.instance
        ))?;
        if !answer.eq_ignore_ascii_case("yes") {
            return Err(Failure::Failed("not confirmed: nothing was sent".into()));
        }
    }
    let (report, rescan) = svc.act(&a.instance, action, users, &reason).await?;
    if a.json {
        print_json(&report)?;
    } else {
        show_report(&report);
    }
    // The new states, read back, for `casbah members` and the dashboard.
    for job in rescan {
        if let Err(e) = job.wait().await {
            eprintln!("the users of {} were not read again: {e}", report.instance);
        }
    }
    match report.failed.len() {
        0 => Ok(()),
        n => Err(Failure::Failed(format!(
            "{n} of {} failed; see `casbah audit`",
            n + report.done.len()
        ))),
    }
}

/// The ids of `app`'s grants given by `users` (by key, e-mail or account id), or of
/// every grant it holds when no user is named.
async fn grants_of(
    svc: &Service,
    instance: &str,
    app: &str,
    users: &[String],
) -> Result<Vec<String>, Failure> {
    let detail = svc.app_grants(instance, app).await?;
    if users.is_empty() {
        return Ok(detail.grants.into_iter().map(|g| g.id).collect());
    }
    let mut ids = Vec::new();
    for user in users {
        let wanted = crate::domain::user_key(user);
        let mine: Vec<String> = detail
            .grants
            .iter()
            .filter(|g| {
                g.user.as_deref() == Some(wanted.as_str())
                    || g.account_id.as_deref() == Some(user.trim())
            })
            .map(|g| g.id.clone())
            .collect();
        if mine.is_empty() {
            return Err(Failure::Usage(format!(
                "{user:?} has granted {} nothing casbah has read; nothing was sent (see `casbah apps show --instance {instance} {app:?}`)",
                detail.summary.name
            )));
        }
        ids.extend(mine);
    }
    Ok(ids)
}

/// Accounts one per line; blank lines and `#` comments are skipped.
fn read_users(from: &std::path::Path, stdin: bool) -> Result<Vec<String>, Failure> {
    let text = if stdin {
        let mut buf = String::new();
        std::io::stdin()
            .lock()
            .read_to_string(&mut buf)
            .map_err(|e| Failure::Failed(format!("cannot read accounts from stdin: {e}")))?;
        buf
    } else {
        std::fs::read_to_string(from).map_err(|e| {
            Failure::Failed(format!("cannot read accounts from {}: {e}", from.display()))
        })?
    };
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

fn ask(prompt: &str) -> Result<String, Failure> {
    let mut err = std::io::stderr();
    let _ = err.write_all(crate::domain::text::safe(prompt).as_bytes());
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::Failed(format!("cannot read the answer: {e}")))?;
    Ok(line.trim().to_string())
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn show_plan(plan: &ActionPlan) {
    println!(
        "{} {} of {} ({}): {}",
        plan.action.name(),
        plan.action.targets(plan.targets.len()),
        plan.instance,
        plan.app.display_name(),
        plan.effect
    );
    let rows: Vec<Vec<String>> = plan
        .targets
        .iter()
        .map(|t| vec![t.key.clone(), t.name.clone(), t.status.clone()])
        .collect();
    print_table(&["ACCOUNT", "NAME", "STATUS"], &rows);
    for warning in plan.warnings() {
        println!("warning: {warning}");
    }
    if let Some(p) = &plan.permission {
        println!("needs the permission {p}");
    }
}

fn show_report(report: &ActionReport) {
    let rows: Vec<Vec<String>> = report
        .done
        .iter()
        .chain(&report.failed)
        .map(|r| {
            vec![
                r.target.clone(),
                r.outcome.label().to_string(),
                r.outcome.detail(),
            ]
        })
        .collect();
    print_table(&["ACCOUNT", "RESULT", "DETAIL"], &rows);
    println!(
        "{} on {}: {} done, {} failed",
        report.action.name(),
        report.instance,
        report.done.len(),
        report.failed.len()
    );
}

#[derive(Serialize)]
struct AuditJson<'a> {
    #[serde(flatten)]
    entry: &'a AuditEntry,
    /// `at` as RFC 3339, and the outcome in the table's words, for scripts.
    at_time: String,
    result: &'static str,
}

/// `casbah audit`: every action attempted, oldest first.
pub async fn audit(f: JsonFlag, svc: &Service) -> Outcome {
    let trail = svc.audit_trail().await?;
    if f.json {
        let rows: Vec<AuditJson> = trail
            .iter()
            .map(|entry| AuditJson {
                entry,
                at_time: super::output::time(entry.attempt.at),
                result: entry.outcome.label(),
            })
            .collect();
        return print_json(&rows);
    }
    if trail.is_empty() {
        println!("no action has been taken; `casbah act` takes one");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = trail
        .iter()
        .map(|e| {
            let a = &e.attempt;
            vec![
                e.id.to_string(),
                short_time(Some(a.at)),
                a.by.clone(),
                a.instance_name.clone(),
                a.action.clone(),
                a.target.clone(),
                e.outcome.label().to_string(),
                e.outcome.detail(),
                a.reason.clone(),
            ]
        })
        .collect();
    print_table(
        &[
            "#", "WHEN", "BY", "INSTANCE", "ACTION", "ACCOUNT", "RESULT", "DETAIL", "REASON",
        ],
        &rows,
    );
    Ok(())
}
