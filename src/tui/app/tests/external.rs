//! The External groups pane (R-X1…R-X5): the tree, item views and the
//! access checker.

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
    app.panes
        .external
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
        app.panes.external.tree.selected().map(|r| r.label.as_str()),
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
    let c = app.panes.external.checker.as_ref().expect("checker");
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
        app.panes.external.checker.as_ref().map(|c| c.field),
        Some(Field::Item)
    );
    press(&mut app, KeyCode::Esc);
    assert!(app.panes.external.checker.is_none());
    assert_eq!(app.focus, PaneId::External);
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
        matches!(app.panes.external.stack.last(), Some(crate::tui::views::external::Detail::Who { visible, .. }) if visible.hits().len() == 2),
        "Esc clears the filter first"
    );
    press(&mut app, KeyCode::Esc);
    assert!(app.panes.external.stack.is_empty(), "back to the tree");
}

// R-X4, issue 13: Enter on an ACL entry naming an external group shows that
// group in the tree, and Esc goes back to the ACL with the entry selected.
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
    assert!(app.panes.external.stack.is_empty());
    assert_eq!(
        app.panes.external.tree.selected().map(|r| r.label.as_str()),
        Some("Escalations")
    );
    press(&mut app, KeyCode::Esc);
    assert_eq!(
        app.breadcrumbs(),
        ["External groups", "contosokb", "Items", "kb-1", "ACL"]
    );
    press(&mut app, KeyCode::Esc);
    assert!(app.panes.external.stack.is_empty(), "then the tree");
}

// Live: a change of the connection reloads it once, and the row the user
// is on stays selected when rows arrive above it.
#[test]
fn a_change_reloads_without_losing_the_selection() {
    let mut app = external_app();
    typed(&mut app, "j");
    press(&mut app, KeyCode::Enter);
    typed(&mut app, "jj");
    let before = app.panes.external.tree.selected().map(|r| r.path.clone());
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
    assert_eq!(
        app.panes.external.tree.selected().map(|r| r.path.clone()),
        before
    );
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
    assert_eq!(app.focus, PaneId::External);
    assert_eq!(
        app.panes.external.tree.selected().map(|r| r.label.as_str()),
        Some("contosokb")
    );
}

// issue 13, R-X5: who can see lists the denied first, then by name, and its
// filter searches every column (the decision and the entry as well).
#[test]
fn who_can_see_is_sorted_and_filtered_on_every_column() {
    let mut app = external_app();
    typed(&mut app, "G");
    press(&mut app, KeyCode::Enter);
    typed(&mut app, "jw");
    let row = |id: &str, deny: bool, entry: usize| WhoRow {
        user_id: format!("u-{id}"),
        name: format!("{id}@contoso.com"),
        decision: if deny {
            crate::domain::external::Access::Deny
        } else {
            crate::domain::external::Access::Grant
        },
        entry,
    };
    app.update(Msg::Done(Done::Audience {
        connection: "contosokb".into(),
        item: "kb-1".into(),
        result: Ok(AudienceNode {
            rows: vec![
                row("ann", false, 2),
                row("zed", true, 1),
                row("bob", false, 2),
                row("carl", true, 3),
            ],
            granted: 2,
            denied: 2,
            ..AudienceNode::default()
        }),
    }));
    let shown = |app: &App| -> Vec<String> {
        match app.panes.external.stack.last() {
            Some(crate::tui::views::external::Detail::Who {
                audience, visible, ..
            }) => {
                let a = audience.ready().expect("loaded");
                visible
                    .hits()
                    .iter()
                    .map(|h| a.rows[h.index()].user_id.clone())
                    .collect()
            }
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(shown(&app), ["u-carl", "u-zed", "u-ann", "u-bob"]);
    typed(&mut app, "/grant");
    assert_eq!(shown(&app), ["u-ann", "u-bob"], "the decision column");
    for _ in 0.."grant".len() {
        press(&mut app, KeyCode::Backspace);
    }
    typed(&mut app, "#3");
    assert_eq!(shown(&app), ["u-carl"], "the entry column");
}
