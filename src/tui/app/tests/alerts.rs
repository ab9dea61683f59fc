//! Issue 12: the Alerts pane, the header's count, the policy list and its editor.

use super::*;
use crate::domain::policy::{Alert, AlertState, Per, Policy, Severity};
use crate::service::{AlertCounts, PolicyTest, PolicyView};
use crate::tui::watch::{WatchCmd, WatchDone};

fn alert(id: u64, actor: &str) -> Alert {
    let mut policy = Policy::new("Failed sign-ins", "action:sign-in failed");
    policy.id = 3;
    policy.severity = Severity::High;
    let mut a = Alert::new(id, &policy, actor.into(), None, NOW - 60_000_000);
    a.first = NOW - 120_000_000;
    a.last = NOW - 90_000_000;
    a.count = 6;
    a.actors = vec![actor.into()];
    a
}

fn watch_cmds(app: &mut App) -> Vec<WatchCmd> {
    app.take_cmds()
        .into_iter()
        .filter_map(|c| match c {
            Cmd::Watch(w) => Some(w),
            _ => None,
        })
        .collect()
}

fn with_alerts() -> App {
    let mut app = app();
    loaded(&mut app);
    app.update(Msg::Done(Done::Watch(WatchDone::Counts(Ok(AlertCounts {
        open: 2,
        ..AlertCounts::default()
    })))));
    app.update(Msg::Done(Done::Watch(WatchDone::Alerts(Ok(vec![
        alert(2, "bob@c.com"),
        alert(1, "ann@c.com"),
    ])))));
    app.take_cmds();
    app
}

// Issue 12: the open count is in the header on every pane; a change of alerts
// anywhere asks for it again.
#[test]
fn the_header_counts_open_alerts_from_every_pane() {
    let mut app = with_alerts();
    for pane in ["1", "4", "8"] {
        typed(&mut app, pane);
        assert!(
            drawn(&app, 80, 24)[0].contains("⚑ 2 alerts"),
            "{pane}: {:?}",
            drawn(&app, 80, 24)[0]
        );
    }
    app.update(Msg::Service(Event::AlertsChanged));
    let cmds = watch_cmds(&mut app);
    assert!(cmds.contains(&WatchCmd::LoadCounts), "{cmds:?}");
    assert!(cmds.contains(&WatchCmd::LoadAlerts), "{cmds:?}");
}

// Issue 12: Enter on an alert opens its activities with the filter that matched;
// a, r and d change its state through the service.
#[test]
fn an_alert_opens_its_activities_and_changes_state() {
    let mut app = with_alerts();
    typed(&mut app, "8");
    assert_eq!(app.focus, PaneId::Alerts);
    let screen = drawn(&app, 100, 24).join("\n");
    assert!(
        screen.contains("Failed sign-ins: 6 activities by bob@c.com"),
        "{screen}"
    );
    typed(&mut app, "ja");
    assert_eq!(
        watch_cmds(&mut app),
        [WatchCmd::ChangeAlert {
            id: 1,
            state: AlertState::Acknowledged
        }]
    );
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, PaneId::Activities);
    assert_eq!(
        app.panes.activities.filter(),
        alert(1, "ann@c.com").activities_filter()
    );
    assert!(
        app.breadcrumbs().iter().any(|c| c == "alert #1"),
        "{:?}",
        app.breadcrumbs()
    );
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, PaneId::Alerts, "Esc goes back to the alerts");
}

// Issue 12: the policy list switches a policy on and off; the editor checks the
// filter as it is typed, with the errors `/` gives, tests 7 days and saves.
#[test]
fn policies_are_switched_and_edited_with_the_filter_checked() {
    let mut app = with_alerts();
    typed(&mut app, "8p");
    assert!(watch_cmds(&mut app).contains(&WatchCmd::LoadPolicies));
    let mut stored = Policy::new("Failed sign-ins", "action:sign-in failed");
    (stored.id, stored.enabled) = (3, true);
    app.update(Msg::Done(Done::Watch(WatchDone::Policies(Ok(vec![
        PolicyView {
            policy: stored.clone(),
            problem: None,
            open_alerts: 2,
        },
    ])))));
    press(&mut app, KeyCode::Char(' '));
    assert_eq!(
        watch_cmds(&mut app),
        [WatchCmd::SetEnabled {
            name: "3".into(),
            enabled: false
        }]
    );
    typed(&mut app, "n");
    assert!(app.panes.alerts.typing(), "the editor takes the keys");
    typed(&mut app, "Burst");
    press(&mut app, KeyCode::Tab);
    typed(&mut app, "acton:download");
    let screen = drawn(&app, 100, 30).join("\n");
    assert!(
        screen.contains("✗ column 1: unknown field `acton`"),
        "{screen}"
    );
    for _ in 0.."acton:download".len() {
        press(&mut app, KeyCode::Backspace);
    }
    typed(&mut app, "action:download");
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Backspace);
    typed(&mut app, "5");
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Char('x'));
    assert!(
        drawn(&app, 100, 30)
            .join("\n")
            .contains("no time unit \"hx\"")
    );
    press(&mut app, KeyCode::Backspace);
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('t'),
        KeyModifiers::CONTROL,
    )));
    let cmds = watch_cmds(&mut app);
    let [WatchCmd::Test(draft)] = cmds.as_slice() else {
        panic!("{cmds:?}");
    };
    assert_eq!(
        (draft.name.as_str(), draft.filter.as_str()),
        ("Burst", "action:download")
    );
    assert_eq!((draft.rule.count, draft.rule.per), (5, Per::Actor));
    app.update(Msg::Done(Done::Watch(WatchDone::Tested(Ok(PolicyTest {
        since: 0,
        matched: 40,
        truncated: false,
        alerts: vec![alert(1, "ann@c.com")],
    })))));
    assert!(
        drawn(&app, 100, 30)
            .join("\n")
            .contains("1 alert(s) from 40 matching activities")
    );
    press(&mut app, KeyCode::Enter);
    assert!(matches!(
        watch_cmds(&mut app).as_slice(),
        [WatchCmd::Save {
            confirmed: false,
            ..
        }]
    ));
    app.update(Msg::Done(Done::Watch(WatchDone::Saved(Err(Failure {
        message: "policy \"Burst\" would match almost everything: …; confirm (--yes) to keep it"
            .into(),
        column: None,
    })))));
    press(&mut app, KeyCode::Enter);
    assert!(matches!(
        watch_cmds(&mut app).as_slice(),
        [WatchCmd::Save {
            confirmed: true,
            ..
        }]
    ));
    app.update(Msg::Done(Done::Watch(WatchDone::Saved(Ok(stored)))));
    assert!(!app.panes.alerts.typing(), "saved: the editor closes");
}
