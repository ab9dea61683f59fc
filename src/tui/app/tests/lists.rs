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
        .map(|(name, key)| member(key, name, None))
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

/// Runs the ranking passes the app asked for, as the runner does (off the UI thread),
/// and hands their answers back; the other work asked for is returned.
fn run_passes(app: &mut App) -> Vec<Cmd> {
    let (passes, rest): (Vec<Cmd>, Vec<Cmd>) = app
        .take_cmds()
        .into_iter()
        .partition(|c| matches!(c, Cmd::Rank(_)));
    for pass in passes {
        let Cmd::Rank(job) = pass else { continue };
        let (tx, rx) = std::sync::mpsc::channel();
        let worker = std::thread::spawn(move || job.run(&mut |r| tx.send(r).expect("send")));
        for ranked in rx {
            app.update(Msg::Done(Done::Ranked(ranked)));
        }
        worker.join().expect("ranking thread");
    }
    rest
}

// Issue 13, R-G8: a long members list ranks off the UI thread; a key shows the rows
// it showed until its answer, and the answer of a key typed over never lands.
#[test]
fn a_long_members_list_ranks_off_the_ui_thread() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "2j");
    press(&mut app, KeyCode::Enter);
    let n = crate::tui::ranking::SYNC_BELOW * 2;
    let members = (0..n)
        .map(|i| {
            let name = if i == n - 1 {
                "Zoë Quist".into()
            } else {
                format!("Person {i}")
            };
            Member {
                key: format!("p{i}@c.com"),
                name,
                email: format!("p{i}@c.com"),
                instance: None,
                joined_at: 0,
                last_activity: None,
            }
        })
        .collect();
    app.update(Msg::Done(Done::Members {
        group: GroupId(2),
        result: Ok(members),
    }));
    run_passes(&mut app);
    typed(&mut app, "/zo");
    assert_eq!(
        app.panes.members.visible().len(),
        n,
        "still the rows before"
    );
    let stale = app.take_cmds();
    assert_eq!(stale.len(), 2, "a pass per key: {stale:?}");
    typed(&mut app, "e q");
    run_passes(&mut app);
    // The passes of "z" and "zo" answer last: they were typed over and are dropped.
    for pass in stale {
        let Cmd::Rank(job) = pass else { continue };
        job.run(&mut |r| app.update(Msg::Done(Done::Ranked(r))));
    }
    assert_eq!(
        app.panes.members.selected().map(|m| m.name.as_str()),
        Some("Zoë Quist"),
        "accents fold: zoe finds Zoë"
    );
    assert_eq!(app.panes.members.visible().len(), 1);
}
