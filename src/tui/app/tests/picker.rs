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
        .ranked
        .iter()
        .map(|h| p.rows[h.index].name.as_str())
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
        p.ranked.len(),
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
