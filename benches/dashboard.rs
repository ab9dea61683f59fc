//! Issue 13 speed: sorting the Activities list of 100,000 rows by each of its
//! columns, both ways (target ≤ 30 ms). Prints medians of seven runs, each
//! on a fresh copy of the rows in the store's order (newest first).
//!
//! Then pivot-to-first-frame (target ≤ 16 ms): from pivoting to a person with
//! 100,000 activities to having what the Activities pane draws first, the
//! first page of 100 and the timeline (see `pivot`).
//!
//! Run with `cargo bench --bench dashboard`.

#[path = "dashboard/pivot.rs"]
mod pivot;

use std::hint::black_box;
use std::time::{Duration, Instant};

use casbah::domain::{Activity, AppKind, InstanceId};
use casbah::tui::views::activities::{Column, SortKey, sort};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const ROWS: usize = 100_000;
const RUNS: usize = 7;

fn rows() -> Vec<Activity> {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let types = [
        "FileAccessed",
        "FileDownloaded",
        "UserLoggedIn",
        "Send",
        "MailItemsAccessed",
    ];
    let countries = ["US", "DE", "FR", "JP", "GB", "BR", "IN"];
    let apps = [
        AppKind::Microsoft365,
        AppKind::Okta,
        AppKind::GoogleWorkspace,
        AppKind::Github,
    ];
    (0..ROWS)
        .map(|n| Activity {
            id: format!("evt-{n:08}"),
            app: apps[rng.random_range(0..apps.len())],
            instance: InstanceId(rng.random_range(1..6)),
            time: 1_790_000_000_000_000 - n as i64 * 6_000_000,
            actor: format!("user{}@contoso.com", rng.random_range(0..20_000)),
            actor_name: String::new(),
            activity_type: types[rng.random_range(0..types.len())].into(),
            action_type: String::new(),
            objects: Vec::new(),
            admin: false,
            impersonated: false,
            succeeded: true,
            ip: Some(format!(
                "{}.{}.{}.{}",
                rng.random_range(1..255),
                rng.random_range(0..255),
                rng.random_range(0..255),
                rng.random_range(1..255)
            )),
            address_text: None,
            country: Some(countries[rng.random_range(0..countries.len())].into()),
            isp: None,
            device_type: None,
            user_agent: None,
            source: String::new(),
            groups: Vec::new(),
            office_app: None,
        })
        .collect()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let rows = rows();
    println!("sort {ROWS} rows of the Activities list (median of {RUNS}; target ≤ 30 ms)");
    let mut worst = Duration::ZERO;
    for column in Column::ALL {
        for descending in [false, true] {
            let key = SortKey { column, descending };
            let samples = (0..RUNS)
                .map(|_| {
                    let mut copy = rows.clone();
                    let start = Instant::now();
                    sort(black_box(&mut copy), key);
                    let took = start.elapsed();
                    black_box(copy);
                    took
                })
                .collect();
            let m = median(samples);
            worst = worst.max(m);
            let way = if descending { "▼" } else { "▲" };
            println!("  {column:?} {way}: {:.1} ms", m.as_secs_f64() * 1e3);
        }
    }
    println!("slowest column: {:.1} ms", worst.as_secs_f64() * 1e3);
    pivot::run();
}
