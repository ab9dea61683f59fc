//! Issue 8 speed: each vendor's connector against its sandbox dialect with 20,000
//! users, measured as an administrator waits for it — the service's own scan jobs,
//! HTTP on loopback and the redb file included:
//! - the user scan: accounts read per second, and the pages it took;
//! - the import picker's first 50 groups;
//! - the first syncs of five imported groups: members per second;
//! - the first activity scan, a week's backfill: activities ingested per second
//!   (target ≥ 50,000/s against the sandbox without faults).
//!
//! Every figure is the median of `RUNS` fresh databases over one sandbox.
//! Run with `cargo bench --bench vendors`; `CASBAH_BENCH_USERS`,
//! `CASBAH_BENCH_HISTORY` (activities per user and day in the busiest streams)
//! and `CASBAH_BENCH_RUNS` change the size; `CASBAH_BENCH_ONLY=okta` measures the
//! instances whose app or name holds that text.

use std::time::{Duration, Instant};

use casbah::sandbox::{Sandbox, SandboxConfig, SandboxConnection};
use casbah::service::{ConnectRequest, Intervals, Service};
use casbah::store::{KeyStore, ScanKind, Store};

fn env(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One run's figures for one connection.
#[derive(Debug, Clone, Copy, Default)]
struct Figures {
    users: f64,
    user_scan: Duration,
    user_pages: f64,
    picker: Duration,
    members: f64,
    member_syncs: Duration,
    activities: f64,
    activity_scan: Duration,
    activity_pages: f64,
}

fn requests(sb: &Sandbox) -> f64 {
    sb.served_all().values().sum::<u64>() as f64
}

async fn run_once(sb: &Sandbox, c: &SandboxConnection) -> Figures {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_with_keys(
        &dir.path().join("bench.redb"),
        KeyStore::File(dir.path().join("secrets.key")),
    )
    .expect("store");
    let svc = Service::with_store(store, Intervals::default());
    let instance = svc
        .connect(ConnectRequest {
            instance: c.instance.clone(),
            secret: c.secret.clone().expect("a secret"),
        })
        .await
        .expect("connect");
    let reference = instance.reference();
    let scan = |kind| {
        let (svc, reference) = (svc.clone(), reference.clone());
        async move {
            let before = requests(sb);
            let started = Instant::now();
            for job in svc.scan_now(&reference, kind).await.expect("scan") {
                job.wait().await.expect("the scan succeeds");
            }
            (started.elapsed(), requests(sb) - before)
        }
    };
    let (user_scan, user_pages) = scan(ScanKind::Users).await;
    let users = svc.instances().await.expect("instances")[0].users as f64;

    let started = Instant::now();
    let first = svc
        .available_groups(&reference, None)
        .await
        .expect("groups");
    let picker = started.elapsed();
    for group in first.iter().take(5) {
        svc.import_group(&reference, &group.group.id, false)
            .await
            .expect("import");
    }
    // The imports' first syncs started with them; time a full sync of the same groups.
    for job in svc
        .scan_now(&reference, ScanKind::Groups)
        .await
        .expect("syncs")
    {
        job.wait().await.expect("first sync");
    }
    let (member_syncs, _) = scan(ScanKind::Groups).await;
    let members = svc
        .groups()
        .await
        .expect("groups")
        .iter()
        .map(|g| f64::from(g.member_count))
        .sum();

    let (activity_scan, activity_pages) = scan(ScanKind::Activities).await;
    let activities = svc.activity_count().await.expect("count") as f64;
    svc.shutdown().await;
    Figures {
        users,
        user_scan,
        user_pages,
        picker,
        members,
        member_syncs,
        activities,
        activity_scan,
        activity_pages,
    }
}

fn median<T: Copy + PartialOrd>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    v[v.len() / 2]
}

fn main() {
    let users = env("CASBAH_BENCH_USERS", 20_000.0) as usize;
    let history = env("CASBAH_BENCH_HISTORY", 1.0);
    let runs = env("CASBAH_BENCH_RUNS", 3.0).max(1.0) as usize;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sb = rt
        .block_on(Sandbox::start(SandboxConfig {
            users,
            live_rate: 0.0,
            history_per_user_per_day: history,
            ..SandboxConfig::default()
        }))
        .expect("sandbox");
    println!(
        "{users} users, {history} activities per user and day in the busiest streams, medians of {runs} runs"
    );
    println!(
        "{:<26} {:>7} {:>9} {:>10} {:>6} {:>9} {:>9} {:>11} {:>9} {:>11} {:>6}",
        "instance",
        "users",
        "scan",
        "users/s",
        "pages",
        "first 50",
        "members",
        "members/s",
        "activities",
        "activities/s",
        "pages"
    );
    for c in sb.connections() {
        // Each organisation once, and one that has activities to read.
        let name = format!("{} {}", c.instance.app.slug(), c.instance.name);
        let only = std::env::var("CASBAH_BENCH_ONLY").unwrap_or_default();
        if c.alternative || c.secret.is_none() || c.note.is_some() || !name.contains(&only) {
            continue;
        }
        let all: Vec<Figures> = (0..runs).map(|_| rt.block_on(run_once(&sb, &c))).collect();
        let pick = |f: &dyn Fn(&Figures) -> f64| median(all.iter().map(f).collect());
        let secs = |d: Duration| d.as_secs_f64();
        println!(
            "{:<26} {:>7.0} {:>8.2}s {:>10.0} {:>6.0} {:>7.1}ms {:>9.0} {:>11.0} {:>9.0} {:>11.0} {:>6.0}",
            name,
            pick(&|f| f.users),
            pick(&|f| secs(f.user_scan)),
            pick(&|f| f.users / secs(f.user_scan)),
            pick(&|f| f.user_pages),
            pick(&|f| secs(f.picker) * 1000.0),
            pick(&|f| f.members),
            pick(&|f| f.members / secs(f.member_syncs)),
            pick(&|f| f.activities),
            pick(&|f| f.activities / secs(f.activity_scan)),
            pick(&|f| f.activity_pages),
        );
    }
}
