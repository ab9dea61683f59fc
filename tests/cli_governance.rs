//! Issue 11 from the command line: `casbah act` shows its plan, sends nothing without
//! a confirmation, a reason, or in read-only mode, and `casbah audit` lists the trail.

mod common;

use common::{Scratch, sandbox_in_process, stderr};

fn one_line(text: &str) -> bool {
    text.trim().lines().count() == 1
}

// Issue 11: --dry-run, a missing --yes off a terminal, a missing --reason and
// --read-only each send nothing and write nothing; with both, the action is sent
// once, reported, and listed by `casbah audit`.
#[test]
fn act_confirms_names_its_reason_and_leaves_a_trail() {
    let (sb, _rt) = sandbox_in_process(30);
    let s = Scratch::new();
    s.connect_in_process(&sb);
    s.ok(&["sync", "--instance", "contoso", "--wait"]);
    let users: Vec<(uuid::Uuid, String)> = sb
        .org()
        .users
        .iter()
        .filter(|u| u.account_enabled && !u.guest && u.deleted.is_none())
        .take(2)
        .map(|u| (u.id, u.mail.to_lowercase()))
        .collect();
    let first = users[0].1.as_str();
    let act = |extra: &[&str]| {
        let mut args = vec!["act", "sign-out", "--instance", "contoso", first];
        args.extend_from_slice(extra);
        s.run(&args)
    };

    let dry = act(&["--dry-run"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    let plan = String::from_utf8_lossy(&dry.stdout);
    assert!(plan.contains(first), "{plan}");
    assert!(plan.contains("sign-out cannot be undone"), "{plan}");
    assert!(plan.contains("nothing was sent"), "{plan}");
    let json = s.json(&[
        "act",
        "suspend",
        "--instance",
        "contoso",
        first,
        "--dry-run",
        "--json",
    ]);
    assert_eq!(json["targets"][0]["key"], first);
    assert_eq!(json["targets"][0]["account_id"], users[0].0.to_string());

    let unconfirmed = act(&["--reason", "phished"]);
    assert_eq!(unconfirmed.status.code(), Some(2));
    assert!(
        stderr(&unconfirmed).contains("--yes"),
        "{}",
        stderr(&unconfirmed)
    );
    let unreasoned = act(&["--yes"]);
    assert_eq!(unreasoned.status.code(), Some(2));
    assert!(stderr(&unreasoned).contains("--reason"));
    let read_only = s.run(&[
        "--read-only",
        "act",
        "sign-out",
        "--instance",
        "contoso",
        first,
        "--yes",
        "--reason",
        "x",
    ]);
    assert_eq!(read_only.status.code(), Some(2));
    assert!(one_line(&stderr(&read_only)), "{}", stderr(&read_only));
    assert!(stderr(&read_only).contains("read-only"));
    let unknown = s.run(&[
        "act",
        "sign-out",
        "--instance",
        "contoso",
        "ghost@nowhere.test",
        "--yes",
        "--reason",
        "x",
    ]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(one_line(&stderr(&unknown)), "{}", stderr(&unknown));
    for (id, _) in &users {
        assert_eq!(sb.graph_acted(*id, "revoke-sessions"), 0, "nothing sent");
    }
    assert_eq!(s.json(&["audit", "--json"]), serde_json::json!([]));

    // Two accounts, the second from stdin.
    let out = s.run_with_input(
        &[
            "act",
            "sign-out",
            "--instance",
            "contoso",
            first,
            "--from",
            "-",
            "--yes",
            "--reason",
            "token theft",
        ],
        &format!("# from the incident ticket\n{}\n\n", users[1].1),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("2 done, 0 failed"), "{report}");
    for (id, _) in &users {
        assert_eq!(sb.graph_acted(*id, "revoke-sessions"), 1, "sent once");
    }
    let trail = s.json(&["audit", "--json"]);
    let trail = trail.as_array().expect("a list");
    assert_eq!(trail.len(), 2);
    // Several requests are out at once, so the trail is in the order they left.
    let entry = trail
        .iter()
        .find(|e| e["target"] == first)
        .expect("the first account's entry");
    assert_eq!(entry["action"], "sign-out");
    assert_eq!(entry["reason"], "token theft");
    assert_eq!(entry["result"], "done");
    assert_eq!(entry["outcome"]["done"]["status"], 200);
    assert!(entry["by"].as_str().is_some_and(|b| !b.is_empty()));
    let table = s.ok(&["audit"]);
    assert!(
        table.contains("token theft") && table.contains("sign-out"),
        "{table}"
    );
}

// Issue 11: `casbah apps` lists what was granted, riskiest first, and shows who
// granted an app what; `act revoke-grant --app` revokes one person's grant, or
// refuses without --app.
#[test]
fn apps_are_listed_shown_and_a_grant_revoked() {
    let (sb, _rt) = sandbox_in_process(40);
    let s = Scratch::new();
    s.connect_in_process(&sb);
    s.ok(&["sync", "--instance", "contoso", "--wait"]);
    let apps = s.json(&["apps", "list", "--json"]);
    let apps = apps.as_array().expect("a list");
    assert!(apps.len() >= 5, "{apps:?}");
    assert_eq!(apps[0]["risky"].as_array().map(Vec::len), Some(2));
    let table = s.ok(&["apps", "list"]);
    assert!(
        table.contains("MailSync Pro") && table.contains("all users"),
        "{table}"
    );
    let shown = s.json(&[
        "apps",
        "show",
        "--instance",
        "contoso",
        "MailSync Pro",
        "--json",
    ]);
    let user = shown["grants"][0]["user"]
        .as_str()
        .expect("a user")
        .to_owned();
    let grant = shown["grants"][0]["id"].as_str().expect("an id").to_owned();

    let no_app = s.run(&[
        "act",
        "revoke-grant",
        "--instance",
        "contoso",
        &user,
        "--yes",
        "--reason",
        "x",
    ]);
    assert_eq!(no_app.status.code(), Some(2));
    assert!(stderr(&no_app).contains("--app"), "{}", stderr(&no_app));
    let wrong = s.run(&[
        "act",
        "suspend",
        "--instance",
        "contoso",
        "--app",
        "Slack",
        &user,
        "--yes",
        "--reason",
        "x",
    ]);
    assert_eq!(wrong.status.code(), Some(2));

    let out = s.run(&[
        "act",
        "revoke-grant",
        "--instance",
        "contoso",
        "--app",
        "MailSync Pro",
        &user,
        "--yes",
        "--reason",
        "unverified publisher",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 done, 0 failed"));
    assert_eq!(sb.graph_revoked(&grant), 1);
    let trail = s.json(&["audit", "--json"]);
    assert_eq!(trail[0]["action"], "revoke-grant");
    assert_eq!(trail[0]["account_id"], grant);
}
