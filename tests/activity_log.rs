//! Issue 9: the service reaches activities only through `ActivityLog`, so another engine
//! is a new implementation of that trait. A second one, kept in memory, serves a real
//! scan over HTTP, filters, counts and the person view, while the redb file beside it
//! keeps the configuration and not one activity.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use casbah::domain::filter::Query;
use casbah::domain::{Activity, Component, InstanceId, Micros};
use casbah::sandbox::{self, SandboxConfig};
use casbah::service::{ConnectRequest, Intervals, Service};
use casbah::store::{
    ActivityCursor, ActivityLog, ActivityPage, ActorSummary, Appender, Committed, Histogram,
    IngestContext, IngestReport, NewPage, Result,
};

/// Activities in a vector, newest last; an activity's seq is its place in it.
#[derive(Default)]
struct MemoryLog {
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    records: Vec<Activity>,
    ids: HashSet<(InstanceId, String)>,
    cursors: HashMap<(InstanceId, String), String>,
}

impl ActivityLog for MemoryLog {
    fn appender(self: Arc<Self>, _ctx: IngestContext) -> Box<dyn Appender> {
        Box::new(MemoryAppender { log: self })
    }

    fn cursor(&self, instance: InstanceId, stream: &str) -> Result<Option<String>> {
        let kept = self.kept.lock().unwrap();
        Ok(kept.cursors.get(&(instance, stream.to_string())).cloned())
    }

    fn query(
        &self,
        query: &Query,
        limit: usize,
        after: Option<ActivityCursor>,
    ) -> Result<ActivityPage> {
        let kept = self.kept.lock().unwrap();
        let mut order: Vec<usize> = (0..kept.records.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse((kept.records[i].time, i)));
        let items: Vec<(usize, &Activity)> = order
            .into_iter()
            .map(|i| (i, &kept.records[i]))
            .filter(|(i, a)| after.is_none_or(|c| (a.time, *i as u64) < (c.time, c.seq)))
            .filter(|(_, a)| query.matches(a))
            .take(limit)
            .collect();
        let next = (items.len() == limit).then(|| {
            let (i, a) = items[items.len() - 1];
            ActivityCursor {
                time: a.time,
                seq: i as u64,
            }
        });
        Ok(ActivityPage {
            items: items.into_iter().map(|(_, a)| a.clone()).collect(),
            next,
        })
    }

    fn count(&self) -> Result<u64> {
        Ok(self.kept.lock().unwrap().records.len() as u64)
    }

    fn histogram(
        &self,
        query: &Query,
        from: Micros,
        width: Micros,
        buckets: usize,
    ) -> Result<Histogram> {
        let mut out = Histogram {
            from,
            width,
            counts: vec![0; buckets],
        };
        let kept = self.kept.lock().unwrap();
        for a in kept.records.iter().filter(|a| query.matches(a)) {
            if let Some(b) = out.bucket_of(a.time) {
                out.counts[b] += 1;
            }
        }
        Ok(out)
    }

    fn actor_summary(&self, actor: &str, _now: Micros) -> Result<ActorSummary> {
        let kept = self.kept.lock().unwrap();
        let mut by_type: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_app = BTreeMap::new();
        let mut last_activity = None;
        for a in kept.records.iter().filter(|a| a.actor == actor) {
            *by_type.entry(a.activity_type.clone()).or_default() += 1;
            *by_app.entry(a.app).or_default() += 1;
            last_activity = last_activity.max(Some(a.time));
        }
        Ok(ActorSummary {
            by_type: by_type.into_iter().collect(),
            by_app: by_app.into_iter().collect(),
            daily: vec![0; 30],
            last_activity,
        })
    }
}

/// Commits each page at once: records and cursor together, repeats dropped.
struct MemoryAppender {
    log: Arc<MemoryLog>,
}

impl Appender for MemoryAppender {
    fn push(&mut self, page: NewPage) -> Result<Option<Committed>> {
        let mut kept = self.log.kept.lock().unwrap();
        let received = page.records.len();
        let mut inserted = 0;
        for a in page.records {
            if kept.ids.insert((a.instance, a.id.clone())) {
                kept.records.push(a);
                inserted += 1;
            }
        }
        kept.cursors
            .insert((page.instance, page.stream.clone()), page.cursor);
        Ok(Some(Committed {
            stream: page.stream,
            report: IngestReport {
                inserted,
                duplicates: received - inserted,
                alerts: Default::default(),
            },
        }))
    }

    fn finish(&mut self) -> Result<Option<Committed>> {
        Ok(None)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_activity_log_serves_scans_filters_and_people() {
    let sandbox = sandbox::start(SandboxConfig {
        users: 200,
        live_rate: 0.0,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let dir = tempfile::tempdir().expect("tempdir");
    let log = Arc::new(MemoryLog::default());
    let intervals = Intervals {
        users: Duration::from_secs(3600),
        groups: Duration::from_secs(3600),
        activities: Duration::from_secs(3600),
        tick: Duration::from_secs(60),
    };
    let store = common::open_store(&dir.path().join("casbah.redb")).expect("store");
    let svc = Service::with_activity_log(store, log.clone(), intervals);
    svc.connect(ConnectRequest {
        instance: sandbox.microsoft365_instance("contoso", Component::default_set()),
        secret: sandbox.client_secret.clone(),
    })
    .await
    .expect("connect");
    for job in svc.sync_now(None).await.expect("sync") {
        job.wait().await.expect("scan");
    }

    // The scan's records and cursors went to the memory log.
    let stored = log.count().unwrap();
    assert!(stored > 100, "a week of activities: {stored}");
    assert_eq!(svc.activity_count().await.unwrap(), stored);
    assert!(!log.kept.lock().unwrap().cursors.is_empty());

    let all = svc.activities("", 100_000, None).await.unwrap().items;
    assert_eq!(all.len() as u64, stored);
    assert!(
        all.windows(2).all(|w| w[0].time >= w[1].time),
        "newest first"
    );

    // A filter is answered by the memory log, through the service's compiled query.
    let actor = all[0].actor.clone();
    let theirs = all.iter().filter(|a| a.actor == actor).count() as u64;
    let filtered = svc
        .activities(&format!("user:\"{actor}\""), 100_000, None)
        .await
        .expect("filter")
        .items;
    assert_eq!(filtered.len() as u64, theirs);
    assert!(theirs < stored, "the filter leaves records out");
    let newest = all[0].time;
    let timeline = svc
        .timeline(
            &format!("user:\"{actor}\""),
            newest - 86_400_000_000,
            newest + 1,
            24,
        )
        .await
        .expect("timeline");
    assert!(timeline.histogram.total() > 0 && timeline.histogram.total() <= theirs);

    // The person view joins redb's accounts with the log's summary.
    let person = svc.person(&actor).await.expect("person");
    assert_eq!(person.key, actor);
    assert_eq!(person.by_type.iter().map(|(_, n)| n).sum::<u64>(), theirs);
    assert!(!person.accounts.is_empty(), "accounts come from redb");

    // A second scan reads on from the cursors and stores no repeat.
    for job in svc.sync_now(None).await.expect("sync") {
        job.wait().await.expect("scan");
    }
    assert_eq!(log.count().unwrap(), stored);

    // The redb file holds the configuration, and no activity.
    let checked = svc.check_database().await.expect("check");
    assert_eq!((checked.activities, checked.instances), (0, 1));
    assert!(checked.users > 0);
}
