//! Moving about: tabs and digits, drilling down and Esc back along the
//! way, the `:` command line, toasts, jobs and quitting.

use super::*;

#[test]
fn tab_and_digits_move_focus() {
    let mut app = app();
    assert_eq!(app.focus, PaneId::Groups);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, PaneId::Members);
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::BackTab,
        KeyModifiers::SHIFT,
    )));
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.focus, PaneId::Connectors);
    typed(&mut app, "4");
    assert_eq!(app.focus, PaneId::Activities);
}

// R-G8: Enter drills down instance → its detail → groups → members →
// person, Esc walks back.
#[test]
fn enter_drills_down_and_esc_comes_back() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "1");
    press(&mut app, KeyCode::Enter);
    // issue 13: the instance in full first.
    assert_eq!(app.breadcrumbs(), ["Connectors", "microsoft365 · contoso"]);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, PaneId::Groups);
    assert_eq!(
        app.panes.groups.visible.len(),
        1,
        "only the instance's groups"
    );
    // R-C2: the instance is named with its app.
    assert_eq!(app.breadcrumbs(), ["microsoft365 · contoso", "Groups"]);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, PaneId::Members);
    assert_eq!(app.take_cmds(), [Cmd::LoadMembers(GroupId(2))]);
    let member = Member {
        key: "ann@contoso.com".into(),
        name: "Ann".into(),
        email: "ann@contoso.com".into(),
        instance: Some(InstanceId(1)),
        joined_at: 0,
        last_activity: None,
    };
    app.update(Msg::Done(Done::Members {
        group: GroupId(2),
        result: Ok(vec![member]),
    }));
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.take_cmds(),
        [
            Cmd::LoadPerson("ann@contoso.com".into()),
            Cmd::Govern(GovernCmd::PersonGrants("ann@contoso.com".into()))
        ]
    );
    assert_eq!(
        app.breadcrumbs(),
        ["Groups", "Finance EMEA", "Members", "ann@contoso.com"]
    );
    press(&mut app, KeyCode::Esc);
    assert!(app.panes.members.person.is_none());
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, PaneId::Groups);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, PaneId::Connectors);
    assert_eq!(app.panes.groups.visible.len(), 2, "back to every group");
}

#[test]
fn command_line_runs_and_completes() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, ":mem");
    press(&mut app, KeyCode::Tab);
    typed(&mut app, " fin");
    press(&mut app, KeyCode::Tab);
    assert!(
        matches!(&app.overlay, Overlay::Command { input, .. } if input.text() == "members Finance EMEA")
    );
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, PaneId::Members);
    assert_eq!(app.take_cmds(), [Cmd::LoadMembers(GroupId(2))]);
    typed(&mut app, ":bogus");
    press(&mut app, KeyCode::Enter);
    assert!(
        app.toasts
            .last()
            .is_some_and(|t| t.level == Level::Error && t.text.contains("bogus"))
    );
    typed(&mut app, ":q");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.exit, Some(Exit::Quit));
}

// Toasts clear themselves; job events drive the header's sync indicator.
#[test]
fn toasts_expire_and_jobs_are_counted() {
    let mut app = app();
    app.update(Msg::Service(Event::Notification {
        level: Level::Info,
        text: "Finance: 3 imported".into(),
    }));
    app.update(Msg::Service(Event::JobStarted {
        id: JobId(1),
        job: crate::service::JobKind::SyncGroup { group: GroupId(2) },
        label: "sync".into(),
    }));
    assert_eq!(app.toasts.len(), 1);
    assert_eq!(app.env.jobs.len(), 1);
    assert!(
        app.env.syncing(GroupId(2)) && !app.env.syncing(GroupId(1)),
        "R-G7: the group shows its sync"
    );
    app.update(Msg::Service(Event::JobFinished {
        id: JobId(1),
        summary: "ok".into(),
    }));
    assert!(app.env.jobs.is_empty());
    app.env.now += 10_000_000;
    app.update(Msg::Tick);
    assert!(app.toasts.is_empty());
}

#[test]
fn quit_keys_and_signals() {
    let mut app = app();
    typed(&mut app, "q");
    assert_eq!(app.exit, Some(Exit::Quit));
    let mut app = self::app();
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert_eq!(app.exit, Some(Exit::Quit));
    let mut app = self::app();
    app.update(Msg::Hangup);
    assert_eq!(app.exit, Some(Exit::Hangup));
}

#[test]
fn ctrl_l_asks_for_a_full_redraw() {
    let mut app = app();
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('l'),
        KeyModifiers::CONTROL,
    )));
    assert!(app.clear);
}

// DESIGN §3 Untrusted text: an error quoting vendor text is made safe before it is kept.
#[test]
fn service_errors_are_made_safe() {
    let failure = Failure::from(crate::service::ServiceError::Invalid(
        "group \x1b]2;x\x07 failed".into(),
    ));
    assert_eq!(failure.message, "group ^[]2;x^G failed");
}

#[test]
fn start_asks_for_everything_on_screen() {
    let mut app = App::new(Keymap::defaults(), Theme::plain(), "db".into(), NOW);
    let cmds = app.start();
    assert!(cmds.contains(&Cmd::LoadInstances) && cmds.contains(&Cmd::LoadGroups));
    assert!(cmds.iter().any(
        |c| matches!(c, Cmd::LoadActivities { filter, after: None, .. } if filter.is_empty())
    ));
}
