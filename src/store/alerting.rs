//! Issue 12: policies evaluated where records are committed.
//!
//! A page's records are matched against the enabled policies while it is prepared
//! (`match_rows`, off the write lock, beside the commit of the page before). The commit
//! counts the matches of the records it stores for the first time into each policy's
//! windows, raises or extends alerts, and queues their notices, all in the page's own
//! transaction: a restart finds every window as the last durable page left it, and a
//! page read again is dropped as repeats, so nothing is counted or raised twice.
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
    self, ALERTS, GROUPS, META, META_NEXT_ALERT, POLICIES, POLICY_WINDOWS, USER_ACCOUNTS, USERS,
};
use super::{Result, policies, records};
use crate::domain::filter::Query;
use crate::domain::grants::Grant;
use crate::domain::notice::{self, Channel, Delivery};
use crate::domain::policy::{Alert, Detector, Per, Policy, Seen, Step, Window};
use crate::domain::{Activity, Group, GroupId, Micros, RemoteUser, UserStatus};

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

/// A record that matched a watch, with what counting it needs.
#[derive(Debug)]
pub(super) struct Hit {
    pub row: u32,
    pub watch: u16,
    pub ip: Option<String>,
    pub country: Option<String>,
    pub groups: Vec<GroupId>,
}

/// A page's matches, and what they were matched with.
#[derive(Debug, Default)]
pub(super) struct Matched {
    pub set: Arc<PolicySet>,
    /// The tags version the records carried; `u64::MAX` when the commit tags them.
    pub tags_version: u64,
    pub hits: Vec<Hit>,
}

/// Matches `records` (with their tags), which are the page's rows in order, each with
/// its kind. A policy whose match a record's kind decides is tested once per kind.
pub(super) fn match_rows<'a>(
    set: &PolicySet,
    records: impl Iterator<Item = (u32, &'a Activity)>,
) -> Vec<Hit> {
    let mut hits = Vec::new();
    if set.watches.is_empty() {
        return hits;
    }
    let by_kind: Vec<bool> = set
        .watches
        .iter()
        .map(|w| w.query.decided_by_kind())
        .collect();
    let mut decided: HashMap<(usize, u32), bool> = HashMap::new();
    for (row, (kind, a)) in records.enumerate() {
        for (w, watch) in set.watches.iter().enumerate() {
            let matches = if by_kind[w] {
                *decided
                    .entry((w, kind))
                    .or_insert_with(|| watch.query.matches(a))
            } else {
                watch.query.matches(a)
            };
            if matches {
                hits.push(Hit {
                    row: row as u32,
                    watch: w as u16,
                    ip: a.ip.clone(),
                    country: a.country.clone(),
                    groups: a.groups.clone(),
                });
            }
        }
    }
    hits
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
    page: &PreparedPage,
    stored: &[bool],
    first_seq: u64,
    now: Micros,
) -> Result<AlertTally> {
    let matched = &page.matched;
    let set = &matched.set;
    let mut inactive: HashMap<(u64, &str), bool> = HashMap::new();
    let mut keyed: BTreeMap<(usize, String), Vec<Seen>> = BTreeMap::new();
    for hit in &matched.hits {
        let row = hit.row as usize;
        if stored[row] {
            continue;
        }
        let r = &page.rows[row];
        let actor = page.actors[r.actor as usize].as_str();
        let watch = &set.watches[hit.watch as usize];
        if r.time < watch.policy.watching_since {
            continue;
        }
        if watch.policy.detector == Detector::InactiveActor {
            let known = match inactive.get(&(r.instance, actor)) {
                Some(known) => *known,
                None => {
                    let known = account_inactive(
                        &txn.open_table(USERS)?,
                        &txn.open_multimap_table(USER_ACCOUNTS)?,
                        r.instance,
                        actor,
                    )?;
                    inactive.insert((r.instance, actor), known);
                    known
                }
            };
            if !known {
                continue;
            }
        }
        let seen = Seen {
            time: r.time,
            seq: first_seq + row as u64,
            id: r.id.clone(),
            actor: actor.to_string(),
            country: hit.country.clone(),
        };
        let keys: Vec<String> = match watch.policy.rule.per {
            Per::Actor => vec![actor.to_string()],
            Per::Ip => hit.ip.iter().cloned().collect(),
            Per::Group => hit.groups.iter().map(|g| g.0.to_string()).collect(),
            Per::Overall => vec![String::new()],
        };
        for key in keys {
            keyed
                .entry((hit.watch as usize, key))
                .or_default()
                .push(seen.clone());
        }
    }
    let mut tally = AlertTally::default();
    if keyed.is_empty() {
        return Ok(tally);
    }
    let mut alerts: BTreeMap<u64, Alert> = BTreeMap::new();
    let mut raised = Vec::new();
    {
        let mut windows = txn.open_table(POLICY_WINDOWS)?;
        let alert_table = txn.open_table(ALERTS)?;
        for ((w, key), mut seen) in keyed {
            let policy = &set.watches[w].policy;
            seen.sort_by_key(|s| (s.time, s.seq));
            let mut window: Window = match windows.get((policy.id, key.as_str()))? {
                Some(v) => tables::decode(v.value(), "policy window")?,
                None => Window::default(),
            };
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
            if window.idle(now) {
                windows.remove((policy.id, key.as_str()))?;
            } else {
                windows.insert(
                    (policy.id, key.as_str()),
                    tables::encode(&window)?.as_slice(),
                )?;
            }
        }
    }
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
pub(super) fn rematch(page: &PreparedPage, set: &PolicySet) -> Result<Vec<Hit>> {
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
