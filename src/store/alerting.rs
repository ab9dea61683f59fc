//! Issue 12: policies evaluated where records are committed.
//!
//! A page's records are matched against the enabled policies while it is prepared
//! (`match_rows`, off the write lock, beside the commit of the page before). The commit
//! counts the matches of the records it stores for the first time into each policy's
//! windows (`Windows`, counted again from the log after a restart), raises or extends
//! alerts, and queues their notices, all in the page's own transaction: a page read
//! again is dropped as repeats, so nothing is counted or raised twice.
//!
//! A page is matched again at its commit when what it was matched with changed in
//! between: its tags (R-G6: a policy on a group sees only records tagged with it, as of
//! the commit) or the policies.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasherDefault;
use std::sync::{Arc, RwLock};

use redb::{ReadableMultimapTable, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::prepare::PreparedPage;
use super::tables::Fnv;
use super::tables::{
    self, ACTIVITIES, ALERTS, GROUPS, META, META_NEXT_ALERT, POLICIES, USER_ACCOUNTS, USERS,
};
use super::{Result, policies, records};
use crate::domain::filter::Query;
use crate::domain::grants::Grant;
use crate::domain::notice::{self, Channel, Delivery};
use crate::domain::policy::{Alert, Detector, Per, Policy, Seen, Step, Window};
use crate::domain::{Activity, Group, Micros, RemoteUser, UserStatus};

/// An enabled policy with its filter bound.
#[derive(Debug)]
pub struct Watch {
    pub policy: Policy,
    pub query: Query,
    by_kind: ByKind,
}

/// What a record's kind decides of a watch's query.
#[derive(Debug)]
enum ByKind {
    /// All of it.
    Whole,
    /// This part of it (`Query::kind_part`).
    Part(Query),
    Nothing,
}

impl Watch {
    pub fn new(policy: Policy, query: Query) -> Watch {
        let by_kind = match query.kind_part() {
            _ if query.decided_by_kind() => ByKind::Whole,
            Some(part) => ByKind::Part(part),
            None => ByKind::Nothing,
        };
        Watch {
            policy,
            query,
            by_kind,
        }
    }

    /// What a record of `a`'s kind tells of this watch's match; `None` when the kind
    /// refuses it.
    fn verdict(&self, a: &Activity) -> Option<Verdict> {
        match &self.by_kind {
            ByKind::Whole => self.query.matches(a).then_some(Verdict::Matched),
            ByKind::Part(part) => part.matches(a).then_some(Verdict::RecordDecides),
            ByKind::Nothing => Some(Verdict::RecordDecides),
        }
    }
}

/// What a record's kind tells of a watch's match when it does not refuse it, tested
/// once per kind and page.
#[derive(Debug, Clone, Copy)]
enum Verdict {
    Matched,
    RecordDecides,
}

/// The enabled policies as of one version of the stored ones.
#[derive(Debug, Default)]
pub struct PolicySet {
    pub version: u64,
    pub watches: Vec<Watch>,
}

/// The policy set ingestion uses, replaced by the service whenever policies (or the
/// names their filters use) change.
#[derive(Debug, Clone, Default)]
pub struct Watching(Arc<RwLock<Arc<PolicySet>>>);

impl Watching {
    pub fn current(&self) -> Arc<PolicySet> {
        Arc::clone(&self.0.read().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn replace(&self, set: PolicySet) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(set);
    }
}

/// A row of a page that matches one watch and counts in one of its windows
/// (`Per::windows`). A page's are sorted by watch, window and row while it is prepared,
/// so that its commit only counts runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Counted {
    pub watch: u32,
    pub window: u64,
    pub row: u32,
}

/// What a matching row's alert may need that its page keeps no copy of.
#[derive(Debug, Default, Clone)]
pub(super) struct Place {
    pub ip: Option<String>,
    pub country: Option<String>,
}

/// A page's matches, and what they were matched with.
#[derive(Debug, Default)]
pub(super) struct Matched {
    pub set: Arc<PolicySet>,
    /// The tags version the records carried; `u64::MAX` when the commit tags them.
    pub tags_version: u64,
    /// By watch, then window, then row.
    pub counted: Vec<Counted>,
    /// By row, for the rows that matched.
    pub places: HashMap<u32, Place, BuildHasherDefault<Fnv>>,
}

/// Matches `records` (with their tags), which are the page's rows in order, each with
/// its kind. What a record's kind decides of a policy is tested once per kind, the rest
/// of it only on the records of kinds that pass.
pub(super) fn match_rows<'a>(
    set: &Arc<PolicySet>,
    records: impl Iterator<Item = (u32, &'a Activity)>,
) -> Matched {
    let mut matched = Matched {
        set: Arc::clone(set),
        ..Matched::default()
    };
    if set.watches.is_empty() {
        return matched;
    }
    // By kind, the watches it does not refuse.
    let mut by_kind: HashMap<u32, Vec<(u32, Verdict)>, BuildHasherDefault<Fnv>> =
        HashMap::default();
    for (row, (kind, a)) in records.enumerate() {
        let row = row as u32;
        let candidates = by_kind.entry(kind).or_insert_with(|| {
            let verdicts = set.watches.iter().map(|w| w.verdict(a));
            (0..)
                .zip(verdicts)
                .filter_map(|(w, v)| Some((w, v?)))
                .collect()
        });
        for &(w, verdict) in candidates.iter() {
            let watch = &set.watches[w as usize];
            let matches = match verdict {
                Verdict::Matched => true,
                Verdict::RecordDecides => watch.query.matches(a),
            };
            if !matches || a.time < watch.policy.watching_since {
                continue;
            }
            let per = watch.policy.rule.per;
            per.windows(&a.actor, a.ip.as_deref(), &a.groups, |window| {
                matched.counted.push(Counted {
                    watch: w,
                    window,
                    row,
                });
            });
            // Only an address's alert names it, only travel needs the country.
            let travels = matches!(watch.policy.detector, Detector::ImpossibleTravel { .. });
            if per == Per::Ip || travels {
                matched.places.entry(row).or_insert_with(|| Place {
                    ip: a.ip.clone(),
                    country: a.country.clone(),
                });
            }
        }
    }
    matched.counted.sort_unstable();
    matched
}

/// The thresholds' windows: what each policy counted for each actor, address or group,
/// and the alert later matches join. They are the stored log's to tell, not stored
/// apart: at start, and whenever the policies change, they are counted again from the
/// activities of the longest window before the newest (and the alerts still open), so
/// that a restart neither loses a half-counted window nor raises an alert twice, and a
/// page's commit writes only the alerts it raises.
#[derive(Debug, Default)]
pub(super) struct Windows {
    /// The policies they were counted for; `None` before the first count.
    version: Option<u64>,
    /// By watch, in the set's order, then by window.
    by_watch: Vec<HashMap<u64, Window, BuildHasherDefault<Fnv>>>,
    commits: u64,
}

/// Windows are forgotten when nothing in them can count any more, every this many commits.
const FORGET_EVERY: u64 = 8;

impl Windows {
    /// Counts the windows of `set` again from the stored activities before `before_seq`.
    fn rebuild(&mut self, txn: &WriteTransaction, set: &PolicySet, before_seq: u64) -> Result<()> {
        *self = Windows {
            version: Some(set.version),
            by_watch: set.watches.iter().map(|_| HashMap::default()).collect(),
            commits: 0,
        };
        let Some(span) = set.watches.iter().map(|w| w.policy.rule.window).max() else {
            return Ok(());
        };
        let Some((_, newest)) = tables::time_span(&txn.open_table(META)?)? else {
            return Ok(());
        };
        for row in txn.open_table(ALERTS)?.iter()? {
            let alert: Alert = tables::decode(row?.1.value(), "alert")?;
            let watch = set.watches.iter().position(|w| w.policy.id == alert.policy);
            if let Some(w) = watch.filter(|_| alert.state.is_active()) {
                let window = self.by_watch[w].entry(alert.window).or_default();
                window.raised(alert.id, alert.last, &set.watches[w].policy.rule);
            }
        }
        let users = txn.open_table(USERS)?;
        let accounts = txn.open_multimap_table(USER_ACCOUNTS)?;
        let records = txn.open_table(ACTIVITIES)?;
        for row in records.range((newest.saturating_sub(span), 0)..)? {
            let (key, bytes) = row?;
            let (_, seq) = key.value();
            if seq >= before_seq {
                continue;
            }
            let a = records::decode(bytes.value())?;
            let seen = seen_of(&a, seq);
            for (watch, windows) in set.watches.iter().zip(&mut self.by_watch) {
                let policy = &watch.policy;
                if a.time < policy.watching_since || !watch.query.matches(&a) {
                    continue;
                }
                if policy.detector == Detector::InactiveActor
                    && !account_inactive(&users, &accounts, a.instance.0, &a.actor)?
                {
                    continue;
                }
                policy
                    .rule
                    .per
                    .windows(&a.actor, a.ip.as_deref(), &a.groups, |w| {
                        // What was raised then is in the alerts: counting again only leaves
                        // each window as that raise left it.
                        let _ = windows.entry(w).or_default().step(policy, &seen, |_| true);
                    });
            }
        }
        Ok(())
    }

    /// Forgets, now and then, the windows nothing newer than `newest` can count in.
    fn forget_stale(&mut self, set: &PolicySet, newest: Option<Micros>) {
        self.commits += 1;
        let Some(newest) = newest.filter(|_| self.commits.is_multiple_of(FORGET_EVERY)) else {
            return;
        };
        for (watch, windows) in set.watches.iter().zip(&mut self.by_watch) {
            windows.retain(|_, w| !w.stale(newest, watch.policy.rule.window));
        }
    }
}

fn seen_of(a: &Activity, seq: u64) -> Seen<'_> {
    Seen {
        time: a.time,
        seq,
        id: &a.id,
        actor: &a.actor,
        country: a.country.as_deref(),
    }
}

/// What a commit did to alerts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertTally {
    pub raised: usize,
    /// Matches that joined an alert raised before.
    pub joined: usize,
}

/// The commit's half: counts the matches of the rows not `stored` before, whose seqs
/// start at `first_seq`, raising and extending alerts in `txn`.
pub(super) fn evaluate(
    txn: &WriteTransaction,
    page: &mut PreparedPage,
    (stored, first_seq): (&[bool], u64),
    windows: &mut Windows,
    now: Micros,
) -> Result<AlertTally> {
    let set = Arc::clone(&page.matched.set);
    if windows.version != Some(set.version) {
        windows.rebuild(txn, &set, first_seq)?;
    }
    let counted = std::mem::take(&mut page.matched.counted);
    let page = &*page;
    let seen_at = |row: u32| {
        let r = &page.rows[row as usize];
        Seen {
            time: r.time,
            seq: first_seq + u64::from(row),
            id: &r.id,
            actor: &page.actors[r.actor as usize],
            country: page
                .matched
                .places
                .get(&row)
                .and_then(|p| p.country.as_deref()),
        }
    };
    let mut inactive: HashMap<(u64, u32), bool> = HashMap::new();
    let mut tally = AlertTally::default();
    let mut alerts: BTreeMap<u64, Alert> = BTreeMap::new();
    let mut raised = Vec::new();
    let alert_table = txn.open_table(ALERTS)?;
    let mut rows = Vec::new();
    for run in counted.chunk_by(|a, b| (a.watch, a.window) == (b.watch, b.window)) {
        let (watch, key) = (run[0].watch, run[0].window);
        let policy = &set.watches[watch as usize].policy;
        rows.clear();
        rows.extend(
            run.iter()
                .map(|c| c.row)
                .filter(|row| !stored[*row as usize]),
        );
        if policy.detector == Detector::InactiveActor {
            let mut kept = Vec::with_capacity(rows.len());
            for row in rows.drain(..) {
                let r = &page.rows[row as usize];
                let known = match inactive.get(&(r.instance, r.actor)) {
                    Some(known) => *known,
                    None => {
                        let actor = &page.actors[r.actor as usize];
                        let known = account_inactive(
                            &txn.open_table(USERS)?,
                            &txn.open_multimap_table(USER_ACCOUNTS)?,
                            r.instance,
                            actor,
                        )?;
                        inactive.insert((r.instance, r.actor), known);
                        known
                    }
                };
                if known {
                    kept.push(row);
                }
            }
            rows = kept;
        }
        if rows.is_empty() {
            continue;
        }
        rows.sort_by_key(|row| (page.rows[*row as usize].time, *row));
        let window = windows.by_watch[watch as usize].entry(key).or_default();
        for &row in &rows {
            let s = seen_at(row);
            // Read only an alert the match may join: one whose window it falls in.
            if let Some(id) = window.alert
                && s.time <= window.until
                && !alerts.contains_key(&id)
                && let Some(v) = alert_table.get(id)?
            {
                alerts.insert(id, tables::decode(v.value(), "alert")?);
            }
            let active = |id| alerts.get(&id).is_some_and(|a: &Alert| a.state.is_active());
            match window.step(policy, &s, active) {
                Step::Skip | Step::Wait => {}
                Step::Join { alert } => {
                    if let Some(alert) = alerts.get_mut(&alert) {
                        alert.add(&s, now);
                    }
                    tally.joined += 1;
                }
                Step::Raise { marks, detail } => {
                    let id = tables::next_id(&mut txn.open_table(META)?, META_NEXT_ALERT)?;
                    let ip = page.matched.places.get(&row).and_then(|p| p.ip.as_deref());
                    let name = policy.rule.per.key(&s, ip, key, |group| {
                        group_name(txn, group).unwrap_or_else(|_| group.to_string())
                    });
                    let mut alert = Alert::new(id, policy, name, detail, now);
                    alert.window = key;
                    for m in &marks {
                        match m.seq.checked_sub(first_seq) {
                            Some(row) => alert.add(&seen_at(row as u32), now),
                            None => {
                                let earlier = txn.open_table(ACTIVITIES)?;
                                if let Some(v) = earlier.get((m.time, m.seq))? {
                                    let a = records::decode(v.value())?;
                                    alert.add(&seen_of(&a, m.seq), now);
                                }
                            }
                        }
                    }
                    window.raised(id, alert.last, &policy.rule);
                    alerts.insert(id, alert);
                    raised.push((id, watch as usize));
                    tally.raised += 1;
                }
            }
        }
    }
    drop(alert_table);
    windows.forget_stale(&set, page.span.map(|(_, hi)| hi));
    let mut table = txn.open_table(ALERTS)?;
    for (id, alert) in &alerts {
        table.insert(id, tables::encode(alert)?.as_slice())?;
    }
    drop(table);
    for (id, w) in raised {
        queue_notices(txn, &alerts[&id], &set.watches[w].policy, now)?;
    }
    Ok(tally)
}

/// The policies to match the page with again when what it was matched with changed
/// since: its tags, or the policies.
pub(super) fn stale(page: &PreparedPage, watching: &Watching) -> Option<Arc<PolicySet>> {
    let current = watching.current();
    let set_moved = current.version != page.matched.set.version;
    let tags_moved = page.matched.tags_version != page.tags.version;
    (set_moved || tags_moved).then_some(current)
}

/// Matches the page's rows again, from their stored form with the commit's tags.
pub(super) fn rematch(page: &PreparedPage, set: &Arc<PolicySet>) -> Result<Matched> {
    let mut records = Vec::with_capacity(page.rows.len());
    for (i, r) in page.rows.iter().enumerate() {
        let mut bytes = page.heads[r.head.clone()].to_vec();
        bytes.extend_from_slice(&page.tags.bytes[page.tags.of_row[i].clone()]);
        records.push((r.kind, records::decode(&bytes)?));
    }
    let mut matched = match_rows(set, records.iter().map(|(k, a)| (*k, a)));
    matched.tags_version = page.tags.version;
    Ok(matched)
}

/// Whether `actor`'s account in `instance` is suspended, disabled or deleted.
pub(super) fn account_inactive(
    users: &impl ReadableTable<(u64, &'static str), &'static [u8]>,
    accounts: &impl ReadableMultimapTable<&'static str, (u64, &'static str)>,
    instance: u64,
    actor: &str,
) -> Result<bool> {
    for row in accounts.get(actor)? {
        let row = row?;
        let (i, id) = row.value();
        if i != instance {
            continue;
        }
        if let Some(v) = users.get((i, id))? {
            let user: RemoteUser = tables::decode(v.value(), "user")?;
            return Ok(user.status != UserStatus::Active);
        }
    }
    Ok(false)
}

fn group_name(txn: &WriteTransaction, id: u64) -> Result<String> {
    Ok(match txn.open_table(GROUPS)?.get(id)? {
        Some(v) => tables::decode::<Group>(v.value(), "group")?.name,
        None => format!("group #{id}"),
    })
}

/// Issue 12: an alert for each of `new` grants with a risky scope, from every enabled
/// risky-grant policy. Returns how many were raised.
pub(super) fn risky_grants(txn: &WriteTransaction, new: &[&Grant], now: Micros) -> Result<usize> {
    let risky: Vec<&&Grant> = new
        .iter()
        .filter(|g| !g.risky_scopes().is_empty())
        .collect();
    if risky.is_empty() {
        return Ok(0);
    }
    let mut watching = Vec::new();
    for row in txn.open_table(POLICIES)?.iter()? {
        let policy: Policy = tables::decode(row?.1.value(), "policy")?;
        if policy.enabled && policy.detector == Detector::RiskyGrant {
            watching.push(policy);
        }
    }
    let mut raised = 0;
    for policy in &watching {
        let since = |g: &&&&Grant| g.granted_at.is_none_or(|t| t >= policy.watching_since);
        for g in risky.iter().filter(since) {
            let id = tables::next_id(&mut txn.open_table(META)?, META_NEXT_ALERT)?;
            let alert = Alert::for_grant(id, policy, g, now);
            txn.open_table(ALERTS)?
                .insert(id, tables::encode(&alert)?.as_slice())?;
            queue_notices(txn, &alert, policy, now)?;
            raised += 1;
        }
    }
    Ok(raised)
}

fn queue_notices(
    txn: &WriteTransaction,
    alert: &Alert,
    policy: &Policy,
    now: Micros,
) -> Result<()> {
    let mut channels = Vec::new();
    if let Some(to) = &policy.notify.email {
        channels.push(Channel::Email { to: to.clone() });
    }
    if policy.notify.webhook {
        channels.push(Channel::Webhook);
    }
    if channels.is_empty() {
        return Ok(());
    }
    let (subject, text) = notice::alert_text(alert);
    let payload = notice::payload(alert).to_string();
    for channel in channels {
        let mut d = Delivery::new(Some(alert.id), channel, subject.clone(), text.clone());
        d.payload.clone_from(&payload);
        policies::queue_delivery(txn, d, now)?;
    }
    Ok(())
}
