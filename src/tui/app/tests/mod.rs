//! The update logic without a terminal or a service: keys and results in,
//! state and commands out. One file per pane or dialog; the helpers here.

mod activities;
mod alerts;
mod connect;
mod external;
mod govern;
mod history;
mod lists;
mod navigation;
mod picker;
mod pivots;
mod screen;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::domain::Secret;
use crate::domain::{
    Activity, AppKind, Group, GroupId, GroupKind, GroupStatus, Instance, InstanceId, RemoteGroup,
    SkipCounts,
};
use crate::service::{AvailableGroup, InstanceSummary, JobId};
use crate::store::IMPORT_LIMIT;
use crate::store::{ActivityCursor, ActivityPage, Member};
use crate::tui::action::Action;
use crate::tui::msg::{ExportFormat, Failure, Outcome};
use crate::tui::views::connect::{ConnectForm, SecretSource, SignInCode, Stage};

const NOW: Micros = 1_790_000_000_000_000;

fn app() -> App {
    let mut app = App::new(Keymap::defaults(), Theme::plain(), "test.redb".into(), NOW);
    app.start();
    app
}

/// The screen `app` draws at `w`×`h`, line by line.
fn drawn(app: &App, w: u16, h: u16) -> Vec<String> {
    let backend = ratatui::backend::TestBackend::new(w, h);
    let mut terminal = ratatui::Terminal::new(backend).expect("test terminal");
    terminal.draw(|f| app.draw(f)).expect("draw");
    let buf = terminal.backend().buffer();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect())
        .collect()
}

/// A member whose key and e-mail are `key`@c.com.
fn member(key: &str, name: &str, instance: Option<InstanceId>) -> Member {
    Member {
        key: format!("{key}@c.com"),
        name: name.into(),
        email: format!("{key}@c.com"),
        instance,
        joined_at: 0,
        last_activity: None,
    }
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
