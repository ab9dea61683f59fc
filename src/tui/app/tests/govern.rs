//! Issue 11: acting on accounts from the dashboard, and the audit trail.

use super::*;
use crate::domain::governance::{AccountAction, AuditAttempt, AuditEntry, AuditOutcome};
use crate::service::{ActedOn, ActionPlan, ActionReport, PlannedTarget};
use crate::tui::govern::{GovernCmd, GovernDone};

/// Finance EMEA's members open, three of them in instance 1, actions allowed.
fn members_open() -> App {
    let mut app = app();
    loaded(&mut app);
    app.update(Msg::Done(Done::Govern(GovernDone::ReadOnly(false))));
    typed(&mut app, "2j");
    press(&mut app, KeyCode::Enter);
    let members = ["ann", "bob", "cy"]
        .iter()
        .map(|key| member(key, key, Some(InstanceId(1))))
        .collect();
    app.update(Msg::Done(Done::Members {
        group: GroupId(2),
        result: Ok(members),
    }));
    app.take_cmds();
    app
}

fn plan(keys: &[&str]) -> ActionPlan {
    ActionPlan {
        instance: "contoso".into(),
        app: AppKind::Microsoft365,
        action: AccountAction::Suspend,
        effect: AccountAction::Suspend.effect().into(),
        can_be_undone: true,
        permission: None,
        targets: keys
            .iter()
            .map(|k| PlannedTarget {
                key: k.to_string(),
                name: k.to_string(),
                account_id: format!("id-{k}"),
                status: "active".into(),
                warnings: vec![format!("{k} syncs from on-premises AD")],
            })
            .collect(),
    }
}

fn govern_cmds(app: &mut App) -> Vec<GovernCmd> {
    app.take_cmds()
        .into_iter()
        .filter_map(|c| match c {
            Cmd::Govern(g) => Some(g),
            _ => None,
        })
        .collect()
}

// Issue 11: marked members are acted on together, only after a reason and a `y`
// that names the action; any other key goes back and sends nothing.
#[test]
fn marked_members_are_acted_on_after_a_reason_and_a_y() {
    let mut app = members_open();
    assert!(app.contexts().contains(&Context::Act), "the key is offered");
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char(' '));
    assert_eq!(app.panes.members.marked.len(), 2);
    typed(&mut app, "!");
    assert!(app.act.is_some(), "the dialog opens");
    // The first action Microsoft 365 offers: suspend.
    press(&mut app, KeyCode::Enter);
    let sent = govern_cmds(&mut app);
    assert_eq!(
        sent,
        vec![GovernCmd::Plan {
            instance: "microsoft365/contoso".into(),
            action: AccountAction::Suspend,
            users: vec!["ann@c.com".into(), "bob@c.com".into()],
        }]
    );
    app.update(Msg::Done(Done::Govern(GovernDone::Planned(Ok(plan(&[
        "ann@c.com",
        "bob@c.com",
    ]))))));
    assert!(
        app.act.as_ref().is_some_and(|a| a.typing()),
        "the reason is typed"
    );
    press(&mut app, KeyCode::Enter);
    assert!(govern_cmds(&mut app).is_empty(), "no reason, nothing sent");
    typed(&mut app, "phished");
    press(&mut app, KeyCode::Enter);
    typed(&mut app, "n");
    assert!(govern_cmds(&mut app).is_empty(), "only y sends");
    assert!(app.act.as_ref().is_some_and(|a| a.typing()), "n goes back");
    press(&mut app, KeyCode::Enter);
    typed(&mut app, "y");
    assert_eq!(
        govern_cmds(&mut app),
        vec![GovernCmd::Act {
            instance: "microsoft365/contoso".into(),
            action: AccountAction::Suspend,
            users: vec!["id-ann@c.com".into(), "id-bob@c.com".into()],
            reason: "phished".into(),
        }]
    );
    let failed = AuditOutcome::Failed {
        status: Some(403),
        code: Some("Authorization_RequestDenied".into()),
        message: "grant User.EnableDisableAccount.All".into(),
    };
    app.update(Msg::Done(Done::Govern(GovernDone::Acted {
        result: Ok(ActionReport {
            instance: "contoso".into(),
            action: AccountAction::Suspend,
            done: vec![ActedOn {
                target: "ann@c.com".into(),
                audit: 1,
                outcome: AuditOutcome::Done {
                    status: 204,
                    request_id: None,
                },
            }],
            failed: vec![ActedOn {
                target: "bob@c.com".into(),
                audit: 2,
                outcome: failed,
            }],
        }),
        refused: false,
    })));
    let screen = drawn(&app, 120, 40).join("\n");
    assert!(screen.contains("1 done, 1 failed"), "{screen}");
    assert!(screen.contains("User.EnableDisableAccount.All"), "{screen}");
    press(&mut app, KeyCode::Esc);
    assert!(app.act.is_none());
}

// Issue 11: in read-only mode the key is neither offered nor obeyed.
#[test]
fn read_only_hides_and_refuses_actions() {
    let mut app = members_open();
    app.update(Msg::Done(Done::Govern(GovernDone::ReadOnly(true))));
    assert!(!app.contexts().contains(&Context::Act));
    typed(&mut app, "!");
    assert!(app.act.is_none());
    let mut flagged = members_open();
    flagged.no_actions = true;
    flagged.update(Msg::Done(Done::Govern(GovernDone::ReadOnly(false))));
    assert!(flagged.env.read_only, "--read-only wins over the service");
}

// Issue 11: :audit shows the trail newest first, and reads it again when an
// action is recorded.
#[test]
fn the_audit_pane_lists_the_trail_newest_first() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, ":audit");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, PaneId::Audit);
    let entry = |id: u64, target: &str| AuditEntry {
        id,
        attempt: AuditAttempt {
            at: NOW - 1_000_000 * (10 - id as i64),
            by: "ann".into(),
            instance: InstanceId(1),
            instance_name: "contoso".into(),
            app: AppKind::Microsoft365,
            action: "suspend".into(),
            target: target.into(),
            account_id: "x".into(),
            reason: "phished".into(),
        },
        settled: None,
        outcome: AuditOutcome::Unknown,
    };
    app.update(Msg::Done(Done::Govern(GovernDone::Audit(Ok(vec![
        entry(1, "old@c.com"),
        entry(2, "new@c.com"),
    ])))));
    let screen = drawn(&app, 120, 40).join("\n");
    let (new, old) = (screen.find("new@c.com"), screen.find("old@c.com"));
    assert!(new.is_some() && new < old, "{screen}");
    assert!(screen.contains("sent, result unknown"), "{screen}");
    app.update(Msg::Service(Event::Audited));
    assert!(govern_cmds(&mut app).contains(&GovernCmd::LoadAudit));
}

fn app_summary() -> crate::service::AppSummary {
    crate::service::AppSummary {
        instance: "contoso".into(),
        vendor: AppKind::Microsoft365,
        app_id: "app-1".into(),
        name: "MailSync Pro".into(),
        users: 2,
        all_users: false,
        application: false,
        scopes: vec!["Mail.Send".into()],
        risky: vec!["Mail.Send".into()],
        last_granted: None,
        grants: 2,
    }
}

fn app_detail() -> crate::service::AppDetail {
    use crate::domain::grants::{Grant, GrantKind};
    let grant = |n: u8| Grant {
        id: format!("g{n}"),
        kind: GrantKind::User,
        app_id: "app-1".into(),
        app_name: "MailSync Pro".into(),
        user: Some(format!("u{n}@c.com")),
        account_id: Some(format!("id{n}")),
        scopes: vec!["Mail.Send".into()],
        granted_at: None,
        revocable: true,
    };
    crate::service::AppDetail {
        summary: app_summary(),
        grants: vec![grant(1), grant(2)],
    }
}

// Issue 11: in Apps, Enter shows who granted an app what; `!` on a grant offers
// revoking it and nothing else; `!` on the app revokes every grant it holds.
#[test]
fn grants_are_revoked_from_the_apps_pane() {
    let mut app = members_open();
    typed(&mut app, ":apps");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, PaneId::Apps);
    app.update(Msg::Done(Done::Govern(GovernDone::Apps(Ok(vec![
        app_summary(),
    ])))));
    press(&mut app, KeyCode::Enter);
    let load = GovernCmd::LoadAppGrants {
        instance: "microsoft365/contoso".into(),
        app: "app-1".into(),
    };
    assert_eq!(govern_cmds(&mut app), vec![load.clone()]);
    let loaded = || GovernDone::AppGrants {
        instance: "microsoft365/contoso".into(),
        app: "app-1".into(),
        result: Ok(app_detail()),
    };
    app.update(Msg::Done(Done::Govern(loaded())));
    let screen = drawn(&app, 120, 40).join("\n");
    assert!(
        screen.contains("u2@c.com") && screen.contains("Mail.Send!"),
        "{screen}"
    );
    press(&mut app, KeyCode::Down);
    typed(&mut app, "!");
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        govern_cmds(&mut app),
        vec![GovernCmd::Plan {
            instance: "microsoft365/contoso".into(),
            action: AccountAction::RevokeGrant,
            users: vec!["g2".into()],
        }]
    );
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Esc);
    assert!(app.act.is_none());
    // Back on the list, `!` on the app: all of its grants once read.
    press(&mut app, KeyCode::Esc);
    typed(&mut app, "!");
    assert_eq!(govern_cmds(&mut app), vec![load]);
    app.update(Msg::Done(Done::Govern(loaded())));
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        govern_cmds(&mut app),
        vec![GovernCmd::Plan {
            instance: "microsoft365/contoso".into(),
            action: AccountAction::RevokeGrant,
            users: vec!["g1".into(), "g2".into()],
        }]
    );
}
