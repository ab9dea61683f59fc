//! The hostile-text corpus (`common::hostile`) through every surface of the command line,
//! the files it writes and the log (DESIGN §3 "Untrusted text", issue 10). The dashboard's
//! surfaces are in `tui_snapshots.rs` (its buffer) and `tui_e2e.rs` (a real terminal).
//!
//! The corpus enters two ways. Through the real path: the sandbox serves it as group and
//! user names and in the fields of activities, each vendor's connector reads it, the
//! service stores it; the database file must then hold none of it raw. And through the
//! store, raw: what a database written by a casbah from before an escape was known holds
//! (bidi and format characters were stored raw until issue 10), so every output must make
//! it safe on its own.

mod common;

use casbah::sandbox::{PushedActivity, Sandbox, Stream};
use casbah::service::{ConnectRequest, Intervals, Service};
use common::Scratch;
use common::hostile::{
    CONNECTION, Hostile, VICTIM, assert_csv_safe, assert_json_none_raw, assert_no_raw_payload,
    assert_none_raw, assert_shows_some, assert_table_aligned, corpus, through_the_store,
};

/// The corpus served by the sandbox and read by every connector: every group and user of
/// the organisation renamed (group descriptions too), which Microsoft 365 serves (the
/// other dialects derive their directories when the sandbox starts); and for each entry a
/// record of one of the activity streams of Microsoft 365, Okta, Google Workspace and
/// GitHub, in turn, whose actor, operation, object, address and country are the entry.
/// Connects each organisation (Microsoft 365 as `contoso`), imports a group of each and
/// scans. Returns the sandbox, still serving.
async fn through_the_connectors(scratch: &Scratch, corpus: &[Hostile]) -> Sandbox {
    let sandbox = common::still_sandbox(30, 0.0).await;
    {
        let org = sandbox.org();
        let (users, groups): (Vec<_>, Vec<_>) = (
            org.users.iter().map(|u| u.id).collect(),
            org.groups.iter().map(|g| g.id).collect(),
        );
        drop(org);
        for (id, h) in users.iter().zip(corpus.iter().cycle()) {
            sandbox.rename_user(*id, &h.text).expect("rename user");
        }
        for (id, h) in groups.iter().zip(corpus.iter().cycle()) {
            sandbox
                .rename_group(*id, &h.text, Some(&h.text))
                .expect("rename group");
        }
    }
    let streams = [
        Stream::SharePoint,
        Stream::SignIns,
        Stream::DirectoryAudits,
        Stream::OktaSystemLog(0),
        Stream::GoogleLogin,
        Stream::GoogleDrive,
        Stream::GitHubAudit,
    ];
    for (h, stream) in corpus.iter().zip(streams.into_iter().cycle()) {
        sandbox.push_activity(PushedActivity {
            object: Some(h.text.clone()),
            ip: h.text.clone(),
            country: Some(h.text.clone()),
            at: chrono::Utc::now() - chrono::TimeDelta::minutes(5),
            ..PushedActivity::new(stream, &h.text, &h.text)
        });
    }
    let svc = Service::with_store(scratch.store(), Intervals::default());
    for (instance, secret) in sandbox.organisations() {
        let request = ConnectRequest { instance, secret };
        let instance = svc.connect(request).await.expect("connect");
        let reference = instance.reference();
        let available = svc
            .available_groups(&reference, None)
            .await
            .expect("groups");
        if let Some(group) = available.first() {
            let (_, import) = svc
                .import_group(&reference, &group.group.id, false)
                .await
                .expect("import");
            import.wait().await.expect("the import");
        }
    }
    for job in svc.sync_now(None).await.expect("sync") {
        job.wait().await.expect("a scan");
    }
    svc.shutdown().await;
    sandbox
}

/// Runs `casbah ARGS` on the scratch database; stdout and stderr, which must both be safe.
fn run(scratch: &Scratch, args: &[&str]) -> String {
    let out = scratch.run(args);
    let what = format!("casbah {}", args.join(" "));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        common::stderr(&out)
    );
    assert_none_raw(&format!("{what} (stderr)"), &common::stderr(&out), true);
    String::from_utf8(out.stdout).unwrap_or_else(|e| panic!("{what}: not UTF-8 ({e})"))
}

/// A listing as a table (aligned under `header`) and, where `formats` says so, as JSON
/// and CSV; each must show at least one entry, escaped, to prove it was fed the corpus.
fn listing(scratch: &Scratch, args: &[&str], header: &str, formats: &[&str], corpus: &[Hostile]) {
    let what = format!("casbah {}", args.join(" "));
    let table = run(scratch, args);
    assert_none_raw(&what, &table, true);
    assert_table_aligned(&what, &table, header);
    assert_shows_some(&what, &table, corpus);
    for format in formats {
        let mut with = args.to_vec();
        with.push(format);
        let what = format!("{what} {format}");
        let out = run(scratch, &with);
        match *format {
            "--json" => assert_json_none_raw(&what, &out),
            "--csv" => {
                assert_csv_safe(&what, &out);
            }
            other => unreachable!("{other}"),
        }
        assert_shows_some(&what, &out, corpus);
    }
}

// DESIGN §3 Untrusted text, issue 10: every kind of hostile text, served by a vendor
// or found raw in an older database, reaches no command-line surface raw. Tables keep
// their columns (a zero-width or right-to-left character must not move them), JSON holds
// none even once decoded (a script prints the decoded string), CSV cells never start a
// formula (OWASP's rule), stderr is as clean as stdout, and the database file holds none
// of what came through the connectors raw.
#[test]
fn every_command_line_surface_escapes_hostile_text() {
    let corpus = corpus();
    let scratch = Scratch::new();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let sandbox = runtime.block_on(through_the_connectors(&scratch, &corpus));
    let file = std::fs::read(scratch.db()).expect("read the database");
    assert_no_raw_payload("the database after the connectors", &file);
    let stored = String::from_utf8_lossy(&file);
    assert_shows_some("the database after the connectors", &stored, &corpus);
    let activities = run(&scratch, &["activities", "--limit", "10000", "--json"]);
    let activities: Vec<serde_json::Value> =
        serde_json::from_str(&activities).expect("activities as JSON");
    assert_eq!(
        activities.len(),
        corpus.len(),
        "every record pushed was read"
    );

    // The picker's list comes from the vendor, never stored.
    listing(
        &scratch,
        &["groups", "available", "--instance", "contoso"],
        "NAME",
        &["--json"],
        &corpus,
    );
    let groups = through_the_store(&scratch.store(), &corpus);
    listing(
        &scratch,
        &["connectors", "list"],
        "NAME",
        &["--json"],
        &corpus,
    );
    listing(&scratch, &["groups", "list"], "NAME", &["--json"], &corpus);
    let first = groups[0].to_string();
    listing(&scratch, &["members", &first], "NAME", &["--json"], &corpus);
    listing(
        &scratch,
        &["person", VICTIM],
        "ACTIVITY",
        &["--json"],
        &corpus,
    );
    listing(
        &scratch,
        &["activities", "--limit", "10000"],
        "TIME",
        &["--json", "--csv"],
        &corpus,
    );
    listing(&scratch, &["queries", "list"], "NAME", &["--json"], &corpus);
    listing(
        &scratch,
        &["external", "connections", "list"],
        "INSTANCE",
        &["--json"],
        &corpus,
    );
    for args in [
        &["external", "groups", "list", "--connection", CONNECTION][..],
        &[
            "external",
            "groups",
            "list",
            "--connection",
            CONNECTION,
            "--json",
        ],
    ] {
        let out = run(&scratch, args);
        let what = format!("casbah {}", args.join(" "));
        assert_none_raw(&what, &out, true);
        assert_shows_some(&what, &out, &corpus);
    }

    // Text that bypasses the store on its way out: a failure quoting a vendor's name, in
    // the one line on stderr and in the log.
    let gone = groups
        .last()
        .expect("the group the vendor does not have")
        .to_string();
    let out = scratch.run(&["groups", "sync", &gone, "--wait"]);
    assert!(
        !out.status.success(),
        "the sync of a group the vendor lost fails"
    );
    assert_none_raw("groups sync (stderr)", &common::stderr(&out), true);
    assert_none_raw(
        "groups sync (stdout)",
        &String::from_utf8_lossy(&out.stdout),
        true,
    );
    let log = std::fs::read_to_string(scratch.db().with_file_name("casbah.log")).expect("the log");
    assert_none_raw("the log", &log, true);
    assert_shows_some("the log", &log, &corpus);
    drop(sandbox);
}
