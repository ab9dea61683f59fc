//! The Groups and Members lists: their `/` filters.

use super::*;

#[test]
fn groups_filter_is_fuzzy_and_typing_q_does_not_quit() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "/fq");
    assert!(app.exit.is_none(), "q types into the filter");
    press(&mut app, KeyCode::Backspace);
    typed(&mut app, "in em");
    assert_eq!(app.panes.groups.visible.len(), 1);
    assert_eq!(
        app.panes.groups.selected(&app.env).map(|g| g.name.as_str()),
        Some("Finance EMEA")
    );
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.panes.groups.visible.len(), 2);
}

// R-G8: the members filter narrows as you type and widens again on delete.
#[test]
fn members_filter_narrows_and_widens() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "2j");
    press(&mut app, KeyCode::Enter);
    let people = [
        ("Ann Lee", "ann"),
        ("Anna Berg", "anna"),
        ("Bob Stone", "bob"),
    ];
    let members = people
        .iter()
        .map(|(name, key)| Member {
            key: format!("{key}@c.com"),
            name: (*name).into(),
            email: format!("{key}@c.com"),
            instance: None,
            joined_at: 0,
            last_activity: None,
        })
        .collect();
    app.update(Msg::Done(Done::Members {
        group: GroupId(2),
        result: Ok(members),
    }));
    typed(&mut app, "/an");
    assert_eq!(app.panes.members.visible().len(), 2);
    typed(&mut app, "na b");
    assert_eq!(
        app.panes.members.selected().map(|m| m.name.as_str()),
        Some("Anna Berg")
    );
    assert_eq!(app.panes.members.visible().len(), 1);
    for _ in 0..6 {
        press(&mut app, KeyCode::Backspace);
    }
    assert_eq!(
        app.panes.members.visible().len(),
        3,
        "deleting widens again"
    );
}
