//! The store's Graph connections, external groups, items, mirror links and
//! synced Entra groups (R-X1…R-X6).

mod common;

use std::collections::BTreeSet;

use casbah::domain::external::{
    AclEntry, Connection, ConnectionId, EntraGroup, ExternalGroup, ExternalGroupId, Item, ItemId,
    Member, Principal, Unmatched, UnmatchedUser,
};
use casbah::domain::{AppKind, Component, GroupId, InstanceId, Secret};
use casbah::store::{ItemRecord, MirrorLink, NewInstance, Store};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = common::open_store(&dir.path().join("casbah.redb")).expect("open");
    (dir, store)
}

/// "a" is the Microsoft 365 instance; Microsoft 365 allows one, so any
/// other name is an instance of another app (the store does not care).
fn instance(store: &Store, name: &str) -> InstanceId {
    let app = if name == "a" {
        AppKind::Microsoft365
    } else {
        AppKind::Box
    };
    store
        .add_instance(
            NewInstance {
                app,
                name: name.into(),
                fields: [("tenant-id", "tenant"), ("client-id", "client")]
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .into(),
                endpoint: None,
                components: vec![Component::UsersAndGroups],
            },
            &Secret::new("s"),
            0,
        )
        .expect("instance")
        .id
}

fn cid(id: &str) -> ConnectionId {
    ConnectionId::parse(id).unwrap()
}

fn gid(id: &str) -> ExternalGroupId {
    ExternalGroupId::parse(id).unwrap()
}

fn connection(id: &str) -> Connection {
    Connection::new(cid(id), &format!("{id} name"), None).unwrap()
}

fn group(id: &str, members: Vec<Member>) -> ExternalGroup {
    ExternalGroup {
        id: gid(id),
        display_name: Some(format!("{id} label")),
        description: None,
        members,
    }
}

fn item(id: &str, acl: Vec<AclEntry>) -> ItemRecord {
    ItemRecord {
        item: Item {
            id: ItemId::parse(id).unwrap(),
            acl,
        },
        title: Some("Title".into()),
        properties: serde_json::json!({"title": "Title", "priority": 1})
            .as_object()
            .cloned()
            .unwrap(),
        content: Some(serde_json::json!({"type": "text", "value": "details"})),
    }
}

fn link(group: &str) -> MirrorLink {
    MirrorLink {
        group: gid(group),
        source: GroupId(7),
        published: BTreeSet::from(["u1".to_string()]),
        unmatched: vec![UnmatchedUser {
            source_id: "s1".into(),
            email: "nobody@x.com".into(),
            why: Unmatched::NoEntraUser,
        }],
        last_sync: Some(5),
        last_error: None,
    }
}

// R-X1, R-X3, R-X4, R-X6: everything written reads back the same, members
// and ACL entries of every kind included, per connection and instance.
#[test]
fn connections_groups_items_and_mirrors_round_trip() {
    let (_dir, s) = store();
    let a = instance(&s, "a");
    let b = instance(&s, "b");
    s.put_external_connection(a, &connection("hrdocs")).unwrap();
    s.put_external_connection(a, &connection("tickets"))
        .unwrap();
    s.put_external_connection(b, &connection("hrdocs")).unwrap();
    let members = vec![
        Member::User("u1".into()),
        Member::EntraGroup("g1".into()),
        Member::ExternalGroup(gid("tier2")),
    ];
    s.put_external_group(
        a,
        &cid("hrdocs"),
        &group("tier1", members.clone()),
        Some(&link("tier1")),
    )
    .unwrap();
    s.put_external_group(a, &cid("tickets"), &group("other", vec![]), None)
        .unwrap();
    let acl = vec![
        AclEntry::grant(Principal::ExternalGroup(gid("tier1"))),
        AclEntry::deny(Principal::User("u2".into())),
        AclEntry::grant(Principal::EveryoneExceptGuests("tenant".into())),
    ];
    s.put_external_item(a, &cid("hrdocs"), &item("i1", acl.clone()))
        .unwrap();

    assert_eq!(s.external_connections(Some(a)).unwrap().len(), 2);
    assert_eq!(s.external_connections(None).unwrap().len(), 3);
    // Graph looks connection ids up without regard to case; so does the store.
    let data = s.connection_data(a, &cid("HRDOCS")).unwrap();
    assert_eq!(data.groups, vec![group("tier1", members)]);
    assert_eq!(data.items[0], item("i1", acl.clone()));
    assert_eq!(data.mirrors, vec![link("tier1")]);
    assert!(
        s.connection_data(b, &cid("hrdocs"))
            .unwrap()
            .groups
            .is_empty()
    );
    assert_eq!(
        s.external_group(a, &cid("tickets"), &gid("other"))
            .unwrap()
            .map(|g| g.id),
        Some(gid("other"))
    );
    assert_eq!(s.mirror_links().unwrap().len(), 1);

    // Removing a group takes its mirror link.
    s.remove_external_group(a, &cid("hrdocs"), &gid("tier1"))
        .unwrap();
    let data = s.connection_data(a, &cid("hrdocs")).unwrap();
    assert!(data.groups.is_empty() && data.mirrors.is_empty());
    assert_eq!(data.items.len(), 1);
    s.remove_external_item(a, &cid("hrdocs"), &ItemId::parse("i1").unwrap())
        .unwrap();
    assert!(
        s.connection_data(a, &cid("hrdocs"))
            .unwrap()
            .items
            .is_empty()
    );
}

// R-X1: a refreshed list from Graph replaces the stored one: connections Graph no
// longer has go with their groups and items.
#[test]
fn replacing_connections_forgets_the_data_of_those_gone() {
    let (_dir, s) = store();
    let a = instance(&s, "a");
    s.put_external_connection(a, &connection("hrdocs")).unwrap();
    s.put_external_group(
        a,
        &cid("hrdocs"),
        &group("tier1", vec![]),
        Some(&link("tier1")),
    )
    .unwrap();
    s.put_external_connection(a, &connection("tickets"))
        .unwrap();
    s.put_external_group(a, &cid("tickets"), &group("kept", vec![]), None)
        .unwrap();
    s.replace_external_connections(a, &[connection("tickets"), connection("wiki")])
        .unwrap();
    let ids: Vec<String> = s
        .external_connections(Some(a))
        .unwrap()
        .into_iter()
        .map(|(_, c)| c.id.to_string())
        .collect();
    assert_eq!(ids, ["tickets", "wiki"]);
    assert!(
        s.connection_data(a, &cid("hrdocs"))
            .unwrap()
            .groups
            .is_empty()
    );
    assert!(s.mirror_links().unwrap().is_empty());
    assert_eq!(
        s.connection_data(a, &cid("tickets")).unwrap().groups.len(),
        1
    );
}

// R-X1, R-C2: removing an instance removes its connections' data and Entra groups, and
// nothing of another instance.
#[test]
fn removing_an_instance_removes_its_external_data() {
    let (_dir, s) = store();
    let a = instance(&s, "a");
    let b = instance(&s, "b");
    for i in [a, b] {
        s.put_external_connection(i, &connection("hrdocs")).unwrap();
        s.put_external_group(
            i,
            &cid("hrdocs"),
            &group("tier1", vec![]),
            Some(&link("tier1")),
        )
        .unwrap();
        s.put_external_item(i, &cid("hrdocs"), &item("i1", vec![]))
            .unwrap();
        s.put_entra_groups(
            i,
            &[EntraGroup {
                id: "G1".into(),
                name: "Support".into(),
                users: vec!["u1".into()],
                groups: vec![],
            }],
        )
        .unwrap();
    }
    s.remove_instance(a).unwrap();
    assert!(s.external_connections(Some(a)).unwrap().is_empty());
    let data = s.connection_data(a, &cid("hrdocs")).unwrap();
    assert!(data.groups.is_empty() && data.items.is_empty() && data.mirrors.is_empty());
    assert!(s.entra_groups(a).unwrap().is_empty());
    let kept = s.connection_data(b, &cid("hrdocs")).unwrap();
    assert_eq!(
        (kept.groups.len(), kept.items.len(), kept.mirrors.len()),
        (1, 1, 1)
    );
    assert_eq!(s.entra_groups(b).unwrap()[0].users, ["u1"]);
}

// R-X3, R-X5: Entra groups are keyed by object id in any case: a second write of the
// same group replaces the first.
#[test]
fn entra_groups_are_replaced_by_id() {
    let (_dir, s) = store();
    let a = instance(&s, "a");
    let g = |id: &str, users: &[&str]| EntraGroup {
        id: id.into(),
        name: "Support".into(),
        users: users.iter().map(|u| u.to_string()).collect(),
        groups: vec![],
    };
    s.put_entra_groups(a, &[g("G1", &["u1"])]).unwrap();
    s.put_entra_groups(a, &[g("g1", &["u2", "u3"])]).unwrap();
    let stored = s.entra_groups(a).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].users, ["u2", "u3"]);
}

// DESIGN schema, R-X1: a database made before these tables existed reads as empty, and the
// first write creates them; the data survives a reopen.
#[test]
fn tables_are_created_on_first_write_and_persist() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("casbah.redb");
    {
        let s = common::open_store(&path).unwrap();
        let a = instance(&s, "a");
        assert!(s.external_connections(None).unwrap().is_empty());
        assert!(s.mirror_links().unwrap().is_empty());
        assert!(s.entra_groups(a).unwrap().is_empty());
        s.put_external_connection(a, &connection("hrdocs")).unwrap();
    }
    let s = common::open_store(&path).unwrap();
    assert_eq!(
        s.external_connections(None).unwrap()[0].1,
        connection("hrdocs")
    );
}
