//! A group's membership history (R-G7) and casbah's own log (issue 13).

use super::*;
use crate::store::MembershipChange;

fn change(user: &str, joined: bool, at: Micros) -> MembershipChange {
    MembershipChange {
        user: user.into(),
        joined,
        at,
    }
}

// R-G7, issue 13: `h` on a group asks for its history, which opens at the
// newest change, scrolls, and Esc gives the list back; `:history GROUP`
// reaches it from anywhere, and an answer for a closed history is dropped.
#[test]
fn history_of_a_group_from_the_groups_pane() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "2j");
    let group = app
        .panes
        .groups
        .selected(&app.env)
        .map(|g| g.id)
        .expect("a group");
    typed(&mut app, "h");
    assert_eq!(app.take_cmds(), [Cmd::LoadHistory(group)]);
    assert_eq!(app.contexts(), [Context::Global]);
    let rows: Vec<MembershipChange> = (0..30)
        .map(|i| {
            change(
                &format!("user{i}@contoso.com"),
                i % 3 != 0,
                NOW - (30 - i) * 60_000_000,
            )
        })
        .collect();
    app.update(Msg::Done(Done::History {
        group,
        result: Ok(rows),
    }));
    let h = app.panes.groups.history.as_ref().expect("open");
    assert_eq!(h.cursor.selected, 29, "the newest change first in view");
    assert_eq!(
        app.breadcrumbs().last().map(String::as_str),
        Some("History")
    );
    typed(&mut app, "kkg");
    assert_eq!(
        app.panes.groups.history.as_ref().map(|h| h.cursor.selected),
        Some(0)
    );
    press(&mut app, KeyCode::Esc);
    assert!(app.panes.groups.history.is_none());
    assert_eq!(app.focus, PaneId::Groups);
    // From the command line, by name, wherever the user is.
    typed(&mut app, "4:history finance emea");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, PaneId::Groups);
    assert_eq!(app.take_cmds(), [Cmd::LoadHistory(GroupId(2))]);
    press(&mut app, KeyCode::Esc);
    app.update(Msg::Done(Done::History {
        group: GroupId(2),
        result: Ok(Vec::new()),
    }));
    assert!(app.panes.groups.history.is_none(), "closed stays closed");
    typed(&mut app, ":history nobody");
    press(&mut app, KeyCode::Enter);
    assert!(
        app.toasts
            .last()
            .is_some_and(|t| t.text.contains("no group named"))
    );
}

// issue 13 (part 4): `:log` shows casbah's own recent warnings and errors,
// at the newest.
#[test]
fn log_command_shows_the_recent_warnings() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, ":log");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.take_cmds(), [Cmd::LoadLog]);
    let line = crate::service::recent::LogLine {
        at: NOW,
        level: Level::Warning,
        target: "casbah::service::scans".into(),
        text: "okta/acme: throttled until 14:20".into(),
    };
    app.update(Msg::Done(Done::Log(vec![line])));
    assert!(
        matches!(&app.overlay, Overlay::Help(h) if matches!(&h.topic, crate::tui::widgets::help::Topic::Log(l) if l.len() == 1)),
        "{:?}",
        app.overlay
    );
    press(&mut app, KeyCode::Char('x'));
    assert_eq!(app.overlay, Overlay::None, "any other key closes it");
}
