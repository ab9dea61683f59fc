//! Reading a page of activities through the most selective index the hints allow.
//!
//! Every index key ends in (time, seq). Each hinted value gives one reverse range (one
//! per hour for the hour-led indexes); the ranges are merged newest first, records
//! fetched, and `Query::matches` decides.

use std::collections::{BTreeSet, BinaryHeap, HashMap};

use redb::{ReadOnlyTable, ReadTransaction, ReadableDatabase};

use super::tables::{
    self, ACTIVITIES, APP_INSTANCES, BY_ACTOR, BY_COUNTRY, BY_GROUP, BY_INSTANCE, COUNT_COUNTRY,
    COUNT_INSTANCE, COUNTS, META,
};
use super::{ActivityCursor, ActivityPage, Result, Store, StoreError};
use crate::domain::filter::{Hints, Query};
use crate::domain::{Activity, Micros};

/// Above this many ranges a combined index costs more to merge than it saves.
const MAX_STREAMS: usize = 64;

/// (time, seq) positions, newest first.
type Stream = Box<dyn Iterator<Item = Result<(Micros, u64)>>>;

/// Which index a query walks, with the values to read in it.
#[derive(Debug, Clone, PartialEq)]
enum Plan {
    /// A hint lists no value at all, or apps with no instance: nothing can match.
    Nothing,
    Actors(Vec<String>),
    /// Groups, and the countries when the query names them.
    Groups(Vec<u64>, Option<Vec<String>>),
    Instances(Vec<u64>),
    Countries(Vec<String>),
    Time,
}

/// The time window of one read: lower inclusive, upper exclusive, as (time, seq).
#[derive(Debug, Clone, Copy)]
struct Window {
    low: (Micros, u64),
    high: (Micros, u64),
}

impl Window {
    const ALL: Window = Window {
        low: (Micros::MIN, 0),
        high: (Micros::MAX, u64::MAX),
    };

    fn new(hints: &Hints, after: Option<ActivityCursor>) -> Option<Window> {
        let low = (hints.after.unwrap_or(Micros::MIN), 0);
        let mut high = (Micros::MAX, u64::MAX);
        if let Some(before) = hints.before {
            high = high.min((before, 0));
        }
        if let Some(c) = after {
            high = high.min((c.time, c.seq));
        }
        (low < high).then_some(Window { low, high })
    }
}

fn sorted<T: Ord + Clone>(values: &[T]) -> Vec<T> {
    values
        .iter()
        .cloned()
        .collect::<BTreeSet<T>>()
        .into_iter()
        .collect()
}

fn plan(txn: &ReadTransaction, hints: &Hints) -> Result<Plan> {
    let any_empty = hints.groups.as_ref().is_some_and(Vec::is_empty)
        || hints.instances.as_ref().is_some_and(Vec::is_empty)
        || hints.apps.as_ref().is_some_and(Vec::is_empty)
        || hints.countries.as_ref().is_some_and(Vec::is_empty)
        || hints.actors.as_ref().is_some_and(Vec::is_empty);
    if any_empty {
        return Ok(Plan::Nothing);
    }
    let instances = instances_of(txn, hints)?;
    if instances.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Plan::Nothing);
    }
    // Most selective first: a person, then a group (in a country), then an app or a
    // country, whichever holds fewer activities.
    if let Some(actors) = hints.actors.as_ref().filter(|a| a.len() <= MAX_STREAMS) {
        return Ok(Plan::Actors(sorted(actors)));
    }
    if let Some(groups) = hints.groups.as_ref().filter(|g| g.len() <= MAX_STREAMS) {
        let groups = sorted(groups).into_iter().map(|g| g.0).collect();
        let countries = hints
            .countries
            .as_ref()
            .filter(|c| c.len() * groups_len(hints) <= MAX_STREAMS)
            .map(|c| sorted(c));
        return Ok(Plan::Groups(groups, countries));
    }
    let instances = instances.filter(|i| i.len() <= MAX_STREAMS);
    let countries = hints
        .countries
        .as_ref()
        .filter(|c| c.len() <= MAX_STREAMS)
        .map(|c| sorted(c));
    Ok(match (instances, countries) {
        (Some(i), Some(c)) => {
            // Both apply: read the one with fewer activities.
            let counts = txn.open_table(COUNTS)?;
            let total = |kind: u8, keys: &mut dyn Iterator<Item = u64>| -> Result<u64> {
                let mut n = 0;
                for key in keys {
                    n += counts.get((kind, key))?.map_or(0, |v| v.value());
                }
                Ok(n)
            };
            let by_instance = total(COUNT_INSTANCE, &mut i.iter().copied())?;
            let by_country = total(COUNT_COUNTRY, &mut c.iter().map(|c| tables::hash(c)))?;
            if by_country < by_instance {
                Plan::Countries(c)
            } else {
                Plan::Instances(i)
            }
        }
        (Some(i), None) => Plan::Instances(i),
        (None, Some(c)) => Plan::Countries(c),
        (None, None) => Plan::Time,
    })
}

fn groups_len(hints: &Hints) -> usize {
    hints.groups.as_ref().map_or(0, Vec::len)
}

/// The instances a record may have: the instance hint, narrowed by the apps hint
/// through every (app, instance) pair ever ingested.
fn instances_of(txn: &ReadTransaction, hints: &Hints) -> Result<Option<Vec<u64>>> {
    let from_apps = match &hints.apps {
        None => None,
        Some(apps) => {
            let table = txn.open_table(APP_INSTANCES)?;
            let mut ids = BTreeSet::new();
            for app in apps {
                let code = tables::app_code(*app);
                for row in table.range((code, 0)..=(code, u64::MAX))? {
                    ids.insert(row?.0.value().1);
                }
            }
            Some(ids)
        }
    };
    let listed = hints
        .instances
        .as_ref()
        .map(|l| l.iter().map(|i| i.0).collect::<BTreeSet<u64>>());
    Ok(match (listed, from_apps) {
        (Some(l), Some(a)) => Some(l.intersection(&a).copied().collect()),
        (Some(s), None) | (None, Some(s)) => Some(s.into_iter().collect()),
        (None, None) => None,
    })
}

/// Newest first over one index range, yielding (time, seq).
macro_rules! newest_first {
    ($range:expr, |$key:pat_param| $position:expr) => {
        Box::new($range.rev().map(|row| {
            row.map(|(k, _)| {
                let $key = k.value();
                $position
            })
            .map_err(StoreError::from)
        })) as Stream
    };
}

type ActorTable = ReadOnlyTable<(i64, u64, i64, u64), ()>;
type GroupTable = ReadOnlyTable<(i64, u64, u64, i64, u64), ()>;
type RecordTable = ReadOnlyTable<(i64, u64), &'static [u8]>;

/// The hour of the newest activity before `hour` begins: hours without any activity
/// are skipped, so a stray timestamp decades away costs one look-up, not one per hour.
fn previous_hour(records: &RecordTable, hour: i64) -> Result<Option<i64>> {
    let start = hour.saturating_mul(tables::BUCKET);
    match records.range(..(start, 0))?.next_back() {
        Some(row) => Ok(Some(tables::bucket(row?.0.value().0))),
        None => Ok(None),
    }
}

/// Where a walk reads its positions from.
enum Source {
    /// Indexes led by their value: every stream opened at once.
    Flat,
    /// Hour-led indexes: streams opened one hour at a time, newest hour first.
    Actors(ActorTable, Vec<u64>),
    /// Groups, with country hashes when the query names countries.
    Groups(GroupTable, Vec<u64>, Option<Vec<u64>>),
}

impl Source {
    fn streams(&self, hour: i64, w: Window) -> Result<Vec<Stream>> {
        let ((lt, ls), (ht, hs)) = (w.low, w.high);
        let mut out = Vec::new();
        match self {
            Source::Flat => {}
            Source::Actors(t, actors) => {
                for a in actors {
                    out.push(newest_first!(
                        t.range((hour, *a, lt, ls)..(hour, *a, ht, hs))?,
                        |(_, _, time, seq)| (time, seq)
                    ));
                }
            }
            Source::Groups(t, groups, Some(countries)) => {
                for g in groups {
                    for c in countries {
                        out.push(newest_first!(
                            t.range((hour, *g, *c, lt, ls)..(hour, *g, *c, ht, hs))?,
                            |(_, _, _, time, seq)| (time, seq)
                        ));
                    }
                }
            }
            Source::Groups(t, groups, None) => {
                // Within an hour a group's entries are ordered by country first: few
                // enough to sort here.
                for g in groups {
                    let mut positions = Vec::new();
                    let all =
                        (hour, *g, 0, Micros::MIN, 0)..=(hour, *g, u64::MAX, Micros::MAX, u64::MAX);
                    for row in t.range(all)? {
                        let (_, _, _, time, seq) = row?.0.value();
                        if w.low <= (time, seq) && (time, seq) < w.high {
                            positions.push((time, seq));
                        }
                    }
                    positions.sort_unstable_by(|a, b| b.cmp(a));
                    out.push(Box::new(positions.into_iter().map(Ok)) as Stream);
                }
            }
        }
        Ok(out)
    }
}

/// The positions of the records a plan may match, newest first.
pub(super) struct Walk {
    source: Source,
    window: Window,
    merge: Merge,
    /// The next hour to open, counting down to `low_hour`.
    hour: i64,
    low_hour: i64,
    records: RecordTable,
}

impl Walk {
    fn new(txn: &ReadTransaction, plan: &Plan, w: Window) -> Result<Walk> {
        let hours = |txn: &ReadTransaction| -> Result<(i64, i64)> {
            Ok(match tables::time_span(&txn.open_table(META)?)? {
                Some((min, max)) => (
                    tables::bucket(w.low.0.max(min)),
                    tables::bucket(w.high.0.min(max)),
                ),
                None => (0, -1),
            })
        };
        let (mut streams, mut source, mut hour, mut low_hour) = (Vec::new(), Source::Flat, 0, 1);
        let ((lt, ls), (ht, hs)) = (w.low, w.high);
        match plan {
            Plan::Nothing => {}
            Plan::Time => {
                let t = txn.open_table(ACTIVITIES)?;
                streams.push(newest_first!(t.range((lt, ls)..(ht, hs))?, |k| k));
            }
            Plan::Instances(instances) => {
                let t = txn.open_table(BY_INSTANCE)?;
                for i in instances {
                    streams.push(newest_first!(
                        t.range((*i, lt, ls)..(*i, ht, hs))?,
                        |(_, time, seq)| (time, seq)
                    ));
                }
            }
            Plan::Countries(countries) => {
                let t = txn.open_table(BY_COUNTRY)?;
                for c in countries {
                    let c = tables::hash(c);
                    streams.push(newest_first!(
                        t.range((c, lt, ls)..(c, ht, hs))?,
                        |(_, time, seq)| (time, seq)
                    ));
                }
            }
            Plan::Actors(actors) => {
                let hashes = sorted(&actors.iter().map(|a| tables::hash(a)).collect::<Vec<_>>());
                source = Source::Actors(txn.open_table(BY_ACTOR)?, hashes);
                (low_hour, hour) = hours(txn)?;
            }
            Plan::Groups(groups, countries) => {
                let countries = countries
                    .as_ref()
                    .map(|l| sorted(&l.iter().map(|c| tables::hash(c)).collect::<Vec<_>>()));
                source = Source::Groups(txn.open_table(BY_GROUP)?, groups.clone(), countries);
                (low_hour, hour) = hours(txn)?;
            }
        }
        Ok(Walk {
            source,
            window: w,
            merge: Merge::new(streams)?,
            hour,
            low_hour,
            records: txn.open_table(ACTIVITIES)?,
        })
    }

    pub(super) fn next(&mut self) -> Result<Option<(Micros, u64)>> {
        loop {
            if let Some(p) = self.merge.next()? {
                return Ok(Some(p));
            }
            if matches!(self.source, Source::Flat) || self.hour < self.low_hour {
                return Ok(None);
            }
            // Hours partition time, so finishing one hour before the next keeps the order.
            self.merge = Merge::new(self.source.streams(self.hour, self.window)?)?;
            self.hour = previous_hour(&self.records, self.hour)?.unwrap_or(i64::MIN);
        }
    }
}

/// Every activity of one actor, newest first (a hash collision may add others: check `actor`).
pub(super) fn actor_walk(txn: &ReadTransaction, actor: &str) -> Result<Walk> {
    Walk::new(txn, &Plan::Actors(vec![actor.to_string()]), Window::ALL)
}

/// Above this many people still unseen, reading a whole hour of the actor index costs
/// less than one look-up per person.
const SCAN_HOUR_ABOVE: usize = 8;

/// The time of each person's newest activity, walking the hours newest first until
/// everyone is found.
pub(super) fn last_activities(txn: &ReadTransaction, keys: &[&str]) -> Result<Vec<Option<Micros>>> {
    let mut out = vec![None; keys.len()];
    let Some((min, max)) = tables::time_span(&txn.open_table(META)?)? else {
        return Ok(out);
    };
    let mut unseen: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, key) in keys.iter().enumerate() {
        unseen.entry(tables::hash(key)).or_default().push(i);
    }
    let index = txn.open_table(BY_ACTOR)?;
    let records = txn.open_table(ACTIVITIES)?;
    let mut hour = tables::bucket(max);
    while !unseen.is_empty() && hour >= tables::bucket(min) {
        let mut found = Vec::new();
        let mut visit = |(_, h, time, seq): (i64, u64, Micros, u64)| -> Result<()> {
            let Some(waiting) = unseen.get(&h) else {
                return Ok(());
            };
            // Newest first within a hash, so the first confirmed entry is the newest.
            if let Some(v) = records.get((time, seq))? {
                let actor = tables::decode::<Activity>(v.value(), "activity")?.actor;
                if let Some(&i) = waiting.iter().find(|&&i| keys[i] == actor)
                    && out[i].is_none()
                {
                    out[i] = Some(time);
                    found.push((h, i));
                }
            }
            Ok(())
        };
        if unseen.len() > SCAN_HOUR_ABOVE {
            let all = (hour, 0, Micros::MIN, 0)..=(hour, u64::MAX, Micros::MAX, u64::MAX);
            for row in index.range(all)?.rev() {
                visit(row?.0.value())?;
            }
        } else {
            let hashes: Vec<u64> = unseen.keys().copied().collect();
            for h in hashes {
                let one = (hour, h, Micros::MIN, 0)..=(hour, h, Micros::MAX, u64::MAX);
                for row in index.range(one)?.rev() {
                    visit(row?.0.value())?;
                }
            }
        }
        for (h, i) in found {
            if let Some(waiting) = unseen.get_mut(&h) {
                waiting.retain(|&j| j != i);
                if waiting.is_empty() {
                    unseen.remove(&h);
                }
            }
        }
        match previous_hour(&records, hour)? {
            Some(h) => hour = h,
            None => break,
        }
    }
    Ok(out)
}

/// Merges newest-first streams into one, dropping a record met in several streams.
struct Merge {
    streams: Vec<Stream>,
    heads: BinaryHeap<((Micros, u64), usize)>,
    last: Option<u64>,
}

impl Merge {
    fn new(mut streams: Vec<Stream>) -> Result<Merge> {
        let mut heads = BinaryHeap::with_capacity(streams.len());
        for (i, s) in streams.iter_mut().enumerate() {
            if let Some(p) = s.next() {
                heads.push((p?, i));
            }
        }
        Ok(Merge {
            streams,
            heads,
            last: None,
        })
    }

    fn next(&mut self) -> Result<Option<(Micros, u64)>> {
        while let Some((position, i)) = self.heads.pop() {
            if let Some(p) = self.streams[i].next() {
                self.heads.push((p?, i));
            }
            // Equal positions pop one after another, so a repeat is always the last one.
            if self.last != Some(position.1) {
                self.last = Some(position.1);
                return Ok(Some(position));
            }
        }
        Ok(None)
    }
}

impl Store {
    pub(super) fn query_activities_impl(
        &self,
        query: &Query,
        limit: usize,
        after: Option<ActivityCursor>,
    ) -> Result<ActivityPage> {
        let mut items = Vec::new();
        let window = Window::new(query.hints(), after);
        if let (Some(window), true) = (window, limit > 0) {
            let txn = self.db.begin_read()?;
            let plan = plan(&txn, query.hints())?;
            let records = txn.open_table(ACTIVITIES)?;
            let mut walk = Walk::new(&txn, &plan, window)?;
            while let Some((time, seq)) = walk.next()? {
                let Some(bytes) = records.get((time, seq))? else {
                    continue;
                };
                let activity: Activity = tables::decode(bytes.value(), "activity")?;
                if query.matches(&activity) {
                    items.push((seq, activity));
                    if items.len() == limit {
                        break;
                    }
                }
            }
        }
        // A full page may have more after it; a short one is the end.
        let next = match items.last() {
            Some((seq, a)) if items.len() == limit => Some(ActivityCursor {
                time: a.time,
                seq: *seq,
            }),
            _ => None,
        };
        Ok(ActivityPage {
            items: items.into_iter().map(|(_, a)| a).collect(),
            next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AppKind, Component, InstanceId, Secret};
    use crate::store::{IngestContext, NewInstance};

    fn activity(instance: InstanceId, id: usize, country: &str) -> Activity {
        Activity {
            id: id.to_string(),
            app: AppKind::Box,
            instance,
            time: id as i64,
            actor: "ann@corp.com".into(),
            actor_name: "Ann".into(),
            activity_type: "Download file".into(),
            action_type: "download".into(),
            objects: Vec::new(),
            admin: false,
            impersonated: false,
            succeeded: true,
            ip: None,
            country: Some(country.into()),
            isp: None,
            device_type: None,
            user_agent: None,
            source: "test".into(),
            groups: Vec::new(),
            office_app: None,
        }
    }

    // R-A2: with an app and a country, the planner reads the smaller of the two indexes.
    #[test]
    fn planner_reads_the_smaller_of_instance_and_country() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let new = NewInstance {
            app: AppKind::Box,
            name: "box".into(),
            tenant: "t".into(),
            client_id: "c".into(),
            endpoint: None,
            components: vec![Component::UsersAndGroups],
        };
        let box_id = store
            .add_instance(new.clone(), &Secret::new("s"), 0)
            .unwrap()
            .id;
        let other = NewInstance {
            app: AppKind::Okta,
            ..new
        };
        let okta_id = store.add_instance(other, &Secret::new("s"), 0).unwrap().id;
        let ctx = IngestContext::default();
        // Box: 19 in France, 1 in Nigeria. Okta: 30 in France.
        let batch = (0..20)
            .map(|i| activity(box_id, i, if i == 0 { "NG" } else { "FR" }))
            .collect();
        store.ingest(box_id, "s", batch, "c", &ctx).unwrap();
        let batch = (100..130)
            .map(|i| {
                let mut a = activity(okta_id, i, "FR");
                a.app = AppKind::Okta;
                a
            })
            .collect();
        store.ingest(okta_id, "s", batch, "c", &ctx).unwrap();
        let txn = store.db.begin_read().unwrap();
        let hints = |country: &str| Hints {
            apps: Some(vec![AppKind::Box]),
            countries: Some(vec![country.to_string()]),
            ..Hints::default()
        };
        assert_eq!(
            plan(&txn, &hints("NG")).unwrap(),
            Plan::Countries(vec!["NG".into()])
        );
        assert_eq!(
            plan(&txn, &hints("FR")).unwrap(),
            Plan::Instances(vec![box_id.0])
        );
    }

    // A cursor at the lower bound leaves nothing to read, not everything.
    #[test]
    fn window_is_empty_when_cursor_reaches_lower_bound() {
        let hints = Hints {
            after: Some(100),
            ..Hints::default()
        };
        assert!(Window::new(&hints, Some(ActivityCursor { time: 100, seq: 0 })).is_none());
        assert!(Window::new(&hints, Some(ActivityCursor { time: 100, seq: 1 })).is_some());
    }
}
