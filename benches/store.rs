//! Store benchmark: ingest rate, the dashboard's filtered first page, and a cold open.
//!
//! `cargo bench --bench store`; `CASBAH_BENCH_ACTIVITIES=100000` for a quick run;
//! `CASBAH_BENCH_KEEP=PATH` keeps the database it builds.
//! `CASBAH_BENCH_SPAN_DAYS` spreads them over that many days (90 unless set).
//! Targets: ingest ≥150,000 activities/s (pages of 1,000, indexes included);
//! group + country + last 7 days, first 100 ≤10 ms; open + newest 100 ≤20 ms in ≤150 MB;
//! the timeline of a filter over 30 days ≤50 ms cold, ≤10 ms when the filter changes.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use casbah::domain::filter::{self, Hints, NoNames, Query};
use casbah::domain::{
    Activity, ActivityObject, AppKind, Component, GroupId, InstanceId, ObjectKind, RemoteGroup,
    RemoteUser, Secret, SkipCounts, UserStatus, UserType,
};
use casbah::store::{ActivityLog, IngestContext, IngestPipeline, KeyStore, NewInstance, Store};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const USERS: usize = 20_000;
const GROUPS: usize = 500;
const GROUPS_PER_USER: usize = 3;
const PAGE: usize = 1_000;
/// Pages generated before each timed stretch of ingestion.
const WINDOW: usize = 50;
const QUERY_RUNS: usize = 200;
const OPEN_RUNS: usize = 5;
const TIMELINE_RUNS: usize = 5;
const DAY: i64 = 86_400_000_000;
/// A fixed "now" so that every run generates the same database.
const NOW: i64 = 1_790_000_000_000_000;
/// Days the activities are spread over, before `NOW`.
fn span_days() -> i64 {
    std::env::var("CASBAH_BENCH_SPAN_DAYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(90)
}

/// The timeline's span and its buckets, as the dashboard asks for them.
const TIMELINE_DAYS: i64 = 30;
const TIMELINE_BUCKETS: usize = 120;

/// Weighted so that some countries are common and most are rare, as in real logs.
const COUNTRIES: [(&str, u32); 12] = [
    ("US", 40),
    ("GB", 12),
    ("FR", 10),
    ("DE", 10),
    ("IN", 8),
    ("CA", 5),
    ("BR", 4),
    ("JP", 4),
    ("NL", 3),
    ("ES", 2),
    ("SG", 1),
    ("NG", 1),
];
const TYPES: [(&str, &str); 6] = [
    ("Sign in", "sign-in"),
    ("Download file", "download"),
    ("Upload file", "upload"),
    ("Share file", "share"),
    ("Change password", "password-change"),
    ("Add member to group", "group-change"),
];

/// The key that seals the bench instances' secrets, beside the bench database.
fn bench_keys(db: &Path) -> KeyStore {
    KeyStore::File(db.with_file_name("secrets.key"))
}

fn email(u: usize) -> String {
    // One user in twenty is a guest from outside: they join External (R-G1).
    if u % 20 == 19 {
        format!("guest{u}@partner.example")
    } else {
        format!("user{u}@corp.example")
    }
}

fn remote_user(u: usize) -> RemoteUser {
    RemoteUser {
        id: format!("u-{u}"),
        display_name: format!("User {u}"),
        email: email(u),
        status: UserStatus::Active,
        user_type: UserType::Member,
        principal_name: None,
        admin: false,
        org_unit: None,
        on_premises_sync: false,
    }
}

fn country(rng: &mut ChaCha8Rng) -> &'static str {
    let total: u32 = COUNTRIES.iter().map(|c| c.1).sum();
    let mut pick = rng.random_range(0..total);
    for (c, w) in COUNTRIES {
        if pick < w {
            return c;
        }
        pick -= w;
    }
    "US"
}

fn activity(
    rng: &mut ChaCha8Rng,
    n: usize,
    total: usize,
    days: i64,
    instances: &[(InstanceId, AppKind)],
) -> Activity {
    let start = NOW - days * DAY;
    let step = days * DAY / total as i64;
    // A page is one instance's, as a scan reads it (records naming another are refused).
    let (instance, app) = instances[n / PAGE % instances.len()];
    let u = rng.random_range(0..USERS);
    let (activity_type, action_type) = TYPES[rng.random_range(0..TYPES.len())];
    Activity {
        id: format!("evt-{n:09}"),
        app,
        instance,
        time: start + n as i64 * step + rng.random_range(0..step.max(1)),
        actor: email(u),
        actor_name: format!("User {u}"),
        activity_type: activity_type.to_string(),
        action_type: action_type.to_string(),
        objects: vec![ActivityObject {
            kind: ObjectKind::File,
            id: format!("file-{}", rng.random_range(0..100_000u32)),
            name: format!("Report {}.xlsx", rng.random_range(0..1_000u32)),
        }],
        admin: rng.random_bool(0.02),
        impersonated: false,
        succeeded: rng.random_bool(0.97),
        ip: Some(format!(
            "{}.{}.{}.{}",
            rng.random_range(1..224u8),
            rng.random::<u8>(),
            rng.random::<u8>(),
            rng.random::<u8>()
        )),
        address_text: None,
        country: Some(country(rng).to_string()),
        isp: Some("Example Telecom".to_string()),
        device_type: Some("Desktop".to_string()),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64)".to_string()),
        source: "Office 365".to_string(),
        groups: Vec::new(),
        office_app: None,
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Bytes this process has caused to be written to storage, from /proc/self/io.
fn written_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("write_bytes:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// CPU seconds (user + system) this process has used, from /proc/self/stat: on a shared
/// machine it says what the work costs when the wall clock says how busy the machine was.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
            Some(ticks as f64 / 100.0)
        })
        .unwrap_or(0.0)
}

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Child mode: open the database cold and read the newest page, then report.
fn open_child(path: &Path) {
    let started = Instant::now();
    let store = Store::open_with_keys(path, bench_keys(path)).expect("open the bench database");
    let page = store
        .query_activities(&Query::all(), 100, None)
        .expect("newest page");
    let elapsed = started.elapsed();
    assert_eq!(page.items.len(), 100);
    println!("open-us={} hwm-kb={}", elapsed.as_micros(), vm_hwm_kb());
}

/// Child mode: write one page and die without closing, leaving a file that needs a repair.
/// The filters a timeline is measured for: one per index, and one that must test records.
fn timeline_filters(groups: &[GroupId]) -> Vec<(&'static str, Query)> {
    let hinted = |hints: Hints| Query::with_hints(hints);
    let parsed = |text: &str| {
        filter::parse(text)
            .and_then(|f| f.bind(&NoNames, NOW))
            .expect("a filter")
    };
    vec![
        ("everything", Query::all()),
        (
            "one app",
            hinted(Hints {
                apps: Some(vec![AppKind::Okta]),
                ..Hints::default()
            }),
        ),
        (
            "one country",
            hinted(Hints {
                countries: Some(vec!["FR".to_string()]),
                ..Hints::default()
            }),
        ),
        (
            "one group",
            hinted(Hints {
                groups: Some(vec![groups[groups.len() / 2]]),
                ..Hints::default()
            }),
        ),
        (
            "one person",
            hinted(Hints {
                actors: Some(vec![email(4_242)]),
                ..Hints::default()
            }),
        ),
        ("a type", parsed("type:\"Download file\"")),
        (
            "a type in one app",
            parsed("type:\"Download file\" app:okta"),
        ),
    ]
}

/// One timeline, as the service asks for it: the last 30 days in clock-aligned buckets
/// (6 hours for 120 columns).
fn timeline(store: &Store, query: &Query) -> (Duration, u64) {
    let width = casbah::service::bucket_width(TIMELINE_DAYS * DAY, TIMELINE_BUCKETS);
    let start = (NOW - TIMELINE_DAYS * DAY).div_euclid(width) * width;
    let buckets = ((NOW - start + width - 1) / width) as usize;
    let started = Instant::now();
    let h = ActivityLog::histogram(store, query, start, width, buckets).expect("histogram");
    (started.elapsed(), h.total())
}

/// Opens the database as the commands that only read do, and counts the first timeline
/// of a group, in a fresh process (the dashboard attached to `casbah serve` opens nothing).
fn timeline_child(path: &Path) {
    let started = Instant::now();
    let store = Store::open_read_only(path).expect("open the bench database");
    let group = store.groups().expect("groups")[GROUPS / 2].id;
    let (_, total) = timeline(
        &store,
        &Query::with_hints(Hints {
            groups: Some(vec![group]),
            ..Hints::default()
        }),
    );
    println!(
        "timeline-us={} total={total}",
        started.elapsed().as_micros()
    );
}

fn crash_child(path: &Path) {
    let store = Store::open_with_keys(path, bench_keys(path)).expect("open the bench database");
    let instance = store.instances().expect("instances")[0].id;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let instances = [(instance, AppKind::Microsoft365)];
    let batch = (0..PAGE)
        .map(|i| {
            let mut a = activity(&mut rng, i, PAGE, span_days(), &instances);
            a.id = format!("crash-{i}");
            a
        })
        .collect();
    store
        .ingest(instance, "crash", batch, "crash", &IngestContext::default())
        .expect("ingest");
    std::process::abort();
}

/// Runs this binary in a child mode and returns what it printed.
fn child(mode: &str, path: &Path) -> String {
    let exe = std::env::current_exe().expect("bench binary");
    let out = Command::new(exe)
        .arg(mode)
        .arg(path)
        .output()
        .expect("child");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn field(text: &str, name: &str) -> u64 {
    text.split_whitespace()
        .find_map(|w| w.strip_prefix(name))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("the child said {text:?}"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    for (mode, run) in [
        ("--open-child", open_child as fn(&Path)),
        ("--crash-child", crash_child),
        ("--timeline-child", timeline_child),
    ] {
        if let Some(i) = args.iter().position(|a| a == mode) {
            run(Path::new(&args[i + 1]));
            return;
        }
    }
    let total: usize = std::env::var("CASBAH_BENCH_ACTIVITIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    // CASBAH_BENCH_KEEP=PATH keeps the database for other measurements (the dashboard's memory).
    let path = std::env::var_os("CASBAH_BENCH_KEEP")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("bench.redb"));
    assert!(
        !path.exists(),
        "{} exists already; remove it first",
        path.display()
    );
    let mut rng = ChaCha8Rng::seed_from_u64(0xCA5BA4);
    let days = span_days();

    let store = Store::open_with_keys(&path, bench_keys(&path)).expect("create");
    let mut instances = Vec::new();
    for (app, name) in [
        (AppKind::Microsoft365, "Contoso"),
        (AppKind::Okta, "Okta"),
        (AppKind::Box, "Box"),
        (AppKind::Github, "GitHub"),
    ] {
        let new = NewInstance {
            app,
            name: name.to_string(),
            fields: [("tenant-id", "tenant"), ("client-id", "client")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
            endpoint: None,
            components: vec![Component::UsersAndGroups],
        };
        let inst = store
            .add_instance(new, &Secret::new("bench"), 0)
            .expect("instance");
        instances.push((inst.id, app));
    }
    let users: Vec<RemoteUser> = (0..USERS).map(remote_user).collect();
    store.upsert_users(instances[0].0, &users).expect("users");
    let mut members: Vec<Vec<RemoteUser>> = vec![Vec::new(); GROUPS];
    for (u, user) in users.iter().enumerate() {
        for k in 0..GROUPS_PER_USER {
            // Spread so that each user is in a few distinct groups.
            let g = (u * 7 + k * 167 + rng.random_range(0..50)) % GROUPS;
            if !members[g].iter().any(|m| m.id == user.id) {
                members[g].push(user.clone());
            }
        }
    }
    let mut groups = Vec::new();
    for (g, list) in members.iter().enumerate() {
        let remote = RemoteGroup {
            id: format!("grp-{g}"),
            display_name: format!("Group {g}"),
            description: None,
            email: None,
            microsoft365: false,
        };
        let group = store
            .create_imported_group(instances[0].0, &remote, false, 0)
            .expect("group");
        store
            .sync_membership(group.id, list, SkipCounts::default(), 0)
            .expect("sync");
        groups.push(group.id);
    }

    let ctx = IngestContext {
        org_domains: vec!["corp.example".to_string()],
        ..IngestContext::default()
    };
    // The service's pipeline (`IngestPipeline`): each page is prepared while the one before
    // it commits. Pages are generated ahead, a window at a time and off the clock, so that
    // generating them neither counts nor hides commit time; the pipeline is drained at the
    // end of each window, which costs one unoverlapped preparation per window.
    let store = Arc::new(store);
    let mut pipeline = IngestPipeline::new(Arc::clone(&store));
    let written_before = written_bytes();
    let mut cpu_in_ingest = 0.0;
    let mut ingest_time = Duration::ZERO;
    let mut page_rates = Vec::new();
    let mut n = 0;
    while n < total {
        let mut window = Vec::with_capacity(WINDOW);
        while window.len() < WINDOW && n < total {
            let size = PAGE.min(total - n);
            let batch: Vec<Activity> = (n..n + size)
                .map(|i| activity(&mut rng, i, total, days, &instances))
                .collect();
            window.push((batch, format!("page-{n}")));
            n += size;
        }
        let started = Instant::now();
        let cpu_before = cpu_seconds();
        let mut reports = Vec::with_capacity(window.len());
        for (batch, cursor) in window {
            let page_started = Instant::now();
            let instance = batch[0].instance;
            let page = store
                .prepare(instance, "bench", batch, &cursor, &ctx)
                .expect("prepare");
            reports.extend(pipeline.push(page).expect("ingest"));
            page_rates.push(page_started.elapsed());
        }
        reports.extend(pipeline.finish().expect("ingest"));
        ingest_time += started.elapsed();
        cpu_in_ingest += cpu_seconds() - cpu_before;
        for c in reports {
            assert_eq!(c.report.duplicates, 0);
        }
    }
    assert_eq!(store.activity_count().expect("count"), total as u64);
    drop(pipeline);
    let store = Arc::into_inner(store).expect("no commit in flight");
    let rate = total as f64 / ingest_time.as_secs_f64();
    let cpu_rate = total as f64 / cpu_in_ingest.max(1e-9);
    let written_per_activity = written_bytes().saturating_sub(written_before) / total as u64;
    let median_page = median(page_rates);

    let mut query_times = Vec::new();
    let mut returned = 0;
    for run in 0..QUERY_RUNS {
        let group: GroupId = groups[run * 37 % groups.len()];
        let query = Query::with_hints(Hints {
            groups: Some(vec![group]),
            countries: Some(vec!["US".to_string()]),
            after: Some(NOW - 7 * DAY),
            ..Hints::default()
        });
        let started = Instant::now();
        let page = store.query_activities(&query, 100, None).expect("query");
        query_times.push(started.elapsed());
        returned += page.items.len();
    }
    let query_median = median(query_times);

    // Not targets, but screens a person waits for (R-G8).
    let mut members_times = Vec::new();
    let mut person_times = Vec::new();
    for run in 0..20 {
        let started = Instant::now();
        let members = store
            .members(groups[run * 13 % groups.len()])
            .expect("members");
        members_times.push(started.elapsed());
        assert!(!members.is_empty());
        let started = Instant::now();
        store
            .person(&email(run * 997 % USERS), NOW)
            .expect("person");
        person_times.push(started.elapsed());
    }
    let members_median = median(members_times);
    let person_median = median(person_times);

    // Timelines, each filter after a different one, as when an investigator edits it.
    let filters = timeline_filters(&groups);
    let mut timeline_times = vec![Vec::new(); filters.len()];
    let mut timeline_totals = vec![0; filters.len()];
    for _ in 0..TIMELINE_RUNS {
        for (i, (_, query)) in filters.iter().enumerate() {
            let (took, total) = timeline(&store, query);
            timeline_times[i].push(took);
            timeline_totals[i] = total;
        }
    }
    drop(store);

    let mut open_times = Vec::new();
    let mut hwm_kb = 0;
    for _ in 0..OPEN_RUNS {
        let text = child("--open-child", &path);
        open_times.push(Duration::from_micros(field(&text, "open-us=")));
        hwm_kb = hwm_kb.max(field(&text, "hwm-kb="));
    }
    let open_median = median(open_times);
    let file_mb = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    child("--crash-child", &path);
    let crashed = child("--open-child", &path);
    let crash_open = Duration::from_micros(field(&crashed, "open-us="));
    let crash_hwm_kb = field(&crashed, "hwm-kb=");
    let timeline_cold = median(
        (0..OPEN_RUNS)
            .map(|_| {
                Duration::from_micros(field(&child("--timeline-child", &path), "timeline-us="))
            })
            .collect(),
    );

    println!();
    println!(
        "casbah store benchmark: {total} activities, {USERS} users, {GROUPS} imported groups, file {file_mb:.0} MB"
    );
    println!("{:<52} {:>14} {:>12}", "measure", "median", "target");
    println!(
        "{:<52} {:>10.0} /s {:>12}",
        "ingest, pages of 1,000 (overall rate)", rate, "≥150000 /s"
    );
    println!(
        "{:<52} {:>10.0} /s {:>12}",
        "ingest, per CPU second (user + system)", cpu_rate, ""
    );
    println!(
        "{:<52} {:>11} B  {:>12}",
        "ingest, bytes written per activity", written_per_activity, ""
    );
    println!(
        "{:<52} {:>11.2} ms {:>12}",
        "ingest, one page of 1,000 (prepare + wait to commit)",
        ms(median_page),
        ""
    );
    println!(
        "{:<52} {:>11.2} ms {:>12}",
        format!(
            "group+country+7 days, first 100 (avg {} rows)",
            returned / QUERY_RUNS
        ),
        ms(query_median),
        "≤10 ms"
    );
    println!(
        "{:<52} {:>11.2} ms {:>12}",
        "members of a group, with last activity",
        ms(members_median),
        ""
    );
    println!(
        "{:<52} {:>11.2} ms {:>12}",
        "person across apps (counts, 30 days)",
        ms(person_median),
        ""
    );
    println!(
        "{:<52} {:>11.2} ms {:>12}",
        "timeline of a group, 30 days (fresh process, read-only)",
        ms(timeline_cold),
        "≤50 ms"
    );
    for (((name, _), times), total) in filters.iter().zip(timeline_times).zip(timeline_totals) {
        println!(
            "{:<52} {:>11.2} ms {:>12}",
            format!("timeline, 30 days: {name} ({total})"),
            ms(median(times)),
            "≤10 ms"
        );
    }
    println!(
        "{:<52} {:>11.2} ms {:>12}",
        "open + newest 100 (fresh process)",
        ms(open_median),
        "≤20 ms"
    );
    println!(
        "{:<52} {:>11.1} MB {:>12}",
        "peak memory of open + newest 100 (VmHWM)",
        hwm_kb as f64 / 1024.0,
        "≤150 MB"
    );
    println!(
        "{:<52} {:>11.2} ms {:>12}",
        "open after a crash (repair) + newest 100",
        ms(crash_open),
        ""
    );
    println!(
        "{:<52} {:>11.1} MB {:>12}",
        "peak memory of that",
        crash_hwm_kb as f64 / 1024.0,
        ""
    );
}
