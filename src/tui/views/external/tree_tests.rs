//! The tree of connections, groups, members and items: expansion, the
//! filter, and what stays selected as data arrives.

use super::*;

fn gid(id: &str) -> ExternalGroupId {
    ExternalGroupId::parse(id).expect("valid id")
}

fn ext(id: &str, pending: bool) -> MemberNode {
    MemberNode {
        member: Member::ExternalGroup(gid(id)),
        label: id.to_owned(),
        pending,
    }
}

fn user(name: &str) -> MemberNode {
    MemberNode {
        member: Member::User(format!("id-{name}")),
        label: name.to_owned(),
        pending: false,
    }
}

fn group(id: &str, members: Vec<MemberNode>) -> GroupNode {
    GroupNode {
        id: gid(id),
        label: id.to_owned(),
        description: None,
        members,
        mirror: None,
    }
}

/// escalations ⊃ tier1 ⊃ (support EMEA, tier2 ⊃ escalations: a cycle),
/// escalations ⊃ alice, escalations ⊃ tier9 (pending).
fn tree() -> Tree {
    let mut t = Tree::default();
    t.set_connections(vec![ConnNode {
        id: "contosokb".into(),
        name: "Knowledge base".into(),
        instance: "contoso".into(),
        groups: 3,
        items: 0,
        pending: 1,
    }]);
    let groups = vec![
        group(
            "escalations",
            vec![ext("tier1", false), user("alice"), ext("tier9", true)],
        ),
        group(
            "tier1",
            vec![
                MemberNode {
                    member: Member::EntraGroup("g-emea".into()),
                    label: "Support EMEA".into(),
                    pending: false,
                },
                ext("tier2", false),
            ],
        ),
        group("tier2", vec![ext("escalations", false)]),
    ];
    let data = t.conn_mut("contosokb").expect("connection");
    data.groups = Load::Ready(groups);
    data.items = Load::Ready(Vec::new());
    t
}

fn shown(t: &Tree) -> Vec<String> {
    t.rows
        .iter()
        .map(|r| format!("{}{}", "  ".repeat(r.depth), r.label))
        .collect()
}

fn select(t: &mut Tree, label: &str, depth: usize) {
    t.cursor.selected = t
        .rows
        .iter()
        .position(|r| r.label == label && r.depth == depth)
        .unwrap_or_else(|| panic!("{label} at {depth} in {:?}", shown(t)));
}

fn toggle_selected(t: &mut Tree) {
    let row = t.selected().expect("a row").clone();
    if row.expanded {
        t.collapse(&row.path);
    } else {
        t.expand(row.path);
    }
    t.rebuild("");
}

// R-X3, R-X5: nesting of any depth shows inline, indented; a group already
// on the branch is shown once with a cycle mark and not expanded again.
#[test]
fn nesting_is_indented_and_a_cycle_ends() {
    let mut t = tree();
    t.rebuild("");
    assert_eq!(shown(&t)[..1], ["contosokb"], "collapsed at first");
    t.cursor.selected = 0;
    toggle_selected(&mut t);
    select(&mut t, "escalations", 1);
    toggle_selected(&mut t);
    select(&mut t, "tier1", 2);
    toggle_selected(&mut t);
    select(&mut t, "tier2", 3);
    toggle_selected(&mut t);
    assert_eq!(
        shown(&t)[..9],
        [
            "contosokb",
            "  escalations",
            "    tier1",
            "      Support EMEA",
            "      tier2",
            "        escalations",
            "    alice",
            "    tier9",
            "  tier1",
        ]
    );
    let cycle = &t.rows[5];
    assert_eq!(cycle.kind, RowKind::Cycle);
    assert!(!cycle.expandable, "a cycle is never expanded again");
    assert_eq!(t.rows[4].depth, 3, "three levels of nesting");
}

// R-X4: a member naming a group the connection does not have is pending.
#[test]
fn pending_groups_are_marked() {
    let mut t = tree();
    t.expand(vec![Key::Conn("contosokb".into())]);
    t.expand(vec![
        Key::Conn("contosokb".into()),
        Key::Group(gid("escalations")),
    ]);
    t.rebuild("");
    let pending = t
        .rows
        .iter()
        .find(|r| r.label == "tier9")
        .expect("tier9 shown");
    assert_eq!(pending.kind, RowKind::Pending);
    assert!(pending.detail.contains("pending"));
    assert!(t.rows[0].detail.contains("1 pending"));
}

// Collapsing a group whose member is selected selects the group; expanding
// again keeps it; a reload keeps both what is open and the selection.
#[test]
fn expand_and_collapse_keep_the_selection() {
    let mut t = tree();
    t.rebuild("");
    toggle_selected(&mut t);
    select(&mut t, "escalations", 1);
    toggle_selected(&mut t);
    select(&mut t, "alice", 2);
    let alice = t.selected().expect("alice").path.clone();
    // A reload with a new group before: same row selected.
    let data = t.conn_mut("contosokb").expect("connection");
    if let Load::Ready(groups) = &mut data.groups {
        groups.insert(0, group("aaa", vec![]));
    }
    t.rebuild("");
    assert_eq!(t.selected().map(|r| &r.path), Some(&alice));
    // Collapse the parent: the selection moves up to it.
    let parent = alice[..2].to_vec();
    t.collapse(&parent);
    t.rebuild("");
    assert_eq!(t.selected().map(|r| r.label.as_str()), Some("escalations"));
    toggle_selected(&mut t);
    assert_eq!(t.selected().map(|r| r.label.as_str()), Some("escalations"));
    assert!(t.selected().is_some_and(|r| r.expanded));
}

// R-X6: a mirrored group says where it comes from, what was published,
// who could not be matched, and a failing sync.
#[test]
fn mirror_status_shows_in_the_row() {
    let mut t = tree();
    let data = t.conn_mut("contosokb").expect("connection");
    if let Load::Ready(groups) = &mut data.groups {
        groups[2].mirror = Some(MirrorNote {
            source: "Finance EMEA".into(),
            published: 12,
            unmatched: 2,
            error: Some("Graph refused the member".into()),
        });
    }
    t.expand(vec![Key::Conn("contosokb".into())]);
    t.rebuild("");
    let row = t.rows.iter().find(|r| r.label == "tier2").expect("tier2");
    assert!(
        row.detail
            .contains("mirrors Finance EMEA (12 published, 2 unmatched)"),
        "{}",
        row.detail
    );
    assert!(
        row.detail
            .contains("✗ mirror failing: Graph refused the member")
    );
    assert!(row.warn, "drawn as an error");
}

// R-X3: the filter finds a member deep in the nesting and shows its ancestors.
#[test]
fn filter_keeps_ancestors_of_matches() {
    let mut t = tree();
    t.rebuild("supp emea");
    let labels = shown(&t);
    assert!(
        labels.contains(&"      Support EMEA".to_owned()),
        "{labels:?}"
    );
    assert!(labels.contains(&"    tier1".to_owned()));
    assert!(!labels.iter().any(|l| l.trim() == "alice"), "{labels:?}");
}
