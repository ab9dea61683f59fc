//! Issue 13 part 3: zoom, copy, sort and the mouse, without a terminal.

use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use super::*;

/// Draws `app`; the screen line that shows `needle`.
fn line_of(app: &App, w: u16, h: u16, needle: &str) -> u16 {
    let lines = drawn(app, w, h);
    (0..h)
        .find(|&y| lines[usize::from(y)].contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not on screen:\n{}", lines.join("\n")))
}

fn mouse(app: &mut App, kind: MouseEventKind, column: u16, row: u16) {
    app.update(Msg::Mouse(MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    }));
}

// Issue 13: a click focuses the pane under it and selects the row there; the
// wheel scrolls the pane under the pointer.
#[test]
fn clicks_focus_and_select_and_the_wheel_scrolls() {
    let mut app = app();
    loaded(&mut app);
    assert_eq!(app.focus, PaneId::Groups);
    // 120×40: the Activities pane is bottom right.
    let third = line_of(&app, 120, 40, "user2@");
    mouse(&mut app, MouseEventKind::Down(MouseButton::Left), 90, third);
    assert_eq!(app.focus, PaneId::Activities);
    assert_eq!(app.panes.activities.cursor.selected, 2);
    mouse(&mut app, MouseEventKind::ScrollDown, 90, third);
    assert_eq!(app.panes.activities.cursor.selected, 5);
    // A click outside any row selects nothing new.
    mouse(&mut app, MouseEventKind::Down(MouseButton::Left), 90, 39);
    assert_eq!(app.panes.activities.cursor.selected, 5);
}

// Issue 13: `z` zooms and unzooms; `y` copies a value, `Y` the row as JSON,
// both handed to the runtime for OSC 52 and told in a toast.
#[test]
fn zoom_and_copy() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "4z");
    assert!(app.zoomed);
    typed(&mut app, "z");
    assert!(!app.zoomed);
    typed(&mut app, "Y");
    let json = app
        .clipboard
        .take()
        .expect("the row on its way to the clipboard");
    let row: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(row["id"], "a0");
    typed(&mut app, "yu");
    assert_eq!(app.clipboard.take().as_deref(), Some("user0@contoso.com"));
    assert!(
        app.toasts
            .last()
            .is_some_and(|t| t.text == "copied: user0@contoso.com")
    );
    app.osc52 = false;
    typed(&mut app, "yu");
    assert!(
        app.clipboard.is_none(),
        "nothing for a terminal that refuses it"
    );
    assert!(
        app.toasts
            .last()
            .is_some_and(|t| t.text.ends_with("select it: user0@contoso.com"))
    );
}

// Issue 13: a sort keeps the selected row selected and stays as rows load.
#[test]
fn sort_keeps_the_selection_and_survives_a_reload() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "4jjj");
    let id = app.panes.activities.rows[3].id.clone();
    typed(&mut app, "oooo");
    let acts = &app.panes.activities;
    assert_eq!(acts.rows[acts.cursor.selected].id, id);
    let countries: Vec<Option<&str>> = acts.rows.iter().map(|a| a.country.as_deref()).collect();
    assert!(countries.is_sorted(), "by the country: {countries:?}");
    app.update(Msg::Service(Event::ActivitiesIngested {
        instance: InstanceId(1),
        count: 1,
    }));
    app.update(Msg::Done(Done::Activities {
        filter: String::new(),
        more: false,
        result: Ok(page(0..31)),
    }));
    let acts = &app.panes.activities;
    let countries: Vec<Option<&str>> = acts.rows.iter().map(|a| a.country.as_deref()).collect();
    assert!(countries.is_sorted(), "still by the country: {countries:?}");
}

// Issue 13: the Groups list sorts by any column with o and O too, marks the column in
// its header, and keeps the group selected.
#[test]
fn groups_sort_by_any_column_and_say_so() {
    let mut app = app();
    loaded(&mut app);
    let mut big = group(3, "Audit", true);
    big.member_count = 40;
    app.update(Msg::Done(Done::Groups(Ok(vec![
        group(1, "External", false),
        group(2, "Finance EMEA", true),
        big,
    ]))));
    typed(&mut app, "2");
    let names = |app: &App| -> Vec<String> {
        let pane = &app.panes.groups;
        pane.visible
            .iter()
            .map(|h| app.env.groups[h.index()].name.clone())
            .collect()
    };
    assert_eq!(names(&app), ["External", "Finance EMEA", "Audit"]);
    typed(&mut app, "jo");
    assert_eq!(names(&app), ["Audit", "External", "Finance EMEA"]);
    assert_eq!(
        app.panes.groups.selected(&app.env).map(|g| g.name.as_str()),
        Some("Finance EMEA"),
        "the selection follows its group"
    );
    line_of(&app, 119, 30, "Group ▲");
    typed(&mut app, "ooO");
    assert_eq!(names(&app)[0], "Audit", "the most members first");
    line_of(&app, 119, 30, "Members ▼");
    typed(&mut app, "ooo");
    assert_eq!(app.panes.groups.sort, Default::default());
    assert_eq!(names(&app), ["External", "Finance EMEA", "Audit"]);
}

// Issue 13 (visible operations): the Connectors list says what each instance is doing
// now and how far it has come, its detail shows a bar, and x cancels its scans (and
// says so when nothing runs).
#[test]
fn connectors_show_the_work_under_way_and_x_cancels_it() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "1");
    typed(&mut app, "x");
    assert!(app.take_cmds().is_empty());
    assert!(
        app.toasts
            .iter()
            .any(|t| t.text == "nothing is running for microsoft365/contoso"),
        "{:?}",
        app.toasts
    );
    app.update(Msg::Service(Event::JobStarted {
        id: JobId(7),
        job: crate::service::JobKind::ScanActivities {
            instance: InstanceId(1),
        },
        label: "scan activities of contoso".into(),
    }));
    app.update(Msg::Service(Event::JobProgress {
        id: JobId(7),
        done: 2,
        total: Some(7),
        label: "signins: 120 new activities · 4 pages, backfill day 3 of 7".into(),
    }));
    line_of(&app, 119, 30, "⟳ 29%");
    line_of(&app, 119, 30, "⟳ signins: 120 new activities");
    press(&mut app, KeyCode::Enter);
    line_of(
        &app,
        119,
        30,
        "Now           ⟳ ██████░░░░░░░░░░░░░░ 29%  signins",
    );
    typed(&mut app, "x");
    assert_eq!(app.take_cmds(), [Cmd::CancelJob(JobId(7))]);
}

// Issue 13 (visible operations): a dashboard started while work runs learns of it from
// the service's list of running jobs, less any that ended before the list came.
#[test]
fn jobs_running_before_the_start_are_shown() {
    let mut app = app();
    assert!(app.start().contains(&Cmd::LoadJobs));
    let job = |id: u64| crate::service::RunningJob {
        id: JobId(id),
        job: crate::service::JobKind::ScanActivities {
            instance: InstanceId(1),
        },
        label: format!("scan {id}"),
    };
    app.update(Msg::Service(Event::JobFinished {
        id: JobId(3),
        summary: "done".into(),
    }));
    app.update(Msg::Done(Done::Jobs(Ok(vec![job(3), job(4)]))));
    assert_eq!(app.env.jobs.keys().copied().collect::<Vec<_>>(), [JobId(4)]);
    app.update(Msg::Service(Event::JobFinished {
        id: JobId(4),
        summary: "done".into(),
    }));
    assert!(app.env.jobs.is_empty());
}
