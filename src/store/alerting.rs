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
use std::sync::{Arc, RwLock};

use redb::{ReadableMultimapTable, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::prepare::PreparedPage;
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

/// The matches of one watch that count in one window (`Per::keys`), in page order,
/// each with its row. Grouped while the page is prepared, so that its commit only counts.
#[derive(Debug)]
pub(super) struct Keyed {
    pub watch: u16,
    pub key: String,
    /// Seqs are the commit's: `Seen::seq` holds the row until then.
    pub seen: Vec<Seen>,
}

/// A page's matches, and what they were matched with.
#[derive(Debug, Default)]
pub(super) struct Matched {
    pub set: Arc<PolicySet>,
    /// The tags version the records carried; `u64::MAX` when the commit tags them.
    pub tags_version: u64,
    /// By watch, then key.
    pub keyed: Vec<Keyed>,
}

/// Matches `records` (with their tags), which are the page's rows in order, each with
/// its kind. A policy whose match a record's kind decides is tested once per kind.
pub(super) fn match_rows<'a>(
    set: &PolicySet,
    records: impl Iterator<Item = (u32, &'a Activity)>,
) -> Vec<Keyed> {
    if set.watches.is_empty() {
        return Vec::new();
    }
    let by_kind: Vec<bool> = set
        .watches
        .iter()
        .map(|w| w.query.decided_by_kind())
        .collect();
    let mut decided: HashMap<(usize, u32), bool> = HashMap::new();
    let mut groups: HashMap<(u16, String), Vec<Seen>> = HashMap::new();
    for (row, (kind, a)) in records.enumerate() {
        for (w, watch) in set.watches.iter().enumerate() {
            let matches = if by_kind[w] {
                *decided
                    .entry((w, kind))
                    .or_insert_with(|| watch.query.matches(a))
            } else {
                watch.query.matches(a)
            };
            if !matches || a.time < watch.policy.watching_since {
                continue;
            }
            let per = watch.policy.rule.per;
            for key in per.keys(&a.actor, a.ip.as_deref(), &a.groups) {
                groups.entry((w as u16, key)).or_default().push(Seen {
                    time: a.time,
                    seq: row as u64,
                    id: a.id.clone(),
                    actor: a.actor.clone(),
                    country: a.country.clone(),
                });
            }
        }
    }
    let mut keyed: Vec<Keyed> = groups
        .into_iter()
        .map(|((watch, key), seen)| Keyed { watch, key, seen })
        .collect();
    keyed.sort_unstable_by(|a, b| (a.watch, &a.key).cmp(&(b.watch, &b.key)));
    keyed
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
    by_key: HashMap<(u64, String), Window>,
    commits: u64,
}

/// Windows are forgotten when nothing in them can count any more, every this many commits.
const FORGET_EVERY: u64 = 64;

impl Windows {
    /// Counts the windows of `set` again from the stored activities before `before_seq`.
    fn rebuild(&mut self, txn: &WriteTransaction, set: &PolicySet, before_seq: u64) -> Result<()> {
        *self = Windows {
            version: Some(set.version),
            ..Windows::default()
        };
        let Some(span) = set.watches.iter().map(|w| w.policy.rule.window).max() else {
            return Ok(());
        };
        let Some((_, newest)) = tables::time_span(&txn.open_table(META)?)? else {
            return Ok(());
        };
        for row in txn.open_table(ALERTS)?.iter()? {
            let alert: Alert = tables::decode(row?.1.value(), "alert")?;
            let watch = set.watches.iter().find(|w| w.policy.id == alert.policy);
            if let Some(w) = watch.filter(|_| alert.state.is_active()) {
                let window = self
                    .by_key
                    .entry((alert.policy, alert.window_key.clone()))
                    .or_default();
                window.raised(alert.id, alert.last, &w.policy.rule);
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
            for watch in &set.watches {
                let policy = &watch.policy;
                if a.time < policy.watching_since || !watch.query.matches(&a) {
                    continue;
                }
                if policy.detector == Detector::InactiveActor
                    && !account_inactive(&users, &accounts, a.instance.0, &a.actor)?
                {
                    continue;
                }
                for key in policy.rule.per.keys(&a.actor, a.ip.as_deref(), &a.groups) {
                    let seen = Seen {
                        time: a.time,
                        seq,
                        id: a.id.clone(),
                        actor: a.actor.clone(),
                        country: a.country.clone(),
                    };
                    // What was raised then is in the alerts: counting again only
                    // leaves each window as that raise left it.
                    let window = self.by_key.entry((policy.id, key)).or_default();
                    let _ = window.step(policy, seen, |_| true);
                }
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
        let spans: HashMap<u64, Micros> = set
            .watches
            .iter()
            .map(|w| (w.policy.id, w.policy.rule.window))
            .collect();
        self.by_key.retain(|(policy, _), w| {
            spans
                .get(policy)
                .is_some_and(|span| !w.stale(newest, *span))
        });
    }
}

/// What a commit did to alerts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertTally {
    pub raised: usize,
    /// Matches that joined an alert raised before.
    pub joined: usize,
}

/// The commit's half: counts the hits of the rows not `stored` before, whose seqs start
/// at `first_seq`, raising and extending alerts in `txn`.
pub(super) fn evaluate(
    txn: &WriteTransaction,
    page: &mut PreparedPage,
    (stored, first_seq): (&[bool], u64),
    windows: &mut Windows,
    now: Micros,
) -> Result<AlertTally> {
    let rows = &page.rows;
    let matched = &mut page.matched;
    let set = Arc::clone(&matched.set);
    if windows.version != Some(set.version) {
        windows.rebuild(txn, &set, first_seq)?;
    }
    let mut inactive: HashMap<(u64, String), bool> = HashMap::new();
    let mut keyed = Vec::with_capacity(matched.keyed.len());
    for k in &mut matched.keyed {
        let watch = &set.watches[usize::from(k.watch)];
        let mut seen = Vec::with_capacity(k.seen.len());
        for mut s in std::mem::take(&mut k.seen) {
            // Until now the row.
            let row = s.seq as usize;
            if stored[row] {
                continue;
            }
            s.seq = first_seq + row as u64;
            if watch.policy.detector == Detector::InactiveActor {
                let instance = rows[row].instance;
                let known = match inactive.get(&(instance, s.actor.clone())) {
                    Some(known) => *known,
                    None => {
                        let known = account_inactive(
                            &txn.open_table(USERS)?,
                            &txn.open_multimap_table(USER_ACCOUNTS)?,
                            instance,
                            &s.actor,
                        )?;
                        inactive.insert((instance, s.actor.clone()), known);
                        known
                    }
                };
                if !known {
                    continue;
                }
            }
            seen.push(s);
        }
        if !seen.is_empty() {
            keyed.push((usize::from(k.watch), std::mem::take(&mut k.key), seen));
        }
    }
    let mut tally = AlertTally::default();
    if keyed.is_empty() {
        return Ok(tally);
    }
    let mut alerts: BTreeMap<u64, Alert> = BTreeMap::new();
    let mut raised = Vec::new();
    {
        let alert_table = txn.open_table(ALERTS)?;
        for (w, key, mut seen) in keyed {
            let policy = &set.watches[w].policy;
            seen.sort_by_key(|s| (s.time, s.seq));
            let window = windows.by_key.entry((policy.id, key.clone())).or_default();
            for s in seen {
                if let Some(id) = window.alert
                    && !alerts.contains_key(&id)
                    && let Some(v) = alert_table.get(id)?
                {
                    alerts.insert(id, tables::decode(v.value(), "alert")?);
                }
                let active = |id| alerts.get(&id).is_some_and(|a: &Alert| a.state.is_active());
                match window.step(policy, s, active) {
                    Step::Skip | Step::Wait => {}
                    Step::Join { alert, seen } => {
                        if let Some(alert) = alerts.get_mut(&alert) {
                            alert.add(&seen, now);
                        }
                        tally.joined += 1;
                    }
                    Step::Raise { seen, detail } => {
                        let id = tables::next_id(&mut txn.open_table(META)?, META_NEXT_ALERT)?;
                        let name = match policy.rule.per {
                            Per::Group => group_name(txn, &key)?,
                            _ => key.clone(),
                        };
                        let mut alert = Alert::new(id, policy, name, detail, now);
                        alert.window_key.clone_from(&key);
                        for s in &seen {
                            alert.add(s, now);
                        }
                        window.raised(id, alert.last, &policy.rule);
                        alerts.insert(id, alert);
                        raised.push((id, w));
                        tally.raised += 1;
                    }
                }
            }
        }
    }
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
pub(super) fn rematch(page: &PreparedPage, set: &PolicySet) -> Result<Vec<Keyed>> {
    let mut records = Vec::with_capacity(page.rows.len());
    for (i, r) in page.rows.iter().enumerate() {
        let mut bytes = page.heads[r.head.clone()].to_vec();
        bytes.extend_from_slice(&page.tags.bytes[page.tags.of_row[i].clone()]);
        records.push((r.kind, records::decode(&bytes)?));
    }
    Ok(match_rows(set, records.iter().map(|(k, a)| (*k, a))))
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

fn group_name(txn: &WriteTransaction, key: &str) -> Result<String> {
    let Ok(id) = key.parse::<u64>() else {
        return Ok(key.to_string());
    };
    Ok(match txn.open_table(GROUPS)?.get(id)? {
        Some(v) => tables::decode::<Group>(v.value(), "group")?.name,
        None => key.to_string(),
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
    let (subject, text) = notice::alert_text(alert);
    let payload = notice::payload(alert).to_string();
    let mut channels = Vec::new();
    if let Some(to) = &policy.notify.email {
        channels.push(Channel::Email { to: to.clone() });
    }
    if policy.notify.webhook {
        channels.push(Channel::Webhook);
    }
    for channel in channels {
        let mut d = Delivery::new(Some(alert.id), channel, subject.clone(), text.clone());
        d.payload.clone_from(&payload);
        policies::queue_delivery(txn, d, now)?;
    }
    Ok(())
}
