//! `casbah serve` through the built binary (issue 9): an always-on collector that
//! commands attach to, and that stops, dies and refuses the way an administrator
//! running it under systemd expects.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use common::{Scratch, poll, stderr};

/// A quiet sandbox in this process (no live or past activity) connected as `contoso`
/// through the command line, so that the test decides what there is to collect.
async fn connected() -> (casbah::sandbox::Sandbox, Scratch) {
    let sandbox = common::still_sandbox(40, 0.0).await;
    let scratch = Scratch::new();
    scratch.connect_in_process(&sandbox);
    (sandbox, scratch)
}

fn log_of(scratch: &Scratch) -> String {
    std::fs::read_to_string(scratch.db().with_file_name("casbah.log")).unwrap_or_default()
}

// issue 9, R-C4: with no client attached, the server keeps scanning on its schedule;
// an activity that arrives at the vendor is stored within two scan intervals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_keeps_collecting_with_no_client_attached() {
    let (sandbox, scratch) = connected().await;
    scratch.ok(&["settings", "set", "scan.activities", "10"]);
    let mut served = scratch.serve();
    // The first scans run at once; what arrives after them is the next scan's.
    let first_scan = "scan activities";
    poll("the first activity scan", Duration::from_secs(30), || {
        log_of(&scratch).contains(first_scan).then_some(())
    });
    let seen = log_of(&scratch).len();
    sandbox.push_activity(common::pushed(
        casbah::sandbox::Stream::SharePoint,
        "serve.probe@contoso.example",
        "FileDownloaded",
        chrono::TimeDelta::zero(),
    ));
    let pushed = Instant::now();
    poll("a scan that stores it", Duration::from_secs(40), || {
        let log = log_of(&scratch);
        log[seen..]
            .lines()
            .any(|l| l.contains("new activities") && !l.contains(" 0 new activities"))
            .then_some(())
    });
    let took = pushed.elapsed();
    assert!(
        took < Duration::from_secs(2 * 10 + 10),
        "stored after {took:?}"
    );
    let status = served.signal_and_wait("-TERM", Duration::from_secs(5));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    // Embedded again: the record is in the database.
    let found = scratch.json(&[
        "activities",
        "--json",
        "--filter",
        "user:serve.probe@contoso.example",
    ]);
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
}

fn outcome(out: &std::process::Output) -> (Option<i32>, String) {
    (out.status.code(), stderr(out))
}

// issue 9: attached, a command works through the server (no "in use"), and a request
// the server cannot serve gets the same one line and exit code as embedded.
#[test]
fn attached_commands_answer_as_embedded_ones_do() {
    let scratch = Scratch::new();
    let status = scratch.ok(&["status"]);
    assert!(status.starts_with("embedded: no casbah serve"), "{status}");
    let db_line = format!("database {}", scratch.db().display());
    assert!(status.lines().any(|l| l == db_line), "{status}");
    // R-A1: without GeoIP databases, country and ISP are what vendors send, and it says so.
    assert!(
        status.contains("country and ISP limited to what vendors send"),
        "{status}"
    );
    let asks: [&[&str]; 4] = [
        &["activities", "--filter", "country!="],
        &["groups", "import", "--instance", "nosuch", "g1"],
        &["members", "Nobody's group"],
        &["settings", "set", "scan.activities", "3"],
    ];
    let embedded: Vec<_> = asks.iter().map(|a| outcome(&scratch.run(a))).collect();
    let served = scratch.serve();
    let attached: Vec<_> = asks.iter().map(|a| outcome(&scratch.run(a))).collect();
    assert_eq!(attached, embedded);
    assert!(embedded.iter().all(|(code, _)| *code != Some(0)));
    let status = scratch.json(&["status", "--json"]);
    assert_eq!(status["mode"], "attached");
    assert_eq!(status["server"]["pid"], served.pid());
    assert_eq!(status["server"]["version"], env!("CARGO_PKG_VERSION"));
    // A change made through the server names the person who made it.
    scratch.ok(&["queries", "save", "mine", "country:DE"]);
    let user = nix_user();
    poll("the audit line", Duration::from_secs(5), || {
        log_of(&scratch)
            .lines()
            .any(|l| l.contains("call=\"save_query\"") && l.contains(&format!("user={user}")))
            .then_some(())
    });
    let queries = scratch.json(&["queries", "list", "--json"]);
    assert!(
        queries
            .as_array()
            .is_some_and(|q| q.iter().any(|q| q["name"] == "mine")),
        "{queries}"
    );
}

fn nix_user() -> String {
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .expect("id");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

// issue 9, DESIGN Durability: SIGTERM while scans run stops the server within 5 s, the
// socket goes, and the database opens and passes its check afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_server_within_five_seconds() {
    let (_sandbox, scratch) = connected().await;
    let mut served = scratch.serve();
    let out = scratch.ok(&["sync"]);
    assert!(out.contains("started on the casbah server"), "{out}");
    let asked = Instant::now();
    let status = served
        .signal_and_wait("-TERM", Duration::from_secs(5))
        .expect("the server stopped within 5 s");
    assert!(status.success(), "{status:?} after {:?}", asked.elapsed());
    assert!(!served.socket.exists(), "the socket was removed");
    let check = scratch.ok(&["db", "check"]);
    assert!(check.contains("passed redb's integrity check"), "{check}");
    assert_eq!(
        scratch.json(&["connectors", "list", "--json"])[0]["name"],
        "contoso"
    );
}

// issue 9: a second server on the database is refused at once, naming the first's pid;
// after a kill -9 the socket left behind is detected as stale and replaced, and
// commands meanwhile open the database themselves.
#[test]
fn a_second_server_is_refused_and_a_stale_socket_replaced() {
    let scratch = Scratch::new();
    let mut first = scratch.serve();
    let started = Instant::now();
    let second = scratch.run(&["serve"]);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(second.status.code(), Some(1));
    assert!(
        stderr(&second).contains(&format!("already running for {}", scratch.db().display()))
            && stderr(&second).contains(&format!("(pid {})", first.pid())),
        "{}",
        stderr(&second)
    );
    first
        .signal_and_wait("-KILL", Duration::from_secs(5))
        .expect("killed");
    assert!(scratch.socket().exists(), "kill -9 leaves the socket file");
    let status = scratch.ok(&["status"]);
    assert!(status.starts_with("embedded"), "{status}");
    let third = scratch.serve();
    let status = scratch.json(&["status", "--json"]);
    assert_eq!(status["server"]["pid"], third.pid());
}

// issue 9: a client speaking another version is told both versions, before any frame.
#[test]
fn a_client_of_another_version_is_refused() {
    let scratch = Scratch::new();
    let _served = scratch.serve();
    let mut stream = UnixStream::connect(scratch.socket()).expect("connect");
    stream.write_all(b"casbah 1 0.0.1-old\n").expect("write");
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).expect("read");
    assert_eq!(
        line.trim_end(),
        format!(
            "no casbah server is version {}, this client is 0.0.1-old; use the same version",
            env!("CARGO_PKG_VERSION")
        )
    );
}

fn is_root() -> bool {
    nix_user() == "root"
}

/// `casbah --db DB ARGS…` as the user `nobody`.
fn as_nobody(scratch: &Scratch, args: &[&str]) -> std::process::Output {
    std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(common::BIN)
        .arg("--db")
        .arg(scratch.db())
        .args(args)
        .env_remove("CASBAH_DB")
        .env_remove("CASBAH_SECRET")
        .output()
        .expect("setpriv")
}

// issue 9: another OS user cannot attach (the socket is 0600 in a private folder) and
// is told whose it is; with --group, that group's members attach (socket 0660 in 0750).
#[test]
fn another_user_is_refused_unless_in_the_servers_group() {
    if !is_root() {
        eprintln!("skipped: running a client as nobody needs root");
        return;
    }
    let scratch = Scratch::new();
    // nobody may pass through the scratch folder, as through a home folder.
    std::fs::set_permissions(scratch.dir.path(), std::fs::Permissions::from_mode(0o711))
        .expect("chmod");
    {
        let _served = scratch.serve();
        let out = as_nobody(&scratch, &["status"]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert_eq!(
            stderr(&out).trim_end(),
            format!(
                "casbah: the casbah server's socket {} belongs to root; run casbah as root",
                scratch.socket().display()
            )
        );
        let mode = std::fs::metadata(scratch.socket())
            .expect("socket")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let group = "nogroup";
    let _served = scratch.serve_with(&["--group", group], &[]);
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&scratch.socket()), 0o660);
    assert_eq!(mode(scratch.db().parent().expect("folder")), 0o750);
    let out = as_nobody(&scratch, &["status", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(status["mode"], "attached");
}

// issue 9: a panic in a request handler is answered as an internal error, logged, and
// the server goes on serving. (CASBAH_DEBUG_PANIC is read by debug builds only.)
#[test]
fn a_panicking_request_leaves_the_server_serving() {
    let scratch = Scratch::new();
    let mut served = scratch.serve_with(&[], &[("CASBAH_DEBUG_PANIC", "request:saved_queries")]);
    let out = scratch.run(&["queries", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim_end(),
        "casbah: internal error in the casbah server (saved_queries); see its log file"
    );
    let status = scratch.json(&["status", "--json"]);
    assert_eq!(status["mode"], "attached");
    assert!(log_of(&scratch).contains("a request handler panicked"));
    let end = served
        .signal_and_wait("-TERM", Duration::from_secs(5))
        .expect("stops");
    assert_eq!(end.signal(), None);
    assert!(end.success());
}

/// How many clients the server says are attached, the asking one included.
fn clients(scratch: &Scratch) -> u64 {
    scratch.json(&["status", "--json"])["server"]["clients"]
        .as_u64()
        .expect("clients")
}

// issue 9: clients that vanish (an SSH drop: kill -9 while waiting on the server, a
// connection cut in the middle of a frame) cost the server nothing: it lets them go and
// goes on serving everyone else.
#[test]
fn clients_that_vanish_mid_request_cost_the_server_nothing() {
    let sandbox = common::ServedSandbox::start(&["--faults", "latency=200ms"]);
    let scratch = Scratch::new();
    scratch.connect(&sandbox);
    let served = scratch.serve();
    assert_eq!(clients(&scratch), 1);

    // A command killed while it waits on the server's events for its sync.
    let mut waiting = scratch
        .command(&["sync", "--instance", "contoso", "--wait"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn sync --wait");
    poll(
        "the waiting command to attach",
        Duration::from_secs(20),
        || (clients(&scratch) == 2).then_some(()),
    );
    waiting.kill().expect("kill -9");
    waiting.wait().expect("reap");

    // A connection that sends half a frame after the handshake, then drops.
    let mut cut = UnixStream::connect(scratch.socket()).expect("connect");
    cut.write_all(format!("casbah 1 {}\n", env!("CARGO_PKG_VERSION")).as_bytes())
        .expect("handshake");
    let mut line = String::new();
    BufReader::new(&cut).read_line(&mut line).expect("answer");
    assert_eq!(line.trim_end(), "ok");
    cut.write_all(&[0, 0, 4, 0, 0x82, 0xa1])
        .expect("half a frame");
    drop(cut);

    poll(
        "the vanished clients to be let go",
        Duration::from_secs(20),
        || (clients(&scratch) == 1).then_some(()),
    );
    // Everyone else is still served, by the same server.
    scratch.ok(&["groups", "list"]);
    let status = scratch.json(&["status", "--json"]);
    assert_eq!(status["server"]["pid"], served.pid());
    assert!(
        !log_of(&scratch).contains("panicked"),
        "{}",
        log_of(&scratch)
    );
}

// Issue 11: an action through the server is recorded as the attached client's user;
// a server started with --read-only refuses every action of every client, whatever
// the client was started with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_through_a_server_name_their_user_and_its_read_only_binds() {
    let (sandbox, scratch) = connected().await;
    scratch.ok(&["sync", "--instance", "contoso", "--wait"]);
    let member = sandbox
        .org()
        .users
        .iter()
        .find(|u| u.account_enabled && !u.guest && u.deleted.is_none())
        .map(|u| u.mail.to_lowercase())
        .expect("a member");
    let act = [
        "act",
        "sign-out",
        "--instance",
        "contoso",
        member.as_str(),
        "--yes",
        "--reason",
        "through the server",
    ];
    let mut served = scratch.serve_with(&["--read-only"], &[]);
    let (code, line) = outcome(&scratch.run(&act));
    assert_eq!(code, Some(2), "{line}");
    assert!(line.contains("read-only"), "{line}");
    served
        .signal_and_wait("-TERM", Duration::from_secs(5))
        .expect("stopped");

    let _served = scratch.serve();
    let (code, line) = outcome(&scratch.run(&act));
    assert_eq!(code, Some(0), "{line}");
    let trail = scratch.json(&["audit", "--json"]);
    let trail = trail.as_array().expect("a list");
    assert_eq!(trail.len(), 1, "the refused one left no entry: {trail:?}");
    assert_eq!(trail[0]["by"], nix_user());
    assert_eq!(trail[0]["reason"], "through the server");
    assert_eq!(trail[0]["result"], "done");
}
