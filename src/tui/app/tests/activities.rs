//! The Activities pane: live arrivals, the filter line, queries, paging
//! and export.

use super::*;

// Live arrivals never move the row the user is on; a marker counts them.
#[test]
fn live_activities_keep_the_selected_row() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "4jjj");
    let before = app.panes.activities.rows[app.panes.activities.cursor.selected]
        .id
        .clone();
    app.update(Msg::Service(Event::ActivitiesIngested {
        instance: InstanceId(1),
        count: 2,
    }));
    let cmds = app.take_cmds();
    assert!(
        matches!(cmds.as_slice(), [Cmd::LoadActivities { after: None, .. }]),
        "{cmds:?}"
    );
    // Two newer activities arrive (ids 1000 and 1001 sort first).
    let mut items = vec![activity(0), activity(0)];
    items[0].id = "new1".into();
    items[1].id = "new2".into();
    items.extend((0..30).map(activity));
    app.update(Msg::Done(Done::Activities {
        filter: String::new(),
        more: false,
        result: Ok(ActivityPage { items, next: None }),
    }));
    assert_eq!(
        app.panes.activities.rows[app.panes.activities.cursor.selected].id,
        before
    );
    assert_eq!(app.panes.activities.new_count, 2);
    typed(&mut app, "g");
    assert_eq!(
        app.panes.activities.new_count, 0,
        "the top clears the marker"
    );
}

// Bursts of ingest events cause one load at a time, then one more.
#[test]
fn ingest_events_coalesce() {
    let mut app = app();
    loaded(&mut app);
    for _ in 0..5 {
        app.update(Msg::Service(Event::ActivitiesIngested {
            instance: InstanceId(1),
            count: 1,
        }));
    }
    assert_eq!(app.take_cmds().len(), 1);
    app.update(Msg::Done(Done::Activities {
        filter: String::new(),
        more: false,
        result: Ok(page(0..31)),
    }));
    assert_eq!(
        app.take_cmds().len(),
        1,
        "one more for what arrived meanwhile"
    );
}

// R-A2, R-A4: the filter line checks at each key, points at the mistake and applies on Enter.
#[test]
fn filter_line_checks_then_applies() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "4/country!=");
    let error = app
        .panes
        .activities
        .editor
        .as_ref()
        .and_then(|e| e.error.clone())
        .expect("an error");
    assert!(error.column >= 1);
    press(&mut app, KeyCode::Enter);
    assert!(
        app.panes.activities.editor.is_some(),
        "a broken filter is not applied"
    );
    typed(&mut app, "DE group:Fin");
    press(&mut app, KeyCode::Tab);
    assert_eq!(
        app.panes
            .activities
            .editor
            .as_ref()
            .map(|e| e.input.text().to_owned()),
        Some("country!=DE group:\"Finance EMEA\"".into())
    );
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.panes.activities.chips,
        ["-country:DE", "group:\"Finance EMEA\""],
        "chips are the canonical form"
    );
    assert!(
        matches!(app.take_cmds().as_slice(), [Cmd::LoadActivities { filter, .. }] if filter == "country!=DE group:\"Finance EMEA\"")
    );
    // The service's own errors (unknown names) keep their column.
    app.update(Msg::Done(Done::Activities {
        filter: app.panes.activities.filter.clone(),
        more: false,
        result: Err(Failure {
            message: "no group".into(),
            column: Some(13),
        }),
    }));
    assert_eq!(
        app.panes.activities.error.as_ref().and_then(|e| e.column),
        Some(13)
    );
}

// R-A3: suggested and saved queries are listed; Enter applies one.
#[test]
fn queries_list_applies_a_query() {
    let mut app = app();
    loaded(&mut app);
    app.update(Msg::Done(Done::SavedQueries(Ok(vec![(
        "mine".into(),
        "country:DE".into(),
    )]))));
    typed(&mut app, "4Q");
    assert_eq!(app.panes.activities.queries.as_ref().map(Vec::len), Some(9));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.panes.activities.filter, "country:DE");
    assert!(app.panes.activities.queries.is_none());
}

#[test]
fn reaching_the_last_row_loads_the_next_page() {
    let mut app = app();
    let next = ActivityCursor { time: 5, seq: 1 };
    app.update(Msg::Done(Done::Activities {
        filter: String::new(),
        more: false,
        result: Ok(ActivityPage {
            items: page(0..3).items,
            next: Some(next),
        }),
    }));
    app.take_cmds();
    typed(&mut app, "4G");
    assert!(
        matches!(app.take_cmds().as_slice(), [Cmd::LoadActivities { after: Some(c), .. }] if *c == next)
    );
    app.update(Msg::Done(Done::Activities {
        filter: String::new(),
        more: true,
        result: Ok(page(3..6)),
    }));
    assert_eq!(app.panes.activities.rows.len(), 6);
}

// R-A3: `w` asks for a name and saves the applied filter under it.
#[test]
fn save_query_asks_for_a_name() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "4w");
    assert!(
        app.toasts
            .last()
            .is_some_and(|t| t.text.contains("filter is empty"))
    );
    typed(&mut app, "/admin");
    press(&mut app, KeyCode::Enter);
    app.take_cmds();
    typed(&mut app, "wadmins");
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.take_cmds(),
        [Cmd::SaveQuery {
            name: "admins".into(),
            text: "admin".into()
        }]
    );
    assert_eq!(app.overlay, Overlay::None);
}

// Export: `e` asks for CSV of the current filter, progress shows, a second one waits;
// x cancels it (issue 13).
#[test]
fn export_runs_once_with_progress() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "4e");
    assert_eq!(
        app.take_cmds(),
        [Cmd::Export {
            filter: String::new(),
            format: ExportFormat::Csv
        }]
    );
    typed(&mut app, "E");
    assert!(app.take_cmds().is_empty(), "one export at a time");
    app.update(Msg::Done(Done::ExportProgress { rows: 3000 }));
    assert_eq!(app.panes.activities.export, Some(3000));
    typed(&mut app, "x");
    assert_eq!(app.take_cmds(), [Cmd::CancelExport]);
    app.update(Msg::Done(Done::Exported(Ok(("/tmp/x.csv".into(), 3500)))));
    assert_eq!(app.panes.activities.export, None);
    assert!(
        app.toasts
            .last()
            .is_some_and(|t| t.text.contains("3500") && t.text.contains("/tmp/x.csv"))
    );
}

// issue 13, R-A4: `:activities` refuses text that does not parse as `/`
// does: the text stays in the editor with its error, the working filter stays.
#[test]
fn command_line_filter_is_checked_like_the_editor() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, ":a country:DE");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.panes.activities.filter(), "country:DE");
    typed(&mut app, ":act country!=");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.panes.activities.filter(), "country:DE", "kept");
    let editor = app
        .panes
        .activities
        .editor
        .as_ref()
        .expect("the text is shown");
    assert_eq!(editor.input.text(), "country!=");
    assert!(editor.error.is_some());
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.panes.activities.filter(),
        "country:DE",
        "Enter refuses it too"
    );
}

// issue 13: Tab on the `:` line completes commands, group names, instance
// names and filter fields.
#[test]
fn command_line_tab_completes_arguments() {
    let mut app = app();
    loaded(&mut app);
    let completed = |app: &mut App, text: &str| {
        typed(app, ":");
        typed(app, text);
        press(app, KeyCode::Tab);
        let line = match &app.overlay {
            Overlay::Command { input, .. } => input.text().to_owned(),
            other => panic!("{other:?}"),
        };
        press(app, KeyCode::Esc);
        line
    };
    assert_eq!(completed(&mut app, "acc"), "access-check");
    assert_eq!(completed(&mut app, "m fin"), "members Finance EMEA");
    assert_eq!(completed(&mut app, "sync con"), "sync contoso");
    assert_eq!(
        completed(&mut app, "act admin cou"),
        "activities admin country:"
    );
    assert_eq!(
        completed(&mut app, "a targetgroup:fin"),
        "activities targetgroup:\"Finance EMEA\""
    );
    assert_eq!(completed(&mut app, "help fi"), "help filter");
}

// issue 13, R-A3: in the queries list, `r` renames a saved query in place
// and `d` deletes it after a `y`; the suggested ones are built in and stay.
#[test]
fn saved_queries_are_renamed_and_deleted() {
    let mut app = app();
    loaded(&mut app);
    app.update(Msg::Done(Done::SavedQueries(Ok(vec![
        ("emea".into(), "country:DE".into()),
        ("mine".into(), "admin".into()),
    ]))));
    typed(&mut app, "4Q");
    assert_eq!(app.contexts()[0], Context::Queries);
    // Rename: the old name is there to edit.
    typed(&mut app, "r");
    for _ in 0.."emea".len() {
        press(&mut app, KeyCode::Backspace);
    }
    typed(&mut app, "mine");
    press(&mut app, KeyCode::Enter);
    assert!(app.take_cmds().is_empty(), "a name in use is refused");
    assert!(
        app.toasts
            .last()
            .is_some_and(|t| t.text.contains("already named"))
    );
    typed(&mut app, "-de");
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.take_cmds(),
        [Cmd::RenameQuery {
            from: "emea".into(),
            to: "mine-de".into(),
            text: "country:DE".into()
        }]
    );
    app.update(Msg::Done(Done::QueryChanged {
        what: "renamed the saved query emea to mine-de".into(),
        result: Ok(()),
    }));
    assert_eq!(app.take_cmds(), [Cmd::LoadSavedQueries]);
    // Delete asks first; anything but y keeps it.
    typed(&mut app, "jd");
    typed(&mut app, "n");
    assert!(app.take_cmds().is_empty());
    typed(&mut app, "dy");
    assert_eq!(
        app.take_cmds(),
        [Cmd::DeleteQuery {
            name: "mine".into()
        }]
    );
    // A suggested query is not the user's to change.
    typed(&mut app, "jd");
    assert!(app.panes.activities.query_edit.is_none());
    assert!(
        app.toasts
            .last()
            .is_some_and(|t| t.text.contains("built in"))
    );
}

// issue 13: an instance the dashboard cannot name (not loaded yet, or gone)
// reads as its app and number, never as a bare app that looks like a cut name.
#[test]
fn an_unknown_instance_is_named_plainly() {
    let app = {
        let mut app = app();
        loaded(&mut app);
        app
    };
    let env = &app.env;
    assert_eq!(
        env.instance_cell(AppKind::Microsoft365, InstanceId(1), true),
        "microsoft365 · contoso"
    );
    assert_eq!(
        env.instance_cell(AppKind::Okta, InstanceId(9), true),
        "okta · instance #9"
    );
    assert_eq!(
        env.instance_cell(AppKind::Okta, InstanceId(9), false),
        "okta #9"
    );
}
