//! Reading a page of activities through the most selective index the hints allow.
//!
//! Every index is a set of posting lists whose entries end in (time, seq), read hour after
//! hour, newest first: each hinted instance is one list; hinted countries, actors and
//! groups are searched for in the whole-hour list of their index. The positions are merged
//! newest first, records fetched, and `Query::matches` decides.

use std::collections::{BTreeSet, BinaryHeap, HashMap};

use redb::{AccessGuard, ReadOnlyTable, ReadTransaction};

use super::postings::{self, ListKey, WHOLE_HOUR};
use super::records;
use super::tables::{
    self, ACTIVITIES, ACTOR_ENTRY, APP_INSTANCES, BY_ACTOR, BY_COUNTRY, BY_GROUP, BY_INSTANCE,
    COUNT_COUNTRY, COUNT_INSTANCE, COUNTRY_ENTRY, COUNTS, GROUP_ENTRY, INSTANCE_ENTRY,
};
use super::{ActivityCursor, ActivityPage, Result, Store, StoreError};
use crate::domain::Micros;
use crate::domain::filter::{Hints, Query};

/// Above this many ranges a combined index costs more to merge than it saves.
const MAX_STREAMS: usize = 64;

/// (time, seq) positions, newest first.
type Stream = Box<dyn Iterator<Item = Result<(Micros, u64)>>>;

/// Which index a query walks, with the values to read in it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Plan {
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
pub(super) struct Window {
    pub low: (Micros, u64),
    pub high: (Micros, u64),
}

impl Window {
    const ALL: Window = Window {
        low: (Micros::MIN, 0),
        high: (Micros::MAX, u64::MAX),
    };

    pub(super) fn new(hints: &Hints, after: Option<ActivityCursor>) -> Option<Window> {
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

pub(super) fn sorted<T: Ord + Clone>(values: &[T]) -> Vec<T> {
    values
        .iter()
        .cloned()
        .collect::<BTreeSet<T>>()
        .into_iter()
        .collect()
}

pub(super) fn plan(txn: &ReadTransaction, hints: &Hints) -> Result<Plan> {
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

pub(super) type ListReader = ReadOnlyTable<ListKey, &'static [u8]>;
pub(super) type Chunk = AccessGuard<'static, &'static [u8]>;

/// The chunks of one list, an hour at a time, newest hour first. Walking the list's own
/// keys skips the hours it has nothing in.
pub(super) struct Hours {
    rows: redb::Range<'static, ListKey, &'static [u8]>,
    /// The first chunk met of the next hour.
    held: Option<(i64, Chunk)>,
}

impl Hours {
    pub(super) fn open(table: &ListReader, list: u64, low: Micros, high: Micros) -> Result<Hours> {
        let (low, high) = (tables::bucket(low), tables::bucket(high));
        Ok(Hours {
            rows: table.range((list, low, 0)..=(list, high, u32::MAX))?,
            held: None,
        })
    }

    pub(super) fn next(&mut self) -> Result<Option<(i64, Vec<Chunk>)>> {
        let (hour, first) = match self.held.take() {
            Some(held) => held,
            None => match self.rows.next_back() {
                Some(row) => {
                    let (k, v) = row?;
                    (k.value().1, v)
                }
                None => return Ok(None),
            },
        };
        let mut chunks = vec![first];
        for row in self.rows.by_ref().rev() {
            let (k, v) = row?;
            let h = k.value().1;
            if h != hour {
                self.held = Some((h, v));
                break;
            }
            chunks.push(v);
        }
        Ok(Some((hour, chunks)))
    }
}

/// Newest first over one list, keeping the entries that start with one of `prefixes`
/// (all of them when `None`) and fall in the window.
struct ListStream<const W: usize> {
    hours: Hours,
    prefixes: Option<Vec<Vec<u8>>>,
    window: Window,
    /// The hour being read, oldest first: the next position is the last.
    ready: Vec<(Micros, u64)>,
}

impl<const W: usize> ListStream<W> {
    fn open(
        table: &ListReader,
        list: u64,
        prefixes: Option<Vec<Vec<u8>>>,
        w: Window,
    ) -> Result<Stream> {
        Ok(Box::new(ListStream::<W> {
            hours: Hours::open(table, list, w.low.0, w.high.0)?,
            prefixes,
            window: w,
            ready: Vec::new(),
        }))
    }

    /// Reads the next hour into `ready`; false at the end of the list.
    fn read_hour(&mut self) -> Result<bool> {
        let Some((hour, chunks)) = self.hours.next()? else {
            return Ok(false);
        };
        let w = self.window;
        let mut keep = |e: &[u8; W]| {
            let p = postings::position(e, hour);
            if w.low <= p && p < w.high {
                self.ready.push(p);
            }
        };
        for chunk in &chunks {
            let entries = postings::as_entries::<W>(chunk.value())?;
            match &self.prefixes {
                None => entries.iter().for_each(&mut keep),
                Some(prefixes) => {
                    for prefix in prefixes {
                        postings::starting_with(entries, prefix)
                            .iter()
                            .for_each(&mut keep);
                    }
                }
            }
        }
        // A record tagged with several of the groups repeats, next to itself: `Merge`
        // drops the repeat.
        self.ready.sort_unstable();
        Ok(true)
    }
}

impl<const W: usize> Iterator for ListStream<W> {
    type Item = Result<(Micros, u64)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(p) = self.ready.pop() {
                return Some(Ok(p));
            }
            match self.read_hour() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// Big-endian bytes of each combination of values, as entries begin.
pub(super) fn prefixes(first: &[u64], second: Option<&[u64]>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for a in first {
        match second {
            None => out.push(a.to_be_bytes().to_vec()),
            Some(list) => {
                for b in list {
                    let mut p = a.to_be_bytes().to_vec();
                    p.extend_from_slice(&b.to_be_bytes());
                    out.push(p);
                }
            }
        }
    }
    out
}

/// The positions of the records a plan may match, newest first.
pub(super) struct Walk {
    merge: Merge,
}

impl Walk {
    pub(super) fn new(txn: &ReadTransaction, plan: &Plan, w: Window) -> Result<Walk> {
        let mut streams = Vec::new();
        match plan {
            Plan::Nothing => {}
            Plan::Time => {
                let t = txn.open_table(ACTIVITIES)?;
                let ((lt, ls), (ht, hs)) = (w.low, w.high);
                streams.push(Box::new(
                    t.range((lt, ls)..(ht, hs))?
                        .rev()
                        .map(|row| row.map(|(k, _)| k.value()).map_err(StoreError::from)),
                ) as Stream);
            }
            Plan::Instances(instances) => {
                let t = txn.open_table(BY_INSTANCE)?;
                for i in instances {
                    streams.push(ListStream::<INSTANCE_ENTRY>::open(&t, *i, None, w)?);
                }
            }
            Plan::Countries(countries) => {
                let t = txn.open_table(BY_COUNTRY)?;
                let hashes = sorted(
                    &countries
                        .iter()
                        .map(|c| tables::hash(c))
                        .collect::<Vec<_>>(),
                );
                let wanted = Some(prefixes(&hashes, None));
                streams.push(ListStream::<COUNTRY_ENTRY>::open(
                    &t, WHOLE_HOUR, wanted, w,
                )?);
            }
            Plan::Actors(actors) => {
                let t = txn.open_table(BY_ACTOR)?;
                let hashes = sorted(&actors.iter().map(|a| tables::hash(a)).collect::<Vec<_>>());
                let wanted = Some(prefixes(&hashes, None));
                streams.push(ListStream::<ACTOR_ENTRY>::open(&t, WHOLE_HOUR, wanted, w)?);
            }
            Plan::Groups(groups, countries) => {
                let t = txn.open_table(BY_GROUP)?;
                let countries = countries
                    .as_ref()
                    .map(|l| sorted(&l.iter().map(|c| tables::hash(c)).collect::<Vec<_>>()));
                let wanted = Some(prefixes(groups, countries.as_deref()));
                streams.push(ListStream::<GROUP_ENTRY>::open(&t, WHOLE_HOUR, wanted, w)?);
            }
        }
        Ok(Walk {
            merge: Merge::new(streams)?,
        })
    }

    pub(super) fn next(&mut self) -> Result<Option<(Micros, u64)>> {
        self.merge.next()
    }
}

/// Every activity of one actor, newest first (a hash collision may add others: check `actor`).
pub(super) fn actor_walk(txn: &ReadTransaction, actor: &str) -> Result<Walk> {
    Walk::new(txn, &Plan::Actors(vec![actor.to_string()]), Window::ALL)
}

/// Above this many people still unseen, reading a whole hour of the actor index costs
/// less than one search per person.
const SCAN_HOUR_ABOVE: usize = 8;

/// The time of each person's newest activity, walking the hours newest first until
/// everyone is found.
pub(super) fn last_activities(txn: &ReadTransaction, keys: &[&str]) -> Result<Vec<Option<Micros>>> {
    let mut out = vec![None; keys.len()];
    let mut unseen: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, key) in keys.iter().enumerate() {
        unseen.entry(tables::hash(key)).or_default().push(i);
    }
    let records = txn.open_table(ACTIVITIES)?;
    let mut hours = Hours::open(
        &txn.open_table(BY_ACTOR)?,
        WHOLE_HOUR,
        Micros::MIN,
        Micros::MAX,
    )?;
    while !unseen.is_empty() {
        let Some((hour, chunks)) = hours.next()? else {
            break;
        };
        // (time, seq, hash) of the hour's entries for the people still unseen.
        let mut candidates = Vec::new();
        for chunk in &chunks {
            let entries = postings::as_entries::<ACTOR_ENTRY>(chunk.value())?;
            let mut take = |e: &[u8; ACTOR_ENTRY]| {
                let mut h = [0u8; 8];
                h.copy_from_slice(&e[..8]);
                let h = u64::from_be_bytes(h);
                if unseen.contains_key(&h) {
                    let (time, seq) = postings::position(e, hour);
                    candidates.push((time, seq, h));
                }
            };
            if unseen.len() > SCAN_HOUR_ABOVE {
                entries.iter().for_each(&mut take);
            } else {
                for h in unseen.keys() {
                    postings::starting_with(entries, &h.to_be_bytes())
                        .iter()
                        .for_each(&mut take);
                }
            }
        }
        // Newest first, so the first confirmed entry of a person is their newest.
        candidates.sort_unstable_by(|a, b| b.cmp(a));
        for (time, seq, h) in candidates {
            let Some(waiting) = unseen.get_mut(&h) else {
                continue;
            };
            let Some(v) = records.get((time, seq))? else {
                continue;
            };
            let actor = records::decode(v.value())?.actor;
            if let Some(at) = waiting.iter().position(|&i| keys[i] == actor) {
                out[waiting[at]] = Some(time);
                waiting.swap_remove(at);
                if waiting.is_empty() {
                    unseen.remove(&h);
                }
            }
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
                let activity = records::decode(bytes.value())?;
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
    use crate::domain::Activity;
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
            address_text: None,
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
        let keys = super::super::KeyStore::File(dir.path().join("secrets.key"));
        let store = Store::open_with_keys(&dir.path().join("db"), keys).unwrap();
        let new = NewInstance {
            app: AppKind::Box,
            name: "box".into(),
            fields: [("tenant-id", "t"), ("client-id", "c")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
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
