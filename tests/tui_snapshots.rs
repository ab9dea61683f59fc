//! What the dashboard draws, on ratatui's TestBackend: snapshots of every
//! pane and the picker at 80×24 and 120×40, style checks where meaning rests
//! on style, and no panic at any size.

mod common;

use casbah::domain::{
    Activity, ActivityObject, AppKind, AutoGroup, Component, Group, GroupId, GroupKind,
    GroupStatus, Instance, InstanceId, Micros, ObjectKind, OfficeApp, RemoteGroup, RemoteUser,
    SkipCounts, UserStatus, UserType,
};
use casbah::service::{AvailableGroup, InstanceSummary, Timeline};
use casbah::store::{ActivityPage, Histogram, Member, Person, ScanKind, ScanState};
use casbah::tui::app::App;
use casbah::tui::keymap::Keymap;
use casbah::tui::msg::{Cmd, Done, Failure, Msg};
use casbah::tui::theme::Theme;
use casbah::tui::views::connect::SignInCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Color, Modifier};

/// 2026-09-21 14:13:20 UTC, so every age and the clock are fixed.
const NOW: Micros = 1_790_000_000_000_000;
const MIN: Micros = 60_000_000;

fn instance() -> InstanceSummary {
    let ok = ScanState {
        last_success: Some(NOW - 5 * MIN),
        last_attempt: Some(NOW - 5 * MIN),
        last_error: None,
        note: None,
    };
    InstanceSummary {
        instance: Instance {
            id: InstanceId(1),
            app: AppKind::Microsoft365,
            name: "contoso".into(),
            fields: [("tenant-id", "t"), ("client-id", "c")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
            endpoint: None,
            // R-G10: Office 365 activities on, so Microsoft 365 groups show their Office apps.
            components: Component::default_set(),
            created_at: 0,
        },
        users: 297,
        scans: vec![
            (ScanKind::Users, ok.clone()),
            (
                ScanKind::Activities,
                ScanState {
                    last_success: Some(NOW - MIN),
                    ..ok
                },
            ),
        ],
        streams: Vec::new(),
    }
}

fn group(id: u64, name: &str, status: GroupStatus, members: u32) -> Group {
    Group {
        id: GroupId(id),
        kind: GroupKind::Imported {
            instance: InstanceId(1),
            remote_id: format!("r{id}"),
        },
        name: name.into(),
        status,
        member_count: members,
        skipped: SkipCounts::default(),
        imported_at: NOW - 60 * MIN,
        last_sync: Some(NOW - 30 * MIN),
        notify: true,
        microsoft365: false,
    }
}

fn groups() -> Vec<Group> {
    let mut external = group(1, "External", GroupStatus::Ready, 12);
    external.kind = GroupKind::Automatic(AutoGroup::External);
    // R-G10: a Microsoft 365 group, also a group of each Office app.
    let mut unified = group(2, "Finance - EMEA Approvers", GroupStatus::Ready, 4);
    unified.microsoft365 = true;
    vec![
        external,
        unified,
        group(3, "Sales NA", GroupStatus::Importing, 0),
        group(
            4,
            "Engineering Platform",
            GroupStatus::SyncFailed {
                message: "401".into(),
            },
            31,
        ),
    ]
}

fn activity(n: i64) -> Activity {
    let countries = ["DE", "US", "FR", "JP"];
    Activity {
        id: format!("evt-{n:04}"),
        app: AppKind::Microsoft365,
        instance: InstanceId(1),
        time: NOW - n * 7 * MIN,
        actor: format!("user{n}@contoso.com"),
        actor_name: format!("User {n}"),
        activity_type: if n % 3 == 0 {
            "FileDownloaded"
        } else {
            "UserLoggedIn"
        }
        .into(),
        action_type: if n % 3 == 0 { "download" } else { "sign-in" }.into(),
        objects: vec![ActivityObject {
            kind: ObjectKind::File,
            id: "f1".into(),
            name: "budget.xlsx".into(),
        }],
        admin: n % 5 == 0,
        impersonated: false,
        succeeded: true,
        ip: Some(format!("20.12.{n}.7")),
        address_text: None,
        country: Some(countries[(n % 4) as usize].into()),
        isp: Some("Contoso ISP".into()),
        device_type: Some("Desktop".into()),
        user_agent: Some("Mozilla/5.0".into()),
        source: "Office 365".into(),
        groups: vec![GroupId(2)],
        // R-G10: file downloads come from SharePoint; sign-ins from no Office app.
        office_app: (n % 3 == 0).then_some(OfficeApp::SharePoint),
    }
}

fn members() -> Vec<Member> {
    ["Naomi Keller", "Ahmed Chen", "Ines Garcia", "Leo Walker"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let email = format!("{}@contoso.com", name.to_lowercase().replace(' ', "."));
            Member {
                key: email.clone(),
                name: (*name).into(),
                email,
                instance: Some(InstanceId(1)),
                joined_at: NOW - 60 * MIN,
                last_activity: Some(NOW - (i as i64 + 1) * 90 * MIN),
            }
        })
        .collect()
}

fn key(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// A dashboard with an instance, four groups, members and 40 activities.
fn fixture(theme: Theme) -> App {
    let mut app = App::new(
        Keymap::defaults(),
        theme,
        "/var/lib/casbah/casbah.redb".into(),
        NOW,
    );
    app.start();
    app.update(Msg::Done(Done::Instances(Ok(vec![instance()]))));
    app.update(Msg::Done(Done::Groups(Ok(groups()))));
    app.update(Msg::Done(Done::Activities {
        filter: String::new(),
        more: false,
        result: Ok(ActivityPage {
            items: (1..=40).map(activity).collect(),
            next: None,
        }),
    }));
    app.update(Msg::Done(Done::SavedQueries(Ok(vec![(
        "EMEA downloads".into(),
        "action:download group:\"Finance - EMEA Approvers\"".into(),
    )]))));
    app.update(Msg::Done(Done::Timeline {
        seq: 1,
        result: Ok(timeline()),
    }));
    app.take_cmds();
    app
}

/// Issue 13: seven days in three-hour buckets, busy in working hours.
fn timeline() -> Timeline {
    const WIDTH: Micros = 180 * MIN;
    let from = (NOW - 7 * 24 * 60 * MIN).div_euclid(WIDTH) * WIDTH;
    let counts: Vec<u64> = (0..57u64)
        .map(|i| [2, 1, 3, 40, 55, 38, 9, 4][(i % 8) as usize] * 1_000 + i * 37)
        .collect();
    Timeline {
        histogram: Histogram {
            from,
            width: WIDTH,
            counts,
        },
        all: 9_882_004,
    }
}

fn with_members(app: &mut App) {
    typed(app, "2jj");
    key(app, KeyCode::Up);
    key(app, KeyCode::Enter);
    app.update(Msg::Done(Done::Members {
        group: GroupId(2),
        result: Ok(members()),
    }));
    app.take_cmds();
}

fn render(app: &App, w: u16, h: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    terminal.draw(|f| app.draw(f)).expect("draw");
    terminal.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// Snapshots `app` at both sizes.
fn snap(name: &str, app: &App) {
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), text(&render(app, w, h)));
    }
}

/// The row of the buffer that holds `needle`.
fn row_of(buf: &Buffer, needle: &str) -> u16 {
    let lines: Vec<String> = text(buf).lines().map(str::to_owned).collect();
    lines
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not on screen:\n{}", lines.join("\n"))) as u16
}

fn cell_at(buf: &Buffer, needle: &str) -> (u16, u16) {
    let y = row_of(buf, needle);
    let line: String = (0..buf.area.width)
        .map(|x| buf[(x, y)].symbol().to_owned())
        .collect();
    let byte = line.find(needle).expect("on the row");
    (line[..byte].chars().count() as u16, y)
}

#[test]
fn groups_pane() {
    snap("groups", &fixture(Theme::plain()));
}

#[test]
fn connectors_pane() {
    let mut app = fixture(Theme::plain());
    typed(&mut app, "1");
    snap("connectors", &app);
}

#[test]
fn members_pane() {
    let mut app = fixture(Theme::plain());
    with_members(&mut app);
    snap("members", &app);
}

#[test]
fn members_pane_filtered() {
    let mut app = fixture(Theme::plain());
    with_members(&mut app);
    typed(&mut app, "/in ga");
    snap("members_filtered", &app);
}

// R-G8: the person: apps, groups, counts by type and app, 30 days; a name that every
// account shares is shown once.
#[test]
fn person_view() {
    let mut app = fixture(Theme::plain());
    with_members(&mut app);
    key(&mut app, KeyCode::Enter);
    let account = |id: &str| RemoteUser {
        id: id.into(),
        display_name: "Naomi Keller".into(),
        email: "naomi.keller@contoso.com".into(),
        status: UserStatus::Active,
        user_type: UserType::Member,
        principal_name: None,
        admin: false,
        org_unit: None,
        on_premises_sync: false,
    };
    let person = Person {
        key: "naomi.keller@contoso.com".into(),
        accounts: vec![
            (InstanceId(1), account("u1")),
            (InstanceId(1), account("u2")),
        ],
        groups: vec![GroupId(2), GroupId(1)],
        apps: vec![AppKind::Microsoft365],
        by_type: vec![("FileDownloaded".into(), 14), ("UserLoggedIn".into(), 9)],
        by_app: vec![(AppKind::Microsoft365, 23)],
        daily: (0..30).map(|d| (d * 7 % 5) as u64).collect(),
        last_activity: Some(NOW - 90 * MIN),
    };
    app.update(Msg::Done(Done::Person {
        key: "naomi.keller@contoso.com".into(),
        result: Ok(person),
    }));
    let screen = text(&render(&app, 120, 40));
    let name = screen
        .lines()
        .find(|l| l.contains("Name "))
        .expect("the name line");
    assert_eq!(name.matches("Naomi Keller").count(), 1, "{name}");
    snap("person", &app);
}

#[test]
fn activities_pane() {
    let mut app = fixture(Theme::plain());
    typed(
        &mut app,
        ":activities group:\"Finance - EMEA Approvers\" country!=US\n",
    );
    key(&mut app, KeyCode::Enter);
    app.update(Msg::Done(Done::Activities {
        filter: "group:\"Finance - EMEA Approvers\" country!=US".into(),
        more: false,
        result: Ok(ActivityPage {
            items: (1..=40).filter(|n| n % 4 != 1).map(activity).collect(),
            next: None,
        }),
    }));
    snap("activities", &app);
}

// R-A1: every field of the record, with its group tags.
#[test]
fn activity_detail() {
    let mut app = fixture(Theme::plain());
    typed(&mut app, "4j");
    key(&mut app, KeyCode::Enter);
    snap("activity_detail", &app);
}

// R-G10, R-A1: a SharePoint record names its Office app after its app.
#[test]
fn sharepoint_activity_detail() {
    let mut app = fixture(Theme::plain());
    typed(&mut app, "4jj");
    key(&mut app, KeyCode::Enter);
    assert!(
        text(&render(&app, 80, 24)).contains("App            Microsoft 365 · SharePoint Online"),
        "the detail names the Office app"
    );
    snap("activity_detail_sharepoint", &app);
}

// issue 10: what a vendor wrote where an IP belongs, when it is not one, is
// shown on its own line, escaped, and the IP address stays empty.
#[test]
fn activity_detail_shows_text_that_is_not_an_ip() {
    let mut app = fixture(Theme::plain());
    let mut a = activity(1);
    a.ip = None;
    a.address_text = Some("[cool.client.local]:12345".into());
    app.update(Msg::Done(Done::Activities {
        filter: String::new(),
        more: false,
        result: Ok(ActivityPage {
            items: vec![a],
            next: None,
        }),
    }));
    typed(&mut app, "4");
    key(&mut app, KeyCode::Enter);
    let screen = text(&render(&app, 80, 24));
    assert!(screen.contains("IP address     —"), "{screen}");
    assert!(
        screen.contains("Not an IP      [cool.client.local]:12345"),
        "{screen}"
    );
    let ip_row = row_of(&render(&app, 80, 24), "IP address");
    assert_eq!(row_of(&render(&app, 80, 24), "Not an IP"), ip_row + 1);
}

#[test]
fn activity_filter_error_and_queries() {
    let mut app = fixture(Theme::plain());
    typed(&mut app, "4/country!=");
    snap("activity_filter_error", &app);
    key(&mut app, KeyCode::Esc);
    typed(&mut app, "Q");
    snap("activity_queries", &app);
}

/// Snapshots `app` at the sizes issue 13 asks of its new views.
fn snap_small_and_large(name: &str, app: &App) {
    for (w, h) in [(80, 24), (200, 60)] {
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), text(&render(app, w, h)));
    }
}

// Issue 13 part 2: the timeline over the log, its exact totals and the
// selected row's bucket; `:goto` moves the list and the span to a moment.
#[test]
fn activities_timeline() {
    let mut app = fixture(Theme::plain());
    typed(&mut app, "4jjjj");
    snap_small_and_large("timeline", &app);
    typed(&mut app, ":goto 2026-09-10 09:30");
    key(&mut app, KeyCode::Enter);
    let screen = text(&render(&app, 80, 24));
    assert!(screen.contains(" · from 2026-09-10 09:30"), "{screen}");
    assert!(
        screen.contains("2026-09-06 21:30 … 2026-09-13 21:30"),
        "{screen}"
    );
    let asked = app.take_cmds();
    assert!(
        asked
            .iter()
            .any(|c| matches!(c, Cmd::LoadActivities { after: Some(a), .. } if a.time > 0)),
        "the list starts at the moment: {asked:?}"
    );
}

// Issue 13 part 3: `z` gives the focused pane the whole screen; `o` sorts
// the log by the next column, marked in the header, `O` reverses it.
#[test]
fn zoomed_and_sorted() {
    let mut app = fixture(Theme::plain());
    typed(&mut app, "4ooOz");
    snap_small_and_large("zoomed_sorted", &app);
    let wide = text(&render(&app, 200, 60));
    assert!(wide.contains("Actor ▼"), "{wide}");
    assert!(
        !wide.contains("Connectors 1"),
        "zoomed: the other panes are hidden"
    );
    typed(&mut app, "z");
    assert!(text(&render(&app, 200, 60)).contains("Connectors 1"));
}

// Issue 13 part 3: details scroll line by line with their position; the
// last line is reachable at 80×24 however long a value is.
#[test]
fn activity_detail_scrolls() {
    let mut app = fixture(Theme::plain());
    let mut long = activity(1);
    long.user_agent = Some("Mozilla/5.0 ".repeat(30));
    app.update(Msg::Done(Done::Activities {
        filter: String::new(),
        more: false,
        result: Ok(ActivityPage {
            items: vec![long],
            next: None,
        }),
    }));
    typed(&mut app, "4");
    key(&mut app, KeyCode::Enter);
    // The details are laid out by the frame drawn after Enter, as on a terminal.
    render(&app, 80, 24);
    key(&mut app, KeyCode::End);
    snap_small_and_large("activity_detail_scrolled", &app);
    let small = text(&render(&app, 80, 24));
    assert!(
        small.contains("Groups         Finance - EMEA Approvers"),
        "{small}"
    );
    assert!(small.contains("/2"), "the position: {small}");
}

// Issue 13 part 1: "more like this" offers the fields of the selected record.
#[test]
fn more_like_this_menu() {
    let mut app = fixture(Theme::plain());
    typed(&mut app, "4jm");
    snap_small_and_large("more_like_this", &app);
}

// Issue 13 part 1: after pivots the breadcrumbs show the way here, values made safe.
#[test]
fn pivot_breadcrumbs() {
    let mut app = fixture(Theme::plain());
    typed(&mut app, "4jMi");
    let filter = "ip:20.12.2.7".to_string();
    app.update(Msg::Done(Done::Activities {
        filter: filter.clone(),
        more: false,
        result: Ok(ActivityPage {
            items: vec![activity(2)],
            next: None,
        }),
    }));
    snap_small_and_large("pivot_breadcrumbs", &app);
    let mut hostile = activity(3);
    hostile.actor = "eve\x1b]52;c;AAAA\x07@contoso.com".into();
    app.update(Msg::Done(Done::Activities {
        filter,
        more: false,
        result: Ok(ActivityPage {
            items: vec![hostile],
            next: None,
        }),
    }));
    typed(&mut app, "p");
    let crumbs = app.breadcrumbs().join(" › ");
    assert_eq!(
        crumbs,
        "Activities › 20.12.2.7 › eve^[]52;c;AAAA^G@contoso.com"
    );
}

// R-G2: the picker with a fuzzy query, matched characters, imported marks, notify and the limit.
#[test]
fn picker() {
    let mut app = fixture(Theme::plain());
    typed(&mut app, "2i");
    snap("picker_loading", &app);
    // R-G10: Microsoft 365 groups are marked with the Office apps they also belong to.
    let rows = [
        ("g1", "Finance - EMEA Approvers", true, false),
        ("g2", "Finance - EMEA Auditors", false, true),
        ("g3", "Sales NA", false, false),
        ("g4", "Finance EMEA", false, false),
    ];
    let list = rows
        .iter()
        .map(|(id, n, imp, unified)| AvailableGroup {
            group: RemoteGroup {
                id: (*id).into(),
                display_name: (*n).into(),
                description: None,
                email: None,
                microsoft365: *unified,
            },
            imported: *imp,
            also_in: if *unified {
                OfficeApp::ALL.to_vec()
            } else {
                Vec::new()
            },
        })
        .collect();
    app.update(Msg::Done(Done::Available {
        instance: "microsoft365/contoso".into(),
        search: None,
        result: Ok(list),
    }));
    typed(&mut app, "fin emea");
    snap("picker_query", &app);
}

#[test]
fn help_overlay() {
    let mut app = fixture(Theme::plain());
    typed(&mut app, "?");
    snap("help", &app);
}

// Selection is reverse video, so it reads without colour (NO_COLOR).
#[test]
fn selection_is_reverse_video() {
    let app = fixture(Theme::plain());
    let buf = render(&app, 120, 40);
    // Its kind after it: the group row, not the "External" tab.
    let (x, y) = cell_at(&buf, "External                  automatic");
    assert!(
        buf[(x, y)].modifier.contains(Modifier::REVERSED),
        "the selected group row is reversed"
    );
    let (x, y) = cell_at(&buf, "Finance - EMEA Approvers");
    assert!(
        !buf[(x, y)].modifier.contains(Modifier::REVERSED),
        "other rows are not"
    );
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            assert_eq!(
                buf[(x, y)].fg,
                Color::Reset,
                "NO_COLOR: no foreground colour at {x},{y}"
            );
        }
    }
}

// R-G2: matched characters stand out without colour (bold, underlined).
#[test]
fn picker_matches_are_underlined() {
    let mut app = fixture(Theme::plain());
    typed(&mut app, "2i");
    let list = vec![AvailableGroup {
        group: RemoteGroup {
            id: "g".into(),
            display_name: "Sales NA".into(),
            description: None,
            email: None,
            microsoft365: false,
        },
        imported: false,
        also_in: Vec::new(),
    }];
    app.update(Msg::Done(Done::Available {
        instance: "microsoft365/contoso".into(),
        search: None,
        result: Ok(list),
    }));
    typed(&mut app, "sna");
    let buf = render(&app, 80, 24);
    let (x, y) = cell_at(&buf, "Sales NA");
    let underlined: Vec<bool> = (x..x + 8)
        .map(|x| buf[(x, y)].modifier.contains(Modifier::UNDERLINED))
        .collect();
    assert_eq!(
        underlined,
        [true, false, false, false, false, false, true, true],
        "S, N and A are matched"
    );
}

// R-A4: the filter error is drawn as an error (red with colour, bold without).
#[test]
fn filter_error_is_styled_as_an_error() {
    let mut app = fixture(Theme::colored());
    typed(&mut app, "4/country!=");
    let buf = render(&app, 120, 40);
    let (x, y) = cell_at(&buf, "needs a value");
    assert_eq!(buf[(x, y)].fg, Color::Red);
    assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
}

// Terminals: never panics at any size, down to 1×1, whatever is open.
#[test]
fn any_size_draws_without_panic() {
    let mut states = vec![fixture(Theme::plain())];
    let mut picker = fixture(Theme::plain());
    typed(&mut picker, "2ifin");
    states.push(picker);
    let mut help = fixture(Theme::plain());
    typed(&mut help, "?");
    states.push(help);
    let mut filter = fixture(Theme::plain());
    typed(&mut filter, "4/country!=");
    states.push(filter);
    let mut detail = fixture(Theme::plain());
    typed(&mut detail, "4");
    key(&mut detail, KeyCode::Enter);
    states.push(detail);
    let mut command = fixture(Theme::plain());
    typed(&mut command, ":members Fin");
    states.push(command);
    states.push(okta_service_app(Theme::plain()));
    states.push(google_key_refused(Theme::plain()));
    states.push(github_waiting());
    for app in &states {
        for w in (1..=30).chain([79, 119, 200]) {
            for h in (1..=12).chain([23, 39, 60]) {
                render(app, w, h);
            }
        }
    }
}

// R-C1, R-C5: the connect wizard, with the secret masked.
#[test]
fn connect_wizard() {
    let mut app = fixture(Theme::plain());
    // R-C2: Microsoft 365 allows one instance, so this dashboard starts without one.
    app.update(Msg::Done(Done::Instances(Ok(Vec::new()))));
    typed(&mut app, "1c");
    snap("connect_catalog", &app);
    let m365 = AppKind::by_display_name()
        .iter()
        .position(|a| *a == AppKind::Microsoft365)
        .expect("in the catalog");
    for _ in 0..m365 {
        key(&mut app, KeyCode::Down);
    }
    key(&mut app, KeyCode::Enter);
    for value in ["fabrikam", "tenant-1", "client-1", "hunter2"] {
        typed(&mut app, value);
        key(&mut app, KeyCode::Tab);
    }
    let screen = text(&render(&app, 120, 40));
    assert!(
        screen.contains("fabrikam") && screen.contains("•••••••"),
        "{screen}"
    );
    assert!(!screen.contains("hunter2"), "the secret is never shown");
    snap("connect_form", &app);
}

/// Opens the connect wizard on `kind`'s form.
fn wizard_on(app: &mut App, kind: AppKind) {
    typed(app, "1c");
    let at = AppKind::by_display_name()
        .iter()
        .position(|a| *a == kind)
        .expect("in the catalog");
    for _ in 0..at {
        key(app, KeyCode::Down);
    }
    key(app, KeyCode::Enter);
}

/// Types each value into the next field, starting below the focused row.
fn fill(app: &mut App, values: &[&str]) {
    for value in values {
        key(app, KeyCode::Tab);
        typed(app, value);
    }
}

/// The screen at `w`×`h`, which must show each of `needles`.
fn shows(app: &App, (w, h): (u16, u16), needles: &[&str]) -> String {
    let screen = text(&render(app, w, h));
    for needle in needles {
        assert!(
            screen.contains(needle),
            "{needle:?} at {w}×{h} in\n{screen}"
        );
    }
    screen
}

fn modifier_at(buf: &Buffer, needle: &str) -> Modifier {
    let (x, y) = cell_at(buf, needle);
    buf[(x, y)].modifier
}

/// Okta's service app chosen, its fields filled, the key pasted, and the
/// keyboard back on the method row.
fn okta_service_app(theme: Theme) -> App {
    let mut app = fixture(theme);
    wizard_on(&mut app, AppKind::Okta);
    fill(&mut app, &["acme", "acme.okta.com", "00secret-token"]);
    for _ in 0..3 {
        key(&mut app, KeyCode::Up);
    }
    key(&mut app, KeyCode::Right);
    fill(&mut app, &["", "", "0oa1client"]);
    key(&mut app, KeyCode::Tab);
    app.update(Msg::Paste(
        "-----BEGIN PRIVATE KEY-----\r\nMIIEvQIBADANBg\r\n-----END PRIVATE KEY-----\r\n".into(),
    ));
    for _ in 0..4 {
        key(&mut app, KeyCode::Up);
    }
    app
}

// R-C1: Okta's two methods on one row, the chosen one marked without colour
// (‹ › and reverse video), its fields below in catalog order, the shared
// domain kept; no secret on screen, the pasted key only as its size.
#[test]
fn connect_okta_method_row() {
    let app = okta_service_app(Theme::plain());
    let screen = shows(
        &app,
        (80, 24),
        &[
            "Sign in with",
            "‹ API service app ›",
            "acme.okta.com",
            "0oa1client",
            "pasted, 3 lines",
            "←→ sign-in method",
        ],
    );
    let buf = render(&app, 80, 24);
    for secret in ["00secret", "BEGIN", "MIIEv"] {
        assert!(!screen.contains(secret), "{secret:?} is never shown");
    }
    assert!(
        modifier_at(&buf, "‹ API service app ›").contains(Modifier::REVERSED),
        "the chosen method is reversed"
    );
    assert!(
        !modifier_at(&buf, "API token").contains(Modifier::REVERSED),
        "the other is not"
    );
    snap("connect_okta", &app);
}

/// Google Workspace's form with the key file's path refused by the runtime.
fn google_key_refused(theme: Theme) -> App {
    let mut app = fixture(theme);
    wizard_on(&mut app, AppKind::GoogleWorkspace);
    typed(&mut app, "acme");
    fill(
        &mut app,
        &["admin@acme.com", "C03az79cb", "~/keys/acme.json"],
    );
    key(&mut app, KeyCode::Enter);
    app.update(Msg::Done(Done::Connected(Err(Failure {
        message:
            "cannot read the key file ~/keys/acme.json: No such file or directory (os error 2)"
                .into(),
        column: None,
    }))));
    app
}

// R-C3: the key field takes a path (shown, it is no secret) or a paste; a
// refused credential is one line, drawn as an error, the form kept.
#[test]
fn connect_google_form() {
    let mut app = fixture(Theme::plain());
    wizard_on(&mut app, AppKind::GoogleWorkspace);
    fill(&mut app, &["", "", ""]);
    let screen = shows(
        &app,
        (80, 24),
        &["the path to the key file, or paste the key"],
    );
    assert!(
        !screen.contains("Sign in with"),
        "one method, no method row"
    );
    let app = google_key_refused(Theme::plain());
    snap("connect_google", &app);
    let buf = render(&google_key_refused(Theme::colored()), 120, 40);
    let (x, y) = cell_at(&buf, "✗ cannot read the key file ~/keys/acme.json");
    assert_eq!(buf[(x, y)].fg, Color::Red);
    assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
}

/// GitHub's device flow, waiting for the person to enter the code.
fn github_waiting() -> App {
    let mut app = fixture(Theme::plain());
    wizard_on(&mut app, AppKind::Github);
    key(&mut app, KeyCode::Right);
    fill(&mut app, &["acme", "acme-corp", "Iv1.8a61f9b3a7aba766"]);
    key(&mut app, KeyCode::Enter);
    app.update(Msg::Done(Done::SignInCode {
        seq: 1,
        result: Ok(SignInCode {
            verification_uri: "https://github.com/login/device".into(),
            user_code: "WDJB-MJHT".into(),
            expires_in: std::time::Duration::from_secs(900),
        }),
    }));
    app
}

// R-C3: the device flow's code, plainly, with the time left and a sign of
// life that moves with the clock; Esc cancels.
#[test]
fn connect_github_device_code() {
    let mut app = github_waiting();
    let screen = shows(
        &app,
        (80, 24),
        &[
            "Open https://github.com/login/device and enter WDJB-MJHT",
            "waiting for GitHub…",
            "15:00 more",
            "esc cancel",
        ],
    );
    snap("connect_github_device_code", &app);
    app.env.now += 61_000_000;
    app.update(Msg::Tick);
    let later = shows(&app, (80, 24), &["13:59 more"]);
    let spinner = |s: &str| {
        s.lines()
            .find(|l| l.contains("waiting for"))
            .map(str::to_owned)
    };
    assert_ne!(spinner(&screen), spinner(&later), "the spinner moved");
}

// R-C2: instances of different apps with the same name are told apart in
// every list, by their app.
#[test]
fn every_list_names_the_app() {
    let mut app = fixture(Theme::plain());
    let mut okta = instance();
    okta.instance.id = InstanceId(2);
    okta.instance.app = AppKind::Okta;
    okta.instance.name = "acme".into();
    let mut github = okta.clone();
    github.instance.id = InstanceId(3);
    github.instance.app = AppKind::Github;
    app.update(Msg::Done(Done::Instances(Ok(vec![
        instance(),
        okta,
        github,
    ]))));
    let mut all = groups();
    for (id, instance, name) in [(5, 2, "Okta admins"), (6, 3, "GitHub owners")] {
        let mut g = group(id, name, GroupStatus::Ready, 3);
        g.kind = GroupKind::Imported {
            instance: InstanceId(instance),
            remote_id: format!("r{id}"),
        };
        all.push(g);
    }
    app.update(Msg::Done(Done::Groups(Ok(all))));
    let acts: Vec<Activity> = (1..=3)
        .map(|n| {
            let mut a = activity(n);
            (a.app, a.instance) = match n {
                1 => (AppKind::Okta, InstanceId(2)),
                2 => (AppKind::Github, InstanceId(3)),
                _ => (a.app, a.instance),
            };
            a
        })
        .collect();
    app.update(Msg::Done(Done::Activities {
        filter: String::new(),
        more: false,
        result: Ok(ActivityPage {
            items: acts,
            next: None,
        }),
    }));
    let both = ["okta · acme", "github · acme"];
    typed(&mut app, "2");
    shows(&app, (80, 24), &both);
    typed(&mut app, "1");
    shows(&app, (80, 24), &["Okta", "GitHub"]);
    // The activities pane alone: the app where it is narrow, the instance where there is room.
    typed(&mut app, "4");
    shows(&app, (80, 24), &["okta ", "github "]);
    shows(&app, (120, 24), &both);
    typed(&mut app, "2i");
    shows(&app, (80, 24), &both);
}

/// Counts the bytes a frame sends to the terminal.
#[derive(Clone, Default)]
struct Counter(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .fetch_add(buf.len(), std::sync::atomic::Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Counter {
    fn take(&self) -> usize {
        self.0.swap(0, std::sync::atomic::Ordering::Relaxed)
    }
}

fn crossterm_terminal(
    w: u16,
    h: u16,
) -> (
    Terminal<ratatui::backend::CrosstermBackend<Counter>>,
    Counter,
) {
    let counter = Counter::default();
    let options = ratatui::TerminalOptions {
        viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, w, h)),
    };
    let terminal = Terminal::with_options(
        ratatui::backend::CrosstermBackend::new(counter.clone()),
        options,
    )
    .expect("terminal");
    (terminal, counter)
}

// Terminals and SSH: moving the selection one row in a 120×40 activity
// table sends little (target ≤ 1 KB), because only changed cells are written.
#[test]
fn selection_move_writes_under_a_kilobyte() {
    let mut app = fixture(Theme::colored());
    typed(&mut app, "4");
    let (mut terminal, counter) = crossterm_terminal(120, 40);
    terminal.draw(|f| app.draw(f)).expect("draw");
    counter.take();
    typed(&mut app, "j");
    terminal.draw(|f| app.draw(f)).expect("draw");
    let bytes = counter.take();
    println!("selection move: {bytes} bytes");
    assert!(bytes <= 1024, "{bytes} bytes for one row");
}

// Terminals and SSH: with 100 activities a second arriving (scans every 3 s
// in the demo), the screen costs well under 20 KB a second.
#[test]
fn live_arrivals_stay_under_20_kb_a_second() {
    let mut app = fixture(Theme::colored());
    typed(&mut app, "4");
    let (mut terminal, counter) = crossterm_terminal(120, 40);
    terminal.draw(|f| app.draw(f)).expect("draw");
    counter.take();
    let mut newest = 0i64;
    for second in 1..=9i64 {
        app.env.now = NOW + second * 1_000_000;
        app.update(Msg::Tick);
        if second % 3 == 0 {
            // One scan brings 300 activities, newer than everything shown.
            let items: Vec<Activity> = (0..300)
                .map(|i| {
                    let mut a = activity(i % 40 + 1);
                    let n = newest + 300 - i;
                    a.id = format!("live-{n}");
                    a.actor = format!("person{n}@contoso.com");
                    // Spread over the 3 seconds since the last scan.
                    a.time = NOW + second * 1_000_000 - i * 10_000;
                    a
                })
                .chain((1..=40).map(activity))
                .collect();
            newest += 300;
            app.update(Msg::Done(Done::Activities {
                filter: String::new(),
                more: false,
                result: Ok(ActivityPage { items, next: None }),
            }));
        }
        terminal.draw(|f| app.draw(f)).expect("draw");
    }
    let per_second = counter.take() / 9;
    println!("live arrivals: {per_second} bytes a second");
    assert!(per_second <= 20 * 1024, "{per_second} bytes a second");
}

fn median(mut samples: Vec<std::time::Duration>) -> std::time::Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Benchmark, not a timed test: keystroke to frame in a members list of
/// 100,000 (target ≤ 16 ms median in release). Run with
/// `cargo test --release --test tui_snapshots -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark; run on demand"]
fn bench_keystroke_to_frame_in_100k_members() {
    let mut app = fixture(Theme::colored());
    typed(&mut app, "2jj");
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::Enter);
    let names = [
        "Naomi", "Ahmed", "Ines", "Leo", "Carmen", "Dmitri", "Oscar", "Laura",
    ];
    let surnames = [
        "Keller", "Chen", "Garcia", "Walker", "Evans", "Yilmaz", "Eriksson", "Ahmed",
    ];
    let many: Vec<Member> = (0..100_000)
        .map(|i| {
            let (n, s) = (names[i % 8], surnames[(i / 8) % 8]);
            let email = format!("{}.{}{i}@contoso.com", n.to_lowercase(), s.to_lowercase());
            Member {
                key: email.clone(),
                name: format!("{n} {s}"),
                email,
                instance: Some(InstanceId(1)),
                joined_at: 0,
                last_activity: None,
            }
        })
        .collect();
    app.update(Msg::Done(Done::Members {
        group: GroupId(2),
        result: Ok(many),
    }));
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    typed(&mut app, "/");
    let mut samples = Vec::new();
    for c in "ines gar".chars().chain(std::iter::repeat_n('\u{8}', 8)) {
        let start = std::time::Instant::now();
        if c == '\u{8}' {
            key(&mut app, KeyCode::Backspace)
        } else {
            key(&mut app, KeyCode::Char(c))
        }
        terminal.draw(|f| app.draw(f)).expect("draw");
        samples.push(start.elapsed());
    }
    println!(
        "keystroke to frame, 100k members: median {:?}, max {:?}",
        median(samples.clone()),
        samples.iter().max()
    );
    assert_eq!(
        app.panes.members.visible().len(),
        100_000,
        "back to every member"
    );
}

/// Benchmark, not a timed test: a full 200×60 frame (target ≤ 2 ms in release).
#[test]
#[ignore = "benchmark; run on demand"]
fn bench_full_frame_200x60() {
    let app = fixture(Theme::colored());
    let mut samples = Vec::new();
    for _ in 0..50 {
        let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("terminal");
        let start = std::time::Instant::now();
        terminal.draw(|f| app.draw(f)).expect("draw");
        samples.push(start.elapsed());
    }
    println!("full 200x60 frame: median {:?}", median(samples));
    assert!(text(&render(&app, 200, 60)).contains("Activities 40"));
}

/// What the service answers about one Graph connection, read once from a
/// real service over a temporary store, with the sandbox behind it:
/// `contosoEscalations` ⊃ `tier1` ⊃ (an Entra group, `tier2` ⊃
/// `contosoEscalations`: a cycle), `contosoEscalations` ⊃ `tier9` (never
/// created: pending), and item `kb-0042` whose ACL grants `tier1`, grants
/// one user, denies `contosoEscalations` and grants the pending `tier9`.
struct ExternalWorld {
    connections: Vec<casbah::service::ConnectionSummary>,
    groups: Vec<casbah::service::ExternalGroupView>,
    items: Vec<casbah::service::ItemView>,
    users: Vec<casbah::domain::external::DirectoryUser>,
    /// The user the ACL denies through the nesting, as the checker finds them.
    denied: casbah::domain::external::DirectoryUser,
    answer: casbah::service::AccessAnswer,
    audience: casbah::service::AudienceView,
    /// The user entry 2 grants, and what they can see.
    granted: casbah::domain::external::DirectoryUser,
    visible: Vec<casbah::service::VisibleItem>,
}

fn external_world() -> &'static ExternalWorld {
    static WORLD: std::sync::OnceLock<ExternalWorld> = std::sync::OnceLock::new();
    WORLD.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(build_external_world())
    })
}

async fn build_external_world() -> ExternalWorld {
    use casbah::domain::external::parse_item_document;
    use casbah::service::MemberRef;

    let (sandbox, svc, _dir) = common::connected_service(40).await;
    for job in svc.sync_now(None).await.expect("sync") {
        job.wait().await.expect("scan");
    }
    // A small Entra group of active members, and two active users outside it.
    let (entra, inside, outside) = {
        let org = sandbox.org();
        let active =
            |u: &&casbah::sandbox::org::User| u.account_enabled && u.deleted.is_none() && !u.guest;
        let group = org
            .groups
            .iter()
            .find(|g| {
                org.transitive_users(&g.id)
                    .is_ok_and(|users| (1..=4).contains(&users.len()) && users.iter().all(active))
                    && org
                        .groups
                        .iter()
                        .filter(|o| o.display_name == g.display_name)
                        .count()
                        == 1
            })
            .expect("a small group");
        let inside: Vec<String> = org
            .transitive_users(&group.id)
            .expect("members")
            .iter()
            .map(|u| u.id.to_string())
            .collect();
        let outside: Vec<String> = org
            .users
            .iter()
            .filter(|u| active(u) && !inside.contains(&u.id.to_string()))
            .take(2)
            .map(|u| u.id.to_string())
            .collect();
        (group.display_name.clone(), inside, outside)
    };
    let conn = "contosokb";
    svc.add_connection("contoso", conn, "Knowledge base", None)
        .await
        .expect("connection");
    for (id, name) in [
        ("contosoEscalations", "Contoso Escalations"),
        ("tier1", "Tier 1"),
        ("tier2", "Tier 2"),
    ] {
        svc.create_external_group(conn, id, Some(name), None)
            .await
            .expect("group");
    }
    let members = [
        ("contosoEscalations", MemberRef::External("tier1".into())),
        ("contosoEscalations", MemberRef::External("tier9".into())),
        ("tier1", MemberRef::EntraGroup(entra.clone())),
        ("tier1", MemberRef::External("tier2".into())),
        ("tier2", MemberRef::External("contosoEscalations".into())),
        ("tier2", MemberRef::User(outside[0].clone())),
    ];
    for (group, member) in members {
        svc.add_external_member(conn, group, member)
            .await
            .expect("member");
    }
    let acl = format!(
        r#"{{"acl": [
            {{"type": "externalGroup", "value": "tier1", "accessType": "grant"}},
            {{"type": "user", "value": "{}", "accessType": "grant"}},
            {{"type": "externalGroup", "value": "contosoEscalations", "accessType": "deny"}},
            {{"type": "externalGroup", "value": "tier9", "accessType": "grant"}}
        ], "properties": {{"title": "Error in the payment gateway"}}}}"#,
        outside[1]
    );
    svc.set_item_acl(conn, "kb-0042", parse_item_document(&acl).expect("acl"))
        .await
        .expect("item");
    let users = svc.directory_users(conn).await.expect("directory");
    let denied = users
        .iter()
        .find(|u| u.id == inside[0])
        .expect("the member in the directory")
        .clone();
    let answer = svc
        .access_check(conn, "kb-0042", &denied.id)
        .await
        .expect("check");
    let granted = users
        .iter()
        .find(|u| u.id == outside[1])
        .expect("the granted user in the directory")
        .clone();
    let visible = svc
        .access_items(conn, &granted.id)
        .await
        .expect("visible items");
    ExternalWorld {
        connections: svc.external_connections(None).await.expect("connections"),
        groups: svc.external_groups(conn).await.expect("groups"),
        items: svc.external_items(conn).await.expect("items"),
        audience: svc.access_who(conn, "kb-0042").await.expect("who"),
        users,
        denied,
        answer,
        granted,
        visible,
    }
}

/// The dashboard on the External groups pane, fed what the service said.
fn external_fixture(theme: Theme) -> App {
    let w = external_world();
    let mut app = fixture(theme);
    typed(&mut app, "5");
    let conn = "contosokb".to_owned();
    app.update(Msg::Done(Done::ExternalConnections(Ok(w
        .connections
        .iter()
        .cloned()
        .map(Into::into)
        .collect()))));
    app.update(Msg::Done(Done::ExternalGroups {
        connection: conn.clone(),
        result: Ok(w.groups.iter().cloned().map(Into::into).collect()),
    }));
    app.update(Msg::Done(Done::ExternalItems {
        connection: conn,
        result: Ok(w.items.iter().cloned().map(Into::into).collect()),
    }));
    app.take_cmds();
    app
}

/// Selects the tree row whose label starts with `label`.
fn select_row(app: &mut App, label: &str) {
    let rows = &app.panes.external.tree.rows;
    let i = rows
        .iter()
        .position(|r| r.label.starts_with(label))
        .unwrap_or_else(|| {
            panic!(
                "{label} not in {:?}",
                rows.iter().map(|r| &r.label).collect::<Vec<_>>()
            )
        });
    typed(app, "g");
    for _ in 0..i {
        key(app, KeyCode::Down);
    }
}

// R-X3, R-X4, R-X5: connections → groups → members, nesting indented, the
// cycle marked and not expanded again, the group never created pending.
#[test]
fn external_tree() {
    let mut app = external_fixture(Theme::plain());
    select_row(&mut app, "Contoso Escalations");
    key(&mut app, KeyCode::Enter);
    select_row(&mut app, "Tier 1");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    let screen = text(&render(&app, 120, 40));
    assert!(screen.contains("↻ Contoso Escalations"), "{screen}");
    assert!(screen.contains("◌ tier9"), "{screen}");
    assert!(
        screen.contains("External groups › contosokb › Contoso Escalations › Tier 1 › Tier 2"),
        "breadcrumbs show connection › group: {screen}"
    );
    snap("external_tree", &app);
}

// R-X4: the ACL numbered as explanations number it, grant and deny, pending marked.
#[test]
fn external_acl() {
    let mut app = external_fixture(Theme::plain());
    select_row(&mut app, "Items");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    let screen = text(&render(&app, 80, 24));
    assert!(
        screen.contains("ACL of kb-0042 · 4 entries · 1 pending"),
        "{screen}"
    );
    snap("external_acl", &app);
}

/// The checker on kb-0042 with the denied user's name typed and the
/// service's answer in.
fn external_checker(theme: Theme) -> App {
    let w = external_world();
    let mut app = external_fixture(theme);
    select_row(&mut app, "Items");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Down);
    typed(&mut app, "a");
    app.update(Msg::Done(Done::DirectoryUsers {
        connection: "contosokb".into(),
        result: Ok(w.users.clone()),
    }));
    typed(&mut app, &w.denied.name);
    let cmds = app.take_cmds();
    let seq = cmds
        .iter()
        .rev()
        .find_map(|c| match c {
            casbah::tui::msg::Cmd::CheckAccess { seq, user, .. } if *user == w.denied.id => {
                Some(*seq)
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("a check for the typed user: {cmds:?}"));
    app.update(Msg::Done(Done::AccessChecked {
        seq,
        result: Ok(w.answer.clone().into()),
    }));
    app
}

// R-X5: deny wins; the path from the deciding entry down to the user is a
// numbered chain; the grant it overrode, the pending group and the cycle show.
#[test]
fn external_deny_decision() {
    let app = external_checker(Theme::plain());
    let screen = text(&render(&app, 120, 40));
    assert!(screen.contains("✗ DENY"), "{screen}");
    assert!(screen.contains("ACL entry 3 denies"), "{screen}");
    assert!(
        screen.contains("1. external group `Contoso Escalations`")
            && screen.contains("2. which contains external group `Tier 1`"),
        "{screen}"
    );
    assert!(
        screen.contains("Overridden  ACL entry 1 grants"),
        "{screen}"
    );
    assert!(screen.contains("tier9"), "{screen}");
    assert!(screen.contains("↻ membership cycle"), "{screen}");
    snap("external_deny", &app);
}

// R-X5: who can see the item: counts and the list, deny as deny.
#[test]
fn external_who_can_see() {
    let w = external_world();
    let mut app = external_fixture(Theme::plain());
    select_row(&mut app, "Items");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Down);
    typed(&mut app, "w");
    app.update(Msg::Done(Done::Audience {
        connection: "contosokb".into(),
        item: "kb-0042".into(),
        result: Ok(w.audience.clone().into()),
    }));
    let screen = text(&render(&app, 120, 40));
    let title = format!(
        "Who can see kb-0042 · {} granted · {} denied",
        w.audience.granted, w.audience.denied
    );
    assert!(screen.contains(&title), "{screen}");
    assert_eq!(w.audience.granted, 1, "only the user entry 2 names");
    assert!(screen.contains(&w.denied.name), "{screen}");
    snap("external_who", &app);
}

// R-X5, R-X4: deny is drawn as an error (red with colour, bold without) and
// a pending group in the ACL carries its mark in the warning style.
#[test]
fn deny_is_an_error_and_pending_is_marked() {
    let app = external_checker(Theme::colored());
    let buf = render(&app, 120, 40);
    let (x, y) = cell_at(&buf, "✗ DENY");
    assert_eq!(buf[(x, y)].fg, Color::Red);
    assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
    let plain = external_checker(Theme::plain());
    let buf = render(&plain, 120, 40);
    let (x, y) = cell_at(&buf, "✗ DENY");
    assert!(
        buf[(x, y)].modifier.contains(Modifier::BOLD),
        "NO_COLOR: deny still stands out"
    );
    let mut acl = external_fixture(Theme::colored());
    select_row(&mut acl, "Items");
    key(&mut acl, KeyCode::Enter);
    key(&mut acl, KeyCode::Down);
    key(&mut acl, KeyCode::Enter);
    let buf = render(&acl, 120, 40);
    let (x, y) = cell_at(&buf, "◌ external group tier9");
    assert_eq!(buf[(x, y)].fg, Color::Yellow);
    let (x, y) = cell_at(&buf, "deny  ");
    assert_eq!(buf[(x, y)].fg, Color::Red, "the deny entry");
}

// Terminals: the External groups pane never panics at any size, down to 1×1.
#[test]
fn external_any_size_draws_without_panic() {
    let mut states = vec![
        external_fixture(Theme::plain()),
        external_checker(Theme::plain()),
    ];
    let mut acl = external_fixture(Theme::plain());
    select_row(&mut acl, "Items");
    key(&mut acl, KeyCode::Enter);
    key(&mut acl, KeyCode::Down);
    key(&mut acl, KeyCode::Enter);
    states.push(acl);
    let mut filtered = external_fixture(Theme::plain());
    typed(&mut filtered, "/tier");
    states.push(filtered);
    let mut who = external_fixture(Theme::plain());
    select_row(&mut who, "Items");
    key(&mut who, KeyCode::Enter);
    key(&mut who, KeyCode::Down);
    typed(&mut who, "w");
    who.update(Msg::Done(Done::Audience {
        connection: "contosokb".into(),
        item: "kb-0042".into(),
        result: Ok(external_world().audience.clone().into()),
    }));
    typed(&mut who, "/a");
    states.push(who);
    for app in &states {
        for w in (1..=30).chain([79, 119, 200]) {
            for h in (1..=12).chain([23, 39, 60]) {
                render(app, w, h);
            }
        }
    }
}

// R-X5: a user typed without an item: the items they can see, each with the
// entry that grants it.
#[test]
fn external_items_a_user_can_see() {
    let w = external_world();
    let mut app = external_fixture(Theme::plain());
    typed(&mut app, "ga");
    app.update(Msg::Done(Done::DirectoryUsers {
        connection: "contosokb".into(),
        result: Ok(w.users.clone()),
    }));
    key(&mut app, KeyCode::Tab);
    typed(&mut app, &w.granted.name);
    let cmds = app.take_cmds();
    let seq = cmds
        .iter()
        .rev()
        .find_map(|c| match c {
            casbah::tui::msg::Cmd::VisibleItems { seq, user, .. } if *user == w.granted.id => {
                Some(*seq)
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("the items of the typed user: {cmds:?}"));
    app.update(Msg::Done(Done::VisibleItems {
        seq,
        result: Ok(w.visible.iter().cloned().map(Into::into).collect()),
    }));
    let screen = text(&render(&app, 120, 40));
    assert!(
        screen.contains(&format!("{} can see 1 item", w.granted.name)),
        "{screen}"
    );
    assert!(
        screen.contains("✓ kb-0042  Error in the payment gateway  · ACL entry 2 grants"),
        "{screen}"
    );
}

// DESIGN §3 Untrusted text: a group name or ACL label carrying terminal
// escapes is drawn escaped in the tree, the breadcrumbs and the ACL.
#[test]
fn external_vendor_text_is_escaped() {
    use casbah::domain::external::{AclEntry, ExternalGroupId, ItemId, Principal};
    use casbah::tui::views::external::{GroupNode, ItemNode};
    let mut app = external_fixture(Theme::plain());
    let evil = "\x1b]2;owned\x07Ops";
    let gid = ExternalGroupId::parse("ops").expect("id");
    app.update(Msg::Done(Done::ExternalGroups {
        connection: "contosokb".into(),
        result: Ok(vec![GroupNode {
            id: gid.clone(),
            label: evil.into(),
            description: Some("\x1b[31mred".into()),
            members: Vec::new(),
            mirror: None,
        }]),
    }));
    app.update(Msg::Done(Done::ExternalItems {
        connection: "contosokb".into(),
        result: Ok(vec![ItemNode {
            id: ItemId::parse("kb-1").expect("id"),
            title: Some(evil.into()),
            acl: vec![AclEntry::grant(Principal::ExternalGroup(gid))],
            labels: vec![evil.into()],
            pending: Vec::new(),
        }]),
    }));
    select_row(&mut app, "\x1b]2;owned");
    let screen = text(&render(&app, 120, 40));
    assert!(screen.contains("^[]2;owned^GOps"), "{screen}");
    assert!(screen.contains("^[[31mred"), "{screen}");
    assert!(!screen.contains('\x1b') && !screen.contains('\x07'));
    select_row(&mut app, "Items");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    let screen = text(&render(&app, 120, 40));
    assert!(screen.contains("Title  ^[]2;owned^GOps"), "{screen}");
    assert!(!screen.contains('\x1b') && !screen.contains('\x07'));
}

/// The dashboard fed `chunk` of the hostile corpus as every kind of vendor text: instance
/// names and scan errors, group names and sync errors, members, a person, activities in
/// every field, the picker's groups with descriptions, saved queries.
fn hostile_fixture(chunk: &[common::hostile::Hostile]) -> App {
    let mut app = fixture(Theme::plain());
    let texts: Vec<&str> = chunk.iter().map(|h| h.text.as_str()).collect();
    let instances = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut s = instance();
            s.instance.id = InstanceId(i as u64 + 1);
            s.instance.app = AppKind::Okta;
            s.instance.name = (*t).into();
            s.scans[0].1.last_error = Some((*t).into());
            s.scans[1].1.note = Some((*t).into());
            s
        })
        .collect();
    app.update(Msg::Done(Done::Instances(Ok(instances))));
    let groups = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let status = if i % 2 == 0 {
                GroupStatus::SyncFailed {
                    message: (*t).into(),
                }
            } else {
                GroupStatus::Ready
            };
            group(i as u64 + 1, t, status, 3)
        })
        .collect();
    app.update(Msg::Done(Done::Groups(Ok(groups))));
    let activities = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut a = activity(i as i64 + 1);
            let t = (*t).to_owned();
            a.instance = InstanceId(i as u64 + 1);
            (a.actor, a.actor_name) = (t.clone(), t.clone());
            (a.activity_type, a.action_type) = (t.clone(), t.clone());
            a.objects = vec![ActivityObject {
                kind: ObjectKind::File,
                id: t.clone(),
                name: t.clone(),
            }];
            a.ip = None;
            a.address_text = Some(t.clone());
            (a.country, a.isp) = (Some(t.clone()), Some(t.clone()));
            (a.device_type, a.user_agent) = (Some(t.clone()), Some(t.clone()));
            a.source = t;
            a.groups = vec![GroupId(i as u64 + 1)];
            a
        })
        .collect();
    app.update(Msg::Done(Done::Activities {
        filter: String::new(),
        more: false,
        result: Ok(ActivityPage {
            items: activities,
            next: None,
        }),
    }));
    app.update(Msg::Done(Done::SavedQueries(Ok(texts
        .iter()
        .map(|t| ((*t).to_owned(), (*t).to_owned()))
        .collect()))));
    app.take_cmds();
    app
}

fn hostile_members(chunk: &[common::hostile::Hostile]) -> Vec<Member> {
    chunk
        .iter()
        .map(|h| Member {
            key: h.text.clone(),
            name: h.text.clone(),
            email: format!("{}@contoso.com", h.text),
            instance: Some(InstanceId(1)),
            joined_at: NOW - 60 * MIN,
            last_activity: Some(NOW - 90 * MIN),
        })
        .collect()
}

fn hostile_person(h: &common::hostile::Hostile) -> Person {
    Person {
        key: h.text.clone(),
        accounts: vec![(
            InstanceId(1),
            RemoteUser {
                id: h.text.clone(),
                display_name: h.text.clone(),
                email: h.text.clone(),
                status: UserStatus::Active,
                user_type: UserType::Member,
                principal_name: Some(h.text.clone()),
                admin: false,
                org_unit: None,
                on_premises_sync: false,
            },
        )],
        groups: vec![GroupId(1)],
        apps: vec![AppKind::Okta],
        by_type: vec![(h.text.clone(), 3)],
        by_app: vec![(AppKind::Okta, 3)],
        daily: vec![1; 30],
        last_activity: Some(NOW - 90 * MIN),
    }
}

/// Fails when a frame at either size holds raw corpus text, or when the wide one shows
/// none of `shown` escaped (the pane must show the text to prove anything).
fn assert_frames_clean(pane: &str, app: &App, shown: &[common::hostile::Hostile]) {
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = text(&render(app, w, h));
        let what = format!("dashboard {pane} at {w}×{h}");
        common::hostile::assert_none_raw(&what, &screen, true);
        if w == 120 {
            common::hostile::assert_shows_some(&what, &screen, shown);
        }
    }
}

// DESIGN §3 Untrusted text, issue 10: every kind of hostile text (controls, escape
// sequences, bidi and other format characters, separators), put in every kind of vendor
// text the dashboard shows, reaches no cell of any pane raw: connectors, groups, the
// picker, members, the person, activities, an activity's detail, saved queries. Text
// arrives here as the service hands it over, so this is the renderer's own lock, the one
// that holds for a database written before an escape was known.
#[test]
fn hostile_text_reaches_no_cell_raw() {
    let corpus = common::hostile::corpus();
    for chunk in corpus.chunks(20) {
        let mut app = hostile_fixture(chunk);
        typed(&mut app, "1");
        assert_frames_clean("connectors", &app, chunk);
        typed(&mut app, "2");
        assert_frames_clean("groups", &app, chunk);
        typed(&mut app, "4");
        assert_frames_clean("activities", &app, chunk);
        typed(&mut app, "Q");
        assert_frames_clean("saved queries", &app, chunk);
        key(&mut app, KeyCode::Esc);

        let mut picker = hostile_fixture(chunk);
        typed(&mut picker, "2i");
        let available = chunk
            .iter()
            .map(|h| AvailableGroup {
                group: RemoteGroup {
                    id: h.text.clone(),
                    display_name: h.text.clone(),
                    description: Some(h.text.clone()),
                    email: Some(h.text.clone()),
                    microsoft365: true,
                },
                imported: false,
                also_in: OfficeApp::ALL.to_vec(),
            })
            .collect();
        picker.update(Msg::Done(Done::Available {
            instance: chunk[0].text.clone(),
            search: None,
            result: Ok(available),
        }));
        assert_frames_clean("picker", &picker, chunk);

        let mut members = hostile_fixture(chunk);
        typed(&mut members, "2");
        key(&mut members, KeyCode::Enter);
        members.update(Msg::Done(Done::Members {
            group: GroupId(1),
            result: Ok(hostile_members(chunk)),
        }));
        members.take_cmds();
        assert_frames_clean("members", &members, chunk);

        for (i, h) in chunk.iter().enumerate() {
            let mut person = hostile_fixture(chunk);
            typed(&mut person, "2");
            key(&mut person, KeyCode::Enter);
            person.update(Msg::Done(Done::Members {
                group: GroupId(1),
                result: Ok(hostile_members(chunk)),
            }));
            for _ in 0..i {
                key(&mut person, KeyCode::Down);
            }
            key(&mut person, KeyCode::Enter);
            person.update(Msg::Done(Done::Person {
                key: h.text.clone(),
                result: Ok(hostile_person(h)),
            }));
            assert_frames_clean(
                &format!("person {}", h.kind),
                &person,
                std::slice::from_ref(h),
            );
            let mut detail = hostile_fixture(chunk);
            typed(&mut detail, "4");
            for _ in 0..i {
                key(&mut detail, KeyCode::Down);
            }
            key(&mut detail, KeyCode::Enter);
            assert_frames_clean(
                &format!("activity detail {}", h.kind),
                &detail,
                std::slice::from_ref(h),
            );
        }
    }
}

// Issue 10: a long instance name is cut short in its column, so the group's name, the
// actor and the activity stay on the screen beside it, at either size.
#[test]
fn a_long_instance_name_leaves_the_other_columns() {
    let mut app = fixture(Theme::plain());
    let mut long = instance();
    long.instance.name = "contoso-".repeat(30);
    app.update(Msg::Done(Done::Instances(Ok(vec![long]))));
    for (w, h) in [(80, 24), (119, 40)] {
        typed(&mut app, "2");
        shows(&app, (w, h), &["Group ", "Finance - EMEA"]);
        typed(&mut app, "4");
        shows(&app, (w, h), &["Actor", "Activity", "user1@contoso.com"]);
    }
}

// DESIGN §3 Untrusted text, issue 10: the hostile corpus as external groups' names,
// descriptions and members, and items' titles and ACL labels, reaches no cell of the
// External groups pane raw: the tree, a group's detail, an item's ACL.
#[test]
fn external_panes_escape_the_hostile_corpus() {
    use casbah::domain::external::{AclEntry, ExternalGroupId, ItemId, Member, Principal};
    use casbah::tui::views::external::{GroupNode, ItemNode, MemberNode};
    let corpus = common::hostile::corpus();
    let mut app = external_fixture(Theme::plain());
    let id = |prefix: &str, n: usize| format!("{prefix}{n}");
    let groups = corpus
        .iter()
        .enumerate()
        .map(|(n, h)| GroupNode {
            id: ExternalGroupId::parse(&id("g", n)).expect("id"),
            label: h.text.clone(),
            description: Some(h.text.clone()),
            members: vec![MemberNode {
                member: Member::User(h.text.clone()),
                label: h.text.clone(),
                pending: false,
            }],
            mirror: None,
        })
        .collect();
    app.update(Msg::Done(Done::ExternalGroups {
        connection: "contosokb".into(),
        result: Ok(groups),
    }));
    let items = corpus
        .iter()
        .enumerate()
        .map(|(n, h)| ItemNode {
            id: ItemId::parse(&id("kb-", n)).expect("id"),
            title: Some(h.text.clone()),
            acl: vec![AclEntry::grant(Principal::ExternalGroup(
                ExternalGroupId::parse(&id("g", n)).expect("id"),
            ))],
            labels: vec![h.text.clone()],
            pending: Vec::new(),
        })
        .collect();
    app.update(Msg::Done(Done::ExternalItems {
        connection: "contosokb".into(),
        result: Ok(items),
    }));
    let check = |what: &str, app: &App| {
        for (w, h) in [(80, 24), (120, 40), (120, 250)] {
            let screen = text(&render(app, w, h));
            let what = format!("dashboard external {what} at {w}×{h}");
            common::hostile::assert_none_raw(&what, &screen, true);
            common::hostile::assert_shows_some(&what, &screen, &corpus);
        }
    };
    check("tree", &app);
    for h in [
        &corpus[0],
        &corpus[corpus.len() / 2],
        &corpus[corpus.len() - 1],
    ] {
        select_row(&mut app, &h.text);
        key(&mut app, KeyCode::Enter);
        check(&format!("group {}", h.kind), &app);
        key(&mut app, KeyCode::Esc);
    }
    select_row(&mut app, "Items");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    check("an item's ACL", &app);
}

// issue 13: `?` lists the focused pane's keys first, then the everyday
// ones, then every command with its short forms.
#[test]
fn help_starts_with_the_focused_pane() {
    let mut app = fixture(Theme::plain());
    typed(&mut app, "4?");
    let screen = text(&render(&app, 200, 70));
    let at = |needle: &str| row_of(&render(&app, 200, 70), needle);
    assert!(at("Activities") < at("Everywhere"), "{screen}");
    assert!(at("Everywhere") < at("Commands"), "{screen}");
    assert!(screen.contains(":activities FILTER, :a, :act"), "{screen}");
    snap_small_and_large("help_activities", &app);
    // Scrolling stops with the last line at the bottom of the box.
    render(&app, 80, 24);
    for _ in 0..200 {
        key(&mut app, KeyCode::Down);
    }
    let end = text(&render(&app, 80, 24));
    key(&mut app, KeyCode::Down);
    assert_eq!(text(&render(&app, 80, 24)), end, "no further than the end");
    assert!(end.contains("Text input"), "the last context shows: {end}");
}

// issue 13, R-A2: `:help filter` is the reference of every field with an example.
#[test]
fn help_filter_lists_the_fields() {
    let mut app = fixture(Theme::plain());
    typed(&mut app, ":help filter");
    key(&mut app, KeyCode::Enter);
    let screen = text(&render(&app, 200, 60));
    for field in ["group", "targetgroup", "persongroup", "country", "after"] {
        assert!(screen.contains(field), "{field}: {screen}");
    }
    snap_small_and_large("help_filter", &app);
}

// issue 13: an empty database says which key connects an app.
#[test]
fn connectors_empty_says_press_c() {
    let mut app = App::new(
        Keymap::defaults(),
        Theme::plain(),
        "casbah.redb".into(),
        NOW,
    );
    app.start();
    app.update(Msg::Done(Done::Instances(Ok(Vec::new()))));
    let screen = text(&render(&app, 80, 24));
    assert!(screen.contains("press c to connect an app"), "{screen}");
    assert!(!screen.contains("casbah connectors add"), "{screen}");
    snap_small_and_large("connectors_empty", &app);
}

// issue 13: name and e-mail in columns of their own, aligned.
#[test]
fn members_name_and_email_columns() {
    let mut app = fixture(Theme::plain());
    with_members(&mut app);
    let buf = render(&app, 80, 24);
    let header = usize::from(row_of(&buf, "E-mail"));
    let (x, _) = cell_at(&buf, "E-mail");
    let lines: Vec<Vec<char>> = text(&buf).lines().map(|l| l.chars().collect()).collect();
    let mut rows = 0;
    for l in &lines[header + 1..] {
        if let Some(at) = l.iter().position(|c| *c == '@') {
            let start = l[..at].iter().rposition(|c| *c == ' ').map_or(0, |i| i + 1);
            assert_eq!(
                start,
                usize::from(x),
                "aligned: {}",
                l.iter().collect::<String>()
            );
            rows += 1;
        }
    }
    assert!(rows > 2, "members are listed");
    snap_small_and_large("members_columns", &app);
}

// issue 13, R-G3: marked groups show, with their count.
#[test]
fn picker_with_marks() {
    let mut app = fixture(Theme::plain());
    typed(&mut app, "2i");
    let list = ["Finance EMEA", "Sales NA", "Sales EMEA"]
        .iter()
        .enumerate()
        .map(|(i, n)| AvailableGroup {
            group: RemoteGroup {
                id: format!("g{i}"),
                display_name: (*n).into(),
                description: None,
                email: None,
                microsoft365: false,
            },
            imported: false,
            also_in: Vec::new(),
        })
        .collect();
    app.update(Msg::Done(Done::Available {
        instance: "microsoft365/contoso".into(),
        search: None,
        result: Ok(list),
    }));
    typed(&mut app, "  ");
    let screen = text(&render(&app, 80, 24));
    assert!(screen.contains("2 marked"), "{screen}");
    assert!(screen.contains("◆ Finance EMEA"), "{screen}");
    snap_small_and_large("picker_marked", &app);
}

// issue 13, R-X5: the access checker's words follow the field that has the
// keyboard: opened without an item, it asks for an item, not a user.
#[test]
fn access_checker_prompt_follows_the_field() {
    let mut app = external_fixture(Theme::plain());
    typed(&mut app, "a");
    let screen = text(&render(&app, 80, 24));
    assert!(screen.contains("Type an item's id or title"), "{screen}");
    assert!(!screen.contains("Type a user's name"), "{screen}");
    snap_small_and_large("access_checker_item_first", &app);
    key(&mut app, KeyCode::Tab);
    let screen = text(&render(&app, 80, 24));
    assert!(screen.contains("Type a user's name"), "{screen}");
}

// issue 13, R-A3: renaming a saved query shows its field under the list,
// deleting one asks first.
#[test]
fn saved_query_rename_and_delete_prompts() {
    let mut app = fixture(Theme::plain());
    typed(&mut app, "4Qr");
    let screen = text(&render(&app, 80, 24));
    assert!(
        screen.contains("Rename \"EMEA downloads\" to: EMEA downloads"),
        "{screen}"
    );
    snap_small_and_large("saved_query_rename", &app);
    key(&mut app, KeyCode::Esc);
    typed(&mut app, "d");
    let screen = text(&render(&app, 80, 24));
    assert!(
        screen.contains("Delete the saved query \"EMEA downloads\"? y deletes"),
        "{screen}"
    );
}

// R-G7, issue 13: a group's membership history, who joined and who left and
// when, with the counts in the title.
#[test]
fn membership_history_view() {
    let mut app = fixture(Theme::plain());
    typed(&mut app, "2jh");
    let changes = [
        ("naomi.keller@contoso.com", true, 50),
        ("ahmed.chen@contoso.com", true, 50),
        ("leo.walker@contoso.com", false, 20),
        ("ines.garcia@contoso.com", true, 5),
    ]
    .map(|(user, joined, mins)| casbah::store::MembershipChange {
        user: user.into(),
        joined,
        at: NOW - mins * MIN,
    })
    .to_vec();
    app.update(Msg::Done(Done::History {
        group: GroupId(2),
        result: Ok(changes),
    }));
    let screen = text(&render(&app, 80, 24));
    assert!(
        screen.contains("History of Finance - EMEA Approvers · 3 joined · 1 left"),
        "{screen}"
    );
    assert!(
        screen.contains("− left   leo.walker@contoso.com"),
        "{screen}"
    );
    snap_small_and_large("membership_history", &app);
}

// issue 13 (part 4), R-C4: Enter on an instance shows the whole of its last
// error, which the Connectors list cuts to a line.
#[test]
fn instance_detail_shows_the_whole_error() {
    let mut app = fixture(Theme::plain());
    let mut failing = instance();
    let error = "the token was refused: AADSTS7000215 an invalid client secret is provided; \
                 create a new secret for the app registration and run casbah connectors \
                 set-secret microsoft365/contoso, then sync again (it ends here)";
    failing.scans[1].1.last_error = Some(error.into());
    failing.scans[1].1.last_attempt = Some(NOW);
    app.update(Msg::Done(Done::Instances(Ok(vec![failing]))));
    typed(&mut app, "1");
    let list = text(&render(&app, 80, 24));
    assert!(!list.contains("(it ends here)"), "the list cuts it: {list}");
    key(&mut app, KeyCode::Enter);
    let screen = text(&render(&app, 80, 24));
    assert!(screen.contains("(it ends here)"), "{screen}");
    assert!(
        screen.contains("Connectors › microsoft365 · contoso"),
        "{screen}"
    );
    snap_small_and_large("instance_detail", &app);
    key(&mut app, KeyCode::Enter);
    assert!(text(&render(&app, 80, 24)).contains("microsoft365 · contoso › Groups"));
}

// issue 13 (part 4): `:log`, casbah's own recent warnings and errors, each
// with its time, level and origin, its text wrapped in full.
#[test]
fn log_view() {
    let mut app = fixture(Theme::plain());
    typed(&mut app, ":log");
    key(&mut app, KeyCode::Enter);
    let lines = vec![
        casbah::service::recent::LogLine {
            at: NOW - 3 * MIN,
            level: casbah::service::Level::Warning,
            target: "casbah::service::scans".into(),
            text: "okta/workforce: throttled by the vendor until 14:20 UTC (429)".into(),
        },
        casbah::service::recent::LogLine {
            at: NOW - MIN,
            level: casbah::service::Level::Error,
            target: "casbah::service::groups".into(),
            text: "sync of Finance - EMEA Approvers failed: the token was refused (401); \
                   check the client secret of microsoft365/contoso and sync again — this \
                   sentence ends here"
                .into(),
        },
    ];
    app.update(Msg::Done(Done::Log(lines)));
    let screen = text(&render(&app, 80, 24));
    assert!(screen.contains("ERROR casbah::service::groups"), "{screen}");
    assert!(screen.contains("  ends here"), "wrapped in full: {screen}");
    snap_small_and_large("log", &app);
}

// Issue 11: the last question before an action names it, its count, every account
// and every warning, and fits 80×24.
#[test]
fn act_dialog_confirmation() {
    use casbah::domain::governance::AccountAction;
    use casbah::service::{ActionPlan, PlannedTarget};
    use casbah::tui::govern::GovernDone;
    let mut app = fixture(Theme::plain());
    app.update(Msg::Done(Done::Govern(GovernDone::ReadOnly(false))));
    with_members(&mut app);
    typed(&mut app, " !");
    key(&mut app, KeyCode::Enter);
    let target = |key: &str, admin: bool| PlannedTarget {
        key: key.into(),
        name: key.split('@').next().unwrap_or(key).into(),
        account_id: format!("id-{key}"),
        status: "active".into(),
        warnings: if admin {
            vec![format!("{key} is an administrator of the app")]
        } else {
            vec![format!(
                "{key} syncs from on-premises AD: the next sync may revert this; act in AD too"
            )]
        },
    };
    app.update(Msg::Done(Done::Govern(GovernDone::Planned(Ok(
        ActionPlan {
            instance: "contoso".into(),
            app: AppKind::Microsoft365,
            action: AccountAction::SignOut,
            effect: AccountAction::SignOut.effect().into(),
            can_be_undone: false,
            permission: Some("User.RevokeSessions.All".into()),
            targets: vec![
                target("naomi.keller@contoso.com", true),
                target("ines.garcia@contoso.com", false),
            ],
        },
    )))));
    typed(&mut app, "token theft, ticket 4411");
    key(&mut app, KeyCode::Enter);
    snap("act_confirm", &app);
}

// Issue 11: the audit trail, newest first, with the app's answer.
#[test]
fn audit_pane() {
    use casbah::domain::governance::{AuditAttempt, AuditEntry, AuditOutcome};
    use casbah::tui::govern::GovernDone;
    let mut app = fixture(Theme::plain());
    typed(&mut app, "6");
    let entry = |id: u64, action: &str, outcome: AuditOutcome| AuditEntry {
        id,
        attempt: AuditAttempt {
            at: NOW - (5 - id as i64) * 60 * MIN,
            by: "ann".into(),
            instance: InstanceId(1),
            instance_name: "contoso".into(),
            app: AppKind::Microsoft365,
            action: action.into(),
            target: "naomi.keller@contoso.com".into(),
            account_id: "u1".into(),
            reason: "phished, ticket 4410".into(),
        },
        settled: Some(NOW),
        outcome,
    };
    app.update(Msg::Done(Done::Govern(GovernDone::Audit(Ok(vec![
        entry(
            1,
            "suspend",
            AuditOutcome::Done {
                status: 204,
                request_id: Some("7f1c".into()),
            },
        ),
        entry(
            2,
            "sign-out",
            AuditOutcome::Failed {
                status: Some(403),
                code: Some("Authorization_RequestDenied".into()),
                message: "grant User.RevokeSessions.All".into(),
            },
        ),
        entry(3, "unsuspend", AuditOutcome::Unknown),
    ])))));
    snap("audit", &app);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    snap("audit_entry", &app);
}

// Issue 12: the Alerts pane, the count in the header, the policy list and the policy
// editor with a filter mistake under its column.
#[test]
fn alerts_pane_and_policy_editor() {
    use casbah::domain::policy::{Alert, AlertState, Per, Policy, Rule, Severity};
    use casbah::service::{AlertCounts, PolicyView};
    use casbah::tui::watch::WatchDone;
    let mut app = fixture(Theme::plain());
    let mut downloads = Policy::new("Mass download", "action:download");
    downloads.id = 1;
    downloads.enabled = true;
    downloads.severity = Severity::High;
    downloads.rule = Rule {
        count: 25,
        window: 5 * MIN,
        per: Per::Actor,
    };
    let mut failed = Policy::new("Failed sign-ins", "action:sign-in failed");
    failed.id = 2;
    failed.rule.per = Per::Ip;
    let raised = |id: u64, policy: &Policy, key: &str, count: u64, state: AlertState| {
        let mut a = Alert::new(id, policy, key.into(), None, NOW - (10 - id as i64) * MIN);
        (a.first, a.last, a.count, a.state) = (NOW - 30 * MIN, NOW - 20 * MIN, count, state);
        a
    };
    app.update(Msg::Done(Done::Watch(WatchDone::Counts(Ok(AlertCounts {
        open: 2,
        acknowledged: 1,
        failing_notices: 0,
    })))));
    app.update(Msg::Done(Done::Watch(WatchDone::Alerts(Ok(vec![
        raised(
            3,
            &downloads,
            "naomi.keller@contoso.com",
            31,
            AlertState::Open,
        ),
        raised(2, &failed, "203.0.113.9", 12, AlertState::Open),
        raised(
            1,
            &downloads,
            "ann@contoso.com",
            25,
            AlertState::Acknowledged,
        ),
    ])))));
    typed(&mut app, "8");
    snap("alerts", &app);
    typed(&mut app, "p");
    app.update(Msg::Done(Done::Watch(WatchDone::Policies(Ok(vec![
        PolicyView {
            policy: downloads,
            problem: None,
            open_alerts: 1,
        },
        PolicyView {
            policy: failed,
            problem: None,
            open_alerts: 1,
        },
    ])))));
    snap("policies", &app);
    typed(&mut app, "n");
    typed(&mut app, "Admins abroad");
    key(&mut app, KeyCode::Tab);
    typed(&mut app, "admin -contry:US");
    snap("policy_editor", &app);
}
