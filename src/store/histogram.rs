//! How many activities a filter selects in each time bucket: the timeline (issue 13).
//!
//! A filter its hints decide (`Query::decided_by_hints`: an app or instance, a country, a
//! person, a group, a time range, one of each and none negated) is counted without reading
//! a record. An hour that lies whole inside one bucket adds its count from `HOUR_COUNTS`
//! (everything, an app or instance, a country, one group, one person), else its chunks'
//! lengths in the index that reads those hints (or, in a list keyed by value, the length of
//! the value's run, found by binary search); only an hour cut by a bucket's edge reads its
//! entries' times. A filter decided by kind (`Query::decided_by_kind`: types, actions,
//! sources, flags, apps, negated or not) tests each kind once and adds the whole hours'
//! counts of the kinds it selects; an hour cut by the window reads its records. Any other
//! filter walks the narrowest index and tests each record, as a page of the log does, so
//! its counts are exact too.

use redb::{ReadTransaction, ReadableTable};

use super::hour_counts;
use super::kinds;
use super::postings::{self, WHOLE_HOUR};
use super::query::{self, Hours, ListReader, Plan, Walk, Window};
use super::records;
use super::tables::{
    self, ACTIVITIES, ACTOR_ENTRY, APP_INSTANCES, BUCKET, BY_ACTOR, BY_COUNTRY, BY_GROUP,
    BY_INSTANCE, COUNT_COUNTRY, COUNT_INSTANCE, COUNTRY_ENTRY, GROUP_ENTRY, HOUR_COUNTS, HOUR_KIND,
    INSTANCE_ENTRY, META, SHARD_COUNTS,
};
use super::{Result, Store};
use crate::domain::Micros;
use crate::domain::filter::{Hints, Query};

/// Equal buckets from `from`, `width` wide.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Histogram {
    pub from: Micros,
    pub width: Micros,
    pub counts: Vec<u64>,
}

impl Histogram {
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Where the buckets end.
    pub fn to(&self) -> Micros {
        self.from
            .saturating_add(self.width.saturating_mul(self.counts.len() as i64))
    }

    /// The bucket `time` falls in.
    pub fn bucket_of(&self, time: Micros) -> Option<usize> {
        (self.from..self.to())
            .contains(&time)
            .then(|| ((time - self.from) / self.width) as usize)
    }

    /// Counts one record at `time`, if it falls in the window.
    fn add(&mut self, window: &Window, time: Micros) {
        if window.low.0 <= time
            && time < window.high.0
            && let Some(b) = self.bucket_of(time)
        {
            self.counts[b] += 1;
        }
    }

    /// Whether every hour lies in one bucket.
    fn aligned(&self) -> bool {
        self.from.rem_euclid(BUCKET) == 0 && self.width % BUCKET == 0
    }

    /// The bucket that holds all of `hour` and lies in the window, if one does: its
    /// entries can be counted without reading their times.
    fn whole_hour(&self, window: &Window, hour: i64) -> Option<usize> {
        let (start, end) = (
            hour.checked_mul(BUCKET)?,
            hour.checked_add(1)?.checked_mul(BUCKET)?,
        );
        if start < window.low.0 || end > window.high.0 {
            return None;
        }
        let first = self.bucket_of(start)?;
        (self.bucket_of(end - 1)? == first).then_some(first)
    }
}

impl Store {
    /// Counts what `query` selects in `buckets` buckets of `width` from `from`.
    pub(super) fn histogram_impl(
        &self,
        query: &Query,
        from: Micros,
        width: Micros,
        buckets: usize,
    ) -> Result<Histogram> {
        let mut out = Histogram {
            from,
            width: width.max(1),
            counts: vec![0; buckets],
        };
        let hints = query.hints();
        let Some(window) = Window::new(hints, None).and_then(|w| {
            let low = w.low.0.max(from);
            let high = w.high.0.min(out.to());
            (low < high).then_some(Window {
                low: (low, 0),
                high: (high, 0),
            })
        }) else {
            return Ok(out);
        };
        let txn = self.db.begin_read()?;
        let plan = query::plan(&txn, hints)?;
        if query.decided_by_hints() && covers(&plan, hints) {
            count_from_index(&txn, &plan, &window, &mut out)?;
        } else if query.decided_by_kind() && out.aligned() && plan != Plan::Nothing {
            let keys = kinds::matching(&txn, query, window.low.0)?;
            for edge in count_hours(&txn, HOUR_KIND, Some(&keys), &window, &mut out)? {
                count_records(&txn, &plan, query, edge, &mut out)?;
            }
        } else {
            count_records(&txn, &plan, query, window, &mut out)?;
        }
        Ok(out)
    }
}

/// Reads every record `plan` gives in the window and counts those `query` selects.
fn count_records(
    txn: &ReadTransaction,
    plan: &Plan,
    query: &Query,
    window: Window,
    out: &mut Histogram,
) -> Result<()> {
    let records = txn.open_table(ACTIVITIES)?;
    let mut walk = Walk::new(txn, plan, window)?;
    while let Some((time, seq)) = walk.next()? {
        let Some(bytes) = records.get((time, seq))? else {
            continue;
        };
        if query.matches(&records::decode(bytes.value())?) {
            out.add(&window, time);
        }
    }
    Ok(())
}

/// Whether reading `plan`'s index applies every hint, so that its entries are the matches.
fn covers(plan: &Plan, hints: &Hints) -> bool {
    let (groups, places, actors, countries) = (
        hints.groups.is_some(),
        hints.instances.is_some() || hints.apps.is_some(),
        hints.actors.is_some(),
        hints.countries.is_some(),
    );
    match plan {
        Plan::Nothing => true,
        Plan::Time => !(groups || places || actors || countries),
        Plan::Instances(_) => !(groups || actors || countries),
        Plan::Countries(_) => !(groups || places || actors),
        Plan::Actors(_) => !(groups || places || countries),
        Plan::Groups(_, with_countries) => {
            !(places || actors) && (with_countries.is_some() || !countries)
        }
    }
}

/// Counts from the hours' counts where a whole hour falls in one bucket, and from the
/// posting lists where the window cuts an hour or the counts cannot say (several groups,
/// whose members' records repeat; a group in a country; several people).
fn count_from_index(
    txn: &ReadTransaction,
    plan: &Plan,
    window: &Window,
    out: &mut Histogram,
) -> Result<()> {
    let hourly = match plan {
        Plan::Time => Some((COUNT_INSTANCE, None)),
        Plan::Instances(ids) => Some((COUNT_INSTANCE, Some(ids.clone()))),
        Plan::Countries(countries) => Some((COUNT_COUNTRY, Some(hashes(countries)))),
        Plan::Groups(groups, None) if groups.len() == 1 => {
            Some((hour_counts::group_shard(groups[0]), Some(groups.clone())))
        }
        Plan::Actors(actors) if actors.len() == 1 => {
            let actor = tables::hash(&actors[0]);
            Some((hour_counts::actor_shard(actor), Some(vec![actor])))
        }
        _ => None,
    };
    let Some((what, keys)) = hourly.filter(|_| out.aligned()) else {
        return count_from_lists(txn, plan, window, out);
    };
    for edge in count_hours(txn, what, keys.as_deref(), window, out)? {
        count_from_lists(txn, plan, &edge, out)?;
    }
    Ok(())
}

/// Adds the stored counts of `keys` (sorted; every key's when `None`) under `what` for
/// each hour that lies whole in the window and in one bucket (`out` aligned), and returns
/// the parts of the hours the window cuts, to be counted otherwise.
fn count_hours(
    txn: &ReadTransaction,
    what: u8,
    keys: Option<&[u64]>,
    window: &Window,
    out: &mut Histogram,
) -> Result<Vec<Window>> {
    let (first, last) = (
        tables::bucket(window.low.0),
        tables::bucket(window.high.0 - 1),
    );
    if hour_counts::is_shard(what) {
        // Hour first: a point read per hour, over the hours that hold activities.
        let span = tables::time_span(&txn.open_table(META)?)?;
        let (low, high) = span.map_or((1, 0), |(lo, hi)| (tables::bucket(lo), tables::bucket(hi)));
        let table = txn.open_table(SHARD_COUNTS)?;
        for hour in first.max(low)..=last.min(high) {
            if let Some(b) = out.whole_hour(window, hour)
                && let Some(value) = table.get((hour, what))?
            {
                out.counts[b] += hour_counts::sum(value.value(), keys)?;
            }
        }
    } else {
        let table = txn.open_table(HOUR_COUNTS)?;
        for row in table.range((what, first)..=(what, last))? {
            let (key, value) = row?;
            if let Some(b) = out.whole_hour(window, key.value().1) {
                out.counts[b] += hour_counts::sum(value.value(), keys)?;
            }
        }
    }
    // Aligned buckets cut no hour: only the window's ends can.
    let mut edges = vec![first, last];
    edges.dedup();
    Ok(edges
        .into_iter()
        .filter(|&hour| out.whole_hour(window, hour).is_none())
        .map(|hour| Window {
            low: (window.low.0.max(hour.saturating_mul(BUCKET)), 0),
            high: (window.high.0.min((hour + 1).saturating_mul(BUCKET)), 0),
        })
        .collect())
}

/// Sorted hashes of `values`, as index keys hold them.
fn hashes(values: &[String]) -> Vec<u64> {
    query::sorted(&values.iter().map(|v| tables::hash(v)).collect::<Vec<_>>())
}

fn count_from_lists(
    txn: &ReadTransaction,
    plan: &Plan,
    window: &Window,
    out: &mut Histogram,
) -> Result<()> {
    match plan {
        Plan::Nothing => Ok(()),
        Plan::Time => {
            // Every record is in the list of its instance, and in no other.
            let mut ids = Vec::new();
            for row in txn.open_table(APP_INSTANCES)?.iter()? {
                ids.push(row?.0.value().1);
            }
            let ids = query::sorted(&ids);
            count_lists(&txn.open_table(BY_INSTANCE)?, &ids, window, out)
        }
        Plan::Instances(ids) => count_lists(&txn.open_table(BY_INSTANCE)?, ids, window, out),
        Plan::Countries(countries) => count_runs::<COUNTRY_ENTRY>(
            &txn.open_table(BY_COUNTRY)?,
            &query::prefixes(&hashes(countries), None),
            false,
            window,
            out,
        ),
        Plan::Actors(actors) => count_runs::<ACTOR_ENTRY>(
            &txn.open_table(BY_ACTOR)?,
            &query::prefixes(&hashes(actors), None),
            false,
            window,
            out,
        ),
        Plan::Groups(groups, countries) => {
            let countries = countries.as_deref().map(hashes);
            count_runs::<GROUP_ENTRY>(
                &txn.open_table(BY_GROUP)?,
                &query::prefixes(groups, countries.as_deref()),
                // A record tagged with two of the groups has an entry under each.
                groups.len() > 1,
                window,
                out,
            )
        }
    }
}

/// Counts whole lists (one per instance): every entry is a match.
fn count_lists(
    table: &ListReader,
    lists: &[u64],
    window: &Window,
    out: &mut Histogram,
) -> Result<()> {
    for &list in lists {
        let mut hours = Hours::open(table, list, window.low.0, window.high.0 - 1)?;
        while let Some((hour, chunks)) = hours.next()? {
            for chunk in &chunks {
                let entries = postings::as_entries::<INSTANCE_ENTRY>(chunk.value())?;
                match out.whole_hour(window, hour) {
                    Some(b) => out.counts[b] += entries.len() as u64,
                    None => {
                        for e in entries {
                            out.add(window, postings::position(e, hour).0);
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Counts the runs of `prefixes` in the whole-hour list of an index keyed by value.
/// `repeats`: a record may have an entry in several runs, and is counted once.
fn count_runs<const W: usize>(
    table: &ListReader,
    prefixes: &[Vec<u8>],
    repeats: bool,
    window: &Window,
    out: &mut Histogram,
) -> Result<()> {
    let mut hours = Hours::open(table, WHOLE_HOUR, window.low.0, window.high.0 - 1)?;
    let mut positions = Vec::new();
    while let Some((hour, chunks)) = hours.next()? {
        let whole = out.whole_hour(window, hour).filter(|_| !repeats);
        positions.clear();
        for chunk in &chunks {
            let entries = postings::as_entries::<W>(chunk.value())?;
            for prefix in prefixes {
                let run = postings::starting_with(entries, prefix);
                match whole {
                    Some(b) => out.counts[b] += run.len() as u64,
                    None => positions.extend(run.iter().map(|e| postings::position(e, hour))),
                }
            }
        }
        if repeats {
            positions.sort_unstable();
            positions.dedup();
        }
        for &(time, _) in &positions {
            out.add(window, time);
        }
    }
    Ok(())
}
