//! The update logic without a terminal or a service: keys and results in,
//! state and commands out.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::domain::Secret;
use crate::domain::{
    Activity, AppKind, Group, GroupId, GroupKind, GroupStatus, Instance, InstanceId, RemoteGroup,
    SkipCounts,
};
use crate::service::{AvailableGroup, InstanceSummary};
use crate::store::{ActivityCursor, ActivityPage, Member};
use crate::tui::msg::{Failure, Outcome};
use crate::tui::views::connect::{ConnectForm, SecretSource, SignInCode, Stage};

const NOW: Micros = 1_790_000_000_000_000;

fn app() -> App {
    let mut app = App::new(Keymap::defaults(), Theme::plain(), "test.redb".into(), NOW);
    app.start();
    app
}

fn press(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn instance(id: u64, name: &str) -> InstanceSummary {
    InstanceSummary {
        instance: Instance {
            id: InstanceId(id),
            app: AppKind::Microsoft365,
            name: name.into(),
            fields: [("tenant-id", "t"), ("client-id", "c")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
            endpoint: None,
            components: Vec::new(),
            created_at: 0,
        },
        users: 10,
        scans: Vec::new(),
        streams: Vec::new(),
    }
}

fn group(id: u64, name: &str, imported: bool) -> Group {
    Group {
        id: GroupId(id),
        kind: if imported {
            GroupKind::Imported {
                instance: InstanceId(1),
                remote_id: format!("r{id}"),
            }
        } else {
            GroupKind::Automatic(crate::domain::AutoGroup::External)
        },
        name: name.into(),
        status: GroupStatus::Ready,
        member_count: 2,
        skipped: SkipCounts::default(),
        imported_at: 0,
        last_sync: Some(NOW),
        notify: false,
        microsoft365: false,
    }
}

fn activity(n: u64) -> Activity {
    Activity {
        id: format!("a{n}"),
        app: AppKind::Microsoft365,
        instance: InstanceId(1),
        time: NOW - (n as i64) * 1_000_000,
        actor: format!("user{n}@contoso.com"),
        actor_name: format!("User {n}"),
        activity_type: "FileDownloaded".into(),
        action_type: "download".into(),
        objects: Vec::new(),
        admin: false,
        impersonated: false,
        succeeded: true,
        ip: None,
        address_text: None,
        country: Some(if n.is_multiple_of(2) { "DE" } else { "US" }.into()),
        isp: None,
        device_type: None,
        user_agent: None,
        source: "Office 365".into(),
        groups: Vec::new(),
        office_app: None,
    }
}

fn page(range: std::ops::Range<u64>) -> ActivityPage {
    ActivityPage {
        items: range.map(activity).collect(),
        next: None,
    }
}

fn remote(id: &str, name: &str, imported: bool) -> AvailableGroup {
    AvailableGroup {
        group: RemoteGroup {
            id: id.into(),
            display_name: name.into(),
            description: None,
            email: None,
            microsoft365: false,
        },
        imported,
        also_in: Vec::new(),
    }
}

fn loaded(app: &mut App) {
    app.update(Msg::Done(Done::Instances(Ok(vec![instance(1, "contoso")]))));
    app.update(Msg::Done(Done::Groups(Ok(vec![
        group(1, "External", false),
        group(2, "Finance EMEA", true),
    ]))));
    app.update(Msg::Done(Done::Activities {
        filter: String::new(),
        more: false,
        result: Ok(page(0..30)),
    }));
    app.take_cmds();
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

#[test]
fn tab_and_digits_move_focus() {
    let mut app = app();
    assert_eq!(app.focus, Pane::Groups);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Members);
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::BackTab,
        KeyModifiers::SHIFT,
    )));
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.focus, Pane::Connectors);
    typed(&mut app, "4");
    assert_eq!(app.focus, Pane::Activities);
}

// R-G8: Enter drills down instance → groups → members → person, Esc walks back.
#[test]
fn enter_drills_down_and_esc_comes_back() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "1");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Pane::Groups);
    assert_eq!(app.groups.visible.len(), 1, "only the instance's groups");
    // R-C2: the instance is named with its app.
    assert_eq!(app.breadcrumbs(), ["microsoft365 · contoso", "Groups"]);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Pane::Members);
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
    assert_eq!(app.take_cmds(), [Cmd::LoadPerson("ann@contoso.com".into())]);
    assert_eq!(
        app.breadcrumbs(),
        ["Groups", "Finance EMEA", "Members", "ann@contoso.com"]
    );
    press(&mut app, KeyCode::Esc);
    assert!(app.members.person.is_none());
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, Pane::Groups);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, Pane::Connectors);
    assert_eq!(app.groups.visible.len(), 2, "back to every group");
}

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
    assert_eq!(app.focus, Pane::Groups);
}

// Live arrivals never move the row the user is on; a marker counts them.
#[test]
fn live_activities_keep_the_selected_row() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "4jjj");
    let before = app.activities.rows[app.activities.cursor.selected]
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
        app.activities.rows[app.activities.cursor.selected].id,
        before
    );
    assert_eq!(app.activities.new_count, 2);
    typed(&mut app, "g");
    assert_eq!(app.activities.new_count, 0, "the top clears the marker");
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
        .activities
        .editor
        .as_ref()
        .and_then(|e| e.error.clone())
        .expect("an error");
    assert!(error.column >= 1);
    press(&mut app, KeyCode::Enter);
    assert!(
        app.activities.editor.is_some(),
        "a broken filter is not applied"
    );
    typed(&mut app, "DE group:Fin");
    press(&mut app, KeyCode::Tab);
    assert_eq!(
        app.activities
            .editor
            .as_ref()
            .map(|e| e.input.text().to_owned()),
        Some("country!=DE group:\"Finance EMEA\"".into())
    );
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.activities.chips,
        ["-country:DE", "group:\"Finance EMEA\""],
        "chips are the canonical form"
    );
    assert!(
        matches!(app.take_cmds().as_slice(), [Cmd::LoadActivities { filter, .. }] if filter == "country!=DE group:\"Finance EMEA\"")
    );
    // The service's own errors (unknown names) keep their column.
    app.update(Msg::Done(Done::Activities {
        filter: app.activities.filter.clone(),
        more: false,
        result: Err(Failure {
            message: "no group".into(),
            column: Some(13),
        }),
    }));
    assert_eq!(
        app.activities.error.as_ref().and_then(|e| e.column),
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
    assert_eq!(app.activities.queries.as_ref().map(Vec::len), Some(9));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.activities.filter, "country:DE");
    assert!(app.activities.queries.is_none());
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
    assert_eq!(app.focus, Pane::Members);
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

#[test]
fn groups_filter_is_fuzzy_and_typing_q_does_not_quit() {
    let mut app = app();
    loaded(&mut app);
    typed(&mut app, "/fq");
    assert!(app.exit.is_none(), "q types into the filter");
    press(&mut app, KeyCode::Backspace);
    typed(&mut app, "in em");
    assert_eq!(app.groups.visible.len(), 1);
    assert_eq!(
        app.groups.selected().map(|g| g.name.as_str()),
        Some("Finance EMEA")
    );
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.groups.visible.len(), 2);
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
    assert_eq!(app.jobs.len(), 1);
    assert!(
        app.syncing(GroupId(2)) && !app.syncing(GroupId(1)),
        "R-G7: the group shows its sync"
    );
    app.update(Msg::Service(Event::JobFinished {
        id: JobId(1),
        summary: "ok".into(),
    }));
    assert!(app.jobs.is_empty());
    app.now += 10_000_000;
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
    assert_eq!(app.activities.rows.len(), 6);
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

// R-C1, R-C2, R-C3, R-C5: the connect wizard.
#[test]
fn connect_wizard_checks_before_handing_over() {
    let mut app = app();
    typed(&mut app, "1c");
    assert!(app.wizard.is_some());
    // Amazon Web Services has no connector yet.
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Enter);
    assert!(
        app.wizard
            .as_ref()
            .and_then(|w| w.error.clone())
            .is_some_and(|e| e.contains("no connector"))
    );
    let m365 = AppKind::ALL
        .iter()
        .position(|a| *a == AppKind::Microsoft365)
        .expect("in the catalog");
    for _ in 1..m365 {
        press(&mut app, KeyCode::Down);
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.wizard.as_ref().and_then(|w| w.app),
        Some(AppKind::Microsoft365)
    );
    for value in [
        "contoso",
        "tenant-1",
        "client-1",
        "s3cret",
        "http://127.0.0.1:1",
    ] {
        typed(&mut app, value);
        press(&mut app, KeyCode::Tab);
    }
    // The first component is users-and-groups: switching it off is refused at once (R-C5).
    typed(&mut app, " ");
    assert!(
        app.wizard
            .as_ref()
            .and_then(|w| w.error.clone())
            .is_some_and(|e| e.contains("users-and-groups"))
    );
    press(&mut app, KeyCode::Enter);
    assert!(
        app.take_cmds().is_empty(),
        "an impossible selection is not sent"
    );
    typed(&mut app, " ");
    press(&mut app, KeyCode::Enter);
    let cmds = app.take_cmds();
    let [Cmd::Connect { form, secret }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(
        (
            form.name.as_str(),
            form.fields["tenant-id"].as_str(),
            form.fields["client-id"].as_str()
        ),
        ("contoso", "tenant-1", "client-1")
    );
    assert_eq!(secret, &SecretSource::Given(Secret::new("s3cret")));
    assert_eq!(form.endpoint.as_deref(), Some("http://127.0.0.1:1"));
    app.update(Msg::Done(Done::Connected(Err(Failure {
        message: "bad secret".into(),
        column: None,
    }))));
    assert_eq!(
        app.wizard.as_ref().and_then(|w| w.error.clone()).as_deref(),
        Some("bad secret"),
        "the form stays for another try"
    );
    app.update(Msg::Done(Done::Connected(Ok("contoso".into()))));
    assert!(app.wizard.is_none());
    // R-C2: Microsoft 365 allows one instance.
    app.update(Msg::Done(Done::Instances(Ok(vec![instance(1, "contoso")]))));
    typed(&mut app, "c");
    for _ in 0..m365 {
        press(&mut app, KeyCode::Down);
    }
    press(&mut app, KeyCode::Enter);
    assert!(
        app.wizard
            .as_ref()
            .and_then(|w| w.error.clone())
            .is_some_and(|e| e.contains("one instance only"))
    );
}

/// Opens the wizard on `kind`'s form.
fn wizard_on(app: &mut App, kind: AppKind) {
    app.perform(Action::Connect, None);
    if let Some(w) = &mut app.wizard {
        // The catalog lists AppKind::ALL, whose order `kind as usize` indexes.
        w.cursor.selected = kind as usize;
    }
    press(app, KeyCode::Enter);
    assert_eq!(app.wizard.as_ref().and_then(|w| w.app), Some(kind));
}

fn code_arrives(app: &mut App, seq: u64, result: Outcome<SignInCode>) {
    app.update(Msg::Done(Done::SignInCode { seq, result }));
}

fn token_arrives(app: &mut App, seq: u64, result: Outcome<Secret>) {
    app.update(Msg::Done(Done::SignedIn { seq, result }));
}

fn wizard(app: &App) -> &Wizard {
    app.wizard.as_ref().expect("the wizard is open")
}

/// The form's fields: key and what was typed.
fn form_fields(app: &App) -> Vec<(String, String)> {
    wizard(app)
        .fields
        .iter()
        .map(|f| (f.key.clone(), f.input.text().to_owned()))
        .collect()
}

/// Types each value into the next field, starting below the focused row.
fn fill(app: &mut App, values: &[&str]) {
    for value in values {
        press(app, KeyCode::Tab);
        typed(app, value);
    }
}

fn paste(app: &mut App, text: &str) {
    app.update(Msg::Paste(text.into()));
}

fn failure(message: &str) -> Failure {
    Failure {
        message: message.into(),
        column: None,
    }
}

/// The one command the last keys or results asked for.
fn one_cmd(app: &mut App) -> Cmd {
    let mut cmds = app.take_cmds();
    assert_eq!(cmds.len(), 1, "{cmds:?}");
    cmds.remove(0)
}

// R-C1: Okta's two methods; the fields follow the method, and what was
// typed into the fields both share stays (a secret never moves across).
#[test]
fn switching_the_method_keeps_the_shared_fields() {
    let mut app = app();
    wizard_on(&mut app, AppKind::Okta);
    assert_eq!(wizard(&app).focus, 0, "the method row comes first");
    fill(&mut app, &["acme", "acme.okta.com", "00token"]);
    for _ in 0..3 {
        press(&mut app, KeyCode::Up);
    }
    press(&mut app, KeyCode::Right);
    assert_eq!(wizard(&app).method, 1);
    let expected = [
        ("name", "acme"),
        ("domain", "acme.okta.com"),
        ("client-id", ""),
        ("private-key", ""),
        ("endpoint", ""),
    ];
    assert_eq!(
        form_fields(&app),
        expected.map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    press(&mut app, KeyCode::Char(' '));
    assert_eq!(wizard(&app).method, 0, "space switches too, round");
    let expected = [
        ("name", "acme"),
        ("domain", "acme.okta.com"),
        ("api-token", ""),
        ("endpoint", ""),
    ];
    assert_eq!(
        form_fields(&app),
        expected.map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    press(&mut app, KeyCode::Left);
    assert_eq!(wizard(&app).method, 1, "left wraps round");
    // Microsoft 365 has one method: no method row.
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Esc);
    wizard_on(&mut app, AppKind::Microsoft365);
    assert_eq!(
        wizard(&app).focused_field().map(|f| f.key.as_str()),
        Some("name")
    );
}

// R-C1, R-C3: the form carries the chosen method's fields, by the catalog's names.
#[test]
fn okta_token_and_service_app_send_their_own_fields() {
    let mut app = app();
    wizard_on(&mut app, AppKind::Okta);
    fill(&mut app, &["acme", "acme.okta.com", "00token"]);
    press(&mut app, KeyCode::Enter);
    let Cmd::Connect { form, secret } = one_cmd(&mut app) else {
        panic!("a connect")
    };
    assert_eq!(
        (form.app, form.name.as_str(), form.endpoint.as_deref()),
        (AppKind::Okta, "acme", None)
    );
    assert_eq!(
        form.fields,
        BTreeMap::from([("domain".to_owned(), "acme.okta.com".to_owned())])
    );
    assert_eq!(secret, SecretSource::Given(Secret::new("00token")));
    // R-C3: refused, the form stays for another try, with another method.
    app.update(Msg::Done(Done::Connected(Err(failure(
        "Okta refused the API token (401); create a new one",
    )))));
    assert_eq!(
        wizard(&app).error.as_deref(),
        Some("Okta refused the API token (401); create a new one")
    );
    for _ in 0..3 {
        press(&mut app, KeyCode::Up);
    }
    press(&mut app, KeyCode::Right);
    fill(&mut app, &["", "", "0oa1client"]);
    press(&mut app, KeyCode::Tab);
    let pem = "-----BEGIN PRIVATE KEY-----\r\nMIIEv\r\n-----END PRIVATE KEY-----\r\n";
    paste(&mut app, pem);
    press(&mut app, KeyCode::Enter);
    let Cmd::Connect { form, secret } = one_cmd(&mut app) else {
        panic!("a connect")
    };
    assert_eq!(
        form.fields,
        BTreeMap::from([
            ("client-id".to_owned(), "0oa1client".to_owned()),
            ("domain".to_owned(), "acme.okta.com".to_owned()),
        ])
    );
    assert_eq!(
        secret,
        SecretSource::Given(Secret::new(
            "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----"
        )),
        "a pasted key keeps its lines, as LF"
    );
}

// R-C3: a multiline secret is the path to its file (read by the runtime) or
// the key pasted whole; a paste anywhere else is one line.
#[test]
fn a_key_field_takes_a_path_or_the_pasted_key() {
    let mut app = app();
    wizard_on(&mut app, AppKind::GoogleWorkspace);
    typed(&mut app, "acme");
    press(&mut app, KeyCode::Tab);
    paste(&mut app, "admin@acme.com\r\n");
    fill(&mut app, &["C03abc", ""]);
    paste(&mut app, "~/keys/acme.json\n");
    assert_eq!(
        form_fields(&app)[1],
        ("admin-email".to_owned(), "admin@acme.com".to_owned()),
        "a paste into a one-line field is flattened"
    );
    press(&mut app, KeyCode::Enter);
    let Cmd::Connect { form, secret } = one_cmd(&mut app) else {
        panic!("a connect")
    };
    assert_eq!(secret, SecretSource::File("~/keys/acme.json".into()));
    assert_eq!(
        form.fields.keys().collect::<Vec<_>>(),
        ["admin-email", "customer-id"]
    );
    app.update(Msg::Done(Done::Connected(Err(failure(
        "cannot read the key file ~/keys/acme.json: No such file or directory (os error 2)",
    )))));
    assert!(
        wizard(&app)
            .error
            .as_deref()
            .is_some_and(|e| e.contains("~/keys/acme.json") && e.lines().count() == 1)
    );
    let json = "{\r\n  \"type\": \"service_account\",\r\n  \"private_key\": \"k\"\r\n}\r\n";
    paste(&mut app, json);
    assert_eq!(
        wizard(&app).focused_field().map(|f| f.input.text()),
        Some(""),
        "the pasted key is not kept as text to edit or show"
    );
    press(&mut app, KeyCode::Enter);
    let Cmd::Connect { secret, .. } = one_cmd(&mut app) else {
        panic!("a connect")
    };
    assert_eq!(
        secret,
        SecretSource::Given(Secret::new(
            "{\n  \"type\": \"service_account\",\n  \"private_key\": \"k\"\n}"
        ))
    );
    // Outside the wizard a paste types on one line where a field has the keyboard…
    app.update(Msg::Done(Done::Connected(Ok("acme".into()))));
    app.take_cmds();
    typed(&mut app, "2/");
    paste(&mut app, "fin\nance");
    assert_eq!(app.groups.filter.text(), "fin ance");
    // …and is dropped where none has it, rather than read as keys.
    press(&mut app, KeyCode::Enter);
    paste(&mut app, "q");
    assert_eq!(app.exit, None);
}

/// GitHub's device flow, filled in and asked for a code.
fn github_signing_in(app: &mut App) -> Box<ConnectForm> {
    wizard_on(app, AppKind::Github);
    press(app, KeyCode::Right);
    fill(app, &["acme", "acme-corp", "Iv1.8a61f9b3a7aba766"]);
    press(app, KeyCode::Enter);
    let Cmd::SignIn { form, seq: 1 } = one_cmd(app) else {
        panic!("a sign-in")
    };
    form
}

fn github_code() -> SignInCode {
    SignInCode {
        verification_uri: "https://github.com/login/device".into(),
        user_code: "WDJB-MJHT".into(),
        expires_in: std::time::Duration::from_secs(900),
    }
}

// R-C3: begin → the code shown → a token → the credentials checked with it.
#[test]
fn device_flow_signs_in_then_connects_with_the_token() {
    let mut app = app();
    let form = github_signing_in(&mut app);
    assert_eq!(
        form.fields,
        BTreeMap::from([
            ("client-id".to_owned(), "Iv1.8a61f9b3a7aba766".to_owned()),
            ("organization".to_owned(), "acme-corp".to_owned()),
        ])
    );
    assert_eq!(wizard(&app).stage, Stage::Asking);
    code_arrives(&mut app, 1, Ok(github_code()));
    assert_eq!(
        wizard(&app).stage,
        Stage::Waiting {
            code: github_code(),
            until: NOW + 900_000_000
        }
    );
    typed(&mut app, "x");
    assert!(app.take_cmds().is_empty(), "keys do nothing while waiting");
    token_arrives(&mut app, 1, Ok(Secret::new("gho_token")));
    assert_eq!(
        one_cmd(&mut app),
        Cmd::Connect {
            form,
            secret: SecretSource::Given(Secret::new("gho_token")),
        }
    );
    assert_eq!(wizard(&app).stage, Stage::Checking);
    app.update(Msg::Done(Done::Connected(Ok("acme".into()))));
    assert!(app.wizard.is_none());
}

// R-C3: Esc while waiting cancels the sign-in and connects nothing, even
// if the cancelled sign-in's answer was already on its way.
#[test]
fn esc_while_waiting_cancels_and_connects_nothing() {
    let mut app = app();
    github_signing_in(&mut app);
    code_arrives(&mut app, 1, Ok(github_code()));
    press(&mut app, KeyCode::Esc);
    assert_eq!(one_cmd(&mut app), Cmd::CancelSignIn);
    assert_eq!(wizard(&app).stage, Stage::Editing, "back to the form");
    assert_eq!(form_fields(&app)[1].1, "acme-corp", "as it was filled in");
    token_arrives(&mut app, 1, Ok(Secret::new("gho_late")));
    assert!(app.take_cmds().is_empty(), "a late token connects nothing");
    // A new sign-in ignores the old one's code; its own expires on the clock.
    press(&mut app, KeyCode::Enter);
    assert!(matches!(one_cmd(&mut app), Cmd::SignIn { seq: 2, .. }));
    code_arrives(&mut app, 1, Ok(github_code()));
    assert_eq!(wizard(&app).stage, Stage::Asking);
    let short = SignInCode {
        expires_in: std::time::Duration::from_secs(60),
        ..github_code()
    };
    code_arrives(&mut app, 2, Ok(short));
    app.now = NOW + 61_000_000;
    app.update(Msg::Tick);
    assert_eq!(one_cmd(&mut app), Cmd::CancelSignIn);
    assert!(
        wizard(&app)
            .error
            .as_deref()
            .is_some_and(|e| e.contains("expired"))
    );
}

// R-C3: a refused or denied sign-in is one line in the form, kept for another try.
#[test]
fn a_failed_sign_in_is_one_line_in_the_form() {
    let mut app = app();
    github_signing_in(&mut app);
    code_arrives(
        &mut app,
        1,
        Err(failure(
            "GitHub does not know the client id Iv1.8a61f9b3a7aba766; check the OAuth app",
        )),
    );
    assert_eq!(wizard(&app).stage, Stage::Editing);
    assert!(
        wizard(&app)
            .error
            .as_deref()
            .is_some_and(|e| e.contains("client id"))
    );
    press(&mut app, KeyCode::Enter);
    assert!(matches!(one_cmd(&mut app), Cmd::SignIn { seq: 2, .. }));
    code_arrives(&mut app, 2, Ok(github_code()));
    token_arrives(
        &mut app,
        2,
        Err(failure(
            "the sign-in was denied at GitHub; press enter to try again",
        )),
    );
    assert!(app.take_cmds().is_empty(), "nothing is connected");
    assert_eq!(
        wizard(&app).error.as_deref(),
        Some("the sign-in was denied at GitHub; press enter to try again")
    );
    assert_eq!(form_fields(&app)[0].1, "acme", "the form is kept");
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
    assert_eq!(app.members.visible.len(), 2);
    typed(&mut app, "na b");
    assert_eq!(
        app.members.selected().map(|m| m.name.as_str()),
        Some("Anna Berg")
    );
    assert_eq!(app.members.visible.len(), 1);
    for _ in 0..6 {
        press(&mut app, KeyCode::Backspace);
    }
    assert_eq!(app.members.visible.len(), 3, "deleting widens again");
}

// Export: `e` asks for CSV of the current filter, progress shows, a second one waits.
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
    assert_eq!(app.activities.export, Some(3000));
    app.update(Msg::Done(Done::Exported(Ok(("/tmp/x.csv".into(), 3500)))));
    assert_eq!(app.activities.export, None);
    assert!(
        app.toasts
            .last()
            .is_some_and(|t| t.text.contains("3500") && t.text.contains("/tmp/x.csv"))
    );
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

mod external {
    use super::*;
    use crate::domain::external::{
        AclEntry, ConnectionId, DirectoryUser, ExternalGroupId, ItemId, Member, Principal,
    };
    use crate::tui::views::external::{
        AudienceNode, ConnNode, Field, GroupNode, ItemNode, MemberNode, WhoRow,
    };

    fn gid(id: &str) -> ExternalGroupId {
        ExternalGroupId::parse(id).expect("group id")
    }

    fn conn() -> ConnNode {
        ConnNode {
            id: "contosokb".into(),
            name: "Knowledge base".into(),
            instance: "contoso".into(),
            groups: 2,
            items: 1,
            pending: 0,
        }
    }

    fn groups(extra: bool) -> Vec<GroupNode> {
        let mut out = vec![
            GroupNode {
                id: gid("escalations"),
                label: "Escalations".into(),
                description: None,
                members: vec![
                    MemberNode {
                        member: Member::ExternalGroup(gid("tier1")),
                        label: "Tier 1".into(),
                        pending: false,
                    },
                    MemberNode {
                        member: Member::User("u-ann".into()),
                        label: "ann@contoso.com".into(),
                        pending: false,
                    },
                ],
                mirror: None,
            },
            GroupNode {
                id: gid("tier1"),
                label: "Tier 1".into(),
                description: None,
                members: Vec::new(),
                mirror: None,
            },
        ];
        if extra {
            out.insert(
                0,
                GroupNode {
                    id: gid("aaa"),
                    label: "Aaa".into(),
                    description: None,
                    members: Vec::new(),
                    mirror: None,
                },
            );
        }
        out
    }

    fn items() -> Vec<ItemNode> {
        vec![ItemNode {
            id: ItemId::parse("kb-1").expect("item id"),
            title: Some("Payment gateway".into()),
            acl: vec![AclEntry::deny(Principal::ExternalGroup(gid("escalations")))],
            labels: vec!["external group Escalations".into()],
            pending: Vec::new(),
        }]
    }

    /// The dashboard on the External groups pane with one connection loaded.
    fn external_app() -> App {
        let mut app = app();
        typed(&mut app, "5");
        app.update(Msg::Done(Done::ExternalConnections(Ok(vec![conn()]))));
        let cmds = app.take_cmds();
        assert_eq!(
            cmds,
            [
                Cmd::LoadExternalGroups("contosokb".into()),
                Cmd::LoadExternalItems("contosokb".into())
            ],
            "the only connection opens by itself"
        );
        app.update(Msg::Done(Done::ExternalGroups {
            connection: "contosokb".into(),
            result: Ok(groups(false)),
        }));
        app.update(Msg::Done(Done::ExternalItems {
            connection: "contosokb".into(),
            result: Ok(items()),
        }));
        app
    }

    fn labels(app: &App) -> Vec<String> {
        app.external
            .tree
            .rows
            .iter()
            .map(|r| format!("{}{}", "  ".repeat(r.depth), r.label))
            .collect()
    }

    fn users() -> Vec<DirectoryUser> {
        ["ann@contoso.com", "bob@contoso.com"]
            .iter()
            .map(|n| DirectoryUser {
                id: format!("u-{}", &n[..3]),
                name: (*n).into(),
                guest: false,
            })
            .collect()
    }

    // R-X1: the pane's connections load with the rest of the screen.
    #[test]
    fn start_asks_for_the_connections() {
        let mut app = App::new(Keymap::defaults(), Theme::plain(), "db".into(), NOW);
        assert!(app.start().contains(&Cmd::LoadExternalConnections));
    }

    // R-X3: Enter and → open a group, ← closes it and then goes to the parent;
    // the breadcrumbs show connection › group.
    #[test]
    fn keys_open_and_close_the_tree() {
        let mut app = external_app();
        assert_eq!(
            labels(&app),
            ["contosokb", "  Escalations", "  Tier 1", "  Items"]
        );
        typed(&mut app, "j");
        press(&mut app, KeyCode::Enter);
        assert_eq!(labels(&app)[2..4], ["    Tier 1", "    ann@contoso.com"]);
        typed(&mut app, "jj");
        assert_eq!(
            app.breadcrumbs(),
            ["External groups", "contosokb", "Escalations"]
        );
        typed(&mut app, "h");
        assert_eq!(
            app.external.tree.selected().map(|r| r.label.as_str()),
            Some("Escalations"),
            "← on a leaf goes to its parent"
        );
        typed(&mut app, "h");
        assert_eq!(labels(&app).len(), 4, "← closes the open group");
        typed(&mut app, "l");
        assert_eq!(labels(&app).len(), 6, "→ opens it again");
    }

    // R-X5: the checker has the keyboard: letters type (q too), Tab switches
    // field, Esc closes it without leaving the pane.
    #[test]
    fn checker_takes_the_keys() {
        let mut app = external_app();
        typed(&mut app, "a");
        assert_eq!(app.contexts(), [Context::Checker]);
        assert_eq!(
            app.take_cmds(),
            [Cmd::LoadDirectoryUsers("contosokb".into())]
        );
        typed(&mut app, "q kb");
        assert!(app.exit.is_none(), "q types into the field");
        let c = app.external.checker.as_ref().expect("checker");
        assert_eq!((c.field, c.item_query.text()), (Field::Item, "q kb"));
        app.update(Msg::Key(KeyEvent::new(
            KeyCode::Char('u'),
            KeyModifiers::CONTROL,
        )));
        typed(&mut app, "pay");
        press(&mut app, KeyCode::Enter);
        app.update(Msg::Done(Done::DirectoryUsers {
            connection: "contosokb".into(),
            result: Ok(users()),
        }));
        typed(&mut app, "bo");
        let cmds = app.take_cmds();
        assert!(
            matches!(cmds.as_slice(), [Cmd::CheckAccess { item, user, .. }] if item == "kb-1" && user == "u-bob"),
            "{cmds:?}"
        );
        press(&mut app, KeyCode::Tab);
        assert_eq!(
            app.external.checker.as_ref().map(|c| c.field),
            Some(Field::Item)
        );
        press(&mut app, KeyCode::Esc);
        assert!(app.external.checker.is_none());
        assert_eq!(app.focus, Pane::External);
    }

    // R-X5: `w` on an item asks who can see it; `/` filters the people;
    // Enter on a row checks that user.
    #[test]
    fn who_can_see_then_check_one_of_them() {
        let mut app = external_app();
        typed(&mut app, "G");
        press(&mut app, KeyCode::Enter);
        typed(&mut app, "j");
        app.take_cmds();
        typed(&mut app, "w");
        assert_eq!(
            app.take_cmds(),
            [Cmd::LoadAudience {
                connection: "contosokb".into(),
                item: "kb-1".into()
            }]
        );
        app.update(Msg::Done(Done::Audience {
            connection: "contosokb".into(),
            item: "kb-1".into(),
            result: Ok(AudienceNode {
                rows: vec![
                    WhoRow {
                        user_id: "u-ann".into(),
                        name: "ann@contoso.com".into(),
                        decision: crate::domain::external::Access::Deny,
                        entry: 1,
                    },
                    WhoRow {
                        user_id: "u-bob".into(),
                        name: "bob@contoso.com".into(),
                        decision: crate::domain::external::Access::Grant,
                        entry: 2,
                    },
                ],
                granted: 1,
                denied: 1,
                ..AudienceNode::default()
            }),
        }));
        assert_eq!(
            app.breadcrumbs(),
            [
                "External groups",
                "contosokb",
                "Items",
                "kb-1",
                "Who can see"
            ]
        );
        // The list filters fuzzily, like every list.
        typed(&mut app, "/bo");
        press(&mut app, KeyCode::Enter);
        press(&mut app, KeyCode::Enter);
        app.take_cmds();
        app.update(Msg::Done(Done::DirectoryUsers {
            connection: "contosokb".into(),
            result: Ok(users()),
        }));
        let cmds = app.take_cmds();
        assert!(
            matches!(cmds.as_slice(), [Cmd::CheckAccess { user, .. }] if user == "u-bob"),
            "{cmds:?}"
        );
        press(&mut app, KeyCode::Esc);
        press(&mut app, KeyCode::Esc);
        assert!(
            matches!(app.external.stack.last(), Some(crate::tui::views::external::Detail::Who { visible, .. }) if visible.len() == 2),
            "Esc clears the filter first"
        );
        press(&mut app, KeyCode::Esc);
        assert!(app.external.stack.is_empty(), "back to the tree");
    }

    // R-X4: Enter on an ACL entry naming an external group shows that group
    // in the tree.
    #[test]
    fn an_acl_entry_leads_to_its_group() {
        let mut app = external_app();
        typed(&mut app, "G");
        press(&mut app, KeyCode::Enter);
        typed(&mut app, "j");
        press(&mut app, KeyCode::Enter);
        assert_eq!(
            app.breadcrumbs(),
            ["External groups", "contosokb", "Items", "kb-1", "ACL"]
        );
        press(&mut app, KeyCode::Enter);
        assert!(app.external.stack.is_empty());
        assert_eq!(
            app.external.tree.selected().map(|r| r.label.as_str()),
            Some("Escalations")
        );
    }

    // Live: a change of the connection reloads it once, and the row the user
    // is on stays selected when rows arrive above it.
    #[test]
    fn a_change_reloads_without_losing_the_selection() {
        let mut app = external_app();
        typed(&mut app, "j");
        press(&mut app, KeyCode::Enter);
        typed(&mut app, "jj");
        let before = app.external.tree.selected().map(|r| r.path.clone());
        let id = ConnectionId::parse("contosokb").expect("id");
        for _ in 0..3 {
            app.update(Msg::Service(Event::ExternalChanged {
                connection: id.clone(),
            }));
        }
        assert_eq!(
            app.take_cmds(),
            [
                Cmd::LoadExternalConnections,
                Cmd::LoadExternalGroups("contosokb".into()),
                Cmd::LoadExternalItems("contosokb".into())
            ]
        );
        app.update(Msg::Done(Done::ExternalGroups {
            connection: "contosokb".into(),
            result: Ok(groups(true)),
        }));
        assert_eq!(labels(&app)[1], "  Aaa", "the new group is above");
        assert_eq!(app.external.tree.selected().map(|r| r.path.clone()), before);
    }

    // R-X1: `:external NAME` opens that connection; an unknown name lists the known ones.
    #[test]
    fn external_command_opens_a_connection_or_says_which_exist() {
        let mut app = external_app();
        typed(&mut app, "1:external nope\n");
        press(&mut app, KeyCode::Enter);
        assert!(
            app.toasts
                .last()
                .is_some_and(|t| t.text.contains("contosokb"))
        );
        typed(&mut app, ":external ContosoKB");
        press(&mut app, KeyCode::Enter);
        assert_eq!(app.focus, Pane::External);
        assert_eq!(
            app.external.tree.selected().map(|r| r.label.as_str()),
            Some("contosokb")
        );
    }
}
