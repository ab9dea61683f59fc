//! `cargo bench --bench serve` (issue 9): what attaching to `casbah serve` costs.
//!
//! 1. The added latency of a query through the socket compared with the database opened
//!    in this process: the members of a 1,000-member group, and the newest 100 of
//!    1,000,000 activities (`CASBAH_BENCH_ACTIVITIES` for a smaller database).
//! 2. The memory of that server, idle, over that database.
//! 3. Events delivered to 10 attached clients while 1,000 activities a second are
//!    ingested: how far behind the server's own subscriber each client is, and the ingest
//!    rate with and without the clients.

use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use casbah::domain::{
    Activity, AppKind, Component, InstanceId, RemoteGroup, RemoteUser, Secret, SkipCounts,
    UserStatus, UserType,
};
use casbah::service::{Event, Intervals, Remote, Server, Service};
use casbah::store::{IngestContext, IngestPipeline, KeyStore, NewInstance, Store};

const USERS: usize = 20_000;
const GROUP: usize = 1_000;
const PAGE: usize = 1_000;
const RUNS: usize = 300;
const CLIENTS: usize = 10;
const RATE: usize = 1_000;
const SECONDS: usize = 15;

fn user(u: usize) -> RemoteUser {
    RemoteUser {
        id: format!("u-{u}"),
        display_name: format!("User {u}"),
        email: format!("user{u}@corp.example"),
        status: UserStatus::Active,
        user_type: UserType::Member,
        principal_name: None,
        admin: false,
        org_unit: None,
        on_premises_sync: false,
    }
}

/// A sign-in by one of the users, one a second over the last `total` seconds.
fn sign_in(instance: InstanceId, n: usize, total: usize) -> Activity {
    let now = casbah::domain::now_micros();
    let u = n * 7919 % USERS;
    Activity {
        id: format!("evt-{n:09}"),
        app: AppKind::Microsoft365,
        instance,
        time: now - (total - n) as i64 * 1_000_000,
        actor: format!("user{u}@corp.example"),
        actor_name: format!("User {u}"),
        activity_type: "UserLoggedIn".into(),
        action_type: "sign-in".into(),
        objects: Vec::new(),
        admin: false,
        impersonated: false,
        succeeded: !n.is_multiple_of(31),
        ip: Some(format!("10.{}.{}.{}", n % 200, n / 200 % 250, n % 250)),
        address_text: None,
        country: Some(["US", "DE", "FR", "GB", "IN"][n % 5].into()),
        isp: None,
        device_type: None,
        user_agent: None,
        source: "Entra ID".into(),
        groups: Vec::new(),
        office_app: None,
    }
}

/// The database the first two measures use: one instance whose scans fail at once
/// (nothing listens at its endpoint), 20,000 users, a group of 1,000, `total` activities.
fn build(path: &Path, total: usize) -> casbah::domain::GroupId {
    let store = Store::open_with_keys(path, KeyStore::File(path.with_file_name("secrets.key")))
        .expect("create");
    let instance = store
        .add_instance(
            NewInstance {
                app: AppKind::Microsoft365,
                name: "contoso".into(),
                fields: [("tenant-id", "t"), ("client-id", "c")]
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .into(),
                endpoint: Some("http://127.0.0.1:9".into()),
                components: Component::default_set(),
            },
            &Secret::new("bench"),
            0,
        )
        .expect("instance");
    let users: Vec<RemoteUser> = (0..USERS).map(user).collect();
    store.upsert_users(instance.id, &users).expect("users");
    let group = store
        .create_imported_group(
            instance.id,
            &RemoteGroup {
                id: "grp-1000".into(),
                display_name: "Bench 1000".into(),
                description: None,
                email: None,
                microsoft365: false,
            },
            false,
            0,
        )
        .expect("group");
    store
        .sync_membership(group.id, &users[..GROUP], SkipCounts::default(), 0)
        .expect("members");
    let store = Arc::new(store);
    let mut pipeline = IngestPipeline::new(Arc::clone(&store));
    let ctx = IngestContext {
        org_domains: vec!["corp.example".into()],
        ..IngestContext::default()
    };
    for start in (0..total).step_by(PAGE) {
        let page: Vec<Activity> = (start..(start + PAGE).min(total))
            .map(|n| sign_in(instance.id, n, total))
            .collect();
        let prepared = store
            .prepare(instance.id, "signIns", page, &start.to_string(), &ctx)
            .expect("prepare");
        pipeline.push(prepared).expect("commit");
    }
    pipeline.finish().expect("commit");
    group.id
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Medians of the two queries, each run `RUNS` times, alternated.
async fn queries(svc: &Service, group: casbah::domain::GroupId) -> (Duration, Duration) {
    let (mut members, mut newest) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let t = Instant::now();
        let m = svc.members(group).await.expect("members");
        members.push(t.elapsed());
        assert_eq!(m.len(), GROUP);
        let t = Instant::now();
        let page = svc.activities("", 100, None).await.expect("activities");
        newest.push(t.elapsed());
        assert_eq!(page.items.len(), 100);
    }
    (median(members), median(newest))
}

fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The events of `rx` with the time each arrived, until `end` arrives.
async fn arrivals(
    mut rx: tokio::sync::broadcast::Receiver<Event>,
    stop: Arc<tokio::sync::Notify>,
) -> Vec<(Event, Instant)> {
    let mut seen = Vec::new();
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                Ok(e) => seen.push((e, Instant::now())),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    panic!("a client lagged by {n} events");
                }
                Err(_) => return seen,
            },
            _ = stop.notified() => return seen,
        }
    }
}

/// Pushes `RATE` activities a second into the sandbox for `SECONDS` and syncs after each
/// second's worth, as a busy tenant would be scanned; the ingest rate it reached.
async fn ingest(sandbox: &casbah::sandbox::Sandbox, svc: &Service, offset: usize) -> f64 {
    let before = svc.activity_count().await.expect("count");
    let start = Instant::now();
    for s in 0..SECONDS {
        for i in 0..RATE {
            sandbox.push_activity(casbah::sandbox::PushedActivity::new(
                casbah::sandbox::Stream::SignIns,
                &format!("user{}@contoso.example", (offset + s * RATE + i) % 200),
                "UserLoggedIn",
            ));
        }
        for job in svc.sync_now(Some("contoso")).await.expect("sync") {
            job.wait().await.expect("scan");
        }
        let due = start + Duration::from_secs(s as u64 + 1);
        tokio::time::sleep_until(due.into()).await;
    }
    let after = svc.activity_count().await.expect("count");
    (after - before) as f64 / start.elapsed().as_secs_f64()
}

async fn fan_out() {
    let sandbox = casbah::sandbox::Sandbox::start(casbah::sandbox::SandboxConfig {
        users: 200,
        live_rate: 0.0,
        history_per_user_per_day: 0.0,
        ..casbah::sandbox::SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("fan.redb");
    let store =
        Store::open_with_keys(&db, KeyStore::File(dir.path().join("secrets.key"))).expect("store");
    let svc = Service::with_store(store, Intervals::default());
    svc.connect(casbah::service::ConnectRequest {
        instance: sandbox.microsoft365_instance("contoso", Component::default_set()),
        secret: sandbox.client_secret.clone(),
    })
    .await
    .expect("connect");
    for job in svc.sync_now(None).await.expect("sync") {
        job.wait().await.expect("first scan");
    }
    let socket = dir.path().join("fan.sock");
    let server = Server::start(&svc, &db, &socket, None)
        .await
        .expect("serve");
    let alone = ingest(&sandbox, &svc, 0).await;

    let stop = Arc::new(tokio::sync::Notify::new());
    let reference = tokio::spawn(arrivals(svc.subscribe(), Arc::clone(&stop)));
    let mut clients = Vec::new();
    let mut remotes = Vec::new();
    for _ in 0..CLIENTS {
        let remote = Remote::attach(&socket)
            .await
            .expect("attach")
            .expect("a server");
        clients.push(tokio::spawn(arrivals(
            remote.subscribe(),
            Arc::clone(&stop),
        )));
        remotes.push(remote);
    }
    let watched = ingest(&sandbox, &svc, SECONDS * RATE).await;
    // Let the last events reach every client before the count.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.notify_waiters();
    let reference = reference.await.expect("reference");
    let mut behind = Vec::new();
    let mut delivered = 0;
    for client in clients {
        let seen = client.await.expect("client");
        assert_eq!(
            seen.len(),
            reference.len(),
            "every event reached the client"
        );
        for ((a, at), (b, bt)) in reference.iter().zip(&seen) {
            assert_eq!(a, b, "in the same order");
            behind.push(bt.saturating_duration_since(*at));
        }
        delivered += seen.len();
    }
    behind.sort();
    println!(
        "events to {CLIENTS} clients while {RATE} activities a second are ingested: {delivered} delivered, behind the server's own subscriber: median {:.2} ms, worst {:.1} ms (target: none more than 1 s)",
        ms(behind[behind.len() / 2]),
        ms(*behind.last().expect("events"))
    );
    println!(
        "ingest rate: {alone:.0} /s with no client attached, {watched:.0} /s with {CLIENTS} (pushed {RATE} /s)"
    );
    drop(remotes);
    server.stop().await;
}

fn main() {
    let total: usize = std::env::var("CASBAH_BENCH_ACTIVITIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("serve.redb");
    let built = Instant::now();
    let group = build(&db, total);
    println!(
        "built a database of {total} activities in {:.1} s",
        built.elapsed().as_secs_f64()
    );
    // SAFETY: set before any other thread (the runtime's included) is started.
    unsafe { std::env::set_var("CASBAH_KEY_FILE", db.with_file_name("secrets.key")) };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let embedded = Service::open(&db, Intervals::default())
            .await
            .expect("open");
        let (members_here, newest_here) = queries(&embedded, group).await;
        drop(embedded);

        let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_casbah"))
            .arg("--db")
            .arg(&db)
            .arg("serve")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("casbah serve");
        let mut first = String::new();
        std::io::BufReader::new(server.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("its first line");
        assert!(first.starts_with("casbah serving"), "{first}");
        // Idle: its first scans (which fail at once: nothing listens at the endpoint) are
        // over, and nobody has attached yet.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let pid = server.id();
        let (fresh_rss, fresh_peak) = (status_kb(pid, "VmRSS:"), status_kb(pid, "VmHWM:"));
        let socket = casbah::service::default_socket(&db);
        let remote = Remote::attach(&socket).await.expect("attach").expect("a server");
        let attached = Service::attached(remote);
        let (members_there, newest_there) = queries(&attached, group).await;
        println!(
            "members of a {GROUP}-member group: {:.3} ms embedded, {:.3} ms attached (+{:.3} ms; target ≤ 1 ms)",
            ms(members_here),
            ms(members_there),
            ms(members_there.saturating_sub(members_here))
        );
        println!(
            "newest 100 of {total} activities: {:.3} ms embedded, {:.3} ms attached (+{:.3} ms; target ≤ 1 ms)",
            ms(newest_here),
            ms(newest_there),
            ms(newest_there.saturating_sub(newest_here))
        );
        drop(attached);
        // Idle again, its page cache now holding what the queries read.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let mb = |kb: u64| kb as f64 / 1024.0;
        println!(
            "idle server over {total} activities: {:.1} MB resident after its start ({:.1} MB peak, the integrity check of the file), {:.1} MB after serving the queries above (target ≤ 100 MB)",
            mb(fresh_rss),
            mb(fresh_peak),
            mb(status_kb(pid, "VmRSS:"))
        );
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let _ = server.wait();

        fan_out().await;
    });
}
