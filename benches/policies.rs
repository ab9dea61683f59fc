//! Policies benchmark (issue 12): the ingest rate with 50 enabled policies (plain filters
//! and thresholds per actor, IP, group and overall) against none, in one run.
//!
//! `cargo bench --bench policies`; `CASBAH_BENCH_ACTIVITIES=N` pages of 1,000 per side
//! (1,000,000 unless set: fifty turns a side). The two stores ingest the same pages, window by window in turn
//! (A B B A …), so that the machine's drift touches both alike and neither always goes
//! second. `--only none|policies` runs one side alone, for a whole-process comparison.
//! Target: at most 20% slower with the policies, and every alert raised by the commit
//! of the page that holds its last matching activity.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use casbah::domain::filter::{self, Names};
use casbah::domain::policy::{MINUTE, Per, Policy, Rule, Severity};
use casbah::domain::{
    Activity, ActivityObject, AppKind, Component, GroupId, InstanceId, ObjectKind, RemoteGroup,
    RemoteUser, Secret, SkipCounts, UserKey, UserStatus, UserType,
};
use casbah::store::{
    IngestContext, IngestPipeline, KeyStore, NewInstance, PolicySet, Store, Watch, Watching,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const USERS: usize = 20_000;
const GROUPS: usize = 100;
const PAGE: usize = 1_000;
/// Pages ingested by one side before the other takes its turn.
const WINDOW: usize = 20;
const NOW: i64 = 1_790_000_000_000_000;
const COUNTRIES: [&str; 8] = ["US", "US", "US", "GB", "FR", "DE", "IN", "BR"];
const TYPES: [(&str, &str); 5] = [
    ("Sign in", "sign-in"),
    ("Download file", "download"),
    ("Upload file", "upload"),
    ("Share file", "share"),
    ("Change password", "password-change"),
];

fn email(u: usize) -> String {
    format!("user{u}@corp.example")
}

/// Every this many activities, a burst: one person downloading sixty files and one
/// address failing to sign in a dozen times within a minute, for the thresholds to catch.
const BURST_EVERY: usize = 20_000;
const BURST: usize = 72;

fn activity(rng: &mut ChaCha8Rng, n: usize, instance: InstanceId) -> Activity {
    let burst = n % BURST_EVERY;
    let u = match burst < BURST {
        true => n / BURST_EVERY,
        false => rng.random_range(0..USERS),
    };
    let (activity_type, action_type) = match burst {
        0..60 => TYPES[1],
        60..BURST => TYPES[0],
        _ => TYPES[rng.random_range(0..TYPES.len())],
    };
    Activity {
        id: format!("evt-{n:09}"),
        app: AppKind::Microsoft365,
        instance,
        // In order, 0.6 s apart, ending near NOW; a burst's within a minute.
        time: NOW - 7 * 24 * 60 * MINUTE + n as i64 * 600_000,
        actor: email(u),
        actor_name: format!("User {u}"),
        activity_type: activity_type.into(),
        action_type: action_type.into(),
        objects: vec![ActivityObject {
            kind: ObjectKind::File,
            id: format!("file-{}", rng.random_range(0..100_000u32)),
            name: format!("Report {}.xlsx", rng.random_range(0..1_000u32)),
        }],
        admin: rng.random_bool(0.02),
        impersonated: false,
        succeeded: !(60..BURST).contains(&burst) && rng.random_bool(0.97),
        // A thousand addresses, so that per-IP thresholds have something to count.
        ip: Some(match (60..BURST).contains(&burst) {
            true => "203.0.113.66".to_string(),
            false => format!("198.51.{}.{}", rng.random_range(0..4u8), rng.random::<u8>()),
        }),
        address_text: None,
        country: Some(COUNTRIES[rng.random_range(0..COUNTRIES.len())].into()),
        isp: None,
        device_type: None,
        user_agent: None,
        source: "Office 365".into(),
        groups: Vec::new(),
        office_app: None,
    }
}

/// Group names as the service resolves them.
struct GroupNames(Vec<(String, GroupId)>);

impl Names for GroupNames {
    fn group(&self, name: &str) -> Option<GroupId> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, id)| *id)
    }
    fn instance(&self, _: &str) -> Option<InstanceId> {
        None
    }
    fn group_names(&self) -> Vec<String> {
        self.0.iter().map(|(n, _)| n.clone()).collect()
    }
    fn instance_names(&self) -> Vec<String> {
        Vec::new()
    }
    fn group_members(&self, _: GroupId) -> Vec<UserKey> {
        Vec::new()
    }
    fn org_unit_accounts(&self) -> &[(String, UserKey)] {
        &[]
    }
}

/// Fifty policies as a security team writes them: plain filters for what should
/// never happen (each match an alert), thresholds for what is fine until it is too
/// much, counted per actor, per IP, per group and overall.
fn policies() -> Vec<Policy> {
    let plain = |i: usize| match i % 5 {
        0 => "admin -country:(US,GB)".to_string(),
        1 => "impersonated".to_string(),
        2 => format!(
            "group:\"Group {}\" action:share -country:(US,GB,FR,DE)",
            i % GROUPS
        ),
        3 => "action:password-change country:BR admin".to_string(),
        _ => "failed admin action:sign-in".to_string(),
    };
    let threshold = |i: usize| match i % 6 {
        0 => ("action:download".to_string(), 50, Per::Actor),
        1 => ("action:sign-in failed".to_string(), 5, Per::Ip),
        2 => ("action:share".to_string(), 300, Per::Overall),
        3 => (format!("group:\"Group {}\"", i % GROUPS), 100, Per::Group),
        4 => ("action:upload -country:US".to_string(), 20, Per::Actor),
        _ => ("type:\"Change password\"".to_string(), 500, Per::Overall),
    };
    (0..50)
        .map(|i| {
            let (filter, count, per) = match i < 20 {
                true => (plain(i), 1, Per::Actor),
                false => threshold(i),
            };
            Policy {
                rule: Rule {
                    count,
                    window: 10 * MINUTE,
                    per,
                },
                severity: Severity::Medium,
                enabled: true,
                ..Policy::new(&format!("Policy {i}"), &filter)
            }
        })
        .collect()
}

struct Side {
    store: Arc<Store>,
    pipeline: IngestPipeline,
    ctx: IngestContext,
    time: Duration,
    windows: Vec<f64>,
    raised: usize,
    joined: usize,
}

fn side(dir: &Path, name: &str, watch: bool) -> (Side, InstanceId) {
    let path = dir.join(format!("{name}.redb"));
    let store = Store::open_with_keys(&path, KeyStore::File(dir.join(format!("{name}.key"))))
        .expect("store");
    let new = NewInstance {
        app: AppKind::Microsoft365,
        name: "Contoso".into(),
        fields: [("tenant-id", "t"), ("client-id", "c")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into(),
        endpoint: None,
        components: vec![Component::UsersAndGroups],
    };
    let instance = store
        .add_instance(new, &Secret::new("s"), 0)
        .expect("instance")
        .id;
    let users: Vec<RemoteUser> = (0..USERS)
        .map(|u| RemoteUser {
            id: format!("u-{u}"),
            display_name: format!("User {u}"),
            email: email(u),
            status: UserStatus::Active,
            user_type: UserType::Member,
            principal_name: None,
            admin: false,
            org_unit: None,
            on_premises_sync: false,
        })
        .collect();
    store.upsert_users(instance, &users).expect("users");
    let mut names = Vec::new();
    for g in 0..GROUPS {
        let remote = RemoteGroup {
            id: format!("grp-{g}"),
            display_name: format!("Group {g}"),
            description: None,
            email: None,
            microsoft365: false,
        };
        let group = store
            .create_imported_group(instance, &remote, false, 0)
            .expect("group");
        let members: Vec<RemoteUser> = users.iter().skip(g).step_by(GROUPS / 2).cloned().collect();
        store
            .sync_membership(group.id, &members, SkipCounts::default(), 0)
            .expect("sync");
        names.push((remote.display_name, group.id));
    }
    let watching = Watching::default();
    if watch {
        let names = GroupNames(names);
        let mut watches = Vec::new();
        let mut version = 0;
        for mut policy in policies() {
            let (id, v) = store.put_policy(&policy).expect("policy");
            (policy.id, version) = (id, v);
            let query = filter::parse(&policy.filter)
                .and_then(|f| f.bind(&names, NOW))
                .expect("policy filter");
            watches.push(Watch::new(policy, query));
        }
        watching.replace(PolicySet { version, watches });
    }
    let store = Arc::new(store);
    let side = Side {
        pipeline: IngestPipeline::new(Arc::clone(&store)),
        store,
        ctx: IngestContext {
            org_domains: vec!["corp.example".into()],
            watching: Some(watching),
            ..IngestContext::default()
        },
        time: Duration::ZERO,
        windows: Vec::new(),
        raised: 0,
        joined: 0,
    };
    (side, instance)
}

impl Side {
    fn ingest(&mut self, window: Vec<(Vec<Activity>, String)>, instance: InstanceId) {
        let pages = window.len();
        let started = Instant::now();
        let mut done = Vec::with_capacity(pages);
        for (batch, cursor) in window {
            let page = self
                .store
                .prepare(instance, "bench", batch, &cursor, &self.ctx)
                .expect("prepare");
            done.extend(self.pipeline.push(page).expect("ingest"));
        }
        done.extend(self.pipeline.finish().expect("ingest"));
        let took = started.elapsed();
        self.time += took;
        self.windows
            .push((pages * PAGE) as f64 / took.as_secs_f64());
        for c in done {
            self.raised += c.report.alerts.raised;
            self.joined += c.report.alerts.joined;
        }
    }

    fn rate(&self, total: usize) -> f64 {
        total as f64 / self.time.as_secs_f64()
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let only = args
        .iter()
        .position(|a| a == "--only")
        .map(|i| args[i + 1].clone());
    let total: usize = std::env::var("CASBAH_BENCH_ACTIVITIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    // Alone (`--only`), a side is the whole process: nothing of the other is built.
    let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);
    let mut none = wanted("none").then(|| side(dir.path(), "none", false));
    let mut watched = wanted("policies").then(|| side(dir.path(), "policies", true));
    let instance = none.as_ref().or(watched.as_ref()).expect("a side").1;
    let mut rng = ChaCha8Rng::seed_from_u64(0xA1E27);
    let (mut n, mut turn) = (0, 0);
    while n < total {
        let mut window = Vec::with_capacity(WINDOW);
        while window.len() < WINDOW && n < total {
            let size = PAGE.min(total - n);
            let batch: Vec<Activity> = (n..n + size)
                .map(|i| activity(&mut rng, i, instance))
                .collect();
            window.push((batch, format!("page-{n}")));
            n += size;
        }
        // Each side goes first every other turn: the one that goes second would
        // otherwise always find the disk still writing the other's pages.
        let first_none = turn % 2 == 0;
        turn += 1;
        for run_none in [first_none, !first_none] {
            let side = if run_none { &mut none } else { &mut watched };
            if let Some((side, _)) = side {
                side.ingest(window.clone(), instance);
            }
        }
    }
    let (none, watched) = match (none, watched) {
        (Some((none, _)), Some((watched, _))) => (none, watched),
        (Some((s, _)), None) | (None, Some((s, _))) => {
            println!("ingested {total} activities at {:.0}/s", s.rate(total));
            return;
        }
        (None, None) => unreachable!("a side is always wanted"),
    };
    let alerts = watched.store.alerts().expect("alerts");
    assert_eq!(
        alerts.len(),
        watched.raised,
        "every alert was raised by a commit that reported it"
    );
    if only.is_some() {
        let s = if only.as_deref() == Some("none") {
            &none
        } else {
            &watched
        };
        println!("ingested {total} activities at {:.0}/s", s.rate(total));
        return;
    }
    let (a, b) = (none.rate(total), watched.rate(total));
    println!("activities per side: {total}, pages of {PAGE}, {WINDOW} pages a turn");
    println!(
        "no policies:  {a:.0} activities/s overall, {:.0}/s median of turns",
        median(none.windows.clone())
    );
    println!(
        "50 policies:  {b:.0} activities/s overall, {:.0}/s median of turns",
        median(watched.windows.clone())
    );
    println!(
        "slower by {:.1}% overall, {:.1}% median of turns (target: at most 20%)",
        (1.0 - b / a) * 100.0,
        (1.0 - median(watched.windows.clone()) / median(none.windows.clone())) * 100.0
    );
    println!(
        "alerts raised: {} ({} later matches joined them), each in the commit of its last matching activity",
        watched.raised, watched.joined
    );
}
