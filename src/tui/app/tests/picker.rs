//! The group import picker (R-G2, R-G3).

use super::*;

// R-G2: the picker opens at once, ranks at every key, searches after the pause (latest wins).
#[test]
fn picker_ranks_locally_then_asks_the_app() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "i");
    assert!(app.picker.is_some(), "opens without waiting");
    assert_eq!(
        app.take_cmds(),
        [Cmd::LoadAvailable {
            instance: "microsoft365/contoso".into(),
            search: None
        }]
    );
    let first = vec![
        remote("g1", "Sales NA", false),
        remote("g2", "Finance - EMEA Approvers", false),
        remote("g3", "Finance EMEA", true),
    ];
    app.update(Msg::Done(Done::Available {
        instance: "microsoft365/contoso".into(),
        search: None,
        result: Ok(first),
    }));
    typed(&mut app, "fin emea");
    let cmds = app.take_cmds();
    assert_eq!(cmds.len(), 8, "one pause timer per key: {cmds:?}");
    let p = app.picker.as_ref().expect("picker");
    let names: Vec<&str> = p
        .ranked()
        .iter()
        .map(|h| p.rows[h.index()].name.as_str())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"Finance - EMEA Approvers") && !names.contains(&"Sales NA"));
    // Only the last key's pause searches.
    app.update(Msg::SearchDue(3));
    assert!(app.take_cmds().is_empty());
    app.update(Msg::SearchDue(8));
    assert_eq!(
        app.take_cmds(),
        [Cmd::LoadAvailable {
            instance: "microsoft365/contoso".into(),
            search: Some("fin emea".into())
        }]
    );
    let found = vec![remote("g9", "Finance - EMEA Auditors", false)];
    app.update(Msg::Done(Done::Available {
        instance: "microsoft365/contoso".into(),
        search: Some("fin emea".into()),
        result: Ok(found),
    }));
    let p = app.picker.as_ref().expect("picker");
    assert_eq!(
        p.ranked().len(),
        3,
        "search results merge into the ranked list"
    );
    assert!(p.searching.is_none());
}

// R-G2, R-G3: Enter imports with the notify choice; an imported group and the 501st are refused.
#[test]
fn picker_imports_and_enforces_the_limit() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "i");
    app.take_cmds();
    let list = vec![
        remote("g3", "Finance EMEA", true),
        remote("g1", "Sales NA", false),
    ];
    app.update(Msg::Done(Done::Available {
        instance: "microsoft365/contoso".into(),
        search: None,
        result: Ok(list),
    }));
    press(&mut app, KeyCode::Enter);
    assert!(app.take_cmds().is_empty());
    assert!(
        app.toasts
            .last()
            .is_some_and(|t| t.text.contains("already imported"))
    );
    press(&mut app, KeyCode::Down);
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('n'),
        KeyModifiers::CONTROL,
    )));
    if let Some(p) = &mut app.picker {
        p.imported_total = IMPORT_LIMIT;
    }
    press(&mut app, KeyCode::Enter);
    assert!(app.take_cmds().is_empty(), "the 501st is refused");
    assert!(
        app.toasts
            .last()
            .is_some_and(|t| t.text.contains("500 groups"))
    );
    if let Some(p) = &mut app.picker {
        p.imported_total = 1;
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.take_cmds(),
        [Cmd::Import {
            instance: "microsoft365/contoso".into(),
            group_id: "g1".into(),
            name: "Sales NA".into(),
            notify: false
        }]
    );
    assert!(app.picker.is_none());
    assert_eq!(app.focus, PaneId::Groups);
}

fn picker_with(app: &mut App, rows: Vec<AvailableGroup>, search: Option<&str>) {
    app.update(Msg::Done(Done::Available {
        instance: "microsoft365/contoso".into(),
        search: search.map(str::to_owned),
        result: Ok(rows),
    }));
}

fn shown(app: &App) -> Vec<String> {
    let p = app.picker.as_ref().expect("picker");
    p.ranked()
        .iter()
        .map(|h| p.rows[h.index()].name.clone())
        .collect()
}

// issue 13, R-G2: the app's results arriving never move the rows on screen,
// and Enter imports the group that was highlighted.
#[test]
fn results_arriving_keep_the_selected_row_in_place() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "i");
    picker_with(
        &mut app,
        vec![
            remote("g1", "Finance Archive", false),
            remote("g2", "Finance Ops", false),
        ],
        None,
    );
    typed(&mut app, "fin");
    press(&mut app, KeyCode::Down);
    let before = shown(&app);
    assert_eq!(app.picker.as_ref().map(|p| p.cursor.selected), Some(1));
    // A closer match arrives from the app's search.
    picker_with(&mut app, vec![remote("g9", "Fin", false)], Some("fin"));
    let after = shown(&app);
    assert_eq!(
        after[..2],
        before[..],
        "the rows listed stay where they were"
    );
    assert_eq!(after.len(), 3, "the newcomer is listed below");
    app.take_cmds();
    press(&mut app, KeyCode::Enter);
    let cmds = app.take_cmds();
    assert!(
        matches!(cmds.as_slice(), [Cmd::Import { name, .. }] if *name == before[1]),
        "{cmds:?}"
    );
}

// issue 13, R-G3: Space marks in the list (a space in the search before the
// arrows), Enter imports every marked group, all counted against the limit.
#[test]
fn marked_groups_import_together_within_the_limit() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "i");
    picker_with(
        &mut app,
        vec![
            remote("g1", "Sales NA", false),
            remote("g2", "Sales EMEA", false),
            remote("g3", "Sales APAC", true),
            remote("g4", "Sales LATAM", false),
        ],
        None,
    );
    typed(&mut app, "sa ");
    assert_eq!(
        app.picker.as_ref().map(|p| p.query.text().to_owned()),
        Some("sa ".into())
    );
    assert!(
        app.picker.as_ref().is_some_and(|p| p.marked.is_empty()),
        "typed, not marked"
    );
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Up);
    // Space marks and moves down: Sales NA and Sales EMEA.
    typed(&mut app, "  ");
    assert_eq!(app.picker.as_ref().map(|p| p.marked.len()), Some(2));
    if let Some(p) = &mut app.picker {
        p.imported_total = IMPORT_LIMIT - 1;
    }
    app.take_cmds();
    press(&mut app, KeyCode::Enter);
    assert!(app.take_cmds().is_empty(), "two do not fit in one place");
    let toast = app
        .toasts
        .last()
        .map(|t| t.text.clone())
        .unwrap_or_default();
    assert!(
        toast.contains("2 groups marked, but only 1 more"),
        "{toast}"
    );
    if let Some(p) = &mut app.picker {
        p.imported_total = 10;
    }
    press(&mut app, KeyCode::Enter);
    let names: Vec<String> = app
        .take_cmds()
        .into_iter()
        .filter_map(|c| match c {
            Cmd::Import { name, .. } => Some(name),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["Sales NA", "Sales EMEA"]);
    assert!(app.picker.is_none());
}
