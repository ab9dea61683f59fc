//! Pivot-to-first-frame (issue 13, target ≤ 16 ms): the Activities pane, pivoted to a
//! person (`user:` and their key, as `pivot::activities_of` writes it), asks for the first
//! page of 100 and for the timeline of its span (the filter's counts and everything's).
//! Each run pivots to another person with 100,000 activities, among 500,000 by 20,000
//! others over 30 days, so that each reads what the others did not.

use std::path::Path;
use std::time::{Duration, Instant};

use casbah::domain::filter::{self, Field, NoNames, Query, Term};
use casbah::domain::{Activity, AppKind, Component, Secret};
use casbah::store::{ActivityLog, IngestContext, KeyStore, NewInstance, Store};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const PERSONS: usize = 10;
const PER_PERSON: usize = 100_000;
const OTHERS: usize = 500_000;
const OTHER_USERS: usize = 20_000;
const DAY: i64 = 86_400_000_000;
const NOW: i64 = 1_790_000_000_000_000;
const SPAN_DAYS: i64 = 30;
const PAGE: usize = 1_000;
/// Columns of the timeline in a wide terminal.
const BUCKETS: usize = 120;

fn person(p: usize) -> String {
    format!("heavy{p}@corp.example")
}

fn activity(
    rng: &mut ChaCha8Rng,
    n: usize,
    total: usize,
    instance: casbah::domain::InstanceId,
) -> Activity {
    let step = SPAN_DAYS * DAY / total as i64;
    let actor = match rng.random_range(0..3) {
        0 | 1 => person(rng.random_range(0..PERSONS)),
        _ => format!("user{}@corp.example", rng.random_range(0..OTHER_USERS)),
    };
    Activity {
        id: format!("evt-{n:09}"),
        app: AppKind::Microsoft365,
        instance,
        time: NOW - SPAN_DAYS * DAY + n as i64 * step + rng.random_range(0..step.max(1)),
        actor_name: actor.clone(),
        actor,
        activity_type: "Download file".into(),
        action_type: "download".into(),
        objects: Vec::new(),
        admin: false,
        impersonated: false,
        succeeded: true,
        ip: None,
        address_text: None,
        country: Some("FR".into()),
        isp: None,
        device_type: None,
        user_agent: None,
        source: "Office 365".into(),
        groups: Vec::new(),
        office_app: None,
    }
}

fn build(path: &Path) -> Store {
    let store = Store::open_with_keys(path, KeyStore::File(path.with_file_name("secrets.key")))
        .expect("create");
    let instance = store
        .add_instance(
            NewInstance {
                app: AppKind::Microsoft365,
                name: "Contoso".into(),
                fields: [("tenant-id", "t"), ("client-id", "c")]
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .into(),
                endpoint: None,
                components: vec![Component::UsersAndGroups],
            },
            &Secret::new("bench"),
            0,
        )
        .expect("instance")
        .id;
    // Two in three records are the persons': 100,000 each beside 500,000 by the others.
    let total = PERSONS * PER_PERSON + OTHERS;
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let ctx = IngestContext::default();
    for start in (0..total).step_by(PAGE) {
        let batch = (start..(start + PAGE).min(total))
            .map(|n| activity(&mut rng, n, total, instance))
            .collect();
        store
            .ingest(instance, "bench", batch, &format!("{start}"), &ctx)
            .expect("ingest");
    }
    store
}

/// What the pane asks for after a pivot to `key`, over the last `span`: the time to have
/// it all, and the page's length.
fn pivot(store: &Store, key: &str, span: i64) -> (Duration, usize) {
    let started = Instant::now();
    let text = Term::equals(Field::User, key).to_string();
    let query = filter::parse(&text)
        .and_then(|f| f.bind(&NoNames, NOW))
        .expect("the pivot's filter");
    let page = store.query_activities(&query, 100, None).expect("page");
    // As `Local::timeline` lays the buckets out.
    let width = casbah::service::bucket_width(span, BUCKETS);
    let start = (NOW - span).div_euclid(width) * width;
    let count = ((NOW - start + width - 1) / width) as usize;
    let h = ActivityLog::histogram(store, &query, start, width, count).expect("timeline");
    let all = ActivityLog::histogram(store, &Query::all(), start, width, count).expect("all");
    assert!(h.total() > 0 && all.total() >= h.total());
    (started.elapsed(), page.items.len())
}

pub fn run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pivot.redb");
    let started = Instant::now();
    let store = build(&path);
    println!(
        "pivot to a person with {PER_PERSON} activities ({} in all, built in {:.0} s; target ≤ 16 ms)",
        PERSONS * PER_PERSON + OTHERS,
        started.elapsed().as_secs_f64()
    );
    // Each span pivots to persons none before it read.
    let mut persons = 0..PERSONS;
    for (name, span) in [("7 days (the pane's span)", 7 * DAY), ("30 days", 30 * DAY)] {
        let mut samples = Vec::new();
        for p in persons.by_ref().take(PERSONS / 2) {
            let (took, rows) = pivot(&store, &person(p), span);
            assert_eq!(rows, 100);
            samples.push(took);
        }
        samples.sort();
        println!(
            "  first page of 100 + timeline of {name}: median {:.2} ms, slowest {:.2} ms",
            samples[samples.len() / 2].as_secs_f64() * 1e3,
            samples[samples.len() - 1].as_secs_f64() * 1e3
        );
    }
}
