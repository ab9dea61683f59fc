//! `casbah external …` and `casbah access …`, the built binary end to end
//! against an in-process sandbox, whose served counters and stored
//! connections the tests read (R-X1…R-X5).

mod common;

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::process::Output;

use casbah::sandbox::{ExternalChange, Sandbox};
use common::{Scratch, stderr};
use serde_json::Value;

/// A sandbox served from this process, and a database with it connected
/// as `contoso` and its users scanned.
struct World {
    sandbox: Sandbox,
    s: Scratch,
    // Last: the runtime serving the sandbox outlives it.
    _rt: tokio::runtime::Runtime,
}

fn world() -> World {
    let (sandbox, rt) = common::sandbox_in_process(60);
    let s = Scratch::new();
    s.connect_in_process(&sandbox);
    s.ok(&["sync", "--instance", "contoso", "--wait"]);
    World {
        sandbox,
        s,
        _rt: rt,
    }
}

impl World {
    /// Runs a command expected to fail with `code`; returns stderr.
    fn fails(&self, args: &[&str], code: i32) -> String {
        let out: Output = self.s.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "casbah {args:?}: stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        );
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        err
    }

    /// An Entra group with at least three users, its name, and the UPNs
    /// and object ids of its (transitive) users.
    fn entra_group(&self) -> (String, Vec<(String, String)>) {
        let org = self.sandbox.org();
        let names: BTreeMap<&str, usize> = org.groups.iter().fold(BTreeMap::new(), |mut m, g| {
            *m.entry(g.display_name.as_str()).or_default() += 1;
            m
        });
        let g = org
            .groups
            .iter()
            .find(|g| {
                names[g.display_name.as_str()] == 1
                    && org
                        .transitive_users(&g.id)
                        .is_ok_and(|u| u.iter().filter(|u| u.deleted.is_none()).count() >= 3)
            })
            .expect("a group with users");
        let users = org
            .transitive_users(&g.id)
            .expect("users")
            .into_iter()
            .filter(|u| u.deleted.is_none())
            .map(|u| (u.user_principal_name.clone(), u.id.to_string()))
            .collect();
        (g.display_name.clone(), users)
    }

    /// The connection `contosohr` of `contoso`; what the command said.
    fn contosohr(&self) -> String {
        self.s.ok(&[
            "external",
            "connections",
            "add",
            "--instance",
            "contoso",
            "--id",
            "contosohr",
            "--name",
            "Contoso HR",
        ])
    }

    /// `external acl set` of `item` in `contosohr` from this document.
    fn set_acl(&self, item: &str, document: &Value) -> Output {
        let file = self.s.dir.path().join("acl.json");
        std::fs::write(&file, document.to_string()).unwrap();
        self.s.run(&[
            "external",
            "acl",
            "set",
            "--connection",
            "contosohr",
            "--item",
            item,
            "--file",
            file.to_str().unwrap(),
        ])
    }

    /// `external acl show --json` of `item` in `contosohr`.
    fn show_acl(&self, item: &str) -> Value {
        self.s.json(&[
            "external",
            "acl",
            "show",
            "--connection",
            "contosohr",
            "--item",
            item,
            "--json",
        ])
    }

    /// `access check --json` of `user` and `item` in `contosohr`.
    fn check(&self, item: &str, user: &str) -> Value {
        self.s.json(&[
            "access",
            "check",
            "--connection",
            "contosohr",
            "--item",
            item,
            "--user",
            user,
            "--json",
        ])
    }

    /// A user in none of `users`.
    fn outsider(&self, users: &[(String, String)]) -> (String, String) {
        let org = self.sandbox.org();
        let u = org
            .users
            .iter()
            .find(|u| u.deleted.is_none() && !users.iter().any(|(_, id)| *id == u.id.to_string()))
            .expect("an outsider");
        (u.user_principal_name.clone(), u.id.to_string())
    }
}

fn ids(members: &Value) -> Vec<String> {
    members
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_string())
        .collect()
}

// R-X1…R-X5: connections, groups with nested members (a cycle too), an ACL
// naming a pending group, and the access answers, all from the command line.
#[test]
fn groups_members_acls_and_access_from_the_command_line() {
    let w = world();
    let s = &w.s;

    // R-X1: a connection of the instance.
    let out = w.contosohr();
    assert!(out.contains("created connection contosohr"), "{out}");
    let list = s.json(&["external", "connections", "list", "--json"]);
    assert_eq!(list[0]["id"], "contosohr");
    assert_eq!(list[0]["instance"], "contoso");
    assert_eq!(list[0]["groups"], 0);
    let refreshed = s.json(&["external", "connections", "list", "--refresh", "--json"]);
    assert_eq!(refreshed[0]["name"], "Contoso HR", "read back from Graph");

    // R-X2: two external groups.
    for (id, name) in [("tier1", "Tier 1"), ("escalations", "Contoso Escalations")] {
        s.ok(&[
            "external",
            "groups",
            "create",
            "--connection",
            "contosohr",
            "--id",
            id,
            "--name",
            name,
        ]);
    }

    // R-X3: an Entra group, a user and a nested external group; then the
    // member that makes tier1 contain itself through escalations.
    let (entra, users) = w.entra_group();
    let (outsider_upn, outsider_id) = w.outsider(&users);
    let member = |group: &str, flag: &str, value: &str| {
        s.ok(&[
            "external",
            "members",
            "add",
            "--connection",
            "contosohr",
            "--group",
            group,
            flag,
            value,
        ])
    };
    member("tier1", "--entra-group", &entra);
    member("escalations", "--external", "tier1");
    member("escalations", "--user", &outsider_upn);
    let out = member("tier1", "--external", "escalations");
    assert!(out.contains("added external group escalations"), "{out}");
    member("tier1", "--external", "notyet");

    let stored = w.sandbox.external_connection("contosohr").expect("stored");
    let tier1: Vec<&str> = stored.groups["tier1"]
        .members
        .iter()
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(tier1.len(), 3, "Graph holds what was sent: {tier1:?}");
    assert!(tier1.contains(&"escalations") && tier1.contains(&"notyet"));
    let escalations = &stored.groups["escalations"].members;
    assert!(
        escalations.iter().any(|m| m.id == outsider_id),
        "by object id"
    );

    // R-X2: a rename reaches Graph (PATCH) and keeps the members here.
    let rename = [
        "external",
        "groups",
        "update",
        "--connection",
        "contosohr",
        "--id",
        "escalations",
    ];
    let err = w.fails(&rename, 2);
    assert!(err.contains("give --name or --description"), "{err}");
    let out = s.ok(&[
        &rename[..],
        &["--name", "Contoso Escalations", "--description", "Tier 2"],
    ]
    .concat());
    assert!(out.contains("updated external group escalations"), "{out}");
    let stored = w.sandbox.external_connection("contosohr").expect("stored");
    let renamed = &stored.groups["escalations"];
    assert_eq!(renamed.description.as_deref(), Some("Tier 2"));
    assert_eq!(renamed.members.len(), 2, "members untouched at Graph");
    let listed = s.json(&[
        "external",
        "groups",
        "list",
        "--connection",
        "contosohr",
        "--json",
    ]);
    let here = listed
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["id"] == "escalations")
        .expect("escalations");
    assert_eq!(here["description"], "Tier 2");
    assert_eq!(
        here["members"].as_array().map(Vec::len),
        Some(2),
        "kept here"
    );

    // The tree: nesting indented, the cycle stopped, pending marked.
    let tree = s.ok(&["external", "groups", "list", "--connection", "contosohr"]);
    assert!(tree.contains("  external group Tier 1\n"), "{tree}");
    assert!(
        tree.contains("    external group Contoso Escalations (cycle"),
        "{tree}"
    );
    assert!(
        tree.contains("external group notyet (pending: not created yet)"),
        "{tree}"
    );
    assert!(tree.contains(&format!("Entra group {entra}")), "{tree}");
    let groups = s.json(&[
        "external",
        "groups",
        "list",
        "--connection",
        "contosohr",
        "--json",
    ]);
    let tier1 = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == "tier1")
        .expect("tier1");
    let pending: Vec<&Value> = tier1["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["pending"] == true)
        .collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["kind"], "external-group");
    assert_eq!(pending[0]["id"], "notyet");

    // R-X4: an ACL from a file; `tickets` does not exist yet and is pending.
    let (denied_upn, denied_id) = users[0].clone();
    let acl = serde_json::json!({
        "acl": [
            {"type": "externalGroup", "value": "escalations", "accessType": "grant"},
            {"type": "user", "value": denied_id, "accessType": "deny"},
            {"type": "group", "value": "tickets", "accessType": "grant", "identitySource": "External"},
        ],
        "properties": {"title": "Payment gateway error"},
    });
    let out = w.set_acl("ticket1", &acl);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.contains("pending: external group tickets is named but not created yet"),
        "{out}"
    );
    let item = &w.sandbox.external_connection("contosohr").unwrap().items["ticket1"];
    assert_eq!(item.acl.len(), 3);
    assert_eq!(item.properties["title"], "Payment gateway error");
    let shown = w.show_acl("ticket1");
    assert_eq!(shown["pending"], serde_json::json!(["tickets"]));
    assert_eq!(shown["title"], "Payment gateway error");
    assert_eq!(
        shown["acl"][0]["label"],
        "external group Contoso Escalations"
    );
    assert_eq!(shown["acl"][2]["label"], "external group tickets (pending)");
    let items = s.json(&[
        "external",
        "items",
        "list",
        "--connection",
        "contosohr",
        "--json",
    ]);
    assert_eq!(items[0]["id"], "ticket1");

    // R-X5: a member of the Entra group is granted through three levels of
    // nesting, and the path says so; evaluation ends despite the cycle.
    let (granted_upn, granted_id) = users[1].clone();
    let answer = w.check("ticket1", &granted_upn);
    assert_eq!(answer["decision"], "grant");
    assert_eq!(answer["entry"], 1);
    let path: Vec<&str> = answer["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        path,
        ["externalGroup", "externalGroup", "entraGroup", "user"]
    );
    assert_eq!(answer["path"][3]["id"], granted_id.as_str());
    assert!(
        !answer["cycles"].as_array().unwrap().is_empty(),
        "the cycle is reported"
    );
    assert_eq!(answer["pending"], serde_json::json!(["tickets"]));
    let text = s.ok(&[
        "access",
        "check",
        "--connection",
        "contosohr",
        "--item",
        "ticket1",
        "--user",
        &granted_upn,
    ]);
    let label = answer["path"][3]["label"].as_str().unwrap();
    assert!(
        text.starts_with(&format!(
            "grant: ACL entry 1 grants external group `Contoso Escalations`, which contains external group `Tier 1`, which contains Entra group `{entra}`, of which {label} is a member"
        )),
        "{text}"
    );
    assert!(text.contains("membership cycle"), "{text}");

    // Deny wins over grant (R-X5).
    let answer = w.check("ticket1", &denied_upn);
    assert_eq!(answer["decision"], "deny");
    assert_eq!(answer["entry"], 2);
    assert_eq!(answer["overridden"]["entry"], 1);

    // Who can see it: every user of the Entra group and the outsider added
    // directly, less the one denied.
    let who = s.json(&[
        "access",
        "who",
        "--connection",
        "contosohr",
        "--item",
        "ticket1",
        "--json",
    ]);
    let granted: BTreeSet<&str> = who["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["decision"] == "grant")
        .map(|r| r["user_id"].as_str().unwrap())
        .collect();
    let mut expected: BTreeSet<&str> = users.iter().map(|(_, id)| id.as_str()).collect();
    expected.insert(&outsider_id);
    expected.remove(denied_id.as_str());
    assert_eq!(granted, expected);
    assert_eq!(who["granted"], expected.len());
    assert_eq!(who["denied"], 1);
    let text = s.ok(&[
        "access",
        "who",
        "--connection",
        "contosohr",
        "--item",
        "ticket1",
    ]);
    assert!(
        text.contains(&format!("{} granted, 1 denied", expected.len())),
        "{text}"
    );

    // R-X5, the reverse question: what a user can see.
    let visible = s.json(&[
        "access",
        "items",
        "--connection",
        "contosohr",
        "--user",
        &granted_upn,
        "--json",
    ]);
    assert_eq!(visible[0]["item"], "ticket1");
    assert_eq!(visible[0]["decision"]["decision"], "grant");
    let visible = s.json(&[
        "access",
        "items",
        "--connection",
        "contosohr",
        "--user",
        &denied_upn,
        "--json",
    ]);
    assert_eq!(visible, serde_json::json!([]), "denied sees nothing");

    // Issue 13 (speed): the listings and the checker only read, so they leave the file
    // as it was (no byte, no modification time, no disk sync).
    let stamp = || {
        let meta = std::fs::metadata(s.db()).unwrap();
        (meta.modified().unwrap(), std::fs::read(s.db()).unwrap())
    };
    let before = stamp();
    let on = ["--connection", "contosohr"];
    for args in [
        &[
            "access",
            "check",
            on[0],
            on[1],
            "--item",
            "ticket1",
            "--user",
            &granted_upn,
        ][..],
        &["access", "who", on[0], on[1], "--item", "ticket1"],
        &["access", "items", on[0], on[1], "--user", &granted_upn],
        &["external", "groups", "list", on[0], on[1]],
        &["external", "items", "list", on[0], on[1]],
        &["external", "acl", "show", on[0], on[1], "--item", "ticket1"],
    ] {
        s.ok(args);
        assert!(stamp() == before, "casbah {args:?} wrote to the database");
    }

    // R-X3: removing the nested group breaks the cycle, at Graph and here.
    s.ok(&[
        "external",
        "members",
        "remove",
        "--connection",
        "contosohr",
        "--group",
        "tier1",
        "--external",
        "escalations",
    ]);
    let stored = w.sandbox.external_connection("contosohr").unwrap();
    assert!(
        !stored.groups["tier1"]
            .members
            .iter()
            .any(|m| m.id == "escalations")
    );
    let groups = s.json(&[
        "external",
        "groups",
        "list",
        "--connection",
        "contosohr",
        "--json",
    ]);
    let tier1 = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == "tier1")
        .unwrap();
    assert!(!ids(&tier1["members"]).contains(&"escalations".to_string()));

    // A duplicate: Graph's 409 in one line, exit 1, nothing changed here.
    let before = s.json(&[
        "external",
        "groups",
        "list",
        "--connection",
        "contosohr",
        "--json",
    ]);
    let changes = w.sandbox.external_changes().len();
    let err = w.fails(
        &[
            "external",
            "groups",
            "create",
            "--connection",
            "contosohr",
            "--id",
            "tier1",
            "--name",
            "Another",
        ],
        1,
    );
    assert!(err.contains("already exists; nothing was changed"), "{err}");
    assert!(err.contains("409"), "{err}");
    let after = s.json(&[
        "external",
        "groups",
        "list",
        "--connection",
        "contosohr",
        "--json",
    ]);
    assert_eq!(before, after, "local state unchanged");
    assert_eq!(w.sandbox.external_changes().len(), changes);

    // Deleting a group: gone at Graph and here.
    s.ok(&[
        "external",
        "groups",
        "delete",
        "--connection",
        "contosohr",
        "--id",
        "escalations",
    ]);
    assert!(
        w.sandbox
            .external_changes()
            .contains(&ExternalChange::GroupDeleted {
                connection: "contosohr".into(),
                group: "escalations".into()
            })
    );
    let groups = s.json(&[
        "external",
        "groups",
        "list",
        "--connection",
        "contosohr",
        "--json",
    ]);
    assert_eq!(ids(&groups), ["tier1"]);

    // An item casbah has not put: one line with the closest ids.
    let err = w.fails(
        &[
            "external",
            "acl",
            "show",
            "--connection",
            "contosohr",
            "--item",
            "ticket2",
        ],
        1,
    );
    assert!(err.contains("did you mean \"ticket1\""), "{err}");

    // An ACL alone from stdin: the item keeps the properties sent before.
    let out = s.run_with_input(
        &[
            "external",
            "acl",
            "set",
            "--connection",
            "contosohr",
            "--item",
            "ticket1",
            "--file",
            "-",
        ],
        &serde_json::json!([
            {"type": "everyone", "value": w.sandbox.tenant_id, "accessType": "grant"}
        ])
        .to_string(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let item = &w.sandbox.external_connection("contosohr").unwrap().items["ticket1"];
    assert_eq!(item.acl.len(), 1);
    assert_eq!(item.properties["title"], "Payment gateway error");
    let who = s.json(&[
        "access",
        "who",
        "--connection",
        "contosohr",
        "--item",
        "ticket1",
        "--json",
    ]);
    assert_eq!(who["denied"], 0);
    assert!(who["granted"].as_u64().unwrap() > expected.len() as u64);

    // R-X6: a casbah group mirrored into a new external group.
    s.ok(&[
        "groups",
        "import",
        "--instance",
        "contoso",
        &entra,
        "--wait",
    ]);
    let out = s.ok(&[
        "external",
        "mirror",
        "--connection",
        "contosohr",
        "--group",
        "mirrored",
        "--from",
        &entra,
        "--wait",
    ]);
    // R-G4: the import keeps active users only; those are published.
    let active: BTreeSet<String> = {
        let org = w.sandbox.org();
        users
            .iter()
            .filter(|(_, id)| {
                org.users
                    .iter()
                    .any(|u| u.id.to_string() == *id && u.account_enabled)
            })
            .map(|(_, id)| id.clone())
            .collect()
    };
    assert_eq!(
        out.trim(),
        format!("mirrored: {} added, 0 removed, 0 unmatched", active.len())
    );
    let published: BTreeSet<String> =
        w.sandbox.external_connection("contosohr").unwrap().groups["mirrored"]
            .members
            .iter()
            .map(|m| m.id.clone())
            .collect();
    assert_eq!(published, active);
    let groups = s.json(&[
        "external",
        "groups",
        "list",
        "--connection",
        "contosohr",
        "--json",
    ]);
    let mirrored = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == "mirrored")
        .expect("mirrored group");
    assert_eq!(mirrored["mirror"]["source_name"], entra.as_str());
    assert_eq!(mirrored["mirror"]["published"], active.len());

    // R-X1: deleting the connection takes its data, at Graph and here.
    s.ok(&[
        "external",
        "connections",
        "delete",
        "--connection",
        "contosohr",
    ]);
    assert!(w.sandbox.external_connection("contosohr").is_none());
    let list = s.json(&["external", "connections", "list", "--json"]);
    assert_eq!(list, serde_json::json!([]));
}

// R-X1, R-X2: ids that break the rules are refused with exit 2, naming the
// rule, before any request reaches Graph.
#[test]
fn bad_ids_are_refused_before_any_request() {
    let w = world();
    let s = &w.s;
    w.contosohr();
    s.ok(&[
        "external",
        "groups",
        "create",
        "--connection",
        "contosohr",
        "--id",
        "tier1",
    ]);
    let served = w.sandbox.served_all();
    let changes = w.sandbox.external_changes();

    let create = |id: &str| {
        w.fails(
            &[
                "external",
                "groups",
                "create",
                "--connection",
                "contosohr",
                "--id",
                id,
            ],
            2,
        )
    };
    let err = create(&"a".repeat(129));
    assert!(
        err.contains("129 characters; at most 128") && !err.contains("R-X"),
        "{err}"
    );
    let err = create("");
    assert!(
        err.contains("external group id is empty") && !err.contains("R-X"),
        "{err}"
    );
    let err = create("tier.1");
    assert!(
        err.contains("`.` at position 5") && !err.contains("R-X"),
        "{err}"
    );
    let err = w.fails(
        &[
            "external",
            "members",
            "add",
            "--connection",
            "contosohr",
            "--group",
            "tier1",
            "--external",
            "bad id",
        ],
        2,
    );
    assert!(
        err.contains("a space at position 4") && !err.contains("R-X"),
        "{err}"
    );

    let add = |id: &str| {
        w.fails(
            &[
                "external",
                "connections",
                "add",
                "--instance",
                "contoso",
                "--id",
                id,
                "--name",
                "X",
            ],
            2,
        )
    };
    let err = add("SharePoint");
    assert!(
        err.contains("reserved name `SharePoint`") && err.contains("Graph connection id rule"),
        "{err}"
    );
    let err = add("ab");
    assert!(
        err.contains("2 characters; it must be 3 to 32")
            && err.contains("Graph connection id rule"),
        "{err}"
    );
    let err = w.fails(
        &["external", "groups", "list", "--connection", "microsoftHR"],
        2,
    );
    assert!(err.contains("starts with \"Microsoft\""), "{err}");

    // R-X4: an ACL file with an unknown entry type, or no JSON at all.
    let file = s.dir.path().join("bad.json");
    let set = |text: &str| {
        std::fs::write(&file, text).unwrap();
        w.fails(
            &[
                "external",
                "acl",
                "set",
                "--connection",
                "contosohr",
                "--item",
                "i1",
                "--file",
                file.to_str().unwrap(),
            ],
            2,
        )
    };
    let err = set(r#"[{"type": "robot", "value": "x", "accessType": "grant"}]"#);
    assert!(
        err.contains("ACL entry 1") && err.contains("`robot`") && !err.contains("R-X"),
        "{err}"
    );
    let err = set("{not json");
    assert!(err.contains("not valid JSON"), "{err}");

    assert_eq!(w.sandbox.served_all(), served, "no request was made");
    assert_eq!(w.sandbox.external_changes(), changes);
}

// issue 10, R-X4: an ACL entry of type user naming a synced user by UPN is
// sent to Graph as the user's object id, so that `acl show` and `access
// check` agree on it; a UPN no synced user has is refused with the reason,
// before any request.
#[test]
fn a_user_named_by_upn_in_an_acl_is_sent_as_the_object_id() {
    let w = world();
    w.contosohr();
    let (upn, id) = w.outsider(&[]);
    let set = |value: &str| {
        let acl = serde_json::json!({
            "acl": [{"type": "user", "value": value, "accessType": "grant"}],
            "properties": {"title": "Payroll"},
        });
        w.set_acl("payroll", &acl)
    };
    let out = set(&upn.to_uppercase());
    assert!(out.status.success(), "{}", stderr(&out));
    let item = &w.sandbox.external_connection("contosohr").unwrap().items["payroll"];
    assert_eq!(item.acl[0].value, id, "Graph gets the object id");

    let shown = w.show_acl("payroll");
    let label = shown["acl"][0]["label"].as_str().unwrap().to_owned();
    assert!(
        label.starts_with("user ") && !label.contains("not"),
        "{label}"
    );
    let answer = w.check("payroll", &upn);
    assert_eq!(answer["decision"], "grant", "{answer}");
    assert_eq!(answer["entry"], 1);

    let changes = w.sandbox.external_changes();
    let out = set("nobody@contoso.com");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("ACL entry 1 names user `nobody@contoso.com`")
            && err.contains("object id")
            && err.trim_end().lines().count() == 1,
        "{err}"
    );
    assert_eq!(w.sandbox.external_changes(), changes, "nothing was sent");
    let item = &w.sandbox.external_connection("contosohr").unwrap().items["payroll"];
    assert_eq!(item.acl[0].value, id, "the item is as it was");
}
