//! Shared helpers for the integration tests: the built `casbah` binary, a served
//! sandbox, a service connected to an in-process one, and reading a connector
//! to the end.
#![allow(dead_code)]

pub mod hostile;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_casbah");

/// A `casbah sandbox serve` child process, killed on drop.
pub struct ServedSandbox {
    child: Child,
    pub url: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    /// The `connectors add` commands it prints for every app it serves, and the
    /// `settings set` ones for its GeoIP databases, with the note above each
    /// (`# …`) where it has one.
    pub commands: Vec<(Option<String>, String)>,
}

impl ServedSandbox {
    pub fn start(extra: &[&str]) -> ServedSandbox {
        // Quiet unless the test asks for live activity.
        let rate: &[&str] = if extra.contains(&"--rate") {
            &[]
        } else {
            &["--rate", "0"]
        };
        let mut child = Command::new(BIN)
            .args([
                "sandbox",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--users",
                "300",
            ])
            .args(rate)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start casbah sandbox serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut next = || {
            lines
                .next()
                .expect("a line from the sandbox")
                .expect("utf-8 line")
        };
        let first = next();
        let url = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line was {first:?}"))
            .to_owned();
        let mut value = |label: &str| {
            let line = next();
            line.strip_prefix(label)
                .unwrap_or_else(|| panic!("expected {label:?}, got {line:?}"))
                .trim()
                .to_owned()
        };
        let tenant_id = value("tenant id:");
        let client_id = value("client id:");
        let client_secret = value("client secret:");
        let mut commands = Vec::new();
        let mut note = None;
        loop {
            let line = next();
            match line.trim() {
                "serving; Ctrl-C stops it" => break,
                l if l.starts_with("# ") => note = Some(l[2..].to_owned()),
                l if l.contains("casbah connectors add") || l.contains("casbah settings set") => {
                    commands.push((note.take(), l.to_owned()))
                }
                _ => {}
            }
        }
        ServedSandbox {
            child,
            url,
            tenant_id,
            client_id,
            client_secret,
            commands,
        }
    }
}

impl Drop for ServedSandbox {
    /// SIGTERM, as a person's Ctrl-C would: the sandbox removes its key files on the way
    /// out. SIGKILL only if it does not go within a few seconds.
    fn drop(&mut self) {
        stop_child(&mut self.child);
    }
}

/// `Store::open` for in-process tests: the key that seals secrets in a file beside the
/// database, so that no test touches the keyring or config folder of the machine.
pub fn open_store(path: &std::path::Path) -> casbah::store::Result<casbah::store::Store> {
    casbah::store::Store::open_with_keys(
        path,
        casbah::store::KeyStore::File(path.with_file_name("secrets.key")),
    )
}

/// A scratch folder with a database path in it.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("data").join("casbah.redb")
    }

    /// The key that seals the database's secrets, outside its data folder as in real
    /// use, so that no test touches the keyring or config folder of the machine.
    pub fn key_file(&self) -> PathBuf {
        self.dir.path().join("keys").join("secrets.key")
    }

    /// `casbah --db DB ARGS…` with the scratch key file and no CASBAH_DB or CASBAH_SECRET
    /// from the machine running the tests.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--db")
            .arg(self.db())
            .args(args)
            .env_remove("CASBAH_DB")
            .env_remove("CASBAH_SECRET")
            .env("CASBAH_KEY_FILE", self.key_file());
        cmd
    }

    /// The store in-process tests open, with the scratch key file.
    pub fn store(&self) -> casbah::store::Store {
        casbah::store::Store::open_with_keys(
            &self.db(),
            casbah::store::KeyStore::File(self.key_file()),
        )
        .expect("open the store")
    }

    /// `casbah --db DB ARGS…` with stdin from `input` (see `command`).
    pub fn run_with_input(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run casbah");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("casbah output")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_input(args, "")
    }

    /// Runs and insists on success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_with_input(args, "")
    }

    /// `ok` with `input` on stdin.
    pub fn ok_with_input(&self, args: &[&str], input: &str) -> String {
        let out = self.run_with_input(args, input);
        assert!(
            out.status.success(),
            "casbah {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let stdout = self.ok(args);
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("casbah {args:?}: not JSON ({e}): {stdout}"))
    }

    /// Connects the sandbox as instance `contoso`, the secret piped on stdin.
    /// Points the database at the sandbox's GeoIP databases, as `sandbox serve` prints.
    pub fn use_geoip(&self, sandbox: &ServedSandbox) {
        for (_, command) in sandbox
            .commands
            .iter()
            .filter(|(_, c)| c.contains("settings set geoip"))
        {
            let args: Vec<&str> = command.split_whitespace().skip(1).collect();
            self.ok(&args);
        }
    }

    pub fn connect(&self, sandbox: &ServedSandbox) {
        let out = self.connect_with_secret(sandbox, &sandbox.client_secret);
        assert!(
            out.status.success(),
            "connect failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn connect_with_secret(&self, sandbox: &ServedSandbox, secret: &str) -> Output {
        self.connect_with(sandbox, &[], secret)
    }

    /// Connects the sandbox tenant as `contoso` with `extra` flags and `input` on stdin.
    pub fn connect_with(&self, sandbox: &ServedSandbox, extra: &[&str], input: &str) -> Output {
        let tenant = (
            sandbox.url.as_str(),
            sandbox.tenant_id.as_str(),
            sandbox.client_id.as_str(),
        );
        self.connect_tenant(tenant, extra, input)
    }

    /// Connects the Microsoft 365 tenant (endpoint, tenant id, client id) as `contoso`.
    pub fn connect_tenant(
        &self,
        tenant: (&str, &str, &str),
        extra: &[&str],
        input: &str,
    ) -> Output {
        let (url, tenant_id, client_id) = tenant;
        let mut args = vec![
            "connectors",
            "add",
            "microsoft365",
            "--name",
            "contoso",
            "--tenant-id",
            tenant_id,
            "--client-id",
            client_id,
            "--endpoint",
            url,
        ];
        args.extend_from_slice(extra);
        self.run_with_input(&args, input)
    }

    /// Connects an in-process sandbox's tenant as `contoso`, and insists on success.
    pub fn connect_in_process(&self, sandbox: &casbah::sandbox::Sandbox) {
        let url = sandbox.base_url();
        let tenant = (
            url.as_str(),
            sandbox.tenant_id.as_str(),
            sandbox.client_id.as_str(),
        );
        let out = self.connect_tenant(tenant, &[], sandbox.client_secret.expose());
        assert!(out.status.success(), "connect: {}", stderr(&out));
    }
}

/// A quiet sandbox of `users` (no live or past activity) served from this process, for
/// the built binary to reach, with the runtime that serves it: keep both alive.
pub fn sandbox_in_process(users: usize) -> (casbah::sandbox::Sandbox, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let sandbox = rt
        .block_on(casbah::sandbox::Sandbox::start(
            casbah::sandbox::SandboxConfig {
                users,
                live_rate: 0.0,
                history_per_user_per_day: 0.0,
                ..casbah::sandbox::SandboxConfig::default()
            },
        ))
        .expect("sandbox starts");
    (sandbox, rt)
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A quiet sandbox tenant (no live or past activity) connected as
/// `contoso` to a service over a fresh store in the returned folder.
pub async fn connected_service(
    users: usize,
) -> (
    casbah::sandbox::Sandbox,
    casbah::service::Service,
    tempfile::TempDir,
) {
    use casbah::domain::Component;
    use casbah::service::{ConnectRequest, Intervals, Service};
    let sandbox = casbah::sandbox::Sandbox::start(casbah::sandbox::SandboxConfig {
        users,
        live_rate: 0.0,
        history_per_user_per_day: 0.0,
        ..casbah::sandbox::SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_store(&dir.path().join("casbah.redb")).expect("store");
    let svc = Service::with_store(store, Intervals::default());
    svc.connect(ConnectRequest {
        instance: sandbox.microsoft365_instance("contoso", Component::default_set()),
        secret: sandbox.client_secret.clone(),
    })
    .await
    .expect("connect");
    (sandbox, svc, dir)
}

/// A sandbox with past activity (the default amount) but no live stream.
pub async fn quiet_sandbox(users: usize) -> casbah::sandbox::Sandbox {
    let history = casbah::sandbox::SandboxConfig::default().history_per_user_per_day;
    still_sandbox(users, history).await
}

/// A sandbox with `per_day` past activities per user and day over the last
/// week in its busiest streams, and no live stream, so reads are stable.
pub async fn still_sandbox(users: usize, per_day: f64) -> casbah::sandbox::Sandbox {
    casbah::sandbox::Sandbox::start(casbah::sandbox::SandboxConfig {
        users,
        live_rate: 0.0,
        history_per_user_per_day: per_day,
        ..casbah::sandbox::SandboxConfig::default()
    })
    .await
    .expect("sandbox starts")
}

/// Small waits so a connector's retries cost milliseconds, not seconds.
pub fn fast_retries() -> casbah::connectors::http::RetryPolicy {
    use std::time::Duration;
    casbah::connectors::http::RetryPolicy {
        max_attempts: 4,
        backoff_base: Duration::from_millis(5),
        max_wait: Duration::from_secs(5),
        max_total_wait: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(10),
        ..casbah::connectors::http::RetryPolicy::default()
    }
}

/// An activity `ago` before now.
pub fn pushed(
    stream: casbah::sandbox::Stream,
    actor: &str,
    operation: &str,
    ago: chrono::TimeDelta,
) -> casbah::sandbox::PushedActivity {
    casbah::sandbox::PushedActivity {
        at: chrono::Utc::now() - ago,
        ..casbah::sandbox::PushedActivity::new(stream, actor, operation)
    }
}

/// Reads an activity stream from `cursor` until it is caught up: the
/// activities, the last cursor, and how many calls it took.
pub async fn read_stream(
    connector: &dyn casbah::connectors::Connector,
    stream: &str,
    mut cursor: Option<String>,
) -> (Vec<casbah::domain::Activity>, String, usize) {
    let mut all = Vec::new();
    let mut calls = 0;
    loop {
        let batch = connector
            .activities(stream, cursor.as_deref())
            .await
            .expect("batch");
        calls += 1;
        all.extend(batch.activities);
        cursor = Some(batch.cursor);
        if !batch.more {
            break;
        }
        assert!(calls < 5_000, "the stream never caught up");
    }
    (all, cursor.unwrap_or_default(), calls)
}

/// Sends a request and reads its JSON answer.
pub async fn json_of(request: reqwest::RequestBuilder) -> serde_json::Value {
    request
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("a JSON answer")
}

/// Every user, page after page, each once: the users and how many pages.
/// Issue 13: what a timeline of `query` must count in each of `buckets` buckets of
/// `width` from `from`, counted from the records themselves.
pub fn expected_counts(
    everything: &[casbah::domain::Activity],
    query: &casbah::domain::filter::Query,
    (from, width, buckets): (i64, i64, usize),
) -> Vec<u64> {
    let mut expected = vec![0u64; buckets];
    for a in everything.iter().filter(|a| query.matches(a)) {
        if a.time >= from && a.time < from + width * buckets as i64 {
            expected[((a.time - from) / width) as usize] += 1;
        }
    }
    expected
}

/// R-C1, issue 11: the account actions a connector carries out are the account
/// governance its catalog entry lists, no more and no fewer.
pub fn assert_catalog_agrees(c: &dyn casbah::connectors::Connector) {
    assert_eq!(
        c.account_actions(),
        casbah::domain::governance::offered(c.app()),
        "{:?}",
        c.app()
    );
}

/// Issue 11: the status of the account `id` as the next user scan reads it.
pub async fn scanned_status(
    c: &dyn casbah::connectors::Connector,
    id: &str,
) -> casbah::domain::UserStatus {
    let (users, _) = all_users(c).await;
    users
        .into_iter()
        .find(|u| u.id == id)
        .map(|u| u.status)
        .expect("listed")
}

/// Issue 11: the grants of `accounts`, from a connector that lists them.
pub async fn all_grants(
    c: &dyn casbah::connectors::Connector,
    accounts: &[casbah::domain::RemoteUser],
) -> Vec<casbah::domain::grants::Grant> {
    c.grants(accounts)
        .await
        .expect("grants")
        .expect("the app lists grants")
}

/// Issue 11: a grant of `grants` that `also` accepts, whose account holds another
/// (so that revoking it can be seen to leave the other).
pub fn grant_beside_another(
    grants: &[casbah::domain::grants::Grant],
    also: impl Fn(&casbah::domain::grants::Grant) -> bool,
) -> casbah::domain::grants::Grant {
    let held = |g: &casbah::domain::grants::Grant| {
        grants
            .iter()
            .filter(|o| o.account_id == g.account_id)
            .count()
    };
    grants
        .iter()
        .find(|g| also(g) && held(g) > 1)
        .expect("an account with two grants")
        .clone()
}

pub async fn all_users(
    c: &dyn casbah::connectors::Connector,
) -> (Vec<casbah::domain::RemoteUser>, usize) {
    let mut next: Option<String> = None;
    let mut users = Vec::new();
    let mut ids = std::collections::HashSet::new();
    let mut pages = 0;
    loop {
        let page = c.users(next.as_deref()).await.expect("page");
        pages += 1;
        for u in page.items {
            assert!(ids.insert(u.id.clone()), "user {} twice", u.id);
            users.push(u);
        }
        match page.next {
            Some(n) => next = Some(n),
            None => break,
        }
    }
    (users, pages)
}

/// The ids of activities at least a minute inside the last week: reads made
/// a moment apart see the week's edge at slightly different times.
pub fn ids_inside_the_week(
    activities: &[casbah::domain::Activity],
) -> std::collections::BTreeSet<String> {
    let edge = (chrono::Utc::now() - chrono::TimeDelta::days(7) + chrono::TimeDelta::minutes(1))
        .timestamp_micros();
    activities
        .iter()
        .filter(|a| a.time >= edge)
        .map(|a| a.id.clone())
        .collect()
}

/// DESIGN Durability: a sweep of `stream` cut short after two pages resumes
/// from its cursor in another connector (another process, as far as the
/// cursor knows), and misses nothing a straight read sees. `connector(n)`
/// makes a connector asking for pages of `n`.
pub async fn assert_a_sweep_resumes<C: casbah::connectors::Connector>(
    connector: impl Fn(u32) -> C,
    stream: &str,
) {
    let a = connector(40);
    let b1 = a.activities(stream, None).await.unwrap();
    let b2 = a.activities(stream, Some(&b1.cursor)).await.unwrap();
    assert!(b1.more && b2.more);
    drop(a);
    let (rest, _, _) = read_stream(&connector(40), stream, Some(b2.cursor)).await;
    let (straight, _, _) = read_stream(&connector(1000), stream, None).await;
    let resumed: std::collections::BTreeSet<String> = [b1.activities, b2.activities, rest]
        .iter()
        .flat_map(|v| ids_inside_the_week(v))
        .collect();
    assert!(!resumed.is_empty());
    assert_eq!(resumed, ids_inside_the_week(&straight));
}

/// redb's page size.
pub const REDB_PAGE: usize = 4096;

/// Overwrites, in place, every page of the database at `path` (past its header) that
/// holds `needle`, as a bad sector or a stray write would; returns how many.
pub fn damage_pages_holding(path: &std::path::Path, needle: &str) -> usize {
    use std::os::unix::fs::FileExt;
    let bytes = std::fs::read(path).expect("read the database");
    let pages: std::collections::HashSet<usize> = bytes
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle.as_bytes())
        .map(|(at, _)| at / REDB_PAGE)
        .filter(|page| *page > 1)
        .collect();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open the database");
    for page in &pages {
        let offset = (page * REDB_PAGE) as u64;
        file.write_all_at(&[0xA5; REDB_PAGE], offset)
            .expect("damage a page");
    }
    file.sync_all().expect("sync");
    pages.len()
}

/// A `casbah serve` child over a scratch database (issue 9): ready once it printed its
/// first line, stopped with SIGTERM on drop (SIGKILL if it does not go in 5 s).
pub struct Served {
    pub child: Child,
    pub socket: PathBuf,
}

impl Scratch {
    /// The socket a server of this database listens at by default.
    pub fn socket(&self) -> PathBuf {
        self.db().with_extension("sock")
    }

    /// Starts `casbah serve` with `extra` flags and `env`, and waits until it serves.
    pub fn serve_with(&self, extra: &[&str], env: &[(&str, &str)]) -> Served {
        let mut cmd = self.command(&["serve"]);
        cmd.args(extra)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start casbah serve");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("a line from casbah serve");
        assert!(
            first.starts_with("casbah serving "),
            "casbah serve said {first:?}"
        );
        Served {
            child,
            socket: self.socket(),
        }
    }

    pub fn serve(&self) -> Served {
        self.serve_with(&[], &[])
    }
}

impl Served {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (`-TERM`, `-KILL`) and waits up to `within` for the exit.
    pub fn signal_and_wait(
        &mut self,
        signal: &str,
        within: std::time::Duration,
    ) -> Option<std::process::ExitStatus> {
        signal_and_wait(&mut self.child, signal, within)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        stop_child(&mut self.child);
    }
}

/// SIGTERM, then SIGKILL if the child has not gone within 5 s.
pub fn stop_child(child: &mut Child) {
    if signal_and_wait(child, "-TERM", std::time::Duration::from_secs(5)).is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Sends `signal` to `child` and waits up to `within` for it to exit.
pub fn signal_and_wait(
    child: &mut Child,
    signal: &str,
    within: std::time::Duration,
) -> Option<std::process::ExitStatus> {
    let _ = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .stderr(Stdio::null())
        .status();
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        // A child's exit across processes has no event to wait on here but the clock.
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    None
}

/// Polls `check` until it gives a value, for at most `within`.
pub fn poll<T>(what: &str, within: std::time::Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "gave up waiting for {what} after {within:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
