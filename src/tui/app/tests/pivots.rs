//! Issue 13, pivots: from an activity to its person and on, and Esc back
//! along the way with each pane as it was.

use super::*;
use crate::store::Person;

fn person(key: &str) -> Person {
    Person {
        key: key.into(),
        accounts: Vec::new(),
        groups: vec![GroupId(2)],
        apps: vec![AppKind::Microsoft365],
        by_type: Vec::new(),
        by_app: Vec::new(),
        daily: Vec::new(),
        last_activity: None,
    }
}

/// The filter the last load asked for.
fn loading(app: &mut App) -> String {
    let cmds = app.take_cmds();
    cmds.iter()
        .rev()
        .find_map(|c| match c {
            Cmd::LoadActivities { filter, .. } => Some(filter.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no activities load in {cmds:?}"))
}

// Issue 13 part 1: activity → person → their activities → Esc Esc, back to
// the start with the original filter, selection and breadcrumbs.
#[test]
fn a_pivot_chain_and_back() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, ":activities country:DE");
    press(&mut app, KeyCode::Enter);
    app.update(Msg::Done(Done::Activities {
        filter: "country:DE".into(),
        more: false,
        result: Ok(page(0..30)),
    }));
    app.take_cmds();
    typed(&mut app, "jjj");
    let actor = app.panes.activities.rows[3].actor.clone();

    typed(&mut app, "p");
    assert_eq!(app.focus, PaneId::Members);
    assert_eq!(
        app.take_cmds(),
        [
            Cmd::LoadPerson(actor.clone()),
            Cmd::Govern(GovernCmd::PersonGrants(actor.clone()))
        ]
    );
    app.update(Msg::Done(Done::Person {
        key: actor.clone(),
        result: Ok(person(&actor)),
    }));
    assert_eq!(app.breadcrumbs(), ["Activities", actor.as_str()]);

    typed(&mut app, "a");
    assert_eq!(app.focus, PaneId::Activities);
    assert_eq!(loading(&mut app), format!("user:{actor}"));
    assert_eq!(
        app.breadcrumbs(),
        ["Activities", actor.as_str(), "activities"]
    );

    press(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, PaneId::Members);
    assert!(app.panes.members.person.is_some(), "the person view again");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, PaneId::Activities);
    let acts = &app.panes.activities;
    assert_eq!(acts.filter, "country:DE");
    assert_eq!(acts.cursor.selected, 3);
    assert_eq!(
        acts.rows.len(),
        30,
        "the rows are shown at once, not reloaded first"
    );
    assert!(app.panes.members.person.is_none());
    assert_eq!(app.breadcrumbs(), ["Activities"]);
}

// Issue 13 part 1: "more like this" adds a field of the record to the
// filter (m) or filters on it alone (M), its value quoted as it must be.
#[test]
fn more_like_this_adds_or_replaces() {
    let mut app = app();
    loaded(&mut app);
    let mut odd = activity(1);
    odd.objects = vec![crate::domain::ActivityObject {
        kind: crate::domain::ObjectKind::File,
        id: "f".into(),
        name: "Q3 \"final\" budget.xlsx".into(),
    }];
    typed(&mut app, ":activities country:US");
    press(&mut app, KeyCode::Enter);
    app.update(Msg::Done(Done::Activities {
        filter: "country:US".into(),
        more: false,
        result: Ok(ActivityPage {
            items: vec![odd],
            next: None,
        }),
    }));
    app.take_cmds();
    typed(&mut app, "m");
    assert!(app.panes.activities.like.is_some(), "the menu is open");
    typed(&mut app, "o");
    assert_eq!(
        loading(&mut app),
        r#"country:US object:"Q3 \"final\" budget.xlsx""#
    );
    assert_eq!(
        app.breadcrumbs(),
        ["Activities", "Q3 \"final\" budget.xlsx"]
    );
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.panes.activities.filter, "country:US");
    typed(&mut app, "M");
    press(&mut app, KeyCode::Enter);
    // The reload Esc started is still out: the new filter loads after it (latest wins).
    assert_eq!(app.panes.activities.filter, "user:user1@contoso.com");
}

// Issue 13 part 1: from a group, its members' activities.
#[test]
fn a_groups_activities() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "2j");
    typed(&mut app, "a");
    assert_eq!(app.focus, PaneId::Activities);
    assert_eq!(loading(&mut app), r#"group:"Finance EMEA""#);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, PaneId::Groups);
}
