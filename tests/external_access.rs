//! R-X5 access evaluation: decisions, their paths, and the reverse
//! questions, on small hand-made directories.

use casbah::domain::external::{
    Access, AccessError, AccessIndex, AccessSnapshot, AclEntry, DirectoryUser, EntraGroup,
    ExternalGroup, ExternalGroupId, Item, ItemId, Member, Principal, StepKind,
};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

fn gid(id: &str) -> ExternalGroupId {
    ExternalGroupId::parse(id).unwrap()
}

fn user(id: &str, guest: bool) -> DirectoryUser {
    DirectoryUser {
        id: id.to_string(),
        name: format!("{id}@contoso.com"),
        guest,
    }
}

fn external(id: &str, name: Option<&str>, members: Vec<Member>) -> ExternalGroup {
    ExternalGroup {
        id: gid(id),
        display_name: name.map(str::to_string),
        description: None,
        members,
    }
}

fn ext(id: &str) -> Member {
    Member::ExternalGroup(gid(id))
}

/// The directory of the issue's example: alice is in Entra group
/// `Support EMEA`, which is in external group `tier1`, which is in
/// `contosoEscalations`. bob is a guest; carol is in nothing.
fn contoso() -> AccessIndex {
    AccessIndex::build(&AccessSnapshot {
        tenant_id: TENANT.to_string(),
        users: vec![
            DirectoryUser {
                id: "u-alice".into(),
                name: "alice".into(),
                guest: false,
            },
            user("u-bob", true),
            user("u-carol", false),
        ],
        entra_groups: vec![EntraGroup {
            id: "g-emea".into(),
            name: "Support EMEA".into(),
            users: vec!["u-alice".into(), "u-bob".into()],
            groups: vec![],
        }],
        external_groups: vec![
            external("contosoEscalations", None, vec![ext("tier1")]),
            external(
                "tier1",
                Some("tier1"),
                vec![Member::EntraGroup("g-emea".into())],
            ),
        ],
    })
}

fn grant(p: Principal) -> AclEntry {
    AclEntry::grant(p)
}

fn deny(p: Principal) -> AclEntry {
    AclEntry::deny(p)
}

// R-X5: deny wins, and the path reads from the ACL entry down to the user.
#[test]
fn issue_example_path() {
    let index = contoso();
    let acl = vec![
        grant(Principal::Everyone(TENANT.into())),
        grant(Principal::User("u-alice".into())),
        deny(Principal::ExternalGroup(gid("contosoEscalations"))),
    ];
    let d = index.check(&acl, "u-alice").unwrap();
    assert_eq!(d.decision, Access::Deny);
    assert_eq!(
        d.to_string(),
        "deny: ACL entry 3 denies external group `contosoEscalations`, which contains \
         external group `tier1`, which contains Entra group `Support EMEA`, of which alice \
         is a member"
    );
    // The overridden grant is the first one that matched.
    assert_eq!(d.overridden.as_ref().map(|r| r.entry), Some(1));
    let json = d.to_json();
    assert_eq!(json["decision"], "deny");
    assert_eq!(json["path"].as_array().map(Vec::len), Some(4));
    assert_eq!(json["path"][3]["kind"], "user");
}

// R-X5: a direct grant, and no decision for someone nothing names.
#[test]
fn direct_grant_and_none() {
    let index = contoso();
    let acl = vec![grant(Principal::User("u-carol".into()))];
    let d = index.check(&acl, "u-carol").unwrap();
    assert_eq!(d.decision, Access::Grant);
    assert_eq!(
        d.to_string(),
        "grant: ACL entry 1 grants u-carol@contoso.com directly"
    );
    let d = index.check(&acl, "u-alice").unwrap();
    assert_eq!(d.decision, Access::None);
    assert!(d.reason.is_none());
}

// R-X4: everyoneExceptGuests leaves guests out, and says so.
#[test]
fn everyone_except_guests() {
    let index = contoso();
    let acl = vec![grant(Principal::EveryoneExceptGuests(TENANT.into()))];
    let d = index.check(&acl, "u-bob").unwrap();
    assert_eq!(d.decision, Access::None);
    assert!(
        d.notes.iter().any(|n| n.contains("is a guest")),
        "{:?}",
        d.notes
    );
    let d = index.check(&acl, "u-carol").unwrap();
    assert_eq!(d.decision, Access::Grant);
    assert_eq!(
        d.reason.unwrap().path[0].kind,
        StepKind::EveryoneExceptGuests
    );
    let who = index.who_can_see(&acl);
    assert_eq!((who.granted, who.denied), (2, 0));
    assert!(who.rows.iter().all(|r| r.user_id != "u-bob"));
}

// R-X4: everyone of another tenant matches nobody, with a note.
#[test]
fn everyone_of_another_tenant() {
    let index = contoso();
    let acl = vec![grant(Principal::Everyone("other-tenant".into()))];
    let d = index.check(&acl, "u-carol").unwrap();
    assert_eq!(d.decision, Access::None);
    assert_eq!(d.notes.len(), 1);
    assert_eq!(index.who_can_see(&acl).granted, 0);
}

// R-X4: an ACL may name an external group that does not exist yet; it is
// pending and contributes nothing.
#[test]
fn pending_groups_are_reported() {
    let index = contoso();
    let acl = vec![
        deny(Principal::ExternalGroup(gid("notYetCreated"))),
        grant(Principal::ExternalGroup(gid("tier1"))),
    ];
    let d = index.check(&acl, "u-alice").unwrap();
    assert_eq!(d.decision, Access::Grant);
    assert_eq!(d.pending, vec![gid("notYetCreated")]);
    let who = index.who_can_see(&acl);
    assert_eq!(who.pending, vec![gid("notYetCreated")]);
    assert_eq!((who.granted, who.denied), (2, 0));
    assert!(!index.has_external_group(&gid("notYetCreated")));
    assert!(index.has_external_group(&gid("tier1")));
}

// R-X5: cycles end and are reported, in "contains" order.
#[test]
fn cycles_end_and_are_reported() {
    let index = AccessIndex::build(&AccessSnapshot {
        tenant_id: TENANT.into(),
        users: vec![user("u1", false)],
        entra_groups: vec![],
        external_groups: vec![
            external("a", None, vec![ext("b")]),
            external("b", None, vec![ext("a"), Member::User("u1".into())]),
        ],
    });
    let acl = vec![grant(Principal::ExternalGroup(gid("a")))];
    let d = index.check(&acl, "u1").unwrap();
    assert_eq!(d.decision, Access::Grant);
    assert_eq!(d.cycles.len(), 1);
    let cycle = d.cycles[0].to_string();
    assert!(
        cycle
            == "membership cycle: external group `a` contains external group `b` contains external group `a`"
            || cycle
                == "membership cycle: external group `b` contains external group `a` contains external group `b`",
        "{cycle}"
    );
    let who = index.who_can_see(&acl);
    assert_eq!(who.granted, 1);
    assert_eq!(who.cycles.len(), 1);
}

// R-X5: a user the directory does not have is a clear error.
#[test]
fn unknown_user() {
    let err = contoso().check(&[], "u-nobody").unwrap_err();
    assert_eq!(
        err,
        AccessError::UnknownUser {
            user: "u-nobody".into()
        }
    );
    assert!(err.to_string().contains("sync users first"));
}

// R-X5: which items a user can see.
#[test]
fn visible_items() {
    let index = contoso();
    let item = |id: &str, acl| Item {
        id: ItemId::parse(id).unwrap(),
        acl,
    };
    let items = vec![
        item("open", vec![grant(Principal::Everyone(TENANT.into()))]),
        item(
            "escalations",
            vec![grant(Principal::ExternalGroup(gid("contosoEscalations")))],
        ),
        item(
            "closed",
            vec![
                grant(Principal::Everyone(TENANT.into())),
                deny(Principal::EntraGroup("g-emea".into())),
            ],
        ),
    ];
    let seen: Vec<&str> = index
        .visible_items(&items, "u-alice")
        .unwrap()
        .iter()
        .map(|(i, _)| i.id.as_str())
        .collect();
    assert_eq!(seen, ["open", "escalations"]);
    let seen: Vec<&str> = index
        .visible_items(&items, "u-carol")
        .unwrap()
        .iter()
        .map(|(i, _)| i.id.as_str())
        .collect();
    assert_eq!(seen, ["open", "closed"]);
}

// R-X5: who can see, with counts; deny wins over grant for the same user.
#[test]
fn who_can_see_counts() {
    let index = contoso();
    let acl = vec![
        grant(Principal::Everyone(TENANT.into())),
        deny(Principal::ExternalGroup(gid("tier1"))),
    ];
    let who = index.who_can_see(&acl);
    assert_eq!((who.granted, who.denied), (1, 2));
    let carol = who.rows.iter().find(|r| r.user_id == "u-carol").unwrap();
    assert_eq!((carol.decision, carol.entry), (Access::Grant, 1));
    let alice = who.rows.iter().find(|r| r.user_id == "u-alice").unwrap();
    assert_eq!((alice.decision, alice.entry), (Access::Deny, 2));
}

// R-X5: Entra groups nest too, and members naming unsynced users are counted.
#[test]
fn nested_entra_groups() {
    let index = AccessIndex::build(&AccessSnapshot {
        tenant_id: TENANT.into(),
        users: vec![user("u1", false)],
        entra_groups: vec![
            EntraGroup {
                id: "outer".into(),
                name: "Outer".into(),
                users: vec!["ghost".into()],
                groups: vec!["inner".into()],
            },
            EntraGroup {
                id: "inner".into(),
                name: "Inner".into(),
                users: vec!["u1".into()],
                groups: vec![],
            },
        ],
        external_groups: vec![],
    });
    assert_eq!(index.unresolved_users(), 1);
    let d = index
        .check(&[grant(Principal::EntraGroup("outer".into()))], "u1")
        .unwrap();
    assert_eq!(
        d.to_string(),
        "grant: ACL entry 1 grants Entra group `Outer`, which contains Entra group `Inner`, \
         of which u1@contoso.com is a member"
    );
}

// R-X5: Entra object ids match in any case (an ACL typed by hand).
#[test]
fn object_ids_ignore_case() {
    let index = contoso();
    let acl = vec![
        grant(Principal::User("U-CAROL".into())),
        deny(Principal::EntraGroup("G-EMEA".into())),
    ];
    assert_eq!(
        index.check(&acl, "u-carol").unwrap().decision,
        Access::Grant
    );
    assert_eq!(index.check(&acl, "U-Alice").unwrap().decision, Access::Deny);
    let who = index.who_can_see(&acl);
    assert_eq!((who.granted, who.denied), (1, 2));
}

// R-X5 (bad input): a group that contains itself is evaluated and the
// self-cycle reported.
#[test]
fn group_containing_itself() {
    let index = AccessIndex::build(&AccessSnapshot {
        tenant_id: TENANT.into(),
        users: vec![user("u1", false)],
        entra_groups: vec![],
        external_groups: vec![external(
            "loop",
            None,
            vec![ext("loop"), Member::User("u1".into())],
        )],
    });
    let acl = vec![deny(Principal::ExternalGroup(gid("loop")))];
    let d = index.check(&acl, "u1").unwrap();
    assert_eq!(d.decision, Access::Deny);
    assert_eq!(
        d.cycles[0].to_string(),
        "membership cycle: external group `loop` contains external group `loop`"
    );
    assert_eq!(index.who_can_see(&acl).denied, 1);
}

// R-X4: everyone is explained as such.
#[test]
fn everyone_explanation() {
    let index = contoso();
    let d = index
        .check(&[grant(Principal::Everyone(TENANT.into()))], "u-bob")
        .unwrap();
    assert_eq!(
        d.to_string(),
        "grant: ACL entry 1 grants everyone in the tenant, u-bob@contoso.com included"
    );
}
